//! gas/s per allocator for one cell: bars with 95% CI whiskers, the best
//! (highest median) marked.

use super::canvas::{bar_panel, titled, Bar, BarPanel};
use super::{slug, Chart, DrawResult, DrawnSeries};
use crate::report::rate_unit;
use plotters::coord::Shift;
use plotters::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct AllocatorBar {
    pub allocator: String,
    /// Median gas/s and its 95% CI.
    pub median: f64,
    pub lower: f64,
    pub upper: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AllocatorChart {
    /// The cell without its allocator: workload, params, threads.
    pub cell: String,
    pub machine: String,
    /// What the rates count per second ("gas", "permutation").
    pub measure: String,
    pub bars: Vec<AllocatorBar>,
}

impl AllocatorChart {
    fn unit(&self) -> (f64, String) {
        rate_unit(
            self.bars.iter().map(|b| b.median).fold(0.0, f64::max),
            &self.measure,
        )
    }

    /// The allocator with the highest median, if any.
    pub fn best(&self) -> Option<&AllocatorBar> {
        self.bars
            .iter()
            .max_by(|a, b| a.median.total_cmp(&b.median))
    }

    fn bars_in_unit(&self) -> Vec<Bar> {
        let (div, _) = self.unit();
        let best = self.best().map(|b| b.allocator.clone());
        self.bars
            .iter()
            .map(|b| Bar {
                label: b.allocator.clone(),
                value: b.median / div,
                lower: Some(b.lower / div),
                upper: Some(b.upper / div),
                best: self.bars.len() > 1 && Some(&b.allocator) == best.as_ref(),
            })
            .collect()
    }
}

impl Chart for AllocatorChart {
    fn title(&self) -> String {
        format!("Allocators: {} on {}", self.cell, self.machine)
    }

    fn file_stem(&self) -> String {
        slug(&format!("allocators {} {}", self.machine, self.cell))
    }

    fn not_drawable(&self) -> Option<String> {
        match self.bars.len() {
            0 => Some(format!("no allocator has a finished measurement of {}", self.cell)),
            1 => Some(format!(
                "only one allocator ({}) was measured for {}; comparing allocators needs two or more",
                self.bars[0].allocator, self.cell
            )),
            _ => None,
        }
    }

    fn series(&self) -> Vec<DrawnSeries> {
        let (_, unit) = self.unit();
        vec![DrawnSeries {
            name: format!("median {unit}"),
            points: self
                .bars_in_unit()
                .into_iter()
                .map(|b| (b.label, b.value))
                .collect(),
        }]
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = titled(root, &self.title())?;
        let (_, unit) = self.unit();
        let bars = self.bars_in_unit();
        let y_label = format!("median {unit} (whiskers: 95% CI)");
        bar_panel(
            &area,
            &BarPanel {
                caption: "gas/s per allocator, higher is better; best in green",
                y_label: &y_label,
                bars: &bars,
                missing: "",
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::{render, Rendered};

    fn bar(name: &str, m: f64) -> AllocatorBar {
        AllocatorBar {
            allocator: name.into(),
            median: m,
            lower: m * 0.97,
            upper: m * 1.02,
        }
    }

    #[test]
    fn draws_both_files_with_every_allocator_and_marks_the_best() {
        let dir = tempfile::tempdir().unwrap();
        let chart = AllocatorChart {
            cell: "evm.transfers[seed=1,txs=2000] threads=1".into(),
            measure: "gas".into(),
            machine: "ci-1a2b3c4d".into(),
            bars: vec![
                bar("system", 410e6),
                bar("mimalloc", 520e6),
                bar("jemalloc", 380e6),
            ],
        };
        let Rendered::Drawn(files) = render(&chart, dir.path()).unwrap() else {
            panic!("three allocators are drawable");
        };
        assert!(std::fs::metadata(&files.png).unwrap().len() > 1000);
        let svg = std::fs::read_to_string(&files.svg).unwrap();
        assert!(
            svg.contains("mimalloc") && svg.contains("best 520"),
            "labels are text in the SVG"
        );
        assert_eq!(files.series.len(), 1);
        assert_eq!(files.series[0].name, "median Mgas/s");
        let names: Vec<&str> = files.series[0]
            .points
            .iter()
            .map(|p| p.0.as_str())
            .collect();
        assert_eq!(names, ["system", "mimalloc", "jemalloc"]);
        assert_eq!(files.series[0].points[1].1, 520.0);
        assert_eq!(chart.best().unwrap().allocator, "mimalloc");
        if let Ok(keep) = std::env::var("GASLAB_KEEP_PLOTS") {
            std::fs::copy(&files.png, format!("{keep}/allocators.png")).unwrap();
        }
    }

    #[test]
    fn one_allocator_or_none_says_why_instead_of_drawing() {
        let dir = tempfile::tempdir().unwrap();
        let mut chart = AllocatorChart {
            cell: "c".into(),
            measure: "gas".into(),
            machine: "m".into(),
            bars: vec![bar("system", 1e6)],
        };
        let r = render(&chart, dir.path()).unwrap();
        assert!(
            matches!(&r, Rendered::NotDrawn { reason, .. } if reason.contains("only one allocator (system)"))
        );
        chart.bars.clear();
        assert!(matches!(
            render(&chart, dir.path()).unwrap(),
            Rendered::NotDrawn { .. }
        ));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no blank files"
        );
    }
}
