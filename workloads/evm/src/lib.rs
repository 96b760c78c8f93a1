//! EVM block execution over revm: a block and a pre-state in, receipts and a
//! state diff out.
//!
//! This crate knows nothing of workloads, allocators or the harness; the
//! synthetic generators, mainnet replay and the proving workloads all call it.

mod block;
mod block_cache;
mod output;
mod parallel;
mod prestate;
mod sequential;

pub use block::{Block, BlockContext};
pub use output::{AccountChange, BlockOutput, Receipt, SlotChanges, StateDiff};
pub use parallel::{
    dependency_headroom, execute_parallel, execute_parallel_with, Fallback, Headroom, LazyToken,
    ParallelOptions, ParallelStats, Phases, MIN_PARALLEL_TXS,
};
pub use prestate::{PreState, PreStateError};
pub use sequential::{execute_sequential, execute_sequential_on};

/// Re-exported so callers build transactions with the same revm we execute on.
pub use revm;

/// Why a block could not be executed.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    #[error("transaction {index} is invalid: {reason}")]
    InvalidTransaction { index: usize, reason: String },
    #[error("transaction {index} failed in the database: {reason}")]
    Database { index: usize, reason: String },
    #[error("the state diff could not read the pre-state: {reason}")]
    StateDiff { reason: String },
    #[error("block gas limit {limit} exceeded at transaction {index} (cumulative {used})")]
    BlockGasLimit { index: usize, used: u64, limit: u64 },
}
