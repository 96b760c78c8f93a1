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

/// Every account a block changed, in address order. One sorted vector, built
/// in order by both executors: a `BTreeMap` would copy each change once
/// more, and at a million accounts per gigagas block that copy showed up
/// beside the execution itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateDiff(Vec<(Address, AccountChange)>);

type Entries<'a> = std::iter::Map<
    std::slice::Iter<'a, (Address, AccountChange)>,
    fn(&'a (Address, AccountChange)) -> (&'a Address, &'a AccountChange),
>;

impl StateDiff {
    /// `changes` must be sorted by address, each address once.
    pub(crate) fn from_sorted(changes: Vec<(Address, AccountChange)>) -> Self {
        debug_assert!(changes.windows(2).all(|w| w[0].0 < w[1].0));
        Self(changes)
    }

    pub fn get(&self, address: &Address) -> Option<&AccountChange> {
        let i = self.0.binary_search_by_key(address, |(a, _)| *a).ok()?;
        Some(&self.0[i].1)
    }

    pub fn contains_key(&self, address: &Address) -> bool {
        self.get(address).is_some()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// In address order.
    pub fn iter(&self) -> Entries<'_> {
        self.0.iter().map(|(a, c)| (a, c))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Address> {
        self.0.iter().map(|(a, _)| a)
    }

    pub fn values(&self) -> impl Iterator<Item = &AccountChange> {
        self.0.iter().map(|(_, c)| c)
    }
}

impl<'a> IntoIterator for &'a StateDiff {
    type Item = (&'a Address, &'a AccountChange);
    type IntoIter = Entries<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl std::ops::Index<&Address> for StateDiff {
    type Output = AccountChange;

    fn index(&self, address: &Address) -> &AccountChange {
        self.get(address)
            .unwrap_or_else(|| panic!("{address} is not in the state diff"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockOutput {
    pub receipts: Vec<Receipt>,
    pub changes: StateDiff,
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
