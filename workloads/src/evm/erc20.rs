//! `evm.erc20`: a block of ERC-20 `transfer` calls on our own token
//! (workloads/contracts/Token.sol).
//!
//! `conflict` is the fraction of transfers that share state: one sender (a
//! nonce chain, and its token balance) paying one recipient. Token balances
//! live in contract storage, so these form a dependency chain; `conflict = 1`
//! is the fully dependent block.

use super::chain::{block_context, call, random_address};
use super::contracts::{mapping_slot, token_runtime, token_transfer, TOKEN_BALANCES_SLOT};
use super::executor::{BlockRun, Executor};
use super::transfers::MAX_TXS;
use crate::registry::{float_param, int_param};
use crate::{Iteration, Workload, WorkloadError};
use gaslab_evm::revm::primitives::{address, keccak256, Address, Bytes, U256};
use gaslab_evm::{Block, LazyToken, ParallelOptions, PreState};
use gaslab_protocol::CellSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

pub const TOKEN: Address = address!("70ce000000000000000000000000000000000001");
pub const SHARED_SENDER: Address = address!("5a00000000000000000000000000000000000011");
pub const SHARED_RECIPIENT: Address = address!("5a00000000000000000000000000000000000012");
/// Gas limit per call; a transfer to a fresh recipient uses about 52k.
pub const TRANSFER_GAS_LIMIT: u64 = 80_000;

pub fn generate(txs: usize, seed: u64, conflict: f64) -> (Block, PreState) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pre = PreState::new();
    pre.insert_account(TOKEN, U256::ZERO, 1, token_runtime());
    let eth = U256::from(10u128.pow(18));
    let tokens = U256::from(10u128.pow(24));
    pre.insert_account(SHARED_SENDER, eth * U256::from(txs), 0, Bytes::new());
    pre.insert_storage(
        TOKEN,
        mapping_slot(SHARED_SENDER, TOKEN_BALANCES_SLOT),
        tokens,
    );
    let mut shared_nonce = 0;
    let mut transactions = Vec::with_capacity(txs);
    for _ in 0..txs {
        let amount = U256::from(rng.random_range(1..1_000_000_000u64));
        let (sender, nonce, recipient) = if rng.random_bool(conflict) {
            shared_nonce += 1;
            (SHARED_SENDER, shared_nonce - 1, SHARED_RECIPIENT)
        } else {
            let sender = random_address(&mut rng);
            pre.insert_account(sender, eth, 0, Bytes::new());
            pre.insert_storage(TOKEN, mapping_slot(sender, TOKEN_BALANCES_SLOT), tokens);
            (sender, 0, random_address(&mut rng))
        };
        let mut tx = call(sender, nonce, TOKEN, U256::ZERO, TRANSFER_GAS_LIMIT);
        tx.data = token_transfer(recipient, amount);
        transactions.push(tx);
    }
    let block = Block {
        context: block_context(txs as u64 * TRANSFER_GAS_LIMIT),
        transactions,
    };
    (block, pre)
}

/// Token.sol's `transfer` only moves balances: the parallel executor may
/// run it lazily.
pub fn lazy_token_options() -> ParallelOptions {
    ParallelOptions {
        lazy_tokens: vec![LazyToken {
            code_hash: keccak256(token_runtime()),
            balances_slot: U256::from(TOKEN_BALANCES_SLOT),
        }],
        ..Default::default()
    }
}

pub struct Erc20Workload {
    run: BlockRun,
    conflict: f64,
}

impl Erc20Workload {
    pub fn new(spec: &CellSpec) -> Result<Self, WorkloadError> {
        let txs = int_param(spec, "txs", 1..=MAX_TXS)? as usize;
        let seed = int_param(spec, "seed", 0..=i64::MAX)? as u64;
        let conflict = float_param(spec, "conflict", 0.0..=1.0)?;
        let (block, pre) = generate(txs, seed, conflict);
        let run = BlockRun::new(block, pre, Executor::from_spec(spec)?, lazy_token_options())?;
        Ok(Self { run, conflict })
    }
}

impl Workload for Erc20Workload {
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
    use gaslab_evm::{
        dependency_headroom, execute_parallel, execute_parallel_with, execute_sequential,
    };

    #[test]
    fn transfers_succeed_move_tokens_and_log() {
        let (block, pre) = generate(60, 1, 0.0);
        let out = execute_sequential(&block, &pre).unwrap();
        assert!(out.receipts.iter().all(|r| r.success && r.logs.len() == 1));
        let token = &out.changes[&TOKEN];
        // sender debited and recipient credited: two slots per transfer
        assert_eq!(token.storage.len(), 120);
        let (par, _) = execute_parallel(&block, &pre, 2).unwrap();
        assert_eq!(out.digest(), par.digest());
    }

    /// Many senders paying one hot recipient: with the token declared lazy
    /// the block runs without conflicts, and mixed in are the cases a mock
    /// must not hide: a sender paying out exactly its balance (ends at zero:
    /// other SSTORE gas), one holding too little (reverts), a self-transfer,
    /// and non-standard calldata that reads and writes the hot balance for
    /// real between lazy deltas.
    #[test]
    fn lazy_token_transfers_to_one_hot_recipient_match_sequential() {
        let hot = SHARED_RECIPIENT;
        let mut pre = PreState::new();
        pre.insert_account(TOKEN, U256::ZERO, 1, token_runtime());
        let amount = U256::from(1_000u64);
        let mut transactions = Vec::new();
        for i in 0..240u64 {
            let sender = Address::left_padding_from(&(0x1000 + i).to_be_bytes());
            let balance = match i {
                5 => amount,
                7 => amount - U256::from(1),
                _ => U256::from(1_000_000u64),
            };
            pre.insert_account(sender, U256::from(10u128.pow(18)), 0, Bytes::new());
            pre.insert_storage(TOKEN, mapping_slot(sender, TOKEN_BALANCES_SLOT), balance);
            let mut tx = call(sender, 0, TOKEN, U256::ZERO, TRANSFER_GAS_LIMIT);
            tx.data = match i {
                12 => token_transfer(sender, amount),
                100 => [&token_transfer(hot, amount)[..], &[0u8; 32]]
                    .concat()
                    .into(),
                _ => token_transfer(hot, amount),
            };
            transactions.push(tx);
        }
        let block = Block {
            context: block_context(240 * TRANSFER_GAS_LIMIT),
            transactions,
        };
        let seq = execute_sequential(&block, &pre).unwrap();
        assert!(!seq.receipts[7].success && seq.receipts[5].success);
        let (plain, _) = execute_parallel(&block, &pre, 2).unwrap();
        assert_eq!(seq.digest(), plain.digest());
        // The parallel path must run: whether it would bail is up to timing.
        let options = ParallelOptions {
            never_bail: true,
            ..lazy_token_options()
        };
        for threads in [2, 3, 8] {
            let (lazy, stats) = execute_parallel_with(&block, &pre, threads, &options).unwrap();
            assert_eq!(seq.digest(), lazy.digest(), "{threads} threads");
            assert_eq!(stats.fallback, None, "{stats:?}");
        }
        // The hot balance is one dependency chain, unless it is lazy.
        let chain = dependency_headroom(&block, &pre, &Default::default()).unwrap();
        assert!(chain.ideal_speedup(64) < 2.0, "{chain:?}");
        let lazy = dependency_headroom(&block, &pre, &lazy_token_options()).unwrap();
        assert!(lazy.ideal_speedup(64) > 8.0, "{lazy:?}");
    }

    /// Big enough that the fold works in parts (over 2048 transactions a
    /// part): every part sends all its token slots to the one that owns
    /// the token, whose merge leaves the lists for the next block's fold.
    /// Blocks after the first fold with lists another thread left.
    #[test]
    fn blocks_folded_in_parts_match_sequential_block_after_block() {
        let options = ParallelOptions {
            never_bail: true,
            ..lazy_token_options()
        };
        for (seed, threads) in [(1, 2), (2, 2), (3, 3), (4, 2)] {
            let (block, pre) = generate(4200 + seed as usize, seed, 0.0);
            let seq = execute_sequential(&block, &pre).unwrap();
            assert_eq!(
                seq.changes[&TOKEN].storage.len(),
                2 * block.transactions.len()
            );
            let (par, stats) = execute_parallel_with(&block, &pre, threads, &options).unwrap();
            assert_eq!(seq.digest(), par.digest(), "seed {seed}, {threads} threads");
            assert_eq!(stats.fallback, None, "{stats:?}");
        }
    }

    #[test]
    fn full_conflict_is_one_chain_and_parallel_agrees() {
        let (block, pre) = generate(80, 2, 1.0);
        assert!(block.transactions.iter().all(|t| t.caller == SHARED_SENDER));
        let seq = execute_sequential(&block, &pre).unwrap();
        assert!(seq.receipts.iter().all(|r| r.success));
        // One sender's nonce chain: not worth trying in parallel.
        let (par, stats) = execute_parallel(&block, &pre, 2).unwrap();
        assert_eq!(seq.digest(), par.digest());
        assert_eq!(stats.fallback, Some(gaslab_evm::Fallback::SenderChain));
        let never_bail = ParallelOptions {
            never_bail: true,
            ..Default::default()
        };
        let (forced, stats) = execute_parallel_with(&block, &pre, 2, &never_bail).unwrap();
        assert_eq!(seq.digest(), forced.digest());
        assert_eq!(stats.fallback, None);
    }
}
