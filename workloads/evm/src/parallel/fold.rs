//! Folds the transactions' final incarnations, in block order, into the
//! `CacheDB` the sequential executor would end with: lazy balances become
//! real ones here, and the checks a lazy sender skipped are made here.

use super::vm::{TxOutcome, MOCK_SENDER_BALANCE};
use crate::output::{BlockOutput, Receipt};
use crate::sequential::state_diff;
use crate::{Block, PreState};
use revm::context::Cfg;
use revm::context::CfgEnv;
use revm::database::CacheDB;
use revm::database_interface::{Database, DatabaseCommit};
use revm::handler::pre_execution::{calculate_caller_fee, validate_account_nonce_and_code};
use revm::primitives::U256;
use revm::state::{Account, AccountInfo};

/// None when some transaction turns out invalid (the caller then runs the
/// block sequentially, which reports it).
pub(super) fn fold(
    block: &Block,
    pre: &PreState,
    cfg: &CfgEnv,
    outcomes: Vec<TxOutcome>,
) -> Option<BlockOutput> {
    let env = &block.context.env;
    let coinbase = env.beneficiary;
    let mut db = CacheDB::new(pre);
    let mut receipts = Vec::with_capacity(outcomes.len());
    let mut cumulative = 0u64;
    // Fees not yet paid into `db`: the beneficiary is written once, not per transaction.
    let mut pending_fees: Option<U256> = None;
    for (outcome, tx) in outcomes.into_iter().zip(&block.transactions) {
        let result = outcome.result.ok()?;
        let mut state = outcome.state;
        if let Some(lazy) = outcome.lazy {
            let real: AccountInfo = db.basic(lazy.sender).ok()?.unwrap_or_default();
            validate_account_nonce_and_code(
                &real,
                tx.nonce,
                cfg.is_eip3607_disabled(),
                cfg.is_nonce_check_disabled(),
            )
            .ok()?;
            calculate_caller_fee(real.balance, tx, env, cfg).ok()?;
            let sender = state.get_mut(&lazy.sender)?;
            let spent = MOCK_SENDER_BALANCE - sender.info.balance;
            sender.info.balance = real.balance.checked_sub(spent)?;
            sender.info.nonce = real.nonce + 1;
            let real = db.basic(lazy.recipient).ok()?.unwrap_or_default();
            let recipient = state.get_mut(&lazy.recipient)?;
            recipient.info.balance = real.balance.checked_add(recipient.info.balance)?;
            recipient.info.nonce = real.nonce;
        }
        match (state.get_mut(&coinbase), outcome.reward) {
            // The transaction read the beneficiary for real, so its value
            // already holds every earlier fee.
            (Some(account), Some(reward)) => {
                account.info.balance = account.info.balance.checked_add(reward)?;
                account.mark_touch();
                pending_fees = None;
            }
            (Some(account), None) if account.is_touched() => pending_fees = None,
            (_, Some(reward)) => {
                pending_fees = Some(pending_fees.unwrap_or_default().checked_add(reward)?)
            }
            _ => {}
        }
        db.commit(state);
        let gas_used = result.tx_gas_used();
        cumulative += gas_used;
        if cumulative > env.gas_limit {
            return None;
        }
        receipts.push(Receipt {
            success: result.is_success(),
            gas_used,
            cumulative_gas_used: cumulative,
            logs: result.into_logs(),
        });
    }
    if let Some(fees) = pending_fees {
        let mut info = db.basic(coinbase).ok()?.unwrap_or_default();
        info.balance = info.balance.checked_add(fees)?;
        let mut account = Account::from(info);
        account.mark_touch();
        db.commit([(coinbase, account)].into_iter().collect());
    }
    Some(BlockOutput {
        changes: state_diff(&db).ok()?,
        receipts,
        gas_used: cumulative,
    })
}
