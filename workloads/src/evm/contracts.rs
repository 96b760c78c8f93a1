//! The workloads' own Solidity contracts (workloads/contracts/), as runtime
//! bytecode compiled by solc from npm and committed beside the sources, and
//! the ABI encoding and storage layout the generators need.

use gaslab_evm::revm::primitives::{hex, keccak256, Address, Bytes, U256};

pub const TOKEN_RUNTIME_HEX: &str = include_str!("../../contracts/Token.bin-runtime");
pub const POOL_RUNTIME_HEX: &str = include_str!("../../contracts/Pool.bin-runtime");

pub fn token_runtime() -> Bytes {
    hex::decode(TOKEN_RUNTIME_HEX.trim())
        .expect("committed bytecode is hex")
        .into()
}

pub fn pool_runtime() -> Bytes {
    hex::decode(POOL_RUNTIME_HEX.trim())
        .expect("committed bytecode is hex")
        .into()
}

/// Storage slot of `mapping(address => uint256)` entry `key` declared at `slot`.
pub fn mapping_slot(key: Address, slot: u64) -> U256 {
    let mut preimage = [0u8; 64];
    preimage[12..32].copy_from_slice(key.as_slice());
    preimage[32..].copy_from_slice(&U256::from(slot).to_be_bytes::<32>());
    U256::from_be_bytes(keccak256(preimage).0)
}

fn selector(signature: &str) -> [u8; 4] {
    keccak256(signature.as_bytes()).0[..4].try_into().unwrap()
}

fn word(v: U256) -> [u8; 32] {
    v.to_be_bytes::<32>()
}

/// Calldata of `Token.transfer(to, value)`.
pub fn token_transfer(to: Address, value: U256) -> Bytes {
    let mut data = selector("transfer(address,uint256)").to_vec();
    data.extend(word(U256::from_be_slice(to.as_slice())));
    data.extend(word(value));
    data.into()
}

/// Calldata of `Pool.swap(zeroForOne, amountIn, minOut)`.
pub fn pool_swap(zero_for_one: bool, amount_in: U256, min_out: U256) -> Bytes {
    let mut data = selector("swap(bool,uint256,uint256)").to_vec();
    data.extend(word(U256::from(zero_for_one as u8)));
    data.extend(word(amount_in));
    data.extend(word(min_out));
    data.into()
}

/// Token storage: `balanceOf` at slot 0.
pub const TOKEN_BALANCES_SLOT: u64 = 0;
/// Pool storage: reserves at 0 and 1, internal balances at 2 and 3.
pub const POOL_RESERVE0_SLOT: u64 = 0;
pub const POOL_RESERVE1_SLOT: u64 = 1;
pub const POOL_BALANCE0_SLOT: u64 = 2;
pub const POOL_BALANCE1_SLOT: u64 = 3;

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    /// The committed bytecode is what solc makes of the committed sources.
    /// Skipped (with a note) where solcjs is not installed; CI installs it.
    #[test]
    fn committed_bytecode_matches_a_fresh_solc_build() {
        if Command::new("solcjs").arg("--version").output().is_err() {
            eprintln!("solcjs not installed: `npm install -g solc@0.8.28` to check the bytecode");
            return;
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts");
        let out = std::env::temp_dir().join(format!("gaslab-solc-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        let status = Command::new(dir.join("build.sh"))
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "build.sh failed");
        for name in ["Token", "Pool"] {
            let file = format!("{name}.bin-runtime");
            let fresh = std::fs::read_to_string(out.join(&file)).unwrap();
            let committed = std::fs::read_to_string(dir.join(&file)).unwrap();
            assert_eq!(
                fresh.trim(),
                committed.trim(),
                "{file} is stale: run contracts/build.sh"
            );
        }
        std::fs::remove_dir_all(&out).ok();
    }

    #[test]
    fn calldata_has_the_abi_layout() {
        let data = token_transfer(Address::with_last_byte(1), U256::from(5));
        assert_eq!(hex::encode(&data[..4]), "a9059cbb");
        assert_eq!(data.len(), 68);
        assert_eq!(pool_swap(true, U256::from(1), U256::ZERO).len(), 100);
    }
}
