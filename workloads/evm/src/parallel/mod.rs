//! The parallel executor: Block-STM (optimistic execution over multi-version
//! memory, validation, re-execution of stale readers) with lazy updates of
//! the beneficiary fee and of plain value transfers. A transaction that
//! meets its sender's nonce behind its own waits for the sender's previous
//! transaction, as one that reads an estimate waits for its writer.
//!
//! The calling thread works on a block together with helper threads kept
//! from block to block. The result is folded from every location's last
//! value by the rule the sequential executor diffs with, so the output (and
//! digest) is exactly the sequential one; any invalid transaction, and any
//! block that is too small to win, runs sequentially, and one found too
//! dependent part way is finished in order from what the threads left (or
//! run again sequentially, where they left little).

mod code_copies;
mod fold;
mod headroom;
mod helpers;
mod keccak_memo;
mod lanes;
mod lazy;
mod line;
mod location_index;
mod memory;
mod prefetch;
mod scheduler;
mod slot_order;
mod slots;
mod spare;
mod vm;

pub use headroom::{dependency_headroom, Headroom};

use crate::{execute_sequential, Block, BlockOutput, ExecutionError, PreState};
use crossbeam_utils::CachePadded;
use fold::{Fold, PartFold};
use memory::{Location, MvMemory, TxIdx};
use revm::context::{CfgEnv, TxEnv};
use revm::primitives::{Address, TxKind, B256, U256};
use scheduler::{Claimed, Scheduler, Task};
use slots::{Slot, Slots};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use vm::{Execution, Mode, TxExecutor, TxOutcome, Wait};

/// Below this many transactions a block runs sequentially: waking the
/// helpers and folding would cost more than it saves.
pub const MIN_PARALLEL_TXS: usize = 32;
/// Conflict detection looks at this many executions and re-executions
/// before judging a block: enough that a burst of dependent transactions at
/// the top of a block (a searcher's bundle on one pool) is outgrown by the
/// independent ones after it, where a dependent chain keeps re-executing.
const BAIL_WINDOW: u64 = 64;
/// The first transactions looked at for one sender's nonce chain.
const CHAIN_WINDOW: usize = 64;

/// Why a block ran on the sequential path instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    OneThread,
    SmallBlock,
    /// Early re-executions came to over two fifths of the first
    /// executions: a chain runs most transactions twice (once too early).
    /// Where the threads got through a third of the block, the calling
    /// thread finishes it in order from there, keeping every incarnation
    /// that is still valid; otherwise it runs the block again sequentially.
    TooDependent,
    /// A sender heading the block holds two fifths of its gas or more in
    /// transactions that each wait on the nonce the one before leaves: the
    /// speedup is at most 2.5 at any thread count, less than trying costs
    /// at few threads.
    SenderChain,
    /// One sender sends three quarters of the block's transactions or more.
    /// Its lazy transfers need not wait on one another, but each debits the
    /// same account in the multi-version memory: a cache line the cores
    /// hand back and forth for every transaction, which costs what a plain
    /// transfer's execution saves (mainnet block 13287210, 1408 transfers
    /// from one sender: 1.03-1.09x, and 0.56-0.68x while this VM's cores
    /// were slow to share lines).
    HotSender,
    /// Some transaction is invalid; sequential execution names it.
    InvalidTransaction,
}

impl Fallback {
    /// A short name for tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Fallback::OneThread => "one_thread",
            Fallback::SmallBlock => "small_block",
            Fallback::TooDependent => "too_dependent",
            Fallback::SenderChain => "sender_chain",
            Fallback::HotSender => "hot_sender",
            Fallback::InvalidTransaction => "invalid_transaction",
        }
    }
}

/// How much work the parallel run did for its result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParallelStats {
    pub threads: usize,
    pub transactions: u64,
    /// Executions, including re-executions.
    pub executions: u64,
    pub validations: u64,
    /// Executions stopped by an estimate, and failed validations.
    pub conflicts: u64,
    pub fallback: Option<Fallback>,
    /// Where the parallel run's wall time went (zero when it fell back
    /// before starting threads).
    pub phases: Phases,
}

/// Wall time of each phase of a parallel run, in nanoseconds: what a
/// many-core run reports where it has no profiler.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phases {
    /// Multi-version memory, scheduler and output buffers made ready.
    pub setup_ns: u64,
    /// Until the last worker thread had started (helpers woken).
    pub spawn_ns: u64,
    /// Until the last worker ran out of execution and validation tasks.
    pub execute_ns: u64,
    /// The workers' fold of their parts, after the last one finished executing.
    pub fold_ns: u64,
    /// Joining the parts into the block's output and freeing the working
    /// memory, on one thread.
    pub finish_ns: u64,
}

impl ParallelStats {
    pub fn re_executions(&self) -> u64 {
        self.executions.saturating_sub(self.transactions)
    }
}

pub(crate) fn cfg_of(block: &Block) -> CfgEnv {
    let mut cfg = CfgEnv::new_with_spec(block.context.spec);
    cfg.chain_id = block.context.chain_id;
    cfg
}

/// A token contract whose `transfer(address,uint256)` may run lazily: its
/// balances are a Solidity `mapping(address => uint256)` at `balances_slot`,
/// and `transfer` moves `amount` from the caller's entry to the recipient's
/// (reverting when the caller holds less) without reading them otherwise,
/// like OpenZeppelin's ERC-20. Declared by code hash, so only the code that
/// was vetted runs lazily.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LazyToken {
    pub code_hash: B256,
    pub balances_slot: U256,
}

/// What the parallel executor may assume beyond the EVM's own rules.
#[derive(Debug, Clone, Default)]
pub struct ParallelOptions {
    pub lazy_tokens: Vec<LazyToken>,
    /// Run the whole block in parallel even when early conflicts say it
    /// would be faster sequentially. Whether it bails depends on timing, so
    /// tests that must exercise the parallel path set this.
    pub never_bail: bool,
    /// Give up after this many executions whatever the conflicts, as a
    /// too-dependent block is given up: tests exercise that path at chosen
    /// points.
    pub give_up_after: Option<u64>,
    /// Hand out every transaction in block order, as published Block-STM
    /// does: no helper takes a lane or the heavy transactions first.
    pub in_block_order: bool,
}

/// Executes `block` on `threads` threads; the output equals
/// `execute_sequential`'s, including its error for an invalid block.
pub fn execute_parallel(
    block: &Block,
    pre: &PreState,
    threads: usize,
) -> Result<(BlockOutput, ParallelStats), ExecutionError> {
    execute_parallel_with(block, pre, threads, &ParallelOptions::default())
}

/// [`execute_parallel`] with declared lazy tokens.
pub fn execute_parallel_with(
    block: &Block,
    pre: &PreState,
    threads: usize,
    options: &ParallelOptions,
) -> Result<(BlockOutput, ParallelStats), ExecutionError> {
    let n = block.transactions.len();
    let mut stats = ParallelStats {
        threads,
        transactions: n as u64,
        ..Default::default()
    };
    let sequential = |stats: ParallelStats, why| {
        let out = execute_sequential(block, pre)?;
        Ok((
            out,
            ParallelStats {
                fallback: Some(why),
                executions: n as u64,
                ..stats
            },
        ))
    };
    if threads <= 1 {
        return sequential(stats, Fallback::OneThread);
    }
    if n < MIN_PARALLEL_TXS {
        return sequential(stats, Fallback::SmallBlock);
    }
    if let Some(why) = (!options.never_bail)
        .then(|| one_sender(block, pre))
        .flatten()
    {
        return sequential(stats, why);
    }

    let setup_start = Instant::now();
    let mv = MvMemory::new(
        pre,
        block.context.env.beneficiary,
        n,
        expected_locations(block),
    );
    let scheduler = Scheduler::new(n, threads);
    let mut kept = Slots::for_block(n);
    let slots = kept.all();
    let cfg = cfg_of(block);
    let fold = Fold::new(block, pre, &mv, slots, threads);
    let shared = Shared {
        block,
        pre,
        cfg: &cfg,
        lazy_tokens: &options.lazy_tokens,
        may_bail: !options.never_bail,
        give_up_after: options.give_up_after,
        threads,
        in_block_order: options.in_block_order,
        helpers_first: OnceLock::new(),
        helpers_taken: CachePadded::new(AtomicUsize::new(0)),
        mv: &mv,
        scheduler: &scheduler,
        slots,
        fold: &fold,
        early: CachePadded::new(EarlyCounts::default()),
        bailed: AtomicBool::new(false),
    };
    let threads_start = Instant::now();
    // The calling thread is one of the workers, its helpers kept from the
    // block before.
    let runs: Vec<WorkerRun> = helpers::run_on(threads, |t| shared.run(t));
    let threads_end = Instant::now();
    let last = |at: fn(&WorkerRun) -> Instant| runs.iter().map(at).max().unwrap_or(threads_start);
    let (started, worked) = (last(|r| r.started), last(|r| r.worked));
    stats.phases = Phases {
        setup_ns: nanos(threads_start - setup_start),
        spawn_ns: nanos(started - threads_start),
        execute_ns: nanos(worked - threads_start),
        fold_ns: nanos(threads_end.saturating_duration_since(worked)),
        finish_ns: 0,
    };
    let mut parts = Vec::with_capacity(runs.len());
    for run in runs {
        stats.executions += run.counts.executions;
        stats.validations += run.counts.validations;
        stats.conflicts += run.counts.conflicts;
        parts.extend(run.part);
    }
    if shared.bailed.load(Ordering::Relaxed) {
        // Finishing in order through the multi-version memory costs more
        // per transaction than the sequential executor: worth it only for
        // the work of a good part of the block to keep (a dependent swap
        // block of 16129 given up after 8 ms took 85 ms to finish in order,
        // 61 ms to run again).
        let finishing = Instant::now();
        let finished = (3 * stats.executions >= n as u64)
            .then(|| shared.finish_in_order())
            .flatten();
        let Some(executions) = finished else {
            // The attempt's working memory goes before the block runs
            // again: kept until after, it left glibc to fault in fresh
            // pages for the sequential run (8,900 of them on the dependent
            // swap block, which then ran at 0.8x where it runs at 1.0x).
            drop(shared);
            drop(fold);
            drop(kept);
            drop(scheduler);
            drop(mv);
            return sequential(stats, Fallback::TooDependent);
        };
        stats.fallback = Some(Fallback::TooDependent);
        stats.executions += executions;
        parts = if fold.parts() == 1 {
            vec![fold.part(0)]
        } else {
            // The fold's parts meet at barriers: one thread each.
            helpers::run_on(threads, |t| (t < fold.parts()).then(|| fold.part(t)))
                .into_iter()
                .flatten()
                .collect()
        };
        stats.phases.fold_ns += nanos(finishing.elapsed());
    }
    let out = fold.finish(parts);
    kept.emptied();
    // Freeing the block's working memory is part of its cost.
    drop((kept, scheduler, mv));
    stats.phases.finish_ns = nanos(threads_end.elapsed());
    match out {
        Some(out) => Ok((out, stats)),
        None => sequential(stats, Fallback::InvalidTransaction),
    }
}

/// How many locations the block's transactions will write, for sizing the
/// multi-version memory: a plain transfer writes its sender and recipient, a
/// contract call three to five (a token transfer's two balances, a swap's
/// four and the pool's reserves). A shard that outgrows its room copies its
/// list into memory no core has touched, which glibc has to fault in: every
/// shard of a 1-Ggas swap block did, at three a transaction (80,600
/// locations where 48,400 were expected).
///
/// Calls are counted in every seventeenth transaction of a large block (a
/// stride no repeating pattern of calls and transfers is likely to share):
/// reading all of them before any thread starts took a quarter of a
/// millisecond of a 1-Ggas transfer block.
fn expected_locations(block: &Block) -> usize {
    let txs = &block.transactions;
    let step = if txs.len() < 4096 { 1 } else { 17 };
    let sampled = txs.iter().step_by(step);
    let (seen, calls) = sampled.fold((0, 0), |(seen, calls), tx| {
        (seen + 1, calls + usize::from(!tx.data.is_empty()))
    });
    2 * txs.len() + 3 * (calls * txs.len()).div_ceil(seen.max(1))
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u64::MAX as u128) as u64
}

/// What one worker thread did, counted on the thread itself: a counter
/// shared by every worker is a cache line they all write for every task.
#[derive(Debug, Default)]
struct Counts {
    executions: u64,
    validations: u64,
    conflicts: u64,
}

struct WorkerRun {
    started: Instant,
    worked: Instant,
    counts: Counts,
    part: Option<PartFold>,
}

/// Block-wide first executions and re-executions, kept only while the block
/// may still be given up (its first executions): what `judge` decides on.
#[derive(Debug, Default)]
struct EarlyCounts {
    /// Workers that have begun. Counting starts once all have: a helper
    /// the kernel starts late leaves the calling thread to run the block's
    /// top alone and in order, with no re-executions, and those executions
    /// counted carried a dependent block past the window (the whole chain
    /// then ran in parallel at 0.36-0.66x with both cores busy elsewhere).
    working: AtomicUsize,
    first: AtomicU64,
    again: AtomicU64,
    /// Past the judged window: nobody writes the counters any more.
    over: AtomicBool,
}

/// Whether one sender bounds the block: its nonce chain is two fifths or
/// more of the block's gas, or it sends three quarters of its transactions
/// (see [`Fallback::HotSender`]).
///
/// A chain bounds the block's speedup by 2.5, which the executor's own cost
/// (its work takes 1.4-2x the sequential CPU time) and the chain's
/// re-executions eat at few threads. Such a chain (a mining pool's payouts
/// from the beneficiary, one sender's contract calls) is looked for among
/// the first transactions, then weighed by gas limit over the whole block:
/// a pool's 34 payouts heading a block of swaps are a tenth of its work, and
/// that block ran 1.5x faster in parallel than the chain rule let it. A
/// chain further on is a helper's lane (see [`lanes::helpers_first`]), run
/// beside the transactions before it. Lazy transfers bump a sender's nonce
/// without waiting: no chain.
fn one_sender(block: &Block, pre: &PreState) -> Option<Fallback> {
    let coinbase = block.context.env.beneficiary;
    let chained = |tx: &TxEnv| !lazy::LazyTransfer::likely(tx, coinbase, pre);
    let txs = &block.transactions;
    let head = &txs[..txs.len().min(CHAIN_WINDOW)];
    // Per sender in a window: its transactions, and those that chain.
    let senders_of = |window: &[TxEnv]| {
        let mut senders: Vec<(Address, usize, usize)> = Vec::new();
        for tx in window {
            let chain = usize::from(chained(tx));
            match senders.iter_mut().find(|(sender, ..)| *sender == tx.caller) {
                Some((_, all, length)) => {
                    *all += 1;
                    *length += chain;
                }
                None => senders.push((tx.caller, 1, chain)),
            }
        }
        senders
    };
    // A sender whose chain is two fifths of a window's transactions.
    let chains = |senders: &[(Address, usize, usize)], window: usize| {
        senders
            .iter()
            .filter(move |(_, _, length)| 5 * length >= 2 * window)
            .map(|(sender, ..)| *sender)
            .collect::<Vec<_>>()
    };
    // Weighed only for a sender a window names: most blocks have none.
    let gas = |tx: &TxEnv| u128::from(tx.gas_limit);
    let weighs = |sender: &Address| {
        let (chain, total) = txs.iter().fold((0, 0), |(chain, total), tx| {
            let mine = tx.caller == *sender && chained(tx);
            (chain + if mine { gas(tx) } else { 0 }, total + gas(tx))
        });
        5 * chain >= 2 * total
    };
    let head_senders = senders_of(head);
    if chains(&head_senders, head.len()).iter().any(weighs) {
        return Some(Fallback::SenderChain);
    }
    let hot = |sender: &Address| {
        let sent = txs.iter().filter(|tx| tx.caller == *sender);
        4 * sent.count() >= 3 * txs.len()
    };
    head_senders
        .iter()
        .filter(|(_, all, _)| 4 * all >= 3 * head.len())
        .any(|(sender, ..)| hot(sender))
        .then_some(Fallback::HotSender)
}

/// How far ahead of the end-of-block sweep its slots are asked for.
const SWEEP_LOOKAHEAD: usize = 16;

struct Shared<'a> {
    block: &'a Block,
    pre: &'a PreState,
    cfg: &'a CfgEnv,
    lazy_tokens: &'a [LazyToken],
    may_bail: bool,
    give_up_after: Option<u64>,
    threads: usize,
    in_block_order: bool,
    /// What the helpers take before asking the scheduler, in order, and
    /// how many of them were taken.
    helpers_first: OnceLock<Vec<TxIdx>>,
    helpers_taken: CachePadded<AtomicUsize>,
    mv: &'a MvMemory<'a>,
    scheduler: &'a Scheduler,
    /// The last incarnation of each transaction.
    slots: &'a [Slot],
    fold: &'a Fold<'a>,
    early: CachePadded<EarlyCounts>,
    bailed: AtomicBool,
}

impl Shared<'_> {
    /// Worker `t`: executes and validates until the block is done, then
    /// folds its part of the output unless the block was given up.
    fn run(&self, t: usize) -> WorkerRun {
        let started = Instant::now();
        let mut counts = Counts::default();
        let mut executed = Vec::with_capacity(self.slots.len() / self.fold.parts().max(1) + 64);
        let mut vm = TxExecutor::new(self.mv, self.pre, self.block, self.cfg, self.lazy_tokens);
        self.work(&mut vm, t, &mut counts, &mut executed);
        let worked = Instant::now();
        // Set before the halt that ended `work`, so seen here.
        let bailed = self.bailed.load(Ordering::Relaxed);
        let part = if bailed {
            // The in-order finish revalidates these outcomes.
            None
        } else {
            self.keep_outcome_lists(&mut vm, t, &executed);
            drop(vm);
            (t < self.fold.parts()).then(|| self.fold.part(t))
        };
        WorkerRun {
            started,
            worked,
            counts,
            part,
        }
    }

    /// After giving up, finishes the block in order on the calling thread:
    /// an incarnation that ran to its end and still reads what the final
    /// transactions below it leave is kept (a chain's parallel work is not
    /// thrown away), every other transaction runs again, where none of its
    /// reads can be stale or an estimate. Returns the executions it took
    /// (None if one had to wait after all: the block then runs again).
    fn finish_in_order(&self) -> Option<u64> {
        let mut vm = TxExecutor::new(self.mv, self.pre, self.block, self.cfg, self.lazy_tokens);
        let mut executions = 0;
        for tx in 0..self.slots.len() {
            let mut slot = self.slots[tx].lock().unwrap();
            let valid = self.scheduler.executed(tx) && self.reads_hold(tx, slot.as_ref());
            if valid {
                continue;
            }
            // Every transaction below is final: nothing to wait for.
            let mode = Mode::Optimistic {
                wait_on_sender: false,
            };
            let Execution { outcome, fee, .. } = vm.execute(tx, mode).ok()?;
            executions += 1;
            let previous = slot.as_ref().map_or(&[][..], |o| &o.written);
            self.mv.record(tx, previous, vm.writes());
            self.mv.record_fee(tx, fee);
            if let Some(mut old) = slot.replace(outcome) {
                vm.give_back(&mut old);
            }
        }
        Some(executions)
    }

    /// Once every transaction is final, takes back the reads and writes
    /// this worker made, on its own thread, for its next block: freeing
    /// another thread's blocks serialised the threads on the allocator's
    /// arena locks, and every thread sweeping every transaction's slot had
    /// them queue on each lock. Slots are asked for a few ahead: each is a
    /// cache miss, which the sweep waited out one by one before its fold.
    fn keep_outcome_lists(&self, vm: &mut TxExecutor<'_>, worker: usize, executed: &[TxIdx]) {
        for (i, &tx) in executed.iter().enumerate() {
            if let Some(&ahead) = executed.get(i + SWEEP_LOOKAHEAD) {
                prefetch::for_write(&*self.slots[ahead]);
            }
            let mut slot = self.slots[tx].lock().unwrap();
            if let Some(o) = slot.as_mut().filter(|o| o.worker == worker) {
                vm.give_back(o);
            }
        }
    }

    fn work(
        &self,
        vm: &mut TxExecutor<'_>,
        worker: usize,
        counts: &mut Counts,
        executed: &mut Vec<TxIdx>,
    ) {
        let mut task = None;
        // Worker 0 keeps to block order from the first transaction; the
        // first helper works out what the helpers take first meanwhile.
        let first = (worker > 0 && !self.in_block_order).then(|| {
            self.helpers_first
                .get_or_init(|| lanes::helpers_first(self.block, self.threads))
        });
        let first_left = |task: Option<Task>| {
            task.or_else(|| {
                let first = first?;
                let taken = &self.helpers_taken;
                if taken.load(Ordering::Relaxed) >= first.len() {
                    return None;
                }
                let tx = *first.get(taken.fetch_add(1, Ordering::Relaxed))?;
                self.scheduler.execute_ahead(worker, tx)
            })
        };
        self.early.working.fetch_add(1, Ordering::Relaxed);
        let mut claimed = Claimed::default();
        let mut idle = 0u32;
        while !self.scheduler.done() {
            task = match first_left(task.take())
                .or_else(|| self.scheduler.next_task(worker, &mut claimed))
            {
                Some(Task::Execute(tx, incarnation)) => {
                    idle = 0;
                    executed.push(tx);
                    self.execute(vm, worker, counts, tx, incarnation)
                }
                Some(Task::Validate(tx, incarnation)) => {
                    idle = 0;
                    self.validate(worker, counts, tx, incarnation)
                }
                None => {
                    idle += 1;
                    if idle < 64 {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                    None
                }
            };
        }
    }

    fn execute(
        &self,
        vm: &mut TxExecutor<'_>,
        worker: usize,
        counts: &mut Counts,
        tx: usize,
        incarnation: usize,
    ) -> Option<Task> {
        prefetch::for_write(&*self.slots[tx]);
        self.mv.prefetch_fee(tx);
        // The transaction this worker most likely runs next: workers take
        // them in turn, and each one's first read of a transaction missed
        // the cache (a transfer block's 13 MB of them, each read once).
        if let Some(next) = self.block.transactions.get(tx + self.threads) {
            prefetch::for_read(next);
        }
        // Where its sender's and recipient's balances will be recorded.
        let env = &self.block.transactions[tx];
        self.mv.prefetch_location(&Location::Basic(env.caller));
        if let TxKind::Call(to) = env.kind {
            self.mv.prefetch_location(&Location::Basic(to));
        }
        // Both accounts' pre-state entries, one lookup after the other:
        // each misses the cache twice (its group, then its bucket), and
        // here their misses overlap, where execution asks for one, works,
        // then asks for the other.
        std::hint::black_box(self.pre.account(&env.caller));
        if let TxKind::Call(to) = env.kind {
            std::hint::black_box(self.pre.account(&to));
        }
        let mut wait_on_sender = true;
        let (mut outcome, fee) = loop {
            match vm.execute(tx, Mode::Optimistic { wait_on_sender }) {
                Ok(Execution { outcome, fee, .. }) => break (outcome, fee),
                Err(Wait::Estimate(blocker)) => {
                    counts.conflicts += 1;
                    return if self.scheduler.add_dependency(worker, tx, blocker) {
                        None
                    } else {
                        Some(Task::Execute(tx, incarnation))
                    };
                }
                Err(Wait::SenderBehind(previous)) => {
                    counts.conflicts += 1;
                    if self.scheduler.add_dependency(worker, tx, previous) {
                        return None;
                    }
                    // The previous transaction has run and the nonce is
                    // still behind (a stale writer between, or an invalid
                    // block): run it through, as validation will judge it.
                    wait_on_sender = false;
                }
            }
        };
        outcome.worker = worker;
        counts.executions += 1;
        let (wrote_new, replaced) = {
            let mut slot = self.slots[tx].lock().unwrap();
            let previous = slot.as_ref().map_or(&[][..], |o| &o.written);
            let wrote_new = self.mv.record(tx, previous, vm.writes()) | self.mv.record_fee(tx, fee);
            (wrote_new, slot.replace(outcome))
        };
        let again = replaced.is_some();
        if let Some(mut previous) = replaced {
            vm.give_back(&mut previous);
        }
        self.judge(again);
        self.scheduler
            .finish_execution(worker, tx, incarnation, wrote_new)
    }

    /// Whether `tx`'s last incarnation would still read what it read.
    fn reads_hold(&self, tx: TxIdx, outcome: Option<&TxOutcome>) -> bool {
        outcome.is_some_and(|o| self.mv.reads_still_valid(tx, &o.reads))
    }

    fn validate(
        &self,
        worker: usize,
        counts: &mut Counts,
        tx: usize,
        incarnation: usize,
    ) -> Option<Task> {
        counts.validations += 1;
        let slot = self.slots[tx].lock().unwrap();
        let valid = self.reads_hold(tx, slot.as_ref());
        let aborted = !valid && self.scheduler.try_validation_abort(tx, incarnation);
        if aborted {
            counts.conflicts += 1;
            if let Some(o) = slot.as_ref() {
                self.mv.mark_estimates(tx, &o.written);
            }
        }
        drop(slot);
        self.scheduler.finish_validation(worker, tx, aborted)
    }

    /// Early in the block, gives up when re-executions waste most of the
    /// work: such a block is faster sequentially. A block whose every
    /// transaction waits on the one before runs most of them twice at two
    /// threads (a dependent swap chain re-executed 0.68 of them), and bails
    /// within a few dozen. Conflicts are not counted: a chain of payouts or
    /// a searcher's bundle at the top of a block makes its readers stop on
    /// an estimate dozens of times, which costs little and ends with the
    /// burst (blocks judged on conflicts bailed at 0.8-0.9x that ran
    /// 1.3-1.5x on).
    /// Called with each completed execution, `again` for a re-execution.
    fn judge(&self, again: bool) {
        let early = &self.early;
        if let Some(limit) = self.give_up_after {
            if early.first.fetch_add(1, Ordering::Relaxed) + 1 == limit {
                self.bailed.store(true, Ordering::Relaxed);
                self.scheduler.halt();
            }
            return;
        }
        if !self.may_bail
            || early.over.load(Ordering::Relaxed)
            || early.working.load(Ordering::Relaxed) < self.threads
        {
            return;
        }
        let n = self.block.transactions.len() as u64;
        let (first, again) = if again {
            (
                early.first.load(Ordering::Relaxed),
                early.again.fetch_add(1, Ordering::Relaxed) + 1,
            )
        } else {
            (
                early.first.fetch_add(1, Ordering::Relaxed) + 1,
                early.again.load(Ordering::Relaxed),
            )
        };
        // Past half the block, running it again sequentially costs more
        // than finishing it.
        if first > BAIL_WINDOW.max(n / 8) || 2 * first > n {
            early.over.store(true, Ordering::Relaxed);
        } else if first + again >= BAIL_WINDOW && 5 * again > 2 * first {
            self.bailed.store(true, Ordering::Relaxed);
            self.scheduler.halt();
        }
    }
}
