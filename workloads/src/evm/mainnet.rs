//! `evm.mainnet`: real mainnet blocks executed back to back per iteration,
//! every run checked against the chain's own headers (a mismatch fails the
//! cell).

use crate::{Iteration, Workload, WorkloadError};
use gaslab_mainnet::executor::{run, Executor, ExecutorChoice};
use gaslab_mainnet::verify::{compare_outputs, verify_header};
use gaslab_mainnet::MainnetBlock;
use gaslab_protocol::CellSpec;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub struct MainnetWorkload {
    blocks: Vec<MainnetBlock>,
    executors: Vec<Executor>,
    threads: usize,
}

impl MainnetWorkload {
    pub fn new(spec: &CellSpec) -> Result<Self, WorkloadError> {
        let text = |name: &str| {
            spec.text(name).ok_or_else(|| WorkloadError::BadParam {
                name: name.into(),
                reason: "missing or not a string".into(),
            })
        };
        let executor = text("executor")?;
        let executors = ExecutorChoice::parse(executor)
            .ok_or_else(|| {
                bad(
                    "executor",
                    format!("`{executor}` is not sequential, parallel or both"),
                )
            })?
            .executors()
            .map_err(|reason| bad("executor", reason))?;
        let dir = resolve(Path::new(text("dir")?))?;
        let dirs = pick(&dir, text("blocks")?)?;
        let blocks = dirs
            .iter()
            .map(|d| gaslab_mainnet::load(d).map_err(|e| WorkloadError::Failed(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            blocks,
            executors,
            threads: spec.threads,
        })
    }
}

fn bad(name: &str, reason: impl ToString) -> WorkloadError {
    WorkloadError::BadParam {
        name: name.into(),
        reason: reason.to_string(),
    }
}

/// A relative `dir` is looked up from the working directory first, then
/// from the project root this worker was built in.
fn resolve(dir: &Path) -> Result<PathBuf, WorkloadError> {
    if dir.is_absolute() || dir.exists() {
        return Ok(dir.to_path_buf());
    }
    let in_project = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    if in_project.exists() {
        return Ok(in_project);
    }
    Err(bad("dir", format!("{} does not exist", dir.display())))
}

/// `all`, or the comma-separated block numbers, as folders under `dir`.
fn pick(dir: &Path, blocks: &str) -> Result<Vec<PathBuf>, WorkloadError> {
    if blocks.trim() == "all" {
        return gaslab_mainnet::expand(&[dir.to_path_buf()]).map_err(|e| bad("dir", e));
    }
    blocks
        .split(',')
        .map(|n| {
            let n = n.trim();
            n.parse::<u64>()
                .map_err(|_| bad("blocks", format!("`{n}` is not a block number")))?;
            let folder = dir.join(n);
            if folder.join(gaslab_mainnet::load::BLOCK_FILE).is_file() {
                Ok(folder)
            } else {
                Err(bad(
                    "blocks",
                    format!("no block folder {}", folder.display()),
                ))
            }
        })
        .collect()
}

impl Workload for MainnetWorkload {
    fn info(&self) -> BTreeMap<String, String> {
        let numbers: Vec<String> = self.blocks.iter().map(|b| b.number.to_string()).collect();
        let executors: Vec<&str> = self.executors.iter().map(|e| e.name()).collect();
        BTreeMap::from([
            ("blocks".into(), numbers.join(",")),
            (
                "txs".into(),
                self.blocks
                    .iter()
                    .map(|b| b.block.transactions.len())
                    .sum::<usize>()
                    .to_string(),
            ),
            (
                "gas".into(),
                self.blocks
                    .iter()
                    .map(|b| b.gas_used())
                    .sum::<u64>()
                    .to_string(),
            ),
            ("executor".into(), executors.join("+")),
        ])
    }

    fn iterate(&mut self) -> Result<Iteration<'_>, WorkloadError> {
        let mut outputs = Vec::with_capacity(self.blocks.len() * self.executors.len());
        let (mut fell_back, mut re_executions, mut parallel_txs) = (0u64, 0u64, 0u64);
        for block in &self.blocks {
            for &executor in &self.executors {
                let (out, stats) = run(executor, &block.block, &block.pre, self.threads)
                    .map_err(|e| WorkloadError::Failed(format!("block {}: {e}", block.number)))?;
                if let Some(stats) = stats {
                    fell_back += stats.fallback.is_some() as u64;
                    re_executions += stats.re_executions();
                    parallel_txs += stats.transactions;
                }
                outputs.push(out);
            }
        }
        // Which blocks the parallel executor gave to its sequential path,
        // and what the rest cost it: where a set's speedup comes from.
        let mut metrics = BTreeMap::new();
        if parallel_txs > 0 {
            metrics.insert("sequential_fallback_blocks".into(), fell_back as f64);
            metrics.insert(
                "re_executions_per_tx".into(),
                re_executions as f64 / parallel_txs as f64,
            );
        }
        let gas = self.blocks.iter().map(|b| b.gas_used()).sum();
        let txs = self
            .blocks
            .iter()
            .map(|b| b.block.transactions.len() as u64)
            .sum();
        let blocks = &self.blocks;
        let per_block = self.executors.len();
        Ok(Iteration {
            gas,
            work_units: txs,
            // Every block against its own header, every executor against the first.
            check: Box::new(move || {
                let mut digest = Sha256::new();
                let failed = |m: &dyn std::fmt::Display| WorkloadError::Failed(m.to_string());
                for (block, outs) in blocks.iter().zip(outputs.chunks(per_block)) {
                    for out in outs {
                        verify_header(block, out).map_err(|m| failed(&m))?;
                        compare_outputs(block.number, &outs[0], out).map_err(|m| failed(&m))?;
                    }
                    digest.update(outs[0].digest());
                }
                Ok(digest
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect())
            }),
            metrics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaslab_protocol::ParamValue;

    fn spec(params: &[(&str, &str)]) -> CellSpec {
        let mut p: BTreeMap<String, ParamValue> = [
            ("dir", "workloads/data/mainnet-subset"),
            ("blocks", "all"),
            ("executor", "sequential"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), ParamValue::Text(v.to_string())))
        .collect();
        for (k, v) in params {
            p.insert(k.to_string(), ParamValue::Text(v.to_string()));
        }
        CellSpec {
            workload: "evm.mainnet".into(),
            params: p,
            threads: 1,
            warmup: 0,
            samples: 1,
            sched: None,
            adaptive: None,
        }
    }

    #[test]
    fn picked_blocks_run_and_count_the_headers_gas() {
        let mut w = MainnetWorkload::new(&spec(&[("blocks", "46147, 19933122")])).unwrap();
        assert_eq!(w.info()["blocks"], "46147,19933122");
        let it = w.iterate().unwrap();
        assert_eq!(it.gas, 21_000 + 2_056_821);
        assert_eq!(it.work_units, 1 + 45);
        let first = it.digest().unwrap();
        assert_eq!(first, w.iterate().unwrap().digest().unwrap());
    }

    /// A parallel cell says how many blocks its executor gave to the
    /// sequential path (here 46147, one transaction) and what the rest
    /// re-executed; a sequential cell has nothing to say.
    #[test]
    fn parallel_cells_count_fallbacks_and_re_executions() {
        let mut spec = spec(&[("blocks", "46147, 19933122"), ("executor", "parallel")]);
        spec.threads = 2;
        let mut w = MainnetWorkload::new(&spec).unwrap();
        let it = w.iterate().unwrap();
        assert_eq!(it.metrics["sequential_fallback_blocks"], 1.0);
        assert!(it.metrics["re_executions_per_tx"] >= 0.0);
        let mut w = MainnetWorkload::new(&self::spec(&[("blocks", "46147")])).unwrap();
        assert!(w.iterate().unwrap().metrics.is_empty());
    }

    #[test]
    fn bad_params_are_named() {
        for (params, name) in [
            (vec![("blocks", "12x")], "blocks"),
            (vec![("blocks", "7")], "blocks"),
            (vec![("dir", "no/such/dir")], "dir"),
            (vec![("executor", "turbo")], "executor"),
        ] {
            let err = MainnetWorkload::new(&spec(&params))
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(name), "{err}");
        }
    }
}
