//! `gaslab explain` output.

use super::grid::{grid, markdown, pct_change};
use crate::analysis::{ChangeExplanation, Explanation};

const HEADERS: [&str; 4] = ["group", "field", "before", "after"];

fn rows(x: &Explanation) -> Vec<Vec<String>> {
    let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
    let mut rows = vec![vec![
        "code".to_string(),
        "gaslab commit".to_string(),
        x.code.from_commit.clone() + if x.before.dirty { " (dirty)" } else { "" },
        x.code.to_commit.clone() + if x.after.dirty { " (dirty)" } else { "" },
    ]];
    rows.extend(x.fingerprint_changes.iter().map(|c| {
        vec![
            c.group.label().to_string(),
            c.field.clone(),
            side(&c.before),
            side(&c.after),
        ]
    }));
    rows
}

fn commits(x: &Explanation) -> String {
    match &x.code.commits {
        Some(list) if !list.is_empty() => format!("commits in range:\n  {}\n", list.join("\n  ")),
        _ => String::new(),
    }
}

pub fn pair_table(x: &Explanation) -> String {
    format!(
        "before: {} ({})\nafter:  {} ({})\n\n{}\n{}{}\n",
        x.before.path,
        x.before.started_at,
        x.after.path,
        x.after.started_at,
        grid(&HEADERS, &rows(x)),
        commits(x),
        x.summary
    )
}

pub fn pair_markdown(x: &Explanation) -> String {
    format!(
        "### gaslab explain\n\n`{}` -> `{}`\n\n{}\n{}**{}**\n",
        x.before.path,
        x.after.path,
        markdown(&HEADERS, &rows(x)),
        commits(x),
        x.summary
    )
}

fn heading(e: &ChangeExplanation) -> String {
    format!(
        "{} on {}: {} at {} (confidence {:.1}%)",
        e.key,
        e.machine_id,
        pct_change(1.0 + e.change.magnitude),
        e.change.first_after.started_at,
        e.change.confidence * 100.0
    )
}

pub fn changes_table(list: &[ChangeExplanation]) -> String {
    if list.is_empty() {
        return "no change points: nothing to explain\n".into();
    }
    list.iter()
        .map(|e| format!("== {}\n{}", heading(e), pair_table(&e.explanation)))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn changes_markdown(list: &[ChangeExplanation]) -> String {
    if list.is_empty() {
        return "no change points: nothing to explain\n".into();
    }
    list.iter()
        .map(|e| format!("#### {}\n\n{}", heading(e), pair_markdown(&e.explanation)))
        .collect::<Vec<_>>()
        .join("\n")
}
