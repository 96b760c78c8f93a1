//! What changed since the previous night on each machine: per cell, the
//! change of the median with both nights' 95% CIs, and the fingerprint and
//! commit differences that may explain it.
//!
//! A change is called a regression (or improvement) only when it is outside
//! the noise band and the two nights' bootstrap CIs do not overlap; the
//! history analysis (change points) is the finer instrument.

use super::sets::{by_machine, LoadedSet};
use super::table::cell_summary;
use crate::store::CellStatus;

/// Changes smaller than this are noise, whatever the intervals say.
pub const NOISE_BAND: f64 = 0.02;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Regression,
    Improvement,
    WithinNoise,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Regression => "regression",
            Verdict::Improvement => "improvement",
            Verdict::WithinNoise => "within noise",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CellChange {
    pub cell: String,
    /// What the rates count per second ("gas", "permutation").
    pub measure: String,
    pub previous: (f64, f64, f64),
    pub latest: (f64, f64, f64),
    /// latest / previous - 1.
    pub change: f64,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NightComparison {
    pub machine: String,
    pub previous_started: String,
    pub latest_started: String,
    pub previous_commit: String,
    pub latest_commit: String,
    /// (field, previous, latest) for every fingerprint field that differs.
    pub fingerprint_diff: Vec<(String, String, String)>,
    pub changes: Vec<CellChange>,
}

impl NightComparison {
    pub fn regressions(&self) -> impl Iterator<Item = &CellChange> {
        self.changes
            .iter()
            .filter(|c| c.verdict == Verdict::Regression)
    }

    /// In words: what differs between the two nights besides the numbers.
    pub fn explanation(&self) -> String {
        let mut parts = Vec::new();
        if self.previous_commit != self.latest_commit {
            parts.push(format!(
                "gaslab commit {} -> {}",
                self.previous_commit, self.latest_commit
            ));
        }
        for (field, a, b) in &self.fingerprint_diff {
            parts.push(format!("{field}: {a} -> {b}"));
        }
        if parts.is_empty() {
            "same commit and same fingerprint: no recorded cause (noise, or something the fingerprint does not see)".into()
        } else {
            parts.join("; ")
        }
    }
}

/// Fingerprint fields that change every run and explain nothing.
const VOLATILE: &[&str] = &["host.name"];

/// For each machine with two or more sets: its latest set against the one before.
pub fn since_previous_night(sets: &[LoadedSet]) -> Vec<NightComparison> {
    let mut out = Vec::new();
    for (machine, list) in by_machine(sets) {
        let [.., previous, latest] = list.as_slice() else {
            continue;
        };
        let (p, l) = (&previous.content, &latest.content);
        let mut fingerprint_diff = Vec::new();
        let fields: std::collections::BTreeSet<&String> = p
            .fingerprint_start
            .keys()
            .chain(l.fingerprint_start.keys())
            .collect();
        for f in fields {
            if VOLATILE.contains(&f.as_str()) {
                continue;
            }
            let a = p
                .fingerprint_start
                .get(f)
                .cloned()
                .unwrap_or("(absent)".into());
            let b = l
                .fingerprint_start
                .get(f)
                .cloned()
                .unwrap_or("(absent)".into());
            if a != b {
                fingerprint_diff.push((f.clone(), a, b));
            }
        }
        let mut changes = Vec::new();
        for cell in l.cells.iter().filter(|c| c.status == CellStatus::Ok) {
            let Some(before) = p
                .cells
                .iter()
                .find(|c| c.key == cell.key && c.status == CellStatus::Ok)
            else {
                continue;
            };
            let (a, b) = (cell_summary(before), cell_summary(cell));
            let (Some(am), Some(al), Some(au), Some(bm), Some(bl), Some(bu)) = (
                a.median_rate,
                a.ci_lower,
                a.ci_upper,
                b.median_rate,
                b.ci_lower,
                b.ci_upper,
            ) else {
                continue;
            };
            if am <= 0.0 {
                continue;
            }
            let change = bm / am - 1.0;
            let apart = bu < al || bl > au;
            let verdict = if change.abs() <= NOISE_BAND || !apart {
                Verdict::WithinNoise
            } else if change < 0.0 {
                Verdict::Regression
            } else {
                Verdict::Improvement
            };
            changes.push(CellChange {
                cell: cell.key.clone(),
                measure: b.measure,
                previous: (am, al, au),
                latest: (bm, bl, bu),
                change,
                verdict,
            });
        }
        out.push(NightComparison {
            machine: machine.to_string(),
            previous_started: p.started_at.clone(),
            latest_started: l.started_at.clone(),
            previous_commit: p.gaslab.commit.clone(),
            latest_commit: l.gaslab.commit.clone(),
            fingerprint_diff,
            changes,
        });
    }
    out
}
