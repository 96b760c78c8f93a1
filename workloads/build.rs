//! Records how the workers were built: the toolchain and flags are part of
//! what a measurement measures.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let verbose = Command::new(&rustc)
        .arg("-vV")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let release = verbose.lines().next().unwrap_or("unknown").to_string();
    let host = verbose
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap_or("unknown");
    let target = std::env::var("TARGET").unwrap_or_else(|_| host.to_string());
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS")
        .unwrap_or_default()
        .replace('\u{1f}', " ");
    let profile = std::env::var("PROFILE").unwrap_or_default();
    println!("cargo:rustc-env=GASLAB_RUSTC={release}");
    println!("cargo:rustc-env=GASLAB_TARGET={target}");
    println!("cargo:rustc-env=GASLAB_RUSTFLAGS={flags}");
    println!("cargo:rustc-env=GASLAB_PROFILE={profile}");
    println!("cargo:rustc-env=GASLAB_CRATES={}", locked_versions());
    println!("cargo:rerun-if-changed=../Cargo.lock");
    println!("cargo:rerun-if-env-changed=RUSTFLAGS");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
}

/// Versions of the measured crates, read from the workspace lock file.
fn locked_versions() -> String {
    const MEASURED: &[&str] = &[
        "revm",
        "alloy-primitives",
        "mimalloc",
        "libmimalloc-sys",
        "tikv-jemallocator",
        "tikv-jemalloc-sys",
        "rpmalloc",
        "rpmalloc-sys",
        "snmalloc-rs",
        "snmalloc-sys",
        "p3-keccak-air",
        "p3-uni-stark",
    ];
    let lock = std::fs::read_to_string("../Cargo.lock").unwrap_or_default();
    let mut found = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take() {
                if MEASURED.contains(&n.as_str()) {
                    found.push(format!("{n}={}", v.trim_matches('"')));
                }
            }
        }
    }
    found.join(",")
}
