//! The contract every workload fulfils.

use std::collections::BTreeMap;

/// What one measured iteration did.
#[derive(Debug, Clone, PartialEq)]
pub struct Iteration {
    pub gas: u64,
    /// Workload-specific units: transactions, permutations, proofs.
    pub work_units: u64,
    /// A digest of everything the iteration produced; identical across
    /// iterations, executors and allocators, or the cell fails.
    pub digest: String,
    pub metrics: BTreeMap<String, f64>,
}

/// A workload set up from a cell spec; `iterate` is the measured part.
pub trait Workload {
    /// Facts about the generated input, recorded with the cell.
    fn info(&self) -> BTreeMap<String, String>;
    /// One measured iteration. Everything the metric counts happens here,
    /// including dropping what it built.
    fn iterate(&mut self) -> Result<Iteration, WorkloadError>;
    /// Runs before each iteration, outside its timing. A workload whose
    /// metric compares against another run (parallel against sequential)
    /// makes that run here, beside the measured one, so a machine slowing
    /// for a while slows both alike.
    fn before_iteration(&mut self) -> Result<(), WorkloadError> {
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("unknown workload `{0}`")]
    UnknownWorkload(String),
    #[error("parameter `{name}`: {reason}")]
    BadParam { name: String, reason: String },
    #[error("execution failed: {0}")]
    Execution(#[from] gaslab_evm::ExecutionError),
    #[error("{0}")]
    Failed(String),
}
