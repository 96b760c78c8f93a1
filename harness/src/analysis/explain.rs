//! `gaslab explain`: what changed across a change point, or between two
//! result sets: the code (commit range) and the environment (fingerprint
//! diff, grouped: kernel, scheduler, toolchain, allocator ...). When both
//! changed on the same night, both are named: the lab does not guess which.

use super::fingerprint_diff::{cell_fingerprint, describe, diff, FieldChange, FingerprintGroup};
use super::history::{ChangePointReport, History};
use super::measure::SetLabel;
use crate::store::ResultContent;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The code side of a change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeChange {
    pub from_commit: String,
    pub to_commit: String,
    /// False when both sides ran the same clean commit: the code did not change.
    pub changed: bool,
    /// A side ran with uncommitted changes, so its commit does not say all.
    pub dirty: bool,
    /// `git log --oneline from..to` where this checkout has both commits.
    pub commits: Option<Vec<String>>,
}

/// Everything that differs between a before and an after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub before: SetLabel,
    pub after: SetLabel,
    pub code: CodeChange,
    /// Every differing fingerprint field, grouped and sorted.
    pub fingerprint_changes: Vec<FieldChange>,
    /// The groups that changed, in order (kernel, scheduler, toolchain ...).
    pub changed_groups: Vec<FingerprintGroup>,
    /// One sentence a person can act on.
    pub summary: String,
}

/// A history change point with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeExplanation {
    pub machine_id: String,
    pub key: String,
    pub change: ChangePointReport,
    pub explanation: Explanation,
}

/// Explains the difference between two result sets; `key` narrows the
/// per-cell part (allocator version, worker build) to one cell.
pub fn explain_pair(
    before_path: &Path,
    before: &ResultContent,
    after_path: &Path,
    after: &ResultContent,
    key: Option<&str>,
) -> Explanation {
    let mut changes = diff(&before.fingerprint_start, &after.fingerprint_start);
    if let Some(key) = key {
        let find = |c: &ResultContent| {
            c.cells
                .iter()
                .find(|cell| super::measure::cell_identity(cell) == key)
                .map(cell_fingerprint)
        };
        if let (Some(a), Some(b)) = (find(before), find(after)) {
            for c in diff(&a, &b) {
                if !changes.iter().any(|x| x.field == c.field) {
                    changes.push(c);
                }
            }
            changes.sort_by(|a, b| (a.group, &a.field).cmp(&(b.group, &b.field)));
        }
    }
    // Host names and the like are noise in an explanation.
    changes.retain(|c| super::fingerprint_diff::is_key_field(&c.field));
    let code = CodeChange {
        from_commit: before.gaslab.commit.clone(),
        to_commit: after.gaslab.commit.clone(),
        changed: before.gaslab.commit != after.gaslab.commit,
        dirty: before.gaslab.dirty || after.gaslab.dirty,
        commits: None,
    };
    let mut changed_groups: Vec<FingerprintGroup> = changes.iter().map(|c| c.group).collect();
    changed_groups.dedup();
    let summary = summarise(&code, &changes, &changed_groups);
    Explanation {
        before: SetLabel::of(before_path, before),
        after: SetLabel::of(after_path, after),
        code,
        fingerprint_changes: changes,
        changed_groups,
        summary,
    }
}

fn summarise(code: &CodeChange, changes: &[FieldChange], groups: &[FingerprintGroup]) -> String {
    let code_part = match (code.changed, code.dirty) {
        (false, false) => format!(
            "the code did not change (both sides ran gaslab {})",
            code.from_commit
        ),
        (false, true) => format!(
            "same commit {} but a side had uncommitted changes, so the code may have changed",
            code.from_commit
        ),
        (true, _) => format!(
            "the code changed ({}..{})",
            code.from_commit, code.to_commit
        ),
    };
    if changes.is_empty() {
        return format!("{code_part}; the fingerprint did not change");
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|g| {
            let fields: Vec<String> = changes
                .iter()
                .filter(|c| c.group == *g)
                .map(describe)
                .collect();
            format!("{} ({})", g.label(), fields.join("; "))
        })
        .collect();
    let which = if groups.len() + usize::from(code.changed) > 1 {
        "; any of them may be the cause"
    } else {
        ""
    };
    format!("{code_part}; changed with it: {}{which}", parts.join(", "))
}

/// Explains every change point of `history`, reading the result sets the
/// points came from.
pub fn explain_history(
    history: &History,
    sets: &[(PathBuf, ResultContent)],
) -> Vec<ChangeExplanation> {
    let find = |p: &Path| sets.iter().find(|(q, _)| q == p).map(|(_, c)| c);
    let mut out = Vec::new();
    for cell in &history.cells {
        for cp in &cell.change_points {
            let (Some(a), Some(b)) = (find(&cp.last_before.path), find(&cp.first_after.path))
            else {
                continue;
            };
            out.push(ChangeExplanation {
                machine_id: cell.machine_id.clone(),
                key: cell.key.clone(),
                change: cp.clone(),
                explanation: explain_pair(
                    &cp.last_before.path,
                    a,
                    &cp.first_after.path,
                    b,
                    Some(&cell.key),
                ),
            });
        }
    }
    out
}

/// The commits between two, from git where this checkout knows both.
pub fn commit_log(from: &str, to: &str) -> Option<Vec<String>> {
    let out = std::process::Command::new("git")
        .args([
            "log",
            "--oneline",
            "--no-decorate",
            &format!("{from}..{to}"),
        ])
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::history::{history, load_dir, HistoryOptions};
    use crate::analysis::test_sets::{content, noisy_rates};
    use crate::store;

    /// The story from the design: an Ubuntu upgrade moves the kernel from
    /// 6.5 (CFS) to 6.8 (EEVDF) and the toolchain from rustc 1.79 to 1.80
    /// on the same night; gas/s drops 20%; gaslab's commit is unchanged.
    fn upgrade_story(dir: &Path) {
        for night in 0..20u64 {
            let upgraded = night >= 10;
            let center = if upgraded { 80e6 } else { 100e6 };
            let fingerprint: &[(&str, &str)] = if upgraded {
                &[
                    ("kernel.release", "6.8.0-31-generic"),
                    ("kernel.scheduler", "EEVDF"),
                    ("toolchain.rustc", "rustc 1.80.0"),
                    ("host.name", "lab1-after-reboot"),
                ]
            } else {
                &[
                    ("kernel.release", "6.5.0-45-generic"),
                    ("kernel.scheduler", "CFS"),
                    ("toolchain.rustc", "rustc 1.79.0"),
                ]
            };
            let mut c = content(
                &[
                    ("system", noisy_rates(center, 0.01, 10, night)),
                    ("mimalloc", noisy_rates(center * 1.3, 0.01, 10, 100 + night)),
                ],
                "4f2a9c1d0e7b",
                fingerprint,
            );
            c.started_at = format!("2026-03-{:02}T02:00:00Z", night + 1);
            store::write_new(&dir.join(&c.machine_id), &format!("n{night:02}"), c).unwrap();
        }
    }

    #[test]
    fn the_cfs_to_eevdf_and_rustc_upgrade_is_explained_without_blaming_the_code() {
        let tmp = tempfile::tempdir().unwrap();
        upgrade_story(tmp.path());
        let sets = load_dir(tmp.path()).unwrap();
        let h = history(&sets, &HistoryOptions::default());
        let explained = explain_history(&h, &sets);
        assert_eq!(explained.len(), 2, "one change point per allocator cell");
        for e in &explained {
            assert_eq!(e.change.index, 10);
            assert!(
                (e.change.magnitude + 0.2).abs() < 0.02,
                "{}",
                e.change.magnitude
            );
            let x = &e.explanation;
            assert!(!x.code.changed && !x.code.dirty);
            assert_eq!(
                x.changed_groups,
                [
                    FingerprintGroup::Kernel,
                    FingerprintGroup::Scheduler,
                    FingerprintGroup::Toolchain
                ]
            );
            let fields: Vec<_> = x
                .fingerprint_changes
                .iter()
                .map(|c| c.field.as_str())
                .collect();
            assert_eq!(
                fields,
                ["kernel.release", "kernel.scheduler", "toolchain.rustc"]
            );
            for needle in [
                "the code did not change",
                "6.5.0-45-generic -> 6.8.0-31-generic",
                "CFS -> EEVDF",
                "rustc 1.79.0 -> rustc 1.80.0",
                "any of them may be the cause",
            ] {
                assert!(
                    x.summary.contains(needle),
                    "{needle:?} not in {}",
                    x.summary
                );
            }
            assert!(!x.summary.contains("host.name"), "{}", x.summary);
        }
    }

    #[test]
    fn a_pair_with_a_code_change_and_nothing_else_says_so() {
        let a = content(&[("system", vec![1e8; 5])], "aaa111", &[]);
        let b = content(&[("system", vec![1e8; 5])], "bbb222", &[]);
        let x = explain_pair(Path::new("a"), &a, Path::new("b"), &b, None);
        assert!(x.code.changed);
        assert!(x.fingerprint_changes.is_empty());
        assert_eq!(
            x.summary,
            "the code changed (aaa111..bbb222); the fingerprint did not change"
        );
    }
}
