//! The reference executor: revm, one transaction after another.

use crate::block_cache::BlockCache;
use crate::output::{BlockOutput, Receipt};
use crate::{Block, ExecutionError, PreState};
use revm::context::result::EVMError;
use revm::context::{CfgEnv, Context};
use revm::database_interface::DatabaseRef;
use revm::handler::{ExecuteCommitEvm, MainBuilder, MainContext};

/// Executes `block` on top of `pre`, leaving `pre` untouched.
pub fn execute_sequential(block: &Block, pre: &PreState) -> Result<BlockOutput, ExecutionError> {
    execute_sequential_on(block, pre)
}

/// Executes `block` on top of any read-only state (a witness, a remote
/// node's cache ...), leaving it untouched. The state diff is taken against
/// what `pre` answers, so `pre` must answer the same way twice.
// Out of line: its transaction loop is compiled the same whoever calls it.
#[inline(never)]
pub fn execute_sequential_on<DB: DatabaseRef>(
    block: &Block,
    pre: DB,
) -> Result<BlockOutput, ExecutionError> {
    let ctx = &block.context;
    let mut cfg = CfgEnv::new_with_spec(ctx.spec);
    cfg.chain_id = ctx.chain_id;
    // A transaction touches about two accounts; growing the cache from
    // empty rehashed every account several times (a sixth of a gigagas
    // transfer block's time, by perf).
    let db = BlockCache::new(pre, 2 * block.transactions.len() + 1);
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

    let changes = evm.ctx.journaled_state.database.state_diff();
    Ok(BlockOutput {
        receipts,
        changes: changes.map_err(|reason| ExecutionError::StateDiff { reason })?,
        gas_used: cumulative,
    })
}
