//! Turns result sets into the plain series each chart draws. This is the
//! only place that knows where in a result set a number lives; the charts
//! only see the structs.
//!
//! Sources that not every result set has yet are looked up by name and,
//! when absent, reported as not recorded (never as zero):
//! - scheduler settings: cell params named `policy`, `nice`, `affinity`,
//!   `slice_ns` or starting with `sched`, and cell info keys starting with
//!   `sched.`;
//! - per-iteration counters in a sample's `metrics`: `context_switches`,
//!   `cpu_migrations` (or `migrations`), `cycles`, `instructions`,
//!   `cache_misses`;
//! - scaling: `speedup` and `headroom` in a sample's `metrics`, and the
//!   `executor` param.

use super::sets::LoadedSet;
use super::table::cell_summary;
use crate::plot::{
    AllocatorBar, AllocatorChart, ChangePoint, Chart, CounterBar, CountersChart, HistoryChart,
    HistoryPoint, MachineBar, MachinesChart, ScalingChart, ScalingPoint, ScalingSeries,
    SchedulerBar, SchedulersChart,
};
use crate::stats::median;
use crate::store::{CellResult, CellStatus};
use std::collections::BTreeMap;

/// Charts of one kind, or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub struct Section<T> {
    pub charts: Vec<T>,
    /// Said when `charts` is empty.
    pub missing: Option<String>,
}

impl<T> Section<T> {
    fn new(charts: Vec<T>, missing: impl FnOnce() -> String) -> Self {
        let missing = charts.is_empty().then(missing);
        Section { charts, missing }
    }
}

const SCHED_PARAMS: &[&str] = &["policy", "nice", "affinity", "slice_ns"];

fn is_sched_param(name: &str) -> bool {
    SCHED_PARAMS.contains(&name) || name.starts_with("sched")
}

/// The scheduler setting a cell ran under, in words, if one was recorded.
pub fn scheduler_setting(cell: &CellResult) -> Option<String> {
    let mut parts: Vec<String> = cell
        .spec
        .params
        .iter()
        .filter(|(k, _)| is_sched_param(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    parts.extend(
        cell.info
            .iter()
            .filter(|(k, _)| k.starts_with("sched."))
            .map(|(k, v)| format!("{}={v}", &k["sched.".len()..])),
    );
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A cell's name without the axes in `drop` (and never the scheduler
/// params, which are an axis of their own): workload[params] threads=N.
pub fn cell_label(cell: &CellResult, drop: &[&str], with_threads: bool) -> String {
    let params: Vec<String> = cell
        .spec
        .params
        .iter()
        .filter(|(k, _)| !drop.contains(&k.as_str()) && !is_sched_param(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut s = format!("{}[{}]", cell.spec.workload, params.join(","));
    if with_threads {
        s.push_str(&format!(" threads={}", cell.spec.threads));
    }
    s
}

fn ok_cells(set: &LoadedSet) -> impl Iterator<Item = &CellResult> {
    set.content
        .cells
        .iter()
        .filter(|c| c.status == CellStatus::Ok && !c.rates().is_empty())
}

/// Median of a per-iteration metric over measured samples, where recorded.
pub fn metric_median(cell: &CellResult, name: &str) -> Option<f64> {
    let xs: Vec<f64> = cell
        .measured()
        .filter_map(|s| s.metrics.get(name).copied())
        .filter(|x| x.is_finite())
        .collect();
    median(&xs)
}

/// Median of a per-iteration ratio of two metrics, where both were recorded.
fn ratio_median(cell: &CellResult, num: &str, den: &str, scale: f64) -> Option<f64> {
    let xs: Vec<f64> = cell
        .measured()
        .filter_map(|s| {
            let (n, d) = (s.metrics.get(num)?, s.metrics.get(den)?);
            (*d > 0.0).then(|| n / d * scale)
        })
        .collect();
    median(&xs)
}

/// Groups in first-seen order, so charts follow the profile's order.
fn group<'a, K: PartialEq>(
    items: impl Iterator<Item = &'a CellResult>,
    key: impl Fn(&CellResult) -> K,
) -> Vec<(K, Vec<&'a CellResult>)> {
    let mut groups: Vec<(K, Vec<&CellResult>)> = Vec::new();
    for c in items {
        let k = key(c);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, v)) => v.push(c),
            None => groups.push((k, vec![c])),
        }
    }
    groups
}

fn with_setting(label: String, cell: &CellResult) -> String {
    match scheduler_setting(cell) {
        Some(s) => format!("{label} {s}"),
        None => label,
    }
}

/// gas/s per allocator for every cell of `set`.
pub fn allocator_charts(set: &LoadedSet) -> Section<AllocatorChart> {
    let groups = group(ok_cells(set), |c| with_setting(cell_label(c, &[], true), c));
    let charts = groups
        .into_iter()
        .map(|(cell, cells)| AllocatorChart {
            cell,
            machine: set.content.machine_id.clone(),
            measure: cells[0].measure().to_string(),
            bars: cells
                .iter()
                .filter_map(|c| {
                    let s = cell_summary(c);
                    Some(AllocatorBar {
                        allocator: c.allocator.clone(),
                        median: s.median_rate?,
                        lower: s.ci_lower?,
                        upper: s.ci_upper?,
                    })
                })
                .collect(),
        })
        .collect();
    Section::new(charts, || {
        format!(
            "{} has no finished cell to compare allocators on",
            set.path.display()
        )
    })
}

/// gas/s and speedup against threads, per executor and allocator.
pub fn scaling_charts(set: &LoadedSet) -> Section<ScalingChart> {
    let groups = group(ok_cells(set), |c| {
        with_setting(cell_label(c, &["executor"], false), c)
    });
    let mut charts = Vec::new();
    for (cell, cells) in groups {
        let lines = group(cells.into_iter(), |c| match c.spec.text("executor") {
            Some(e) => format!("{e} / {}", c.allocator),
            None => c.allocator.clone(),
        });
        let recorded = lines
            .iter()
            .any(|(_, cs)| cs.iter().any(|c| metric_median(c, "speedup").is_some()));
        let measure = lines[0].1[0].measure().to_string();
        let mut series = Vec::new();
        for (name, cs) in lines {
            let rate = |c: &CellResult| cell_summary(c).median_rate;
            let one_thread = cs
                .iter()
                .find(|c| c.spec.threads == 1)
                .and_then(|c| rate(c));
            let points = cs
                .iter()
                .filter_map(|c| {
                    let gas_per_sec = rate(c)?;
                    let speedup = if recorded {
                        metric_median(c, "speedup")
                    } else {
                        one_thread.map(|base| gas_per_sec / base)
                    };
                    Some(ScalingPoint {
                        threads: c.spec.threads,
                        gas_per_sec,
                        speedup,
                        headroom: metric_median(c, "headroom"),
                    })
                })
                .collect();
            series.push(ScalingSeries { name, points });
        }
        charts.push(ScalingChart {
            cell,
            measure,
            machine: set.content.machine_id.clone(),
            speedup_basis: if recorded {
                "sequential (as recorded)".into()
            } else {
                "1 thread of the same line".into()
            },
            series,
        });
    }
    // A cell measured at one thread count has no scaling to show; say so
    // once for the set rather than once per cell.
    let single: Vec<String> = charts.iter().filter_map(|c| c.not_drawable()).collect();
    charts.retain(|c| c.not_drawable().is_none());
    Section::new(charts, || {
        match single.first() {
        Some(first) if single.len() == 1 => format!("{}: {first}", set.path.display()),
        Some(_) => format!(
            "{}: none of its {} cells was measured at two or more thread counts; scaling needs threads = [1, 2, 4, ...] in the profile",
            set.path.display(),
            single.len()
        ),
        None => format!("{} has no finished cell", set.path.display()),
    }
    })
}

/// The same cell key on each machine's latest set, for keys on two or more.
pub fn machine_charts(latest: &[&LoadedSet]) -> Section<MachinesChart> {
    let mut by_key: Vec<(String, String, Vec<MachineBar>)> = Vec::new();
    for set in latest {
        let f = &set.content.fingerprint_start;
        let logical: usize = f
            .get("cpu.logical")
            .and_then(|v| v.parse().ok())
            .unwrap_or(usize::MAX);
        let arch = f.get("arch").map(String::as_str).unwrap_or("?");
        let cpu: String = f
            .get("cpu.model")
            .map(|m| m.chars().take(24).collect())
            .unwrap_or_else(|| "?".into());
        for c in ok_cells(set) {
            let s = cell_summary(c);
            let (Some(median), Some(lower), Some(upper)) = (s.median_rate, s.ci_lower, s.ci_upper)
            else {
                continue;
            };
            let bar = MachineBar {
                machine: format!("{} ({arch}, {cpu})", set.content.machine_id),
                cores_used: c.spec.threads.min(logical).max(1),
                median,
                lower,
                upper,
            };
            let key =
                with_setting(cell_label(c, &[], true), c) + &format!(" alloc={}", c.allocator);
            match by_key.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, _, bars)) => bars.push(bar),
                None => by_key.push((key, c.measure().to_string(), vec![bar])),
            }
        }
    }
    let machines = latest.len();
    let charts = by_key
        .into_iter()
        .filter(|(_, _, bars)| bars.len() >= 2)
        .map(|(cell, measure, bars)| MachinesChart {
            cell,
            measure,
            bars,
        })
        .collect();
    Section::new(charts, || match machines {
        0 => "no result sets".to_string(),
        1 => format!(
            "only one machine ({}) has result sets here; side-by-side needs two or more machines",
            latest[0].content.machine_id
        ),
        n => format!("the latest sets of the {n} machines share no finished cell"),
    })
}

/// gas/s per scheduler setting, with context switches and migrations.
pub fn scheduler_charts(set: &LoadedSet) -> Section<SchedulersChart> {
    let cells: Vec<&CellResult> = ok_cells(set)
        .filter(|c| scheduler_setting(c).is_some())
        .collect();
    let groups = group(cells.into_iter(), |c| {
        cell_label(c, &[], true) + &format!(" alloc={}", c.allocator)
    });
    let charts = groups
        .into_iter()
        .map(|(cell, cs)| SchedulersChart {
            cell,
            machine: set.content.machine_id.clone(),
            measure: cs[0].measure().to_string(),
            bars: cs
                .iter()
                .filter_map(|c| {
                    let s = cell_summary(c);
                    Some(SchedulerBar {
                        setting: scheduler_setting(c)?,
                        median: s.median_rate?,
                        lower: s.ci_lower?,
                        upper: s.ci_upper?,
                        context_switches: metric_median(c, "context_switches"),
                        migrations: metric_median(c, "cpu_migrations")
                            .or_else(|| metric_median(c, "migrations")),
                    })
                })
                .collect(),
        })
        .collect();
    Section::new(charts, || {
        format!(
            "no scheduler settings are recorded in {} (no cell carries a policy, nice, affinity or sched.* setting)",
            set.path.display()
        )
    })
}

/// IPC and cache misses per allocator, for cells that counted them.
pub fn counter_charts(set: &LoadedSet) -> Section<CountersChart> {
    let counted = |c: &&CellResult| {
        c.measured().any(|s| {
            s.metrics.contains_key("instructions") || s.metrics.contains_key("cache_misses")
        })
    };
    let cells: Vec<&CellResult> = ok_cells(set).filter(counted).collect();
    let groups = group(cells.into_iter(), |c| {
        with_setting(cell_label(c, &[], true), c)
    });
    let charts: Vec<CountersChart> = groups
        .into_iter()
        .map(|(cell, cs)| CountersChart {
            cell,
            machine: set.content.machine_id.clone(),
            bars: cs
                .iter()
                .map(|c| CounterBar {
                    allocator: c.allocator.clone(),
                    ipc: ratio_median(c, "instructions", "cycles", 1.0),
                    cache_mpki: ratio_median(c, "cache_misses", "instructions", 1000.0),
                })
                .collect(),
        })
        .collect();
    Section::new(charts, || {
        format!(
            "hardware counters (cycles, instructions, cache misses) are not recorded in {}",
            set.path.display()
        )
    })
}

/// Change points for (machine id, cell key), from the history analysis.
pub type ChangePoints = BTreeMap<(String, String), Vec<ChangePoint>>;

/// Each cell's nightly series on each machine, for series of two or more
/// nights. `change_points` is None when no detector ran.
pub fn history_charts(
    sets: &[LoadedSet],
    change_points: Option<&ChangePoints>,
) -> Section<HistoryChart> {
    let mut charts = Vec::new();
    for (machine, machine_sets) in super::sets::by_machine(sets) {
        let mut series: Vec<(String, String, Vec<HistoryPoint>)> = Vec::new();
        for set in machine_sets {
            for c in ok_cells(set) {
                let s = cell_summary(c);
                let (Some(median), Some(lower), Some(upper)) =
                    (s.median_rate, s.ci_lower, s.ci_upper)
                else {
                    continue;
                };
                let point = HistoryPoint {
                    label: set.content.started_at.chars().take(10).collect(),
                    commit: set.content.gaslab.commit.clone(),
                    median,
                    lower,
                    upper,
                };
                match series.iter_mut().find(|(k, _, _)| *k == c.key) {
                    Some((_, _, pts)) => pts.push(point),
                    None => series.push((c.key.clone(), s.measure, vec![point])),
                }
            }
        }
        for (key, measure, points) in series {
            if points.len() < 2 {
                continue;
            }
            let cps = change_points.map(|m| {
                m.get(&(machine.to_string(), key.clone()))
                    .cloned()
                    .unwrap_or_default()
            });
            charts.push(HistoryChart {
                cell: key,
                machine: machine.to_string(),
                measure,
                points,
                change_points: cps,
            });
        }
    }
    Section::new(charts, || {
        match sets.len() {
        0 => "no result sets".to_string(),
        _ => "no cell was measured on two or more nights on the same machine; a history needs two or more".to_string(),
    }
    })
}
