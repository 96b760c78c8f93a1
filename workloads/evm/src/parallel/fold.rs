//! Turns the finished multi-version memory into the block's output: receipts
//! in block order, the checks a lazy sender skipped, and the state diff read
//! straight from every location's last value. No transaction's state is
//! committed a second time; each account is finished by the thread whose
//! shards hold its balance, code and wipe. Its changed slots live in other
//! shards (a busy contract is no hot lock), so each thread sends every slot
//! it meets to the thread that finishes the slot's account, and after one
//! barrier each finishes its own accounts with their slots: no thread
//! gathers anything for the others. An account that can have no changed
//! slots (most of a block of transfers) is finished before the barrier, as
//! it is met. Receipts come last, a chunk at a time, taken by whichever
//! thread is done with its accounts. Small blocks fold on the calling
//! thread alone.

use super::memory::{
    pre_account_fetched, AccountFinal, Basic, Finals, MvMemory, SlotEnd, SlotFinal, PRE_LOOKAHEAD,
};
use super::slot_order;
use super::spare::{self, TxLists};
use super::Slot;
use crate::output::{
    address_order, prefix, AccountChange, BlockOutput, Receipt, SlotChanges, StateDiff,
};
use crate::{Block, PreState};
use crossbeam_utils::CachePadded;
use revm::primitives::{Address, U256};
use std::cmp::Ordering;
use std::sync::atomic::{self, AtomicBool, AtomicUsize};
use std::sync::{Barrier, Mutex, OnceLock};

/// The fewest transactions worth a fold thread of their own.
const FOLD_CHUNK_MIN: usize = 2048;

/// Receipts are taken this many transactions at a time, by whichever part
/// is done with its accounts.
const RECEIPT_CHUNK: usize = 512;

/// One fold thread's share: the changes of the accounts it finished.
pub(super) struct PartFold {
    changes: Vec<(Address, AccountChange)>,
    /// `changes` in address order, sorted on this part's thread.
    order: Vec<(u64, u32)>,
}

/// What the fold threads share. The block's own workers fold, each where
/// its execution ended: no thread is started for it.
pub(super) struct Fold<'a> {
    block: &'a Block,
    pre: &'a PreState,
    mv: &'a MvMemory<'a>,
    outcomes: &'a [Slot],
    parts: usize,
    /// The beneficiary after the block: worked out once, before any shard
    /// is taken.
    coinbase: OnceLock<Basic>,
    barrier: Barrier,
    /// The next chunk of receipts to take. Receipts are taken once a part
    /// has finished its accounts: half each, taken first, left one thread
    /// idle while the other merged a token's 39,000 slots.
    next_receipts: CachePadded<AtomicUsize>,
    /// A list for each chunk of receipts, made by the calling thread, which
    /// frees them: lists a helper made and the calling thread freed slowed
    /// the fold of a block of transfers by a tenth.
    receipt_chunks: Vec<Mutex<Vec<Receipt>>>,
    /// A transaction turned out invalid.
    invalid: AtomicBool,
    /// Per part, the changed slots of the accounts it finishes, a list from
    /// each part that met some.
    inboxes: Vec<Mutex<Vec<Vec<SlotFinal>>>>,
}

impl<'a> Fold<'a> {
    pub(super) fn new(
        block: &'a Block,
        pre: &'a PreState,
        mv: &'a MvMemory<'a>,
        outcomes: &'a [Slot],
        threads: usize,
    ) -> Self {
        // Below a few thousand transactions the barrier costs more than
        // folding on one thread.
        let chunk = outcomes.len().div_ceil(threads.max(1)).max(FOLD_CHUNK_MIN);
        let parts = outcomes.len().div_ceil(chunk).max(1);
        Self {
            block,
            pre,
            mv,
            outcomes,
            parts,
            coinbase: OnceLock::new(),
            barrier: Barrier::new(parts),
            next_receipts: CachePadded::new(AtomicUsize::new(0)),
            receipt_chunks: (0..outcomes.len().div_ceil(RECEIPT_CHUNK))
                .map(|c| {
                    let room = RECEIPT_CHUNK.min(outcomes.len() - c * RECEIPT_CHUNK);
                    Mutex::new(Vec::with_capacity(room))
                })
                .collect(),
            invalid: AtomicBool::new(false),
            inboxes: (0..parts).map(|_| Mutex::default()).collect(),
        }
    }

    /// How many threads fold: workers `0..parts` each call [`Self::part`].
    pub(super) fn parts(&self) -> usize {
        self.parts
    }

    /// The block's output from every part. None when some transaction
    /// turns out invalid (the caller then runs the block sequentially,
    /// which reports it).
    pub(super) fn finish(self, results: Vec<PartFold>) -> Option<BlockOutput> {
        if self.invalid.load(atomic::Ordering::Relaxed) {
            return None;
        }
        let mut changes = Vec::with_capacity(results.len());
        for part in results {
            changes.push((part.changes, part.order));
        }
        let mut receipts = Vec::with_capacity(self.outcomes.len());
        for chunk in self.receipt_chunks {
            receipts.append(&mut chunk.into_inner().unwrap());
        }
        assert_eq!(
            receipts.len(),
            self.outcomes.len(),
            "a receipt went missing"
        );
        let mut cumulative = 0u64;
        for r in &mut receipts {
            cumulative += r.gas_used;
            r.cumulative_gas_used = cumulative;
        }
        if cumulative > self.block.context.env.gas_limit {
            return None;
        }
        Some(BlockOutput {
            receipts,
            changes: StateDiff::from_ordered_parts(changes),
            gas_used: cumulative,
        })
    }

    /// Part `t` of `parts()`: the accounts of its shards with their slots,
    /// then receipts while any are left.
    pub(super) fn part(&self, t: usize) -> PartFold {
        let coinbase = *self.coinbase.get_or_init(|| self.mv.final_coinbase());
        // Every account this part finishes: most with no slots, as they are
        // met; the others once their slots have come.
        let counts = self.mv.final_counts(t, self.parts);
        let mut changes = Changes::with_capacity(counts.0);
        let finals = self
            .mv
            .take_finals(t, self.parts, coinbase, counts, |account| {
                self.finish_account(account, &[], &mut changes)
            });
        if finals.is_none() {
            self.invalid.store(true, atomic::Ordering::Relaxed);
        }
        let Finals {
            accounts,
            mut slots,
        } = finals.unwrap_or_default();

        // Every slot to the part that finishes its account, this one too,
        // in order: one account's may be most of the block's (a token's
        // balances), and its part then only merges what it is sent.
        slot_order::sort_by_address_and_slot(&mut slots);
        self.send_slots(slots);
        self.barrier.wait();
        let inbox = std::mem::take(&mut *self.inboxes[t].lock().unwrap());
        let slots = merged(inbox);
        // The accounts in address order meet their slots' runs in one walk
        // of both, where a map from address to run hashed every address
        // twice (a swap block's pools: a fifth of its fold).
        let mut runs = slots.chunk_by(|a, b| a.address == b.address).peekable();
        let mut untaken: Vec<&[SlotFinal]> = Vec::new();
        changes.reserve(accounts.len());
        let order = address_order(&accounts, |account| &account.address);
        // The walk gives each address one run: a part meets each account once.
        debug_assert!(order
            .windows(2)
            .all(|w| accounts[w[0].1 as usize].address < accounts[w[1].1 as usize].address));
        for (_, i) in order {
            let account = &accounts[i as usize];
            let mut run: &[SlotFinal] = &[];
            while let Some(next) = runs.peek() {
                match next[0].address.cmp(&account.address) {
                    Ordering::Less => untaken.extend(runs.next()),
                    Ordering::Equal => {
                        run = runs.next().unwrap_or_default();
                        break;
                    }
                    Ordering::Greater => break,
                }
            }
            self.finish_account(account, run, &mut changes);
        }
        untaken.extend(runs);
        // The walk's accounts were counted in the part's locations; these
        // were not (nothing wrote their balances).
        changes.reserve(untaken.len());
        spare::keep_account_list(accounts);
        // Accounts whose slots changed and nothing else (a pool's reserves),
        // a few pre-state lookups before their accounts: lookups with
        // nothing between them overlap their cache misses.
        for group in untaken.chunks(PRE_LOOKAHEAD) {
            let mut pres = [None; PRE_LOOKAHEAD];
            for (run, pre) in group.iter().zip(&mut pres) {
                *pre = pre_account_fetched(self.pre, &run[0].address);
            }
            for (run, pre) in group.iter().zip(pres) {
                let account = AccountFinal::from_pre(run[0].address, pre);
                self.finish_account(&account, run, &mut changes);
            }
        }
        drop(untaken);
        // Often another thread's list (all of a token's slots were sent):
        // kept by this thread, the sender would fault in a new one a block.
        spare::leave_slot_list(slots);
        let mut lists = TxLists::of_this_thread();
        while self.take_receipts(&mut lists) {}
        lists.keep_for_this_thread();
        let Changes { list, keys } = changes;
        PartFold {
            order: StateDiff::part_order_of_keys(&list, keys),
            changes: list,
        }
    }

    /// Sends `slots`, in (address, slot) order, each to the part that
    /// finishes its account, in one list per part.
    fn send_slots(&self, mut slots: Vec<SlotFinal>) {
        if slots.is_empty() {
            return spare::keep_slot_list(slots);
        }
        // Each account's run of slots with the part it goes to: one lookup
        // a run, not a slot.
        let runs: Vec<(usize, usize)> = slots
            .chunk_by(|a, b| a.address == b.address)
            .map(|run| (run.len(), self.mv.part_of(run[0].address, self.parts)))
            .collect();
        let mut counts = vec![0; self.parts];
        for &(len, owner) in &runs {
            counts[owner] += len;
        }
        let send = |owner: usize, sent: Vec<SlotFinal>| {
            self.inboxes[owner].lock().unwrap().push(sent);
        };
        // One part's slots (a token's balances): the list goes as it is.
        if let Some(owner) = counts.iter().position(|&c| c == slots.len()) {
            return send(owner, slots);
        }
        let mut outgoing: Vec<Vec<SlotFinal>> =
            counts.iter().map(|&c| spare::slot_list(c)).collect();
        let mut drained = slots.drain(..);
        for (len, owner) in runs {
            outgoing[owner].extend(drained.by_ref().take(len));
        }
        drop(drained);
        spare::keep_slot_list(slots);
        for (owner, sent) in outgoing.into_iter().enumerate() {
            if sent.is_empty() {
                spare::keep_slot_list(sent);
            } else {
                send(owner, sent);
            }
        }
    }

    /// Takes the next chunk of receipts; false when none is left.
    fn take_receipts(&self, lists: &mut TxLists) -> bool {
        let chunk = self.next_receipts.fetch_add(1, atomic::Ordering::Relaxed);
        let start = chunk.saturating_mul(RECEIPT_CHUNK);
        if start >= self.outcomes.len() {
            return false;
        }
        let end = (start + RECEIPT_CHUNK).min(self.outcomes.len());
        let mut receipts = self.receipt_chunks[chunk].lock().unwrap();
        for slot in &self.outcomes[start..end] {
            match take_receipt(slot, lists) {
                Some(receipt) => receipts.push(receipt),
                None => self.invalid.store(true, atomic::Ordering::Relaxed),
            }
        }
        true
    }

    /// Adds `account`'s change, given its changed slots in slot order.
    fn finish_account(&self, account: &AccountFinal, slots: &[SlotFinal], changes: &mut Changes) {
        let reset = account.reset;
        let mut storage = Vec::with_capacity(slots.len());
        storage.extend(slots.iter().filter_map(|slot| {
            let versions = match &slot.end {
                SlotEnd::Changed(value) => return Some((slot.slot, *value)),
                SlotEnd::Versions(versions) => versions,
            };
            let mut pre_value = None;
            let mut pre = || {
                *pre_value
                    .get_or_insert_with(|| self.pre.storage_slot(&account.address, &slot.slot))
            };
            let value = versions.resolve(reset, &mut pre);
            // Once wiped, a slot's base is zero.
            let base = if reset.is_some() { U256::ZERO } else { pre() };
            (value != base).then_some((slot.slot, value))
        }));
        let storage = SlotChanges::from_sorted(storage);
        if let Some(change) =
            AccountChange::between(account.before, account.after(), reset.is_some(), storage)
        {
            changes.push(account.address, change);
        }
    }
}

/// A part's account changes, each with the key that puts it in address
/// order, taken as it is added: read back from the list afterwards, each
/// key was a cache miss (a millisecond of a gigagas transfer block's fold).
struct Changes {
    list: Vec<(Address, AccountChange)>,
    keys: Vec<(u64, u32)>,
}

impl Changes {
    fn with_capacity(room: usize) -> Self {
        Self {
            list: Vec::with_capacity(room),
            keys: Vec::with_capacity(room),
        }
    }

    fn reserve(&mut self, more: usize) {
        self.list.reserve(more);
        self.keys.reserve(more);
    }

    fn push(&mut self, address: Address, change: AccountChange) {
        self.keys.push((prefix(&address), self.list.len() as u32));
        self.list.push((address, change));
    }
}

/// The sorted lists a part was sent, in one list in (address, slot) order;
/// the lists merged from go where any thread's next fold finds them.
fn merged(mut inbox: Vec<Vec<SlotFinal>>) -> Vec<SlotFinal> {
    if inbox.len() <= 1 {
        return inbox.pop().unwrap_or_default();
    }
    let mut slots = spare::slot_list(inbox.iter().map(Vec::len).sum());
    for mut sent in inbox {
        slots.append(&mut sent);
        spare::leave_slot_list(sent);
    }
    // A sorted run from each sender: a stable sort merges them.
    slots.sort_by(slot_order::by_address_and_slot);
    slots
}

/// The receipt of a final incarnation (cumulative gas filled in later),
/// taken with the rest of it: the slot is empty for the next block. Lists
/// its worker has not taken back yet (it may still be on its way) are kept
/// by this thread.
fn take_receipt(slot: &Slot, lists: &mut TxLists) -> Option<Receipt> {
    let mut outcome = slot
        .lock()
        .unwrap()
        .take()
        .expect("every transaction executed");
    lists.give_back_of(&mut outcome);
    outcome.result.ok()
}
