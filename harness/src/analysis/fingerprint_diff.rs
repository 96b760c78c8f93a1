//! What differs between two fingerprints, grouped the way a person asks
//! about it: kernel, scheduler, toolchain, allocator, CPU, machine.

use serde::Serialize;
use std::collections::BTreeMap;

/// One fingerprint field that differs; None where a side lacks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub group: FingerprintGroup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FingerprintGroup {
    Kernel,
    Scheduler,
    Toolchain,
    Allocator,
    Crates,
    Cpu,
    Machine,
    Other,
}

impl FingerprintGroup {
    pub fn of(field: &str) -> Self {
        let f = field.to_ascii_lowercase();
        let has = |p: &str| f.starts_with(p) || f.contains(&format!(".{p}"));
        if has("sched") || has("scx") || has("eevdf") || has("cfs") {
            FingerprintGroup::Scheduler
        } else if has("kernel") {
            FingerprintGroup::Kernel
        } else if has("toolchain") || has("rustc") || has("rustflags") {
            FingerprintGroup::Toolchain
        } else if has("allocator") {
            FingerprintGroup::Allocator
        } else if has("crate") {
            FingerprintGroup::Crates
        } else if has("cpu") || has("microcode") || has("smt") || has("numa") {
            FingerprintGroup::Cpu
        } else if has("cloud")
            || has("instance")
            || has("dmi")
            || has("memory")
            || has("arch")
            || has("os")
            || has("governor")
            || has("turbo")
            || has("thp")
            || has("virt")
        {
            FingerprintGroup::Machine
        } else {
            FingerprintGroup::Other
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FingerprintGroup::Kernel => "kernel",
            FingerprintGroup::Scheduler => "scheduler",
            FingerprintGroup::Toolchain => "toolchain",
            FingerprintGroup::Allocator => "allocator",
            FingerprintGroup::Crates => "crate versions",
            FingerprintGroup::Cpu => "cpu",
            FingerprintGroup::Machine => "machine",
            FingerprintGroup::Other => "other",
        }
    }
}

/// Fields that change from run to run on the same machine without changing
/// what is measured; everything else is part of a result's key.
const NOT_KEY: &[&str] = &[
    "host.name",
    "kernel.version",
    "load",
    "uptime",
    "time",
    "memory.available",
    "memory.free",
    "thermal",
    "temperature",
];

/// Whether a field is part of the fingerprint key (like is compared with like).
pub fn is_key_field(field: &str) -> bool {
    !NOT_KEY
        .iter()
        .any(|p| field == *p || field.starts_with(&format!("{p}.")))
}

/// Every field that differs, sorted by group then name.
pub fn diff(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<FieldChange> {
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    let mut out: Vec<FieldChange> = fields
        .into_iter()
        .filter(|f| before.get(*f) != after.get(*f))
        .map(|f| FieldChange {
            field: f.clone(),
            before: before.get(f).cloned(),
            after: after.get(f).cloned(),
            group: FingerprintGroup::of(f),
        })
        .collect();
    out.sort_by(|a, b| (a.group, &a.field).cmp(&(b.group, &b.field)));
    out
}

/// Only the differing fields that are part of the key.
pub fn key_diff(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<FieldChange> {
    diff(before, after)
        .into_iter()
        .filter(|c| is_key_field(&c.field))
        .collect()
}

/// A cell's own fingerprint: what its worker said of its allocator and build.
pub fn cell_fingerprint(cell: &crate::store::CellResult) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    if let Some(id) = &cell.allocator_identity {
        f.insert("allocator.name".into(), id.name.clone());
        f.insert(
            "allocator.version".into(),
            id.version.clone().unwrap_or_else(|| "unknown".into()),
        );
    }
    if let Some(b) = &cell.build {
        f.insert("toolchain.worker_rustc".into(), b.rustc.clone());
        f.insert("toolchain.worker_rustflags".into(), b.rustflags.clone());
        for (name, v) in &b.crates {
            f.insert(format!("crate.worker.{name}"), v.clone());
        }
    }
    f
}

/// `field: before -> after`, with "(absent)" for a missing side.
pub fn describe(c: &FieldChange) -> String {
    let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
    format!("{}: {} -> {}", c.field, side(&c.before), side(&c.after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn groups_follow_the_field_names() {
        assert_eq!(
            FingerprintGroup::of("kernel.release"),
            FingerprintGroup::Kernel
        );
        assert_eq!(
            FingerprintGroup::of("kernel.scheduler"),
            FingerprintGroup::Scheduler
        );
        assert_eq!(
            FingerprintGroup::of("sched.features"),
            FingerprintGroup::Scheduler
        );
        assert_eq!(
            FingerprintGroup::of("toolchain.rustc"),
            FingerprintGroup::Toolchain
        );
        assert_eq!(FingerprintGroup::of("crate.revm"), FingerprintGroup::Crates);
        assert_eq!(FingerprintGroup::of("cpu.microcode"), FingerprintGroup::Cpu);
        assert_eq!(
            FingerprintGroup::of("cloud.instance_type"),
            FingerprintGroup::Machine
        );
    }

    #[test]
    fn diff_lists_changed_added_and_removed_fields_and_key_diff_drops_volatile_ones() {
        let a = map(&[
            ("kernel.release", "6.5"),
            ("host.name", "a"),
            ("cpu.model", "x"),
        ]);
        let b = map(&[
            ("kernel.release", "6.8"),
            ("host.name", "b"),
            ("toolchain.rustc", "1.80"),
        ]);
        let d = diff(&a, &b);
        let fields: Vec<_> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "kernel.release",
                "toolchain.rustc",
                "cpu.model",
                "host.name"
            ]
        );
        let k: Vec<_> = key_diff(&a, &b).into_iter().map(|c| c.field).collect();
        assert_eq!(k, ["kernel.release", "toolchain.rustc", "cpu.model"]);
        assert_eq!(describe(&d[1]), "toolchain.rustc: (absent) -> 1.80");
    }
}
