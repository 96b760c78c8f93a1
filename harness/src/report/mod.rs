//! Rendering result sets for people: the terminal table, the charts'
//! inputs, the HTML report and its markdown summary.

pub mod calibration;
pub mod compare;
mod counters;
pub mod explain;
mod grid;
pub mod history;
mod table;

pub use counters::print_counters;
mod figures;
mod html;
mod nightly;
mod series;
mod sets;
mod summary;

pub use figures::draw_all;
use nightly::since_previous_night;
pub use series::{scheduler_setting as series_scheduler_setting, ChangePoints};
pub use sets::load_all;
pub use table::print_table;
pub use table::{cell_summary, rate_unit};

use crate::error::{LabError, Result};
use std::path::{Path, PathBuf};

/// The smallest change a calibration showed this lab can detect on a machine.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionLimit {
    pub machine: String,
    /// Smallest injected slowdown detected with 95% power, in percent;
    /// None when none of the tested sizes was.
    pub smallest_detectable_pct: Option<f64>,
    /// The largest size tested, in percent.
    pub largest_tested_pct: f64,
    /// Fraction of A/A comparisons flagged as changes.
    pub false_alarm_rate: f64,
    /// Where the calibration came from (file or run), for the record.
    pub source: String,
}

impl DetectionLimit {
    /// "changes under 3.0% are not detectable", or what was tested when
    /// no size was detected.
    pub fn in_words(&self) -> String {
        match self.smallest_detectable_pct {
            Some(x) => format!("changes under {x:.1}% are not detectable"),
            None => format!(
                "changes of up to {:.1}% are not detectable (no tested size was)",
                self.largest_tested_pct
            ),
        }
    }
}

/// What `gaslab report` wrote.
pub struct ReportFiles {
    pub page: PathBuf,
    pub summary: PathBuf,
    pub regressions: usize,
    pub refused: usize,
    pub charts_drawn: usize,
}

/// Analysis results the report shows when they exist; the history and
/// calibration analyses fill these in.
#[derive(Default)]
pub struct Analyses {
    pub change_points: Option<ChangePoints>,
    pub detection_limits: Vec<DetectionLimit>,
    /// Fleet hosts that were expected but delivered no result set tonight.
    pub missing_hosts: Vec<String>,
}

/// Writes `<out>/index.html`, `<out>/summary.md` and `<out>/plots/`.
pub fn write_report(results: &[PathBuf], out: &Path, analyses: &Analyses) -> Result<ReportFiles> {
    let (sets, refused) = load_all(results)?;
    if sets.is_empty() {
        let why = if refused.is_empty() {
            "no result sets (*.json) found".to_string()
        } else {
            format!(
                "every result set was refused ({} file(s)); first: {}: {}",
                refused.len(),
                refused[0].path.display(),
                refused[0].reason
            )
        };
        let shown: Vec<String> = results.iter().map(|p| p.display().to_string()).collect();
        return Err(LabError::Other(format!(
            "{}: {why}; run `gaslab run <profile>` first",
            shown.join(", ")
        )));
    }
    std::fs::create_dir_all(out)
        .map_err(|e| LabError::file(out, format!("cannot create report directory: {e}")))?;
    let plots = out.join("plots");
    let figures = draw_all(&sets, analyses.change_points.as_ref(), &plots)?;
    let nights = since_previous_night(&sets);
    let generated_at = crate::run::utc_now();
    let page_text = html::render(&html::Page {
        results,
        generated_at: &generated_at,
        sets: &sets,
        refused: &refused,
        figures: &figures,
        nights: &nights,
        detection_limits: &analyses.detection_limits,
        missing_hosts: &analyses.missing_hosts,
        out,
    });
    let page = out.join("index.html");
    write_file(&page, &page_text)?;
    let summary_path = out.join("summary.md");
    let summary_text = summary::render(&summary::Summary {
        sets: &sets,
        refused: &refused,
        nights: &nights,
        detection_limits: &analyses.detection_limits,
        missing_hosts: &analyses.missing_hosts,
        page: &page.display().to_string(),
    });
    write_file(&summary_path, &summary_text)?;
    Ok(ReportFiles {
        page,
        summary: summary_path,
        regressions: nights.iter().map(|n| n.regressions().count()).sum(),
        refused: refused.len(),
        charts_drawn: figures
            .iter()
            .flat_map(|f| &f.rendered)
            .filter(|r| matches!(r, crate::plot::Rendered::Drawn(_)))
            .count(),
    })
}

/// Replaces a generated file through a temp file, so a reader never sees
/// half a page.
fn write_file(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| LabError::file(path, format!("cannot write: {e}")))
}
