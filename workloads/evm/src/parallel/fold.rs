//! Turns the finished multi-version memory into the block's output: receipts
//! in block order, the checks a lazy sender skipped, and the state diff read
//! straight from every location's last value. No transaction's state is
//! committed a second time, and all but a prefix sum of gas runs on every
//! thread.

use super::memory::{Basic, Final, MvMemory};
use super::vm::TxOutcome;
use crate::output::{AccountChange, BlockOutput, Receipt, StateDiff};
use crate::{Block, PreState};
use revm::context::Cfg;
use revm::context::CfgEnv;
use revm::handler::pre_execution::{calculate_caller_fee, validate_account_nonce_and_code};
use revm::primitives::{Address, KECCAK_EMPTY, U256};
use revm::state::AccountInfo;
use std::collections::BTreeMap;
use std::sync::Barrier;

/// One thread's share: its transactions' receipts (None: one is invalid)
/// and its shards' last values.
type PartFold = (Option<Vec<Receipt>>, Vec<(Address, Final)>);

/// None when some transaction turns out invalid (the caller then runs the
/// block sequentially, which reports it).
pub(super) fn fold(
    block: &Block,
    pre: &PreState,
    cfg: &CfgEnv,
    mv: &MvMemory<'_>,
    mut outcomes: Vec<TxOutcome>,
    threads: usize,
) -> Option<BlockOutput> {
    let chunk = outcomes.len().div_ceil(threads.max(1)).max(1);
    let parts = outcomes.len().div_ceil(chunk);
    // The beneficiary is read before any thread empties a shard.
    let checked = Barrier::new(parts);
    let results: Vec<PartFold> = std::thread::scope(|s| {
        let workers: Vec<_> = outcomes
            .chunks_mut(chunk)
            .enumerate()
            .map(|(t, part)| {
                let checked = &checked;
                s.spawn(move || {
                    let coinbase = (t == 0).then(|| mv.final_coinbase());
                    checked.wait();
                    let sender_ok = |i, basic| lazy_sender_valid(block, cfg, i, basic);
                    let Some(mut finals) = mv.take_finals(t, parts, sender_ok) else {
                        return (None, Vec::new());
                    };
                    finals.extend(coinbase);
                    (part.iter_mut().map(receipt).collect(), finals)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("fold worker panicked"))
            .collect()
    });
    drop(outcomes);

    let mut receipts = Vec::with_capacity(block.transactions.len());
    let mut finals = Vec::with_capacity(results.len());
    for (part_receipts, part_finals) in results {
        receipts.extend(part_receipts?);
        finals.push(part_finals);
    }
    let mut cumulative = 0u64;
    for r in &mut receipts {
        cumulative += r.gas_used;
        r.cumulative_gas_used = cumulative;
    }
    if cumulative > block.context.env.gas_limit {
        return None;
    }
    Some(BlockOutput {
        receipts,
        changes: state_diff(pre, finals, parts),
        gas_used: cumulative,
    })
}

/// The receipt of a final incarnation (cumulative gas filled in later);
/// what else the outcome holds is freed here, on a worker thread.
fn receipt(outcome: &mut TxOutcome) -> Option<Receipt> {
    let result = std::mem::replace(&mut outcome.result, Err(String::new())).ok()?;
    outcome.reads = Vec::new();
    outcome.writes = Vec::new();
    Some(Receipt {
        success: result.is_success(),
        gas_used: result.tx_gas_used(),
        cumulative_gas_used: 0,
        logs: result.into_logs(),
    })
}

/// A lazy transfer ran against a mock sender: its real nonce and balance,
/// as the transactions below it left them, must pass revm's own checks.
fn lazy_sender_valid(block: &Block, cfg: &CfgEnv, tx: usize, basic: Basic) -> bool {
    let (balance, nonce) = basic.unwrap_or_default();
    let real = AccountInfo {
        balance,
        nonce,
        code_hash: KECCAK_EMPTY,
        ..Default::default()
    };
    let tx = &block.transactions[tx];
    validate_account_nonce_and_code(
        &real,
        tx.nonce,
        cfg.is_eip3607_disabled(),
        cfg.is_nonce_check_disabled(),
    )
    .is_ok()
        && calculate_caller_fee(balance, tx, &block.context.env, cfg).is_ok()
}

/// Groups the locations' last values (one list per fold thread, never
/// copied into one) by account and keeps what differs from the pre-state,
/// by the rule the sequential executor uses: sorted by address (small keys,
/// not whole values), then cut into `threads` runs of whole accounts that
/// are worked out side by side.
fn state_diff(pre: &PreState, finals: Vec<Vec<(Address, Final)>>, threads: usize) -> StateDiff {
    let mut order: Vec<(Address, u32, u32)> = Vec::with_capacity(finals.iter().map(Vec::len).sum());
    for (p, part) in finals.iter().enumerate() {
        order.extend(
            part.iter()
                .enumerate()
                .map(|(i, (a, _))| (*a, p as u32, i as u32)),
        );
    }
    order.sort_unstable();
    let mut cuts = vec![0];
    for t in 1..threads {
        let mut cut = (order.len() * t / threads).max(*cuts.last().unwrap());
        while cut > 0 && cut < order.len() && order[cut].0 == order[cut - 1].0 {
            cut += 1;
        }
        cuts.push(cut);
    }
    cuts.push(order.len());
    let runs: Vec<Vec<(Address, AccountChange)>> = std::thread::scope(|s| {
        let workers: Vec<_> = cuts
            .windows(2)
            .map(|w| {
                let run = &order[w[0]..w[1]];
                let finals = &finals;
                s.spawn(move || {
                    run.chunk_by(|a, b| a.0 == b.0)
                        .filter_map(|group| {
                            let address = group[0].0;
                            let values = group
                                .iter()
                                .map(|(_, p, i)| &finals[*p as usize][*i as usize].1);
                            Some((address, account_change(pre, address, values)?))
                        })
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("diff worker panicked"))
            .collect()
    });
    // Runs are in address order: one copy into the result.
    let mut changes = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    for run in runs {
        changes.extend(run);
    }
    StateDiff::from_sorted(changes)
}

/// One account's change, from the last values of its locations.
fn account_change<'f>(
    pre: &PreState,
    address: Address,
    values: impl Iterator<Item = &'f Final> + Clone,
) -> Option<AccountChange> {
    let before = pre
        .account(&address)
        .map(|a| (a.balance, a.nonce, a.code_hash));
    let (mut balance, mut nonce, mut code_hash) = before.unwrap_or((U256::ZERO, 0, KECCAK_EMPTY));
    let mut reset = None;
    for f in values.clone() {
        match f {
            Final::Basic(b) => (balance, nonce) = b.unwrap_or_default(),
            Final::Code(hash) => code_hash = *hash,
            Final::Reset(writer) => reset = Some(*writer),
            Final::Storage(..) => {}
        }
    }
    let mut storage = BTreeMap::new();
    for f in values {
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
    AccountChange::between(
        before,
        (balance, nonce, code_hash),
        reset.is_some(),
        storage,
    )
}
