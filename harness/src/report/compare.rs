//! `gaslab compare` output: terminal table, markdown (for an alert or a PR
//! comment), JSON.

use super::grid::{grid, markdown, pct_change};
use super::table::format_rate;
use crate::analysis::fingerprint_diff::describe;
use crate::analysis::{CellComparison, Comparison, Verdict};

const HEADERS: [&str; 8] = ["cell", "A", "B", "change", "95% CI", "p", "band", "verdict"];

fn row(c: &CellComparison) -> Vec<String> {
    let rate = |r: &Option<crate::analysis::CellRates>| {
        r.as_ref()
            .and_then(|r| r.median.map(|m| format_rate(m, &r.measure)))
            .unwrap_or_else(|| "-".into())
    };
    let injected = c
        .candidate
        .as_ref()
        .map(|r| r.injected_slowdown_pct)
        .filter(|p| *p > 0.0)
        .map(|p| format!(" (B injected {p}%)"))
        .unwrap_or_default();
    let mut verdict = c.verdict.label().to_string();
    if c.verdict == Verdict::Incomparable {
        let fields: Vec<&str> = c
            .fingerprint_changes
            .iter()
            .map(|f| f.field.as_str())
            .collect();
        verdict = format!("not compared: fingerprint differs ({})", fields.join(", "));
    }
    vec![
        format!("{}{injected}", c.key),
        rate(&c.baseline),
        rate(&c.candidate),
        c.ratio
            .map(|r| pct_change(r.ratio))
            .unwrap_or_else(|| "-".into()),
        c.ratio
            .map(|r| format!("{} .. {}", pct_change(r.lower), pct_change(r.upper)))
            .unwrap_or_else(|| "-".into()),
        c.p_value
            .map(|p| format!("{p:.2e}"))
            .unwrap_or_else(|| "-".into()),
        format!("+-{:.1}%", c.noise_band * 100.0),
        verdict,
    ]
}

pub fn summary_line(c: &Comparison) -> String {
    let s = &c.summary;
    format!(
        "{} regression(s), {} improvement(s), {} unchanged, {} not compared; geometric mean of ratios {}",
        s.regressions,
        s.improvements,
        s.unchanged,
        s.not_compared,
        s.geometric_mean_ratio
            .map(|g| format!("{g:.4} ({})", pct_change(g)))
            .unwrap_or_else(|| "n/a".into())
    )
}

fn fingerprint_note(c: &Comparison) -> Option<String> {
    if c.fingerprint_changes.is_empty() {
        return None;
    }
    let lines: Vec<String> = c.fingerprint_changes.iter().map(describe).collect();
    Some(format!(
        "fingerprint key differs between A and B{}:\n  {}",
        if c.options.across_fingerprints {
            " (judged anyway: --across-fingerprints)"
        } else {
            "; such cells are not judged"
        },
        lines.join("\n  ")
    ))
}

pub fn table(c: &Comparison) -> String {
    let rows: Vec<Vec<String>> = c.cells.iter().map(row).collect();
    let mut out = format!(
        "A: {} ({} {})\nB: {} ({} {})\nnoise band +-{:.1}%, alpha {}, {}% CI of median(B)/median(A)\n\n",
        c.baseline.path,
        c.baseline.commit,
        c.baseline.started_at,
        c.candidate.path,
        c.candidate.commit,
        c.candidate.started_at,
        c.options.noise * 100.0,
        c.options.alpha,
        c.options.level * 100.0
    );
    out += &grid(&HEADERS, &rows);
    if let Some(note) = fingerprint_note(c) {
        out += &format!("\n{note}\n");
    }
    out += &format!("\n{}\n", summary_line(c));
    out
}

pub fn markdown_report(c: &Comparison) -> String {
    let rows: Vec<Vec<String>> = c.cells.iter().map(row).collect();
    let headline = if c.has_regression() {
        "### :red_circle: gaslab: regression found"
    } else {
        "### gaslab: no regression"
    };
    let mut out = format!(
        "{headline}\n\nA `{}` ({}) vs B `{}` ({}); noise band +-{:.1}%, alpha {}\n\n",
        c.baseline.commit,
        c.baseline.started_at,
        c.candidate.commit,
        c.candidate.started_at,
        c.options.noise * 100.0,
        c.options.alpha
    );
    out += &markdown(&HEADERS, &rows);
    if let Some(note) = fingerprint_note(c) {
        out += &format!("\n```\n{note}\n```\n");
    }
    out += &format!("\n**{}**\n", summary_line(c));
    out
}
