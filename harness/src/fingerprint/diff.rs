//! `gaslab env --diff A B`: every environment field that differs between
//! two result sets, grouped by what kind of change it is, so a regression
//! across a kernel upgrade and a toolchain update can be told apart.

use crate::store::ResultContent;
use std::collections::BTreeMap;

/// The groups, in the order they are printed.
pub const GROUPS: &[&str] = &[
    "kernel/scheduler",
    "CPU/machine",
    "toolchain",
    "allocator",
    "gaslab",
];

/// Crates whose version is the allocator's, not the toolchain's.
const ALLOCATOR_CRATES: &[&str] = &["mimalloc", "jemalloc", "rpmalloc", "snmalloc"];

pub fn group_of(key: &str) -> &'static str {
    if key.starts_with("kernel.") {
        "kernel/scheduler"
    } else if key.starts_with("allocator.")
        || (key.starts_with("crate.") && ALLOCATOR_CRATES.iter().any(|a| key.contains(a)))
    {
        "allocator"
    } else if key.starts_with("toolchain.") || key.starts_with("crate.") {
        "toolchain"
    } else if key.starts_with("gaslab.") || key.starts_with("profile.") {
        "gaslab"
    } else {
        "CPU/machine"
    }
}

/// Everything about a result set's environment, as one flat map: the
/// start fingerprint, what each allocator said of itself, and gaslab's
/// own version and commit.
pub fn environment(c: &ResultContent) -> BTreeMap<String, String> {
    let mut env = c.fingerprint_start.clone();
    for cell in &c.cells {
        if let Some(id) = &cell.allocator_identity {
            env.insert(
                format!("allocator.{}.version", cell.allocator),
                id.version.clone().unwrap_or_else(|| "unversioned".into()),
            );
        }
    }
    env.insert("gaslab.version".into(), c.gaslab.version.clone());
    env.insert("gaslab.commit".into(), c.gaslab.commit.clone());
    env.insert("gaslab.dirty".into(), c.gaslab.dirty.to_string());
    env.insert("profile.name".into(), c.profile.name.clone());
    env.insert("profile.sha256".into(), c.profile.sha256.clone());
    env
}

/// One differing field: its value in A and in B (None: absent there).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub key: String,
    pub a: Option<String>,
    pub b: Option<String>,
}

/// Differences, grouped, each group sorted by key; empty groups left out.
pub fn diff(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
) -> Vec<(&'static str, Vec<Change>)> {
    let mut grouped: BTreeMap<&str, Vec<Change>> = BTreeMap::new();
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        let (va, vb) = (a.get(key), b.get(key));
        if va != vb {
            grouped.entry(group_of(key)).or_default().push(Change {
                key: key.clone(),
                a: va.cloned(),
                b: vb.cloned(),
            });
        }
    }
    GROUPS
        .iter()
        .filter_map(|g| grouped.remove(g).map(|c| (*g, c)))
        .collect()
}

/// The diff as text for a terminal.
pub fn render(groups: &[(&'static str, Vec<Change>)]) -> String {
    if groups.is_empty() {
        return "no differences\n".into();
    }
    let mut out = String::new();
    for (group, changes) in groups {
        out.push_str(&format!("{group}\n"));
        for c in changes {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
            out.push_str(&format!("  {}: {} -> {}\n", c.key, show(&c.a), show(&c.b)));
        }
    }
    out
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
    fn differences_are_grouped_and_equal_fields_left_out() {
        let a = map(&[
            ("kernel.release", "6.5.0"),
            ("kernel.sched.family", "CFS"),
            ("cpu.model", "AMD EPYC"),
            ("toolchain.rustc", "1.90"),
            ("crate.revm", "43.0.3"),
            ("crate.mimalloc", "0.1.52"),
            ("gaslab.commit", "abc"),
            ("power.governor", "performance"),
        ]);
        let b = map(&[
            ("kernel.release", "6.8.0"),
            ("kernel.sched.family", "EEVDF"),
            ("cpu.model", "AMD EPYC"),
            ("toolchain.rustc", "1.91"),
            ("crate.revm", "43.0.3"),
            ("crate.mimalloc", "0.1.53"),
            ("gaslab.commit", "def"),
            ("numa.nodes", "2"),
        ]);
        let d = diff(&a, &b);
        let names: Vec<&str> = d.iter().map(|(g, _)| *g).collect();
        assert_eq!(names, GROUPS);
        assert_eq!(d[0].1.len(), 2, "kernel.release and sched family");
        let machine: Vec<&str> = d[1].1.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(machine, ["numa.nodes", "power.governor"]);
        assert_eq!(d[1].1[0].a, None);
        assert_eq!(d[1].1[1].b, None);
        assert_eq!(d[2].1[0].key, "toolchain.rustc");
        assert_eq!(d[3].1[0].key, "crate.mimalloc");
        let text = render(&d);
        assert!(
            text.contains("kernel/scheduler\n  kernel.release: 6.5.0 -> 6.8.0\n"),
            "{text}"
        );
        assert!(text.contains("numa.nodes: (absent) -> 2"), "{text}");
        assert!(!text.contains("revm"), "{text}");
    }

    #[test]
    fn identical_environments_say_so() {
        let a = map(&[("kernel.release", "6.8.0")]);
        assert_eq!(render(&diff(&a, &a)), "no differences\n");
    }
}
