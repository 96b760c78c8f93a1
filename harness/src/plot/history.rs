//! One cell's nightly series with its change points marked and annotated
//! (the commit or fingerprint change across each). Change points are an
//! input: the detector lives in the analysis, not here.

use super::canvas::{line_panel, palette, titled, Line, LinePanel, Marker};
use super::{slug, Chart, DrawResult, DrawnSeries};
use crate::report::rate_unit;
use plotters::coord::Shift;
use plotters::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPoint {
    /// When the night ran, as the x label (e.g. "2026-11-20").
    pub label: String,
    pub commit: String,
    pub median: f64,
    pub lower: f64,
    pub upper: f64,
}

/// A change detected between night `index - 1` and night `index`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePoint {
    pub index: usize,
    /// Relative change of the level, e.g. -0.2 for a 20% drop.
    pub magnitude: f64,
    /// What changed across it: commits, kernel, rustc ...
    pub annotation: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryChart {
    pub cell: String,
    pub machine: String,
    /// What the rates count per second ("gas", "permutation").
    pub measure: String,
    pub points: Vec<HistoryPoint>,
    /// None when no detector ran over this series; Some(empty) when it ran
    /// and found nothing.
    pub change_points: Option<Vec<ChangePoint>>,
}

impl HistoryChart {
    fn unit(&self) -> (f64, String) {
        rate_unit(
            self.points.iter().map(|p| p.median).fold(0.0, f64::max),
            &self.measure,
        )
    }

    fn markers(&self) -> Vec<Marker> {
        self.change_points
            .iter()
            .flatten()
            .filter(|c| c.index > 0 && c.index < self.points.len())
            .map(|c| Marker {
                x: c.index as f64 - 0.5,
                label: format!("{:+.1}% {}", c.magnitude * 100.0, c.annotation),
            })
            .collect()
    }
}

impl Chart for HistoryChart {
    fn title(&self) -> String {
        format!("History: {} on {}", self.cell, self.machine)
    }

    fn file_stem(&self) -> String {
        slug(&format!("history {} {}", self.machine, self.cell))
    }

    fn not_drawable(&self) -> Option<String> {
        match self.points.len() {
            0 => Some(format!(
                "no night has a finished measurement of {}",
                self.cell
            )),
            1 => Some(format!(
                "only one night ({}) has {}; a history needs two or more",
                self.points[0].label, self.cell
            )),
            _ => None,
        }
    }

    fn series(&self) -> Vec<DrawnSeries> {
        let (div, unit) = self.unit();
        let mut out = vec![DrawnSeries {
            name: format!("median {unit}"),
            points: self
                .points
                .iter()
                .map(|p| (p.label.clone(), p.median / div))
                .collect(),
        }];
        let markers = self.markers();
        if !markers.is_empty() {
            out.push(DrawnSeries {
                name: "change points".into(),
                points: markers.into_iter().map(|m| (m.label, m.x)).collect(),
            });
        }
        out
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = titled(root, &self.title())?;
        let (div, unit) = self.unit();
        let names: Vec<String> = self.points.iter().map(|p| p.label.clone()).collect();
        let line = Line {
            name: format!("median {unit}, whiskers 95% CI"),
            colour: palette(0),
            dashed: false,
            points: self
                .points
                .iter()
                .enumerate()
                .map(|(i, p)| (i as f64, p.median / div))
                .collect(),
            whiskers: self
                .points
                .iter()
                .enumerate()
                .map(|(i, p)| (i as f64, p.lower / div, p.upper / div))
                .collect(),
        };
        let caption = match &self.change_points {
            None => "nightly medians; change points not computed for this series".to_string(),
            Some(c) if c.is_empty() => "nightly medians; no change point detected".to_string(),
            Some(c) => format!("nightly medians; {} change point(s) in red", c.len()),
        };
        let y_label = format!("median {unit}");
        line_panel(
            &area,
            &LinePanel {
                caption: &caption,
                x_label: "night (UTC date)",
                y_label: &y_label,
                lines: &[line],
                markers: &self.markers(),
                x_names: Some(&names),
                x_range: (-0.5, self.points.len() as f64 - 0.5),
                y_from_zero: false,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::testing::{drawn, reason};

    fn night(day: usize, m: f64) -> HistoryPoint {
        HistoryPoint {
            label: format!("2026-11-{day:02}"),
            commit: "abc".into(),
            median: m,
            lower: m * 0.99,
            upper: m * 1.01,
        }
    }

    #[test]
    fn marks_change_points_between_nights_with_their_annotation() {
        let chart = HistoryChart {
            cell: "evm.transfers[seed=1,txs=2000] threads=1 alloc=mimalloc".into(),
            measure: "gas".into(),
            machine: "ci-x86".into(),
            points: (0..8)
                .map(|i| night(20 + i, if i < 5 { 560e6 } else { 448e6 }))
                .collect(),
            change_points: Some(vec![ChangePoint {
                index: 5,
                magnitude: -0.2,
                annotation: "kernel 6.5 -> 6.8 (CFS -> EEVDF), rustc 1.91 -> 1.92".into(),
            }]),
        };
        let files = drawn(&chart);
        assert_eq!(files.series[0].points.len(), 8);
        assert_eq!(files.series[0].points[0], ("2026-11-20".to_string(), 560.0));
        assert_eq!(files.series[1].name, "change points");
        assert_eq!(files.series[1].points.len(), 1);
        assert_eq!(files.series[1].points[0].1, 4.5, "between night 4 and 5");
        assert!(files.series[1].points[0].0.starts_with("-20.0% kernel 6.5"));
    }

    #[test]
    fn a_single_night_is_not_a_history() {
        let chart = HistoryChart {
            cell: "c".into(),
            measure: "gas".into(),
            machine: "m".into(),
            points: vec![night(20, 1e6)],
            change_points: None,
        };
        assert!(reason(&chart).contains("only one night (2026-11-20)"));
    }
}
