//! `gaslab calibrate` output.

use super::grid::{grid, markdown};
use crate::analysis::Calibration;

fn rows(c: &Calibration) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "A/A (none)".to_string(),
        c.aa_pairs.to_string(),
        format!("{} false alarm(s)", c.false_alarms),
        format!(
            "false-alarm rate {:.1}% (95% upper bound {:.1}%)",
            c.false_alarm_rate * 100.0,
            c.false_alarm_upper_95 * 100.0
        ),
        "-".into(),
    ]];
    for s in &c.sizes {
        rows.push(vec![
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

const HEADERS: [&str; 5] = ["pairs of", "pairs", "flagged", "rate", "measured change"];

fn header(c: &Calibration) -> String {
    format!(
        "{} cell(s) x {} rounds; compare with noise band +-{:.1}%, alpha {}",
        c.cells.len(),
        c.rounds,
        c.noise * 100.0,
        c.alpha
    )
}

pub fn table(c: &Calibration) -> String {
    format!(
        "{}\n\n{}\n{}\n",
        header(c),
        grid(&HEADERS, &rows(c)),
        c.limit.statement
    )
}

pub fn markdown_report(c: &Calibration) -> String {
    format!(
        "### gaslab calibration ({})\n\n{}\n\n{}\n**{}**\n",
        c.limit.machine_id,
        header(c),
        markdown(&HEADERS, &rows(c)),
        c.limit.statement
    )
}
