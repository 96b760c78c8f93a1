//! Runs a generated block with the executor a cell asks for, and the
//! per-iteration metrics that put it in context: speedup over sequential
//! (a parallel iteration against a sequential run made just before it, in
//! the same worker), Block-STM work per transaction, headroom.

use crate::registry::text_param;
use crate::worker::page_faults;
use crate::{Iteration, WorkloadError};
use gaslab_evm::{
    dependency_headroom, execute_parallel_with, execute_sequential, Block, Headroom,
    ParallelOptions, Phases, PreState,
};
use gaslab_protocol::CellSpec;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Sequential runs at setup behind the reference digest and the recorded
/// baseline (the fastest counts).
const BASELINE_RUNS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Executor {
    Sequential,
    Parallel { threads: usize },
}

impl Executor {
    pub fn from_spec(spec: &CellSpec) -> Result<Self, WorkloadError> {
        match text_param(spec, "executor")? {
            "sequential" => Ok(Self::Sequential),
            "parallel" => Ok(Self::Parallel {
                threads: spec.threads.max(1),
            }),
            other => Err(WorkloadError::BadParam {
                name: "executor".into(),
                reason: format!("`{other}` is neither `sequential` nor `parallel`"),
            }),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Sequential => "sequential",
            Self::Parallel { .. } => "parallel",
        }
    }
}

/// A block, its pre-state, and what the lab learned about it at setup.
pub struct BlockRun {
    block: Block,
    pre: PreState,
    executor: Executor,
    /// What the parallel executor may assume (lazy tokens).
    options: ParallelOptions,
    /// Digest of the sequential result: every iteration must match it.
    reference_digest: String,
    /// The fastest sequential run at setup: the speedup baseline of a
    /// sequential cell, and recorded in the cell's info.
    sequential_wall: Duration,
    /// A parallel cell's sequential run just before the iteration.
    paired_sequential_wall: Option<Duration>,
    /// The page faults that run took: an allocator that gives memory back
    /// between blocks (glibc, on the swap block) makes the sequential run
    /// fault tens of megabytes in again, which is part of a speedup.
    paired_sequential_faults: Option<u64>,
    headroom: Headroom,
}

impl BlockRun {
    /// Executes the block sequentially (the reference result and the
    /// speedup baseline) and in order with read/write tracking (headroom).
    pub fn new(
        block: Block,
        pre: PreState,
        executor: Executor,
        options: ParallelOptions,
    ) -> Result<Self, WorkloadError> {
        let mut reference_digest = String::new();
        let mut sequential_wall = Duration::MAX;
        for _ in 0..BASELINE_RUNS {
            let start = Instant::now();
            let out = execute_sequential(&block, &pre)?;
            sequential_wall = sequential_wall.min(start.elapsed());
            reference_digest = out.digest();
        }
        let headroom = dependency_headroom(&block, &pre, &options)?;
        Ok(Self {
            block,
            pre,
            executor,
            options,
            reference_digest,
            sequential_wall,
            paired_sequential_wall: None,
            paired_sequential_faults: None,
            headroom,
        })
    }

    pub fn block(&self) -> &Block {
        &self.block
    }

    pub fn info(&self, mut info: BTreeMap<String, String>) -> BTreeMap<String, String> {
        info.insert("txs".into(), self.block.transactions.len().to_string());
        info.insert(
            "gas_limit_sum".into(),
            self.block.gas_limit_sum().to_string(),
        );
        info.insert("accounts".into(), self.pre.len().to_string());
        info.insert("executor".into(), self.executor.name().into());
        info.insert(
            "sequential_baseline_ns".into(),
            self.sequential_wall.as_nanos().to_string(),
        );
        info.insert("dag_work_gas".into(), self.headroom.total_work.to_string());
        info.insert(
            "dag_critical_path_gas".into(),
            self.headroom.critical_path.to_string(),
        );
        info
    }

    /// A parallel cell runs the block sequentially, untimed by the lab, for
    /// the next iteration's speedup: taking turns, as the replay does, where
    /// a baseline from setup met every sample with the machine as it was
    /// then (and its fastest run against each sample's own).
    pub fn before_iteration(&mut self) -> Result<(), WorkloadError> {
        if let Executor::Parallel { .. } = self.executor {
            let (faults, start) = (page_faults(), Instant::now());
            let out = execute_sequential(&self.block, &self.pre)?;
            self.paired_sequential_wall = Some(start.elapsed());
            self.paired_sequential_faults = faults
                .zip(page_faults())
                .map(|(before, after)| after.saturating_sub(before));
            drop(out);
        }
        Ok(())
    }

    pub fn iterate(&self) -> Result<Iteration<'_>, WorkloadError> {
        let threads = match self.executor {
            Executor::Sequential => 1,
            Executor::Parallel { threads } => threads,
        };
        let mut metrics = BTreeMap::from([
            ("headroom".to_string(), self.headroom.ideal_speedup(threads)),
            (
                "dag_parallelism".to_string(),
                self.headroom.ideal_speedup(usize::MAX),
            ),
        ]);
        let start = Instant::now();
        let out = match self.executor {
            Executor::Sequential => execute_sequential(&self.block, &self.pre)?,
            Executor::Parallel { threads } => {
                let (out, stats) =
                    execute_parallel_with(&self.block, &self.pre, threads, &self.options)?;
                let txs = (stats.transactions as f64).max(1.0);
                metrics.insert(
                    "re_executions_per_tx".into(),
                    stats.re_executions() as f64 / txs,
                );
                metrics.insert("validations_per_tx".into(), stats.validations as f64 / txs);
                metrics.insert("conflicts_per_tx".into(), stats.conflicts as f64 / txs);
                metrics.insert(
                    "fell_back_to_sequential".into(),
                    stats.fallback.is_some() as u8 as f64,
                );
                // Absent when no thread was started: nothing to split.
                let p = stats.phases;
                if p != Phases::default() {
                    for (name, ns) in [
                        ("phase_setup_ms", p.setup_ns),
                        ("phase_spawn_ms", p.spawn_ns),
                        ("phase_execute_ms", p.execute_ns),
                        ("phase_fold_ms", p.fold_ns),
                        ("phase_finish_ms", p.finish_ns),
                    ] {
                        metrics.insert(name.into(), ns as f64 / 1e6);
                    }
                }
                out
            }
        };
        let wall = start.elapsed();
        let baseline = self.paired_sequential_wall.unwrap_or(self.sequential_wall);
        metrics.insert(
            "speedup_vs_sequential".into(),
            baseline.as_secs_f64() / wall.as_secs_f64().max(1e-12),
        );
        if let Some(faults) = self.paired_sequential_faults {
            metrics.insert("paired_sequential_page_faults".into(), faults as f64);
        }
        Ok(Iteration {
            gas: out.gas_used,
            work_units: out.receipts.len() as u64,
            check: Box::new(move || {
                let digest = out.digest();
                if digest != self.reference_digest {
                    return Err(WorkloadError::Failed(format!(
                        "{} executor produced digest {digest}, sequential produced {}",
                        self.executor.name(),
                        self.reference_digest
                    )));
                }
                Ok(digest)
            }),
            metrics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evm::transfers;

    #[test]
    fn a_parallel_cell_pairs_each_iteration_with_a_sequential_run() {
        let (block, pre) = transfers::generate(64, 1, 0.0);
        let parallel = Executor::Parallel { threads: 2 };
        let mut run =
            BlockRun::new(block.clone(), pre.clone(), parallel, Default::default()).unwrap();
        assert_eq!(run.paired_sequential_wall, None);
        run.before_iteration().unwrap();
        let paired = run
            .paired_sequential_wall
            .expect("a sequential run beside it");
        assert!(paired > Duration::ZERO);
        let metrics = run.iterate().unwrap().metrics;
        let speedup = metrics["speedup_vs_sequential"];
        assert!(speedup.is_finite() && speedup > 0.0, "{speedup}");
        // Counted on Linux, where getrusage reports faults.
        assert!(metrics.contains_key("paired_sequential_page_faults"));

        // A sequential cell is its own baseline: no extra run.
        let mut sequential =
            BlockRun::new(block, pre, Executor::Sequential, Default::default()).unwrap();
        sequential.before_iteration().unwrap();
        assert_eq!(sequential.paired_sequential_wall, None);
        let metrics = sequential.iterate().unwrap().metrics;
        assert!(!metrics.contains_key("paired_sequential_page_faults"));
    }
}
