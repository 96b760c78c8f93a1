//! EVM workloads: generated blocks executed by `gaslab-evm`.

pub mod chain;
pub mod mainnet;
pub mod transfers;
