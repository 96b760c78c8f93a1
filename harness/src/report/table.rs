//! The terminal table `gaslab run` and `gaslab show` print.

use crate::stats::{bootstrap_ci, coefficient_of_variation, median_of};
use crate::store::{CellResult, CellStatus, ResultContent};
use gaslab_protocol::ParamValue;

/// The per-cell numbers a table row shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CellSummary {
    pub median_gas_per_sec: Option<f64>,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    pub samples: usize,
    pub cv: Option<f64>,
}

pub fn cell_summary(cell: &CellResult) -> CellSummary {
    let rates = cell.gas_per_sec();
    let ci = bootstrap_ci(&rates, median_of, 0.95, 2000, 0x6a5_1ab);
    CellSummary {
        median_gas_per_sec: ci.map(|c| c.estimate),
        ci_lower: ci.map(|c| c.lower),
        ci_upper: ci.map(|c| c.upper),
        samples: rates.len(),
        cv: coefficient_of_variation(&rates),
    }
}

/// The unit that suits a rate: divisor and name.
pub fn rate_unit(gas_per_sec: f64) -> (f64, &'static str) {
    if gas_per_sec >= 1e9 {
        (1e9, "Ggas/s")
    } else if gas_per_sec >= 1e6 {
        (1e6, "Mgas/s")
    } else {
        (1.0, "gas/s")
    }
}

/// Gas per second in the unit that suits it (Mgas/s, Ggas/s).
pub fn format_rate(gas_per_sec: f64) -> String {
    let (div, unit) = rate_unit(gas_per_sec);
    format!("{:.3} {unit}", gas_per_sec / div)
}

pub fn print_table(content: &ResultContent) -> String {
    let headers = [
        "workload",
        "params",
        "threads",
        "allocator",
        "median gas/s",
        "95% CI",
        "samples",
        "CV",
        "status",
    ];
    let mut rows: Vec<[String; 9]> = Vec::new();
    for cell in &content.cells {
        let s = cell_summary(cell);
        let mut params: Vec<String> = cell
            .spec
            .params
            .iter()
            .map(|(k, v)| match v {
                ParamValue::Text(t) => format!("{k}={t}"),
                other => format!("{k}={other}"),
            })
            .collect();
        if let Some(sched) = &cell.spec.sched {
            params.push(format!("sched:{}", sched.key()));
        }
        let na = || "-".to_string();
        rows.push([
            cell.spec.workload.clone(),
            params.join(","),
            cell.spec.threads.to_string(),
            cell.allocator.clone(),
            s.median_gas_per_sec.map(format_rate).unwrap_or_else(na),
            match (s.median_gas_per_sec, s.ci_lower, s.ci_upper) {
                (Some(m), Some(l), Some(u)) => {
                    let (div, _) = rate_unit(m);
                    format!("{:.3} .. {:.3}", l / div, u / div)
                }
                _ => na(),
            },
            s.samples.to_string(),
            s.cv.map(|c| format!("{:.1}%", c * 100.0))
                .unwrap_or_else(na),
            match &cell.status {
                CellStatus::Ok => "ok".into(),
                other => other.label().into(),
            },
        ]);
    }
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(headers.to_vec(), &mut out);
    // Rules as wide as their column, however long a cell key grows.
    let rules: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(rules.iter().map(String::as_str).collect(), &mut out);
    for row in &rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    if !content.complete {
        out.push_str("(incomplete: the run was interrupted; measured cells are kept)\n");
    }
    out
}
