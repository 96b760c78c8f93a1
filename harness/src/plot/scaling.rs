//! gas/s and speedup against thread count, one line per executor/allocator,
//! with the ideal (linear) line and the block's own headroom where recorded.

use super::canvas::{line_panel, palette, titled, Line, LinePanel, GREY};
use super::{slug, Chart, DrawResult, DrawnSeries};
use crate::report::rate_unit;
use plotters::coord::Shift;
use plotters::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPoint {
    pub threads: usize,
    pub gas_per_sec: f64,
    /// Speedup as recorded by the workload, or against this series' own
    /// one-thread point (see `ScalingChart::speedup_basis`).
    pub speedup: Option<f64>,
    /// The block's ideal speedup at this thread count, where recorded.
    pub headroom: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScalingSeries {
    /// e.g. "parallel / mimalloc".
    pub name: String,
    pub points: Vec<ScalingPoint>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScalingChart {
    pub cell: String,
    pub machine: String,
    /// What speedup is relative to, in words.
    pub speedup_basis: String,
    /// What the rates count per second ("gas", "permutation").
    pub measure: String,
    pub series: Vec<ScalingSeries>,
}

impl ScalingChart {
    fn max_threads(&self) -> usize {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.threads))
            .max()
            .unwrap_or(1)
    }

    fn unit(&self) -> (f64, String) {
        rate_unit(
            self.series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.gas_per_sec))
                .fold(0.0, f64::max),
            &self.measure,
        )
    }

    fn has_headroom(&self) -> bool {
        self.series
            .iter()
            .any(|s| s.points.iter().any(|p| p.headroom.is_some()))
    }
}

impl Chart for ScalingChart {
    fn title(&self) -> String {
        format!("Scaling: {} on {}", self.cell, self.machine)
    }

    fn file_stem(&self) -> String {
        slug(&format!("scaling {} {}", self.machine, self.cell))
    }

    fn not_drawable(&self) -> Option<String> {
        let counts = |s: &ScalingSeries| {
            let mut t: Vec<usize> = s.points.iter().map(|p| p.threads).collect();
            t.sort_unstable();
            t.dedup();
            t.len()
        };
        if self.series.iter().all(|s| s.points.is_empty()) {
            return Some(format!("no finished measurement of {}", self.cell));
        }
        if self.series.iter().all(|s| counts(s) < 2) {
            return Some(format!(
                "only threads={} was measured for {}; scaling needs two or more thread counts (set threads = [1, 2, 4, ...] in the profile)",
                self.max_threads(),
                self.cell
            ));
        }
        None
    }

    fn series(&self) -> Vec<DrawnSeries> {
        let (div, unit) = self.unit();
        let mut out = Vec::new();
        for s in &self.series {
            out.push(DrawnSeries {
                name: format!("{} {unit}", s.name),
                points: s
                    .points
                    .iter()
                    .map(|p| (p.threads.to_string(), p.gas_per_sec / div))
                    .collect(),
            });
            out.push(DrawnSeries {
                name: format!("{} speedup", s.name),
                points: s
                    .points
                    .iter()
                    .filter_map(|p| Some((p.threads.to_string(), p.speedup?)))
                    .collect(),
            });
            let headroom: Vec<(String, f64)> = s
                .points
                .iter()
                .filter_map(|p| Some((p.threads.to_string(), p.headroom?)))
                .collect();
            if !headroom.is_empty() {
                out.push(DrawnSeries {
                    name: format!("{} headroom", s.name),
                    points: headroom,
                });
            }
        }
        let max = self.max_threads();
        out.push(DrawnSeries {
            name: "ideal".into(),
            points: (1..=max).map(|t| (t.to_string(), t as f64)).collect(),
        });
        out
    }

    fn size(&self) -> (u32, u32) {
        (1300, 620)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = titled(root, &self.title())?;
        let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
        let (div, unit) = self.unit();
        let max = self.max_threads();
        let names: Vec<String> = (0..=max + 1).map(|t| t.to_string()).collect();
        let x_range = (0.5, max as f64 + 0.5);
        let mut sorted = self.series.clone();
        for s in &mut sorted {
            s.points.sort_by_key(|p| p.threads);
        }

        let rate_lines: Vec<Line> = sorted
            .iter()
            .enumerate()
            .map(|(i, s)| Line {
                name: s.name.clone(),
                colour: palette(i),
                dashed: false,
                points: s
                    .points
                    .iter()
                    .map(|p| (p.threads as f64, p.gas_per_sec / div))
                    .collect(),
                whiskers: vec![],
            })
            .collect();
        let y_label = format!("median {unit}");
        line_panel(
            &left,
            &LinePanel {
                caption: "throughput vs threads",
                x_label: "threads",
                y_label: &y_label,
                lines: &rate_lines,
                markers: &[],
                x_names: Some(&names),
                x_range,
                y_from_zero: true,
            },
        )?;

        let mut speed_lines = vec![Line {
            name: "ideal (linear)".into(),
            colour: GREY,
            dashed: true,
            points: (1..=max).map(|t| (t as f64, t as f64)).collect(),
            whiskers: vec![],
        }];
        for (i, s) in sorted.iter().enumerate() {
            speed_lines.push(Line {
                name: s.name.clone(),
                colour: palette(i),
                dashed: false,
                points: s
                    .points
                    .iter()
                    .filter_map(|p| Some((p.threads as f64, p.speedup?)))
                    .collect(),
                whiskers: vec![],
            });
            let headroom: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter_map(|p| Some((p.threads as f64, p.headroom?)))
                .collect();
            if !headroom.is_empty() {
                speed_lines.push(Line {
                    name: format!("{} headroom", s.name),
                    colour: palette(i),
                    dashed: true,
                    points: headroom,
                    whiskers: vec![],
                });
            }
        }
        let caption = if self.has_headroom() {
            format!(
                "speedup vs {}; dashed: ideal and block headroom",
                self.speedup_basis
            )
        } else {
            format!("speedup vs {}; headroom not recorded", self.speedup_basis)
        };
        line_panel(
            &right,
            &LinePanel {
                caption: &caption,
                x_label: "threads",
                y_label: "speedup (x)",
                lines: &speed_lines,
                markers: &[],
                x_names: Some(&names),
                x_range,
                y_from_zero: true,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::testing::{drawn, reason};

    fn point(threads: usize, headroom: Option<f64>) -> ScalingPoint {
        let speedup = (threads as f64).powf(0.8);
        ScalingPoint {
            threads,
            gas_per_sec: 400e6 * speedup,
            speedup: Some(speedup),
            headroom,
        }
    }

    #[test]
    fn draws_rate_speedup_ideal_and_headroom_series() {
        let chart = ScalingChart {
            cell: "evm.transfers[txs=20000]".into(),
            measure: "gas".into(),
            machine: "m".into(),
            speedup_basis: "sequential".into(),
            series: vec![
                ScalingSeries {
                    name: "parallel / mimalloc".into(),
                    points: [1, 2, 4, 8]
                        .map(|t| point(t, Some((t as f64).min(5.0))))
                        .to_vec(),
                },
                ScalingSeries {
                    name: "parallel / system".into(),
                    points: [1, 2, 4].map(|t| point(t, None)).to_vec(),
                },
            ],
        };
        let files = drawn(&chart);
        let names: Vec<&str> = files.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "parallel / mimalloc Ggas/s",
                "parallel / mimalloc speedup",
                "parallel / mimalloc headroom",
                "parallel / system Ggas/s",
                "parallel / system speedup",
                "ideal"
            ]
        );
        assert_eq!(files.series[2].points[3], ("8".to_string(), 5.0));
        assert_eq!(files.series[5].points.len(), 8);
    }

    #[test]
    fn one_thread_count_says_how_to_get_scaling() {
        let chart = ScalingChart {
            cell: "c".into(),
            measure: "gas".into(),
            machine: "m".into(),
            speedup_basis: "x".into(),
            series: vec![ScalingSeries {
                name: "system".into(),
                points: vec![point(1, None)],
            }],
        };
        assert!(reason(&chart).contains("only threads=1 was measured"));
    }
}
