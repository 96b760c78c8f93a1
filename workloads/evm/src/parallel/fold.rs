//! Turns the finished multi-version memory into the block's output: receipts
//! in block order, the checks a lazy sender skipped, and the state diff read
//! straight from every location's last value, so no transaction's state is
//! committed a second time and most of the work runs on every thread.

use super::memory::{Final, MvMemory};
use super::vm::TxOutcome;
use crate::output::{AccountChange, BlockOutput, Receipt};
use crate::{Block, PreState};
use revm::context::Cfg;
use revm::context::CfgEnv;
use revm::handler::pre_execution::{calculate_caller_fee, validate_account_nonce_and_code};
use revm::primitives::{Address, KECCAK_EMPTY, U256};
use revm::state::AccountInfo;
use std::collections::BTreeMap;
use std::sync::Barrier;

/// None when some transaction turns out invalid (the caller then runs the
/// block sequentially, which reports it).
pub(super) fn fold(
    block: &Block,
    pre: &PreState,
    cfg: &CfgEnv,
    mv: &MvMemory<'_>,
    outcomes: Vec<TxOutcome>,
    threads: usize,
) -> Option<BlockOutput> {
    // Lazy senders and the beneficiary are read before any thread empties
    // a shard.
    let checked = Barrier::new(threads);
    let (finals, lazy_ok) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (outcomes, checked) = (&outcomes, &checked);
                s.spawn(move || {
                    let ok = lazy_senders_valid(block, cfg, mv, outcomes, t, threads);
                    let coinbase = (t == 0).then(|| mv.final_coinbase());
                    checked.wait();
                    let mut finals = mv.take_finals(t, threads);
                    finals.extend(coinbase);
                    (finals, ok)
                })
            })
            .collect();
        let mut finals = Vec::new();
        let mut ok = true;
        for w in workers {
            let (f, o) = w.join().expect("fold worker panicked");
            finals.extend(f);
            ok &= o;
        }
        (finals, ok)
    });
    if !lazy_ok {
        return None;
    }

    let gas_limit = block.context.env.gas_limit;
    let mut receipts = Vec::with_capacity(outcomes.len());
    let mut cumulative = 0u64;
    for outcome in outcomes {
        let result = outcome.result.ok()?;
        cumulative += result.tx_gas_used();
        if cumulative > gas_limit {
            return None;
        }
        receipts.push(Receipt {
            success: result.is_success(),
            gas_used: result.tx_gas_used(),
            cumulative_gas_used: cumulative,
            logs: result.into_logs(),
        });
    }
    Some(BlockOutput {
        receipts,
        changes: state_diff(pre, finals),
        gas_used: cumulative,
    })
}

/// A lazy transfer ran against a mock sender: its real nonce and balance,
/// as the transactions below it left them, must pass revm's own checks.
/// Checks every `step`-th transaction from `first`.
fn lazy_senders_valid(
    block: &Block,
    cfg: &CfgEnv,
    mv: &MvMemory<'_>,
    outcomes: &[TxOutcome],
    first: usize,
    step: usize,
) -> bool {
    let env = &block.context.env;
    (first..outcomes.len()).step_by(step).all(|i| {
        let Some(lazy) = outcomes[i].lazy else {
            return true;
        };
        let Ok((basic, _)) = mv.read_basic(i, lazy.sender, None) else {
            return false;
        };
        let (balance, nonce) = basic.unwrap_or_default();
        let real = AccountInfo {
            balance,
            nonce,
            code_hash: KECCAK_EMPTY,
            ..Default::default()
        };
        let tx = &block.transactions[i];
        validate_account_nonce_and_code(
            &real,
            tx.nonce,
            cfg.is_eip3607_disabled(),
            cfg.is_nonce_check_disabled(),
        )
        .is_ok()
            && calculate_caller_fee(balance, tx, env, cfg).is_ok()
    })
}

/// Groups the locations' last values by account and keeps what differs
/// from the pre-state, by the rule the sequential executor uses.
fn state_diff(
    pre: &PreState,
    mut finals: Vec<(Address, Final)>,
) -> BTreeMap<Address, AccountChange> {
    finals.sort_unstable_by_key(|f| f.0);
    let mut changes = Vec::new();
    for group in finals.chunk_by(|a, b| a.0 == b.0) {
        let address = group[0].0;
        let before = pre
            .account(&address)
            .map(|a| (a.balance, a.nonce, a.code_hash));
        let (mut balance, mut nonce, mut code_hash) =
            before.unwrap_or((U256::ZERO, 0, KECCAK_EMPTY));
        let mut reset = None;
        for (_, f) in group {
            match f {
                Final::Basic(b) => (balance, nonce) = b.unwrap_or_default(),
                Final::Code(hash) => code_hash = *hash,
                Final::Reset(writer) => reset = Some(*writer),
                Final::Storage(..) => {}
            }
        }
        let mut storage = BTreeMap::new();
        for (_, f) in group {
            let Final::Storage(slot, versions) = f else {
                continue;
            };
            let pre_value = || pre.storage_slot(&address, slot);
            let value = versions.resolve(reset, pre_value);
            // Once wiped, a slot's base is zero.
            let base = if reset.is_some() {
                U256::ZERO
            } else {
                pre_value()
            };
            if value != base {
                storage.insert(*slot, value);
            }
        }
        if let Some(change) = AccountChange::between(
            before,
            (balance, nonce, code_hash),
            reset.is_some(),
            storage,
        ) {
            changes.push((address, change));
        }
    }
    // Already sorted by address: a bulk load.
    changes.into_iter().collect()
}
