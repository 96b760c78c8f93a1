//! A block folder (block.json, pre_state.json, block_hashes.json) into a
//! block ready to execute, its pre-state and the header to check it against.

use crate::hardfork::mainnet_spec;
use crate::pre_state::{read_block_hashes, read_pre_state};
use crate::{json_file, MainnetError};
use alloy_consensus::transaction::Recovered;
use alloy_consensus::{Header, Transaction as _, TxEnvelope, TxType};
use alloy_eips::Typed2718;
use alloy_primitives::U256;
use alloy_rpc_types_eth::{Block as RpcBlock, BlockTransactions};
use gaslab_evm::revm::context::{BlockEnv, TxEnv};
use gaslab_evm::revm::context_interface::block::BlobExcessGasAndPrice;
use gaslab_evm::revm::context_interface::either::Either;
use gaslab_evm::revm::primitives::hardfork::SpecId;
use gaslab_evm::{Block, BlockContext, PreState};
use std::path::{Path, PathBuf};

pub const BLOCK_FILE: &str = "block.json";
pub const PRE_STATE_FILE: &str = "pre_state.json";
pub const BLOCK_HASHES_FILE: &str = "block_hashes.json";
/// Mainnet's chain id; pre-EIP-155 transactions carry none.
pub const MAINNET_CHAIN_ID: u64 = 1;

/// A mainnet block with everything needed to execute and verify it.
#[derive(Debug, Clone)]
pub struct MainnetBlock {
    pub dir: PathBuf,
    pub number: u64,
    pub spec: SpecId,
    /// The chain's own header: the oracle an execution is checked against.
    pub header: Header,
    /// Each transaction's type, which its receipt's encoding carries.
    pub tx_types: Vec<TxType>,
    pub block: Block,
    pub pre: PreState,
}

impl MainnetBlock {
    pub fn gas_used(&self) -> u64 {
        self.header.gas_used
    }
}

/// Loads the block folder `dir`.
pub fn load(dir: &Path) -> Result<MainnetBlock, MainnetError> {
    let block_file = dir.join(BLOCK_FILE);
    let rpc: RpcBlock = json_file::read(&block_file)?;
    let header = rpc.header.inner;
    let spec = mainnet_spec(header.number).ok_or_else(|| {
        MainnetError::field(
            &block_file,
            "number",
            format!(
                "block {} is from Prague on; this replay knows mainnet rules up to Cancun",
                header.number
            ),
        )
    })?;
    let BlockTransactions::Full(rpc_txs) = rpc.transactions else {
        return Err(MainnetError::field(
            &block_file,
            "transactions",
            "holds hashes only; fetch the block with full transactions (eth_getBlockByNumber(n, true))",
        ));
    };

    let mut tx_types = Vec::with_capacity(rpc_txs.len());
    let mut transactions = Vec::with_capacity(rpc_txs.len());
    for (index, tx) in rpc_txs.into_iter().enumerate() {
        let ty = TxType::try_from(tx.inner.ty()).map_err(|e| {
            MainnetError::field(&block_file, &format!("transactions[{index}].type"), e)
        })?;
        tx_types.push(ty);
        transactions.push(tx_env(&tx.inner));
    }

    let mut pre = read_pre_state(&dir.join(PRE_STATE_FILE))?;
    let hashes = dir.join(BLOCK_HASHES_FILE);
    if hashes.exists() {
        read_block_hashes(&hashes, &mut pre)?;
    }

    Ok(MainnetBlock {
        dir: dir.to_path_buf(),
        number: header.number,
        spec,
        block: Block {
            context: BlockContext {
                env: block_env(&header, spec),
                spec,
                chain_id: MAINNET_CHAIN_ID,
            },
            transactions,
        },
        header,
        tx_types,
        pre,
    })
}

fn block_env(header: &Header, spec: SpecId) -> BlockEnv {
    BlockEnv {
        number: U256::from(header.number),
        beneficiary: header.beneficiary,
        timestamp: U256::from(header.timestamp),
        gas_limit: header.gas_limit,
        basefee: header.base_fee_per_gas.unwrap_or_default(),
        difficulty: header.difficulty,
        // DIFFICULTY reads prevrandao from the Merge on, `difficulty` before.
        prevrandao: spec.is_enabled_in(SpecId::MERGE).then_some(header.mix_hash),
        blob_excess_gas_and_price: header
            .excess_blob_gas
            .map(|excess| BlobExcessGasAndPrice::new_with_spec(excess, spec)),
        ..Default::default()
    }
}

/// The transaction as revm runs it; the sender is the block's `from`.
fn tx_env(tx: &Recovered<TxEnvelope>) -> TxEnv {
    let inner = tx.inner();
    TxEnv {
        tx_type: inner.ty(),
        caller: tx.signer(),
        gas_limit: inner.gas_limit(),
        // Legacy and EIP-2930: the gas price; EIP-1559 on: the fee cap.
        gas_price: inner.max_fee_per_gas(),
        kind: inner.kind(),
        value: inner.value(),
        data: inner.input().clone(),
        nonce: inner.nonce(),
        chain_id: inner.chain_id(),
        access_list: inner.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: inner.max_priority_fee_per_gas(),
        blob_hashes: inner
            .blob_versioned_hashes()
            .map(<[_]>::to_vec)
            .unwrap_or_default(),
        max_fee_per_blob_gas: inner.max_fee_per_blob_gas().unwrap_or_default(),
        authorization_list: inner
            .authorization_list()
            .map(|list| list.iter().cloned().map(Either::Left).collect())
            .unwrap_or_default(),
    }
}

/// Block folders named by `paths`: a folder holding block.json is one; a
/// folder holding such folders expands to them, in block-number order.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, MainnetError> {
    let mut dirs = Vec::new();
    for path in paths {
        if path.join(BLOCK_FILE).is_file() {
            dirs.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path).map_err(|source| MainnetError::Io {
            file: path.clone(),
            source,
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join(BLOCK_FILE).is_file())
            .collect();
        if found.is_empty() {
            return Err(MainnetError::field(
                path,
                BLOCK_FILE,
                "neither a block folder nor a folder of block folders",
            ));
        }
        found.sort_by_key(|p| sort_key(p));
        dirs.extend(found);
    }
    Ok(dirs)
}

/// Folders named by block number sort numerically; others after, by name.
fn sort_key(path: &Path) -> (u64, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (name.parse().unwrap_or(u64::MAX), name)
}
