//! Real Ethereum mainnet blocks as a workload and a command.
//!
//! A block folder (the JSON-RPC block, geth's prestateTracer pre-state and
//! the BLOCKHASH ancestors) is loaded with alloy's types, executed by a
//! `gaslab-evm` executor and checked against the chain's own header: gas
//! used, logs bloom and, from Byzantium on, the receipts root. Nobody here
//! wrote that oracle, which is the point.

mod error;
pub mod hardfork;
mod json_file;
pub mod load;
mod pre_state;
pub mod verify;

pub use error::{MainnetError, Mismatch};
pub use load::{expand, load, MainnetBlock};
pub mod executor;
pub mod replay;
