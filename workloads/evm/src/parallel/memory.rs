//! Multi-version memory: for every state location, the value each
//! transaction of the block wrote there, so transaction `j` reads what the
//! highest writer below `j` left, or the pre-state.
//!
//! Sharded by a cheap mix of the location (no global lock), sized for the
//! block up front, and a location with one version (most of them) keeps it
//! inline: recording a write allocates nothing. Each shard keeps its
//! locations in the order first written, behind an index of 4-byte words
//! whose line a worker can prefetch before it takes the shard's lock.
//! Lazy updates (balances, declared token balances) are stored as deltas
//! and summed on read.

use super::lazy::{SenderNeeds, LAZY_LIMIT};
use super::line::OneLine;
use super::location_index::LocationIndex;
use super::prefetch;
use super::spare;
use super::vm::SCAN_STEPS;
use crate::output::Info;
use crate::PreState;
use crossbeam_utils::CachePadded;
use revm::bytecode::Bytecode;
use revm::primitives::map::DefaultHashBuilder;
use revm::primitives::{Address, B256, KECCAK_EMPTY, U256};
use revm::state::AccountInfo;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
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

#[derive(Debug, Clone, Copy)]
pub(crate) enum Value {
    Basic(Basic),
    /// A lazy update: added to whatever the account holds when read.
    Credit(U256),
    /// A lazy sender's: taken from whatever the account holds, its nonce
    /// bumped, once the fold has seen the account meet `needs`.
    Debit {
        spent: U256,
        needs: SenderNeeds,
    },
    /// The code's hash; code new to the block is kept in the memory by hash
    /// ([`MvMemory::note_code`]), so a value owns no heap and a list of them
    /// is emptied without visiting each: dropping write lists entry by entry
    /// took 8% of a gigagas token block's fold at 2 threads.
    Code(B256),
    /// A slot's new value, and what its writer read there first: for the
    /// slot's lowest writer, the pre-state's value, which the fold then
    /// need not look up.
    Storage {
        value: U256,
        read: U256,
    },
    /// A lazy update of a storage slot (a declared token balance).
    StorageDelta(SlotDelta),
    StorageReset,
}

/// A lazy token transfer's change to a balance slot, and what its writer
/// found there where that came from the pre-state: for the slot's lowest
/// writer, which the fold then need not look up (a token's tens of
/// thousands of balance slots, a cache miss each). Fits where a sender's
/// debit does, so the memory's entries stay as they are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotDelta {
    amount: U256,
    found: U256,
    taken: bool,
    found_in_pre: bool,
}

const _: () = assert!(
    std::mem::size_of::<SlotDelta>() <= std::mem::size_of::<(U256, SenderNeeds)>(),
    "a slot delta must fit where a sender's debit does"
);

impl SlotDelta {
    /// The change from `before` to `after`; `found_in_pre`, the slot's
    /// pre-state value where the writer read it from there.
    pub(crate) fn between(before: U256, after: U256, found_in_pre: Option<U256>) -> Self {
        let taken = after < before;
        Self {
            amount: if taken {
                before - after
            } else {
                after - before
            },
            taken,
            found: found_in_pre.unwrap_or_default(),
            found_in_pre: found_in_pre.is_some(),
        }
    }

    /// `value` with the change made (a take stops at zero).
    fn apply(&self, value: U256) -> U256 {
        if self.taken {
            value.saturating_sub(self.amount)
        } else {
            value + self.amount
        }
    }

    fn found_in_pre(&self) -> Option<U256> {
        self.found_in_pre.then_some(self.found)
    }
}

#[derive(Debug, Clone)]
enum Entry {
    /// The writer is being re-executed: a reader should wait for it.
    Estimate,
    Data(Value),
}

/// What a read saw, checked again at validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadValue {
    Basic(Basic),
    Code(B256),
    Storage(U256),
    /// A lazy token sender: only that the slot holds more than this.
    StorageAbove(U256),
    /// A lazy token recipient: only whether the slot is zero, and that it
    /// is small enough for any transfer amount we make lazy to fit.
    StorageFits {
        zero: bool,
    },
}

impl ReadValue {
    /// Whether a lazy read's condition holds for `value`.
    pub(crate) fn storage_condition(&self, value: U256) -> bool {
        match *self {
            Self::StorageAbove(bound) => value > bound,
            Self::StorageFits { zero } => value.is_zero() == zero && value < LAZY_LIMIT,
            Self::Storage(seen) => value == seen,
            _ => false,
        }
    }
}

/// One read of a transaction.
#[derive(Debug, Clone)]
pub(crate) struct Read {
    pub loc: Location,
    pub value: ReadValue,
    /// No transaction below had written the location: validation then only
    /// checks that none has since, without asking the pre-state again.
    pub from_pre: bool,
    /// The transaction wrote the location too. Read from the pre-state, it
    /// is then valid while no other transaction has written there, which
    /// [`WrittenFilter::may_be_shared`] answers without the shard.
    pub also_written: bool,
}

/// A read as its outcome keeps it for validation: a cache line, where a
/// full [`Read`] is nearly two. A read from the pre-state keeps no value
/// (validation looks the pre-state up again in the rare case it needs
/// what was seen); any other keeps its value in the entry after it.
/// Copying the full reads of a gigagas token block into its outcomes, and
/// reading them back to validate, was 4% of its execution at 2 threads.
#[derive(Debug, Clone)]
pub(crate) enum KeptRead {
    Read {
        loc: Location,
        from_pre: bool,
        also_written: bool,
        value_follows: bool,
    },
    Value(ReadValue),
}

const _: () = assert!(std::mem::size_of::<KeptRead>() == 64);

impl KeptRead {
    /// Whether validation can do without what `read` saw: the pre-state's
    /// value, looked up again if needed (a lazy condition is no value).
    fn seen_is_pre(read: &Read) -> bool {
        read.from_pre
            && matches!(
                read.value,
                ReadValue::Basic(_) | ReadValue::Code(_) | ReadValue::Storage(_)
            )
    }

    /// How many entries `reads` take.
    pub(crate) fn entries_for(reads: &[Read]) -> usize {
        reads.len() + reads.iter().filter(|r| !Self::seen_is_pre(r)).count()
    }

    /// Appends `reads` to `kept`.
    pub(crate) fn keep(reads: &[Read], kept: &mut Vec<KeptRead>) {
        for read in reads {
            let value_follows = !Self::seen_is_pre(read);
            kept.push(KeptRead::Read {
                loc: read.loc,
                from_pre: read.from_pre,
                also_written: read.also_written,
                value_follows,
            });
            if value_follows {
                kept.push(KeptRead::Value(read.value.clone()));
            }
        }
    }
}

/// Marks the reads from the pre-state of locations the transaction also
/// wrote. Code is left out: its bitmap of writes answers its readers.
pub(crate) fn note_own_writes(reads: &mut [Read], writes: &[(Location, Value)]) {
    let written = LocationSet::of(writes, reads.len());
    for read in reads {
        if read.from_pre && !matches!(read.loc, Location::Code(_)) {
            read.also_written = written.contains(&read.loc);
        }
    }
}

/// A read hit a transaction that is being re-executed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Blocked(pub TxIdx);

/// An account's pre-state entry (null: not in the pre-state), found when
/// the account was first written. It points into the memory's pre-state,
/// which outlives the memory: a reference would tie the memory's lifetime
/// to its borrowers' (what a lock holds is invariant).
#[derive(Clone, Copy)]
struct PreEntry(*const AccountInfo);

// SAFETY: it stands for a `&AccountInfo`, which is Send and Sync.
unsafe impl Send for PreEntry {}
// SAFETY: as above.
unsafe impl Sync for PreEntry {}

impl PreEntry {
    fn of(found: Option<&AccountInfo>) -> Self {
        Self(found.map_or(std::ptr::null(), |info| info))
    }
}

/// A location's versions in transaction order; a single one lives inline.
#[derive(Debug)]
enum Versions {
    One((TxIdx, Entry)),
    Many(Vec<(TxIdx, Entry)>),
}

impl Versions {
    fn all(&self) -> &[(TxIdx, Entry)] {
        match self {
            Self::One(v) => std::slice::from_ref(v),
            Self::Many(v) => v,
        }
    }

    fn below(&self, tx: TxIdx) -> &[(TxIdx, Entry)] {
        let all = self.all();
        &all[..all.partition_point(|(w, _)| *w < tx)]
    }

    /// Adds or replaces `tx`'s version; true when another transaction has
    /// one here too.
    fn insert(&mut self, tx: TxIdx, entry: Entry) -> bool {
        let shared = match self {
            Self::One((w, _)) => *w != tx,
            Self::Many(v) => v.len() > 1 || v.first().is_some_and(|(w, _)| *w != tx),
        };
        match self {
            Self::One((w, e)) if *w == tx => *e = entry,
            Self::One(_) => {
                let Self::One(first) = std::mem::replace(self, Self::Many(Vec::with_capacity(4)))
                else {
                    unreachable!()
                };
                let Self::Many(v) = self else { unreachable!() };
                v.push(first);
                Self::insert_sorted(v, tx, entry);
            }
            Self::Many(v) if v.is_empty() => *self = Self::One((tx, entry)),
            Self::Many(v) => Self::insert_sorted(v, tx, entry),
        }
        shared
    }

    fn insert_sorted(v: &mut Vec<(TxIdx, Entry)>, tx: TxIdx, entry: Entry) {
        // Writers come about in block order, so a hot location (one sender's
        // thousand payouts) is written at its end: search the last few
        // versions before the whole list, under the shard's lock.
        let tail = v.len().saturating_sub(8);
        let below = |(w, _): &(TxIdx, Entry)| *w < tx;
        let i = if v.get(tail).is_none_or(below) {
            tail + v[tail..].partition_point(below)
        } else {
            v[..tail].partition_point(below)
        };
        match v.get_mut(i) {
            Some((w, e)) if *w == tx => *e = entry,
            _ => v.insert(i, (tx, entry)),
        }
    }

    fn get_mut(&mut self, tx: TxIdx) -> Option<&mut Entry> {
        match self {
            Self::One((w, e)) => (*w == tx).then_some(e),
            Self::Many(v) => {
                let i = v.binary_search_by_key(&tx, |(w, _)| *w).ok()?;
                Some(&mut v[i].1)
            }
        }
    }

    fn remove(&mut self, tx: TxIdx) {
        match self {
            Self::One((w, _)) if *w == tx => *self = Self::Many(Vec::new()),
            Self::One(_) => {}
            Self::Many(v) => {
                if let Ok(i) = v.binary_search_by_key(&tx, |(w, _)| *w) {
                    v.remove(i);
                }
            }
        }
    }
}

/// Lazy balance updates met while walking down from a reader to the last
/// full value of an account.
#[derive(Default)]
struct Deltas {
    add: U256,
    sub: U256,
    nonce_incr: u64,
    any: bool,
}

impl Deltas {
    /// Takes in one more version; Some(base) when it is a full value.
    fn add(&mut self, value: &Value) -> Option<Basic> {
        match value {
            Value::Basic(b) => Some(*b),
            Value::Credit(add) => {
                self.add += *add;
                self.any = true;
                None
            }
            Value::Debit { spent, .. } => {
                self.sub += *spent;
                self.nonce_incr += 1;
                self.any = true;
                None
            }
            _ => unreachable!("only account values live at Basic"),
        }
    }

    fn apply(self, base: Basic) -> Basic {
        if !self.any {
            return base;
        }
        // A delta touches the account, which then exists (as a commit would make it).
        let (balance, nonce) = base.unwrap_or_default();
        Some((
            (balance + self.add).saturating_sub(self.sub),
            nonce.saturating_add(self.nonce_incr),
        ))
    }
}

/// A storage slot's last full value and the lazy updates above it, from
/// the top down.
#[derive(Debug, Clone, Default)]
pub(crate) struct SlotVersions {
    pub full: Option<(TxIdx, U256)>,
    pub deltas: Vec<(TxIdx, SlotDelta)>,
}

impl SlotVersions {
    /// Walks `versions` (in transaction order) from the top down to the last
    /// full value, not below `floor` (the last wipe), telling `seen` each
    /// writer met; Err at an estimate.
    fn walk(
        versions: &[(TxIdx, Entry)],
        floor: Option<TxIdx>,
        mut seen: impl FnMut(TxIdx),
    ) -> Result<Self, Blocked> {
        let mut found = Self::default();
        for (writer, entry) in versions.iter().rev() {
            if floor.is_some_and(|r| *writer < r) {
                break;
            }
            seen(*writer);
            match entry {
                Entry::Estimate => return Err(Blocked(*writer)),
                Entry::Data(Value::Storage { value, .. }) => {
                    found.full = Some((*writer, *value));
                    break;
                }
                Entry::Data(Value::StorageDelta(delta)) => found.deltas.push((*writer, *delta)),
                Entry::Data(_) => unreachable!("only storage lives at Storage"),
            }
        }
        // Deltas apply bottom up.
        found.deltas.reverse();
        Ok(found)
    }

    /// The slot's value given the last wipe of its account's storage.
    pub(crate) fn resolve(&self, reset: Option<TxIdx>, pre: impl FnOnce() -> U256) -> U256 {
        let live = |w: TxIdx| reset.is_none_or(|r| w >= r);
        let base = match self.full {
            Some((w, v)) if live(w) => v,
            _ if reset.is_some() => U256::ZERO,
            _ => pre(),
        };
        self.deltas
            .iter()
            .filter(|(w, _)| live(*w))
            .fold(base, |v, (_, delta)| delta.apply(v))
    }
}

/// A slot's value after a block that wiped no storage: its last full value
/// (or `pre`) with the lazy updates above it applied in order, as
/// [`SlotVersions::resolve`] would with no wipe.
fn final_storage(versions: &[(TxIdx, Entry)], pre: U256) -> U256 {
    let full = versions
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, (_, e))| match e {
            Entry::Data(Value::Storage { value, .. }) => Some((*value, &versions[i + 1..])),
            _ => None,
        });
    let (base, above) = full.unwrap_or((pre, versions));
    above.iter().fold(base, |v, (_, e)| match e {
        Entry::Data(Value::StorageDelta(delta)) => delta.apply(v),
        _ => unreachable!("only storage values live at Storage, and no estimates remain"),
    })
}

/// Notes a location's last code or wipe in `extra`, or its slot's last
/// word in `slots`: `before`, the slot's value before the block where the
/// block wiped no storage (most blocks: the slot is resolved here, with no
/// list of its lazy updates, an allocation per token balance).
fn note_code_wipe_or_slot(
    loc: Location,
    versions: &[(TxIdx, Entry)],
    before: Option<U256>,
    extra: &mut HashMap<Address, CodeAndWipe, DefaultHashBuilder>,
    slots: &mut Vec<SlotFinal>,
) {
    let mut data = versions.iter().rev().filter_map(|(w, e)| match e {
        Entry::Data(v) => Some((*w, v)),
        Entry::Estimate => None,
    });
    match (loc, before) {
        (Location::Basic(_), _) => {}
        (Location::Code(address), _) => {
            let mut hashes = data.filter_map(|(_, value)| match value {
                Value::Code(hash) => Some(*hash),
                _ => None,
            });
            if let Some(last) = hashes.next() {
                let written = extra.entry(address).or_default();
                written.code = Some(last);
                written.code_in_block = last != KECCAK_EMPTY || hashes.any(|h| h != KECCAK_EMPTY);
            }
        }
        (Location::StorageReset(address), _) => {
            if let Some((writer, _)) = data.next() {
                extra.entry(address).or_default().reset = Some(writer);
            }
        }
        (Location::Storage(address, slot), Some(before)) => {
            let after = final_storage(versions, before);
            if after != before {
                let end = SlotEnd::Changed(after);
                slots.push(SlotFinal { address, slot, end });
            }
        }
        (Location::Storage(address, slot), None) => {
            let found = SlotVersions::walk(versions, None, |_| {})
                .unwrap_or_else(|_| unreachable!("no estimates remain"));
            if found.full.is_some() || !found.deltas.is_empty() {
                let end = SlotEnd::Versions(Box::new(found));
                slots.push(SlotFinal { address, slot, end });
            }
        }
    }
}

/// An account's last word at the end of the block, its storage apart.
#[derive(Debug, Clone)]
pub(crate) struct AccountFinal {
    pub address: Address,
    /// Balance, nonce and code hash before the block; None = did not exist.
    pub before: Option<Info>,
    pub basic: Basic,
    pub code_hash: B256,
    /// The last transaction that wiped the account's storage.
    pub reset: Option<TxIdx>,
    /// Some transaction of the block left code at it, even if the block
    /// removed it again.
    pub code_in_block: bool,
}

/// What the block wrote of an account besides its balance: its last code,
/// its last wipe, and whether any of its code versions was code.
#[derive(Debug, Default, Clone, Copy)]
struct CodeAndWipe {
    code: Option<B256>,
    reset: Option<TxIdx>,
    code_in_block: bool,
}

impl AccountFinal {
    /// Untouched by the block but for its storage.
    pub(crate) fn from_pre(address: Address, pre: Option<&AccountInfo>) -> Self {
        Self {
            address,
            before: pre.map(|a| (a.balance, a.nonce, a.code_hash)),
            basic: pre.map(|a| (a.balance, a.nonce)),
            code_hash: pre.map_or(KECCAK_EMPTY, |a| a.code_hash),
            reset: None,
            code_in_block: false,
        }
    }

    /// The code and the last wipe the block wrote, where it wrote them.
    fn amend(&mut self, written: CodeAndWipe) {
        self.code_hash = written.code.unwrap_or(self.code_hash);
        self.reset = written.reset;
        self.code_in_block = written.code_in_block;
    }

    /// Whether some slot of the account may have changed in the block. Its
    /// storage changes only where code runs as it: its own code (before
    /// the block, or left by a transaction of the block, as an EIP-7702
    /// delegation that a later one clears) or its initcode, whose writes
    /// come with a wipe (the account's creation).
    pub(crate) fn may_have_slots(&self) -> bool {
        let code_before = self.before.is_some_and(|(_, _, hash)| hash != KECCAK_EMPTY);
        self.reset.is_some() || code_before || self.code_in_block || self.code_hash != KECCAK_EMPTY
    }

    pub(crate) fn after(&self) -> Info {
        let (balance, nonce) = self.basic.unwrap_or_default();
        (balance, nonce, self.code_hash)
    }
}

/// A storage slot at the end of the block.
#[derive(Debug, Clone)]
pub(crate) struct SlotFinal {
    pub address: Address,
    pub slot: U256,
    pub end: SlotEnd,
}

#[derive(Debug, Clone)]
pub(crate) enum SlotEnd {
    /// Its value after the block, which differs from the pre-state's: no
    /// storage was wiped in the block, so nothing else decides it.
    Changed(U256),
    /// Its versions, resolved once its account's last wipe is known
    /// (boxed: rare, and the list of slots is sorted).
    Versions(Box<SlotVersions>),
}

/// The last word of a set of shards: accounts and slots apart, because an
/// account's slots live in other shards than the account.
#[derive(Debug, Default)]
pub(crate) struct Finals {
    /// The accounts that [`AccountFinal::may_have_slots`].
    pub accounts: Vec<AccountFinal>,
    pub slots: Vec<SlotFinal>,
}

/// Accounts whose pre-state the fold looks up before finishing them.
pub(super) const PRE_LOOKAHEAD: usize = 32;

/// `address`'s pre-state entry, its lines asked for: the fold looks up a run
/// of accounts before it reads any, and an entry's balance and nonce sit a
/// line or two past the key the lookup compared, a second miss for each
/// account where no fetch had started.
pub(super) fn pre_account_fetched<'p>(
    pre: &'p PreState,
    address: &Address,
) -> Option<&'p AccountInfo> {
    let found = pre.account(address);
    if let Some(info) = found {
        prefetch::for_read(info);
    }
    found
}

/// Shards for the largest blocks; small blocks get fewer (each is an
/// allocation, faulted in, before the first transaction runs).
const MAX_SHARDS: usize = 256;

/// One shard: locations and their versions in the order first written,
/// found through a [`LocationIndex`]. Recording a new location writes one
/// word of the index and appends at the list's warm end, where a map
/// holding whole 144-byte entries wrote into a cold bucket of a table as
/// large as the block's writes: the largest cost of executing a block of
/// plain transfers in parallel. The fold walks the list in order.
struct Shard {
    index: LocationIndex,
    entries: Vec<(Location, Versions)>,
    /// How many of `entries` are storage slots: the fold sizes its lists.
    slots: usize,
    /// The pre-state entry of each account of `entries`, in their order:
    /// found when the account is first written, where its transaction has
    /// just looked it up, so the fold need not (a cache miss each, two
    /// fifths of its time finishing a block of transfers' accounts).
    pres: Vec<PreEntry>,
}

impl Default for Shard {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl Shard {
    fn with_capacity(locations: usize) -> Self {
        Self {
            index: LocationIndex::with_capacity(locations),
            entries: Vec::with_capacity(locations),
            slots: 0,
            pres: Vec::with_capacity(locations),
        }
    }

    fn position(&self, loc: &Location, hash: u64) -> Option<usize> {
        self.index.find(hash, |i| self.entries[i].0 == *loc)
    }

    fn get(&self, loc: &Location, hash: u64) -> Option<&Versions> {
        self.position(loc, hash).map(|i| &self.entries[i].1)
    }

    fn get_mut(&mut self, loc: &Location, hash: u64) -> Option<&mut Versions> {
        self.position(loc, hash).map(|i| &mut self.entries[i].1)
    }

    /// Adds `tx`'s version of `loc`, replacing one it had; an account new
    /// to the shard gets its entry in `pre` kept. Returns whether the index
    /// grew, and whether another transaction has a version of `loc` too.
    fn insert(
        &mut self,
        loc: Location,
        hash: u64,
        tx: TxIdx,
        entry: Entry,
        hasher: &DefaultHashBuilder,
        pre: &PreState,
    ) -> (bool, bool) {
        if let Some(i) = self.position(&loc, hash) {
            return (false, self.entries[i].1.insert(tx, entry));
        }
        let entries = &self.entries;
        let grew = self.index.insert(hash, |i| hasher.hash_one(entries[i].0));
        match loc {
            Location::Storage(..) => self.slots += 1,
            Location::Basic(address) => self.pres.push(PreEntry::of(pre.account(&address))),
            Location::Code(_) | Location::StorageReset(_) => {}
        }
        self.entries.push((loc, Versions::One((tx, entry))));
        // The next new location's lines (reserved for the block).
        if self.entries.len() < self.entries.capacity() {
            prefetch::for_write(self.entries.as_ptr().wrapping_add(self.entries.len()));
        }
        (grew, false)
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The locations of a write set, for asking whether a location is among
/// them: a scan for the usual handful, a hash set for a long one. A
/// re-executed transaction that wrote thousands of accounts (a 2016 block's
/// did) scanned all its old writes for each new one, and the reverse.
enum LocationSet<'w, T> {
    Few(&'w [T]),
    Many(std::collections::HashSet<Location, DefaultHashBuilder>),
}

/// A write, or only where it went.
pub(crate) trait Located {
    fn location(&self) -> &Location;
}

impl Located for Location {
    fn location(&self) -> &Location {
        self
    }
}

impl Located for (Location, Value) {
    fn location(&self) -> &Location {
        &self.0
    }
}

impl<'w, T: Located> LocationSet<'w, T> {
    /// `probes`: how many locations will be asked about.
    fn of(writes: &'w [T], probes: usize) -> Self {
        if writes.len().saturating_mul(probes) <= SCAN_STEPS {
            Self::Few(writes)
        } else {
            Self::Many(writes.iter().map(|w| *w.location()).collect())
        }
    }

    fn contains(&self, loc: &Location) -> bool {
        match self {
            Self::Few(writes) => writes.iter().any(|w| w.location() == loc),
            Self::Many(set) => set.contains(loc),
        }
    }
}

const _: () = assert!(std::mem::size_of::<OneLine<Mutex<Fee>>>() == 64);

/// A transaction's fee owed to the beneficiary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fee {
    /// Not executed yet, or being re-executed.
    Pending,
    Owed(U256),
}

/// A shard behind its lock, and where its index's words are, which a
/// thread reads without the lock to prefetch the word a location will take.
struct ShardCell {
    shard: Mutex<Shard>,
    words: AtomicPtr<u32>,
    mask: AtomicUsize,
}

impl ShardCell {
    fn new(shard: Shard) -> Self {
        let (words, mask) = shard.index.words();
        Self {
            shard: Mutex::new(shard),
            words: AtomicPtr::new(words.cast_mut()),
            mask: AtomicUsize::new(mask),
        }
    }

    /// Call under the lock when the index grew.
    fn moved(&self, shard: &Shard) {
        let (words, mask) = shard.index.words();
        self.words.store(words.cast_mut(), Ordering::Relaxed);
        self.mask.store(mask, Ordering::Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shard> {
        self.shard.lock().unwrap()
    }
}

pub(crate) struct MvMemory<'a> {
    /// A line each: two threads taking neighbouring shards' locks would
    /// otherwise bounce one line between them.
    shards: Vec<CachePadded<ShardCell>>,
    /// Hashes locations for the shards' indexes.
    hasher: DefaultHashBuilder,
    written: WrittenFilter,
    /// Per transaction, not a delta at the beneficiary's location: every
    /// transaction pays a fee, and one location would serialise them all.
    fees: Vec<OneLine<Mutex<Fee>>>,
    coinbase: Address,
    /// Some transaction read the beneficiary, so a changed fee matters.
    coinbase_read: AtomicBool,
    /// Some transaction wiped an account's storage. Until one does (most
    /// blocks never do), a storage read skips looking for wipes. A wipe
    /// recorded after a read is a new location, so the reader is validated
    /// again and then looks.
    wiped: AtomicBool,
    pre: &'a PreState,
    /// Code deployed in this block, by hash.
    new_code: Mutex<HashMap<B256, Bytecode>>,
}

/// The shard of a location: a multiplicative mix of the address and slot,
/// far cheaper than hashing the whole location twice. An account's own
/// locations (balance, code, wipe) share a shard, so the fold finds them
/// together; its slots spread, so a busy contract is no global lock.
fn shard_of(loc: &Location, shards: usize) -> usize {
    let (address, extra) = match loc {
        Location::Basic(a) | Location::Code(a) | Location::StorageReset(a) => (a, 0),
        Location::Storage(a, slot) => (a, slot.as_limbs()[0] ^ slot.as_limbs()[3]),
    };
    let a = u64::from_le_bytes(address.0[12..20].try_into().unwrap());
    let mixed = (a ^ extra.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 56) as usize % shards
}

/// The locations any transaction has written, as one-hash Bloom filters.
/// Most reads of a block find nothing written below them; the filter
/// answers those from a bitmap that stays in cache, where the shard's table
/// (as large as the block's writes) missed it. A location written after a
/// reader passed it is a new location for its writer, so the reader is
/// validated again, and then sees it.
///
/// Code and storage wipes, which only a contract's creation or destruction
/// write, have a bitmap of their own: every call reads its callee's code,
/// and in the bitmap of balances and slots that word was most often just
/// written by the other core, a miss for each transfer.
struct WrittenFilter {
    often: Bitmap,
    rarely: Bitmap,
    /// The locations two transactions have written (set once both have a
    /// version there, never cleared in a block). A location read from the
    /// pre-state and written by its reader alone (a sender's balance, a
    /// token balance, a pool's reserves) is validated from this bitmap,
    /// which few writes touch, where each validation's shard lookups missed
    /// the cache: a tenth of the first-level misses of a gigagas token
    /// block at 2 threads (cachegrind).
    shared: Bitmap,
}

impl WrittenFilter {
    /// About eight bits a location: one reader in ten pays a needless lookup.
    fn new(expected_locations: usize) -> Self {
        Self {
            often: Bitmap::new(expected_locations * 8),
            rarely: Bitmap::new(expected_locations / 8),
            shared: Bitmap::new(expected_locations * 2),
        }
    }

    /// A hash of `loc`, and whether its kind is rarely written.
    fn mix(loc: &Location) -> (u64, bool) {
        let (address, tag, rare) = match loc {
            Location::Basic(a) => (a, 1, false),
            Location::Code(a) => (a, 2, true),
            Location::StorageReset(a) => (a, 3, true),
            Location::Storage(a, slot) => (
                a,
                slot.as_limbs()[0] ^ slot.as_limbs()[3].rotate_left(32),
                false,
            ),
        };
        let high = u64::from_le_bytes(address.0[..8].try_into().unwrap());
        let low = u64::from_le_bytes(address.0[12..20].try_into().unwrap());
        let mixed = (low ^ high.rotate_left(17) ^ tag.wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed, rare)
    }

    /// The bitmap `loc`'s kind is kept in, and its hash there.
    fn bitmap_of(&self, loc: &Location) -> (&Bitmap, u64) {
        match Self::mix(loc) {
            (mixed, true) => (&self.rarely, mixed),
            (mixed, false) => (&self.often, mixed),
        }
    }

    /// Call under the shard's lock, once a second transaction has a
    /// version of `loc`.
    fn insert_shared(&self, loc: &Location) {
        self.shared.set(Self::mix(loc).0);
    }

    /// False when at most one transaction has ever had a version of `loc`.
    fn may_be_shared(&self, loc: &Location) -> bool {
        self.shared.contains(Self::mix(loc).0)
    }

    /// Call before the location's version is stored.
    fn insert(&self, loc: &Location) {
        let (bitmap, mixed) = self.bitmap_of(loc);
        bitmap.set(mixed);
    }

    fn may_contain(&self, loc: &Location) -> bool {
        let (bitmap, mixed) = self.bitmap_of(loc);
        bitmap.contains(mixed)
    }

    /// Starts fetching the word `loc` will be set in.
    fn prefetch(&self, loc: &Location) {
        let (bitmap, mixed) = self.bitmap_of(loc);
        prefetch::for_write(bitmap.at(mixed).0);
    }
}

struct Bitmap {
    words: Vec<AtomicU64>,
    shift: u32,
}

impl Bitmap {
    fn new(bits: usize) -> Self {
        let bits = bits.next_power_of_two().max(1 << 12);
        Self {
            words: (0..bits / 64).map(|_| AtomicU64::new(0)).collect(),
            shift: 64 - bits.trailing_zeros(),
        }
    }

    /// The word and bit of a mixed hash (its top bits pick them).
    fn at(&self, mixed: u64) -> (&AtomicU64, u64) {
        let index = (mixed >> self.shift) as usize;
        (&self.words[index / 64], 1 << (index % 64))
    }

    /// Bits only ever get set: a hot location (one sender's every transfer)
    /// reads its bit instead of writing its cache line each time.
    fn set(&self, mixed: u64) {
        let (word, mask) = self.at(mixed);
        if word.load(Ordering::Acquire) & mask == 0 {
            word.fetch_or(mask, Ordering::Release);
        }
    }

    fn contains(&self, mixed: u64) -> bool {
        let (word, mask) = self.at(mixed);
        word.load(Ordering::Acquire) & mask != 0
    }
}

impl<'a> MvMemory<'a> {
    /// `expected_locations`: about how many locations the block will write.
    pub(crate) fn new(
        pre: &'a PreState,
        coinbase: Address,
        txs: usize,
        expected_locations: usize,
    ) -> Self {
        let shards = (txs / 4).next_power_of_two().clamp(16, MAX_SHARDS);
        let per_shard = expected_locations / shards + expected_locations / (4 * shards);
        Self {
            fees: (0..txs)
                .map(|_| OneLine(Mutex::new(Fee::Pending)))
                .collect(),
            coinbase,
            coinbase_read: AtomicBool::new(false),
            wiped: AtomicBool::new(false),
            written: WrittenFilter::new(expected_locations),
            shards: (0..shards)
                .map(|_| CachePadded::new(ShardCell::new(Shard::with_capacity(per_shard))))
                .collect(),
            hasher: DefaultHashBuilder::default(),
            pre,
            new_code: Mutex::default(),
        }
    }

    fn cell(&self, loc: &Location) -> &ShardCell {
        &self.shards[shard_of(loc, self.shards.len())]
    }

    /// `loc`'s shard, locked, and `loc`'s hash in its index.
    fn shard(&self, loc: &Location) -> (std::sync::MutexGuard<'_, Shard>, u64) {
        (self.cell(loc).lock(), self.hasher.hash_one(loc))
    }

    /// Starts fetching, without the shard's lock, the index word `loc` will
    /// be found or written at, the lock itself and the location's word of
    /// the written-filter: a transaction's sender and recipient, asked for
    /// before it executes, are in cache when it records them.
    pub(crate) fn prefetch_location(&self, loc: &Location) {
        if !prefetch::WORKS {
            return;
        }
        let cell = self.cell(loc);
        prefetch::for_write(&cell.shard);
        self.written.prefetch(loc);
        let words = (
            cell.words.load(Ordering::Relaxed).cast_const(),
            cell.mask.load(Ordering::Relaxed),
        );
        prefetch::for_write(LocationIndex::first_word(words, self.hasher.hash_one(loc)));
    }

    /// Runs `f` on the versions of `loc` below `tx` (empty when none).
    fn below<R>(&self, loc: &Location, tx: TxIdx, f: impl FnOnce(&[(TxIdx, Entry)]) -> R) -> R {
        if !self.written.may_contain(loc) {
            return f(&[]);
        }
        let (shard, hash) = self.shard(loc);
        f(shard.get(loc, hash).map_or(&[][..], |v| v.below(tx)))
    }

    /// Replaces `tx`'s writes: `previous` locations it no longer writes are
    /// removed. Returns whether it wrote a location it did not write before.
    pub(crate) fn record(
        &self,
        tx: TxIdx,
        previous: &[Location],
        writes: &[(Location, Value)],
    ) -> bool {
        let was_written = LocationSet::of(previous, writes.len());
        let mut wrote_new = false;
        for (loc, value) in writes {
            if matches!(loc, Location::StorageReset(_)) {
                self.wiped.store(true, Ordering::SeqCst);
            }
            self.written.insert(loc);
            let hash = self.hasher.hash_one(loc);
            let cell = self.cell(loc);
            let mut shard = cell.lock();
            let (grew, shared) =
                shard.insert(*loc, hash, tx, Entry::Data(*value), &self.hasher, self.pre);
            if grew {
                cell.moved(&shard);
            }
            if shared {
                self.written.insert_shared(loc);
            }
            drop(shard);
            wrote_new |= !was_written.contains(loc);
        }
        if !previous.is_empty() {
            let is_written = LocationSet::of(writes, previous.len());
            for loc in previous {
                if !is_written.contains(loc) {
                    let (mut shard, hash) = self.shard(loc);
                    if let Some(v) = shard.get_mut(loc, hash) {
                        v.remove(tx);
                    }
                }
            }
        }
        wrote_new
    }

    /// Starts fetching the cell `tx`'s fee will be recorded in.
    pub(crate) fn prefetch_fee(&self, tx: TxIdx) {
        prefetch::for_write(&*self.fees[tx]);
    }

    /// Records the fee `tx` owes; true when it changed and some transaction
    /// read the beneficiary (whose readers must then be validated again).
    pub(crate) fn record_fee(&self, tx: TxIdx, fee: U256) -> bool {
        let before = std::mem::replace(&mut *self.fees[tx].lock().unwrap(), Fee::Owed(fee));
        before != Fee::Owed(fee) && self.coinbase_read.load(Ordering::SeqCst)
    }

    /// The fees transactions `from..to` owe, or the first still pending.
    fn fees_between(
        &self,
        from: TxIdx,
        to: TxIdx,
        mut writers: Option<&mut Vec<TxIdx>>,
    ) -> Result<U256, Blocked> {
        let mut sum = U256::ZERO;
        for i in from..to {
            if let Some(w) = writers.as_deref_mut() {
                w.push(i);
            }
            match *self.fees[i].lock().unwrap() {
                Fee::Pending => return Err(Blocked(i)),
                Fee::Owed(fee) => sum += fee,
            }
        }
        Ok(sum)
    }

    /// Marks `tx`'s writes (and fee) as estimates before it re-executes.
    pub(crate) fn mark_estimates(&self, tx: TxIdx, written: &[Location]) {
        *self.fees[tx].lock().unwrap() = Fee::Pending;
        for loc in written {
            let (mut shard, hash) = self.shard(loc);
            if let Some(e) = shard.get_mut(loc, hash).and_then(|v| v.get_mut(tx)) {
                *e = Entry::Estimate;
            }
        }
    }

    /// Keeps code a transaction left at an account, for readers of its
    /// hash: before the write is recorded, so a reader that finds the hash
    /// finds the code.
    pub(crate) fn note_code(&self, hash: B256, code: Option<&Bytecode>) {
        let Some(code) = code else { return };
        if hash != KECCAK_EMPTY && self.pre.code(&hash).is_none() {
            self.new_code
                .lock()
                .unwrap()
                .entry(hash)
                .or_insert_with(|| code.clone());
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

    fn pre_basic(&self, address: &Address) -> Basic {
        self.pre.account(address).map(|a| (a.balance, a.nonce))
    }

    /// What a read of `loc` from the pre-state saw.
    fn pre_value(&self, loc: Location) -> ReadValue {
        match loc {
            Location::Basic(a) => ReadValue::Basic(self.pre_basic(&a)),
            Location::Code(a) => {
                ReadValue::Code(self.pre.account(&a).map_or(KECCAK_EMPTY, |a| a.code_hash))
            }
            Location::Storage(a, slot) => ReadValue::Storage(self.pre.storage_slot(&a, &slot)),
            Location::StorageReset(_) => unreachable!("nothing reads a wipe"),
        }
    }

    /// The account's existence, balance and nonce as transaction `tx` sees
    /// it, lazy deltas folded in, and whether it came from the pre-state.
    /// `writers` collects the transactions read from.
    pub(crate) fn read_basic(
        &self,
        tx: TxIdx,
        address: Address,
        mut writers: Option<&mut Vec<TxIdx>>,
    ) -> Result<(Basic, bool), Blocked> {
        let loc = Location::Basic(address);
        let (mut deltas, base, mut from_pre) = self.below(&loc, tx, |versions| {
            let mut deltas = Deltas::default();
            for (writer, entry) in versions.iter().rev() {
                if let Some(w) = writers.as_deref_mut() {
                    w.push(*writer);
                }
                match entry {
                    Entry::Estimate => return Err(Blocked(*writer)),
                    Entry::Data(value) => {
                        if let Some(b) = deltas.add(value) {
                            return Ok((deltas, Some((*writer, b)), false));
                        }
                    }
                }
            }
            Ok((deltas, None, versions.is_empty()))
        })?;
        if address == self.coinbase {
            // Every fee owed since the last full write of the beneficiary.
            self.coinbase_read.store(true, Ordering::SeqCst);
            let from = base.map_or(0, |(w, _)| w + 1);
            deltas.add(&Value::Credit(self.fees_between(from, tx, writers)?));
            // No fee below the first transaction: the pre-state, as is.
            deltas.any &= tx > from;
            from_pre &= !deltas.any;
        }
        let base = base.map_or_else(|| self.pre_basic(&address), |(_, b)| b);
        Ok((deltas.apply(base), from_pre))
    }

    /// `take` is given the code hash and the code where there is one, and
    /// makes what the caller keeps of them.
    pub(crate) fn read_code<C>(
        &self,
        tx: TxIdx,
        address: Address,
        writers: Option<&mut Vec<TxIdx>>,
        mut take: impl FnMut(B256, Option<&Bytecode>) -> C,
    ) -> Result<((B256, C), bool), Blocked> {
        let loc = Location::Code(address);
        let written = self.below(&loc, tx, |versions| match versions.last() {
            None => Ok(None),
            Some((w, Entry::Estimate)) => Err(Blocked(*w)),
            Some((w, Entry::Data(Value::Code(hash)))) => Ok(Some((*w, *hash))),
            Some(_) => unreachable!("only code lives at Code"),
        })?;
        if let Some((w, hash)) = written {
            if let Some(ws) = writers {
                ws.push(w);
            }
            let code = (hash != KECCAK_EMPTY).then(|| self.code_by_hash(hash));
            return Ok(((hash, take(hash, code.as_ref())), false));
        }
        let (hash, code) = match self.pre.account(&address) {
            Some(a) => (a.code_hash, a.code.as_ref()),
            None => (KECCAK_EMPTY, None),
        };
        Ok(((hash, take(hash, code)), true))
    }

    /// The last wipe of `address`'s storage below `tx`.
    fn last_reset(&self, tx: TxIdx, address: Address) -> Result<Option<TxIdx>, Blocked> {
        if !self.wiped.load(Ordering::SeqCst) {
            return Ok(None);
        }
        self.below(
            &Location::StorageReset(address),
            tx,
            |versions| match versions.last() {
                None => Ok(None),
                Some((w, Entry::Estimate)) => Err(Blocked(*w)),
                Some((w, Entry::Data(_))) => Ok(Some(*w)),
            },
        )
    }

    /// The slot as `tx` sees it, whether that came from the pre-state, and
    /// how many lazy deltas were summed to get it.
    pub(crate) fn read_storage(
        &self,
        tx: TxIdx,
        address: Address,
        slot: U256,
        mut writers: Option<&mut Vec<TxIdx>>,
    ) -> Result<(U256, bool, usize), Blocked> {
        let reset = self.last_reset(tx, address)?;
        if let (Some(r), Some(w)) = (reset, writers.as_deref_mut()) {
            w.push(r);
        }
        let slot_versions = self.below(&Location::Storage(address, slot), tx, |versions| {
            SlotVersions::walk(versions, reset, |writer| {
                if let Some(w) = writers.as_deref_mut() {
                    w.push(writer);
                }
            })
        })?;
        let from_pre =
            reset.is_none() && slot_versions.full.is_none() && slot_versions.deltas.is_empty();
        let value = slot_versions.resolve(reset, || self.pre.storage_slot(&address, &slot));
        Ok((value, from_pre, slot_versions.deltas.len()))
    }

    /// Whether every read of `kept` would still see the same for `tx`
    /// (validation).
    pub(crate) fn reads_still_valid(&self, tx: TxIdx, kept: &[KeptRead]) -> bool {
        let mut entries = kept.iter();
        while let Some(entry) = entries.next() {
            let &KeptRead::Read {
                loc,
                from_pre,
                also_written,
                value_follows,
            } = entry
            else {
                unreachable!("a value is taken with its read")
            };
            let seen = if value_follows {
                match entries.next() {
                    Some(KeptRead::Value(seen)) => Some(seen),
                    _ => unreachable!("a read's value follows it"),
                }
            } else {
                None
            };
            if !self.still_valid(tx, loc, from_pre, also_written, seen) {
                return false;
            }
        }
        true
    }

    /// Whether a read of `loc` would still see `seen` (the pre-state's
    /// value where None) for `tx`.
    fn still_valid(
        &self,
        tx: TxIdx,
        loc: Location,
        from_pre: bool,
        also_written: bool,
        seen: Option<&ReadValue>,
    ) -> bool {
        let nothing_below = |loc: &Location| self.below(loc, tx, |v| v.is_empty());
        let storage = matches!(loc, Location::Storage(..));
        // Its own version is there: another's below would have shared it.
        // (A wipe below is a location of its own.)
        if from_pre
            && also_written
            && !self.written.may_be_shared(&loc)
            && !(storage && self.wiped.load(Ordering::SeqCst))
        {
            return true;
        }
        if from_pre {
            let untouched = match loc {
                Location::Storage(a, _) => {
                    nothing_below(&loc)
                        && (!self.wiped.load(Ordering::SeqCst)
                            || nothing_below(&Location::StorageReset(a)))
                }
                loc => nothing_below(&loc),
            };
            if untouched {
                return true;
            }
        }
        let pre_value;
        let seen = match seen {
            Some(seen) => seen,
            None => {
                pre_value = self.pre_value(loc);
                &pre_value
            }
        };
        match (loc, seen) {
            (Location::Basic(a), ReadValue::Basic(seen)) => self
                .read_basic(tx, a, None)
                .is_ok_and(|(now, _)| now == *seen),
            (Location::Code(a), ReadValue::Code(seen)) => self
                .read_code(tx, a, None, |_, _| ())
                .is_ok_and(|((now, ()), _)| now == *seen),
            (Location::Storage(a, s), seen) => self
                .read_storage(tx, a, s, None)
                .is_ok_and(|(now, _, _)| seen.storage_condition(now)),
            _ => unreachable!("reads are of accounts, code and storage"),
        }
    }

    /// What an entry of this memory's shards points at.
    fn pre_entry(&self, entry: PreEntry) -> Option<&'a AccountInfo> {
        // SAFETY: every entry was made from `self.pre`, borrowed for 'a and
        // never written through.
        unsafe { entry.0.as_ref() }
    }

    /// Which of `parts` folds `address`: the one [`Self::take_finals`]
    /// gives the shard of its balance (and code and wipe) to.
    pub(crate) fn part_of(&self, address: Address, parts: usize) -> usize {
        shard_of(&Location::Basic(address), self.shards.len()) % parts
    }

    /// The beneficiary after the block, fees included: call before any
    /// shard is taken.
    pub(crate) fn final_coinbase(&self) -> Basic {
        self.read_basic(self.fees.len(), self.coinbase, None)
            .map_or_else(|_| unreachable!("no estimates remain"), |(b, _)| b)
    }

    /// Shards `first`, `first + step`, ...: the most accounts their final
    /// word can hold (every location but the slots, and a beneficiary paid
    /// only in fees), and their slots. Lists sized from these never grow,
    /// which would copy them and fault them in again.
    pub(crate) fn final_counts(&self, first: usize, step: usize) -> (usize, usize) {
        let mine = self.shards.iter().skip(first).step_by(step);
        let (locations, slots) = mine.fold((0, 0), |(all, slots), s| {
            let s = s.lock();
            (all + s.len(), slots + s.slots)
        });
        (locations - slots + 1, slots)
    }

    /// The block's last word on every location of shards `first`,
    /// `first + step`, ...; those shards are emptied (freed on the calling
    /// thread). Call once every transaction is final, with the beneficiary's
    /// `final_coinbase`. Walking an account's versions in order, each lazy
    /// sender's debit is shown the real balance and nonce below it: None
    /// when one does not meet its needs. Each account's pre-state is read
    /// here, once. An account with no slots goes to `settle` as it is met,
    /// not into a list to be read again: most of a block of transfers'.
    /// `counts`: these shards' [`Self::final_counts`], which size the lists.
    pub(crate) fn take_finals(
        &self,
        first: usize,
        step: usize,
        coinbase: Basic,
        (accounts, slots): (usize, usize),
        mut settle: impl FnMut(&AccountFinal),
    ) -> Option<Finals> {
        let mine = || self.shards.iter().enumerate().skip(first).step_by(step);
        let coinbase_shard = shard_of(&Location::Basic(self.coinbase), self.shards.len());
        let (mut accounts, mut slots) = (spare::account_list(accounts), spare::slot_list(slots));
        let mut finish = |account: AccountFinal| {
            if account.may_have_slots() {
                accounts.push(account);
            } else {
                settle(&account);
            }
        };
        // Every transaction is final: a wipe recorded is one the block made
        // (or one re-executed away, which only costs the slow path).
        let wiped = self.wiped.load(Ordering::SeqCst);
        for (index, shard) in mine() {
            let shard = std::mem::take(&mut *shard.lock());
            // Code and wipes first (rare: creations and self-destructs), so
            // each account is finished when its balance is met.
            let mut extra: HashMap<Address, CodeAndWipe, DefaultHashBuilder> = HashMap::default();
            for run in shard.entries.chunks(PRE_LOOKAHEAD) {
                // A run's slot values before the block first: most are what
                // their lowest writer read or found in the pre-state; the
                // rest (a lazy token balance whose lowest writer read it
                // from below) are looked up together, as accounts are below.
                let mut befores = [None; PRE_LOOKAHEAD];
                for ((loc, versions), before) in run.iter().zip(&mut befores) {
                    if let (false, Location::Storage(address, slot)) = (wiped, loc) {
                        *before = Some(self.slot_before(address, slot, versions.all()));
                    }
                }
                for ((loc, versions), before) in run.iter().zip(befores) {
                    note_code_wipe_or_slot(*loc, versions.all(), before, &mut extra, &mut slots);
                }
            }
            let mut coinbase_met = false;
            let mut found = shard.pres.iter().copied();
            // A run's pre-state entries asked for first, then its accounts:
            // each misses the cache, and fetches with nothing between them
            // overlap their misses.
            for run in shard.entries.chunks(PRE_LOOKAHEAD) {
                let mut pres = [None; PRE_LOOKAHEAD];
                for ((loc, _), pre) in run.iter().zip(&mut pres) {
                    if let Location::Basic(_) = loc {
                        *pre = self.pre_entry(found.next().expect("a pre-state entry per account"));
                        if let Some(info) = *pre {
                            prefetch::for_read(info);
                        }
                    }
                }
                for ((loc, versions), pre) in run.iter().zip(pres) {
                    let Location::Basic(address) = *loc else {
                        continue;
                    };
                    let basic = if address == self.coinbase {
                        coinbase_met = true;
                        coinbase
                    } else {
                        Self::final_basic(versions.all(), pre)?
                    };
                    let mut account = AccountFinal {
                        basic,
                        ..AccountFinal::from_pre(address, pre)
                    };
                    // Most shards have no code or wipe: skip hashing for them.
                    if let Some(code_and_wipe) = (!extra.is_empty())
                        .then(|| extra.remove(&address))
                        .flatten()
                    {
                        account.amend(code_and_wipe);
                    }
                    finish(account);
                }
            }
            if index == coinbase_shard && !coinbase_met {
                extra.entry(self.coinbase).or_default();
            }
            // Code or a wipe without a balance write, and a beneficiary
            // paid only in fees.
            for (address, code_and_wipe) in extra {
                let mut account = AccountFinal::from_pre(address, self.pre.account(&address));
                account.amend(code_and_wipe);
                if address == self.coinbase {
                    account.basic = coinbase;
                }
                finish(account);
            }
        }
        Some(Finals { accounts, slots })
    }

    /// A written slot's value before the block, every transaction final and
    /// valid: what its lowest writer read, or what a lazy token writer found
    /// in the pre-state, or the pre-state's where that writer read nothing.
    /// That holds while every slot revm did not load from us is written as a
    /// wipe (a created account's: its block records a wipe, and this is not
    /// asked) or as a delta (a lazy token's mocked balances).
    fn slot_before(&self, address: &Address, slot: &U256, versions: &[(TxIdx, Entry)]) -> U256 {
        let found = match versions.first() {
            Some((_, Entry::Data(Value::Storage { read, .. }))) => Some(*read),
            Some((_, Entry::Data(Value::StorageDelta(delta)))) => delta.found_in_pre(),
            _ => None,
        };
        found.unwrap_or_else(|| self.pre.storage_slot(address, slot))
    }

    /// An account's balance and nonce after the block, its lazy senders
    /// checked on the way.
    fn final_basic(versions: &[(TxIdx, Entry)], pre: Option<&AccountInfo>) -> Option<Basic> {
        let mut basic = match versions.first() {
            Some((_, Entry::Data(Value::Basic(b)))) => *b,
            _ => pre.map(|a| (a.balance, a.nonce)),
        };
        for (_, entry) in versions {
            let Entry::Data(value) = entry else { continue };
            if let Value::Debit { needs, .. } = value {
                if !needs.met_by(basic.unwrap_or_default()) {
                    return None;
                }
            }
            let mut deltas = Deltas::default();
            basic = match deltas.add(value) {
                Some(full) => full,
                None => deltas.apply(basic),
            };
        }
        Some(basic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_write_set_answers_like_a_short_one() {
        let writes = |n: u8| -> Vec<(Location, Value)> {
            (0..n)
                .map(|i| {
                    let loc = Location::Storage(Address::with_last_byte(i % 7), U256::from(i));
                    let value = U256::from(i);
                    (loc, Value::Storage { value, read: value })
                })
                .collect()
        };
        for n in [3, 100] {
            let list = writes(n);
            let set = LocationSet::of(&list, n.into());
            assert_eq!(matches!(set, LocationSet::Many(_)), n > 64);
            for i in 0..n + 5 {
                let loc = Location::Storage(Address::with_last_byte(i % 7), U256::from(i));
                assert_eq!(set.contains(&loc), i < n, "{n} writes, slot {i}");
            }
        }
    }

    #[test]
    fn a_read_its_reader_alone_wrote_stays_valid_until_a_lower_writer_comes() {
        let (sender, token) = (Address::with_last_byte(1), Address::with_last_byte(2));
        let mut pre = PreState::new();
        pre.insert_account(sender, U256::from(100), 0, Default::default());
        let mv = MvMemory::new(&pre, Address::with_last_byte(9), 8, 16);
        let basic = Location::Basic(sender);
        let slot = Location::Storage(token, U256::from(3));
        let seen = Some((U256::from(100), 0));
        let mut reads = vec![
            Read {
                loc: basic,
                value: ReadValue::Basic(seen),
                from_pre: true,
                also_written: false,
            },
            Read {
                loc: slot,
                value: ReadValue::Storage(U256::ZERO),
                from_pre: true,
                also_written: false,
            },
        ];
        let writes_with = |balance: u64, value: u64| {
            let storage = Value::Storage {
                value: U256::from(value),
                read: U256::ZERO,
            };
            vec![
                (basic, Value::Basic(Some((U256::from(balance), 1)))),
                (slot, storage),
            ]
        };
        // Transaction 5 read both from the pre-state and wrote both.
        let writes = writes_with(90, 7);
        let lower = writes_with(50, 4);
        note_own_writes(&mut reads, &writes);
        assert!(reads.iter().all(|r| r.also_written));
        // Each read checked on its own, as its outcome keeps it.
        let valid = |tx: TxIdx, read: &Read| {
            let mut kept = Vec::new();
            KeptRead::keep(std::slice::from_ref(read), &mut kept);
            mv.reads_still_valid(tx, &kept)
        };
        mv.record(5, &[], &writes);
        assert!(reads.iter().all(|r| valid(5, r)));
        assert!(!mv.written.may_be_shared(&basic));
        // A writer above shares the locations but is no writer below.
        mv.record(6, &[], &writes);
        assert!(mv.written.may_be_shared(&basic) && mv.written.may_be_shared(&slot));
        assert!(reads.iter().all(|r| valid(5, r)));
        // A writer below with other values: both reads are stale.
        mv.record(2, &[], &lower);
        assert!(reads.iter().all(|r| !valid(5, r)));
        // One below that leaves what the pre-state held: a read of it is
        // still good, judged against the pre-state looked up again.
        mv.record(2, &[], &[(basic, Value::Basic(seen))]);
        assert!(valid(5, &reads[0]));
    }

    #[test]
    fn a_read_keeps_its_value_only_where_the_pre_state_cannot_give_it() {
        let address = Address::with_last_byte(1);
        let read = |loc, value, from_pre| Read {
            loc,
            value,
            from_pre,
            also_written: false,
        };
        let reads = [
            read(Location::Basic(address), ReadValue::Basic(None), true),
            read(
                Location::Code(address),
                ReadValue::Code(KECCAK_EMPTY),
                false,
            ),
            read(
                Location::Storage(address, U256::from(1)),
                ReadValue::StorageAbove(U256::from(5)),
                true,
            ),
        ];
        let mut kept = Vec::new();
        KeptRead::keep(&reads, &mut kept);
        assert_eq!(kept.len(), KeptRead::entries_for(&reads));
        let values: Vec<_> = kept
            .iter()
            .filter_map(|k| match k {
                KeptRead::Value(v) => Some(v.clone()),
                KeptRead::Read { .. } => None,
            })
            .collect();
        assert_eq!(
            values,
            vec![
                ReadValue::Code(KECCAK_EMPTY),
                ReadValue::StorageAbove(U256::from(5))
            ]
        );
        assert!(matches!(
            kept[0],
            KeptRead::Read {
                value_follows: false,
                ..
            }
        ));
        assert!(matches!(
            kept[1],
            KeptRead::Read {
                value_follows: true,
                ..
            }
        ));
        assert!(matches!(kept[2], KeptRead::Value(_)));
    }

    #[test]
    fn the_fold_finds_each_account_as_it_was_before_the_block() {
        // Accounts in and out of the pre-state, a dozen a shard, written
        // among slots and code, one again by a later transaction: each is
        // finished against its own pre-state entry, kept when first written.
        let mut pre = PreState::new();
        let accounts: Vec<Address> = (1..=200u64)
            .map(|i| Address::left_padding_from(&i.to_be_bytes()))
            .collect();
        for (i, address) in accounts.iter().enumerate().filter(|(i, _)| i % 3 != 0) {
            pre.insert_account(*address, U256::from(1000 + i), i as u64, Default::default());
        }
        let coinbase = Address::with_last_byte(99);
        let mv = MvMemory::new(&pre, coinbase, 201, 800);
        for tx in 0..201 {
            mv.record_fee(tx, U256::ZERO);
        }
        for (tx, address) in accounts.iter().enumerate() {
            let writes = [
                (
                    Location::Storage(*address, U256::from(tx)),
                    Value::Storage {
                        value: U256::from(7),
                        read: U256::ZERO,
                    },
                ),
                (Location::Basic(*address), Value::Credit(U256::from(5))),
                (Location::Code(*address), Value::Code(KECCAK_EMPTY)),
            ];
            mv.record(tx, &[], &writes);
        }
        mv.record(
            200,
            &[],
            &[(Location::Basic(accounts[4]), Value::Credit(U256::from(1)))],
        );
        let coinbase_after = mv.final_coinbase();
        let mut finished = Vec::new();
        let finals = mv
            .take_finals(0, 1, coinbase_after, mv.final_counts(0, 1), |a| {
                finished.push(a.clone())
            })
            .unwrap();
        finished.extend(finals.accounts);
        for address in &accounts {
            let account = finished.iter().find(|a| a.address == *address).unwrap();
            let before = pre.account(address);
            assert_eq!(
                account.before,
                before.map(|a| (a.balance, a.nonce, a.code_hash))
            );
            let credited = if *address == accounts[4] { 6 } else { 5 };
            let balance = before.map_or(U256::ZERO, |a| a.balance) + U256::from(credited);
            assert_eq!(account.basic.map(|(b, _)| b), Some(balance), "{address}");
        }
    }

    #[test]
    fn code_a_transaction_leaves_is_read_back_by_its_hash() {
        let pre = PreState::new();
        let mv = MvMemory::new(&pre, Address::with_last_byte(9), 4, 8);
        let contract = Address::with_last_byte(3);
        let code = Bytecode::new_raw(vec![0x60, 0x01, 0x00].into());
        let hash = code.hash_slow();
        mv.note_code(hash, Some(&code));
        mv.record(0, &[], &[(Location::Code(contract), Value::Code(hash))]);
        let ((seen, got), from_pre) = mv.read_code(1, contract, None, |_, c| c.cloned()).unwrap();
        assert!(!from_pre);
        assert_eq!(seen, hash);
        assert_eq!(got.unwrap().original_bytes(), code.original_bytes());
        assert_eq!(
            mv.code_by_hash(hash).original_bytes(),
            code.original_bytes()
        );
    }

    #[test]
    fn a_slot_delta_adds_or_takes_and_keeps_only_a_pre_state_find() {
        let (five, nine) = (U256::from(5), U256::from(9));
        let added = SlotDelta::between(five, nine, Some(five));
        assert_eq!(added.apply(U256::from(100)), U256::from(104));
        assert_eq!(added.found_in_pre(), Some(five));
        let taken = SlotDelta::between(nine, five, None);
        assert_eq!(taken.apply(U256::from(100)), U256::from(96));
        assert_eq!(taken.apply(U256::from(3)), U256::ZERO, "saturates");
        assert_eq!(taken.found_in_pre(), None);
        let same = SlotDelta::between(nine, nine, Some(U256::ZERO));
        assert_eq!(same.apply(nine), nine);
        assert_eq!(same.found_in_pre(), Some(U256::ZERO));
    }

    #[test]
    fn a_slot_before_the_block_comes_from_its_lowest_writer_or_the_pre_state() {
        let (token, slot) = (Address::with_last_byte(7), U256::from(3));
        let mut pre = PreState::new();
        pre.insert_storage(token, slot, U256::from(40));
        let mv = MvMemory::new(&pre, Address::ZERO, 4, 16);
        let delta = |found| {
            let change = SlotDelta::between(U256::from(1), U256::from(2), found);
            vec![(1, Entry::Data(Value::StorageDelta(change)))]
        };
        // What the writer found is taken as it is (here a value the
        // pre-state does not hold, to tell the two apart).
        let found = delta(Some(U256::from(41)));
        assert_eq!(mv.slot_before(&token, &slot, &found), U256::from(41));
        assert_eq!(mv.slot_before(&token, &slot, &delta(None)), U256::from(40));
        let full = vec![(
            2,
            Entry::Data(Value::Storage {
                value: U256::from(9),
                read: U256::from(42),
            }),
        )];
        assert_eq!(mv.slot_before(&token, &slot, &full), U256::from(42));
    }

    #[test]
    fn a_slot_resolved_in_one_pass_matches_its_resolved_versions() {
        let pre = U256::from(1_000u64);
        let full = |v: u64| {
            Entry::Data(Value::Storage {
                value: U256::from(v),
                read: pre,
            })
        };
        // A delta from 100 to `after`.
        let delta = |after: u64| {
            let change = SlotDelta::between(U256::from(100), U256::from(after), None);
            Entry::Data(Value::StorageDelta(change))
        };
        let cases: Vec<Vec<Entry>> = vec![
            vec![full(5)],
            vec![delta(107)],
            vec![full(50), delta(0), delta(103)],
            vec![delta(109), full(50), delta(105), delta(80)],
            vec![full(50), delta(105), full(9), delta(101)],
            vec![delta(100), delta(102), full(4)],
        ];
        for (i, entries) in cases.into_iter().enumerate() {
            let versions: Vec<(TxIdx, Entry)> = entries
                .into_iter()
                .enumerate()
                .map(|(w, e)| (3 * w + 1, e))
                .collect();
            let walked = SlotVersions::walk(&versions, None, |_| {}).unwrap();
            let expected = walked.resolve(None, || pre);
            assert_eq!(final_storage(&versions, pre), expected, "case {i}");
        }
    }
}
