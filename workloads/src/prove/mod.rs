//! Proving workloads: what zk provers spend their cycles on, run natively.

pub mod keccak;
pub mod stark;
pub mod stateless;
