//! `gaslab counters`: per cell, the scheduler settings the kernel granted
//! and the medians of the perf counters over the measured iterations, so
//! what a scheduler did (switches, migrations) sits beside what it cost.

use crate::stats::median;
use crate::store::{CellResult, ResultContent};

/// Columns: metric in Sample.metrics, header, decimals.
const COLUMNS: &[(&str, &str, usize)] = &[
    ("context_switches", "ctx sw/iter", 1),
    ("cpu_migrations", "migr/iter", 1),
    ("migrations_per_s", "migr/s", 1),
    ("page_faults", "faults/iter", 0),
    ("ipc", "IPC", 2),
];

fn median_metric(cell: &CellResult, metric: &str) -> Option<f64> {
    let values: Vec<f64> = cell
        .measured()
        .filter_map(|s| s.metrics.get(metric).copied())
        .collect();
    median(&values)
}

/// Why a column is empty: the counter's recorded availability.
fn missing(cell: &CellResult, metric: &str) -> String {
    let counter = match metric {
        "migrations_per_s" => "cpu_migrations",
        "ipc" => "cycles",
        m => m,
    };
    match cell.info.get(&format!("counter.{counter}")) {
        Some(a) if a.starts_with("unsupported") => "unsupported".into(),
        Some(_) => "-".into(),
        None => "not recorded".into(),
    }
}

pub fn print_counters(content: &ResultContent) -> String {
    let mut headers = vec!["cell", "granted", "cpu/wall"];
    headers.extend(COLUMNS.iter().map(|c| c.1));
    let mut rows: Vec<Vec<String>> = Vec::new();
    for cell in &content.cells {
        let granted = match cell.info.get("sched.policy") {
            Some(p) => {
                let mut g = format!(
                    "{p} nice={}",
                    cell.info.get("sched.nice").map_or("?", String::as_str)
                );
                if let Some(c) = cell.info.get("sched.cpus") {
                    g.push_str(&format!(" cpus={c}"));
                }
                if cell
                    .spec
                    .sched
                    .as_ref()
                    .is_some_and(|s| s.slice_ns.is_some())
                {
                    g.push_str(&format!(
                        " slice={}",
                        cell.info
                            .get("sched.runtime_ns")
                            .map_or("?", String::as_str)
                    ));
                }
                g
            }
            None if cell.spec.sched.is_some() => format!("none ({})", cell.status.label()),
            None => "inherited".into(),
        };
        // task-clock over wall time: how much of the iteration the
        // worker's threads were on a CPU.
        let utilisation: Vec<f64> = cell
            .measured()
            .filter(|s| s.wall_ns > 0)
            .filter_map(|s| s.metrics.get("task_clock_ns").map(|t| t / s.wall_ns as f64))
            .collect();
        let mut row = vec![
            cell.key.clone(),
            granted,
            median(&utilisation)
                .map_or_else(|| missing(cell, "task_clock_ns"), |u| format!("{u:.3}")),
        ];
        for (metric, _, decimals) in COLUMNS {
            row.push(
                median_metric(cell, metric)
                    .map_or_else(|| missing(cell, metric), |v| format!("{v:.decimals$}")),
            );
        }
        rows.push(row);
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(headers.clone());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    out.push_str(
        "medians over measured iterations; counters cover the worker and all its threads\n",
    );
    out
}
