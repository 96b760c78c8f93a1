//! Helpers for the end-to-end tests: the built binaries and scratch dirs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const ALLOCATORS: &[&str] = &["system", "mimalloc", "jemalloc", "rpmalloc", "snmalloc"];

pub fn gaslab() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gaslab"))
}

/// The worker binaries sit beside `gaslab`; `cargo build --workspace` puts
/// them there (the README's test command builds before it tests).
pub fn workers_dir() -> PathBuf {
    let dir = gaslab().parent().unwrap().to_path_buf();
    for a in ALLOCATORS {
        let w = dir.join(format!("worker-{a}"));
        assert!(
            w.exists(),
            "{} is missing: build the workspace first (cargo build --release --workspace)",
            w.display()
        );
    }
    dir
}

pub fn run(args: &[&str]) -> Output {
    Command::new(gaslab())
        .args(args)
        .output()
        .expect("gaslab runs")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// The last line gaslab run prints is the path it wrote.
pub fn written_path(o: &Output) -> PathBuf {
    let out = String::from_utf8_lossy(&o.stdout);
    PathBuf::from(out.lines().last().expect("run prints the path last").trim())
}

pub fn tiny_profile(allocators: &[&str], samples: usize, timeout_s: f64) -> String {
    let list: Vec<String> = allocators.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "name = \"tiny\"\n[defaults]\nwarmup = 1\nsamples = {samples}\ntimeout_s = {timeout_s}\nallocators = [{}]\n\n[[matrix]]\nworkload = \"evm.transfers\"\nparams = {{ txs = 50, seed = 3 }}\n",
        list.join(", ")
    )
}

/// A directory of workers where the named allocators' workers are replaced
/// by shell scripts (to crash, hang, or lie), and the rest are the real ones.
pub fn fake_workers(dir: &Path, fakes: &[(&str, &str)]) -> PathBuf {
    let real = workers_dir();
    let out = dir.join("workers");
    std::fs::create_dir_all(&out).unwrap();
    for a in ALLOCATORS {
        let target = out.join(format!("worker-{a}"));
        if let Some((_, script)) = fakes.iter().find(|(name, _)| name == a) {
            std::fs::write(&target, format!("#!/bin/sh\n{script}\n")).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
        } else {
            std::os::unix::fs::symlink(real.join(format!("worker-{a}")), &target).unwrap();
        }
    }
    out
}
