//! What the machine does to clock speed and memory behind the program's
//! back: cpufreq governor and driver, boost/turbo, transparent huge pages,
//! SMT.

use super::source::{read, read_or_unreadable, selected};
use super::{Fingerprint, UNREADABLE};
use std::path::Path;

pub fn read_into(root: &Path, f: &mut Fingerprint) {
    f.insert("power.governor".into(), governor(root));
    f.insert(
        "power.cpufreq_driver".into(),
        read_or_unreadable(root, "sys/devices/system/cpu/cpu0/cpufreq/scaling_driver"),
    );
    f.insert("power.boost".into(), boost(root));
    for (file, key) in [
        ("enabled", "memory.thp.enabled"),
        ("defrag", "memory.thp.defrag"),
    ] {
        let v = read(root, &format!("sys/kernel/mm/transparent_hugepage/{file}"))
            .and_then(|t| selected(&t))
            .unwrap_or(UNREADABLE.into());
        f.insert(key.into(), v);
    }
    f.insert(
        "cpu.smt.control".into(),
        read_or_unreadable(root, "sys/devices/system/cpu/smt/control"),
    );
    f.insert(
        "cpu.smt.active".into(),
        match read(root, "sys/devices/system/cpu/smt/active").as_deref() {
            Some("1") => "yes".into(),
            Some("0") => "no".into(),
            Some(other) => other.into(),
            None => UNREADABLE.into(),
        },
    );
}

/// The governor of every CPU, one word if they agree.
fn governor(root: &Path) -> String {
    let Ok(dir) = std::fs::read_dir(root.join("sys/devices/system/cpu")) else {
        return UNREADABLE.into();
    };
    let mut seen: Vec<String> = dir
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            n.strip_prefix("cpu")
                .is_some_and(|d| d.parse::<u32>().is_ok())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("cpufreq/scaling_governor")).ok())
        .map(|s| s.trim().to_string())
        .collect();
    seen.sort();
    seen.dedup();
    match seen.len() {
        0 => UNREADABLE.into(),
        1 => seen.remove(0),
        _ => format!("mixed: {}", seen.join(",")),
    }
}

/// Boost/turbo from whichever driver exposes it.
fn boost(root: &Path) -> String {
    if let Some(v) = read(root, "sys/devices/system/cpu/cpufreq/boost") {
        return on_off(&v, false);
    }
    if let Some(v) = read(root, "sys/devices/system/cpu/intel_pstate/no_turbo") {
        return on_off(&v, true);
    }
    if let Some(v) = read(root, "sys/devices/system/cpu/cpu0/cpufreq/boost") {
        return on_off(&v, false);
    }
    UNREADABLE.into()
}

fn on_off(v: &str, inverted: bool) -> String {
    match (v, inverted) {
        ("1", false) | ("0", true) => "on".into(),
        ("0", false) | ("1", true) => "off".into(),
        _ => v.into(),
    }
}
