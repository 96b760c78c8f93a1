//! `gaslab calibrate <profile>`: the lab measures its own error rates on
//! this machine. Each cell runs repeatedly as A (no injected work) and as
//! B at each injected slowdown (1%, 3%, 5% ...), interleaved so drift hits
//! all alike; then every A/A pair is compared (any verdict other than
//! unchanged is a false alarm) and every A/B pair (a regression verdict is
//! a detection). The smallest size detected with 95% power is recorded in
//! the result set, so a nightly report can say what it cannot see.

use super::compare::{judge, CompareOptions, Verdict};
use super::measure::{cell_identity, CellRates};
use crate::store::{CellResult, CellStatus};
use gaslab_stats::{between_run_band, proportion_upper_bound, RunBand};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationOptions {
    /// Injected slowdowns, in percent.
    pub sizes_pct: Vec<f64>,
    /// Runs of each variant per cell.
    pub rounds: usize,
    /// Only these allocators' cells; None for every allocator the profile lists.
    pub allocators: Option<Vec<String>>,
    pub compare: CompareOptions,
}

impl Default for CalibrationOptions {
    fn default() -> Self {
        Self {
            sizes_pct: vec![1.0, 3.0, 5.0],
            rounds: 6,
            allocators: None,
            compare: CompareOptions::default(),
        }
    }
}

/// Power wanted before a size counts as detectable.
pub const POWER_TARGET: f64 = 0.95;

/// Detection at one injected size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InjectedSizeResult {
    pub slowdown_pct: f64,
    pub pairs: usize,
    pub detected: usize,
    /// detected / pairs.
    pub power: f64,
    /// Median over pairs of the measured ratio (B / A): what the injected
    /// work really cost. None when no pair had data.
    pub median_ratio: Option<f64>,
}

/// What a report quotes: the smallest change this host can see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationLimit {
    pub machine_id: String,
    /// Smallest injected size with power >= `power_target`; None if none was.
    pub smallest_detectable_pct: Option<f64>,
    /// Largest size tried (the bound when none was detectable).
    pub largest_tested_pct: f64,
    pub power_target: f64,
    pub false_alarm_rate: f64,
    /// The widest calibrated band among the cells: what night-to-night
    /// comparison on this host must allow for. None when not measured.
    #[serde(default)]
    pub widest_band: Option<f64>,
    /// E.g. "changes under 3% are not detectable on this host".
    pub statement: String,
}

/// How far one cell's median moves between separate runs on this host:
/// what a comparison of two nights must allow for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellNoise {
    /// The cell's identity (key without injected slowdown).
    pub cell: String,
    /// A runs it was measured over.
    pub runs: usize,
    /// Standard deviation of ln(median rate) across those runs.
    pub between_run_sd: f64,
    /// The noise band (fraction) two runs of an unchanged cell leave in 1%
    /// of comparisons: what `compare --calibration` judges the cell with.
    pub band: f64,
}

/// Error rates of one decision rule over the calibration's pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleScore {
    pub aa_pairs: usize,
    pub false_alarms: usize,
    pub false_alarm_rate: f64,
    /// One-sided 95% upper bound on the false-alarm rate (Clopper-Pearson).
    pub false_alarm_upper_95: f64,
    pub sizes: Vec<InjectedSizeResult>,
}

/// The whole calibration, stored in the result set's `calibration` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Identities of the cells calibrated.
    pub cells: Vec<String>,
    pub rounds: usize,
    pub noise: f64,
    pub alpha: f64,
    /// The fixed band (`noise`) judged over every pair.
    #[serde(flatten)]
    pub fixed: RuleScore,
    /// Each cell's between-run noise, from all its A runs.
    #[serde(default)]
    pub cell_noise: Vec<CellNoise>,
    /// Each cell judged with its own calibrated band (never below `noise`),
    /// the band fitted on the other half of the rounds so that no pair
    /// judges itself. None under 4 rounds.
    #[serde(default)]
    pub calibrated: Option<RuleScore>,
    pub limit: CalibrationLimit,
}

impl Calibration {
    /// cell identity -> calibrated noise band, for `compare --calibration`.
    pub fn bands(&self) -> NoiseBands {
        self.cell_noise
            .iter()
            .map(|n| (n.cell.clone(), n.band))
            .collect()
    }
}

/// Per cell identity, the noise band a comparison should use.
pub type NoiseBands = std::collections::BTreeMap<String, f64>;

/// Two runs of an unchanged cell leave its band in 1% of comparisons
/// (two-sided): the false-alarm target.
const BAND_LEVEL: f64 = 0.99;

/// One cell's runs: `baseline[r]` and `injected[size][r]` for round r.
pub struct CellRuns<'a> {
    pub baseline: Vec<&'a CellResult>,
    pub injected: Vec<Vec<&'a CellResult>>,
}

/// Per-sample rates of one run, None when it did not finish.
type RunRates = Option<Vec<f64>>;

/// A cell's runs as rates, taken once for every pair that judges them:
/// `baseline[r]` and `injected[size][r]` for round r.
struct RatedRuns {
    baseline: Vec<RunRates>,
    injected: Vec<Vec<RunRates>>,
}

impl RatedRuns {
    fn of(cell: &CellRuns<'_>) -> Self {
        let rate = |runs: &[&CellResult]| -> Vec<RunRates> {
            runs.iter()
                .map(|c| (c.status == CellStatus::Ok).then(|| CellRates::of(c).per_sample))
                .collect()
        };
        RatedRuns {
            baseline: rate(&cell.baseline),
            injected: cell.injected.iter().map(|runs| rate(runs)).collect(),
        }
    }
}

/// Between-run noise of the runs at `rounds`. None under two usable runs.
fn noise_of(runs: &[RunRates], rounds: impl Iterator<Item = usize>) -> Option<RunBand> {
    let medians: Vec<f64> = rounds
        .filter_map(|r| runs.get(r)?.as_deref())
        .filter_map(gaslab_stats::median)
        .collect();
    between_run_band(&medians, BAND_LEVEL)
}

/// Judges every A/A pair and every (A, B) pair at each size, each with the
/// band `band(cell, round_a, round_b)` gives, skipping pairs it gives None.
fn score_rule(
    runs: &[RatedRuns],
    options: &CalibrationOptions,
    band: impl Fn(usize, usize, usize) -> Option<f64>,
) -> RuleScore {
    let judged = |x: &RunRates, y: &RunRates, noise: f64| {
        let compare = CompareOptions {
            noise,
            ..options.compare
        };
        Some(judge(x.as_ref()?, y.as_ref()?, &compare))
    };
    let mut aa_pairs = 0;
    let mut false_alarms = 0;
    for (c, cell) in runs.iter().enumerate() {
        for i in 0..cell.baseline.len() {
            for j in i + 1..cell.baseline.len() {
                let Some(noise) = band(c, i, j) else { continue };
                if let Some((_, _, v)) = judged(&cell.baseline[i], &cell.baseline[j], noise) {
                    aa_pairs += 1;
                    false_alarms +=
                        usize::from(matches!(v, Verdict::Regression | Verdict::Improvement));
                }
            }
        }
    }
    let sizes = options
        .sizes_pct
        .iter()
        .enumerate()
        .map(|(k, &pct)| {
            let (mut pairs, mut detected, mut ratios) = (0, 0, Vec::new());
            for (c, cell) in runs.iter().enumerate() {
                for (i, a) in cell.baseline.iter().enumerate() {
                    for (j, b) in cell.injected[k].iter().enumerate() {
                        let Some(noise) = band(c, i, j) else { continue };
                        let Some((ratio, _, v)) = judged(a, b, noise) else {
                            continue;
                        };
                        pairs += 1;
                        detected += usize::from(v == Verdict::Regression);
                        ratios.extend(ratio.map(|r| r.ratio));
                    }
                }
            }
            InjectedSizeResult {
                slowdown_pct: pct,
                pairs,
                detected,
                power: if pairs == 0 {
                    0.0
                } else {
                    detected as f64 / pairs as f64
                },
                median_ratio: gaslab_stats::median(&ratios),
            }
        })
        .collect();
    let false_alarm_rate = if aa_pairs == 0 {
        0.0
    } else {
        false_alarms as f64 / aa_pairs as f64
    };
    RuleScore {
        aa_pairs,
        false_alarms,
        false_alarm_rate,
        false_alarm_upper_95: proportion_upper_bound(false_alarms, aa_pairs, 0.95),
        sizes,
    }
}

/// Scores measured runs twice: with the fixed band over all pairs, and with
/// each cell's calibrated band over pairs within one half of the rounds
/// (even or odd), the band fitted on the other half. Pairs share runs, so
/// the counts are not independent trials; the resolution is still 1 / pairs.
pub fn score(machine_id: &str, runs: &[CellRuns<'_>], options: &CalibrationOptions) -> Calibration {
    let rated: Vec<RatedRuns> = runs.iter().map(RatedRuns::of).collect();
    let fixed = score_rule(&rated, options, |_, _, _| Some(options.compare.noise));
    let rounds = |cell: &RatedRuns| cell.baseline.len();
    let cell_noise: Vec<CellNoise> = runs
        .iter()
        .zip(&rated)
        .filter_map(|(cell, rated)| {
            let b = noise_of(&rated.baseline, 0..rounds(rated))?;
            Some(CellNoise {
                cell: cell_identity(cell.baseline.first()?),
                runs: b.runs,
                between_run_sd: b.log_sd,
                band: b.band,
            })
        })
        .collect();
    // half_bands[cell][parity]: the band fitted on the rounds of that parity.
    let half_bands: Vec<[Option<f64>; 2]> = rated
        .iter()
        .map(|cell| {
            let half = |parity: usize| {
                noise_of(&cell.baseline, (parity..rounds(cell)).step_by(2)).map(|b| b.band)
            };
            [half(0), half(1)]
        })
        .collect();
    let calibrated = (options.rounds >= 4).then(|| {
        score_rule(&rated, options, |c, i, j| {
            if i % 2 != j % 2 {
                return None;
            }
            let held_out = half_bands[c][1 - i % 2]?;
            Some(held_out.max(options.compare.noise))
        })
    });
    let quoted = calibrated.as_ref().unwrap_or(&fixed);
    let limit = limit(
        machine_id,
        &quoted.sizes,
        quoted.false_alarm_rate,
        &cell_noise,
        calibrated.is_some(),
    );
    Calibration {
        cells: runs
            .iter()
            .filter_map(|r| r.baseline.first().map(|c| cell_identity(c)))
            .collect(),
        rounds: options.rounds,
        noise: options.compare.noise,
        alpha: options.compare.alpha,
        fixed,
        cell_noise,
        calibrated,
        limit,
    }
}

fn limit(
    machine_id: &str,
    sizes: &[InjectedSizeResult],
    false_alarm_rate: f64,
    cell_noise: &[CellNoise],
    calibrated: bool,
) -> CalibrationLimit {
    let mut sorted: Vec<&InjectedSizeResult> = sizes.iter().collect();
    sorted.sort_by(|a, b| a.slowdown_pct.total_cmp(&b.slowdown_pct));
    let largest = sorted.last().map_or(0.0, |s| s.slowdown_pct);
    // The smallest size from which every larger tested size is detected too.
    let smallest = sorted
        .iter()
        .enumerate()
        .find(|(i, _)| {
            sorted[*i..]
                .iter()
                .all(|s| s.pairs > 0 && s.power >= POWER_TARGET)
        })
        .map(|(_, s)| s.slowdown_pct);
    let mut statement = match smallest {
        Some(x) => format!(
            "changes under {x}% are not detectable on this host (at {:.0}% power; {x}% and more are)",
            POWER_TARGET * 100.0
        ),
        None => format!(
            "changes of up to {largest}% are not detectable on this host (none tested reached {:.0}% power)",
            POWER_TARGET * 100.0
        ),
    };
    if calibrated {
        statement.push_str(" with each cell's calibrated noise band");
    }
    let widest = cell_noise.iter().max_by(|a, b| a.band.total_cmp(&b.band));
    if let Some(w) = widest {
        statement.push_str(&format!(
            "; between runs an unchanged cell's median moves by up to +-{:.1}% ({})",
            w.band * 100.0,
            w.cell
        ));
    }
    CalibrationLimit {
        machine_id: machine_id.to_string(),
        smallest_detectable_pct: smallest,
        largest_tested_pct: largest,
        power_target: POWER_TARGET,
        false_alarm_rate,
        widest_band: widest.map(|w| w.band),
        statement,
    }
}

/// The most recent calibration for `machine_id` among loaded result sets.
pub fn latest_for_machine<'a>(
    sets: &'a [(std::path::PathBuf, crate::store::ResultContent)],
    machine_id: &str,
) -> Option<&'a Calibration> {
    sets.iter()
        .filter(|(_, c)| c.machine_id == machine_id)
        .filter_map(|(_, c)| c.calibration.as_ref().map(|cal| (&c.started_at, cal)))
        .max_by(|a, b| a.0.cmp(b.0))
        .map(|(_, cal)| cal)
}

/// Runs the calibration for `profile`'s cells and writes one result set
/// holding every run (nothing measured is dropped) and the calibration.
pub fn run_calibration(
    profile: &crate::profile::Profile,
    workers: &std::path::Path,
    results: &std::path::Path,
    options: &CalibrationOptions,
    interrupted: &std::sync::atomic::AtomicBool,
    mut progress: impl FnMut(&str),
) -> crate::error::Result<(std::path::PathBuf, crate::store::ResultContent)> {
    use crate::error::LabError;
    use crate::{fingerprint, run, store};
    use gaslab_protocol::ParamValue;
    use std::sync::atomic::Ordering;

    let mut cells = crate::profile::plan(profile)?;
    if let Some(wanted) = &options.allocators {
        if let Some(a) = wanted
            .iter()
            .find(|a| !cells.iter().any(|c| c.allocator == **a))
        {
            return Err(LabError::Other(format!(
                "--allocators: {a} is not among the allocators {} lists",
                profile.path.display()
            )));
        }
        cells.retain(|c| wanted.contains(&c.allocator));
    }
    if let Some(c) = cells
        .iter()
        .find(|c| c.spec.params.contains_key("slowdown_pct"))
    {
        return Err(LabError::file(
            &profile.path,
            format!(
                "cell {} sets slowdown_pct; calibrate injects it itself",
                c.key()
            ),
        ));
    }
    if options.rounds < 2 {
        return Err(LabError::Other(
            "calibrate needs at least 2 rounds for A/A pairs".into(),
        ));
    }
    let build = match run::identify(workers, "system") {
        Ok(gaslab_protocol::WorkerMessage::Hello { build, .. }) => Some(build),
        _ => None,
    };
    let fingerprint_start = fingerprint::take(build.as_ref());
    let machine_id = fingerprint::machine_id(&fingerprint_start);
    let started_at = run::utc_now();
    let variants: Vec<f64> = std::iter::once(0.0)
        .chain(options.sizes_pct.iter().copied())
        .collect();
    // measured[cell][variant][round]
    let mut measured: Vec<Vec<Vec<CellResult>>> =
        vec![vec![Vec::new(); variants.len()]; cells.len()];
    let total = options.rounds * cells.len() * variants.len();
    let mut done = 0;
    'rounds: for round in 0..options.rounds {
        for (i, cell) in cells.iter().enumerate() {
            for (v, &pct) in variants.iter().enumerate() {
                if interrupted.load(Ordering::SeqCst) {
                    break 'rounds;
                }
                let mut planned = cell.clone();
                planned
                    .spec
                    .params
                    .insert("slowdown_pct".into(), ParamValue::Float(pct));
                done += 1;
                progress(&format!(
                    "[{done}/{total}] round {}/{}: {} +{pct}%",
                    round + 1,
                    options.rounds,
                    cell.key()
                ));
                measured[i][v].push(run::run_cell(workers, &planned, interrupted, None, || {}));
            }
        }
    }
    let runs: Vec<CellRuns<'_>> = measured
        .iter()
        .map(|per_variant| CellRuns {
            baseline: per_variant[0].iter().collect(),
            injected: per_variant[1..]
                .iter()
                .map(|r| r.iter().collect())
                .collect(),
        })
        .collect();
    let calibration = score(&machine_id, &runs, options);
    let complete = !interrupted.load(Ordering::SeqCst);
    let info = run::gaslab_info();
    let content = store::ResultContent {
        profile: store::ProfileInfo {
            name: profile.name().to_string(),
            path: profile.path.display().to_string(),
            sha256: profile.sha256(),
        },
        machine_id: machine_id.clone(),
        started_at: started_at.clone(),
        finished_at: run::utc_now(),
        complete,
        fingerprint_start,
        fingerprint_end: fingerprint::take(build.as_ref()),
        cells: measured.into_iter().flatten().flatten().collect(),
        gaslab: info.clone(),
        calibration: Some(calibration),
    };
    let stem = format!(
        "{}_{}_calibration",
        started_at.replace([':', '-'], ""),
        &info.commit[..info.commit.len().min(12)]
    );
    let path = store::write_new(&results.join(&machine_id), &stem, content.clone())?;
    Ok((path, content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_sets::{cell, noisy_rates};

    #[test]
    fn quiet_runs_give_no_false_alarms_and_full_power_at_five_percent() {
        let mut cells = Vec::new();
        for r in 0..5u64 {
            cells.push(cell("system", &noisy_rates(100e6, 0.002, 20, r)));
            cells.push(cell("system", &noisy_rates(99e6, 0.002, 20, 100 + r)));
            cells.push(cell("system", &noisy_rates(95e6, 0.002, 20, 200 + r)));
        }
        let runs = [CellRuns {
            baseline: cells.iter().step_by(3).collect(),
            injected: vec![
                cells.iter().skip(1).step_by(3).collect(),
                cells.iter().skip(2).step_by(3).collect(),
            ],
        }];
        let options = CalibrationOptions {
            sizes_pct: vec![1.0, 5.0],
            rounds: 5,
            allocators: None,
            compare: CompareOptions::default(),
        };
        let c = score("m", &runs, &options);
        let f = &c.fixed;
        assert_eq!((f.aa_pairs, f.false_alarms), (10, 0));
        assert_eq!(f.sizes[0].pairs, 25);
        // 1% is inside the 2% noise band: never a regression, by design.
        assert_eq!(f.sizes[0].detected, 0);
        assert_eq!(f.sizes[1].power, 1.0);
        assert!((f.sizes[1].median_ratio.unwrap() - 0.95).abs() < 0.01);
        // Held out: pairs within rounds {0, 2, 4} and within {1, 3}.
        let held = c.calibrated.as_ref().unwrap();
        assert_eq!((held.aa_pairs, held.false_alarms), (3 + 1, 0));
        assert_eq!((held.sizes[1].pairs, held.sizes[1].detected), (9 + 4, 13));
        assert_eq!(c.limit.smallest_detectable_pct, Some(5.0));
        assert!(c
            .limit
            .statement
            .starts_with("changes under 5% are not detectable on this host"));
        // 0 of 10: the upper bound is 1 - 0.05^(1/10) = 25.9%.
        assert!(
            (f.false_alarm_upper_95 - 0.2589).abs() < 1e-3,
            "{}",
            f.false_alarm_upper_95
        );
    }

    #[test]
    fn runs_that_drift_apart_alarm_under_a_fixed_band_and_not_under_their_calibrated_one() {
        // Each run of an unchanged cell lands up to 5% off: the drift a
        // shared VM shows between processes, invisible within one run.
        let drift = [-1.0, 1.0, -0.5, 0.5, 0.0, -1.0, 1.0, 0.2];
        let a: Vec<_> = drift
            .iter()
            .enumerate()
            .map(|(r, d)| {
                cell(
                    "system",
                    &noisy_rates(100e6 * (1.0 + 0.05 * d), 0.002, 20, r as u64),
                )
            })
            .collect();
        let b: Vec<_> = drift
            .iter()
            .rev()
            .enumerate()
            .map(|(r, d)| {
                cell(
                    "system",
                    &noisy_rates(40e6 * (1.0 + 0.05 * d), 0.002, 20, 50 + r as u64),
                )
            })
            .collect();
        let runs = [CellRuns {
            baseline: a.iter().collect(),
            injected: vec![b.iter().collect()],
        }];
        let options = CalibrationOptions {
            sizes_pct: vec![60.0],
            rounds: drift.len(),
            allocators: None,
            compare: CompareOptions::default(),
        };
        let c = score("m", &runs, &options);
        assert!(c.fixed.false_alarm_rate > 0.3, "{:?}", c.fixed);
        let held = c.calibrated.as_ref().unwrap();
        assert_eq!(held.false_alarms, 0, "{held:?}");
        // A 60% drop still clears the band fitted on four runs (t with 3 df).
        assert_eq!(held.sizes[0].power, 1.0, "{held:?}");
        let noise = &c.cell_noise[0];
        assert_eq!(noise.runs, 8);
        // The sample sd of ln(1 + 0.05 d) over the drifts is 3.99%; the band
        // is exp(t(0.995, 7 df) * sqrt(2) * sd) - 1 with t = 3.4995.
        assert!((noise.between_run_sd - 0.0399).abs() < 0.001, "{noise:?}");
        assert!((noise.band - 0.218).abs() < 0.003, "{noise:?}");
        assert_eq!(c.bands()[&noise.cell], noise.band);
        assert_eq!(c.limit.smallest_detectable_pct, Some(60.0));
        assert!(
            c.limit.statement.contains("calibrated noise band"),
            "{}",
            c.limit.statement
        );
        assert!(
            c.limit.statement.contains("up to +-21.8%"),
            "{}",
            c.limit.statement
        );
    }

    #[test]
    fn nothing_detectable_says_so_with_the_largest_size() {
        let sizes = [InjectedSizeResult {
            slowdown_pct: 3.0,
            pairs: 10,
            detected: 5,
            power: 0.5,
            median_ratio: Some(0.97),
        }];
        let l = limit("m", &sizes, 0.0, &[], false);
        assert_eq!(l.smallest_detectable_pct, None);
        assert!(
            l.statement
                .contains("changes of up to 3% are not detectable"),
            "{}",
            l.statement
        );
    }
}
