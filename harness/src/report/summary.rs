//! summary.md: the few lines an alert carries. Regressions first, then what
//! changed, then where the full report is.

use super::nightly::NightComparison;
use super::sets::{latest_per_machine, LoadedSet, Refused};
use super::table::{cell_summary, format_rate};
use super::DetectionLimit;
use crate::store::CellStatus;
use std::fmt::Write;

pub struct Summary<'a> {
    pub sets: &'a [LoadedSet],
    pub refused: &'a [Refused],
    pub nights: &'a [NightComparison],
    pub detection_limits: &'a [DetectionLimit],
    pub missing_hosts: &'a [String],
    pub page: &'a str,
}

pub fn render(s: &Summary) -> String {
    let mut m = String::from("# gaslab nightly summary\n\n");
    let regressions: usize = s.nights.iter().map(|n| n.regressions().count()).sum();
    let _ = writeln!(
        m,
        "**{}** since the previous night across {} machine(s).\n",
        match regressions {
            0 => "No regression".to_string(),
            1 => "1 regression".to_string(),
            n => format!("{n} regressions"),
        },
        latest_per_machine(s.sets)
            .iter()
            .map(|set| &set.content.machine_id)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    for n in s.nights {
        for c in n.regressions() {
            let _ = writeln!(
                m,
                "- {} on {}: {} -> {} ({:+.1}%)",
                c.cell,
                n.machine,
                format_rate(c.previous.0, &c.measure),
                format_rate(c.latest.0, &c.measure),
                c.change * 100.0
            );
        }
        if n.regressions().next().is_some() {
            let _ = writeln!(m, "  - what changed on {}: {}", n.machine, n.explanation());
        }
    }
    if !s.missing_hosts.is_empty() {
        let _ = writeln!(
            m,
            "- **missing hosts** (no result set tonight): {}",
            s.missing_hosts.join(", ")
        );
    }
    if s.nights.is_empty() {
        m.push_str("No machine has a previous night to compare with yet.\n");
    }
    m.push_str("\n## Latest result sets\n\n");
    for set in latest_per_machine(s.sets) {
        let c = &set.content;
        let ok = c
            .cells
            .iter()
            .filter(|x| x.status == CellStatus::Ok)
            .count();
        let _ = writeln!(
            m,
            "- {} at {} (gaslab {}): {ok} of {} cells ok{}",
            c.machine_id,
            c.started_at,
            c.gaslab.commit,
            c.cells.len(),
            if c.complete { "" } else { ", incomplete" }
        );
        if let Some((cell, rate)) = c
            .cells
            .iter()
            .filter(|x| x.measure() == "gas")
            .filter_map(|x| Some((x, cell_summary(x).median_rate?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
        {
            let _ = writeln!(
                m,
                "  - fastest cell: {} at {}",
                cell.key,
                format_rate(rate, "gas")
            );
        }
    }
    if s.sets.is_empty() {
        m.push_str("No result sets were found.\n");
    }
    m.push_str("\n## Detection limit\n\n");
    if s.detection_limits.is_empty() {
        m.push_str("Not recorded: no calibration for these machines.\n");
    }
    for d in s.detection_limits {
        let _ = writeln!(
            m,
            "- {}: {} (false alarms {:.1}%)",
            d.machine,
            d.in_words(),
            d.false_alarm_rate * 100.0
        );
    }
    if !s.refused.is_empty() {
        m.push_str("\n## Refused result sets\n\n");
        for r in s.refused {
            let _ = writeln!(m, "- {}: {}", r.path.display(), r.reason);
        }
    }
    let _ = writeln!(m, "\nFull report: {}", s.page);
    m
}
