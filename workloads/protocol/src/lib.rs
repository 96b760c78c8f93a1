//! The contract between the `gaslab` harness and its workers.
//!
//! The harness never links a workload or an allocator: it writes a
//! [`CellSpec`] as JSON to a worker's stdin and reads [`WorkerMessage`]s, one
//! JSON object per line, from its stdout. Streaming line by line means a
//! crash, a hang or Ctrl-C loses only the sample that was in flight.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub mod sched;
pub use sched::{Affinity, SchedPolicy, SchedSpec};

/// Bumped whenever a message or the catalogue changes shape.
pub const PROTOCOL_VERSION: u32 = 1;

/// The allocators gaslab builds one worker binary for.
pub const ALLOCATORS: &[&str] = &["system", "mimalloc", "jemalloc", "rpmalloc", "snmalloc"];

/// Binary name of the worker that runs under `allocator`.
pub fn worker_binary(allocator: &str) -> String {
    format!("worker-{allocator}")
}

/// A parameter value in a cell spec. Profiles may only use these shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Bool(v) => write!(f, "{v}"),
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Text(v) => write!(f, "{v}"),
        }
    }
}

/// One cell of a matrix, as handed to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSpec {
    pub workload: String,
    /// Workload parameters after defaults were applied; sorted for stable keys.
    pub params: BTreeMap<String, ParamValue>,
    pub threads: usize,
    pub warmup: usize,
    /// Measured iterations; with `adaptive` set, the most it may take.
    pub samples: usize,
    /// Kernel-scheduler settings for the worker and all its threads; absent
    /// in result sets written before the scheduler axis existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sched: Option<SchedSpec>,
    /// Stop early once the median is known precisely enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<AdaptiveSampling>,
}

/// Adaptive sampling: the worker keeps measuring until the 95% confidence
/// interval of the median iteration time is within `ci_half_width_pct` of
/// the median (after at least `min_samples`), or `samples` is reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveSampling {
    pub ci_half_width_pct: f64,
    pub min_samples: usize,
}

/// The parameter every workload accepts: calibrated extra CPU work per
/// measured iteration, as a percentage of the iteration's own time.
pub const SLOWDOWN_PARAM: ParamSchema = ParamSchema {
    name: "slowdown_pct",
    kind: ParamKind::Float,
    default: Some("0"),
    doc: "calibrated extra work per iteration, in percent (for self-calibration)",
};

impl WorkloadSchema {
    /// The workload's own parameter `name`, or one every workload accepts.
    pub fn param(&self, name: &str) -> Option<&ParamSchema> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .or((name == SLOWDOWN_PARAM.name).then_some(&SLOWDOWN_PARAM))
    }
}

impl CellSpec {
    /// The identity of a cell across runs: workload, params and threads.
    /// The allocator is part of the key too, added by the harness.
    pub fn key(&self, allocator: &str) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let key = format!(
            "{}[{}] threads={} alloc={}",
            self.workload,
            params.join(","),
            self.threads,
            allocator
        );
        // Only set scheduler settings extend the key, so older keys stay valid.
        match &self.sched {
            Some(sched) => format!("{key} sched={}", sched.key()),
            None => key,
        }
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.params.get(name)? {
            ParamValue::Int(v) => Some(*v),
            _ => None,
        }
    }

    pub fn float(&self, name: &str) -> Option<f64> {
        match self.params.get(name)? {
            ParamValue::Float(v) => Some(*v),
            ParamValue::Int(v) => Some(*v as f64),
            _ => None,
        }
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        match self.params.get(name)? {
            ParamValue::Text(v) => Some(v),
            _ => None,
        }
    }
}

/// What the allocator said about itself when asked through its own API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocatorIdentity {
    /// The allocator that answered the probe, e.g. "jemalloc".
    pub name: String,
    /// Version as reported by the allocator (or its C library), if it has one.
    pub version: Option<String>,
    /// How the identity was established, in words, for the record.
    pub evidence: String,
}

/// How the worker binary was built: the toolchain is part of what is measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerBuild {
    pub rustc: String,
    pub target: String,
    pub rustflags: String,
    pub profile: String,
    /// Versions of the crates whose code is measured (revm, the allocator crates).
    pub crates: BTreeMap<String, String>,
}

/// One iteration of a workload, measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub index: usize,
    pub warmup: bool,
    pub wall_ns: u64,
    pub gas: u64,
    /// Workload-specific units (transactions, permutations ...).
    pub work_units: u64,
    pub digest: String,
    /// None where the OS would not say.
    pub peak_rss_bytes: Option<u64>,
    /// Extra per-iteration metrics (re-executions, witness bytes ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
}

/// A line a worker prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerMessage {
    Hello {
        protocol: u32,
        pid: u32,
        allocator: AllocatorIdentity,
        build: WorkerBuild,
    },
    Setup {
        setup_ns: u64,
        /// Size facts about the generated input (transactions, gas limit ...).
        info: BTreeMap<String, String>,
    },
    Sample(Sample),
    Done {
        /// Allocator statistics after the run (bytes mapped, allocated ...).
        allocator_stats: BTreeMap<String, u64>,
    },
    Error {
        message: String,
    },
}

/// A parameter a workload accepts, for validating profiles without linking
/// the workload.
#[derive(Debug, Clone, Copy)]
pub struct ParamSchema {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Int,
    Float,
    Text,
}

impl ParamKind {
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::Int => "integer",
            ParamKind::Float => "float",
            ParamKind::Text => "string",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct WorkloadSchema {
    pub name: &'static str,
    pub doc: &'static str,
    pub params: &'static [ParamSchema],
}

/// Every workload a worker can run. The workers' registry is tested against
/// this list, so the harness can reject an unknown name or parameter early.
pub const WORKLOADS: &[WorkloadSchema] = &[
    WorkloadSchema {
        name: "evm.transfers",
        doc: "A block of plain ETH value transfers, executed on revm",
        params: &[
            ParamSchema {
                name: "txs",
                kind: ParamKind::Int,
                default: Some("1000"),
                doc: "transactions in the block",
            },
            ParamSchema {
                name: "seed",
                kind: ParamKind::Int,
                default: Some("1"),
                doc: "generator seed",
            },
            ParamSchema {
                name: "conflict",
                kind: ParamKind::Float,
                default: Some("0"),
                doc: "fraction of transactions that share state (0..1)",
            },
            ParamSchema {
                name: "executor",
                kind: ParamKind::Text,
                default: Some("sequential"),
                doc: "`sequential` or `parallel` (Block-STM on the cell's threads)",
            },
        ],
    },
    WorkloadSchema {
        name: "evm.erc20",
        doc: "ERC-20 transfer calls on our own token contract, executed on revm",
        params: &[
            ParamSchema {
                name: "txs",
                kind: ParamKind::Int,
                default: Some("1000"),
                doc: "transactions in the block",
            },
            ParamSchema {
                name: "seed",
                kind: ParamKind::Int,
                default: Some("1"),
                doc: "generator seed",
            },
            ParamSchema {
                name: "conflict",
                kind: ParamKind::Float,
                default: Some("0"),
                doc: "fraction of transactions that share state (0..1)",
            },
            ParamSchema {
                name: "executor",
                kind: ParamKind::Text,
                default: Some("sequential"),
                doc: "`sequential` or `parallel` (Block-STM on the cell's threads)",
            },
        ],
    },
    WorkloadSchema {
        name: "evm.amm",
        doc: "Swaps on constant-product pools (our own contract), executed on revm",
        params: &[
            ParamSchema {
                name: "txs",
                kind: ParamKind::Int,
                default: Some("1000"),
                doc: "transactions in the block",
            },
            ParamSchema {
                name: "seed",
                kind: ParamKind::Int,
                default: Some("1"),
                doc: "generator seed",
            },
            ParamSchema {
                name: "conflict",
                kind: ParamKind::Float,
                default: Some("0"),
                doc: "fraction of transactions that share state (0..1)",
            },
            ParamSchema {
                name: "executor",
                kind: ParamKind::Text,
                default: Some("sequential"),
                doc: "`sequential` or `parallel` (Block-STM on the cell's threads)",
            },
        ],
    },
    WorkloadSchema {
    name: "prove.keccak",
    doc: "Plonky3 STARK (keccak AIR, KoalaBear, FRI over keccak Merkle trees): prove then verify 2^k keccak-f permutations",
    params: &[
        ParamSchema {
            name: "log_permutations",
            kind: ParamKind::Int,
            default: Some("6"),
            doc: "log2 of the keccak-f permutations proven",
        },
        ParamSchema {
            name: "log_blowup",
            kind: ParamKind::Int,
            default: Some("1"),
            doc: "log2 of the FRI blowup factor",
        },
        ParamSchema {
            name: "seed",
            kind: ParamKind::Int,
            default: Some("1"),
            doc: "seed of the permutation inputs",
        },
    ],
}, WorkloadSchema {
    name: "prove.stateless",
    doc: "A zk-rollup client run natively: execute a block from an MPT witness with revm and recompute the post-state root",
    params: &[
        ParamSchema {
            name: "txs",
            kind: ParamKind::Int,
            default: Some("200"),
            doc: "transactions in the block, each a storage write (update, insert or delete)",
        },
        ParamSchema {
            name: "contracts",
            kind: ParamKind::Int,
            default: Some("20"),
            doc: "storage contracts the transactions call",
        },
        ParamSchema {
            name: "slots",
            kind: ParamKind::Int,
            default: Some("64"),
            doc: "filled storage slots per contract before the block",
        },
        ParamSchema {
            name: "idle_accounts",
            kind: ParamKind::Int,
            default: Some("2000"),
            doc: "accounts in the state the block never touches",
        },
        ParamSchema {
            name: "delete_pct",
            kind: ParamKind::Int,
            default: Some("30"),
            doc: "percent of transactions that delete a filled slot",
        },
        ParamSchema {
            name: "seed",
            kind: ParamKind::Int,
            default: Some("1"),
            doc: "generator seed",
        },
    ],
},
WorkloadSchema {
    name: "evm.mainnet",
    doc: "Real Ethereum mainnet blocks executed back to back, each checked against its header",
    params: &[
        ParamSchema {
            name: "dir",
            kind: ParamKind::Text,
            default: Some("workloads/data/mainnet-subset"),
            doc: "a block folder or a folder of block folders (relative: to the working directory, else to the project)",
        },
        ParamSchema {
            name: "blocks",
            kind: ParamKind::Text,
            default: Some("all"),
            doc: "`all`, or block numbers separated by commas, picked from `dir`",
        },
        ParamSchema {
            name: "executor",
            kind: ParamKind::Text,
            default: Some("sequential"),
            doc: "sequential, parallel or both (parallel checked against sequential)",
        },
    ],
},
];

pub fn workload_schema(name: &str) -> Option<&'static WorkloadSchema> {
    WORKLOADS.iter().find(|w| w.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_tagged_json_lines() {
        let msg = WorkerMessage::Sample(Sample {
            index: 3,
            warmup: false,
            wall_ns: 1234,
            gas: 21_000,
            work_units: 1,
            digest: "ab".into(),
            peak_rss_bytes: Some(4096),
            metrics: BTreeMap::new(),
        });
        let line = serde_json::to_string(&msg).unwrap();
        assert!(line.starts_with("{\"type\":\"sample\""), "{line}");
        assert_eq!(serde_json::from_str::<WorkerMessage>(&line).unwrap(), msg);
    }

    #[test]
    fn cell_key_is_stable_and_names_every_axis() {
        let mut params = BTreeMap::new();
        params.insert("txs".to_string(), ParamValue::Int(10));
        params.insert("seed".to_string(), ParamValue::Int(1));
        let spec = CellSpec {
            workload: "evm.transfers".into(),
            params,
            threads: 2,
            warmup: 1,
            samples: 3,
            sched: None,
            adaptive: None,
        };
        assert_eq!(
            spec.key("mimalloc"),
            "evm.transfers[seed=1,txs=10] threads=2 alloc=mimalloc"
        );
    }

    #[test]
    fn a_set_scheduler_joins_the_key_and_old_specs_still_parse() {
        let old = r#"{"workload":"evm.transfers","params":{"txs":10},"threads":1,"warmup":1,"samples":3}"#;
        let mut spec: CellSpec = serde_json::from_str(old).unwrap();
        assert_eq!(spec.sched, None);
        assert!(!serde_json::to_string(&spec).unwrap().contains("sched"));
        spec.sched = Some(SchedSpec {
            policy: SchedPolicy::Batch,
            nice: Some(5),
            rt_priority: None,
            slice_ns: None,
            affinity: Some(Affinity::Compact),
        });
        assert_eq!(
            spec.key("system"),
            "evm.transfers[txs=10] threads=1 alloc=system sched=policy=batch,nice=5,cpus=compact"
        );
        let line = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<CellSpec>(&line).unwrap(), spec);
    }
}
