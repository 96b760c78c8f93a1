//! A realistic multi-night, multi-machine results directory for the report
//! tests: five nights on an x86 CI host and three on a Graviton3, the
//! allocator axis with a real spread, a thread-scaling sweep with recorded
//! speedup and headroom, two scheduler policies with context switches and
//! migrations, hardware counters on the Graviton, one failed cell, and on
//! the x86 host's last night a kernel (CFS 6.5 -> EEVDF 6.8) and rustc
//! change with a 20% drop. Each file carries the sha256 the store checks
//! (sorted-key compact JSON of `content`); `gaslab validate` accepts them.

#![allow(dead_code)]

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const X86: &str = "ci-x86-0a1b2c3d";
pub const GRAVITON: &str = "graviton3-5e6f7a8b";

/// Deterministic noise in [-1, 1).
struct Noise(u64);
impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

fn key(workload: &str, params: &Value, threads: usize, alloc: &str) -> String {
    let p: Vec<String> = params
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect();
    format!(
        "{workload}[{}] threads={threads} alloc={alloc}",
        p.join(",")
    )
}

struct CellPlan {
    params: Value,
    threads: usize,
    alloc: &'static str,
    rate: f64,
    metrics: Vec<(&'static str, f64)>,
    failed: bool,
}

fn cell(plan: &CellPlan, noise: &mut Noise) -> Value {
    let gas: u64 = 42_000_000;
    let samples: Vec<Value> = (0..14)
        .map(|i| {
            let rate = plan.rate * (1.0 + 0.012 * noise.next());
            let wall_ns = (gas as f64 / rate * 1e9) as u64;
            let metrics: serde_json::Map<String, Value> = plan
                .metrics
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v * (1.0 + 0.02 * noise.next()))))
                .collect();
            json!({
                "index": i, "warmup": i < 2, "wall_ns": wall_ns, "gas": gas,
                "work_units": 2000, "digest": "9f2c", "peak_rss_bytes": 48_000_000u64,
                "metrics": metrics
            })
        })
        .collect();
    let status = if plan.failed {
        json!({"state": "failed", "reason": "worker exited with signal 9 (killed)"})
    } else {
        json!({"state": "ok"})
    };
    json!({
        "key": key("evm.transfers", &plan.params, plan.threads, plan.alloc),
        "spec": {"workload": "evm.transfers", "params": plan.params, "threads": plan.threads, "warmup": 2, "samples": 12},
        "allocator": plan.alloc,
        "allocator_identity": {"name": plan.alloc, "version": null, "evidence": "fixture"},
        "build": null,
        "status": status,
        "setup_ns": 1_000_000u64,
        "info": {},
        "samples": if plan.failed { vec![] } else { samples },
        "allocator_stats": {}
    })
}

fn allocator_rate(alloc: &str) -> f64 {
    match alloc {
        "system" => 410e6,
        "mimalloc" => 560e6,
        "jemalloc" => 350e6,
        "rpmalloc" => 500e6,
        _ => 545e6, // snmalloc
    }
}

fn plans(machine: &str, night: usize, factor: f64) -> Vec<CellPlan> {
    let graviton = machine == GRAVITON;
    let mut out = Vec::new();
    for alloc in ["system", "mimalloc", "jemalloc", "rpmalloc", "snmalloc"] {
        out.push(CellPlan {
            params: json!({"seed": 1, "txs": 2000}),
            threads: 1,
            alloc,
            rate: allocator_rate(alloc) * factor * if graviton { 0.8 } else { 1.0 },
            metrics: if graviton {
                let ipc = if alloc == "jemalloc" { 1.6 } else { 2.3 };
                vec![
                    ("cycles", 1.0e8),
                    ("instructions", 1.0e8 * ipc),
                    (
                        "cache_misses",
                        1.0e8 * ipc * if alloc == "system" { 0.004 } else { 0.002 },
                    ),
                ]
            } else {
                vec![]
            },
            failed: false,
        });
    }
    for alloc in ["system", "mimalloc"] {
        for threads in [1usize, 2, 4, 8] {
            let headroom = (threads as f64).min(5.2);
            let speedup = (threads as f64).powf(0.8).min(headroom * 0.9);
            out.push(CellPlan {
                params: json!({"executor": "parallel", "seed": 1, "txs": 20000}),
                threads,
                alloc,
                rate: allocator_rate(alloc) * speedup * factor,
                metrics: vec![("speedup", speedup), ("headroom", headroom)],
                failed: false,
            });
        }
    }
    for (policy, cs, mig, f) in [("other", 180.0, 24.0, 1.0), ("batch", 40.0, 6.0, 1.04)] {
        out.push(CellPlan {
            params: json!({"policy": policy, "seed": 1, "txs": 2000}),
            threads: 2,
            alloc: "mimalloc",
            rate: 560e6 * f * factor,
            metrics: vec![("context_switches", cs), ("cpu_migrations", mig)],
            failed: false,
        });
    }
    if night == 4 && !graviton {
        out.push(CellPlan {
            params: json!({"seed": 1, "txs": 200000}),
            threads: 1,
            alloc: "jemalloc",
            rate: 1.0,
            metrics: vec![],
            failed: true,
        });
    }
    out
}

fn fingerprint(machine: &str, night: usize) -> Value {
    if machine == GRAVITON {
        json!({"arch": "aarch64", "cpu.model": "Neoverse-V1", "cpu.vendor": "ARM", "cpu.logical": "64",
               "kernel.release": "6.8.0-1015-aws", "kernel.scheduler": "EEVDF", "toolchain.rustc": "rustc 1.91.0",
               "host.name": "ip-10-0-1-7"})
    } else {
        let new = night >= 4;
        json!({"arch": "x86_64", "cpu.model": "AMD EPYC 7B13", "cpu.vendor": "AuthenticAMD", "cpu.logical": "2",
               "kernel.release": if new { "6.8.0-49-generic" } else { "6.5.0-44-generic" },
               "kernel.scheduler": if new { "EEVDF" } else { "CFS" },
               "toolchain.rustc": if new { "rustc 1.92.0" } else { "rustc 1.91.0" },
               "host.name": "ci-x86"})
    }
}

/// Writes the fixture under `dir` (machine folders inside); returns the files.
pub fn write(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut noise = Noise(42);
    for (machine, nights) in [(X86, 5usize), (GRAVITON, 3)] {
        for night in 0..nights {
            let day = 20 + night + if machine == GRAVITON { 2 } else { 0 };
            // The x86 host's last night: new kernel and rustc, 20% slower.
            let factor = if machine == X86 && night == 4 {
                0.8
            } else {
                1.0
            };
            let commit = if night >= 3 { "b7e91c2" } else { "a3f04d1" };
            let started = format!("2026-11-{day:02}T02:00:00Z");
            let cells: Vec<Value> = plans(machine, night, factor)
                .iter()
                .map(|p| cell(p, &mut noise))
                .collect();
            let fp = fingerprint(machine, night);
            let content = json!({
                "gaslab": {"version": "0.1.0", "commit": commit, "dirty": false},
                "profile": {"name": "nightly", "path": "profiles/nightly.toml", "sha256": "00"},
                "machine_id": machine,
                "started_at": started,
                "finished_at": format!("2026-11-{day:02}T02:40:00Z"),
                "complete": true,
                "fingerprint_start": fp,
                "fingerprint_end": fp,
                "cells": cells
            });
            let sha = Sha256::digest(serde_json::to_vec(&content).unwrap());
            let sha: String = sha.iter().map(|b| format!("{b:02x}")).collect();
            let set = json!({"schema_version": 1, "sha256": sha, "content": content});
            let folder = dir.join(machine);
            std::fs::create_dir_all(&folder).unwrap();
            let path = folder.join(format!("2026-11-{day:02}T020000Z_{commit}.json"));
            std::fs::write(&path, serde_json::to_string_pretty(&set).unwrap()).unwrap();
            files.push(path);
        }
    }
    files
}
