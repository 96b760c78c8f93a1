//! gaslab's workloads and the worker loop that measures them.
//!
//! Each `worker-<allocator>` binary sets its global allocator, says how to ask
//! that allocator who it is, and hands over to [`worker::main`].

pub mod allocator;
pub mod counters;
pub mod evm;
pub mod prove;
pub mod registry;
pub mod sched;
pub mod slowdown;
pub mod worker;
pub mod workload;

pub use workload::{Iteration, Workload, WorkloadError};
