//! The executors on one gigagas block of independent plain transfers:
//! `sequential` against a bare revm `transact_commit` loop over the same
//! transactions (the executor's own overhead), and `parallel` on 2 threads.
//!
//! `cargo bench -p gaslab-evm --bench executors`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use gaslab_evm::revm::context::{BlockEnv, CfgEnv, Context, TxEnv};
use gaslab_evm::revm::database::CacheDB;
use gaslab_evm::revm::handler::{ExecuteCommitEvm, MainBuilder, MainContext};
use gaslab_evm::revm::primitives::hardfork::SpecId;
use gaslab_evm::revm::primitives::{Address, Bytes, TxKind, U256};
use gaslab_evm::{execute_parallel, execute_sequential, Block, BlockContext, PreState};

const GIGAGAS: u64 = 1_000_000_000;
const TRANSFER_GAS: u64 = 21_000;

fn address(tag: u8, i: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = tag;
    bytes[12..].copy_from_slice(&i.to_be_bytes());
    Address::from(bytes)
}

/// 1 Ggas of transfers from distinct funded senders to distinct recipients.
fn transfer_block() -> (Block, PreState) {
    let txs = GIGAGAS / TRANSFER_GAS;
    let mut pre = PreState::new();
    let transactions = (0..txs)
        .map(|i| {
            let sender = address(0xaa, i);
            pre.insert_account(sender, U256::from(10u128.pow(18)), 0, Bytes::new());
            TxEnv {
                caller: sender,
                kind: TxKind::Call(address(0xbb, i)),
                value: U256::from(1000 + i),
                gas_limit: TRANSFER_GAS,
                gas_price: 2_000_000_000,
                chain_id: Some(1),
                ..Default::default()
            }
        })
        .collect();
    let context = BlockContext {
        env: BlockEnv {
            beneficiary: address(0xcc, 0),
            gas_limit: GIGAGAS,
            basefee: 1_000_000_000,
            ..Default::default()
        },
        spec: SpecId::CANCUN,
        chain_id: 1,
    };
    (
        Block {
            context,
            transactions,
        },
        pre,
    )
}

/// What any revm user would write: one EVM, transact_commit per transaction.
fn bare_revm(block: &Block, pre: &PreState) -> u64 {
    let mut cfg = CfgEnv::new_with_spec(block.context.spec);
    cfg.chain_id = block.context.chain_id;
    let mut evm = Context::mainnet()
        .with_db(CacheDB::new(pre))
        .with_block(block.context.env.clone())
        .with_cfg(cfg)
        .build_mainnet();
    block
        .transactions
        .iter()
        .map(|tx| evm.transact_commit(tx.clone()).unwrap().tx_gas_used())
        .sum()
}

fn executors(c: &mut Criterion) {
    let (block, pre) = transfer_block();
    let mut group = c.benchmark_group("transfers_1ggas");
    group.sample_size(10);
    group.throughput(Throughput::Elements(GIGAGAS));
    group.bench_function("bare_revm_loop", |b| {
        b.iter_batched(|| (), |_| bare_revm(&block, &pre), BatchSize::PerIteration)
    });
    group.bench_function("sequential", |b| {
        b.iter(|| execute_sequential(&block, &pre).unwrap())
    });
    group.bench_function("parallel_2_threads", |b| {
        b.iter(|| execute_parallel(&block, &pre, 2).unwrap())
    });
    group.finish();
}

criterion_group!(benches, executors);
criterion_main!(benches);
