//! `gaslab history` output.

use super::grid::{grid, markdown, pct_change};
use super::table::format_rate;
use crate::analysis::History;

const HEADERS: [&str; 8] = [
    "machine",
    "cell",
    "nights",
    "change at",
    "change",
    "confidence",
    "last before",
    "first after",
];

fn rows(h: &History) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for cell in &h.cells {
        if cell.change_points.is_empty() {
            rows.push(vec![
                cell.machine_id.clone(),
                cell.key.clone(),
                cell.points.len().to_string(),
                "-".into(),
                "none".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
        }
        for cp in &cell.change_points {
            rows.push(vec![
                cell.machine_id.clone(),
                cell.key.clone(),
                cell.points.len().to_string(),
                format!("#{} {}", cp.index, cp.first_after.started_at),
                format!(
                    "{} ({} -> {})",
                    pct_change(1.0 + cp.magnitude),
                    format_rate(cp.before_median, &cell.measure),
                    format_rate(cp.after_median, &cell.measure)
                ),
                format!("{:.1}% (p {:.4})", cp.confidence * 100.0, cp.p_value),
                cp.last_before.commit.clone(),
                cp.first_after.commit.clone(),
            ]);
        }
    }
    rows
}

fn settings(h: &History) -> String {
    format!(
        "{} result sets; E-Divisive means: window {}, p-value <= {}, {} permutations, min {} points a side",
        h.result_sets, h.options.window, h.options.p_value, h.options.permutations, h.options.min_size
    )
}

pub fn table(h: &History) -> String {
    format!("{}\n\n{}", settings(h), grid(&HEADERS, &rows(h)))
}

pub fn markdown_report(h: &History) -> String {
    format!(
        "### gaslab history\n\n{}\n\n{}",
        settings(h),
        markdown(&HEADERS, &rows(h))
    )
}
