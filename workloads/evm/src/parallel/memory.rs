//! Multi-version memory: for every state location, the value each
//! transaction of the block wrote there, so transaction `j` reads what the
//! highest writer below `j` left, or the pre-state.
//!
//! Sharded by location hash (no global lock); lazily updated balances are
//! stored as deltas and summed on read.

use crate::PreState;
use revm::bytecode::Bytecode;
use revm::primitives::{Address, B256, KECCAK_EMPTY, U256};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};
use std::sync::Mutex;

pub(crate) type TxIdx = usize;

/// A piece of state a transaction can read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Location {
    /// Existence, balance and nonce.
    Basic(Address),
    /// Code hash (and code), apart from the balance so that a plain transfer
    /// can check "no code" without depending on the balance.
    Code(Address),
    /// One storage slot.
    Storage(Address, U256),
    /// Written when an account's storage is wiped (creation, self-destruct).
    StorageReset(Address),
}

/// Existence, balance and nonce of an account; `None` = does not exist.
pub(crate) type Basic = Option<(U256, u64)>;

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Basic(Basic),
    /// A lazy update: added to whatever the account holds when read.
    BalanceDelta {
        add: U256,
        sub: U256,
        nonce_incr: u64,
    },
    Code(B256, Option<Bytecode>),
    Storage(U256),
    StorageReset,
}

#[derive(Debug, Clone)]
enum Entry {
    /// The writer is being re-executed: a reader should wait for it.
    Estimate,
    Data(Value),
}

/// What a read saw, compared again at validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadValue {
    Basic(Basic),
    Code(B256),
    Storage(U256),
}

/// A read hit a transaction that is being re-executed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Blocked(pub TxIdx);

type Versions = BTreeMap<TxIdx, Entry>;
const SHARDS: usize = 256;

pub(crate) struct MvMemory<'a> {
    shards: Vec<Mutex<HashMap<Location, Versions, revm::primitives::map::DefaultHashBuilder>>>,
    hasher: revm::primitives::map::DefaultHashBuilder,
    pre: &'a PreState,
    /// Code deployed in this block, by hash.
    new_code: Mutex<HashMap<B256, Bytecode>>,
}

impl<'a> MvMemory<'a> {
    pub(crate) fn new(pre: &'a PreState) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: Default::default(),
            pre,
            new_code: Mutex::default(),
        }
    }

    fn shard(
        &self,
        loc: &Location,
    ) -> &Mutex<HashMap<Location, Versions, revm::primitives::map::DefaultHashBuilder>> {
        let mut h = self.hasher.build_hasher();
        loc.hash(&mut h);
        &self.shards[(std::hash::Hasher::finish(&h) as usize) % SHARDS]
    }

    /// Replaces `tx`'s writes: `previous` locations it no longer writes are
    /// removed. Returns whether it wrote a location it did not write before.
    pub(crate) fn record(
        &self,
        tx: TxIdx,
        previous: &[Location],
        writes: &[(Location, Value)],
    ) -> bool {
        let mut wrote_new = false;
        for (loc, value) in writes {
            if let Value::Code(hash, Some(code)) = value {
                if *hash != KECCAK_EMPTY && self.pre.code(hash).is_none() {
                    self.new_code
                        .lock()
                        .unwrap()
                        .entry(*hash)
                        .or_insert_with(|| code.clone());
                }
            }
            let mut shard = self.shard(loc).lock().unwrap();
            shard
                .entry(*loc)
                .or_default()
                .insert(tx, Entry::Data(value.clone()));
            if !previous.contains(loc) {
                wrote_new = true;
            }
        }
        for loc in previous {
            if !writes.iter().any(|(l, _)| l == loc) {
                let mut shard = self.shard(loc).lock().unwrap();
                if let Some(v) = shard.get_mut(loc) {
                    v.remove(&tx);
                }
            }
        }
        wrote_new
    }

    /// Marks `tx`'s writes as estimates before it re-executes.
    pub(crate) fn mark_estimates(&self, tx: TxIdx, locations: &[Location]) {
        for loc in locations {
            let mut shard = self.shard(loc).lock().unwrap();
            if let Some(e) = shard.get_mut(loc).and_then(|v| v.get_mut(&tx)) {
                *e = Entry::Estimate;
            }
        }
    }

    pub(crate) fn code_by_hash(&self, hash: B256) -> Bytecode {
        if let Some(code) = self.pre.code(&hash) {
            return code;
        }
        self.new_code
            .lock()
            .unwrap()
            .get(&hash)
            .cloned()
            .unwrap_or_default()
    }

    /// The account's existence, balance and nonce as transaction `tx` sees
    /// it, lazy deltas folded in. `writers` collects the transactions read from.
    pub(crate) fn read_basic(
        &self,
        tx: TxIdx,
        address: Address,
        mut writers: Option<&mut Vec<TxIdx>>,
    ) -> Result<Basic, Blocked> {
        let loc = Location::Basic(address);
        let (mut add, mut sub, mut nonce_incr, mut any_delta) =
            (U256::ZERO, U256::ZERO, 0u64, false);
        let mut base = None;
        {
            let shard = self.shard(&loc).lock().unwrap();
            if let Some(versions) = shard.get(&loc) {
                for (&writer, entry) in versions.range(..tx).rev() {
                    if let Some(w) = writers.as_deref_mut() {
                        w.push(writer);
                    }
                    match entry {
                        Entry::Estimate => return Err(Blocked(writer)),
                        Entry::Data(Value::Basic(b)) => {
                            base = Some(*b);
                            break;
                        }
                        Entry::Data(Value::BalanceDelta {
                            add: a,
                            sub: s,
                            nonce_incr: n,
                        }) => {
                            add += *a;
                            sub += *s;
                            nonce_incr += *n;
                            any_delta = true;
                        }
                        Entry::Data(_) => unreachable!("only account values live at Basic"),
                    }
                }
            }
        }
        let base = base.unwrap_or_else(|| self.pre.account(&address).map(|a| (a.balance, a.nonce)));
        if !any_delta {
            return Ok(base);
        }
        // A delta touches the account, which then exists (as a commit would make it).
        let (balance, nonce) = base.unwrap_or_default();
        Ok(Some((
            (balance + add).saturating_sub(sub),
            nonce + nonce_incr,
        )))
    }

    pub(crate) fn read_code(
        &self,
        tx: TxIdx,
        address: Address,
        writers: Option<&mut Vec<TxIdx>>,
    ) -> Result<(B256, Option<Bytecode>), Blocked> {
        let loc = Location::Code(address);
        {
            let shard = self.shard(&loc).lock().unwrap();
            if let Some((&writer, entry)) = shard.get(&loc).and_then(|v| v.range(..tx).next_back())
            {
                if let Some(w) = writers {
                    w.push(writer);
                }
                return match entry {
                    Entry::Estimate => Err(Blocked(writer)),
                    Entry::Data(Value::Code(hash, code)) => Ok((*hash, code.clone())),
                    Entry::Data(_) => unreachable!("only code lives at Code"),
                };
            }
        }
        Ok(match self.pre.account(&address) {
            Some(a) => (a.code_hash, a.code.clone()),
            None => (KECCAK_EMPTY, None),
        })
    }

    pub(crate) fn read_storage(
        &self,
        tx: TxIdx,
        address: Address,
        slot: U256,
        writers: Option<&mut Vec<TxIdx>>,
    ) -> Result<U256, Blocked> {
        let reset = self.latest(tx, &Location::StorageReset(address))?;
        let written = self.latest(tx, &Location::Storage(address, slot))?;
        let pick = |idx: TxIdx| {
            if let Some(w) = writers {
                w.push(idx);
            }
        };
        match (written, reset) {
            (Some((w, Value::Storage(v))), r) if r.as_ref().is_none_or(|(ri, _)| *ri <= w) => {
                pick(w);
                Ok(v)
            }
            (_, Some((r, _))) => {
                pick(r);
                Ok(U256::ZERO)
            }
            _ => Ok(self.pre.storage_slot(&address, &slot)),
        }
    }

    fn latest(&self, tx: TxIdx, loc: &Location) -> Result<Option<(TxIdx, Value)>, Blocked> {
        let shard = self.shard(loc).lock().unwrap();
        match shard.get(loc).and_then(|v| v.range(..tx).next_back()) {
            None => Ok(None),
            Some((&w, Entry::Estimate)) => Err(Blocked(w)),
            Some((&w, Entry::Data(v))) => Ok(Some((w, v.clone()))),
        }
    }

    /// Evaluates `loc` again for `tx` (validation).
    pub(crate) fn reread(&self, tx: TxIdx, loc: &Location) -> Result<ReadValue, Blocked> {
        Ok(match *loc {
            Location::Basic(a) => ReadValue::Basic(self.read_basic(tx, a, None)?),
            Location::Code(a) => ReadValue::Code(self.read_code(tx, a, None)?.0),
            Location::Storage(a, s) => ReadValue::Storage(self.read_storage(tx, a, s, None)?),
            Location::StorageReset(_) => unreachable!("never read directly"),
        })
    }
}
