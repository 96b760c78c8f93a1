//! A markdown table, one row per cell, for a pull request or an issue.

use crate::report::{cell_summary, rate_unit, series_scheduler_setting};
use crate::store::ResultContent;

pub const HEADERS: &[&str] = &[
    "workload",
    "params",
    "threads",
    "allocator",
    "scheduler",
    "median",
    "95% CI",
    "samples",
    "CV",
    "status",
];

/// Pipes and newlines would break a row.
fn cell_text(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(content: &ResultContent) -> String {
    let mut out = format!(
        "**{}** at {} (gaslab {}, profile {})\n\n| {} |\n|{}\n",
        content.machine_id,
        content.started_at,
        content.gaslab.commit,
        content.profile.name,
        HEADERS.join(" | "),
        HEADERS
            .iter()
            .enumerate()
            .map(|(i, _)| if [2, 5, 6, 7, 8].contains(&i) {
                "---:|"
            } else {
                "---|"
            })
            .collect::<String>()
    );
    for cell in &content.cells {
        let s = cell_summary(cell);
        let params: Vec<String> = cell
            .spec
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let (median, ci) = match (s.median_rate, s.ci_lower, s.ci_upper) {
            (Some(m), Some(l), Some(u)) => {
                let (div, unit) = rate_unit(m, &s.measure);
                (
                    format!("{:.3} {unit}", m / div),
                    format!("{:.3} .. {:.3}", l / div, u / div),
                )
            }
            _ => ("-".into(), "-".into()),
        };
        let row = [
            cell.spec.workload.clone(),
            params.join(", "),
            cell.spec.threads.to_string(),
            cell.allocator.clone(),
            series_scheduler_setting(cell).unwrap_or_else(|| "-".into()),
            median,
            ci,
            s.samples.to_string(),
            s.cv.map(|c| format!("{:.1}%", c * 100.0))
                .unwrap_or_else(|| "-".into()),
            cell.status.label().to_string(),
        ];
        let row: Vec<String> = row.iter().map(|c| cell_text(c)).collect();
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    if content.cells.is_empty() {
        out.push_str("\n(no cells)\n");
    }
    out
}
