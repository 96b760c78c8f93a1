//! The kernel and its scheduler: release, command line, CFS or EEVDF,
//! sched_ext and the scx scheduler loaded into it, and the scheduler's
//! features and tunables (debugfs, else the sched_* sysctls).

use super::source::{read, read_or_unreadable};
use super::{Fingerprint, UNREADABLE};
use std::path::Path;

/// debugfs tunables worth recording; `debug` and `verbose` dump state.
const DEBUGFS_TUNABLES: &[&str] = &[
    "base_slice_ns",
    "latency_ns",
    "min_granularity_ns",
    "idle_min_granularity_ns",
    "wakeup_granularity_ns",
    "migration_cost_ns",
    "nr_migrate",
    "tunable_scaling",
    "preempt",
    "latency_warn_ms",
    "latency_warn_once",
];

pub fn read_into(root: &Path, f: &mut Fingerprint) {
    let release = read_or_unreadable(root, "proc/sys/kernel/osrelease");
    f.insert(
        "kernel.version".into(),
        read_or_unreadable(root, "proc/sys/kernel/version"),
    );
    f.insert(
        "kernel.cmdline".into(),
        read_or_unreadable(root, "proc/cmdline"),
    );

    let features = read(root, "sys/kernel/debug/sched/features");
    let (family, source) = sched_family(&release, features.as_deref());
    f.insert("kernel.sched.family".into(), family.clone());
    f.insert("kernel.sched.family_source".into(), source.into());

    let (ext_state, ext_ops) = sched_ext(root);
    let scheduler = match (&ext_state[..], &ext_ops) {
        ("enabled", Some(ops)) => format!("sched_ext:{ops}"),
        _ => family,
    };
    f.insert("kernel.scheduler".into(), scheduler);
    f.insert("kernel.sched_ext.state".into(), ext_state);
    f.insert(
        "kernel.sched_ext.ops".into(),
        ext_ops.unwrap_or_else(|| "none".into()),
    );
    f.insert("kernel.release".into(), release);

    let mut readable = false;
    if let Some(features) = features {
        readable = true;
        f.insert(
            "kernel.sched.features".into(),
            features.split_whitespace().collect::<Vec<_>>().join(" "),
        );
        for t in DEBUGFS_TUNABLES {
            if let Some(v) = read(root, &format!("sys/kernel/debug/sched/{t}")) {
                f.insert(format!("kernel.sched.{t}"), v);
            }
        }
    } else {
        f.insert("kernel.sched.features".into(), UNREADABLE.into());
    }
    if let Ok(dir) = std::fs::read_dir(root.join("proc/sys/kernel")) {
        let mut names: Vec<String> = dir
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("sched_"))
            .collect();
        names.sort();
        for name in names {
            if let Some(v) = read(root, &format!("proc/sys/kernel/{name}")) {
                readable = true;
                f.insert(format!("kernel.sysctl.{name}"), v);
            }
        }
    }
    if !readable {
        f.insert("kernel.sched.tunables".into(), UNREADABLE.into());
    }
}

/// CFS or EEVDF. The feature flags say it directly where debugfs is
/// readable (EEVDF brought PLACE_LAG and RUN_TO_PARITY; CFS had
/// START_DEBIT and GENTLE_FAIR_SLEEPERS); otherwise the release does
/// (EEVDF replaced CFS in Linux 6.6).
pub fn sched_family(release: &str, features: Option<&str>) -> (String, &'static str) {
    if let Some(feat) = features {
        let has = |name: &str| {
            feat.split_whitespace()
                .any(|w| w.trim_start_matches("NO_") == name)
        };
        if has("PLACE_LAG") || has("RUN_TO_PARITY") {
            return ("EEVDF".into(), "sched features");
        }
        if has("START_DEBIT") || has("GENTLE_FAIR_SLEEPERS") {
            return ("CFS".into(), "sched features");
        }
    }
    match release_version(release) {
        Some(v) if v >= (6, 6) => ("EEVDF".into(), "kernel release"),
        Some(_) => ("CFS".into(), "kernel release"),
        None => (UNREADABLE.into(), "none"),
    }
}

/// `6.8.0-45-generic` -> (6, 8).
pub fn release_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// sched_ext's state and the loaded scx scheduler, from
/// /sys/kernel/sched_ext (Linux 6.12+; absent on kernels without it).
fn sched_ext(root: &Path) -> (String, Option<String>) {
    if !root.join("sys/kernel/sched_ext").is_dir() {
        return ("absent".into(), None);
    }
    let state = read_or_unreadable(root, "sys/kernel/sched_ext/state");
    let ops = read(root, "sys/kernel/sched_ext/root/ops").filter(|s| !s.is_empty());
    (state, ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_from_release_when_features_are_unreadable() {
        assert_eq!(sched_family("5.15.0-1051-aws", None).0, "CFS");
        assert_eq!(sched_family("6.5.13", None).0, "CFS");
        assert_eq!(sched_family("6.6.0", None).0, "EEVDF");
        assert_eq!(
            sched_family("6.18.44-fc-v657", None),
            ("EEVDF".into(), "kernel release")
        );
        assert_eq!(sched_family("garbage", None).0, UNREADABLE);
    }

    #[test]
    fn features_win_over_the_release() {
        // A distribution kernel with EEVDF backported still says so.
        assert_eq!(
            sched_family("6.1.0", Some("PLACE_LAG NO_RUN_TO_PARITY")),
            ("EEVDF".into(), "sched features")
        );
        assert_eq!(
            sched_family("6.8.0", Some("GENTLE_FAIR_SLEEPERS START_DEBIT")).0,
            "CFS"
        );
    }
}
