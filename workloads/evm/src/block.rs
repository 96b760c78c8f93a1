//! What a block is to an executor: its environment, its hardfork and its
//! transactions, all in revm's own types.

use revm::context::{BlockEnv, TxEnv};
use revm::primitives::hardfork::SpecId;

/// The environment every transaction of a block runs in.
#[derive(Debug, Clone)]
pub struct BlockContext {
    pub env: BlockEnv,
    pub spec: SpecId,
    pub chain_id: u64,
}

/// A block ready to execute. Senders are already known (`TxEnv::caller`).
#[derive(Debug, Clone)]
pub struct Block {
    pub context: BlockContext,
    pub transactions: Vec<TxEnv>,
}

impl Block {
    /// Sum of the transactions' gas limits: an upper bound on the gas used.
    pub fn gas_limit_sum(&self) -> u64 {
        self.transactions.iter().map(|tx| tx.gas_limit).sum()
    }
}
