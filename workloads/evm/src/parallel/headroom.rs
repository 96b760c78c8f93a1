//! How parallel a block could be at best: the true dependency DAG from an
//! in-order run's read and write sets, weighted by gas.

use super::memory::MvMemory;
use super::vm::{Execution, Mode, TxExecutor};
use super::{cfg_of, ParallelOptions};
use crate::{Block, ExecutionError, PreState};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headroom {
    /// Gas of all transactions.
    pub total_work: u64,
    /// Gas along the heaviest chain of dependent transactions.
    pub critical_path: u64,
}

impl Headroom {
    /// The ideal speedup on `threads` threads: min(threads, work / critical path).
    pub fn ideal_speedup(&self, threads: usize) -> f64 {
        if self.critical_path == 0 {
            return threads as f64;
        }
        (self.total_work as f64 / self.critical_path as f64).min(threads as f64)
    }
}

/// Runs the block in order (every read is then final) and measures its DAG,
/// with the lazy updates `options` allow (they remove dependencies).
pub fn dependency_headroom(
    block: &Block,
    pre: &PreState,
    options: &ParallelOptions,
) -> Result<Headroom, ExecutionError> {
    let n = block.transactions.len();
    let mv = MvMemory::new(pre, block.context.env.beneficiary, n, 4 * n);
    let cfg = cfg_of(block);
    let mut vm = TxExecutor::new(&mv, pre, block, &cfg, &options.lazy_tokens);
    let mut finish = Vec::with_capacity(block.transactions.len());
    let (mut total, mut critical) = (0u64, 0u64);
    for index in 0..block.transactions.len() {
        let Execution {
            outcome,
            fee,
            writers,
        } = vm
            .execute(index, Mode::InOrder)
            .map_err(|wait| ExecutionError::Database {
                index,
                reason: format!("in-order run had to wait: {wait:?}"),
            })?;
        let result = outcome
            .result
            .map_err(|reason| ExecutionError::InvalidTransaction { index, reason })?;
        mv.record(index, &[], vm.writes());
        mv.record_fee(index, fee);
        let gas = result.gas_used;
        let start = writers.iter().map(|w| finish[*w]).max().unwrap_or(0u64);
        finish.push(start + gas);
        total += gas;
        critical = critical.max(start + gas);
    }
    Ok(Headroom {
        total_work: total,
        critical_path: critical,
    })
}
