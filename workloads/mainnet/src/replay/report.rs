//! The replay's output: a table printed row by row as blocks finish, or
//! one JSON document at the end.

use super::measure::{BlockRow, Verdict};
use super::{Format, EXIT_ERROR, EXIT_MISMATCH, EXIT_OK};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub blocks: usize,
    pub matched: usize,
    pub mismatched: usize,
    pub unreadable: usize,
    /// Geometric mean of parallel/sequential speedups over blocks where
    /// both ran; None when no block ran both.
    pub geomean_speedup: Option<f64>,
    /// Total header gas over the sum of median times, per executor.
    pub sequential_gas_per_s: Option<f64>,
    pub parallel_gas_per_s: Option<f64>,
}

impl Summary {
    pub fn of(rows: &[BlockRow]) -> Self {
        let count = |f: fn(&Verdict) -> bool| rows.iter().filter(|r| f(&r.verdict)).count();
        let speedups: Vec<f64> = rows.iter().filter_map(BlockRow::speedup).collect();
        let geomean_speedup = (!speedups.is_empty())
            .then(|| (speedups.iter().map(|s| s.ln()).sum::<f64>() / speedups.len() as f64).exp());
        Summary {
            blocks: rows.len(),
            matched: count(|v| matches!(v, Verdict::Match)),
            mismatched: count(|v| matches!(v, Verdict::Mismatch { .. })),
            unreadable: count(|v| matches!(v, Verdict::Unreadable { .. })),
            geomean_speedup,
            sequential_gas_per_s: gas_per_s(rows, |r| r.sequential_ms),
            parallel_gas_per_s: gas_per_s(rows, |r| r.parallel_ms),
        }
    }

    pub fn exit_code(&self) -> i32 {
        if self.unreadable > 0 {
            EXIT_ERROR
        } else if self.mismatched > 0 {
            EXIT_MISMATCH
        } else {
            EXIT_OK
        }
    }
}

fn gas_per_s(rows: &[BlockRow], ms: fn(&BlockRow) -> Option<f64>) -> Option<f64> {
    let timed: Vec<(u64, f64)> = rows
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Match))
        .filter_map(|r| Some((r.gas, ms(r)?)))
        .collect();
    let total_ms: f64 = timed.iter().map(|(_, ms)| ms).sum();
    (total_ms > 0.0).then(|| timed.iter().map(|(g, _)| *g as f64).sum::<f64>() / (total_ms / 1e3))
}

pub struct Table {
    format: Format,
}

const HEADER: [&str; 11] = [
    "block", "hardfork", "txs", "gas", "seq ms", "par ms", "speedup", "headroom", "re-ex/tx",
    "path", "verdict",
];
const WIDTHS: [usize; 10] = [9, 14, 5, 10, 9, 9, 8, 8, 8, 19];

impl Table {
    pub fn new(format: Format) -> Self {
        Table { format }
    }

    pub fn start(&mut self) {
        if self.format == Format::Table {
            println!("{}", line(HEADER.map(String::from)));
        }
    }

    pub fn row(&mut self, row: &BlockRow) {
        if self.format != Format::Table {
            return;
        }
        let verdict = match &row.verdict {
            Verdict::Match => "match".to_string(),
            Verdict::Mismatch { .. } => "MISMATCH".to_string(),
            Verdict::Unreadable { .. } => "UNREADABLE".to_string(),
        };
        println!(
            "{}",
            line([
                row.block.clone(),
                row.hardfork.clone(),
                row.txs.to_string(),
                row.gas.to_string(),
                ms(row.sequential_ms),
                ms(row.parallel_ms),
                row.speedup().map_or("-".into(), |s| format!("{s:.2}x")),
                row.headroom.map_or("-".into(), |h| format!("{h:.2}x")),
                row.re_executions_per_tx
                    .map_or("-".into(), |r| format!("{r:.2}")),
                row.parallel_path.clone().unwrap_or_else(|| "-".into()),
                verdict,
            ])
        );
    }

    pub fn finish(&mut self, rows: &[BlockRow], summary: &Summary) {
        match self.format {
            Format::Table => {
                println!(
                    "{} blocks: {} match, {} mismatch, {} unreadable",
                    summary.blocks, summary.matched, summary.mismatched, summary.unreadable
                );
                if let Some(g) = summary.geomean_speedup {
                    println!("geometric-mean speedup: {g:.2}x");
                }
                if let Some(g) = summary.sequential_gas_per_s {
                    println!("sequential: {:.1} Mgas/s", g / 1e6);
                }
                if let Some(g) = summary.parallel_gas_per_s {
                    println!("parallel:   {:.1} Mgas/s", g / 1e6);
                }
            }
            Format::Json => {
                let doc = serde_json::json!({ "blocks": rows, "summary": summary });
                println!(
                    "{}",
                    serde_json::to_string_pretty(&doc).expect("rows serialize")
                );
            }
        }
    }
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.3}"))
}

fn line(cells: [String; 11]) -> String {
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        match WIDTHS.get(i) {
            // Names (block, hardfork, path) left, numbers right.
            Some(w) if matches!(i, 0 | 1 | 9) => out.push_str(&format!("{cell:<w$} ")),
            Some(w) => out.push_str(&format!("{cell:>w$} ")),
            None => out.push_str(cell),
        }
    }
    out
}
