//! `gaslab run`: plan the profile, run each cell in its own worker, keep
//! everything measured, write one result set.

mod provenance;
mod worker;

pub use provenance::{gaslab_info, utc_now};
pub use worker::{identify, run_cell};

use crate::error::Result;
use crate::fingerprint;
use crate::profile::{plan, PlannedCell, Profile};
use crate::store::{self, CellResult, CellStatus, ProfileInfo, ResultContent};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The least time kept back from a budget for the closing fingerprint and
/// writing the result set.
const CLOSING_MIN: Duration = Duration::from_secs(3);

pub struct RunOutcome {
    pub path: PathBuf,
    pub content: ResultContent,
}

/// Runs every planned cell of `profile` and writes the result set under
/// `results/<machine-id>/`. A Ctrl-C stops the matrix; what was measured is
/// written, marked incomplete. With a `budget`, the whole run, result set
/// written, ends within it: cells that would not fit are recorded as skipped.
pub fn run_profile(
    profile: &Profile,
    workers: &Path,
    results: &Path,
    interrupted: Arc<AtomicBool>,
    budget: Option<Duration>,
) -> Result<RunOutcome> {
    let run_start = Instant::now();
    let cells = plan(profile)?;
    let build = match identify(workers, "system") {
        Ok(gaslab_protocol::WorkerMessage::Hello { build, .. }) => Some(build),
        _ => None,
    };
    let fingerprint_start = fingerprint::take(build.as_ref());
    // Room for the closing fingerprint (timed by the opening one) and the write.
    let closing = (run_start.elapsed() * 2).max(CLOSING_MIN);
    let budget_end = budget.map(|b| run_start + b.saturating_sub(closing));
    let machine_id = fingerprint::machine_id(&fingerprint_start);
    let started_at = utc_now();

    let total_samples: u64 = cells.iter().map(|c| c.spec.samples as u64).sum();
    let bar = ProgressBar::new(total_samples).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} samples, ETA {eta} {msg}",
        )
        .expect("valid template"),
    );

    let mut results_out: Vec<CellResult> = Vec::with_capacity(cells.len());
    // How long each cell that finished ok took.
    let mut finished: Vec<(Duration, &PlannedCell)> = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
        bar.set_message(format!("cell {}/{}: {}", i + 1, cells.len(), cell.key()));
        let cell_start = Instant::now();
        let result = match budget_end.and_then(|end| no_room(cell, &finished, end)) {
            Some(reason) => worker::unrun(cell, CellStatus::Skipped { reason }),
            None => run_cell(workers, cell, &interrupted, budget_end, || bar.inc(1)),
        };
        if result.status == CellStatus::Ok {
            finished.push((cell_start.elapsed(), cell));
        }
        // A failed cell's unmeasured samples will never come: keep the ETA honest.
        let missing = cell.spec.samples as u64 - result.measured().count() as u64;
        bar.inc(missing);
        if result.status != CellStatus::Ok {
            bar.println(format!(
                "cell {} {}: {}",
                cell.key(),
                result.status.label(),
                reason(&result.status)
            ));
        }
        results_out.push(result);
    }
    bar.finish_and_clear();
    let complete = !interrupted.load(Ordering::SeqCst) && results_out.len() == cells.len();

    let info = gaslab_info();
    let content = ResultContent {
        profile: ProfileInfo {
            name: profile.name().to_string(),
            path: profile.path.display().to_string(),
            sha256: profile.sha256(),
        },
        machine_id: machine_id.clone(),
        started_at: started_at.clone(),
        finished_at: utc_now(),
        complete,
        fingerprint_start,
        fingerprint_end: fingerprint::take(build.as_ref()),
        cells: results_out,
        gaslab: info.clone(),
        calibration: None,
    };
    let stem = format!(
        "{}_{}",
        started_at.replace([':', '-'], ""),
        &info.commit[..info.commit.len().min(12)]
    );
    let path = store::write_new(&results.join(&machine_id), &stem, content.clone())?;
    Ok(RunOutcome { path, content })
}

/// Why a cell should not start with the budget ending at `end`: no time
/// left, or less than a finished cell of the same workload and parameters
/// took (at any thread count or allocator, the quickest of them).
fn no_room(
    cell: &PlannedCell,
    finished: &[(Duration, &PlannedCell)],
    end: Instant,
) -> Option<String> {
    let left = end.saturating_duration_since(Instant::now());
    let like = finished
        .iter()
        .filter(|(_, d)| d.spec.workload == cell.spec.workload && d.spec.params == cell.spec.params)
        .map(|(took, _)| *took)
        .min();
    match like {
        _ if left.is_zero() => Some("not started: the run's budget was spent".into()),
        Some(took) if took > left => Some(format!(
            "not started: a cell of the same workload took {:.0} s, {:.0} s of the run's budget left",
            took.as_secs_f64(),
            left.as_secs_f64()
        )),
        _ => None,
    }
}

fn reason(status: &CellStatus) -> &str {
    match status {
        CellStatus::Failed { reason }
        | CellStatus::TimedOut { reason }
        | CellStatus::Skipped { reason } => reason,
        CellStatus::Interrupted => "interrupted by Ctrl-C",
        CellStatus::Ok => "",
    }
}
