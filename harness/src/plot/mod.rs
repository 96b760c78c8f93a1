//! Charts, each drawn with plotters as an SVG and a PNG. A chart takes a
//! plain struct holding its series and never reads a result file; turning
//! result sets into those structs is `report::series`'s job.
//!
//! A chart whose data cannot show what it is for (no data, one point where a
//! line needs two) is not drawn: it says why, so a report never shows a blank
//! chart.

mod allocators;
mod canvas;
mod counters;
mod history;
mod machines;
mod scaling;
mod schedulers;

pub use allocators::{AllocatorBar, AllocatorChart};
pub use counters::{CounterBar, CountersChart};
pub use history::{ChangePoint, HistoryChart, HistoryPoint};
pub use machines::{MachineBar, MachinesChart};
pub use scaling::{ScalingChart, ScalingPoint, ScalingSeries};
pub use schedulers::{SchedulerBar, SchedulersChart};

use crate::error::{LabError, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One series as drawn: its name and its (x label, y) points, in the units
/// the chart shows. Tests and the report read these instead of pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnSeries {
    pub name: String,
    pub points: Vec<(String, f64)>,
}

/// A chart written to disk.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFiles {
    pub title: String,
    pub svg: PathBuf,
    pub png: PathBuf,
    pub series: Vec<DrawnSeries>,
}

/// What became of a chart: drawn, or not, with the reason in words.
#[derive(Debug, Clone, PartialEq)]
pub enum Rendered {
    Drawn(ChartFiles),
    NotDrawn { title: String, reason: String },
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart: a title, a file name, the series it draws, and how to draw them
/// on any plotters backend (so SVG and PNG come from one piece of code).
pub trait Chart {
    fn title(&self) -> String;
    /// File name without extension; unique among a report's charts.
    fn file_stem(&self) -> String;
    /// Why this chart's data cannot be drawn, if it cannot.
    fn not_drawable(&self) -> Option<String>;
    fn series(&self) -> Vec<DrawnSeries>;
    fn size(&self) -> (u32, u32) {
        (1100, 620)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Writes `<out>/<stem>.svg` and `<out>/<stem>.png`, or says why not.
pub fn render(chart: &impl Chart, out: &Path) -> Result<Rendered> {
    let title = chart.title();
    if let Some(reason) = chart.not_drawable() {
        return Ok(Rendered::NotDrawn { title, reason });
    }
    canvas::register_fonts();
    std::fs::create_dir_all(out)
        .map_err(|e| LabError::file(out, format!("cannot create plot directory: {e}")))?;
    let stem = chart.file_stem();
    let svg = out.join(format!("{stem}.svg"));
    let png = out.join(format!("{stem}.png"));
    let size = chart.size();
    let failed = |path: &Path, e: String| LabError::file(path, format!("cannot draw chart: {e}"));
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        draw_on(chart, &root).map_err(|e| failed(&svg, e.to_string()))?;
    }
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        draw_on(chart, &root).map_err(|e| failed(&png, e.to_string()))?;
    }
    Ok(Rendered::Drawn(ChartFiles {
        title,
        svg,
        png,
        series: chart.series(),
    }))
}

fn draw_on<DB: DrawingBackend>(
    chart: &impl Chart,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    chart.draw(root)?;
    root.present()
}

/// A file-name-safe form of a label.
pub fn slug(label: &str) -> String {
    let mut s = String::with_capacity(label.len());
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-').to_string();
    if s.len() > 120 {
        // Keep long labels unique: cut, then add a short hash of the whole.
        use sha2::{Digest, Sha256};
        let h = crate::profile::hex(&Sha256::digest(label.as_bytes()));
        format!("{}-{}", &s[..100], &h[..8])
    } else {
        s
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Renders `chart`, checks both files are real, keeps the PNG when
    /// GASLAB_KEEP_PLOTS names a directory (to look at), returns the files.
    pub fn drawn(chart: &impl Chart) -> ChartFiles {
        let dir = tempfile::tempdir().unwrap();
        let Rendered::Drawn(files) = render(chart, dir.path()).unwrap() else {
            panic!("{} should be drawable", chart.title());
        };
        let png = std::fs::read(&files.png).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let svg = std::fs::read_to_string(&files.svg).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains(&chart.title().replace('&', "&amp;")));
        if let Ok(keep) = std::env::var("GASLAB_KEEP_PLOTS") {
            std::fs::copy(&files.png, format!("{keep}/{}.png", chart.file_stem())).unwrap();
        }
        files
    }

    pub fn reason(chart: &impl Chart) -> String {
        let dir = tempfile::tempdir().unwrap();
        match render(chart, dir.path()).unwrap() {
            Rendered::NotDrawn { reason, .. } => {
                assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
                reason
            }
            Rendered::Drawn(_) => panic!("{} should not be drawn", chart.title()),
        }
    }
}
