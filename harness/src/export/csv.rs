//! CSV, one row per sample (warm-ups included and marked), so a
//! spreadsheet or pandas sees every measurement, not a summary.

use crate::report::series_scheduler_setting;
use crate::store::ResultContent;
use std::collections::BTreeSet;

/// Columns before the metric columns, in order.
pub const FIXED_COLUMNS: &[&str] = &[
    "machine_id",
    "started_at",
    "gaslab_commit",
    "cell_key",
    "workload",
    "params",
    "threads",
    "allocator",
    "scheduler",
    "status",
    "sample_index",
    "warmup",
    "wall_ns",
    "gas",
    "work_units",
    "gas_per_sec",
    "peak_rss_bytes",
    "digest",
];

pub fn render(content: &ResultContent) -> String {
    // Every metric any sample recorded becomes a column; a sample that did
    // not record it leaves the cell empty (not recorded, not zero).
    let metrics: BTreeSet<&String> = content
        .cells
        .iter()
        .flat_map(|c| c.samples.iter().flat_map(|s| s.metrics.keys()))
        .collect();
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let header: Vec<String> = FIXED_COLUMNS
        .iter()
        .map(|s| s.to_string())
        .chain(metrics.iter().map(|m| format!("metric.{m}")))
        .collect();
    w.write_record(&header).expect("writing to memory");
    for cell in &content.cells {
        let params: Vec<String> = cell
            .spec
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for s in &cell.samples {
            let gas_per_sec = if s.wall_ns > 0 {
                format!("{}", s.gas as f64 * 1e9 / s.wall_ns as f64)
            } else {
                String::new()
            };
            let mut row = vec![
                content.machine_id.clone(),
                content.started_at.clone(),
                content.gaslab.commit.clone(),
                cell.key.clone(),
                cell.spec.workload.clone(),
                params.join(";"),
                cell.spec.threads.to_string(),
                cell.allocator.clone(),
                series_scheduler_setting(cell).unwrap_or_default(),
                cell.status.label().to_string(),
                s.index.to_string(),
                s.warmup.to_string(),
                s.wall_ns.to_string(),
                s.gas.to_string(),
                s.work_units.to_string(),
                gas_per_sec,
                s.peak_rss_bytes.map(|b| b.to_string()).unwrap_or_default(),
                s.digest.clone(),
            ];
            row.extend(
                metrics
                    .iter()
                    .map(|m| s.metrics.get(*m).map(|v| v.to_string()).unwrap_or_default()),
            );
            w.write_record(&row).expect("writing to memory");
        }
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("CSV of UTF-8 strings")
}
