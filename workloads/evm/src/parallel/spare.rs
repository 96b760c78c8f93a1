//! Lists each worker thread keeps from block to block: its transactions'
//! read and write lists, and the fold's lists of final accounts and slots.
//!
//! Freed at the end of a block, they went back to glibc, which trimmed its
//! heaps and faulted the pages in again for the next block: 14,300 page
//! faults of a 2-thread swap block, about a fifth of its time. Kept here, a
//! list is a buffer popped and pushed again, and its pages stay mapped.
//!
//! A worker's executor holds its thread's read and write lists for the
//! whole block ([`TxLists`]): it takes and gives lists for every
//! transaction, and goes to the thread-local once a block. The fold takes a
//! few lists of its own a block straight from the thread-local, and the
//! read and write lists of outcomes whose worker has not taken them back.

use super::memory::{AccountFinal, KeptRead, Location, Read, SlotFinal, Value};
use super::prefetch;
use super::vm::TxOutcome;
use std::cell::RefCell;
use std::sync::Mutex;

pub(crate) type Writes = Vec<(Location, Value)>;

thread_local! {
    static TX_LISTS: RefCell<TxLists> = const { RefCell::new(TxLists::new()) };
    static FOLD_SLOTS: RefCell<Spares<SlotFinal>> =
        const { RefCell::new(Spares::new(FOLD_KEEP, usize::MAX)) };
    static FOLD_ACCOUNTS: RefCell<Spares<AccountFinal>> =
        const { RefCell::new(Spares::new(FOLD_KEEP, usize::MAX)) };
}

/// Per thread, at most this many read lists and as many write lists: a
/// 1-Ggas block of transfers is 47,619 transactions, split between the
/// workers.
const TX_KEEP: usize = 1 << 16;
/// A longer read or write list (a transaction that touched hundreds of
/// slots) is freed: kept, it would hold its memory for lists of two or three.
const TX_KEEP_CAPACITY: usize = 64;
/// A fold thread fills a list for each fold thread, and merges what it is
/// sent into one.
const FOLD_KEEP: usize = 64;

/// How many lists ahead [`Spares::with_room`] fetches a list's pointer.
const LIST_LOOKAHEAD: usize = 4;

/// Lists of final slots one fold thread sent another, for any thread's
/// next fold.
static LEFT_SLOT_LISTS: Mutex<Spares<SlotFinal>> = Mutex::new(Spares::new(FOLD_KEEP, usize::MAX));

/// Emptied lists of one kind, to fill again.
pub(crate) struct Spares<T> {
    lists: Vec<Vec<T>>,
    keep: usize,
    keep_capacity: usize,
}

impl<T> Spares<T> {
    const fn new(keep: usize, keep_capacity: usize) -> Self {
        Self {
            lists: Vec::new(),
            keep,
            keep_capacity,
        }
    }

    /// An empty list with room for `room` items. A new one is sized
    /// exactly, and a kept one keeps the room it had.
    fn with_room(&mut self, room: usize) -> Vec<T> {
        let mut list = self.lists.pop().unwrap_or_default();
        self.fetch_next();
        list.reserve_exact(room);
        list
    }

    /// Starts fetching the next list's memory, and the pointer of the list
    /// [`LIST_LOOKAHEAD`] further on. A kept list was last written a block
    /// ago, most likely by another core: its first write and the load of
    /// its pointer were each a cache miss, 6% of a 2-thread transfer block.
    fn fetch_next(&self) {
        if !prefetch::WORKS {
            return;
        }
        if let Some(next) = self.lists.last() {
            prefetch::for_write_bytes(next.as_ptr(), next.capacity() * std::mem::size_of::<T>());
        }
        // Lists are popped from the end: this one's pointer is read a
        // few tasks from now.
        if let Some(ahead) = self.lists.len().checked_sub(LIST_LOOKAHEAD) {
            prefetch::for_read(self.lists.as_ptr().wrapping_add(ahead));
        }
    }

    fn give_back(&mut self, mut list: Vec<T>) {
        if self.lists.len() < self.keep && (1..=self.keep_capacity).contains(&list.capacity()) {
            list.clear();
            self.lists.push(list);
        }
    }

    /// Moves one list to `to`, if this has one.
    fn lend_one(&mut self, to: &mut Self) {
        to.lists.extend(self.lists.pop());
    }
}

/// A worker's read and write lists: taken from its thread when it starts
/// a block, given back when it ends.
pub(crate) struct TxLists {
    reads: Spares<KeptRead>,
    written: Spares<Location>,
}

impl Default for TxLists {
    fn default() -> Self {
        Self::new()
    }
}

impl TxLists {
    const fn new() -> Self {
        Self {
            reads: Spares::new(TX_KEEP, TX_KEEP_CAPACITY),
            written: Spares::new(TX_KEEP, TX_KEEP_CAPACITY),
        }
    }

    /// What this thread kept from its last block.
    pub(crate) fn of_this_thread() -> Self {
        TX_LISTS.with(|kept| std::mem::take(&mut *kept.borrow_mut()))
    }

    /// Keeps these for this thread's next block.
    pub(crate) fn keep_for_this_thread(self) {
        TX_LISTS.with(|kept| {
            let mut kept = kept.borrow_mut();
            // Two executors at once on one thread: the larger store stays.
            if self.reads.lists.len() >= kept.reads.lists.len() {
                *kept = self;
            }
        });
    }

    /// `scratch`'s reads as their outcome keeps them, in a list of their
    /// own; `scratch` is emptied and keeps its room for the next task.
    /// Exactly sized where new: an outcome lives until the block ends, and
    /// lists with room to spare (four or eight entries of 112-136 bytes
    /// where a transfer needs two) spread a block's outcomes over three or
    /// four times the memory, which slowed transfers by 4-8%.
    pub(crate) fn reads(&mut self, scratch: &mut Vec<Read>) -> Vec<KeptRead> {
        let mut list = self.reads.with_room(KeptRead::entries_for(scratch));
        KeptRead::keep(scratch, &mut list);
        scratch.clear();
        list
    }

    /// Where `writes` went, in a list of their own: after they are recorded,
    /// an outcome needs only that (to take them back when it runs again),
    /// and a location is under half of a write's bytes.
    pub(crate) fn written(&mut self, writes: &[(Location, Value)]) -> Vec<Location> {
        let mut list = self.written.with_room(writes.len());
        list.extend(writes.iter().map(|(loc, _)| *loc));
        list
    }

    /// Takes back an outcome's lists (none where they were taken before).
    pub(crate) fn give_back_of(&mut self, outcome: &mut TxOutcome) {
        self.reads.give_back(std::mem::take(&mut outcome.reads));
        self.written.give_back(std::mem::take(&mut outcome.written));
    }
}

/// An empty list of final slots with room for `room`, from this thread's
/// or else from those other threads were sent ([`leave_slot_list`]).
pub(crate) fn slot_list(room: usize) -> Vec<SlotFinal> {
    FOLD_SLOTS.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.lists.is_empty() {
            let mut left = LEFT_SLOT_LISTS.lock().unwrap_or_else(|e| e.into_inner());
            left.lend_one(&mut kept);
        }
        kept.with_room(room)
    })
}

/// Keeps a list of final slots for this thread's next block.
pub(crate) fn keep_slot_list(list: Vec<SlotFinal>) {
    FOLD_SLOTS.with(|kept| kept.borrow_mut().give_back(list));
}

/// Keeps a list of final slots another fold thread sent, for whichever
/// thread runs short: a thread that sends its slots to another every block
/// (a token's balances) would otherwise fault in a new list every block.
pub(crate) fn leave_slot_list(list: Vec<SlotFinal>) {
    LEFT_SLOT_LISTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .give_back(list);
}

/// An empty list of final accounts with room for `room`.
pub(crate) fn account_list(room: usize) -> Vec<AccountFinal> {
    FOLD_ACCOUNTS.with(|kept| kept.borrow_mut().with_room(room))
}

/// Keeps a list of final accounts for this thread's next block.
pub(crate) fn keep_account_list(list: Vec<AccountFinal>) {
    FOLD_ACCOUNTS.with(|kept| kept.borrow_mut().give_back(list));
}
