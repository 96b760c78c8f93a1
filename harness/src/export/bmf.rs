//! Bencher Metric Format JSON (https://bencher.dev/docs/reference/bencher-metric-format),
//! so a team can push a result set to a Bencher server with
//! `bencher run --adapter json --file <this>`. One benchmark per finished
//! cell, named by its cell key; measures: `gas-per-second` (median with its
//! 95% CI), `latency` (median ns per iteration with its 95% CI) and
//! `peak-rss-bytes` where recorded.

use crate::report::cell_summary;
use crate::stats::{bootstrap_ci, median, median_of};
use crate::store::{CellStatus, ResultContent};
use serde_json::{json, Map, Value};

pub fn render(content: &ResultContent) -> String {
    let mut out = Map::new();
    for cell in content.cells.iter().filter(|c| c.status == CellStatus::Ok) {
        let s = cell_summary(cell);
        let (Some(v), Some(lo), Some(hi)) = (s.median_rate, s.ci_lower, s.ci_upper) else {
            continue;
        };
        let mut measures = Map::new();
        measures.insert(
            format!("{}-per-second", s.measure),
            json!({"value": v, "lower_value": lo, "upper_value": hi}),
        );
        let walls: Vec<f64> = cell.measured().map(|s| s.wall_ns as f64).collect();
        if let Some(ci) = bootstrap_ci(&walls, median_of, 0.95, 2000, 0x6a5_1ab) {
            measures.insert(
                "latency".into(),
                json!({"value": ci.estimate, "lower_value": ci.lower, "upper_value": ci.upper}),
            );
        }
        let rss: Vec<f64> = cell
            .measured()
            .filter_map(|s| s.peak_rss_bytes.map(|b| b as f64))
            .collect();
        if let Some(m) = median(&rss) {
            measures.insert("peak-rss-bytes".into(), json!({ "value": m }));
        }
        out.insert(cell.key.clone(), Value::Object(measures));
    }
    serde_json::to_string_pretty(&Value::Object(out)).expect("JSON values serialize") + "\n"
}
