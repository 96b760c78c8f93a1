//! The generated pre-state and block `prove.stateless` executes: funded
//! senders calling storage contracts that update, insert and delete slots,
//! among idle accounts that make the trie realistically deep.

use crate::evm::chain::{block_context, call, random_address};
use gaslab_evm::revm::primitives::{Address, Bytes, U256};
use gaslab_evm::{Block, PreState};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `SLOAD(calldata[64..96]); SSTORE(calldata[0..32], calldata[32..64]); STOP`.
/// A zero value deletes the slot.
pub const STORE_CODE: [u8; 13] = [
    0x60, 0x40, 0x35, 0x54, 0x50, // PUSH1 64 CALLDATALOAD SLOAD POP
    0x60, 0x20, 0x35, // PUSH1 32 CALLDATALOAD   (value)
    0x60, 0x00, 0x35, // PUSH1 0 CALLDATALOAD    (slot)
    0x55, 0x00, // SSTORE STOP
];
pub const CALL_GAS: u64 = 100_000;

/// How big the generated world is.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub txs: usize,
    pub contracts: usize,
    /// Filled slots per contract before the block.
    pub slots: usize,
    /// Accounts the block never touches.
    pub idle_accounts: usize,
    /// Percentage of transactions that delete a filled slot.
    pub delete_pct: u32,
}

/// Deterministic in `seed`.
pub fn generate(shape: Shape, seed: u64) -> (Block, PreState) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pre = PreState::new();
    let funding = U256::from(10u128.pow(18));
    let contracts: Vec<Address> = (0..shape.contracts.max(1))
        .map(|_| random_address(&mut rng))
        .collect();
    for &c in &contracts {
        pre.insert_account(c, U256::ZERO, 1, Bytes::from_static(&STORE_CODE));
        for slot in 1..=shape.slots as u64 {
            let value = U256::from(rng.random_range(1..u64::MAX));
            pre.insert_storage(c, U256::from(slot), value);
        }
    }
    for _ in 0..shape.idle_accounts {
        pre.insert_account(random_address(&mut rng), funding, 1, Bytes::new());
    }
    let mut transactions = Vec::with_capacity(shape.txs);
    for _ in 0..shape.txs {
        let sender = random_address(&mut rng);
        pre.insert_account(sender, funding, 0, Bytes::new());
        let contract = contracts[rng.random_range(0..contracts.len())];
        let filled = U256::from(rng.random_range(1..=shape.slots.max(1) as u64));
        let (slot, value) = if rng.random_range(0..100) < shape.delete_pct {
            (filled, U256::ZERO)
        } else if rng.random_bool(0.5) {
            (filled, U256::from(rng.random_range(1..u64::MAX)))
        } else {
            let fresh = U256::from(rng.random_range(1u64 << 32..u64::MAX));
            (fresh, U256::from(rng.random_range(1..u64::MAX)))
        };
        let read = U256::from(rng.random_range(1..=shape.slots.max(1) as u64));
        let mut input = Vec::with_capacity(96);
        input.extend_from_slice(&slot.to_be_bytes::<32>());
        input.extend_from_slice(&value.to_be_bytes::<32>());
        input.extend_from_slice(&read.to_be_bytes::<32>());
        let mut tx = call(sender, 0, contract, U256::ZERO, CALL_GAS);
        tx.data = Bytes::from(input);
        transactions.push(tx);
    }
    let block = Block {
        context: block_context(shape.txs as u64 * CALL_GAS),
        transactions,
    };
    (block, pre)
}
