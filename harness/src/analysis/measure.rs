//! What the analyses measure a cell by, and how cells are matched across
//! result sets.

use crate::store::{CellResult, ResultContent};
use gaslab_stats::{median, throughput};
use serde::Serialize;

/// A cell's rates, in what it measures: gas where the workload burns gas,
/// its own unit of work (keccak-f permutations) where it does not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellRates {
    /// What a rate counts per second ("gas", "permutation").
    pub measure: String,
    /// Rate of each measured sample.
    pub per_sample: Vec<f64>,
    /// Median of the per-sample rates (what compare's ratio uses).
    pub median: Option<f64>,
    /// Total amount over total time: the aggregate rate, never a mean of rates.
    pub aggregate: Option<f64>,
    /// The slowdown injected for calibration, in percent (0 normally).
    pub injected_slowdown_pct: f64,
}

impl CellRates {
    pub fn of(cell: &CellResult) -> Self {
        let timed = cell.timed_amounts();
        let amounts: Vec<f64> = timed.iter().map(|(a, _)| *a as f64).collect();
        let seconds: Vec<f64> = timed.iter().map(|(_, ns)| *ns as f64 / 1e9).collect();
        let per_sample = cell.rates();
        CellRates {
            measure: cell.measure().to_string(),
            median: median(&per_sample),
            aggregate: throughput(&amounts, &seconds),
            per_sample,
            injected_slowdown_pct: cell.spec.float("slowdown_pct").unwrap_or(0.0),
        }
    }
}

/// The identity a cell is matched by across result sets: its key without
/// the injected slowdown, which is a property of the measurement (a
/// calibration run), not of what is measured.
pub fn cell_identity(cell: &CellResult) -> String {
    let mut spec = cell.spec.clone();
    spec.params.remove("slowdown_pct");
    spec.key(&cell.allocator)
}

/// Which result set a number came from, for tables and JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetLabel {
    pub path: String,
    pub machine_id: String,
    pub started_at: String,
    pub commit: String,
    pub dirty: bool,
}

impl SetLabel {
    pub fn of(path: &std::path::Path, content: &ResultContent) -> Self {
        SetLabel {
            path: path.display().to_string(),
            machine_id: content.machine_id.clone(),
            started_at: content.started_at.clone(),
            commit: content.gaslab.commit.clone(),
            dirty: content.gaslab.dirty,
        }
    }
}
