//! The state a block starts from, held in memory and read-only while blocks
//! execute, so every iteration of a benchmark starts from the same state.

use revm::bytecode::Bytecode;
use revm::database_interface::DatabaseRef;
use revm::primitives::{Address, AddressMap, B256Map, Bytes, HashMap, B256, KECCAK_EMPTY, U256};
use revm::state::AccountInfo;

#[derive(Debug, Clone, Default)]
pub struct PreState {
    accounts: AddressMap<AccountInfo>,
    storage: AddressMap<HashMap<U256, U256>>,
    code: B256Map<Bytecode>,
    block_hashes: HashMap<u64, B256>,
    /// Real chains: an ancestor hash nobody supplied is an error, not a
    /// made-up value that would execute on as if it were right.
    unknown_block_hash_is_error: bool,
}

/// Why the pre-state could not answer a read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreStateError {
    #[error("BLOCKHASH({number}) read an ancestor whose hash the pre-state does not hold")]
    UnknownBlockHash { number: u64 },
}

impl revm::database_interface::DBErrorMarker for PreStateError {}

impl PreState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an account; `code` may be empty.
    pub fn insert_account(&mut self, address: Address, balance: U256, nonce: u64, code: Bytes) {
        let (code_hash, bytecode) = if code.is_empty() {
            (KECCAK_EMPTY, None)
        } else {
            let bytecode = Bytecode::new_raw(code);
            let hash = bytecode.hash_slow();
            self.code.insert(hash, bytecode.clone());
            (hash, Some(bytecode))
        };
        let info = AccountInfo {
            balance,
            nonce,
            code_hash,
            code: bytecode,
            ..Default::default()
        };
        self.accounts.insert(address, info);
    }

    pub fn insert_storage(&mut self, address: Address, slot: U256, value: U256) {
        self.storage.entry(address).or_default().insert(slot, value);
    }

    pub fn insert_block_hash(&mut self, number: u64, hash: B256) {
        self.block_hashes.insert(number, hash);
    }

    /// Makes BLOCKHASH of an ancestor not inserted with
    /// [`insert_block_hash`](Self::insert_block_hash) fail instead of
    /// falling back to keccak of the number (the default, for generated
    /// blocks whose ancestors do not exist).
    pub fn require_known_block_hashes(&mut self) {
        self.unknown_block_hash_is_error = true;
    }

    pub fn account(&self, address: &Address) -> Option<&AccountInfo> {
        self.accounts.get(address)
    }

    pub fn storage_slot(&self, address: &Address, slot: &U256) -> U256 {
        self.storage
            .get(address)
            .and_then(|s| s.get(slot))
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn code(&self, hash: &B256) -> Option<Bytecode> {
        self.code.get(hash).cloned()
    }

    /// The account's filled storage slots, in no particular order.
    pub fn storage(&self, address: &Address) -> impl Iterator<Item = (&U256, &U256)> {
        self.storage.get(address).into_iter().flatten()
    }

    pub fn accounts(&self) -> impl Iterator<Item = (&Address, &AccountInfo)> {
        self.accounts.iter()
    }

    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}

/// An account as revm takes it. Not built from `AccountInfo::default()`,
/// whose empty code is one shared `Arc`: every thread bumping its count on
/// every account load is a cache line bounced between cores.
pub(crate) fn account_info(
    balance: U256,
    nonce: u64,
    code_hash: B256,
    code: Option<Bytecode>,
) -> AccountInfo {
    AccountInfo {
        balance,
        nonce,
        code_hash,
        code,
        account_id: None,
    }
}

impl DatabaseRef for &PreState {
    type Error = PreStateError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.accounts.get(&address).cloned())
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        Ok(self.code.get(&code_hash).cloned().unwrap_or_default())
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        Ok(self.storage_slot(&address, &index))
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        match self.block_hashes.get(&number) {
            Some(hash) => Ok(*hash),
            None if self.unknown_block_hash_is_error => {
                Err(PreStateError::UnknownBlockHash { number })
            }
            // Unknown ancestors hash like geth's test chains do: keccak of the number.
            None => Ok(revm::primitives::keccak256(number.to_be_bytes())),
        }
    }
}
