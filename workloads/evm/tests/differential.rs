//! The parallel executor must give exactly the sequential result: random
//! blocks mixing transfers, storage, coinbase reads, reverts, out-of-gas,
//! creations and CREATE2 self-destruct/redeploy, on several forks.
//!
//! `GASLAB_DIFF_BLOCKS=10000 cargo test --release -p gaslab-evm --test differential`
//! runs the long mode.

use gaslab_evm::revm::context::either::Either;
use gaslab_evm::revm::context::transaction::{
    Authorization, RecoveredAuthority, RecoveredAuthorization,
};
use gaslab_evm::revm::context::{BlockEnv, TxEnv};
use gaslab_evm::revm::primitives::hardfork::SpecId;
use gaslab_evm::revm::primitives::{
    address, keccak256, Address, Bytes, TxKind, B256, KECCAK_EMPTY, U256,
};
use gaslab_evm::{
    execute_parallel, execute_sequential, Block, BlockContext, ExecutionError, PreState,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const COINBASE: Address = address!("00000000000000000000000000000000000c0ffe");
const KV: Address = address!("1000000000000000000000000000000000000001");
const COINBASE_READER: Address = address!("1000000000000000000000000000000000000002");
const REVERTER: Address = address!("1000000000000000000000000000000000000003");
const BURNER: Address = address!("1000000000000000000000000000000000000004");
const FORWARDER: Address = address!("1000000000000000000000000000000000000005");
const FACTORY: Address = address!("1000000000000000000000000000000000000006");

/// sstore(calldata[0], sload(calldata[0]) + calldata[32])
const KV_CODE: &[u8] = &[
    0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x80, 0x54, 0x82, 0x01, 0x90, 0x55, 0x00,
];
/// sstore(0, balance(coinbase))
const COINBASE_READER_CODE: &[u8] = &[0x41, 0x31, 0x60, 0x00, 0x55, 0x00];
/// sstore(0, 1); revert
const REVERTER_CODE: &[u8] = &[0x60, 0x01, 0x60, 0x00, 0x55, 0x60, 0x00, 0x60, 0x00, 0xfd];
/// loop forever
const BURNER_CODE: &[u8] = &[0x5b, 0x60, 0x00, 0x56];
/// call(gas, calldata[0], callvalue, 0, 0, 0, 0)
const FORWARDER_CODE: &[u8] = &[
    0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x34, 0x60, 0x00, 0x35, 0x5a, 0xf1, 0x00,
];
/// sstore(0, create2(0, calldata, salt 0))
const FACTORY_CODE: &[u8] = &[
    0x36, 0x60, 0x00, 0x60, 0x00, 0x37, 0x60, 0x00, 0x36, 0x60, 0x00, 0x60, 0x00, 0xf5, 0x60, 0x00,
    0x55, 0x00,
];
/// Init code: sstore(1, 7); deploy runtime `selfdestruct(caller)`.
const CHILD_INIT: &[u8] = &[
    0x60, 0x07, 0x60, 0x01, 0x55, 0x61, 0x33, 0xff, 0x60, 0x00, 0x52, 0x60, 0x02, 0x60, 0x1e, 0xf3,
];

/// Init code that deploys `runtime`.
fn deployer(runtime: &[u8]) -> Bytes {
    let len = runtime.len() as u8;
    let mut code = vec![
        0x60, len, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, len, 0x60, 0x00, 0xf3,
    ];
    code.extend_from_slice(runtime);
    code.into()
}

fn child_address() -> Address {
    FACTORY.create2(B256::ZERO, keccak256(CHILD_INIT))
}

/// Above the precompiles' range (small addresses), so plain transfers
/// between them run lazily.
/// An account that delegates its code and sends nothing.
fn authority(i: usize) -> Address {
    let mut address = Address::with_last_byte(0x60 + i as u8);
    address.0[0] = 0xaa;
    address
}

fn eoa(i: usize) -> Address {
    let mut address = Address::with_last_byte(0x40 + i as u8);
    address.0[0] = 0xee;
    address
}

const SPECS: [SpecId; 5] = [
    SpecId::PRAGUE,
    SpecId::CANCUN,
    SpecId::SHANGHAI,
    SpecId::LONDON,
    SpecId::BYZANTIUM,
];

fn pre_state(eoas: usize, coinbase_funded: bool) -> PreState {
    let mut pre = PreState::new();
    let rich = U256::from(10u128.pow(24));
    for i in 0..eoas {
        pre.insert_account(eoa(i), rich, 0, Bytes::new());
    }
    if coinbase_funded {
        pre.insert_account(COINBASE, rich, 0, Bytes::new());
    }
    for (a, code) in [
        (KV, KV_CODE),
        (COINBASE_READER, COINBASE_READER_CODE),
        (REVERTER, REVERTER_CODE),
        (BURNER, BURNER_CODE),
        (FORWARDER, FORWARDER_CODE),
        (FACTORY, FACTORY_CODE),
    ] {
        pre.insert_account(a, U256::ZERO, 1, Bytes::from_static(code));
    }
    pre.insert_storage(KV, U256::from(1), U256::from(100));
    pre
}

fn context(spec: SpecId) -> BlockContext {
    BlockContext {
        env: BlockEnv {
            number: U256::from(100u64),
            beneficiary: COINBASE,
            timestamp: U256::from(1_700_000_000u64),
            gas_limit: 1_000_000_000,
            basefee: 7,
            prevrandao: Some(B256::with_last_byte(1)),
            ..Default::default()
        },
        spec,
        chain_id: 1,
    }
}

/// Calldata for `KV`: add `amount` to slot `slot`.
fn kv_add(slot: u64, amount: u64) -> Bytes {
    [word(U256::from(slot)), word(U256::from(amount))]
        .concat()
        .into()
}

fn word(v: U256) -> [u8; 32] {
    v.to_be_bytes::<32>()
}

/// A random block; `senders` includes the coinbase when it is funded.
fn random_block(rng: &mut ChaCha8Rng, txs: usize) -> (Block, PreState) {
    let spec = SPECS[rng.random_range(0..SPECS.len())];
    let eoas = rng.random_range(1..8usize);
    let coinbase_sends = rng.random_bool(0.3);
    let pre = pre_state(eoas, coinbase_sends);
    let mut senders: Vec<Address> = (0..eoas).map(eoa).collect();
    if coinbase_sends {
        senders.push(COINBASE);
    }
    let mut nonces = vec![0u64; senders.len()];
    // Accounts that only delegate (EIP-7702), never send: their nonces move
    // with each authorization.
    let mut authority_nonces = [0u64; 3];
    let london = spec.is_enabled_in(SpecId::LONDON);
    let mut transactions = Vec::with_capacity(txs);
    for _ in 0..txs {
        let s = rng.random_range(0..senders.len());
        let caller = senders[s];
        let nonce = nonces[s];
        nonces[s] += 1;
        let target = |rng: &mut ChaCha8Rng| match rng.random_range(0..4) {
            0 => COINBASE,
            1 => Address::with_last_byte(0xe0 + rng.random_range(0..8u8)),
            _ => eoa(rng.random_range(0..eoas)),
        };
        let value = U256::from(rng.random_range(0..3u64) * 1_000_000_007);
        let (kind, value, data, gas_limit) = match rng.random_range(0..20) {
            0..=7 => (TxKind::Call(target(rng)), value, Bytes::new(), 21_000),
            8..=9 => {
                let d = kv_add(rng.random_range(0..4u64), rng.random_range(1..1000u64));
                (TxKind::Call(KV), U256::ZERO, d, 100_000)
            }
            10 => (
                TxKind::Call(COINBASE_READER),
                U256::ZERO,
                Bytes::new(),
                100_000,
            ),
            11 => (TxKind::Call(REVERTER), value, Bytes::new(), 100_000),
            12 => (TxKind::Call(BURNER), U256::ZERO, Bytes::new(), 60_000),
            13..=14 => {
                let to = target(rng);
                let mut d = [0u8; 32];
                d[12..].copy_from_slice(to.as_slice());
                (
                    TxKind::Call(FORWARDER),
                    value,
                    Bytes::from(d.to_vec()),
                    100_000,
                )
            }
            15 => (TxKind::Create, U256::ZERO, deployer(KV_CODE), 200_000),
            16..=17 => (
                TxKind::Call(FACTORY),
                U256::ZERO,
                Bytes::from_static(CHILD_INIT),
                200_000,
            ),
            _ => (
                TxKind::Call(child_address()),
                U256::ZERO,
                Bytes::new(),
                100_000,
            ),
        };
        let mut tx = TxEnv {
            caller,
            nonce,
            kind,
            value,
            data,
            gas_limit,
            chain_id: Some(1),
            ..Default::default()
        };
        if london && rng.random_bool(0.5) {
            tx.tx_type = 2;
            tx.gas_price = rng.random_range(7..20u128);
            tx.gas_priority_fee = Some(rng.random_range(0..5u128));
        } else {
            tx.gas_price = rng.random_range(7..20u128);
        }
        if spec == SpecId::PRAGUE && rng.random_bool(0.1) {
            // Delegate an account to KV, or clear its delegation, and call
            // it: KV's code then writes the account's own storage.
            let a = rng.random_range(0..authority_nonces.len());
            let authority = authority(a);
            let to = if rng.random_bool(0.6) {
                KV
            } else {
                Address::ZERO
            };
            tx.authorization_list = vec![Either::Right(RecoveredAuthorization::new_unchecked(
                Authorization {
                    chain_id: U256::from(1),
                    address: to,
                    nonce: authority_nonces[a],
                },
                RecoveredAuthority::Valid(authority),
            ))];
            authority_nonces[a] += 1;
            tx.tx_type = 4;
            tx.gas_price = rng.random_range(7..20u128);
            tx.gas_priority_fee = Some(rng.random_range(0..5u128));
            tx.kind = TxKind::Call(authority);
            tx.value = U256::ZERO;
            tx.data = kv_add(rng.random_range(0..4u64), rng.random_range(1..1000u64));
            tx.gas_limit = 200_000;
        }
        transactions.push(tx);
    }
    (
        Block {
            context: context(spec),
            transactions,
        },
        pre,
    )
}

fn error_index(e: &ExecutionError) -> usize {
    match e {
        ExecutionError::InvalidTransaction { index, .. }
        | ExecutionError::Database { index, .. }
        | ExecutionError::BlockGasLimit { index, .. } => *index,
        ExecutionError::StateDiff { reason } => panic!("state diff failed: {reason}"),
    }
}

/// Compares both executors; returns whether the parallel path really ran.
fn check(block: &Block, pre: &PreState, threads: usize, what: &str) -> bool {
    let seq = execute_sequential(block, pre);
    // Never bailing keeps the parallel path under test however the threads
    // happen to be scheduled.
    let options = gaslab_evm::ParallelOptions {
        never_bail: true,
        ..Default::default()
    };
    let par = gaslab_evm::execute_parallel_with(block, pre, threads, &options);
    match (seq, par) {
        (Ok(s), Ok((p, stats))) => {
            assert_eq!(s, p, "{what}: outputs differ");
            assert_eq!(s.digest(), p.digest(), "{what}");
            if std::env::var("GASLAB_DIFF_VERBOSE").is_ok() {
                eprintln!("{what}: {stats:?}");
            }
            stats.fallback.is_none()
        }
        (Err(s), Err(p)) => {
            assert_eq!(error_index(&s), error_index(&p), "{what}: {s} vs {p}");
            false
        }
        (s, p) => panic!(
            "{what}: sequential {:?} vs parallel {:?}",
            s.map(|o| o.gas_used),
            p.map(|o| o.0.gas_used)
        ),
    }
}

#[test]
fn random_blocks_match_sequential() {
    let blocks: u64 = std::env::var("GASLAB_DIFF_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let mut parallel = 0;
    for seed in 0..blocks {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Every tenth block is big enough for the threads to overlap.
        let txs = if seed % 10 == 9 {
            1500
        } else {
            rng.random_range(32..120)
        };
        let (block, pre) = random_block(&mut rng, txs);
        let threads = rng.random_range(2..5);
        if check(&block, &pre, threads, &format!("seed {seed}")) {
            parallel += 1;
        }
    }
    assert!(
        parallel * 2 >= blocks,
        "only {parallel} of {blocks} blocks ran in parallel"
    );
}

fn tx(caller: Address, nonce: u64, kind: TxKind, value: u64, data: Bytes, gas_limit: u64) -> TxEnv {
    TxEnv {
        caller,
        nonce,
        kind,
        value: U256::from(value),
        data,
        gas_limit,
        gas_price: 10,
        chain_id: Some(1),
        ..Default::default()
    }
}

/// Pads a hand-made block with independent transfers so it takes the parallel path.
fn padded(spec: SpecId, mut txs: Vec<TxEnv>, pre: &mut PreState) -> Block {
    for i in 0..40 {
        let sender = Address::with_last_byte(0x80 + i as u8);
        pre.insert_account(sender, U256::from(10u64.pow(18)), 0, Bytes::new());
        let to = Address::with_last_byte(0xc0 + (i % 8) as u8);
        txs.insert(
            (i * 7) % (txs.len() + 1),
            tx(sender, 0, TxKind::Call(to), 5, Bytes::new(), 21_000),
        );
    }
    Block {
        context: context(spec),
        transactions: txs,
    }
}

#[test]
fn create2_selfdestruct_and_redeploy_in_one_block() {
    for spec in [SpecId::SHANGHAI, SpecId::CANCUN] {
        let mut pre = pre_state(2, false);
        let a = eoa(0);
        let txs = vec![
            tx(
                a,
                0,
                TxKind::Call(FACTORY),
                0,
                Bytes::from_static(CHILD_INIT),
                200_000,
            ),
            tx(
                a,
                1,
                TxKind::Call(child_address()),
                0,
                Bytes::new(),
                100_000,
            ),
            tx(
                a,
                2,
                TxKind::Call(FACTORY),
                0,
                Bytes::from_static(CHILD_INIT),
                200_000,
            ),
            tx(
                a,
                3,
                TxKind::Call(child_address()),
                0,
                Bytes::new(),
                100_000,
            ),
            tx(
                a,
                4,
                TxKind::Call(FACTORY),
                0,
                Bytes::from_static(CHILD_INIT),
                200_000,
            ),
        ];
        let block = padded(spec, txs, &mut pre);
        let out = execute_sequential(&block, &pre).unwrap();
        if spec == SpecId::SHANGHAI {
            assert!(
                out.changes.contains_key(&child_address()),
                "the child is redeployed"
            );
        }
        assert!(check(&block, &pre, 2, &format!("{spec:?}")));
    }
}

#[test]
fn coinbase_reads_transfers_and_sends() {
    let mut pre = pre_state(3, true);
    let (a, b) = (eoa(0), eoa(1));
    let txs = vec![
        tx(a, 0, TxKind::Call(COINBASE), 1000, Bytes::new(), 21_000),
        tx(
            b,
            0,
            TxKind::Call(COINBASE_READER),
            0,
            Bytes::new(),
            100_000,
        ),
        tx(COINBASE, 0, TxKind::Call(a), 77, Bytes::new(), 21_000),
        tx(
            a,
            1,
            TxKind::Call(COINBASE_READER),
            0,
            Bytes::new(),
            100_000,
        ),
        tx(
            b,
            1,
            TxKind::Call(FORWARDER),
            9,
            Bytes::from(word(U256::from_be_slice(COINBASE.as_slice())).to_vec()),
            100_000,
        ),
        tx(
            b,
            2,
            TxKind::Call(COINBASE_READER),
            0,
            Bytes::new(),
            100_000,
        ),
    ];
    let block = padded(SpecId::CANCUN, txs, &mut pre);
    assert!(check(&block, &pre, 2, "coinbase"));
    assert!(check(&block, &pre, 4, "coinbase"));
}

#[test]
fn reverts_out_of_gas_creation_and_nonce_chains() {
    let mut pre = pre_state(2, false);
    let a = eoa(0);
    let mut txs = vec![
        tx(a, 0, TxKind::Call(REVERTER), 3, Bytes::new(), 100_000),
        tx(a, 1, TxKind::Call(BURNER), 0, Bytes::new(), 50_000),
        tx(a, 2, TxKind::Create, 0, deployer(KV_CODE), 200_000),
    ];
    // A nonce chain of plain transfers through the whole block.
    for n in 3..40 {
        txs.push(tx(a, n, TxKind::Call(eoa(1)), 11, Bytes::new(), 21_000));
    }
    let block = padded(SpecId::CANCUN, txs, &mut pre);
    let out = execute_sequential(&block, &pre).unwrap();
    assert!(
        !out.receipts.iter().all(|r| r.success),
        "the revert and out-of-gas fail"
    );
    assert!(check(&block, &pre, 2, "mixed"));
}

#[test]
fn an_initcode_that_stores_and_deploys_nothing_keeps_its_slot() {
    // PUSH1 0x2a PUSH1 1 SSTORE STOP: a slot written, no code returned.
    const STORE_AND_STOP: [u8; 6] = [0x60, 0x2a, 0x60, 0x01, 0x55, 0x00];
    let mut pre = pre_state(2, false);
    let a = eoa(0);
    let txs = vec![tx(
        a,
        0,
        TxKind::Create,
        0,
        Bytes::from_static(&STORE_AND_STOP),
        200_000,
    )];
    let block = padded(SpecId::CANCUN, txs, &mut pre);
    let out = execute_sequential(&block, &pre).unwrap();
    let created = out
        .changes
        .values()
        .find(|c| !c.storage.is_empty())
        .expect("the created account keeps its slot");
    assert_eq!(created.code_hash, KECCAK_EMPTY);
    assert_eq!(created.storage.get(&U256::from(1)), Some(&U256::from(0x2a)));
    assert!(check(&block, &pre, 2, "store and stop"));
}

#[test]
fn a_delegation_set_and_cleared_in_one_block_keeps_its_slot() {
    // PUSH1 1 PUSH1 0 SSTORE STOP: run in the delegating account's storage.
    const STORE: [u8; 6] = [0x60, 0x01, 0x60, 0x00, 0x55, 0x00];
    let delegate = Address::with_last_byte(0x77);
    let mut pre = pre_state(3, false);
    pre.insert_account(delegate, U256::ZERO, 1, Bytes::from_static(&STORE));
    // The account that delegates: no code before the block, none after.
    let authority = eoa(2);
    let authorize = |sender, nonce, to: Address, authority_nonce| {
        let mut t = tx(
            sender,
            nonce,
            TxKind::Call(authority),
            0,
            Bytes::new(),
            200_000,
        );
        t.tx_type = 4;
        t.gas_priority_fee = Some(1);
        t.authorization_list = vec![Either::Right(RecoveredAuthorization::new_unchecked(
            Authorization {
                chain_id: U256::from(1),
                address: to,
                nonce: authority_nonce,
            },
            RecoveredAuthority::Valid(authority),
        ))];
        t
    };
    let txs = vec![
        authorize(eoa(0), 0, delegate, 0),
        authorize(eoa(1), 0, Address::ZERO, 1),
    ];
    let block = padded(SpecId::PRAGUE, txs, &mut pre);
    let out = execute_sequential(&block, &pre).unwrap();
    let change = out.changes.get(&authority).expect("the authority changed");
    assert_eq!(change.code_hash, KECCAK_EMPTY);
    assert_eq!(change.storage.get(&U256::ZERO), Some(&U256::from(1)));
    assert!(check(&block, &pre, 2, "delegation set and cleared"));
}

#[test]
fn an_invalid_transaction_is_named() {
    let mut pre = pre_state(2, false);
    let a = eoa(0);
    let txs = vec![
        tx(a, 0, TxKind::Call(eoa(1)), 1, Bytes::new(), 21_000),
        tx(a, 5, TxKind::Call(eoa(1)), 1, Bytes::new(), 21_000),
    ];
    let block = padded(SpecId::CANCUN, txs, &mut pre);
    let err = execute_parallel(&block, &pre, 2).unwrap_err();
    let seq = execute_sequential(&block, &pre).unwrap_err();
    assert_eq!(err.to_string(), seq.to_string());
    assert!(
        matches!(err, ExecutionError::InvalidTransaction { .. }),
        "{err}"
    );
}

/// One sender's chain of 32 contract calls.
fn nonce_chain(sender: Address) -> Vec<TxEnv> {
    (0..32)
        .map(|n| tx(sender, n, TxKind::Call(KV), 0, kv_add(10 + n, 1), 100_000))
        .collect()
}

/// Independent transfers, then one sender's chain of 32 calls (most of the
/// block's gas), and the number of calls.
fn chain_at_the_end() -> (Block, PreState, u64) {
    let mut pre = pre_state(2, false);
    let chain = nonce_chain(eoa(0));
    let calls = chain.len() as u64;
    let mut block = padded(SpecId::CANCUN, Vec::new(), &mut pre);
    block.transactions.extend(chain);
    (block, pre, calls)
}

/// One sender's chain of contract calls at the end of a block, all in
/// block order: each call waits for the one before instead of failing on
/// its nonce. A failed call
/// writes nothing, so the next one read the same stale nonce and failed
/// too, and each success re-executed the rest of the chain (32 calls ran
/// 15-20 times each on mainnet block 4370000).
#[test]
fn a_nonce_chain_waits_for_its_sender() {
    let (block, pre, calls) = chain_at_the_end();
    // No helper takes the chain as its lane: the threads meet on it.
    let never_bail = gaslab_evm::ParallelOptions {
        never_bail: true,
        in_block_order: true,
        ..Default::default()
    };
    let seq = execute_sequential(&block, &pre).unwrap();
    for threads in [2, 4] {
        let (par, stats) =
            gaslab_evm::execute_parallel_with(&block, &pre, threads, &never_bail).unwrap();
        assert_eq!(par.digest(), seq.digest());
        assert!(
            stats.re_executions() <= calls,
            "{threads} threads: {stats:?}"
        );
    }
}

/// The same chain at the end of a block (most of its gas) is a helper's
/// lane: run in order beside the transactions before it, each call once or
/// about, where block order left nothing to run beside it (4370000).
#[test]
fn a_nonce_chain_at_the_end_is_a_helpers_lane() {
    let (block, pre, calls) = chain_at_the_end();
    let seq = execute_sequential(&block, &pre).unwrap();
    for threads in [2, 4] {
        let (par, stats) = execute_parallel(&block, &pre, threads).unwrap();
        assert_eq!(par.digest(), seq.digest());
        assert_eq!(stats.fallback, None, "{stats:?}");
        assert!(
            stats.re_executions() <= calls / 4,
            "{threads} threads: {stats:?}"
        );
    }
}

/// A helper starts with the block's heaviest transaction, out of order: at
/// the end of the block, it adds to a slot earlier calls add to, so what it
/// read first is stale and validation must run it again.
#[test]
fn a_heavy_transaction_run_first_still_sees_those_below() {
    let mut pre = pre_state(4, false);
    let add = |sender: usize, nonce: u64, gas_limit: u64| {
        let data = kv_add(7, 1 + sender as u64);
        tx(eoa(sender), nonce, TxKind::Call(KV), 0, data, gas_limit)
    };
    let calls = (0..3).map(|i| add(i, 0, 100_000)).collect();
    let mut block = padded(SpecId::CANCUN, calls, &mut pre);
    block.transactions.push(add(3, 0, 5_000_000));
    let never_bail = gaslab_evm::ParallelOptions {
        never_bail: true,
        ..Default::default()
    };
    let seq = execute_sequential(&block, &pre).unwrap();
    for threads in [2, 3, 4] {
        for _ in 0..20 {
            let (par, _) =
                gaslab_evm::execute_parallel_with(&block, &pre, threads, &never_bail).unwrap();
            assert_eq!(par, seq, "{threads} threads");
        }
    }
}

/// A block given up part way (as a too-dependent one is) is finished in
/// order on the calling thread from what the threads left: random blocks
/// given up at random points, on 2-4 threads, must give exactly the
/// sequential result (or name the same invalid transaction).
#[test]
fn a_block_given_up_part_way_finishes_in_order() {
    for seed in 0..40u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(1_000 + seed);
        let txs = if seed % 10 == 9 {
            1500
        } else {
            rng.random_range(32..120)
        };
        let (block, pre) = random_block(&mut rng, txs);
        let threads = rng.random_range(2..5);
        let options = gaslab_evm::ParallelOptions {
            never_bail: true,
            give_up_after: Some(rng.random_range(1..=txs as u64)),
            ..Default::default()
        };
        let what = format!("seed {seed}, {threads} threads, {options:?}");
        let seq = execute_sequential(&block, &pre);
        match (
            seq,
            gaslab_evm::execute_parallel_with(&block, &pre, threads, &options),
        ) {
            (Ok(s), Ok((p, stats))) => {
                assert_eq!(s, p, "{what}: outputs differ");
                assert_eq!(
                    stats.fallback,
                    Some(gaslab_evm::Fallback::TooDependent),
                    "{what}"
                );
            }
            (Err(s), Err(p)) => assert_eq!(error_index(&s), error_index(&p), "{what}"),
            (s, p) => panic!(
                "{what}: sequential ok {} vs parallel ok {}",
                s.is_ok(),
                p.is_ok()
            ),
        }
    }
}

/// Giving up keeps what the threads did: independent transfers given up
/// half way run again only where no thread had reached them.
#[test]
fn a_block_given_up_keeps_its_valid_work() {
    let mut pre = pre_state(2, false);
    let mut block = padded(SpecId::CANCUN, Vec::new(), &mut pre);
    // Each to a recipient of its own. `padded` shares eight, and each of its
    // zero-value transfers writes its recipient (touched, empty), which the
    // next transfer to it reads: one a helper ran ahead of a writer the
    // threads had not reached went stale when the in-order finish ran that
    // writer, and ran again (48 executions where the bound is 44, about one
    // run in a hundred).
    for (i, tx) in block.transactions.iter_mut().enumerate() {
        tx.kind = TxKind::Call(Address::with_last_byte(0xc0 + i as u8));
    }
    let n = block.transactions.len() as u64;
    let seq = execute_sequential(&block, &pre).unwrap();
    for threads in [2, 4] {
        let options = gaslab_evm::ParallelOptions {
            never_bail: true,
            give_up_after: Some(n / 2),
            ..Default::default()
        };
        let (par, stats) =
            gaslab_evm::execute_parallel_with(&block, &pre, threads, &options).unwrap();
        assert_eq!(par.digest(), seq.digest());
        assert_eq!(stats.fallback, Some(gaslab_evm::Fallback::TooDependent));
        // The threads' executions, each at most once more in order.
        assert!(
            stats.executions <= n + threads as u64,
            "{threads} threads: {stats:?}"
        );
    }
}

/// A lazy transfer's sender is checked against its real account in the
/// fold: one wei short of the second transfer's most it may spend, or a
/// nonce gap, is an invalid block; exactly enough is not.
#[test]
fn a_lazy_sender_is_held_to_its_real_balance() {
    let never_bail = gaslab_evm::ParallelOptions {
        never_bail: true,
        ..Default::default()
    };
    // Each transfer may spend 21,000 gas at 10 wei and 1 wei of value.
    let most = 21_000 * 10 + 1;
    for (balance, nonce, valid) in [
        (2 * most, 1, true),
        (2 * most - 1, 1, false),
        (2 * most, 2, false),
    ] {
        let mut pre = pre_state(2, false);
        // Above the precompiles' range, so the transfers run lazily.
        let poor = Address::repeat_byte(0x30);
        let to = Address::repeat_byte(0x31);
        pre.insert_account(poor, U256::from(balance), 0, Bytes::new());
        let txs = vec![
            tx(poor, 0, TxKind::Call(to), 1, Bytes::new(), 21_000),
            tx(poor, nonce, TxKind::Call(to), 1, Bytes::new(), 21_000),
        ];
        let block = padded(SpecId::CANCUN, txs, &mut pre);
        let seq = execute_sequential(&block, &pre);
        let par = gaslab_evm::execute_parallel_with(&block, &pre, 2, &never_bail);
        assert_eq!(seq.is_ok(), valid, "balance {balance}, nonce {nonce}");
        match (par, seq) {
            (Ok((out, stats)), Ok(seq)) => {
                assert_eq!(out.digest(), seq.digest());
                assert_eq!(stats.fallback, None);
            }
            (Err(p), Err(s)) => assert_eq!(p.to_string(), s.to_string()),
            (p, s) => panic!("parallel {:?} but sequential {:?}", p.is_ok(), s.is_ok()),
        }
    }
}

/// A mining pool's payouts from the beneficiary are one sender's nonce
/// chain. Heading a block, they send it down the sequential path only when
/// they are two fifths of its gas or more: 30 payouts before 40
/// transactions that may each spend 20 times as much are not.
#[test]
fn a_payout_chain_is_judged_by_its_share_of_the_block() {
    let payouts = |count: usize| -> Vec<TxEnv> {
        (0..count)
            .map(|i| {
                tx(
                    COINBASE,
                    i as u64,
                    TxKind::Call(eoa(i % 8)),
                    1,
                    Bytes::new(),
                    21_000,
                )
            })
            .collect()
    };
    let mut pre = pre_state(8, true);
    let mut txs = payouts(30);
    for i in 0..40 {
        let sender = Address::with_last_byte(0x80 + i as u8);
        pre.insert_account(sender, U256::from(10u64.pow(18)), 0, Bytes::new());
        let to = Address::with_last_byte(0xc0 + (i % 8) as u8);
        txs.push(tx(sender, 0, TxKind::Call(to), 5, Bytes::new(), 420_000));
    }
    let heavy_after = Block {
        context: context(SpecId::CANCUN),
        transactions: txs,
    };
    let only_payouts = Block {
        context: context(SpecId::CANCUN),
        transactions: payouts(70),
    };
    for (block, chain) in [(heavy_after, false), (only_payouts, true)] {
        let seq = execute_sequential(&block, &pre).unwrap();
        let (par, stats) = execute_parallel(&block, &pre, 2).unwrap();
        assert_eq!(par.digest(), seq.digest());
        assert_eq!(
            stats.fallback == Some(gaslab_evm::Fallback::SenderChain),
            chain,
            "{stats:?}"
        );
    }
}

#[test]
fn small_blocks_and_one_thread_run_sequentially() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (block, pre) = random_block(&mut rng, 5);
    let (_, stats) = execute_parallel(&block, &pre, 4).unwrap();
    assert_eq!(stats.fallback, Some(gaslab_evm::Fallback::SmallBlock));
    let (block, pre) = random_block(&mut rng, 50);
    let (_, stats) = execute_parallel(&block, &pre, 1).unwrap();
    assert_eq!(stats.fallback, Some(gaslab_evm::Fallback::OneThread));
}

#[test]
fn large_random_blocks_match_sequential_under_contention() {
    let mut conflicts = 0;
    for seed in 0..6 {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
        let (block, pre) = random_block(&mut rng, 3000);
        let seq = execute_sequential(&block, &pre);
        // Never bailing, so every block folds on several threads (over
        // 2048 transactions each thread folds a part).
        let options = gaslab_evm::ParallelOptions {
            never_bail: true,
            ..Default::default()
        };
        let threads = 2 + seed as usize % 3;
        let (out, stats) = match gaslab_evm::execute_parallel_with(&block, &pre, threads, &options)
        {
            Ok(r) => r,
            Err(e) => {
                assert_eq!(seq.unwrap_err().to_string(), e.to_string());
                continue;
            }
        };
        if std::env::var("GASLAB_DIFF_VERBOSE").is_ok() {
            eprintln!("large {seed}: {stats:?}");
        }
        assert_eq!(seq.unwrap(), out, "large seed {seed}");
        conflicts += stats.conflicts;
    }
    assert!(
        conflicts > 0,
        "blocks this contended must conflict somewhere"
    );
}
