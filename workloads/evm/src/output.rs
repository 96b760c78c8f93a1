//! What executing a block produces, and the digest that lets two executors
//! (or two runs) prove they produced the same thing.

use revm::primitives::{Address, Log, B256, KECCAK_EMPTY, U256};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub success: bool,
    pub gas_used: u64,
    pub cumulative_gas_used: u64,
    pub logs: Vec<Log>,
}

/// An account's state after the block, where it differs from before.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountChange {
    pub balance: U256,
    pub nonce: u64,
    pub code_hash: B256,
    /// The account's storage was wiped (self-destruct) before `storage` applied.
    pub storage_cleared: bool,
    /// Slots whose value changed, with their new value (zero = deleted).
    pub storage: BTreeMap<U256, U256>,
}

/// An account's balance, nonce and code hash; a missing account is empty.
pub(crate) type Info = (U256, u64, B256);

impl AccountChange {
    /// The one definition of "changed" both executors share: `None` when the
    /// account ends as it began. Wiping the storage of an account that did
    /// not exist before the block is no change; `storage` must already hold
    /// only slots that differ from their base (zero once wiped).
    pub(crate) fn between(
        before: Option<Info>,
        after: Info,
        storage_cleared: bool,
        storage: BTreeMap<U256, U256>,
    ) -> Option<Self> {
        let unchanged_info = match before {
            Some(b) => b == after,
            None => after.0.is_zero() && after.1 == 0 && after.2 == KECCAK_EMPTY,
        };
        if unchanged_info && storage.is_empty() && (!storage_cleared || before.is_none()) {
            return None;
        }
        let (balance, nonce, code_hash) = after;
        Some(Self {
            balance,
            nonce,
            code_hash,
            storage_cleared,
            storage,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockOutput {
    pub receipts: Vec<Receipt>,
    pub changes: BTreeMap<Address, AccountChange>,
    pub gas_used: u64,
}

impl BlockOutput {
    /// sha256 over receipts (status, gas, logs) and the sorted state diff.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.gas_used.to_be_bytes());
        for r in &self.receipts {
            h.update([r.success as u8]);
            h.update(r.gas_used.to_be_bytes());
            h.update(r.cumulative_gas_used.to_be_bytes());
            for log in &r.logs {
                h.update(log.address);
                for topic in log.data.topics() {
                    h.update(topic);
                }
                h.update((log.data.data.len() as u64).to_be_bytes());
                h.update(&log.data.data);
            }
        }
        for (address, change) in &self.changes {
            h.update(address);
            h.update(change.balance.to_be_bytes::<32>());
            h.update(change.nonce.to_be_bytes());
            h.update(change.code_hash);
            h.update([change.storage_cleared as u8]);
            for (slot, value) in &change.storage {
                h.update(slot.to_be_bytes::<32>());
                h.update(value.to_be_bytes::<32>());
            }
        }
        to_hex(&h.finalize())
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
