//! One block: execute it with each executor, time the runs, verify every
//! run against the header and the others against the first executor.

use crate::executor::{run, Executor};
use crate::hardfork;
use crate::verify::{compare_outputs, verify_header};
use crate::{MainnetBlock, MainnetError, Mismatch};
use gaslab_evm::{dependency_headroom, Fallback, ParallelOptions, ParallelStats};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct BlockRow {
    pub block: String,
    pub hardfork: String,
    pub txs: usize,
    pub gas: u64,
    /// Median wall time per executor, in ms; None where it did not run.
    pub sequential_ms: Option<f64>,
    pub parallel_ms: Option<f64>,
    /// The block's own limit at `threads`: min(threads, gas / gas on its
    /// critical path) from the sequential run's dependency DAG, so a low
    /// speedup reads against what the block allows. Where the parallel
    /// executor ran.
    pub headroom: Option<f64>,
    /// How the parallel executor took the block: `parallel`, or why it ran
    /// it (or its rest, `too_dependent`) sequentially, the path of
    /// most runs, with how many of them took it when they differ (whether
    /// a block is given up early depends on timing).
    pub parallel_path: Option<String>,
    /// Median re-executions per transaction of the parallel runs.
    pub re_executions_per_tx: Option<f64>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Match,
    Mismatch { reason: String },
    Unreadable { reason: String },
}

impl Verdict {
    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::Match => None,
            Verdict::Mismatch { reason } | Verdict::Unreadable { reason } => Some(reason),
        }
    }
}

impl BlockRow {
    pub fn unreadable(dir: &Path, error: MainnetError) -> Self {
        let verdict = match error {
            MainnetError::Mismatch(m) => Verdict::Mismatch {
                reason: m.to_string(),
            },
            other => Verdict::Unreadable {
                reason: other.to_string(),
            },
        };
        BlockRow {
            block: dir.display().to_string(),
            hardfork: "-".into(),
            txs: 0,
            gas: 0,
            sequential_ms: None,
            parallel_ms: None,
            headroom: None,
            parallel_path: None,
            re_executions_per_tx: None,
            verdict,
        }
    }

    /// Parallel over sequential, where both ran.
    pub fn speedup(&self) -> Option<f64> {
        Some(self.sequential_ms? / self.parallel_ms?)
    }
}

/// Executes `block` `runs` times with each executor, taking turns so that
/// a machine slowing down for a while slows both alike; the first executor
/// is the reference the others must reproduce exactly.
pub fn measure_block(
    block: &MainnetBlock,
    executors: &[Executor],
    threads: usize,
    runs: u32,
) -> BlockRow {
    let mut row = BlockRow {
        block: block.number.to_string(),
        hardfork: hardfork::name(block.spec).into(),
        txs: block.block.transactions.len(),
        gas: block.gas_used(),
        sequential_ms: None,
        parallel_ms: None,
        headroom: None,
        parallel_path: None,
        re_executions_per_tx: None,
        verdict: Verdict::Match,
    };
    let mut parallel_runs = Vec::with_capacity(runs as usize);
    let mut reference = None;
    let mut times: Vec<Vec<_>> = (0..executors.len())
        .map(|_| Vec::with_capacity(runs as usize))
        .collect();
    for _ in 0..runs {
        for (&executor, times) in executors.iter().zip(&mut times) {
            let start = Instant::now();
            let result = run(executor, &block.block, &block.pre, threads);
            times.push(start.elapsed().as_secs_f64() * 1e3);
            let checked = result
                .map_err(|e| Mismatch {
                    block: block.number,
                    tx: execution_error_tx(&e),
                    field: "execution".into(),
                    detail: format!("{} executor: {e}", executor.name()),
                })
                .and_then(|(out, stats)| {
                    parallel_runs.extend(stats);
                    verify_header(block, &out)?;
                    if let Some(reference) = &reference {
                        compare_outputs(block.number, reference, &out)?;
                    }
                    Ok(out)
                });
            match checked {
                Ok(out) => {
                    reference.get_or_insert(out);
                }
                Err(m) => {
                    row.verdict = Verdict::Mismatch {
                        reason: m.to_string(),
                    };
                    return row;
                }
            }
        }
    }
    for (&executor, mut times) in executors.iter().zip(times) {
        let median = median(&mut times);
        match executor {
            Executor::Sequential => row.sequential_ms = Some(median),
            Executor::Parallel => {
                row.parallel_ms = Some(median);
                // Untimed; the block executed, so its DAG can be measured.
                row.headroom =
                    dependency_headroom(&block.block, &block.pre, &ParallelOptions::default())
                        .ok()
                        .map(|h| h.ideal_speedup(threads));
            }
        }
    }
    if !parallel_runs.is_empty() {
        row.parallel_path = Some(usual_path(&parallel_runs));
        let mut re_executions: Vec<f64> = parallel_runs
            .iter()
            .map(|s| s.re_executions() as f64 / s.transactions.max(1) as f64)
            .collect();
        row.re_executions_per_tx = Some(median(&mut re_executions));
    }
    row
}

/// The path most runs took, and "k/n" of them when not all did.
fn usual_path(runs: &[ParallelStats]) -> String {
    let name = |s: &ParallelStats| s.fallback.map_or("parallel", Fallback::name);
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for run in runs {
        match counts.iter_mut().find(|(path, _)| *path == name(run)) {
            Some((_, count)) => *count += 1,
            None => counts.push((name(run), 1)),
        }
    }
    let (path, count) = counts
        .into_iter()
        .max_by_key(|&(_, count)| count)
        .expect("at least one run");
    if count == runs.len() {
        path.to_string()
    } else {
        format!("{path} {count}/{}", runs.len())
    }
}

fn execution_error_tx(e: &gaslab_evm::ExecutionError) -> Option<usize> {
    use gaslab_evm::ExecutionError::*;
    match e {
        InvalidTransaction { index, .. } | Database { index, .. } | BlockGasLimit { index, .. } => {
            Some(*index)
        }
        StateDiff { .. } => None,
    }
}

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    let mid = times.len() / 2;
    if times.len() % 2 == 1 {
        times[mid]
    } else {
        (times[mid - 1] + times[mid]) / 2.0
    }
}
