//! The analysis subcommands: load, analyse, render, pick the exit status.

use crate::analysis::{self, CompareOptions, HistoryOptions};
use crate::cli::{Detection, Format};
use crate::error::{LabError, Result, EXIT_INTERRUPTED, EXIT_OK, EXIT_REGRESSION};
use crate::{profile, report, store};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("analysis results serialize") + "\n"
}

pub fn compare(
    baseline: &Path,
    candidate: &Path,
    noise: f64,
    alpha: f64,
    across_fingerprints: bool,
    calibration: Option<&Path>,
    format: Format,
) -> Result<i32> {
    let a = store::load(baseline)?;
    let b = store::load(candidate)?;
    let bands = match calibration {
        None => analysis::calibrate::NoiseBands::new(),
        Some(path) => {
            let set = store::load(path)?;
            let Some(cal) = set.content.calibration else {
                return Err(LabError::file(
                    path,
                    "holds no calibration (write one with `gaslab calibrate`)",
                ));
            };
            if set.content.machine_id != a.content.machine_id {
                return Err(LabError::file(
                    path,
                    format!(
                        "calibrates machine {} but {} ran on {}: a band only holds for the host it was measured on",
                        set.content.machine_id,
                        baseline.display(),
                        a.content.machine_id
                    ),
                ));
            }
            cal.bands()
        }
    };
    let options = CompareOptions {
        noise,
        alpha,
        across_fingerprints,
        ..Default::default()
    };
    let c = analysis::compare::compare(
        baseline, &a.content, candidate, &b.content, &options, &bands,
    );
    print!(
        "{}",
        match format {
            Format::Table => report::compare::table(&c),
            Format::Markdown => report::compare::markdown_report(&c),
            Format::Json => json(&c),
        }
    );
    Ok(if c.has_regression() {
        EXIT_REGRESSION
    } else {
        EXIT_OK
    })
}

fn options(d: &Detection) -> Result<HistoryOptions> {
    if d.permutations == 0 || d.min_size < 2 || d.window < 2 * d.min_size + 1 {
        return Err(LabError::Other(format!(
            "change-point settings: need --permutations >= 1, --min-size >= 2 and --window >= 2 * min-size + 1 (got {}, {}, {})",
            d.permutations, d.min_size, d.window
        )));
    }
    Ok(HistoryOptions {
        window: d.window,
        p_value: d.p_value,
        permutations: d.permutations,
        min_size: d.min_size,
        ..Default::default()
    })
}

pub fn history(results: &Path, detection: &Detection, format: Format) -> Result<i32> {
    let options = options(detection)?;
    let sets = analysis::history::load_dir(results)?;
    let h = analysis::history::history(&sets, &options);
    print!(
        "{}",
        match format {
            Format::Table => report::history::table(&h),
            Format::Markdown => report::history::markdown_report(&h),
            Format::Json => json(&h),
        }
    );
    let regressed = h
        .cells
        .iter()
        .any(|c| c.change_points.last().is_some_and(|cp| cp.is_regression()));
    Ok(if regressed { EXIT_REGRESSION } else { EXIT_OK })
}

pub fn explain(
    paths: &[PathBuf],
    cell: Option<&str>,
    detection: &Detection,
    format: Format,
) -> Result<i32> {
    match paths {
        [dir] => {
            let sets = analysis::history::load_dir(dir)?;
            let h = analysis::history::history(&sets, &options(detection)?);
            let mut list = analysis::explain::explain_history(&h, &sets);
            for e in &mut list {
                let code = &mut e.explanation.code;
                code.commits = code
                    .changed
                    .then(|| analysis::explain::commit_log(&code.from_commit, &code.to_commit))
                    .flatten();
            }
            print!(
                "{}",
                match format {
                    Format::Table => report::explain::changes_table(&list),
                    Format::Markdown => report::explain::changes_markdown(&list),
                    Format::Json => json(&list),
                }
            );
        }
        [a, b] => {
            let (sa, sb) = (store::load(a)?, store::load(b)?);
            let mut x = analysis::explain::explain_pair(a, &sa.content, b, &sb.content, cell);
            if x.code.changed {
                x.code.commits =
                    analysis::explain::commit_log(&x.code.from_commit, &x.code.to_commit);
            }
            print!(
                "{}",
                match format {
                    Format::Table => report::explain::pair_table(&x),
                    Format::Markdown => report::explain::pair_markdown(&x),
                    Format::Json => json(&x),
                }
            );
        }
        _ => {
            return Err(LabError::Other(
                "explain takes a results directory, or two result sets".into(),
            ))
        }
    }
    Ok(EXIT_OK)
}

#[allow(clippy::too_many_arguments)]
pub fn calibrate(
    profile_path: &Path,
    workers: &Path,
    results: &Path,
    sizes: Vec<f64>,
    rounds: usize,
    allocators: Option<Vec<String>>,
    noise: f64,
    alpha: f64,
    format: Format,
    interrupted: &AtomicBool,
) -> Result<i32> {
    if sizes.is_empty() || sizes.iter().any(|s| !(*s > 0.0 && *s <= 100.0)) {
        return Err(LabError::Other(format!(
            "--sizes: every injected slowdown must be a percentage above 0 and at most 100 (got {sizes:?})"
        )));
    }
    let profile = profile::Profile::load(profile_path)?;
    let options = analysis::CalibrationOptions {
        sizes_pct: sizes,
        rounds,
        allocators,
        compare: CompareOptions {
            noise,
            alpha,
            ..Default::default()
        },
    };
    let (path, content) = analysis::calibrate::run_calibration(
        &profile,
        workers,
        results,
        &options,
        interrupted,
        |line| eprintln!("{line}"),
    )?;
    let cal = content
        .calibration
        .as_ref()
        .expect("calibrate records its calibration");
    print!(
        "{}",
        match format {
            Format::Table => report::calibration::table(cal),
            Format::Markdown => report::calibration::markdown_report(cal),
            Format::Json => json(cal),
        }
    );
    println!("{}", path.display());
    Ok(if interrupted.load(Ordering::SeqCst) {
        EXIT_INTERRUPTED
    } else {
        EXIT_OK
    })
}
