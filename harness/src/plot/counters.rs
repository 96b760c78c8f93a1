//! Hardware counters per allocator for one cell: instructions per cycle and
//! cache misses per thousand instructions, where the PMU let us count them.

use super::canvas::{bar_panel, titled, Bar, BarPanel};
use super::{slug, Chart, DrawResult, DrawnSeries};
use plotters::coord::Shift;
use plotters::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct CounterBar {
    pub allocator: String,
    /// Median instructions / cycles over measured iterations.
    pub ipc: Option<f64>,
    /// Median cache misses per 1000 instructions.
    pub cache_mpki: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CountersChart {
    pub cell: String,
    pub machine: String,
    pub bars: Vec<CounterBar>,
}

impl CountersChart {
    fn panel(&self, pick: impl Fn(&CounterBar) -> Option<f64>) -> Vec<Bar> {
        self.bars
            .iter()
            .filter_map(|b| {
                Some(Bar {
                    label: b.allocator.clone(),
                    value: pick(b)?,
                    lower: None,
                    upper: None,
                    best: false,
                })
            })
            .collect()
    }
}

impl Chart for CountersChart {
    fn title(&self) -> String {
        format!("Counters: {} on {}", self.cell, self.machine)
    }

    fn file_stem(&self) -> String {
        slug(&format!("counters {} {}", self.machine, self.cell))
    }

    fn not_drawable(&self) -> Option<String> {
        if self
            .bars
            .iter()
            .all(|b| b.ipc.is_none() && b.cache_mpki.is_none())
        {
            Some(format!(
                "hardware counters (cycles, instructions, cache misses) were not recorded for {} on {}: the PMU was not exposed or counting was off",
                self.cell, self.machine
            ))
        } else {
            None
        }
    }

    fn series(&self) -> Vec<DrawnSeries> {
        let points = |bars: Vec<Bar>| bars.into_iter().map(|b| (b.label, b.value)).collect();
        vec![
            DrawnSeries {
                name: "IPC".into(),
                points: points(self.panel(|b| b.ipc)),
            },
            DrawnSeries {
                name: "cache misses per 1000 instructions".into(),
                points: points(self.panel(|b| b.cache_mpki)),
            },
        ]
    }

    fn size(&self) -> (u32, u32) {
        (1300, 620)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = titled(root, &self.title())?;
        let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
        bar_panel(
            &left,
            &BarPanel {
                caption: "instructions per cycle, higher is better",
                y_label: "IPC (median)",
                bars: &self.panel(|b| b.ipc),
                missing: "cycles or instructions were not recorded",
            },
        )?;
        bar_panel(
            &right,
            &BarPanel {
                caption: "cache misses, lower is better",
                y_label: "misses per 1000 instructions (median)",
                bars: &self.panel(|b| b.cache_mpki),
                missing: "cache misses were not recorded",
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::testing::{drawn, reason};

    #[test]
    fn ipc_and_mpki_per_allocator() {
        let chart = CountersChart {
            cell: "c".into(),
            machine: "m".into(),
            bars: vec![
                CounterBar {
                    allocator: "system".into(),
                    ipc: Some(2.3),
                    cache_mpki: Some(4.0),
                },
                CounterBar {
                    allocator: "jemalloc".into(),
                    ipc: Some(1.6),
                    cache_mpki: None,
                },
            ],
        };
        let files = drawn(&chart);
        assert_eq!(
            files.series[0].points,
            vec![("system".into(), 2.3), ("jemalloc".into(), 1.6)]
        );
        assert_eq!(files.series[1].points, vec![("system".into(), 4.0)]);
    }

    #[test]
    fn no_counters_says_the_pmu_was_not_there() {
        let chart = CountersChart {
            cell: "c".into(),
            machine: "m".into(),
            bars: vec![CounterBar {
                allocator: "system".into(),
                ipc: None,
                cache_mpki: None,
            }],
        };
        assert!(reason(&chart).contains("not recorded"));
    }
}
