//! Fabricated result sets for the analysis tests: real `ResultContent`
//! values (and, written through the store, real hashed files) whose
//! samples have known rates.

use crate::store::{CellResult, CellStatus, GaslabInfo, ProfileInfo, ResultContent};
use gaslab_protocol::{AllocatorIdentity, CellSpec, ParamValue, Sample};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

pub const GAS: u64 = 42_000_000;

/// `n` rates around `center` with uniform relative noise of +-`noise`.
pub fn noisy_rates(center: f64, noise: f64, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| center * (1.0 + rng.random_range(-noise..=noise)))
        .collect()
}

pub fn cell(allocator: &str, rates: &[f64]) -> CellResult {
    let spec = CellSpec {
        workload: "evm.transfers".into(),
        params: BTreeMap::from([("txs".to_string(), ParamValue::Int(2000))]),
        threads: 1,
        warmup: 0,
        samples: rates.len(),
        sched: None,
        adaptive: None,
    };
    CellResult {
        key: spec.key(allocator),
        spec,
        allocator: allocator.into(),
        allocator_identity: Some(AllocatorIdentity {
            name: allocator.into(),
            version: Some("1".into()),
            evidence: "fabricated".into(),
        }),
        build: None,
        status: CellStatus::Ok,
        setup_ns: Some(1),
        info: BTreeMap::new(),
        samples: rates
            .iter()
            .enumerate()
            .map(|(index, r)| Sample {
                index,
                warmup: false,
                wall_ns: (GAS as f64 * 1e9 / r).round() as u64,
                gas: GAS,
                work_units: 2000,
                digest: "d".into(),
                peak_rss_bytes: None,
                metrics: BTreeMap::new(),
            })
            .collect(),
        allocator_stats: BTreeMap::new(),
        stderr_tail: None,
    }
}

/// A result set of `cells`, run at gaslab `commit`, with `fingerprint`
/// fields set over a plain base fingerprint.
pub fn content(
    cells: &[(&str, Vec<f64>)],
    commit: &str,
    fingerprint: &[(&str, &str)],
) -> ResultContent {
    let mut f: BTreeMap<String, String> = [
        ("arch", "x86_64"),
        ("cpu.model", "Test CPU"),
        ("host.name", "lab1"),
        ("kernel.release", "6.5.0-45-generic"),
        ("toolchain.rustc", "rustc 1.79.0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in fingerprint {
        f.insert(k.to_string(), v.to_string());
    }
    ResultContent {
        gaslab: GaslabInfo {
            version: "0.1.0".into(),
            commit: commit.into(),
            dirty: false,
        },
        profile: ProfileInfo {
            name: "fabricated".into(),
            path: "profiles/fabricated.toml".into(),
            sha256: "0".repeat(64),
        },
        machine_id: "lab1-00000000".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        finished_at: "2026-01-01T00:10:00Z".into(),
        complete: true,
        fingerprint_start: f.clone(),
        fingerprint_end: f,
        cells: cells.iter().map(|(a, r)| cell(a, r)).collect(),
        calibration: None,
    }
}
