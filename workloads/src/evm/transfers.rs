//! `evm.transfers`: a block of plain ETH value transfers.
//!
//! `conflict` is the fraction of transfers that share state: they all come
//! from one sender (a nonce chain through the block) and go to one recipient.

use super::chain::{block_context, call, random_address};
use super::executor::{BlockRun, Executor};
use crate::registry::{float_param, int_param};
use crate::{Iteration, Workload, WorkloadError};
use gaslab_evm::revm::primitives::{address, Address, Bytes, U256};
use gaslab_evm::{Block, PreState};
use gaslab_protocol::CellSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

pub const TRANSFER_GAS: u64 = 21_000;
/// Enough for one gigagas block and then some.
pub const MAX_TXS: i64 = 100_000;
pub const SHARED_SENDER: Address = address!("5a00000000000000000000000000000000000001");
pub const SHARED_RECIPIENT: Address = address!("5a00000000000000000000000000000000000002");

/// A block of `txs` transfers and the pre-state that funds them; a
/// `conflict` fraction share one sender and one recipient, the others are
/// between fresh accounts. Deterministic in `seed`.
pub fn generate(txs: usize, seed: u64, conflict: f64) -> (Block, PreState) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pre = PreState::new();
    let mut transactions = Vec::with_capacity(txs);
    let funding = U256::from(10u128.pow(18));
    pre.insert_account(SHARED_SENDER, funding * U256::from(txs), 0, Bytes::new());
    let mut shared_nonce = 0;
    for _ in 0..txs {
        let value = U256::from(rng.random_range(1..1_000_000_000_000_000u64));
        if rng.random_bool(conflict) {
            transactions.push(call(
                SHARED_SENDER,
                shared_nonce,
                SHARED_RECIPIENT,
                value,
                TRANSFER_GAS,
            ));
            shared_nonce += 1;
            continue;
        }
        let sender = random_address(&mut rng);
        let recipient = random_address(&mut rng);
        pre.insert_account(sender, funding, 0, Bytes::new());
        transactions.push(call(sender, 0, recipient, value, TRANSFER_GAS));
    }
    let block = Block {
        context: block_context(txs as u64 * TRANSFER_GAS),
        transactions,
    };
    (block, pre)
}

pub struct TransfersWorkload {
    run: BlockRun,
    conflict: f64,
}

impl TransfersWorkload {
    pub fn new(spec: &CellSpec) -> Result<Self, WorkloadError> {
        let txs = int_param(spec, "txs", 1..=MAX_TXS)? as usize;
        let seed = int_param(spec, "seed", 0..=i64::MAX)? as u64;
        let conflict = float_param(spec, "conflict", 0.0..=1.0)?;
        let (block, pre) = generate(txs, seed, conflict);
        let run = BlockRun::new(block, pre, Executor::from_spec(spec)?, Default::default())?;
        Ok(Self { run, conflict })
    }
}

impl Workload for TransfersWorkload {
    fn info(&self) -> BTreeMap<String, String> {
        self.run.info(BTreeMap::from([(
            "conflict".into(),
            self.conflict.to_string(),
        )]))
    }

    fn iterate(&mut self) -> Result<Iteration<'_>, WorkloadError> {
        self.run.iterate()
    }

    fn before_iteration(&mut self) -> Result<(), WorkloadError> {
        self.run.before_iteration()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaslab_evm::{execute_parallel_with, execute_sequential, ParallelOptions};

    #[test]
    fn generation_is_deterministic_in_the_seed() {
        let (a, _) = generate(50, 7, 0.0);
        let (b, _) = generate(50, 7, 0.0);
        let (c, _) = generate(50, 8, 0.0);
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
        let (block, pre) = generate(100, 1, 0.0);
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
        let (block, pre) = generate(20, 3, 0.0);
        let a = execute_sequential(&block, &pre).unwrap().digest();
        let b = execute_sequential(&block, &pre).unwrap().digest();
        assert_eq!(a, b);
        let (other, pre2) = generate(20, 4, 0.0);
        assert_ne!(a, execute_sequential(&other, &pre2).unwrap().digest());
    }

    #[test]
    fn conflict_shares_one_sender_and_parallel_agrees() {
        let (block, pre) = generate(400, 5, 0.5);
        let shared = block
            .transactions
            .iter()
            .filter(|t| t.caller == SHARED_SENDER)
            .count();
        assert!((120..280).contains(&shared), "{shared} of 400 shared");
        let seq = execute_sequential(&block, &pre).unwrap();
        assert!(seq.receipts.iter().all(|r| r.success));
        // Whether it would bail on the shared sender's chain is up to timing.
        let options = ParallelOptions {
            never_bail: true,
            ..Default::default()
        };
        let (par, stats) = execute_parallel_with(&block, &pre, 2, &options).unwrap();
        assert_eq!(seq.digest(), par.digest());
        assert_eq!(stats.fallback, None);
        // Half from one sender runs in parallel; all from one sender is a
        // hot sender (lazy transfers bump its nonce without waiting on one
        // another: no nonce chain, but one account debited by every one).
        let (_, stats) =
            execute_parallel_with(&block, &pre, 2, &ParallelOptions::default()).unwrap();
        assert_ne!(stats.fallback, Some(gaslab_evm::Fallback::HotSender));
        let (all_shared, pre) = generate(400, 5, 1.0);
        let (par, stats) =
            execute_parallel_with(&all_shared, &pre, 2, &ParallelOptions::default()).unwrap();
        assert_eq!(stats.fallback, Some(gaslab_evm::Fallback::HotSender));
        assert_eq!(
            par.digest(),
            execute_sequential(&all_shared, &pre).unwrap().digest()
        );
    }
}
