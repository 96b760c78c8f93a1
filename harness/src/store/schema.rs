//! The shape of a result set on disk.

use gaslab_protocol::{AllocatorIdentity, CellSpec, Sample, WorkerBuild};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

/// What is written: the content and the sha256 of its canonical JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultSet {
    pub schema_version: u32,
    pub sha256: String,
    pub content: ResultContent,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResultContent {
    pub gaslab: GaslabInfo,
    pub profile: ProfileInfo,
    pub machine_id: String,
    pub started_at: String,
    pub finished_at: String,
    /// False when the run was interrupted: what was measured is kept.
    pub complete: bool,
    /// Fingerprints taken before the first and after the last cell.
    pub fingerprint_start: BTreeMap<String, String>,
    pub fingerprint_end: BTreeMap<String, String>,
    pub cells: Vec<CellResult>,
    /// Set by `gaslab calibrate`: this host's false-alarm rate and the
    /// smallest change it detects. Absent from ordinary runs (and then not
    /// part of the hashed content, so older result sets still verify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<crate::analysis::Calibration>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GaslabInfo {
    pub version: String,
    pub commit: String,
    pub dirty: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProfileInfo {
    pub name: String,
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CellStatus {
    Ok,
    Failed {
        reason: String,
    },
    TimedOut {
        reason: String,
    },
    /// Ctrl-C arrived while (or before) the cell ran.
    Interrupted,
    /// The run's time budget (`gaslab run --budget`) had no room for the
    /// cell: not started, or stopped once its own pace showed it would not
    /// fit. Any samples it measured are kept.
    Skipped {
        reason: String,
    },
}

impl CellStatus {
    pub fn label(&self) -> &'static str {
        match self {
            CellStatus::Ok => "ok",
            CellStatus::Failed { .. } => "failed",
            CellStatus::TimedOut { .. } => "timed out",
            CellStatus::Interrupted => "interrupted",
            CellStatus::Skipped { .. } => "skipped",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CellResult {
    pub key: String,
    pub spec: CellSpec,
    /// The allocator the profile asked for.
    pub allocator: String,
    /// What the worker's allocator said it is.
    pub allocator_identity: Option<AllocatorIdentity>,
    pub build: Option<WorkerBuild>,
    pub status: CellStatus,
    pub setup_ns: Option<u64>,
    pub info: BTreeMap<String, String>,
    /// Every sample, warm-up included (marked), in order.
    pub samples: Vec<Sample>,
    pub allocator_stats: BTreeMap<String, u64>,
    /// The last lines the worker wrote to stderr, for failed cells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_tail: Option<String>,
}

impl CellResult {
    /// Measured (non-warm-up) samples.
    pub fn measured(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(|s| !s.warmup)
    }

    /// What this cell's rate counts: gas where its workload burns gas, else
    /// the unit of work its worker names (a proof's keccak-f permutations).
    pub fn measure(&self) -> &str {
        if self.measured().any(|s| s.gas > 0) {
            "gas"
        } else {
            self.info.get("work_unit").map_or("unit", String::as_str)
        }
    }

    /// (amount of `measure()`, wall ns) of each timed measured sample.
    pub fn timed_amounts(&self) -> Vec<(u64, u64)> {
        let gas = self.measure() == "gas";
        self.measured()
            .filter(|s| s.wall_ns > 0)
            .map(|s| (if gas { s.gas } else { s.work_units }, s.wall_ns))
            .collect()
    }

    /// The rate of each measured sample, in `measure()` per second.
    pub fn rates(&self) -> Vec<f64> {
        self.timed_amounts()
            .into_iter()
            .map(|(amount, ns)| amount as f64 * 1e9 / ns as f64)
            .collect()
    }
}
