//! The stateless client: executes a block against nothing but a trusted
//! pre-state root and a witness, then recomputes the post-state root.
//!
//! State is read by opening the partial trie down from the trusted root, so
//! every value revm sees is authenticated by the hashes above it; a node the
//! witness lacks, or one altered (its hash then matches nothing), stops the
//! client.

use super::trie::{account_value, blinded, key_path, seal, slot_key, storage_value, HashWork};
use alloy_primitives::{Address, B256, U256};
use alloy_rlp::Decodable;
use alloy_trie::{TrieAccount, EMPTY_ROOT_HASH};
use gaslab_evm::revm::bytecode::Bytecode;
use gaslab_evm::revm::database_interface::{DBErrorMarker, DatabaseRef};
use gaslab_evm::revm::primitives::KECCAK_EMPTY;
use gaslab_evm::revm::state::AccountInfo;
use gaslab_evm::{execute_sequential_on, Block, BlockOutput, ExecutionError};
use kona_mpt::{NoopTrieHinter, TrieNode, TrieNodeError, TrieProvider};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StatelessError {
    #[error("trie: {0}")]
    Trie(String),
    #[error("account {address}: malformed leaf: {reason}")]
    BadAccount { address: Address, reason: String },
    #[error("account {address} slot {slot}: malformed leaf: {reason}")]
    BadSlot {
        address: Address,
        slot: U256,
        reason: String,
    },
    #[error("bytecode {0} is not in the witness")]
    MissingCode(B256),
    #[error("block hash {0} is not in the witness")]
    MissingBlockHash(u64),
    #[error("execution: {0}")]
    Execution(String),
    #[error("post-state root {computed} does not match the expected {expected}")]
    RootMismatch { computed: B256, expected: B256 },
}

impl DBErrorMarker for StatelessError {}

impl From<TrieNodeError> for StatelessError {
    fn from(e: TrieNodeError) -> Self {
        StatelessError::Trie(e.to_string())
    }
}

impl From<ExecutionError> for StatelessError {
    fn from(e: ExecutionError) -> Self {
        StatelessError::Execution(e.to_string())
    }
}

/// What the client read and opened so far.
struct OpenedState {
    accounts: TrieNode,
    /// Pre-state accounts as read (None: absent from the trie).
    account_leaves: HashMap<Address, Option<TrieAccount>>,
    storage: HashMap<Address, TrieNode>,
    slots: HashMap<(Address, U256), U256>,
    codes_used: BTreeSet<B256>,
    work: HashWork,
}

/// What the client computed besides the block output.
#[derive(Debug, Clone)]
pub struct ClientRun {
    pub post_root: B256,
    pub work: HashWork,
    /// Bytecode the execution needed, by hash.
    pub codes_used: BTreeSet<B256>,
}

/// A revm database backed by a partial trie and the bytecode of a witness.
pub struct WitnessDb<'a, P: TrieProvider> {
    provider: &'a P,
    codes: &'a HashMap<B256, Bytecode>,
    state: RefCell<OpenedState>,
}

impl<'a, P: TrieProvider> WitnessDb<'a, P> {
    pub fn new(pre_root: B256, provider: &'a P, codes: &'a HashMap<B256, Bytecode>) -> Self {
        Self {
            provider,
            codes,
            state: RefCell::new(OpenedState {
                accounts: blinded(pre_root),
                account_leaves: HashMap::new(),
                storage: HashMap::new(),
                slots: HashMap::new(),
                codes_used: BTreeSet::new(),
                work: HashWork::default(),
            }),
        }
    }

    fn account(&self, address: Address) -> Result<Option<TrieAccount>, StatelessError> {
        let mut state = self.state.borrow_mut();
        if let Some(leaf) = state.account_leaves.get(&address) {
            return Ok(*leaf);
        }
        let OpenedState { accounts, work, .. } = &mut *state;
        let path = key_path(address.as_slice(), work);
        let leaf = match accounts.open(&path, self.provider)? {
            None => None,
            Some(value) => Some(TrieAccount::decode(&mut value.as_ref()).map_err(|e| {
                StatelessError::BadAccount {
                    address,
                    reason: e.to_string(),
                }
            })?),
        };
        state.account_leaves.insert(address, leaf);
        Ok(leaf)
    }

    fn slot(&self, address: Address, slot: U256) -> Result<U256, StatelessError> {
        if let Some(v) = self.state.borrow().slots.get(&(address, slot)) {
            return Ok(*v);
        }
        let storage_root = match self.account(address)? {
            Some(a) => a.storage_root,
            None => EMPTY_ROOT_HASH,
        };
        let mut state = self.state.borrow_mut();
        let OpenedState { storage, work, .. } = &mut *state;
        let path = key_path(&slot_key(slot), work);
        let trie = storage
            .entry(address)
            .or_insert_with(|| blinded(storage_root));
        let value = match trie.open(&path, self.provider)? {
            None => U256::ZERO,
            Some(raw) => U256::decode(&mut raw.as_ref()).map_err(|e| StatelessError::BadSlot {
                address,
                slot,
                reason: e.to_string(),
            })?,
        };
        state.slots.insert((address, slot), value);
        Ok(value)
    }

    /// Applies the block's state diff to the partial trie and returns the
    /// post-state root and the hashing work done since the client started.
    pub fn post_state_root(self, output: &BlockOutput) -> Result<ClientRun, StatelessError> {
        // Every changed account was read during execution, so its leaf is known.
        let mut state = self.state.into_inner();
        for (address, change) in &output.changes {
            let pre = state.account_leaves.get(address).copied().flatten();
            let mut storage = if change.storage_cleared {
                TrieNode::Empty
            } else {
                state.storage.remove(address).unwrap_or_else(|| {
                    blinded(pre.as_ref().map_or(EMPTY_ROOT_HASH, |a| a.storage_root))
                })
            };
            for (slot, value) in &change.storage {
                let path = key_path(&slot_key(*slot), &mut state.work);
                if value.is_zero() {
                    if !change.storage_cleared {
                        storage.delete(&path, self.provider, &NoopTrieHinter)?;
                    }
                } else {
                    storage.insert(&path, storage_value(*value), self.provider)?;
                }
            }
            let account = TrieAccount {
                nonce: change.nonce,
                balance: change.balance,
                storage_root: seal(&storage, &mut state.work, None),
                code_hash: change.code_hash,
            };
            let path = key_path(address.as_slice(), &mut state.work);
            let empty = account.nonce == 0
                && account.balance.is_zero()
                && account.code_hash == KECCAK_EMPTY;
            if empty {
                if pre.is_some() {
                    state
                        .accounts
                        .delete(&path, self.provider, &NoopTrieHinter)?;
                }
            } else {
                state
                    .accounts
                    .insert(&path, account_value(&account), self.provider)?;
            }
        }
        let post_root = seal(&state.accounts, &mut state.work, None);
        Ok(ClientRun {
            post_root,
            work: state.work,
            codes_used: state.codes_used,
        })
    }
}

impl<P: TrieProvider> DatabaseRef for WitnessDb<'_, P> {
    type Error = StatelessError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        let Some(leaf) = self.account(address)? else {
            return Ok(None);
        };
        let code = if leaf.code_hash == KECCAK_EMPTY {
            None
        } else {
            Some(self.code_by_hash_ref(leaf.code_hash)?)
        };
        Ok(Some(AccountInfo {
            balance: leaf.balance,
            nonce: leaf.nonce,
            code_hash: leaf.code_hash,
            code,
            ..Default::default()
        }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        let code = self
            .codes
            .get(&code_hash)
            .cloned()
            .ok_or(StatelessError::MissingCode(code_hash))?;
        self.state.borrow_mut().codes_used.insert(code_hash);
        Ok(code)
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        self.slot(address, index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        Err(StatelessError::MissingBlockHash(number))
    }
}

/// Executes `block` from the witness alone and returns its output and what
/// the client computed (the post-state root among it).
pub fn execute_and_root<P: TrieProvider>(
    block: &Block,
    pre_root: B256,
    provider: &P,
    codes: &HashMap<B256, Bytecode>,
) -> Result<(BlockOutput, ClientRun), StatelessError> {
    let db = WitnessDb::new(pre_root, provider, codes);
    let output = execute_sequential_on(block, &db)?;
    let run = db.post_state_root(&output)?;
    Ok((output, run))
}
