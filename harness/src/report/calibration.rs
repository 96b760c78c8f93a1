//! `gaslab calibrate` output.

use super::grid::{grid, markdown};
use crate::analysis::calibrate::RuleScore;
use crate::analysis::Calibration;

fn rule_rows(rule: &str, r: &RuleScore) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        rule.to_string(),
        "A/A (none)".to_string(),
        r.aa_pairs.to_string(),
        format!("{} false alarm(s)", r.false_alarms),
        format!(
            "false-alarm rate {:.1}% (95% upper bound {:.1}%)",
            r.false_alarm_rate * 100.0,
            r.false_alarm_upper_95 * 100.0
        ),
        "-".into(),
    ]];
    for s in &r.sizes {
        rows.push(vec![
            rule.to_string(),
            format!("A/B +{}%", s.slowdown_pct),
            s.pairs.to_string(),
            format!("{} detected", s.detected),
            format!("power {:.1}%", s.power * 100.0),
            s.median_ratio
                .map(|r| format!("{:+.2}%", (r - 1.0) * 100.0))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    rows
}

fn rows(c: &Calibration) -> Vec<Vec<String>> {
    let mut rows = rule_rows(&format!("+-{:.1}%", c.noise * 100.0), &c.fixed);
    if let Some(held) = &c.calibrated {
        rows.extend(rule_rows("calibrated", held));
    }
    rows
}

const HEADERS: [&str; 6] = [
    "band",
    "pairs of",
    "pairs",
    "flagged",
    "rate",
    "measured change",
];

const NOISE_HEADERS: [&str; 4] = ["cell", "A runs", "between-run sd", "calibrated band"];

fn noise_rows(c: &Calibration) -> Vec<Vec<String>> {
    c.cell_noise
        .iter()
        .map(|n| {
            vec![
                n.cell.clone(),
                n.runs.to_string(),
                format!("{:.2}%", n.between_run_sd * 100.0),
                format!("+-{:.1}%", n.band * 100.0),
            ]
        })
        .collect()
}

fn header(c: &Calibration) -> String {
    let mut h = format!(
        "{} cell(s) x {} rounds; compare with noise band +-{:.1}%, alpha {}",
        c.cells.len(),
        c.rounds,
        c.noise * 100.0,
        c.alpha
    );
    if c.calibrated.is_some() {
        h.push_str(
            "; calibrated: each cell's own band (at least the fixed one), fitted on the other half of the rounds",
        );
    }
    h
}

pub fn table(c: &Calibration) -> String {
    format!(
        "{}\n\n{}\n{}\n{}\n",
        header(c),
        grid(&HEADERS, &rows(c)),
        grid(&NOISE_HEADERS, &noise_rows(c)),
        c.limit.statement
    )
}

pub fn markdown_report(c: &Calibration) -> String {
    format!(
        "### gaslab calibration ({})\n\n{}\n\n{}\n{}\n**{}**\n",
        c.limit.machine_id,
        header(c),
        markdown(&HEADERS, &rows(c)),
        markdown(&NOISE_HEADERS, &noise_rows(c)),
        c.limit.statement
    )
}
