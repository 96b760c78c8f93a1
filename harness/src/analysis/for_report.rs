//! What the report needs from the analysis: each cell's change points with
//! what changed across them, and the calibrated detection limits; computed
//! by the same code `gaslab history` and `gaslab explain` run.

use super::explain::explain_history;
use super::history::{history, load_dir, HistoryOptions};
use crate::error::Result;
use crate::plot::ChangePoint;
use crate::report::{Analyses, ChangePoints, DetectionLimit};
use crate::store::ResultContent;
use std::path::PathBuf;

/// Change points and detection limits over every result set under `results`.
pub fn analyses_for_report(results: &[PathBuf]) -> Result<Analyses> {
    let mut sets: Vec<(PathBuf, ResultContent)> = Vec::new();
    for path in results {
        if path.is_dir() {
            sets.extend(load_dir(path)?);
        } else {
            sets.push((path.clone(), crate::store::load(path)?.content));
        }
    }
    let h = history(&sets, &HistoryOptions::default());
    let mut change_points = ChangePoints::new();
    for explained in explain_history(&h, &sets) {
        change_points
            .entry((explained.machine_id.clone(), explained.key.clone()))
            .or_default()
            .push(ChangePoint {
                index: explained.change.index,
                magnitude: explained.change.magnitude,
                annotation: explained.explanation.summary.clone(),
            });
    }
    let detection_limits = h
        .detection_limits
        .iter()
        .map(|l| DetectionLimit {
            machine: l.machine_id.clone(),
            smallest_detectable_pct: l.smallest_detectable_pct,
            largest_tested_pct: l.largest_tested_pct,
            false_alarm_rate: l.false_alarm_rate,
            source: l.statement.clone(),
        })
        .collect();
    Ok(Analyses {
        change_points: Some(change_points),
        detection_limits,
        missing_hosts: Vec::new(),
    })
}
