//! The same cell side by side across machines (x86 vs Graviton ...):
//! absolute gas/s, and gas/s per core the cell used.

use super::canvas::{bar_panel, titled, Bar, BarPanel};
use super::{slug, Chart, DrawResult, DrawnSeries};
use crate::report::rate_unit;
use plotters::coord::Shift;
use plotters::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct MachineBar {
    /// Short machine name: machine id plus arch/CPU, e.g. "ci-7a1b (aarch64 Neoverse-V1)".
    pub machine: String,
    /// Cores the cell used: its threads, at most the machine's logical CPUs.
    pub cores_used: usize,
    pub median: f64,
    pub lower: f64,
    pub upper: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MachinesChart {
    pub cell: String,
    /// What the rates count per second ("gas", "permutation").
    pub measure: String,
    pub bars: Vec<MachineBar>,
}

impl MachinesChart {
    fn panels(&self) -> (Vec<Bar>, Vec<Bar>, String, String) {
        let (div, unit) = rate_unit(
            self.bars.iter().map(|b| b.median).fold(0.0, f64::max),
            &self.measure,
        );
        let per_core = |b: &MachineBar, x: f64| x / b.cores_used.max(1) as f64;
        let (cdiv, cunit) = rate_unit(
            self.bars
                .iter()
                .map(|b| per_core(b, b.median))
                .fold(0.0, f64::max),
            &self.measure,
        );
        let best = |f: &dyn Fn(&MachineBar) -> f64| {
            self.bars
                .iter()
                .max_by(|a, b| f(a).total_cmp(&f(b)))
                .map(|b| b.machine.clone())
        };
        let best_abs = best(&|b| b.median);
        let best_core = best(&|b| per_core(b, b.median));
        let abs = self
            .bars
            .iter()
            .map(|b| Bar {
                label: b.machine.clone(),
                value: b.median / div,
                lower: Some(b.lower / div),
                upper: Some(b.upper / div),
                best: Some(&b.machine) == best_abs.as_ref(),
            })
            .collect();
        let core = self
            .bars
            .iter()
            .map(|b| Bar {
                label: b.machine.clone(),
                value: per_core(b, b.median) / cdiv,
                lower: Some(per_core(b, b.lower) / cdiv),
                upper: Some(per_core(b, b.upper) / cdiv),
                best: Some(&b.machine) == best_core.as_ref(),
            })
            .collect();
        (abs, core, unit, cunit)
    }
}

impl Chart for MachinesChart {
    fn title(&self) -> String {
        format!("Machines: {}", self.cell)
    }

    fn file_stem(&self) -> String {
        slug(&format!("machines {}", self.cell))
    }

    fn not_drawable(&self) -> Option<String> {
        match self.bars.len() {
            0 => Some(format!("no machine has a finished measurement of {}", self.cell)),
            1 => Some(format!(
                "only one machine ({}) measured {}; side by side needs result sets from two or more machines",
                self.bars[0].machine, self.cell
            )),
            _ => None,
        }
    }

    fn series(&self) -> Vec<DrawnSeries> {
        let (abs, core, unit, cunit) = self.panels();
        let points = |bars: Vec<Bar>| bars.into_iter().map(|b| (b.label, b.value)).collect();
        vec![
            DrawnSeries {
                name: format!("median {unit}"),
                points: points(abs),
            },
            DrawnSeries {
                name: format!("median {cunit} per core"),
                points: points(core),
            },
        ]
    }

    fn size(&self) -> (u32, u32) {
        (1300, 620)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = titled(root, &self.title())?;
        let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
        let (abs, core, unit, cunit) = self.panels();
        let y_abs = format!("median {unit} (95% CI)");
        let y_core = format!("{cunit} per core used (95% CI)");
        bar_panel(
            &left,
            &BarPanel {
                caption: "absolute",
                y_label: &y_abs,
                bars: &abs,
                missing: "",
            },
        )?;
        bar_panel(
            &right,
            &BarPanel {
                caption: "per core used (gas/s / threads)",
                y_label: &y_core,
                bars: &core,
                missing: "",
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::testing::{drawn, reason};

    fn bar(machine: &str, cores: usize, m: f64) -> MachineBar {
        MachineBar {
            machine: machine.into(),
            cores_used: cores,
            median: m,
            lower: m * 0.98,
            upper: m * 1.02,
        }
    }

    #[test]
    fn absolute_and_per_core_series() {
        let chart = MachinesChart {
            cell: "evm.transfers[txs=20000] threads=8 alloc=mimalloc".into(),
            measure: "gas".into(),
            bars: vec![
                bar("desktop (x86_64)", 8, 2.4e9),
                bar("graviton3 (aarch64)", 8, 3.2e9),
            ],
        };
        let files = drawn(&chart);
        assert_eq!(files.series[0].name, "median Ggas/s");
        assert_eq!(
            files.series[0].points[1],
            ("graviton3 (aarch64)".into(), 3.2)
        );
        assert_eq!(files.series[1].name, "median Mgas/s per core");
        assert_eq!(files.series[1].points[0].1, 300.0);
    }

    #[test]
    fn one_machine_is_not_a_comparison() {
        let chart = MachinesChart {
            cell: "c".into(),
            measure: "gas".into(),
            bars: vec![bar("a", 1, 1.0)],
        };
        assert!(reason(&chart).contains("only one machine (a)"));
    }
}
