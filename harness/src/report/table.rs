//! The terminal table `gaslab run` and `gaslab show` print.

use crate::stats::{bootstrap_ci, coefficient_of_variation, median_of};
use crate::store::{CellResult, CellStatus, ResultContent};
use gaslab_protocol::ParamValue;

/// The per-cell numbers a table row shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CellSummary {
    /// What the rate counts ("gas", or the workload's unit of work).
    pub measure: String,
    pub median_rate: Option<f64>,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    pub samples: usize,
    pub cv: Option<f64>,
}

pub fn cell_summary(cell: &CellResult) -> CellSummary {
    let rates = cell.rates();
    let ci = bootstrap_ci(&rates, median_of, 0.95, 2000, 0x6a5_1ab);
    CellSummary {
        measure: cell.measure().to_string(),
        median_rate: ci.map(|c| c.estimate),
        ci_lower: ci.map(|c| c.lower),
        ci_upper: ci.map(|c| c.upper),
        samples: rates.len(),
        cv: coefficient_of_variation(&rates),
    }
}

/// The unit that suits a rate of `measure` per second: divisor and name
/// (Ggas/s, Mgas/s, permutation/s ...).
pub fn rate_unit(rate: f64, measure: &str) -> (f64, String) {
    let (div, prefix) = if rate >= 1e9 {
        (1e9, "G")
    } else if rate >= 1e6 {
        (1e6, "M")
    } else {
        (1.0, "")
    };
    let gap = if prefix.is_empty() || measure == "gas" {
        ""
    } else {
        " "
    };
    (div, format!("{prefix}{gap}{measure}/s"))
}

/// A rate in the unit that suits it.
pub fn format_rate(rate: f64, measure: &str) -> String {
    let (div, unit) = rate_unit(rate, measure);
    format!("{:.3} {unit}", rate / div)
}

pub fn print_table(content: &ResultContent) -> String {
    let headers = [
        "workload",
        "params",
        "threads",
        "allocator",
        "median rate",
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
            s.median_rate
                .map(|m| format_rate(m, &s.measure))
                .unwrap_or_else(na),
            match (s.median_rate, s.ci_lower, s.ci_upper) {
                (Some(m), Some(l), Some(u)) => {
                    let (div, _) = rate_unit(m, &s.measure);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_sets::{cell, GAS};

    #[test]
    fn a_gasless_cell_is_rated_in_the_unit_of_work_its_worker_names() {
        let gas = cell("system", &[84e6, 84e6]);
        assert_eq!(gas.measure(), "gas");
        assert_eq!(
            format_rate(cell_summary(&gas).median_rate.unwrap(), "gas"),
            "84.000 Mgas/s"
        );

        let mut proof = cell("system", &[84e6, 84e6]);
        for s in &mut proof.samples {
            s.gas = 0;
            s.work_units = 64;
        }
        // Without a name the rate is still work, never zero gas.
        assert_eq!(proof.measure(), "unit");
        proof.info.insert("work_unit".into(), "permutation".into());
        let s = cell_summary(&proof);
        // Each sample took GAS / 84e6 s = 0.5 s for 64 permutations.
        assert_eq!(GAS, 42_000_000);
        assert_eq!(
            format_rate(s.median_rate.unwrap(), &s.measure),
            "128.000 permutation/s"
        );
        let mut content = crate::analysis::test_sets::content(&[], "c", &[]);
        content.cells = vec![gas, proof];
        let table = print_table(&content);
        assert!(table.contains("128.000 permutation/s"), "{table}");
        assert!(!table.contains("0.000 gas/s"), "{table}");
    }
}
