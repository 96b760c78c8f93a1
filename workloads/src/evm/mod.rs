//! EVM workloads: generated blocks executed by `gaslab-evm`.

pub mod amm;
pub mod chain;
pub mod contracts;
pub mod erc20;
pub mod executor;
pub mod mainnet;
pub mod transfers;
