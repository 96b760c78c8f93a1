//! The parallel executor: Block-STM (optimistic execution over multi-version
//! memory, validation, re-execution of stale readers) with lazy updates of
//! the beneficiary fee and of plain value transfers.
//!
//! Threads are started once per block, the calling thread among them. The
//! result is folded from every location's last value by the rule the
//! sequential executor diffs with, so the output (and digest) is exactly the
//! sequential one; any invalid transaction, and any block that is too small
//! or too dependent to win, runs sequentially.

mod fold;
mod headroom;
mod keccak_memo;
mod lazy;
mod memory;
mod scheduler;
mod vm;

pub use headroom::{dependency_headroom, Headroom};

use crate::{execute_sequential, Block, BlockOutput, ExecutionError, PreState};
use fold::{Fold, PartFold};
use memory::MvMemory;
use revm::context::CfgEnv;
use revm::primitives::{Address, B256, U256};
use scheduler::{Scheduler, Task};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use vm::{TxExecutor, TxOutcome};

/// Below this many transactions a block runs sequentially: starting threads
/// would cost more than it saves.
pub const MIN_PARALLEL_TXS: usize = 32;
/// Conflict detection looks at this many executions and conflicts before
/// judging a block: enough that a burst of dependent transactions at the
/// top of a block (a searcher's bundle on one pool) is outgrown by the
/// independent ones after it, where a dependent chain keeps conflicting.
const BAIL_WINDOW: u64 = 64;
/// The first transactions looked at for one sender's nonce chain.
const CHAIN_WINDOW: usize = 64;

/// Why a block ran on the sequential path instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    OneThread,
    SmallBlock,
    /// Early conflicts came to over two fifths of the executions: a chain
    /// runs each transaction twice (once too early), so about half.
    TooDependent,
    /// Two fifths of the first transactions or more are one sender's, each
    /// waiting on the nonce the one before leaves: the speedup is at most
    /// 2.5 at any thread count, less than trying costs at few threads.
    SenderChain,
    /// Some transaction is invalid; sequential execution names it.
    InvalidTransaction,
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
    if !options.never_bail && one_sender_chain(block, pre) {
        return sequential(stats, Fallback::SenderChain);
    }

    // Most transactions write two to four locations (sender, recipient, a
    // slot or two).
    let mv = MvMemory::new(pre, block.context.env.beneficiary, n, 3 * n);
    let scheduler = Scheduler::new(n);
    let slots: Vec<Mutex<Option<TxOutcome>>> = (0..n).map(|_| Mutex::default()).collect();
    let cfg = cfg_of(block);
    let fold = Fold::new(block, pre, &mv, &slots, threads);
    let shared = Shared {
        block,
        pre,
        cfg: &cfg,
        lazy_tokens: &options.lazy_tokens,
        may_bail: !options.never_bail,
        mv: &mv,
        scheduler: &scheduler,
        slots: &slots,
        fold: &fold,
        executions: AtomicU64::new(0),
        validations: AtomicU64::new(0),
        conflicts: AtomicU64::new(0),
        bailed: AtomicBool::new(false),
    };
    // The calling thread is one of the workers: one start fewer per block.
    let parts: Vec<PartFold> = std::thread::scope(|s| {
        let shared = &shared;
        let workers: Vec<_> = (1..threads)
            .map(|t| s.spawn(move || shared.run(t)))
            .collect();
        let first = shared.run(0);
        let rest = workers
            .into_iter()
            .map(|w| w.join().expect("parallel worker panicked"));
        std::iter::once(first).chain(rest).flatten().collect()
    });
    stats.executions = shared.executions.load(Ordering::Relaxed);
    stats.validations = shared.validations.load(Ordering::Relaxed);
    stats.conflicts = shared.conflicts.load(Ordering::Relaxed);
    if shared.bailed.load(Ordering::Relaxed) {
        return sequential(stats, Fallback::TooDependent);
    }
    match fold.finish(parts) {
        Some(out) => Ok((out, stats)),
        None => sequential(stats, Fallback::InvalidTransaction),
    }
}

/// Whether two fifths or more of the block's first transactions are one
/// sender's and cannot run lazily (contract calls, or payouts from the
/// beneficiary as a mining pool makes them): a nonce chain that bounds the
/// block's speedup by 2.5, which the executor's own cost (its work takes
/// 1.4-2x the sequential CPU time) and the chain's re-executions eat.
/// Lazy transfers bump a sender's nonce without waiting: no chain.
fn one_sender_chain(block: &Block, pre: &PreState) -> bool {
    let window = &block.transactions[..block.transactions.len().min(CHAIN_WINDOW)];
    let coinbase = block.context.env.beneficiary;
    let mut chains: Vec<(Address, usize)> = Vec::new();
    for tx in window {
        if lazy::LazyTransfer::likely(tx, coinbase, pre) {
            continue;
        }
        match chains.iter_mut().find(|(sender, _)| *sender == tx.caller) {
            Some((_, length)) => *length += 1,
            None => chains.push((tx.caller, 1)),
        }
    }
    chains
        .iter()
        .any(|(_, length)| 5 * length >= 2 * window.len())
}

struct Shared<'a> {
    block: &'a Block,
    pre: &'a PreState,
    cfg: &'a CfgEnv,
    lazy_tokens: &'a [LazyToken],
    may_bail: bool,
    mv: &'a MvMemory<'a>,
    scheduler: &'a Scheduler,
    /// The last incarnation of each transaction.
    slots: &'a [Mutex<Option<TxOutcome>>],
    fold: &'a Fold<'a>,
    executions: AtomicU64,
    validations: AtomicU64,
    conflicts: AtomicU64,
    bailed: AtomicBool,
}

impl Shared<'_> {
    /// Worker `t`: executes and validates until the block is done, then
    /// folds its part of the output unless the block was given up.
    fn run(&self, t: usize) -> Option<PartFold> {
        self.work(t);
        let fold = !self.bailed.load(Ordering::Relaxed) && t < self.fold.parts();
        fold.then(|| self.fold.part(t))
    }

    fn work(&self, worker: usize) {
        let mut vm = TxExecutor::new(
            self.mv,
            self.pre,
            &self.block.context.env,
            self.cfg,
            self.lazy_tokens,
        );
        let mut task = None;
        let mut idle = 0u32;
        while !self.scheduler.done() {
            task = match task.take().or_else(|| self.scheduler.next_task()) {
                Some(Task::Execute(tx, incarnation)) => {
                    idle = 0;
                    self.execute(&mut vm, worker, tx, incarnation)
                }
                Some(Task::Validate(tx, incarnation)) => {
                    idle = 0;
                    self.validate(tx, incarnation)
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
        tx: usize,
        incarnation: usize,
    ) -> Option<Task> {
        match vm.execute(tx, &self.block.transactions[tx], false) {
            Err(blocker) => {
                self.conflict();
                if self.scheduler.add_dependency(tx, blocker) {
                    None
                } else {
                    Some(Task::Execute(tx, incarnation))
                }
            }
            Ok(mut outcome) => {
                outcome.worker = worker;
                self.executions.fetch_add(1, Ordering::Relaxed);
                let wrote_new = {
                    let mut slot = self.slots[tx].lock().unwrap();
                    let previous = slot.as_ref().map_or(&[][..], |o| &o.writes);
                    let wrote_new = self.mv.record(tx, previous, &outcome.writes)
                        | self.mv.record_fee(tx, outcome.fee);
                    *slot = Some(outcome);
                    wrote_new
                };
                self.judge();
                self.scheduler.finish_execution(tx, incarnation, wrote_new)
            }
        }
    }

    fn validate(&self, tx: usize, incarnation: usize) -> Option<Task> {
        self.validations.fetch_add(1, Ordering::Relaxed);
        let slot = self.slots[tx].lock().unwrap();
        let valid = slot
            .as_ref()
            .is_some_and(|o| o.reads.iter().all(|read| self.mv.still_valid(tx, read)));
        let aborted = !valid && self.scheduler.try_validation_abort(tx, incarnation);
        if aborted {
            self.conflict();
            if let Some(o) = slot.as_ref() {
                self.mv.mark_estimates(tx, &o.writes);
            }
        }
        drop(slot);
        self.scheduler.finish_validation(tx, aborted)
    }

    fn conflict(&self) {
        self.conflicts.fetch_add(1, Ordering::Relaxed);
        self.judge();
    }

    /// Early in the block, gives up when conflicts waste most of the work:
    /// such a block is faster sequentially. Judged on conflicts as well as
    /// executions, so a block whose every transaction waits on the one
    /// before bails within a few dozen tries (about half of them wasted,
    /// where independent ones waste none), not after a window of
    /// executions that costs as much as running it sequentially.
    fn judge(&self) {
        if !self.may_bail {
            return;
        }
        let n = self.block.transactions.len() as u64;
        let executions = self.executions.load(Ordering::Relaxed);
        let conflicts = self.conflicts.load(Ordering::Relaxed);
        let early = executions <= BAIL_WINDOW.max(n / 8);
        if early && executions + conflicts >= BAIL_WINDOW && 5 * conflicts > 2 * executions {
            self.bailed.store(true, Ordering::Relaxed);
            self.scheduler.halt();
        }
    }
}
