//! `gaslab history <results-dir>`: per machine and cell, the series of
//! nightly medians in time order, with change points found by E-Divisive
//! means and a permutation test.

use super::calibrate::{latest_for_machine, CalibrationLimit};
use super::measure::{cell_identity, CellRates};
use crate::error::{LabError, Result};
use crate::store::{self, CellStatus, ResultContent};
use gaslab_stats::{e_divisive, median, EDivisiveConfig};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistoryOptions {
    pub window: usize,
    pub p_value: f64,
    pub permutations: usize,
    pub min_size: usize,
    pub seed: u64,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        let c = EDivisiveConfig::default();
        Self {
            window: c.window,
            p_value: c.p_value,
            permutations: c.permutations,
            min_size: c.min_size,
            seed: c.seed,
        }
    }
}

impl HistoryOptions {
    fn config(&self) -> EDivisiveConfig {
        EDivisiveConfig {
            window: self.window,
            p_value: self.p_value,
            permutations: self.permutations,
            min_size: self.min_size,
            seed: self.seed,
        }
    }
}

/// One night of one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// The result set this point comes from.
    pub path: PathBuf,
    pub started_at: String,
    pub commit: String,
    pub dirty: bool,
    /// Median of the night's per-sample rates: the series E-Divisive sees.
    pub median: f64,
    /// Total amount over total time for the night.
    pub aggregate: Option<f64>,
    pub samples: usize,
}

/// A change point with what it means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangePointReport {
    /// Index (into the cell's points) of the first point of the new regime.
    pub index: usize,
    pub p_value: f64,
    /// 1 - p-value.
    pub confidence: f64,
    /// E-Divisive's q-hat at the split.
    pub statistic: f64,
    /// Medians of the points between the neighbouring change points.
    pub before_median: f64,
    pub after_median: f64,
    /// after / before - 1: -0.2 is 20% slower.
    pub magnitude: f64,
    /// The last point before and the first after: their commits bound the
    /// code that changed.
    pub last_before: HistoryPoint,
    pub first_after: HistoryPoint,
}

impl ChangePointReport {
    pub fn is_regression(&self) -> bool {
        self.magnitude < 0.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellHistory {
    pub machine_id: String,
    /// The cell's identity (key without injected slowdown).
    pub key: String,
    /// What the medians count per second ("gas", "permutation").
    pub measure: String,
    pub points: Vec<HistoryPoint>,
    pub change_points: Vec<ChangePointReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    pub options: HistoryOptions,
    pub result_sets: usize,
    pub cells: Vec<CellHistory>,
    /// Per machine, its latest `gaslab calibrate` limit found among the
    /// result sets: what a report must say it cannot see.
    pub detection_limits: Vec<CalibrationLimit>,
}

/// Every result set under `dir` (recursively, `*.json`), hash-checked. A
/// file that fails its check stops the analysis with its name: a history
/// built on a silently skipped night would lie.
pub fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, ResultContent)>> {
    let mut files = Vec::new();
    collect_json(dir, &mut files)?;
    files.sort();
    let mut sets = Vec::with_capacity(files.len());
    for f in files {
        let set = store::load(&f)?;
        sets.push((f, set.content));
    }
    Ok(sets)
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| LabError::file(dir, format!("cannot read results directory: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| LabError::file(dir, format!("cannot list: {e}")))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
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

/// Builds every cell's series and finds its change points. Calibration
/// runs (cells with an injected slowdown) are not nights and stay out.
pub fn history(sets: &[(PathBuf, ResultContent)], options: &HistoryOptions) -> History {
    let mut series: BTreeMap<(String, String), (String, Vec<HistoryPoint>)> = BTreeMap::new();
    let mut order: Vec<&(PathBuf, ResultContent)> = sets.iter().collect();
    order.sort_by(|a, b| (&a.1.started_at, &a.0).cmp(&(&b.1.started_at, &b.0)));
    for (path, content) in order {
        for cell in &content.cells {
            if cell.spec.params.contains_key("slowdown_pct") || cell.status != CellStatus::Ok {
                continue;
            }
            let rates = CellRates::of(cell);
            let Some(m) = rates.median else { continue };
            let entry = series
                .entry((content.machine_id.clone(), cell_identity(cell)))
                .or_insert((rates.measure.clone(), Vec::new()));
            entry.1.push(HistoryPoint {
                path: path.clone(),
                started_at: content.started_at.clone(),
                commit: content.gaslab.commit.clone(),
                dirty: content.gaslab.dirty,
                median: m,
                aggregate: rates.aggregate,
                samples: rates.per_sample.len(),
            });
        }
    }
    let config = options.config();
    let cells = series
        .into_iter()
        .map(|((machine_id, key), (measure, points))| {
            let values: Vec<f64> = points.iter().map(|p| p.median).collect();
            let found = e_divisive(&values, &config);
            let bounds: Vec<usize> = std::iter::once(0)
                .chain(found.iter().map(|c| c.index))
                .chain(std::iter::once(values.len()))
                .collect();
            let change_points = found
                .iter()
                .enumerate()
                .map(|(i, cp)| {
                    let before = median(&values[bounds[i]..cp.index]).unwrap_or(f64::NAN);
                    let after = median(&values[cp.index..bounds[i + 2]]).unwrap_or(f64::NAN);
                    ChangePointReport {
                        index: cp.index,
                        p_value: cp.p_value,
                        confidence: 1.0 - cp.p_value,
                        statistic: cp.statistic,
                        before_median: before,
                        after_median: after,
                        magnitude: after / before - 1.0,
                        last_before: points[cp.index - 1].clone(),
                        first_after: points[cp.index].clone(),
                    }
                })
                .collect();
            CellHistory {
                machine_id,
                key,
                measure,
                points,
                change_points,
            }
        })
        .collect();
    let mut machines: Vec<&str> = sets.iter().map(|(_, c)| c.machine_id.as_str()).collect();
    machines.sort();
    machines.dedup();
    let detection_limits = machines
        .into_iter()
        .filter_map(|m| latest_for_machine(sets, m).map(|c| c.limit.clone()))
        .collect();
    History {
        options: *options,
        result_sets: sets.len(),
        cells,
        detection_limits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_sets::{content, noisy_rates};

    /// 12 nights at 100 Mgas/s then 8 at 80, written through the store.
    pub fn nights(dir: &Path) -> Vec<PathBuf> {
        (0..20)
            .map(|night| {
                let center = if night < 12 { 100e6 } else { 80e6 };
                let mut c = content(
                    &[("system", noisy_rates(center, 0.01, 10, night))],
                    &format!("c{night:02}"),
                    &[],
                );
                c.started_at = format!("2026-01-{:02}T02:00:00Z", night + 1);
                store::write_new(&dir.join(&c.machine_id), &format!("night{night:02}"), c).unwrap()
            })
            .collect()
    }

    #[test]
    fn a_drop_in_a_stored_history_is_found_with_its_commits_and_magnitude() {
        let tmp = tempfile::tempdir().unwrap();
        nights(tmp.path());
        let sets = load_dir(tmp.path()).unwrap();
        assert_eq!(sets.len(), 20);
        let h = history(&sets, &HistoryOptions::default());
        assert_eq!(h.cells.len(), 1);
        let cell = &h.cells[0];
        assert_eq!(cell.points.len(), 20);
        assert_eq!(cell.change_points.len(), 1, "{:?}", cell.change_points);
        let cp = &cell.change_points[0];
        assert_eq!(cp.index, 12);
        assert!(cp.is_regression());
        assert!((cp.magnitude + 0.2).abs() < 0.02, "{}", cp.magnitude);
        assert_eq!(
            (
                cp.last_before.commit.as_str(),
                cp.first_after.commit.as_str()
            ),
            ("c11", "c12")
        );
        assert!(cp.confidence >= 0.999);
    }

    #[test]
    fn a_tampered_night_stops_the_history_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let files = nights(tmp.path());
        let text = std::fs::read_to_string(&files[3]).unwrap();
        std::fs::write(
            &files[3],
            text.replacen("\"wall_ns\": ", "\"wall_ns\": 1", 1),
        )
        .unwrap();
        let err = load_dir(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("night03") && err.contains("sha256"), "{err}");
    }
}
