//! `gaslab compare A B`: per cell, did B get faster or slower than A, and
//! is that more than noise? A cell counts as a regression or improvement
//! only when the Mann-Whitney test is significant AND the whole bootstrap
//! interval of the ratio of medians lies outside the noise band.

use super::calibrate::NoiseBands;
use super::fingerprint_diff::{cell_fingerprint, key_diff, FieldChange};
use super::measure::{cell_identity, CellRates, SetLabel};
use crate::store::{CellStatus, ResultContent};
use gaslab_stats::{geometric_mean, mann_whitney_u, ratio_of_medians, RatioEstimate};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CompareOptions {
    /// Half-width of the noise band around 1 (0.02 = +-2%).
    pub noise: f64,
    /// Significance level of the Mann-Whitney test.
    pub alpha: f64,
    /// Confidence level of the ratio's interval.
    pub level: f64,
    pub resamples: usize,
    pub seed: u64,
    /// Judge cells even when their fingerprint keys differ.
    pub across_fingerprints: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            noise: 0.02,
            alpha: 0.01,
            level: 0.95,
            resamples: 2000,
            seed: 0xc0_4a_1e,
            across_fingerprints: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly slower, beyond the noise band.
    Regression,
    /// Significantly faster, beyond the noise band.
    Improvement,
    /// Within noise, or not significant.
    Unchanged,
    /// Measured under a different fingerprint key: not judged.
    Incomparable,
    /// Only in the baseline.
    OnlyInBaseline,
    /// Only in the candidate.
    OnlyInCandidate,
    /// A side has no usable samples (failed cell).
    NoData,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Regression => "REGRESSION",
            Verdict::Improvement => "improvement",
            Verdict::Unchanged => "unchanged",
            Verdict::Incomparable => "not compared",
            Verdict::OnlyInBaseline => "only in A",
            Verdict::OnlyInCandidate => "only in B",
            Verdict::NoData => "no data",
        }
    }
}

/// One matched cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellComparison {
    /// The cell's identity (its key without any injected slowdown).
    pub key: String,
    pub workload: String,
    pub allocator: String,
    pub baseline: Option<CellRates>,
    pub candidate: Option<CellRates>,
    /// median(B) / median(A) of the per-sample rates: below 1 is slower.
    pub ratio: Option<RatioEstimate>,
    /// Two-sided Mann-Whitney p-value.
    pub p_value: Option<f64>,
    /// The noise band this cell was judged with: the fixed one, or its
    /// calibrated band where a calibration gave a wider one.
    pub noise_band: f64,
    /// Key fingerprint fields that differ (set-wide and this cell's own).
    pub fingerprint_changes: Vec<FieldChange>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareSummary {
    pub regressions: usize,
    pub improvements: usize,
    pub unchanged: usize,
    pub not_compared: usize,
    /// Geometric mean of the judged cells' ratios.
    pub geometric_mean_ratio: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub baseline: SetLabel,
    pub candidate: SetLabel,
    pub options: CompareOptions,
    /// Set-wide key fingerprint differences.
    pub fingerprint_changes: Vec<FieldChange>,
    pub cells: Vec<CellComparison>,
    pub summary: CompareSummary,
}

impl Comparison {
    pub fn has_regression(&self) -> bool {
        self.summary.regressions > 0
    }
}

/// Judges two samples of rates (higher is better). Also what calibrate uses.
pub fn judge(
    baseline: &[f64],
    candidate: &[f64],
    options: &CompareOptions,
) -> (Option<RatioEstimate>, Option<f64>, Verdict) {
    let ratio = ratio_of_medians(
        baseline,
        candidate,
        options.level,
        options.resamples,
        options.seed,
    );
    let p = mann_whitney_u(baseline, candidate).map(|m| m.p_value);
    let verdict = match (ratio, p) {
        (Some(r), Some(p)) if p < options.alpha && r.upper < 1.0 - options.noise => {
            Verdict::Regression
        }
        (Some(r), Some(p)) if p < options.alpha && r.lower > 1.0 + options.noise => {
            Verdict::Improvement
        }
        (Some(_), Some(_)) => Verdict::Unchanged,
        _ => Verdict::NoData,
    };
    (ratio, p, verdict)
}

/// Matches cells by identity and judges each; `bands` (from a calibration
/// of this host) widens a cell's noise band to what its runs need.
pub fn compare(
    baseline_path: &Path,
    baseline: &ResultContent,
    candidate_path: &Path,
    candidate: &ResultContent,
    options: &CompareOptions,
    bands: &NoiseBands,
) -> Comparison {
    let band_of = |key: &str| {
        bands
            .get(key)
            .map_or(options.noise, |b| b.max(options.noise))
    };
    let set_changes = key_diff(&baseline.fingerprint_start, &candidate.fingerprint_start);
    let mut cells = Vec::new();
    let usable =
        |c: &&crate::store::CellResult| c.status == CellStatus::Ok || c.measured().count() > 0;
    for a in baseline.cells.iter().filter(usable) {
        let key = cell_identity(a);
        let b = candidate
            .cells
            .iter()
            .filter(usable)
            .find(|b| cell_identity(b) == key);
        let a_rates = CellRates::of(a);
        let Some(b) = b else {
            cells.push(CellComparison {
                noise_band: band_of(&key),
                key,
                workload: a.spec.workload.clone(),
                allocator: a.allocator.clone(),
                baseline: Some(a_rates),
                candidate: None,
                ratio: None,
                p_value: None,
                fingerprint_changes: Vec::new(),
                verdict: Verdict::OnlyInBaseline,
            });
            continue;
        };
        let b_rates = CellRates::of(b);
        let mut changes = set_changes.clone();
        changes.extend(key_diff(&cell_fingerprint(a), &cell_fingerprint(b)));
        let noise_band = band_of(&key);
        let cell_options = CompareOptions {
            noise: noise_band,
            ..*options
        };
        let (ratio, p_value, mut verdict) =
            judge(&a_rates.per_sample, &b_rates.per_sample, &cell_options);
        if !changes.is_empty() && !options.across_fingerprints && verdict != Verdict::NoData {
            verdict = Verdict::Incomparable;
        }
        cells.push(CellComparison {
            key,
            workload: a.spec.workload.clone(),
            allocator: a.allocator.clone(),
            baseline: Some(a_rates),
            candidate: Some(b_rates),
            ratio,
            p_value,
            noise_band,
            fingerprint_changes: changes,
            verdict,
        });
    }
    for b in candidate.cells.iter().filter(usable) {
        let key = cell_identity(b);
        if !cells.iter().any(|c| c.key == key) {
            cells.push(CellComparison {
                noise_band: band_of(&key),
                key,
                workload: b.spec.workload.clone(),
                allocator: b.allocator.clone(),
                baseline: None,
                candidate: Some(CellRates::of(b)),
                ratio: None,
                p_value: None,
                fingerprint_changes: Vec::new(),
                verdict: Verdict::OnlyInCandidate,
            });
        }
    }
    let count = |v: Verdict| cells.iter().filter(|c| c.verdict == v).count();
    let judged: Vec<f64> = cells
        .iter()
        .filter(|c| {
            matches!(
                c.verdict,
                Verdict::Regression | Verdict::Improvement | Verdict::Unchanged
            )
        })
        .filter_map(|c| c.ratio.map(|r| r.ratio))
        .collect();
    let summary = CompareSummary {
        regressions: count(Verdict::Regression),
        improvements: count(Verdict::Improvement),
        unchanged: count(Verdict::Unchanged),
        not_compared: cells.len()
            - count(Verdict::Regression)
            - count(Verdict::Improvement)
            - count(Verdict::Unchanged),
        geometric_mean_ratio: geometric_mean(&judged),
    };
    Comparison {
        baseline: SetLabel::of(baseline_path, baseline),
        candidate: SetLabel::of(candidate_path, candidate),
        options: *options,
        fingerprint_changes: set_changes,
        cells,
        summary,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::test_sets::{content, noisy_rates};

    /// compare() of two fabricated sets, with no calibrated bands.
    fn compared(a: &ResultContent, b: &ResultContent, options: &CompareOptions) -> Comparison {
        compare(
            Path::new("a"),
            a,
            Path::new("b"),
            b,
            options,
            &NoiseBands::new(),
        )
    }

    #[test]
    fn a_calibrated_band_holds_back_a_drop_the_host_drifts_by_anyway() {
        let a = content(&[("system", noisy_rates(100e6, 0.001, 20, 1))], "c1", &[]);
        let b = content(&[("system", noisy_rates(90e6, 0.001, 20, 2))], "c1", &[]);
        let with = |bands: &NoiseBands| {
            compare(
                Path::new("a"),
                &a,
                Path::new("b"),
                &b,
                &CompareOptions::default(),
                bands,
            )
            .cells
            .remove(0)
        };
        let fixed = with(&NoiseBands::new());
        assert_eq!(
            (fixed.verdict, fixed.noise_band),
            (Verdict::Regression, 0.02)
        );
        let drifting = with(&NoiseBands::from([(fixed.key.clone(), 0.15)]));
        assert_eq!(
            (drifting.verdict, drifting.noise_band),
            (Verdict::Unchanged, 0.15)
        );
        // A calibrated band never narrows the fixed one.
        let quiet = with(&NoiseBands::from([(fixed.key.clone(), 0.001)]));
        assert_eq!(
            (quiet.verdict, quiet.noise_band),
            (Verdict::Regression, 0.02)
        );
    }

    #[test]
    fn a_and_a_show_no_regression_and_a_geometric_mean_near_one() {
        let a = content(&[("system", noisy_rates(100e6, 0.01, 20, 1))], "c1", &[]);
        let b = content(&[("system", noisy_rates(100e6, 0.01, 20, 2))], "c1", &[]);
        let c = compared(&a, &b, &CompareOptions::default());
        assert_eq!(c.cells.len(), 1);
        assert_eq!(c.cells[0].verdict, Verdict::Unchanged, "{:?}", c.cells[0]);
        assert!(!c.has_regression());
        let g = c.summary.geometric_mean_ratio.unwrap();
        assert!((g - 1.0).abs() < 0.02, "{g}");
    }

    #[test]
    fn a_and_b_with_a_ten_percent_slowdown_is_a_regression() {
        let a = content(
            &[
                ("system", noisy_rates(100e6, 0.01, 20, 1)),
                ("mimalloc", noisy_rates(120e6, 0.01, 20, 3)),
            ],
            "c1",
            &[],
        );
        let b = content(
            &[
                ("system", noisy_rates(90e6, 0.01, 20, 2)),
                ("mimalloc", noisy_rates(132e6, 0.01, 20, 4)),
            ],
            "c2",
            &[],
        );
        let c = compared(&a, &b, &CompareOptions::default());
        assert_eq!(c.cells[0].verdict, Verdict::Regression);
        assert_eq!(c.cells[1].verdict, Verdict::Improvement);
        let r = c.cells[0].ratio.unwrap();
        assert!(r.upper < 0.98 && r.lower > 0.85, "{r:?}");
        assert!(c.has_regression());
        assert_eq!((c.summary.regressions, c.summary.improvements), (1, 1));
        // sqrt(0.9 * 1.1) = 0.995
        let g = c.summary.geometric_mean_ratio.unwrap();
        assert!((g - (0.9f64 * 1.1).sqrt()).abs() < 0.01, "{g}");
    }

    #[test]
    fn a_significant_change_inside_the_noise_band_is_not_a_regression() {
        let a = content(&[("system", noisy_rates(100e6, 0.001, 30, 1))], "c1", &[]);
        let b = content(&[("system", noisy_rates(99e6, 0.001, 30, 2))], "c1", &[]);
        let c = compared(&a, &b, &CompareOptions::default());
        assert!(c.cells[0].p_value.unwrap() < 0.01);
        assert_eq!(c.cells[0].verdict, Verdict::Unchanged);
        let strict = CompareOptions {
            noise: 0.005,
            ..Default::default()
        };
        let c = compared(&a, &b, &strict);
        assert_eq!(c.cells[0].verdict, Verdict::Regression);
    }

    #[test]
    fn a_different_kernel_is_shown_and_not_judged_silently() {
        let a = content(
            &[("system", noisy_rates(100e6, 0.01, 20, 1))],
            "c1",
            &[("kernel.release", "6.5.0")],
        );
        let b = content(
            &[("system", noisy_rates(70e6, 0.01, 20, 2))],
            "c1",
            &[("kernel.release", "6.8.0")],
        );
        let c = compared(&a, &b, &CompareOptions::default());
        assert_eq!(c.cells[0].verdict, Verdict::Incomparable);
        assert_eq!(c.fingerprint_changes[0].field, "kernel.release");
        assert!(!c.has_regression());
        let across = CompareOptions {
            across_fingerprints: true,
            ..Default::default()
        };
        let c = compared(&a, &b, &across);
        assert_eq!(c.cells[0].verdict, Verdict::Regression);
    }

    #[test]
    fn cells_on_one_side_only_are_listed() {
        let a = content(&[("system", noisy_rates(1e8, 0.01, 10, 1))], "c1", &[]);
        let b = content(&[("jemalloc", noisy_rates(1e8, 0.01, 10, 1))], "c1", &[]);
        let c = compared(&a, &b, &CompareOptions::default());
        let v: Vec<_> = c.cells.iter().map(|c| c.verdict).collect();
        assert_eq!(v, [Verdict::OnlyInBaseline, Verdict::OnlyInCandidate]);
        assert_eq!(c.summary.geometric_mean_ratio, None);
    }
}
