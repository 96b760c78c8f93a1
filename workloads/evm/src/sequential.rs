//! The reference executor: revm, one transaction after another.

use crate::output::{AccountChange, BlockOutput, Receipt, StateDiff};
use crate::{Block, ExecutionError, PreState};
use revm::context::result::EVMError;
use revm::context::{CfgEnv, Context};
use revm::database::{AccountState, CacheDB};
use revm::database_interface::DatabaseRef;
use revm::handler::{ExecuteCommitEvm, MainBuilder, MainContext};
use revm::primitives::{Address, U256};
use std::collections::BTreeMap;

/// Executes `block` on top of `pre`, leaving `pre` untouched.
pub fn execute_sequential(block: &Block, pre: &PreState) -> Result<BlockOutput, ExecutionError> {
    execute_sequential_on(block, pre)
}

/// Executes `block` on top of any read-only state (a witness, a remote
/// node's cache ...), leaving it untouched. The state diff is taken against
/// what `pre` answers, so `pre` must answer the same way twice.
pub fn execute_sequential_on<DB: DatabaseRef>(
    block: &Block,
    pre: DB,
) -> Result<BlockOutput, ExecutionError> {
    let ctx = &block.context;
    let mut cfg = CfgEnv::new_with_spec(ctx.spec);
    cfg.chain_id = ctx.chain_id;
    let mut db = CacheDB::new(pre);
    // A transaction touches about two accounts; growing the cache from
    // empty rehashed every account several times (a sixth of a gigagas
    // transfer block's time, by perf).
    db.cache.accounts.reserve(2 * block.transactions.len() + 1);
    let mut evm = Context::mainnet()
        .with_db(db)
        .with_block(ctx.env.clone())
        .with_cfg(cfg)
        .build_mainnet();

    let mut receipts = Vec::with_capacity(block.transactions.len());
    let mut cumulative = 0u64;
    for (index, tx) in block.transactions.iter().enumerate() {
        let result = evm.transact_commit(tx.clone()).map_err(|e| match e {
            EVMError::Transaction(t) => ExecutionError::InvalidTransaction {
                index,
                reason: t.to_string(),
            },
            other => ExecutionError::Database {
                index,
                reason: other.to_string(),
            },
        })?;
        let gas_used = result.tx_gas_used();
        cumulative += gas_used;
        if cumulative > ctx.env.gas_limit {
            return Err(ExecutionError::BlockGasLimit {
                index,
                used: cumulative,
                limit: ctx.env.gas_limit,
            });
        }
        receipts.push(Receipt {
            success: result.is_success(),
            gas_used,
            cumulative_gas_used: cumulative,
            logs: result.into_logs(),
        });
    }

    let db = &evm.ctx.journaled_state.database;
    Ok(BlockOutput {
        receipts,
        changes: state_diff(db)?,
        gas_used: cumulative,
    })
}

/// Every account whose state after the block differs from the state below
/// the cache.
pub(crate) fn state_diff<DB: DatabaseRef>(db: &CacheDB<DB>) -> Result<StateDiff, ExecutionError> {
    let pre = &db.db;
    let after_block = |e: DB::Error| ExecutionError::StateDiff {
        reason: e.to_string(),
    };
    // Visited in address order, so the changes come out sorted. An account
    // only loaded (never committed) is as it was and needs no look at the
    // pre-state. Sorted by the address's first eight bytes, held inline, so
    // comparisons rarely chase the references.
    let mut accounts: Vec<_> = db
        .cache
        .accounts
        .iter()
        .filter(|(_, a)| a.account_state != AccountState::None)
        .map(|(address, account)| (sort_key(address), address, account))
        .collect();
    accounts.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let mut changes = Vec::with_capacity(accounts.len());
    for (_, address, account) in accounts {
        let before = pre.basic_ref(*address).map_err(after_block)?;
        // A self-destructed account that existed is wiped, like a created one.
        let storage_cleared = match account.account_state {
            AccountState::StorageCleared => true,
            AccountState::NotExisting => before.is_some(),
            _ => false,
        };
        let mut storage = BTreeMap::new();
        for (slot, value) in &account.storage {
            let base = if storage_cleared {
                U256::ZERO
            } else {
                pre.storage_ref(*address, *slot).map_err(after_block)?
            };
            if *value != base {
                storage.insert(*slot, *value);
            }
        }
        let info = &account.info;
        let before = before.map(|b| (b.balance, b.nonce, b.code_hash));
        let after = (info.balance, info.nonce, info.code_hash);
        if let Some(change) = AccountChange::between(before, after, storage_cleared, storage) {
            changes.push((*address, change));
        }
    }
    Ok(StateDiff::from_sorted(changes))
}

fn sort_key(address: &Address) -> u64 {
    u64::from_be_bytes(address.0[..8].try_into().unwrap())
}
