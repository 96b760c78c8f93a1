//! `evm.amm`: a block of swaps on constant-product pools (our own
//! workloads/contracts/Pool.sol).
//!
//! `conflict` is the fraction of swaps that go to one shared pool (whose
//! reserves every such swap reads and writes); the others each trade on a
//! pool of their own. `conflict = 1` is the fully dependent block.

use super::chain::{block_context, call, random_address};
use super::contracts::{
    mapping_slot, pool_runtime, pool_swap, POOL_BALANCE0_SLOT, POOL_RESERVE0_SLOT,
    POOL_RESERVE1_SLOT,
};
use super::executor::{BlockRun, Executor};
use super::transfers::MAX_TXS;
use crate::registry::{float_param, int_param};
use crate::{Iteration, Workload, WorkloadError};
use gaslab_evm::revm::primitives::{address, Address, Bytes, U256};
use gaslab_evm::{Block, PreState};
use gaslab_protocol::CellSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

pub const SHARED_POOL: Address = address!("9001000000000000000000000000000000000001");
/// Gas limit per swap; a swap uses about 75k.
pub const SWAP_GAS_LIMIT: u64 = 120_000;

fn add_pool(pre: &mut PreState, pool: Address, code: &Bytes) {
    let reserve = U256::from(10u128.pow(24));
    pre.insert_account(pool, U256::ZERO, 1, code.clone());
    pre.insert_storage(pool, U256::from(POOL_RESERVE0_SLOT), reserve);
    pre.insert_storage(pool, U256::from(POOL_RESERVE1_SLOT), reserve);
}

pub fn generate(txs: usize, seed: u64, conflict: f64) -> (Block, PreState) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pre = PreState::new();
    let code = pool_runtime();
    add_pool(&mut pre, SHARED_POOL, &code);
    let eth = U256::from(10u128.pow(18));
    let mut transactions = Vec::with_capacity(txs);
    for _ in 0..txs {
        let pool = if rng.random_bool(conflict) {
            SHARED_POOL
        } else {
            let pool = random_address(&mut rng);
            add_pool(&mut pre, pool, &code);
            pool
        };
        let trader = random_address(&mut rng);
        pre.insert_account(trader, eth, 0, Bytes::new());
        pre.insert_storage(
            pool,
            mapping_slot(trader, POOL_BALANCE0_SLOT),
            U256::from(10u128.pow(21)),
        );
        let amount = U256::from(rng.random_range(10u64.pow(15)..10u64.pow(18)));
        let mut tx = call(trader, 0, pool, U256::ZERO, SWAP_GAS_LIMIT);
        tx.data = pool_swap(true, amount, U256::ZERO);
        transactions.push(tx);
    }
    let block = Block {
        context: block_context(txs as u64 * SWAP_GAS_LIMIT),
        transactions,
    };
    (block, pre)
}

pub struct AmmWorkload {
    run: BlockRun,
    conflict: f64,
}

impl AmmWorkload {
    pub fn new(spec: &CellSpec) -> Result<Self, WorkloadError> {
        let txs = int_param(spec, "txs", 1..=MAX_TXS)? as usize;
        let seed = int_param(spec, "seed", 0..=i64::MAX)? as u64;
        let conflict = float_param(spec, "conflict", 0.0..=1.0)?;
        let (block, pre) = generate(txs, seed, conflict);
        let run = BlockRun::new(block, pre, Executor::from_spec(spec)?, Default::default())?;
        Ok(Self { run, conflict })
    }
}

impl Workload for AmmWorkload {
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
    use gaslab_evm::{dependency_headroom, execute_parallel, execute_sequential};

    #[test]
    fn swaps_succeed_and_keep_the_product_rising() {
        let (block, pre) = generate(40, 1, 1.0);
        let out = execute_sequential(&block, &pre).unwrap();
        assert!(out.receipts.iter().all(|r| r.success && r.logs.len() == 1));
        let pool = &out.changes[&SHARED_POOL];
        let r0 = pool.storage[&U256::from(POOL_RESERVE0_SLOT)];
        let r1 = pool.storage[&U256::from(POOL_RESERVE1_SLOT)];
        let k0 = U256::from(10u128.pow(24)) * U256::from(10u128.pow(24));
        assert!(
            r0 > U256::from(10u128.pow(24)) && r0 * r1 >= k0,
            "the fee keeps k rising"
        );
    }

    #[test]
    fn headroom_sees_the_shared_pool_chain() {
        let (block, pre) = generate(64, 3, 1.0);
        let h = dependency_headroom(&block, &pre, &Default::default()).unwrap();
        assert!(h.ideal_speedup(8) < 1.01, "one pool: {h:?}");
        let (block, pre) = generate(64, 3, 0.0);
        let h = dependency_headroom(&block, &pre, &Default::default()).unwrap();
        assert!(h.ideal_speedup(8) > 7.9, "independent pools: {h:?}");
        let (par, _) = execute_parallel(&block, &pre, 2).unwrap();
        assert_eq!(
            execute_sequential(&block, &pre).unwrap().digest(),
            par.digest()
        );
    }
}
