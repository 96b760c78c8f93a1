//! The Block-STM scheduler: hands out execution and validation tasks in
//! transaction order, re-schedules a transaction whose reads went stale, and
//! parks one that read an estimate until its blocker has re-executed.

use super::line::OneLine;
use super::memory::TxIdx;
use crossbeam_utils::CachePadded;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Transactions claimed from a shared index at once while the block shows
/// no conflict. Each claim moves the index's line to the claiming core:
/// claimed one at a time, twice a transaction (execution, then validation),
/// those moves were a tenth of a block of transfers' time at two threads.
/// Once a transaction has had to wait or run again, claims are single:
/// runs of neighbours on one core made mainnet blocks with conflicts run
/// more transactions again (0.06 to 0.10 a transaction on one).
const CLAIM: usize = 8;

/// A worker's claimed and not yet taken executions and validations. While
/// it holds either, the worker counts one task more, so the block cannot be
/// found done with a claimed transaction not yet run.
#[derive(Debug, Default)]
pub(crate) struct Claimed {
    execute: Range<TxIdx>,
    validate: Range<TxIdx>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    ReadyToExecute,
    Executing,
    Executed,
    Aborting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Task {
    Execute(TxIdx, usize),
    Validate(TxIdx, usize),
}

struct TxState {
    incarnation: usize,
    status: Status,
}

/// Every counter and every transaction's state on a cache line of its own:
/// neighbouring transactions run at once on different cores, and sharing a
/// line would bounce it between them on every status change.
pub(crate) struct Scheduler {
    n: usize,
    execution_idx: CachePadded<AtomicUsize>,
    validation_idx: CachePadded<AtomicUsize>,
    decrease_cnt: CachePadded<AtomicUsize>,
    /// The tasks each worker holds, counted on the worker's own line: one
    /// count that every worker changed four times a transaction bounced its
    /// line between all the cores. Only the check for the end adds them up.
    active: Vec<CachePadded<AtomicUsize>>,
    done: CachePadded<AtomicBool>,
    /// Some transaction waited on another or was aborted: claims are single.
    conflicted: CachePadded<AtomicBool>,
    txs: Vec<OneLine<TxSlot>>,
}

/// Half the memory of a two-line cell, 47619 times in a block of transfers.
const _: () = assert!(std::mem::size_of::<OneLine<TxSlot>>() == 64);

struct TxSlot {
    state: Mutex<TxState>,
    dependents: Mutex<Vec<TxIdx>>,
}

impl Scheduler {
    pub(crate) fn new(n: usize, workers: usize) -> Self {
        Self {
            n,
            execution_idx: CachePadded::new(AtomicUsize::new(0)),
            validation_idx: CachePadded::new(AtomicUsize::new(0)),
            decrease_cnt: CachePadded::new(AtomicUsize::new(0)),
            active: (0..workers)
                .map(|_| CachePadded::new(AtomicUsize::new(0)))
                .collect(),
            done: CachePadded::new(AtomicBool::new(n == 0)),
            conflicted: CachePadded::new(AtomicBool::new(false)),
            txs: (0..n)
                .map(|_| {
                    OneLine(TxSlot {
                        state: Mutex::new(TxState {
                            incarnation: 0,
                            status: Status::ReadyToExecute,
                        }),
                        dependents: Mutex::default(),
                    })
                })
                .collect(),
        }
    }

    pub(crate) fn done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Takes `tx` out of order (before the execution index reaches it), if
    /// nobody has yet.
    pub(crate) fn execute_ahead(&self, worker: usize, tx: TxIdx) -> Option<Task> {
        self.took_task(worker);
        self.try_incarnate(worker, tx)
    }

    fn took_task(&self, worker: usize) {
        self.active[worker].fetch_add(1, Ordering::SeqCst);
    }

    /// Only `worker` writes its count, so it ends a task with a plain store:
    /// the check for the end that reads a count not yet lowered only checks
    /// again, where an atomic change waited for this core's pending writes.
    fn ended_task(&self, worker: usize) {
        let active = &self.active[worker];
        active.store(active.load(Ordering::Relaxed) - 1, Ordering::Release);
    }

    /// Stops every worker (used when the executor gives up on a block).
    pub(crate) fn halt(&self) {
        self.done.store(true, Ordering::Release);
    }

    /// Whether `tx`'s last incarnation ran to its end and has not been
    /// aborted since (its writes are no estimates).
    pub(crate) fn executed(&self, tx: TxIdx) -> bool {
        self.txs[tx].state.lock().unwrap().status == Status::Executed
    }

    fn check_done(&self) {
        let observed = self.decrease_cnt.load(Ordering::SeqCst);
        if self
            .execution_idx
            .load(Ordering::SeqCst)
            .min(self.validation_idx.load(Ordering::SeqCst))
            >= self.n
            && self.active.iter().all(|a| a.load(Ordering::SeqCst) == 0)
            && observed == self.decrease_cnt.load(Ordering::SeqCst)
        {
            self.done.store(true, Ordering::Release);
        }
    }

    fn try_incarnate(&self, worker: usize, tx: TxIdx) -> Option<Task> {
        if tx < self.n {
            let mut s = self.txs[tx].state.lock().unwrap();
            if s.status == Status::ReadyToExecute {
                s.status = Status::Executing;
                return Some(Task::Execute(tx, s.incarnation));
            }
        }
        self.ended_task(worker);
        None
    }

    /// Claims up to `most` of the next transactions of `index` into
    /// `claimed` (the worker's hold on them counted as a task); false once
    /// it is past the block.
    fn claim(
        &self,
        worker: usize,
        index: &AtomicUsize,
        most: usize,
        claimed: &mut Range<TxIdx>,
    ) -> bool {
        if index.load(Ordering::SeqCst) >= self.n {
            self.check_done();
            return false;
        }
        self.took_task(worker);
        let size = if self.conflicted.load(Ordering::Relaxed) {
            1
        } else {
            most.clamp(1, CLAIM)
        };
        let first = index.fetch_add(size, Ordering::SeqCst);
        *claimed = first.min(self.n)..(first + size).min(self.n);
        if claimed.start >= claimed.end {
            self.ended_task(worker);
        }
        true
    }

    /// The next claimed transaction, as a task of its own; the hold on the
    /// claim ends with its last.
    fn take_claimed(&self, worker: usize, claimed: &mut Range<TxIdx>) -> Option<TxIdx> {
        let tx = claimed.next()?;
        if claimed.start >= claimed.end {
            // The hold passes to this task.
            return Some(tx);
        }
        self.took_task(worker);
        Some(tx)
    }

    fn validation_of(&self, worker: usize, tx: TxIdx) -> Option<Task> {
        let s = self.txs[tx].state.lock().unwrap();
        if s.status == Status::Executed {
            return Some(Task::Validate(tx, s.incarnation));
        }
        drop(s);
        self.ended_task(worker);
        None
    }

    /// The next task: a claimed validation, a claimed execution, or one of
    /// a new claim, of validations first when they lag behind executions.
    /// None once there is nothing to claim.
    pub(crate) fn next_task(&self, worker: usize, claimed: &mut Claimed) -> Option<Task> {
        loop {
            if let Some(tx) = self.take_claimed(worker, &mut claimed.validate) {
                match self.validation_of(worker, tx) {
                    Some(task) => return Some(task),
                    None => continue,
                }
            }
            if let Some(tx) = self.take_claimed(worker, &mut claimed.execute) {
                match self.try_incarnate(worker, tx) {
                    Some(task) => return Some(task),
                    None => continue,
                }
            }
            let validated = self.validation_idx.load(Ordering::SeqCst);
            let executed = self.execution_idx.load(Ordering::SeqCst);
            // Validations no further than executions were handed out: one
            // claimed past them finds its transaction not yet run, and that
            // transaction's first run (new writes) lowers the index again.
            let (index, most, into) = if validated < executed {
                (
                    &*self.validation_idx,
                    executed - validated,
                    &mut claimed.validate,
                )
            } else {
                (&*self.execution_idx, CLAIM, &mut claimed.execute)
            };
            if !self.claim(worker, index, most, into) {
                return None;
            }
        }
    }

    /// `tx` read an estimate written by `blocker`: park it until `blocker`
    /// has executed again. False if `blocker` already finished (retry now).
    pub(crate) fn add_dependency(&self, worker: usize, tx: TxIdx, blocker: TxIdx) -> bool {
        let mut deps = self.txs[blocker].dependents.lock().unwrap();
        if self.txs[blocker].state.lock().unwrap().status == Status::Executed {
            return false;
        }
        {
            let mut s = self.txs[tx].state.lock().unwrap();
            s.status = Status::Aborting;
        }
        self.conflicted.store(true, Ordering::Relaxed);
        deps.push(tx);
        drop(deps);
        self.ended_task(worker);
        true
    }

    fn set_ready(&self, tx: TxIdx) {
        let mut s = self.txs[tx].state.lock().unwrap();
        s.incarnation += 1;
        s.status = Status::ReadyToExecute;
    }

    fn decrease_execution_idx(&self, target: TxIdx) {
        self.execution_idx.fetch_min(target, Ordering::SeqCst);
        self.decrease_cnt.fetch_add(1, Ordering::SeqCst);
    }

    fn decrease_validation_idx(&self, target: TxIdx) {
        self.validation_idx.fetch_min(target, Ordering::SeqCst);
        self.decrease_cnt.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn finish_execution(
        &self,
        worker: usize,
        tx: TxIdx,
        incarnation: usize,
        wrote_new: bool,
    ) -> Option<Task> {
        self.txs[tx].state.lock().unwrap().status = Status::Executed;
        let dependents = std::mem::take(&mut *self.txs[tx].dependents.lock().unwrap());
        let mut lowest = usize::MAX;
        for d in dependents {
            self.set_ready(d);
            lowest = lowest.min(d);
        }
        if lowest != usize::MAX {
            self.decrease_execution_idx(lowest);
        }
        // Validations that passed `tx` before it ran: it is validated here,
        // on the core that holds its reads, and a new location sends every
        // transaction above it back to be validated again. (Lowering the
        // index to `tx` left its validation to whichever worker claimed it
        // next: the other core half the time, which read the transaction's
        // read list across cores.)
        if self.validation_idx.load(Ordering::SeqCst) > tx {
            if wrote_new {
                self.decrease_validation_idx(tx + 1);
            }
            return Some(Task::Validate(tx, incarnation));
        }
        self.ended_task(worker);
        None
    }

    /// Only the first failed validation of an incarnation aborts it.
    pub(crate) fn try_validation_abort(&self, tx: TxIdx, incarnation: usize) -> bool {
        let mut s = self.txs[tx].state.lock().unwrap();
        if s.incarnation == incarnation && s.status == Status::Executed {
            s.status = Status::Aborting;
            self.conflicted.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    pub(crate) fn finish_validation(
        &self,
        worker: usize,
        tx: TxIdx,
        aborted: bool,
    ) -> Option<Task> {
        if aborted {
            self.set_ready(tx);
            self.decrease_validation_idx(tx + 1);
            if self.execution_idx.load(Ordering::SeqCst) > tx {
                if let Some(task) = self.try_incarnate_kept(tx) {
                    return Some(task);
                }
            }
        }
        self.ended_task(worker);
        None
    }

    /// Like `try_incarnate`, but on failure leaves the task count alone
    /// (the caller still holds its task).
    fn try_incarnate_kept(&self, tx: TxIdx) -> Option<Task> {
        let mut s = self.txs[tx].state.lock().unwrap();
        if s.status == Status::ReadyToExecute {
            s.status = Status::Executing;
            return Some(Task::Execute(tx, s.incarnation));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two workers taking turns, one step each, until the scheduler is
    /// done: how often each transaction ran, and its validations after its
    /// last run. A first run writes new locations (it lowers the validation
    /// index where that had passed it). `abort_once` fails its
    /// transaction's first validation. No validation is ever handed out
    /// past the executions.
    fn run_block(n: usize, abort_once: Option<TxIdx>) -> (Vec<usize>, Vec<usize>, bool) {
        let scheduler = Scheduler::new(n, 2);
        let mut claimed = [Claimed::default(), Claimed::default()];
        let mut pending: [Option<Task>; 2] = [None, None];
        let (mut runs, mut validated) = (vec![0; n], vec![0; n]);
        let mut aborted_once = false;
        for step in 0..100 * n {
            if scheduler.done() {
                let single = scheduler.conflicted.load(Ordering::Relaxed);
                return (runs, validated, single);
            }
            let worker = step % 2;
            let task = pending[worker]
                .take()
                .or_else(|| scheduler.next_task(worker, &mut claimed[worker]));
            let (validations, executions) = (
                scheduler.validation_idx.load(Ordering::SeqCst),
                scheduler.execution_idx.load(Ordering::SeqCst),
            );
            assert!(
                validations <= executions,
                "step {step}: {validations} > {executions}"
            );
            pending[worker] = match task {
                Some(Task::Execute(tx, incarnation)) => {
                    runs[tx] += 1;
                    validated[tx] = 0;
                    let first = runs[tx] == 1;
                    scheduler.finish_execution(worker, tx, incarnation, first)
                }
                Some(Task::Validate(tx, incarnation)) => {
                    let fail = abort_once == Some(tx) && !aborted_once;
                    aborted_once |= fail;
                    let aborted = fail && scheduler.try_validation_abort(tx, incarnation);
                    if !aborted {
                        validated[tx] += 1;
                    }
                    scheduler.finish_validation(worker, tx, aborted)
                }
                None => None,
            };
        }
        panic!("the scheduler never finished {n} transactions");
    }

    #[test]
    fn claimed_runs_execute_and_validate_every_transaction_once_before_done() {
        for n in [1, 7, 8, 9, 20, 64] {
            let (runs, validated, _) = run_block(n, None);
            assert!(runs.iter().all(|&r| r == 1), "{n} txs ran {runs:?}");
            assert!(validated.iter().all(|&v| v >= 1), "{n} txs: {validated:?}");
        }
    }

    #[test]
    fn claims_are_runs_until_a_conflict_then_single() {
        let scheduler = Scheduler::new(40, 2);
        let index = |i: &AtomicUsize| i.load(Ordering::SeqCst);
        let mut first = Claimed::default();
        assert_eq!(
            scheduler.next_task(0, &mut first),
            Some(Task::Execute(0, 0))
        );
        assert_eq!(index(&scheduler.execution_idx), CLAIM);
        assert_eq!(scheduler.finish_execution(0, 0, 0, false), None);
        assert!(scheduler.try_validation_abort(0, 0));
        // The other worker walks the claimed validations one at a time (none
        // but the aborted one has run), then claims one execution.
        let mut second = Claimed::default();
        assert_eq!(
            scheduler.next_task(1, &mut second),
            Some(Task::Execute(CLAIM, 0))
        );
        assert_eq!(index(&scheduler.validation_idx), CLAIM);
        assert_eq!(index(&scheduler.execution_idx), CLAIM + 1);
    }

    #[test]
    fn a_transaction_run_after_validations_passed_it_is_validated_by_its_runner() {
        let scheduler = Scheduler::new(40, 2);
        let index = |i: &AtomicUsize| i.load(Ordering::SeqCst);
        let mut claimed = Claimed::default();
        assert_eq!(
            scheduler.next_task(0, &mut claimed),
            Some(Task::Execute(0, 0))
        );
        // Another worker's claim of validations passed 0 while it ran.
        scheduler.validation_idx.store(5, Ordering::SeqCst);
        // New writes: its runner validates it, and every transaction above
        // it is to be validated again.
        assert_eq!(
            scheduler.finish_execution(0, 0, 0, true),
            Some(Task::Validate(0, 0))
        );
        assert_eq!(index(&scheduler.validation_idx), 1);
        assert_eq!(scheduler.finish_validation(0, 0, false), None);
        // No new writes: validated by its runner, the index left alone.
        assert_eq!(
            scheduler.next_task(0, &mut claimed),
            Some(Task::Execute(1, 0))
        );
        scheduler.validation_idx.store(5, Ordering::SeqCst);
        assert_eq!(
            scheduler.finish_execution(0, 1, 0, false),
            Some(Task::Validate(1, 0))
        );
        assert_eq!(index(&scheduler.validation_idx), 5);
    }

    #[test]
    fn an_abort_re_runs_its_transaction_and_claims_turn_single() {
        let (runs, validated, single) = run_block(20, Some(11));
        assert_eq!(runs[11], 2, "{runs:?}");
        assert!(runs.iter().enumerate().all(|(tx, &r)| tx == 11 || r == 1));
        assert!(validated.iter().all(|&v| v >= 1), "{validated:?}");
        assert!(single);
    }
}
