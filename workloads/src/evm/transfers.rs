//! `evm.transfers`: a block of plain ETH value transfers.

use super::chain::{block_context, call, random_address};
use crate::registry::int_param;
use crate::{Iteration, Workload, WorkloadError};
use gaslab_evm::revm::primitives::{Bytes, U256};
use gaslab_evm::{execute_sequential, Block, PreState};
use gaslab_protocol::CellSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

pub const TRANSFER_GAS: u64 = 21_000;
/// Enough for one gigagas block and then some.
pub const MAX_TXS: i64 = 100_000;

/// A block of `txs` transfers from distinct senders to distinct recipients,
/// and the pre-state that funds them. Deterministic in `seed`.
pub fn generate(txs: usize, seed: u64) -> (Block, PreState) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pre = PreState::new();
    let mut transactions = Vec::with_capacity(txs);
    let funding = U256::from(10u128.pow(18));
    for _ in 0..txs {
        let sender = random_address(&mut rng);
        let recipient = random_address(&mut rng);
        pre.insert_account(sender, funding, 0, Bytes::new());
        let value = U256::from(rng.random_range(1..1_000_000_000_000_000u64));
        transactions.push(call(sender, 0, recipient, value, TRANSFER_GAS));
    }
    let block = Block {
        context: block_context(txs as u64 * TRANSFER_GAS),
        transactions,
    };
    (block, pre)
}

pub struct TransfersWorkload {
    block: Block,
    pre: PreState,
}

impl TransfersWorkload {
    pub fn new(spec: &CellSpec) -> Result<Self, WorkloadError> {
        let txs = int_param(spec, "txs", 1..=MAX_TXS)? as usize;
        let seed = int_param(spec, "seed", 0..=i64::MAX)? as u64;
        let (block, pre) = generate(txs, seed);
        Ok(Self { block, pre })
    }
}

impl Workload for TransfersWorkload {
    fn info(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("txs".into(), self.block.transactions.len().to_string()),
            (
                "gas_limit_sum".into(),
                self.block.gas_limit_sum().to_string(),
            ),
            ("accounts".into(), self.pre.len().to_string()),
            ("executor".into(), "sequential".into()),
        ])
    }

    fn iterate(&mut self) -> Result<Iteration, WorkloadError> {
        let out = execute_sequential(&self.block, &self.pre)?;
        Ok(Iteration {
            gas: out.gas_used,
            work_units: out.receipts.len() as u64,
            digest: out.digest(),
            metrics: BTreeMap::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_in_the_seed() {
        let (a, _) = generate(50, 7);
        let (b, _) = generate(50, 7);
        let (c, _) = generate(50, 8);
        let callers = |blk: &Block| {
            blk.transactions
                .iter()
                .map(|t| t.caller)
                .collect::<Vec<_>>()
        };
        assert_eq!(callers(&a), callers(&b));
        assert_ne!(callers(&a), callers(&c));
    }

    #[test]
    fn every_transfer_succeeds_and_moves_value() {
        let (block, pre) = generate(100, 1);
        let out = execute_sequential(&block, &pre).unwrap();
        assert_eq!(out.gas_used, 100 * TRANSFER_GAS);
        assert!(out
            .receipts
            .iter()
            .all(|r| r.success && r.gas_used == TRANSFER_GAS));
        let tx = &block.transactions[0];
        let recipient = tx.kind.to().copied().unwrap();
        assert_eq!(out.changes[&recipient].balance, tx.value);
        let sender = &out.changes[&tx.caller];
        assert_eq!(sender.nonce, 1);
        // sender paid value + 21000 * gas price
        let paid = U256::from(10u128.pow(18)) - sender.balance;
        assert_eq!(
            paid,
            tx.value + U256::from(TRANSFER_GAS as u128 * tx.gas_price)
        );
        // coinbase got the tips: (gas price - base fee) * gas
        let tip = (tx.gas_price - super::super::chain::BASE_FEE as u128) * TRANSFER_GAS as u128;
        assert_eq!(
            out.changes[&super::super::chain::COINBASE].balance,
            U256::from(tip * 100)
        );
    }

    #[test]
    fn digest_is_stable_across_runs_and_changes_with_the_block() {
        let (block, pre) = generate(20, 3);
        let a = execute_sequential(&block, &pre).unwrap().digest();
        let b = execute_sequential(&block, &pre).unwrap().digest();
        assert_eq!(a, b);
        let (other, pre2) = generate(20, 4);
        assert_ne!(a, execute_sequential(&other, &pre2).unwrap().digest());
    }
}
