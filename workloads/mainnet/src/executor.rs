//! The one place that picks an executor for mainnet blocks, for both
//! `replay` and the `evm.mainnet` workload.
//!
//! The parallel executor is not part of gaslab-evm in this build; asking
//! for it is refused up front by [`ExecutorChoice::executors`]. Wiring it
//! in is an `Executor::Parallel` variant, its arm in [`run`], and the two
//! arms of `executors` that refuse today.

use gaslab_evm::{Block, BlockOutput, ExecutionError, PreState};

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
}

pub const PARALLEL_UNAVAILABLE: &str = "parallel executor not available in this build";

impl ExecutorChoice {
    pub fn parse(text: &str) -> Option<Self> {
        <Self as clap::ValueEnum>::from_str(text, false).ok()
    }

    /// The executors to run, reference first, or why they cannot run.
    pub fn executors(self) -> Result<Vec<Executor>, &'static str> {
        match self {
            ExecutorChoice::Sequential => Ok(vec![Executor::Sequential]),
            ExecutorChoice::Parallel | ExecutorChoice::Both => Err(PARALLEL_UNAVAILABLE),
        }
    }
}

impl Executor {
    pub fn name(self) -> &'static str {
        match self {
            Executor::Sequential => "sequential",
        }
    }
}

/// Executes `block` on `pre` with `executor`; `threads` is for executors
/// that use them.
pub fn run(
    executor: Executor,
    block: &Block,
    pre: &PreState,
    threads: usize,
) -> Result<BlockOutput, ExecutionError> {
    let _ = threads;
    match executor {
        Executor::Sequential => gaslab_evm::execute_sequential(block, pre),
    }
}
