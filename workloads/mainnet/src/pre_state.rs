//! The pre-state files: geth's `prestateTracer` output (every account the
//! block touches, as it was before the block) and the BLOCKHASH ancestors.

use crate::{json_file, MainnetError};
use alloy_primitives::{Address, Bytes, B256, U256};
use gaslab_evm::PreState;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One account as the prestateTracer prints it. Newer geth leaves out a
/// zero balance and a zero nonce, so both default to zero.
#[derive(Debug, Deserialize)]
struct TracedAccount {
    #[serde(default)]
    balance: U256,
    #[serde(default)]
    nonce: Quantity,
    #[serde(default)]
    code: Option<Bytes>,
    #[serde(default)]
    storage: Option<HashMap<B256, B256>>,
}

/// geth prints the nonce as a JSON number; some tools print it as hex.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Quantity {
    #[default]
    Zero,
    Number(u64),
    Hex(alloy_primitives::U64),
}

impl Quantity {
    fn value(&self) -> u64 {
        match self {
            Quantity::Zero => 0,
            Quantity::Number(n) => *n,
            Quantity::Hex(n) => n.to(),
        }
    }
}

/// Reads `pre_state.json` into an in-memory state that refuses unknown
/// BLOCKHASH ancestors (a real chain's hashes cannot be made up).
pub fn read_pre_state(file: &Path) -> Result<PreState, MainnetError> {
    let accounts: BTreeMap<Address, TracedAccount> = json_file::read(file)?;
    let mut pre = PreState::new();
    pre.require_known_block_hashes();
    for (address, account) in accounts {
        pre.insert_account(
            address,
            account.balance,
            account.nonce.value(),
            account.code.unwrap_or_default(),
        );
        for (slot, value) in account.storage.unwrap_or_default() {
            pre.insert_storage(address, slot.into(), value.into());
        }
    }
    Ok(pre)
}

/// Reads `block_hashes.json` (`{"number": "0xhash"}`) into `pre`.
pub fn read_block_hashes(file: &Path, pre: &mut PreState) -> Result<(), MainnetError> {
    let hashes: BTreeMap<String, B256> = json_file::read(file)?;
    for (number, hash) in hashes {
        let parsed = number
            .parse::<u64>()
            .map_err(|e| MainnetError::field(file, &number, format!("not a block number: {e}")))?;
        pre.insert_block_hash(parsed, hash);
    }
    Ok(())
}
