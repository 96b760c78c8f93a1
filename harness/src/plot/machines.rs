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
    pub bars: Vec<MachineBar>,
}

impl MachinesChart {
    fn panels(&self) -> (Vec<Bar>, Vec<Bar>, &'static str, &'static str) {
        let (div, unit) = rate_unit(self.bars.iter().map(|b| b.median).fold(0.0, f64::max));
        let per_core = |b: &MachineBar, x: f64| x / b.cores_used.max(1) as f64;
        let (cdiv, cunit) = rate_unit(
            self.bars
                .iter()
                .map(|b| per_core(b, b.median))
                .fold(0.0, f64::max),
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
