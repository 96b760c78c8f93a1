//! The sequential executor's state between transactions. It answers reads
//! and takes commits as revm's `CacheDB` does, and also keeps what every
//! account and slot held before the block, so the state diff is one pass
//! over the cache in memory order. Diffing a `CacheDB` asked the pre-state
//! again for each account, a cache miss apiece: a third of a gigagas
//! transfer block's time, more than the rest of the executor's overhead over
//! a bare revm loop.

use crate::output::{AccountChange, Info, SlotChanges, StateDiff};
use crate::prestate::account_info;
use revm::bytecode::Bytecode;
use revm::database_interface::{Database, DatabaseCommit, DatabaseRef};
use revm::primitives::{Address, AddressMap, B256Map, HashMap, StorageKeyMap, B256, KECCAK_EMPTY};
use revm::primitives::{StorageKey, StorageValue, U256};
use revm::state::{Account, AccountInfo};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Only read: as it was before the block.
    Loaded,
    Touched,
    /// Its storage is known empty: created, or touched again after it was
    /// destroyed, in this block.
    Cleared,
    /// Self-destructed.
    Destroyed,
}

#[derive(Debug)]
struct CachedAccount {
    /// Before the block; None = did not exist.
    before: Option<Info>,
    exists: bool,
    info: AccountInfo,
    status: Status,
    storage: StorageKeyMap<Slot>,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Before the block, where it was read from the pre-state; a slot first
    /// met after its account's storage was cleared has no use for one.
    before: Option<StorageValue>,
    now: StorageValue,
}

impl CachedAccount {
    fn loaded(info: Option<AccountInfo>) -> Self {
        Self {
            before: info.as_ref().map(|i| (i.balance, i.nonce, i.code_hash)),
            exists: info.is_some(),
            info: info.unwrap_or_else(empty),
            status: Status::Loaded,
            storage: Default::default(),
        }
    }

    /// Reads of an unknown slot answer zero without asking the pre-state.
    fn storage_known_empty(&self) -> bool {
        !self.exists || self.status == Status::Cleared
    }
}

fn empty() -> AccountInfo {
    account_info(U256::ZERO, 0, KECCAK_EMPTY, None)
}

pub(crate) struct BlockCache<DB> {
    pre: DB,
    accounts: AddressMap<CachedAccount>,
    contracts: B256Map<Bytecode>,
    block_hashes: HashMap<u64, B256>,
    /// The pre-state failed while a commit looked an account up (a commit
    /// cannot fail; the state diff reports it).
    failed: Option<String>,
}

impl<DB: DatabaseRef> BlockCache<DB> {
    /// `accounts`: about how many the block will touch; growing the map
    /// from empty rehashed every account several times.
    pub(crate) fn new(pre: DB, accounts: usize) -> Self {
        let mut contracts = B256Map::default();
        contracts.insert(KECCAK_EMPTY, Bytecode::default());
        contracts.insert(B256::ZERO, Bytecode::default());
        let mut map = AddressMap::default();
        map.reserve(accounts);
        Self {
            pre,
            accounts: map,
            contracts,
            block_hashes: HashMap::default(),
            failed: None,
        }
    }

    fn load(&mut self, address: Address) -> Result<&mut CachedAccount, DB::Error> {
        load_in(&mut self.accounts, &self.pre, address)
    }

    fn commit_account(&mut self, address: Address, mut account: Account) {
        if !account.is_touched() {
            return;
        }
        if let Some(code) = account.info.code.as_ref().filter(|c| !c.is_empty()) {
            if account.info.code_hash == KECCAK_EMPTY {
                account.info.code_hash = code.hash_slow();
            }
            self.contracts
                .entry(account.info.code_hash)
                .or_insert_with(|| code.clone());
        }
        // revm loads every account before it commits it: this lookup only
        // answers from the cache.
        let cached = match self.load(address) {
            Ok(cached) => cached,
            Err(e) => {
                self.failed.get_or_insert_with(|| e.to_string());
                return;
            }
        };
        if account.is_selfdestructed() {
            cached.storage.clear();
            cached.exists = false;
            cached.info = empty();
            cached.status = Status::Destroyed;
            return;
        }
        let created = account.is_created();
        cached.status = if created || matches!(cached.status, Status::Cleared | Status::Destroyed) {
            if created {
                cached.storage.clear();
            }
            Status::Cleared
        } else {
            Status::Touched
        };
        cached.exists = true;
        cached.info = account.info;
        for (key, slot) in account.storage {
            let now = slot.present_value();
            cached
                .storage
                .entry(key)
                .and_modify(|s| s.now = now)
                .or_insert(Slot { before: None, now });
        }
    }

    /// Every account whose state after the block differs from before it.
    // Once per block: out of line, so that the transaction loop's inlining
    // (revm's transact_commit into it) does not hang on how large this is.
    #[inline(never)]
    pub(crate) fn state_diff(&self) -> Result<StateDiff, String> {
        if let Some(reason) = &self.failed {
            return Err(reason.clone());
        }
        let mut changes = Vec::with_capacity(self.accounts.len());
        for (address, cached) in &self.accounts {
            if cached.status == Status::Loaded {
                continue;
            }
            // A self-destructed account that existed is wiped, like a created one.
            let storage_cleared = match cached.status {
                Status::Cleared => true,
                Status::Destroyed => cached.before.is_some(),
                _ => false,
            };
            // Room for every slot the block touched, so the list never
            // grows: the diff keeps it as it is.
            let mut storage = Vec::with_capacity(cached.storage.len());
            for (key, slot) in &cached.storage {
                let base = match slot.before {
                    _ if storage_cleared => StorageValue::ZERO,
                    Some(before) => before,
                    None => self
                        .pre
                        .storage_ref(*address, *key)
                        .map_err(|e| e.to_string())?,
                };
                if slot.now != base {
                    storage.push((*key, slot.now));
                }
            }
            storage.sort_unstable_by_key(|(key, _)| *key);
            let info = &cached.info;
            let after = (info.balance, info.nonce, info.code_hash);
            let storage = SlotChanges::from_sorted(storage);
            if let Some(change) =
                AccountChange::between(cached.before, after, storage_cleared, storage)
            {
                changes.push((*address, change));
            }
        }
        Ok(StateDiff::from_parts(vec![changes]))
    }
}

/// The account from the cache, read from the pre-state the first time.
fn load_in<'m, DB: DatabaseRef>(
    accounts: &'m mut AddressMap<CachedAccount>,
    pre: &DB,
    address: Address,
) -> Result<&'m mut CachedAccount, DB::Error> {
    use std::collections::hash_map::Entry;
    Ok(match accounts.entry(address) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => e.insert(CachedAccount::loaded(pre.basic_ref(address)?)),
    })
}

impl<DB: DatabaseRef> DatabaseCommit for BlockCache<DB> {
    fn commit(&mut self, changes: AddressMap<Account>) {
        for (address, account) in changes {
            self.commit_account(address, account);
        }
    }
}

impl<DB: DatabaseRef> Database for BlockCache<DB> {
    type Error = DB::Error;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        let cached = self.load(address)?;
        Ok(cached.exists.then(|| cached.info.clone()))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if let Some(code) = self.contracts.get(&code_hash) {
            return Ok(code.clone());
        }
        let code = self.pre.code_by_hash_ref(code_hash)?;
        self.contracts.insert(code_hash, code.clone());
        Ok(code)
    }

    fn storage(&mut self, address: Address, key: StorageKey) -> Result<StorageValue, Self::Error> {
        let cached = load_in(&mut self.accounts, &self.pre, address)?;
        if let Some(slot) = cached.storage.get(&key) {
            return Ok(slot.now);
        }
        if cached.storage_known_empty() {
            return Ok(StorageValue::ZERO);
        }
        let value = self.pre.storage_ref(address, key)?;
        cached.storage.insert(
            key,
            Slot {
                before: Some(value),
                now: value,
            },
        );
        Ok(value)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        if let Some(hash) = self.block_hashes.get(&number) {
            return Ok(*hash);
        }
        let hash = self.pre.block_hash_ref(number)?;
        self.block_hashes.insert(number, hash);
        Ok(hash)
    }
}
