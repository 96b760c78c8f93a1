//! Turns the finished multi-version memory into the block's output: receipts
//! in block order, the checks a lazy sender skipped, and the state diff read
//! straight from every location's last value. No transaction's state is
//! committed a second time; each account is finished by the thread whose
//! shards hold it. Those with changed slots (which live in other shards)
//! are gathered at barriers and shared out among the threads, each account
//! finished by one. Small blocks fold on the calling thread alone.

use super::memory::{AccountFinal, Basic, Finals, MvMemory, SlotEnd};
use super::Slot;
use crate::output::{AccountChange, BlockOutput, Receipt, StateDiff};
use crate::{Block, PreState};
use revm::primitives::{Address, U256};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex, OnceLock};

/// The fewest transactions worth a fold thread of their own.
const FOLD_CHUNK_MIN: usize = 2048;

/// One fold thread's share: its transactions' receipts (None: one is
/// invalid) and the changes of the accounts it finished.
pub(super) struct PartFold {
    receipts: Option<Vec<Receipt>>,
    changes: Vec<(Address, AccountChange)>,
    /// `changes` in address order, sorted on this part's thread.
    order: Vec<(u64, u32)>,
}

/// A changed slot on its way to the part that finishes its account: the
/// account's index among the storage accounts, the slot, its value.
type ChangedSlot = (u32, U256, U256);

/// What the fold threads share. The block's own workers fold, each where
/// its execution ended: no thread is started for it. An account's slots
/// live in other shards (and so other threads) than the account, so the
/// accounts with changed slots are gathered at barriers and shared out
/// among the threads; every other account is finished by the thread that
/// took it.
pub(super) struct Fold<'a> {
    block: &'a Block,
    pre: &'a PreState,
    mv: &'a MvMemory<'a>,
    outcomes: &'a [Slot],
    chunk: usize,
    parts: usize,
    /// The beneficiary after the block: worked out once, before any shard
    /// is taken.
    coinbase: OnceLock<Basic>,
    barrier: Barrier,
    invalid: AtomicBool,
    storage_accounts: Mutex<Vec<Address>>,
    sorted_storage_accounts: OnceLock<Vec<Address>>,
    /// Final account values of the storage accounts, as the threads met them.
    held: Mutex<Vec<AccountFinal>>,
    /// One per storage account, in address order.
    heads: OnceLock<Vec<AccountFinal>>,
    /// Per part, the changed slots of the storage accounts it finishes, in
    /// sorted runs from every part.
    inboxes: Vec<Mutex<Vec<Vec<ChangedSlot>>>>,
}

impl<'a> Fold<'a> {
    pub(super) fn new(
        block: &'a Block,
        pre: &'a PreState,
        mv: &'a MvMemory<'a>,
        outcomes: &'a [Slot],
        threads: usize,
    ) -> Self {
        // Below a few thousand transactions the barriers cost more than
        // folding on one thread.
        let chunk = outcomes.len().div_ceil(threads.max(1)).max(FOLD_CHUNK_MIN);
        let parts = outcomes.len().div_ceil(chunk).max(1);
        Self {
            block,
            pre,
            mv,
            outcomes,
            chunk,
            parts,
            coinbase: OnceLock::new(),
            barrier: Barrier::new(parts),
            invalid: AtomicBool::new(false),
            storage_accounts: Mutex::default(),
            sorted_storage_accounts: OnceLock::new(),
            held: Mutex::default(),
            heads: OnceLock::new(),
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
        if self.invalid.load(Ordering::Relaxed) {
            return None;
        }
        let mut receipts = Vec::with_capacity(self.outcomes.len());
        let mut changes = Vec::with_capacity(results.len());
        for part in results {
            receipts.extend(part.receipts?);
            changes.push((part.changes, part.order));
        }
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

    /// Part `t` of `parts()`: receipts of its transactions, the accounts of
    /// its shards.
    pub(super) fn part(&self, t: usize) -> PartFold {
        let mine = t * self.chunk..((t + 1) * self.chunk).min(self.outcomes.len());
        let receipts = self.outcomes[mine].iter().map(receipt).collect();
        let coinbase = *self.coinbase.get_or_init(|| self.mv.final_coinbase());
        let finals = self.mv.take_finals(t, self.parts, coinbase);
        if finals.is_none() {
            self.invalid.store(true, Ordering::Relaxed);
        }
        let Finals {
            accounts,
            mut slots,
        } = finals.unwrap_or_default();

        slots.sort_unstable_by(|a, b| a.address.cmp(&b.address).then(a.slot.cmp(&b.slot)));
        let mine = slots
            .chunk_by(|a, b| a.address == b.address)
            .map(|g| g[0].address);
        self.storage_accounts.lock().unwrap().extend(mine);
        if self.barrier.wait().is_leader() {
            let mut all = std::mem::take(&mut *self.storage_accounts.lock().unwrap());
            all.sort_unstable();
            all.dedup();
            self.sorted_storage_accounts.set(all).unwrap();
        }
        self.barrier.wait();
        let storage_accounts = self.sorted_storage_accounts.get().unwrap();

        // And this part's share of the storage accounts.
        let share = storage_accounts.len().div_ceil(self.parts).max(1);
        let mut changes = Vec::with_capacity(accounts.len() + share);
        let mut held = Vec::new();
        for account in accounts {
            if !storage_accounts.is_empty()
                && storage_accounts.binary_search(&account.address).is_ok()
            {
                held.push(account);
                continue;
            }
            let after = account.after();
            let reset = account.reset.is_some();
            if let Some(change) =
                AccountChange::between(account.before, after, reset, BTreeMap::new())
            {
                changes.push((account.address, change));
            }
        }
        self.held.lock().unwrap().extend(held);
        if self.barrier.wait().is_leader() {
            self.gather_heads(storage_accounts);
        }
        self.barrier.wait();
        let heads = self.heads.get().unwrap();

        let mut resolved = Vec::new();
        let mut i = 0;
        for group in slots.chunk_by(|a, b| a.address == b.address) {
            let address = group[0].address;
            while storage_accounts[i] != address {
                i += 1;
            }
            let reset = heads[i].reset;
            for slot in group {
                let versions = match &slot.end {
                    SlotEnd::Changed(value) => {
                        resolved.push((i as u32, slot.slot, *value));
                        continue;
                    }
                    SlotEnd::Versions(versions) => versions,
                };
                let mut pre_value = None;
                let mut pre = || {
                    *pre_value.get_or_insert_with(|| self.pre.storage_slot(&address, &slot.slot))
                };
                let value = versions.resolve(reset, &mut pre);
                // Once wiped, a slot's base is zero.
                let base = if reset.is_some() { U256::ZERO } else { pre() };
                if value != base {
                    resolved.push((i as u32, slot.slot, value));
                }
            }
        }
        // Each storage account is finished by one part, from the slots
        // every part sends it: one thread building them all (a map each,
        // thousands of pools in a swap block) held up the whole block.
        for run in resolved.chunk_by(|a, b| a.0 as usize / share == b.0 as usize / share) {
            let owner = run[0].0 as usize / share;
            self.inboxes[owner].lock().unwrap().push(run.to_vec());
        }
        self.barrier.wait();
        let mut mine = std::mem::take(&mut *self.inboxes[t].lock().unwrap()).concat();
        // Sorted runs, one per part: a stable sort merges them.
        mine.sort_by_key(|&(i, slot, _)| (i, slot));
        let mut mine = mine.chunk_by(|a, b| a.0 == b.0).peekable();
        let first = (t * share).min(heads.len());
        for (i, head) in heads.iter().enumerate().skip(first).take(share) {
            let slots = mine
                .next_if(|run| run[0].0 as usize == i)
                .unwrap_or_default();
            let storage = slots
                .iter()
                .map(|&(_, slot, value)| (slot, value))
                .collect();
            let reset = head.reset.is_some();
            if let Some(change) = AccountChange::between(head.before, head.after(), reset, storage)
            {
                changes.push((head.address, change));
            }
        }
        debug_assert!(
            mine.next().is_none(),
            "a storage account's slots were not met"
        );
        PartFold {
            receipts,
            order: StateDiff::part_order(&changes),
            changes,
        }
    }

    /// The storage accounts' own final values: from the thread that met
    /// each, or the pre-state where the block left the account alone.
    fn gather_heads(&self, storage_accounts: &[Address]) {
        let mut held = std::mem::take(&mut *self.held.lock().unwrap());
        held.sort_unstable_by_key(|a| a.address);
        let heads = storage_accounts
            .iter()
            .map(
                |address| match held.binary_search_by_key(address, |a| a.address) {
                    Ok(i) => held[i].clone(),
                    Err(_) => AccountFinal::from_pre(*address, self.pre.account(address)),
                },
            )
            .collect();
        self.heads.set(heads).unwrap();
    }
}

/// The receipt of a final incarnation (cumulative gas filled in later).
fn receipt(slot: &Slot) -> Option<Receipt> {
    let mut slot = slot.lock().unwrap();
    let outcome = slot.as_mut().expect("every transaction executed");
    std::mem::replace(&mut outcome.result, Err(String::new())).ok()
}
