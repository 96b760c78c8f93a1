//! Finding and loading the result sets a report or a plot is made from.
//! A set that fails its schema or hash check is refused and named, never
//! used.

use crate::error::{LabError, Result};
use crate::store::{self, ResultContent};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct LoadedSet {
    pub path: PathBuf,
    pub content: ResultContent,
}

/// A file that looked like a result set but was refused, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub path: PathBuf,
    pub reason: String,
}

/// Every result set under `inputs` (files, or directories searched
/// recursively for `*.json`), oldest first.
pub fn load_all(inputs: &[PathBuf]) -> Result<(Vec<LoadedSet>, Vec<Refused>)> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            collect_json(input, &mut files)?;
        } else if input.exists() {
            files.push(input.clone());
        } else {
            return Err(LabError::file(input, "no such file or directory"));
        }
    }
    files.sort();
    files.dedup();
    let mut sets = Vec::new();
    let mut refused = Vec::new();
    for path in files {
        match store::load(&path) {
            Ok(set) => sets.push(LoadedSet {
                path,
                content: set.content,
            }),
            Err(e) => refused.push(Refused {
                path,
                reason: e.to_string(),
            }),
        }
    }
    sets.sort_by(|a, b| (&a.content.started_at, &a.path).cmp(&(&b.content.started_at, &b.path)));
    Ok((sets, refused))
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| LabError::file(dir, format!("cannot list directory: {e}")))?;
    for entry in entries {
        let path = entry
            .map_err(|e| LabError::file(dir, format!("cannot list directory: {e}")))?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Temp files of a run in progress start with a dot.
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_json(&path, out)?;
        } else if name.ends_with(".json") {
            out.push(path);
        }
    }
    Ok(())
}

/// The newest set of each profile on each machine, in machine order.
pub fn latest_per_machine(sets: &[LoadedSet]) -> Vec<&LoadedSet> {
    let mut latest: std::collections::BTreeMap<(&str, &str), &LoadedSet> = Default::default();
    for s in sets {
        // `sets` is oldest first, so the last one seen wins; one per profile,
        // so a scheduler run does not hide the allocator run before it.
        latest.insert((&s.content.machine_id, &s.content.profile.name), s);
    }
    latest.into_values().collect()
}

/// Each machine's sets, oldest first.
pub fn by_machine(sets: &[LoadedSet]) -> std::collections::BTreeMap<&str, Vec<&LoadedSet>> {
    let mut out: std::collections::BTreeMap<&str, Vec<&LoadedSet>> = Default::default();
    for s in sets {
        out.entry(&s.content.machine_id).or_default().push(s);
    }
    out
}
