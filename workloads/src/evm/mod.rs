//! EVM workloads: generated blocks executed by `gaslab-evm`.

pub mod chain;
pub mod transfers;
