//! The contract every workload fulfils.

use std::collections::BTreeMap;

/// What one measured iteration did.
pub struct Iteration<'a> {
    pub gas: u64,
    /// Workload-specific units: transactions, permutations, proofs.
    pub work_units: u64,
    /// Run once the sample's timing has stopped: the digest of everything
    /// the iteration produced, identical across iterations, executors and
    /// allocators or the cell fails (and the check against the known answer,
    /// where the workload has one). Checking the result is the lab's work,
    /// not the workload's; a node would hand the output on, not hash it.
    pub check: Check<'a>,
    pub metrics: BTreeMap<String, f64>,
}

pub type Check<'a> = Box<dyn FnOnce() -> Result<String, WorkloadError> + 'a>;

impl std::fmt::Debug for Iteration<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iteration")
            .field("gas", &self.gas)
            .field("work_units", &self.work_units)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

impl Iteration<'_> {
    /// Runs the check: the iteration's digest, or why its result is wrong.
    pub fn digest(self) -> Result<String, WorkloadError> {
        (self.check)()
    }
}

/// A workload set up from a cell spec; `iterate` is the measured part.
pub trait Workload {
    /// Facts about the generated input, recorded with the cell.
    fn info(&self) -> BTreeMap<String, String>;
    /// One measured iteration. Everything the metric counts happens here,
    /// including dropping what it built, except its output, which goes to
    /// the untimed check.
    fn iterate(&mut self) -> Result<Iteration<'_>, WorkloadError>;
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
