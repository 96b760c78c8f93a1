//! gas/s per scheduler setting for one cell, with the context switches and
//! CPU migrations the kernel made under each, side by side.

use super::canvas::{bar_panel, titled, Bar, BarPanel};
use super::{slug, Chart, DrawResult, DrawnSeries};
use crate::report::rate_unit;
use plotters::coord::Shift;
use plotters::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerBar {
    /// The setting in words, e.g. "policy=batch nice=0".
    pub setting: String,
    pub median: f64,
    pub lower: f64,
    pub upper: f64,
    /// Median per measured iteration, where counted.
    pub context_switches: Option<f64>,
    pub migrations: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchedulersChart {
    pub cell: String,
    pub machine: String,
    /// What the rates count per second ("gas", "permutation").
    pub measure: String,
    pub bars: Vec<SchedulerBar>,
}

impl SchedulersChart {
    fn rate_bars(&self) -> (Vec<Bar>, String) {
        let (div, unit) = rate_unit(
            self.bars.iter().map(|b| b.median).fold(0.0, f64::max),
            &self.measure,
        );
        let best = self
            .bars
            .iter()
            .max_by(|a, b| a.median.total_cmp(&b.median))
            .map(|b| b.setting.clone());
        let bars = self
            .bars
            .iter()
            .map(|b| Bar {
                label: b.setting.clone(),
                value: b.median / div,
                lower: Some(b.lower / div),
                upper: Some(b.upper / div),
                best: Some(&b.setting) == best.as_ref(),
            })
            .collect();
        (bars, unit)
    }

    fn counter_bars(&self, pick: impl Fn(&SchedulerBar) -> Option<f64>) -> Vec<Bar> {
        self.bars
            .iter()
            .filter_map(|b| {
                Some(Bar {
                    label: b.setting.clone(),
                    value: pick(b)?,
                    lower: None,
                    upper: None,
                    best: false,
                })
            })
            .collect()
    }
}

impl Chart for SchedulersChart {
    fn title(&self) -> String {
        format!("Schedulers: {} on {}", self.cell, self.machine)
    }

    fn file_stem(&self) -> String {
        slug(&format!("schedulers {} {}", self.machine, self.cell))
    }

    fn not_drawable(&self) -> Option<String> {
        match self.bars.len() {
            0 => Some(format!(
                "no scheduler setting has a finished measurement of {}",
                self.cell
            )),
            1 => Some(format!(
                "only one scheduler setting ({}) was measured for {}; comparing needs two or more",
                self.bars[0].setting, self.cell
            )),
            _ => None,
        }
    }

    fn series(&self) -> Vec<DrawnSeries> {
        let (rate, unit) = self.rate_bars();
        let points = |bars: Vec<Bar>| bars.into_iter().map(|b| (b.label, b.value)).collect();
        let mut out = vec![DrawnSeries {
            name: format!("median {unit}"),
            points: points(rate),
        }];
        let cs = self.counter_bars(|b| b.context_switches);
        if !cs.is_empty() {
            out.push(DrawnSeries {
                name: "context switches per iteration".into(),
                points: points(cs),
            });
        }
        let mig = self.counter_bars(|b| b.migrations);
        if !mig.is_empty() {
            out.push(DrawnSeries {
                name: "CPU migrations per iteration".into(),
                points: points(mig),
            });
        }
        out
    }

    fn size(&self) -> (u32, u32) {
        (1500, 620)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = titled(root, &self.title())?;
        let w = area.dim_in_pixel().0;
        let (left, rest) = area.split_horizontally(w * 2 / 5);
        let (mid, right) = rest.split_horizontally(w * 3 / 10);
        let (rate, unit) = self.rate_bars();
        let y = format!("median {unit} (95% CI)");
        bar_panel(
            &left,
            &BarPanel {
                caption: "gas/s per setting; best in green",
                y_label: &y,
                bars: &rate,
                missing: "",
            },
        )?;
        let cs = self.counter_bars(|b| b.context_switches);
        bar_panel(
            &mid,
            &BarPanel {
                caption: "context switches",
                y_label: "per iteration (median)",
                bars: &cs,
                missing: "context switches were not recorded for these cells",
            },
        )?;
        let mig = self.counter_bars(|b| b.migrations);
        bar_panel(
            &right,
            &BarPanel {
                caption: "CPU migrations",
                y_label: "per iteration (median)",
                bars: &mig,
                missing: "CPU migrations were not recorded for these cells",
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::testing::{drawn, reason};

    fn bar(setting: &str, m: f64, cs: Option<f64>) -> SchedulerBar {
        SchedulerBar {
            setting: setting.into(),
            median: m,
            lower: m * 0.99,
            upper: m * 1.01,
            context_switches: cs,
            migrations: cs.map(|c| c / 10.0),
        }
    }

    #[test]
    fn rate_and_counter_series_side_by_side() {
        let chart = SchedulersChart {
            cell: "c".into(),
            measure: "gas".into(),
            machine: "m".into(),
            bars: vec![
                bar("policy=other", 500e6, Some(180.0)),
                bar("policy=batch", 520e6, Some(40.0)),
            ],
        };
        let files = drawn(&chart);
        assert_eq!(files.series.len(), 3);
        assert_eq!(files.series[1].points[1], ("policy=batch".into(), 40.0));
        assert_eq!(files.series[2].points[0], ("policy=other".into(), 18.0));
    }

    #[test]
    fn counters_not_recorded_leave_their_series_out() {
        let chart = SchedulersChart {
            cell: "c".into(),
            measure: "gas".into(),
            machine: "m".into(),
            bars: vec![bar("nice=0", 5e8, None), bar("nice=10", 4e8, None)],
        };
        let files = drawn(&chart);
        assert_eq!(files.series.len(), 1, "no zero-valued counter series");
        let one = SchedulersChart {
            bars: vec![bar("nice=0", 5e8, None)],
            ..chart
        };
        assert!(reason(&one).contains("only one scheduler setting"));
    }
}
