//! What the helper threads take first, out of block order, before asking
//! the scheduler: a lane of calls that wait on one another, then the heavy
//! transactions. Worker 0 keeps to block order from the first transaction.

use super::memory::TxIdx;
use crate::Block;
use revm::context::TxEnv;
use revm::primitives::{Address, AddressMap};

/// The fewest calls from one sender or to one recipient that make a lane.
const LANE_MIN_CALLS: usize = 16;
/// Above this many transactions no lane is looked for: the search costs the
/// first helper 10-30 ns a transaction while worker 0 runs alone (a
/// millisecond for the 16129 swaps of a generated block, and long enough
/// for a block too dependent to win to be judged on worker 0's executions
/// alone, and given up too late), and a lane of a few dozen calls is little
/// of such a block. The largest of the 41 mainnet blocks has 1414.
const LANE_SEARCH_MAX_TXS: usize = 4096;

/// What the helpers take first, out of order, before asking the scheduler:
/// a lane, then the heavy transactions.
///
/// Transactions run in block order, so a long stretch of calls that wait on
/// one another near the end of a block (one sender's nonce chain; a sale
/// contract every call of which adds to one total) keeps every thread on it
/// in turn, each call run too early by one thread and again after the
/// other's: mainnet 6196166 (49 calls to one contract, then 30 to another)
/// ran 0.53-0.79x and was given up; 4370000 (32 calls from one sender at its
/// end) ran 1.00x on the sequential path. A helper that runs the block's
/// heaviest such lane in order, from the start, runs it beside the rest:
/// 1.10-1.13x and 1.35-1.45x, side by side.
///
/// Heavy transactions (a fortieth of the block's gas limits or more) come
/// next, heaviest first: a heavy one near the end would start late, the
/// other threads idle while it finished (19929064: a call holding a sixth of
/// the gas limits at index 91 of 103; 19426587's last call is half its
/// time), and one sender's equal calls stay in nonce order on one thread
/// (9069000 ends with seven). Where a transaction below changes what one of
/// these read, validation runs it again, as any other.
pub(super) fn helpers_first(block: &Block, threads: usize) -> Vec<TxIdx> {
    let lane = lane(block, threads);
    let heavy = heavy(block, threads).into_iter();
    let others: Vec<TxIdx> = heavy.filter(|tx| !lane.contains(tx)).collect();
    [lane, others].concat()
}

/// The calls (anything but a plain transfer, told without the pre-state:
/// calldata, or more gas than a transfer takes) of the sender or recipient
/// with the most gas among those that make 16 calls or more, the first of
/// them past the block's first quarter (before it, worker 0 is there at
/// once anyway).
fn lane(block: &Block, threads: usize) -> Vec<TxIdx> {
    #[derive(Clone, Copy)]
    struct Group {
        first: TxIdx,
        calls: usize,
        gas: u128,
    }
    let txs = &block.transactions;
    let n = txs.len();
    if n > LANE_SEARCH_MAX_TXS {
        return Vec::new();
    }
    let is_call = |tx: &TxEnv| !tx.data.is_empty() || tx.gas_limit > 21_000;
    let groups = || AddressMap::<Group>::with_capacity_and_hasher(n, Default::default());
    let (mut senders, mut recipients) = (groups(), groups());
    let add = |groups: &mut AddressMap<Group>, address: Address, i: TxIdx| {
        let group = groups.entry(address).or_insert(Group {
            first: i,
            calls: 0,
            gas: 0,
        });
        group.calls += 1;
        group.gas += u128::from(txs[i].gas_limit);
    };
    for (i, tx) in txs.iter().enumerate() {
        if is_call(tx) {
            add(&mut senders, tx.caller, i);
            if let Some(to) = tx.kind.to() {
                add(&mut recipients, *to, i);
            }
        }
    }
    let start = (n / 4).max(threads);
    let heaviest = |groups: &AddressMap<Group>, by_sender: bool| {
        groups
            .iter()
            .filter(|(_, g)| g.calls >= LANE_MIN_CALLS && g.first >= start)
            .map(move |(address, g)| (g.gas, by_sender, *address))
            .max()
    };
    let Some((_, by_sender, address)) = heaviest(&senders, true).max(heaviest(&recipients, false))
    else {
        return Vec::new();
    };
    (0..n)
        .filter(|&i| {
            let tx = &txs[i];
            let member = if by_sender {
                tx.caller == address
            } else {
                tx.kind.to() == Some(&address)
            };
            member && is_call(tx)
        })
        .collect()
}

/// Transactions holding a fortieth of the block's gas limits or more, past
/// the first `threads`, heaviest first (equal limits in block order).
fn heavy(block: &Block, threads: usize) -> Vec<TxIdx> {
    let txs = &block.transactions;
    let total: u128 = txs.iter().map(|tx| u128::from(tx.gas_limit)).sum();
    let mut heavy: Vec<TxIdx> = (threads.min(txs.len())..txs.len())
        .filter(|&i| 40 * u128::from(txs[i].gas_limit) >= total)
        .collect();
    heavy.sort_by_key(|&i| std::cmp::Reverse(txs[i].gas_limit));
    heavy
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BlockContext;
    use revm::context::BlockEnv;
    use revm::primitives::hardfork::SpecId;
    use revm::primitives::{Bytes, TxKind};

    fn call(from: u8, to: u8, gas_limit: u64) -> TxEnv {
        TxEnv {
            caller: Address::repeat_byte(from),
            kind: TxKind::Call(Address::repeat_byte(to)),
            data: Bytes::from_static(&[1, 2, 3, 4]),
            gas_limit,
            ..Default::default()
        }
    }

    fn transfer(i: usize) -> TxEnv {
        TxEnv {
            caller: Address::with_last_byte(i as u8),
            kind: TxKind::Call(Address::with_last_byte(128 + i as u8)),
            gas_limit: 21_000,
            ..Default::default()
        }
    }

    fn block(transactions: Vec<TxEnv>) -> Block {
        Block {
            context: BlockContext {
                env: BlockEnv::default(),
                spec: SpecId::CANCUN,
                chain_id: 1,
            },
            transactions,
        }
    }

    #[test]
    fn a_senders_chain_after_the_first_quarter_is_the_lane() {
        let mut txs: Vec<TxEnv> = (0..40).map(transfer).collect();
        txs.extend((0..20).map(|_| call(0xaa, 0xbb, 50_000)));
        // Plain transfers from the same sender are no calls.
        txs.push(TxEnv {
            caller: Address::repeat_byte(0xaa),
            ..transfer(99)
        });
        assert_eq!(lane(&block(txs), 2), (40..60).collect::<Vec<_>>());
    }

    #[test]
    fn calls_to_one_contract_from_many_senders_are_a_lane() {
        let mut txs: Vec<TxEnv> = (0..30).map(transfer).collect();
        for i in 0..20u8 {
            txs.push(call(i, 0xcc, 60_000));
            txs.push(transfer(50 + i as usize));
        }
        let lane = lane(&block(txs), 2);
        assert_eq!(lane, (0..20).map(|i| 30 + 2 * i).collect::<Vec<_>>());
    }

    #[test]
    fn no_lane_is_looked_for_in_a_very_large_block() {
        let mut txs: Vec<TxEnv> = (0..LANE_SEARCH_MAX_TXS)
            .map(|i| transfer(i % 100))
            .collect();
        txs.extend((0..20).map(|_| call(0xaa, 0xbb, 50_000)));
        assert!(lane(&block(txs), 2).is_empty());
    }

    #[test]
    fn no_lane_at_the_head_or_under_sixteen_calls() {
        let mut head: Vec<TxEnv> = (0..20).map(|_| call(0xaa, 0xbb, 50_000)).collect();
        head.extend((0..40).map(transfer));
        assert!(lane(&block(head), 2).is_empty());
        let mut short: Vec<TxEnv> = (0..40).map(transfer).collect();
        short.extend((0..15).map(|_| call(0xaa, 0xbb, 50_000)));
        assert!(lane(&block(short), 2).is_empty());
    }

    #[test]
    fn heavy_transactions_come_heaviest_first_after_the_lane() {
        let mut txs: Vec<TxEnv> = (0..40).map(transfer).collect();
        // A fortieth of the gas limits or more, but among the first two:
        // worker 0 and the helper take it at once anyway.
        txs[1].gas_limit = 400_000;
        txs[10].gas_limit = 300_000;
        txs[30].gas_limit = 500_000;
        txs.extend((0..16).map(|_| call(0xaa, 0xbb, 30_000)));
        let first = helpers_first(&block(txs), 2);
        let lane: Vec<TxIdx> = (40..56).collect();
        assert_eq!(first[..16], lane[..]);
        assert_eq!(first[16..], [30, 10]);
    }
}
