//! Draws every chart a report shows, grouped by kind, from loaded sets.

use super::series::{self, ChangePoints, Section};
use super::sets::{latest_per_machine, LoadedSet};
use crate::error::Result;
use crate::plot::{render, Chart, Rendered};
use std::path::Path;

/// Histories beyond this many are listed, not drawn, to keep a report fast.
pub const MAX_HISTORY_CHARTS: usize = 40;

#[derive(Debug, Clone, PartialEq)]
pub struct FigureSection {
    pub heading: &'static str,
    pub about: &'static str,
    pub rendered: Vec<Rendered>,
    /// Why this section has no chart at all, when it has none.
    pub missing: Vec<String>,
}

fn draw<T: Chart>(
    heading: &'static str,
    about: &'static str,
    sections: Vec<Section<T>>,
    out: &Path,
    limit: usize,
) -> Result<FigureSection> {
    let mut rendered = Vec::new();
    let mut missing = Vec::new();
    let mut skipped = 0;
    for s in sections {
        if let Some(m) = s.missing {
            missing.push(m);
        }
        for chart in s.charts {
            if rendered.len() >= limit {
                skipped += 1;
                continue;
            }
            rendered.push(render(&chart, out)?);
        }
    }
    if skipped > 0 {
        missing.push(format!("{skipped} more not drawn (limit {limit})"));
    }
    Ok(FigureSection {
        heading,
        about,
        rendered,
        missing,
    })
}

/// Every chart kind, drawn into `out`. Per-set charts use each machine's
/// latest set.
pub fn draw_all(
    sets: &[LoadedSet],
    change_points: Option<&ChangePoints>,
    out: &Path,
) -> Result<Vec<FigureSection>> {
    let latest = latest_per_machine(sets);
    Ok(vec![
        draw(
            "Allocators",
            "gas/s per allocator for each cell, bars with 95% CI whiskers, the best in green",
            latest.iter().map(|s| series::allocator_charts(s)).collect(),
            out,
            usize::MAX,
        )?,
        draw(
            "Scaling",
            "gas/s and speedup against threads, with the ideal line and the block's headroom where recorded",
            latest.iter().map(|s| series::scaling_charts(s)).collect(),
            out,
            usize::MAX,
        )?,
        draw(
            "History",
            "each cell's nightly medians with change points marked",
            vec![series::history_charts(sets, change_points)],
            out,
            MAX_HISTORY_CHARTS,
        )?,
        draw(
            "Machines",
            "the same cells side by side across machines, absolute and per core used",
            vec![series::machine_charts(&latest)],
            out,
            usize::MAX,
        )?,
        draw(
            "Schedulers",
            "gas/s per scheduler setting, with context switches and CPU migrations",
            latest.iter().map(|s| series::scheduler_charts(s)).collect(),
            out,
            usize::MAX,
        )?,
        draw(
            "Counters",
            "instructions per cycle and cache misses per allocator",
            latest.iter().map(|s| series::counter_charts(s)).collect(),
            out,
            usize::MAX,
        )?,
    ])
}
