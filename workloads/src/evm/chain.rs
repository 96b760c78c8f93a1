//! The chain every generated block lives on: one place for the fork, fees
//! and coinbase, so generators differ only in their transactions.

use gaslab_evm::revm::context::{BlockEnv, TxEnv};
use gaslab_evm::revm::primitives::hardfork::SpecId;
use gaslab_evm::revm::primitives::{address, Address, TxKind, B256, U256};
use gaslab_evm::BlockContext;
use rand::RngCore;

pub const CHAIN_ID: u64 = 1;
pub const COINBASE: Address = address!("0000000000000000000000000000000000c0ffee");
pub const BASE_FEE: u64 = 1_000_000_000;
/// Legacy gas price: base fee plus a tip that goes to the coinbase.
pub const GAS_PRICE: u128 = 2_000_000_000;

/// A Cancun block whose gas limit fits `gas_needed`.
pub fn block_context(gas_needed: u64) -> BlockContext {
    let env = BlockEnv {
        number: U256::from(20_000_000u64),
        beneficiary: COINBASE,
        timestamp: U256::from(1_720_000_000u64),
        gas_limit: gas_needed.max(30_000_000),
        basefee: BASE_FEE,
        prevrandao: Some(B256::with_last_byte(7)),
        ..Default::default()
    };
    BlockContext {
        env,
        spec: SpecId::CANCUN,
        chain_id: CHAIN_ID,
    }
}

/// A random, practically unique address.
pub fn random_address(rng: &mut impl RngCore) -> Address {
    let mut bytes = [0u8; 20];
    rng.fill_bytes(&mut bytes);
    Address::from(bytes)
}

/// A legacy call from `caller` with a chain id (EIP-155).
pub fn call(caller: Address, nonce: u64, to: Address, value: U256, gas_limit: u64) -> TxEnv {
    TxEnv {
        tx_type: 0,
        caller,
        gas_limit,
        gas_price: GAS_PRICE,
        kind: TxKind::Call(to),
        value,
        nonce,
        chain_id: Some(CHAIN_ID),
        ..Default::default()
    }
}
