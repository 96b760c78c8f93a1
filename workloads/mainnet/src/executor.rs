//! The one place that picks an executor for mainnet blocks, for both
//! `replay` and the `evm.mainnet` workload.
//!
//! Sequential always runs first when both are asked for: it is the
//! reference the parallel output is checked against.

use gaslab_evm::{Block, BlockOutput, ExecutionError, ParallelStats, PreState};

/// Which executors a run asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExecutorChoice {
    Sequential,
    Parallel,
    /// Both, and the parallel output checked against the sequential one.
    Both,
}

/// An executor this build can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Executor {
    Sequential,
    Parallel,
}

impl ExecutorChoice {
    pub fn parse(text: &str) -> Option<Self> {
        <Self as clap::ValueEnum>::from_str(text, false).ok()
    }

    /// The executors to run, reference first, or why they cannot run.
    pub fn executors(self) -> Result<Vec<Executor>, &'static str> {
        match self {
            ExecutorChoice::Sequential => Ok(vec![Executor::Sequential]),
            ExecutorChoice::Parallel => Ok(vec![Executor::Parallel]),
            ExecutorChoice::Both => Ok(vec![Executor::Sequential, Executor::Parallel]),
        }
    }
}

impl Executor {
    pub fn name(self) -> &'static str {
        match self {
            Executor::Sequential => "sequential",
            Executor::Parallel => "parallel",
        }
    }
}

/// Executes `block` on `pre` with `executor`; `threads` is for executors
/// that use them. The parallel executor also says how it went.
pub fn run(
    executor: Executor,
    block: &Block,
    pre: &PreState,
    threads: usize,
) -> Result<(BlockOutput, Option<ParallelStats>), ExecutionError> {
    match executor {
        Executor::Sequential => gaslab_evm::execute_sequential(block, pre).map(|out| (out, None)),
        Executor::Parallel => {
            gaslab_evm::execute_parallel(block, pre, threads).map(|(out, stats)| (out, Some(stats)))
        }
    }
}
