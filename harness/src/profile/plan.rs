//! From a profile to the list of cells to run: workload x params x
//! allocators x threads, every value checked against the worker catalogue.

use super::{MatrixEntry, Profile, Settings};
use crate::error::Result;
use gaslab_protocol::{
    workload_schema, AdaptiveSampling, CellSpec, ParamKind, ParamValue, ALLOCATORS,
};
use std::collections::BTreeMap;
use std::time::Duration;

const DEFAULT_WARMUP: i64 = 2;
const DEFAULT_SAMPLES: i64 = 10;
const DEFAULT_TIMEOUT_S: f64 = 300.0;

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCell {
    pub spec: CellSpec,
    pub allocator: String,
    pub timeout: Duration,
}

impl PlannedCell {
    pub fn key(&self) -> String {
        self.spec.key(&self.allocator)
    }
}

pub fn plan(profile: &Profile) -> Result<Vec<PlannedCell>> {
    let mut cells = Vec::new();
    if profile.file.matrix.is_empty() {
        return Err(profile.error_at(0..0, "matrix", "the profile declares no [[matrix]] entry"));
    }
    for (i, entry) in profile.file.matrix.iter().enumerate() {
        plan_entry(profile, i, entry, &mut cells)?;
    }
    Ok(cells)
}

fn plan_entry(
    profile: &Profile,
    i: usize,
    entry: &MatrixEntry,
    cells: &mut Vec<PlannedCell>,
) -> Result<()> {
    let at = |field: &str| format!("matrix[{i}].{field}");
    let name = entry.workload.get_ref();
    let schema = workload_schema(name).ok_or_else(|| {
        let known: Vec<_> = gaslab_protocol::WORKLOADS.iter().map(|w| w.name).collect();
        profile.error_at(
            entry.workload.span(),
            at("workload"),
            format!("unknown workload `{name}` (known: {})", known.join(", ")),
        )
    })?;

    // Each parameter becomes a list of values; the matrix is their product.
    let mut axes: Vec<(String, Vec<ParamValue>)> = Vec::new();
    for (key, value) in &entry.params {
        let field = at(&format!("params.{}", key.get_ref()));
        let param = schema.param(key.get_ref()).ok_or_else(|| {
            let known: Vec<_> = schema.params.iter().map(|p| p.name).collect();
            profile.error_at(
                key.span(),
                &field,
                format!(
                    "`{name}` has no parameter `{}` (known: {})",
                    key.get_ref(),
                    known.join(", ")
                ),
            )
        })?;
        let values: Vec<&toml::Value> = match value.get_ref() {
            toml::Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        if values.is_empty() {
            return Err(profile.error_at(value.span(), &field, "an empty list plans no cell"));
        }
        let mut converted = Vec::new();
        for v in values {
            let pv = match (param.kind, v) {
                (ParamKind::Int, toml::Value::Integer(n)) => ParamValue::Int(*n),
                (ParamKind::Float, toml::Value::Float(x)) => ParamValue::Float(*x),
                (ParamKind::Float, toml::Value::Integer(n)) => ParamValue::Float(*n as f64),
                (ParamKind::Text, toml::Value::String(s)) => ParamValue::Text(s.clone()),
                (kind, other) => {
                    return Err(profile.error_at(
                        value.span(),
                        &field,
                        format!(
                            "expected {} (or a list of them), found {}",
                            kind.name(),
                            other.type_str()
                        ),
                    ))
                }
            };
            converted.push(pv);
        }
        axes.push((key.get_ref().clone(), converted));
    }

    let settings = Resolved::new(profile, i, &profile.file.defaults, &entry.settings())?;
    for params in product(&axes) {
        for &threads in &settings.threads {
            for sched in &settings.sched {
                for allocator in &settings.allocators {
                    cells.push(PlannedCell {
                        spec: CellSpec {
                            workload: name.clone(),
                            params: params.clone(),
                            threads,
                            warmup: settings.warmup,
                            samples: settings.samples,
                            sched: sched.clone(),
                            adaptive: settings.adaptive,
                        },
                        allocator: allocator.clone(),
                        timeout: settings.timeout,
                    });
                }
            }
        }
    }
    Ok(())
}

fn product(axes: &[(String, Vec<ParamValue>)]) -> Vec<BTreeMap<String, ParamValue>> {
    let mut out = vec![BTreeMap::new()];
    for (name, values) in axes {
        out = out
            .into_iter()
            .flat_map(|base| {
                values.iter().map(move |v| {
                    let mut m = base.clone();
                    m.insert(name.clone(), v.clone());
                    m
                })
            })
            .collect();
    }
    out
}

struct Resolved {
    warmup: usize,
    samples: usize,
    timeout: Duration,
    allocators: Vec<String>,
    threads: Vec<usize>,
    /// None: the cell runs under whatever the harness runs under.
    sched: Vec<Option<gaslab_protocol::SchedSpec>>,
    adaptive: Option<AdaptiveSampling>,
}

impl Resolved {
    fn new(profile: &Profile, i: usize, defaults: &Settings, own: &Settings) -> Result<Self> {
        // The entry's own setting wins; its position is the one to blame.
        let pick = |own_field: &str| format!("matrix[{i}].{own_field}");
        let (warmup, wf) = match (&own.warmup, &defaults.warmup) {
            (Some(v), _) => (Some(v), pick("warmup")),
            (None, d) => (d.as_ref(), "defaults.warmup".into()),
        };
        let (samples, sf) = match (&own.samples, &defaults.samples) {
            (Some(v), _) => (Some(v), pick("samples")),
            (None, d) => (d.as_ref(), "defaults.samples".into()),
        };
        let (timeout, tf) = match (&own.timeout_s, &defaults.timeout_s) {
            (Some(v), _) => (Some(v), pick("timeout_s")),
            (None, d) => (d.as_ref(), "defaults.timeout_s".into()),
        };
        let (allocs, af) = match (&own.allocators, &defaults.allocators) {
            (Some(v), _) => (Some(v), pick("allocators")),
            (None, d) => (d.as_ref(), "defaults.allocators".into()),
        };
        let (threads, thf) = match (&own.threads, &defaults.threads) {
            (Some(v), _) => (Some(v), pick("threads")),
            (None, d) => (d.as_ref(), "defaults.threads".into()),
        };

        let sched = match (&own.sched, &defaults.sched) {
            (Some(v), _) => super::sched::resolve(profile, v, &pick("sched"))?,
            (None, Some(d)) => super::sched::resolve(profile, d, "defaults.sched")?,
            (None, None) => vec![None],
        };

        let warmup = match warmup {
            Some(v) if !(0..=10_000).contains(v.get_ref()) => {
                return Err(profile.error_at(v.span(), wf, "must be between 0 and 10000"))
            }
            Some(v) => *v.get_ref() as usize,
            None => DEFAULT_WARMUP as usize,
        };
        let samples = match samples {
            Some(v) if !(1..=100_000).contains(v.get_ref()) => {
                return Err(profile.error_at(v.span(), sf, "must be between 1 and 100000"))
            }
            Some(v) => *v.get_ref() as usize,
            None => DEFAULT_SAMPLES as usize,
        };
        let timeout = match timeout {
            Some(v) if !(*v.get_ref() > 0.0 && *v.get_ref() <= 86_400.0) => {
                return Err(profile.error_at(v.span(), tf, "must be between 0 and 86400 seconds"))
            }
            Some(v) => Duration::from_secs_f64(*v.get_ref()),
            None => Duration::from_secs_f64(DEFAULT_TIMEOUT_S),
        };
        let allocators = match allocs {
            None => vec!["system".to_string()],
            Some(list) => {
                if list.get_ref().is_empty() {
                    return Err(profile.error_at(list.span(), af, "an empty list plans no cell"));
                }
                let mut out = Vec::new();
                for (j, a) in list.get_ref().iter().enumerate() {
                    if !ALLOCATORS.contains(&a.get_ref().as_str()) {
                        return Err(profile.error_at(
                            a.span(),
                            format!("{af}[{j}]"),
                            format!(
                                "unknown allocator `{}` (known: {})",
                                a.get_ref(),
                                ALLOCATORS.join(", ")
                            ),
                        ));
                    }
                    out.push(a.get_ref().clone());
                }
                out
            }
        };
        let threads = match threads {
            None => vec![1],
            Some(list) => {
                if list.get_ref().is_empty() {
                    return Err(profile.error_at(list.span(), thf, "an empty list plans no cell"));
                }
                let mut out = Vec::new();
                for (j, t) in list.get_ref().iter().enumerate() {
                    if !(1..=1024).contains(t.get_ref()) {
                        return Err(profile.error_at(
                            t.span(),
                            format!("{thf}[{j}]"),
                            "thread count must be between 1 and 1024",
                        ));
                    }
                    out.push(*t.get_ref() as usize);
                }
                out
            }
        };
        let adaptive = resolve_adaptive(profile, i, defaults, own, samples)?;
        Ok(Resolved {
            warmup,
            samples,
            timeout,
            allocators,
            threads,
            sched,
            adaptive,
        })
    }
}

const DEFAULT_MIN_SAMPLES: i64 = 10;

/// `target_ci_pct` turns adaptive sampling on; `min_samples` bounds it below.
fn resolve_adaptive(
    profile: &Profile,
    i: usize,
    defaults: &Settings,
    own: &Settings,
    samples: usize,
) -> Result<Option<AdaptiveSampling>> {
    let pick = |field: &str, own_set: bool| {
        if own_set {
            format!("matrix[{i}].{field}")
        } else {
            format!("defaults.{field}")
        }
    };
    let target = own
        .target_ci_pct
        .as_ref()
        .or(defaults.target_ci_pct.as_ref());
    let min = own.min_samples.as_ref().or(defaults.min_samples.as_ref());
    let Some(target) = target else {
        if let Some(m) = min {
            return Err(profile.error_at(
                m.span(),
                pick("min_samples", own.min_samples.is_some()),
                "min_samples only applies with target_ci_pct (adaptive sampling)",
            ));
        }
        return Ok(None);
    };
    let tf = pick("target_ci_pct", own.target_ci_pct.is_some());
    if !(*target.get_ref() > 0.0 && *target.get_ref() <= 100.0) {
        return Err(profile.error_at(
            target.span(),
            tf,
            "must be a percentage above 0 and at most 100",
        ));
    }
    let min_samples = match min {
        Some(m) if !(6..=samples as i64).contains(m.get_ref()) => {
            return Err(profile.error_at(
                m.span(),
                pick("min_samples", own.min_samples.is_some()),
                format!("must be between 6 (the smallest sample with a 95% interval of the median) and samples ({samples})"),
            ))
        }
        Some(m) => *m.get_ref() as usize,
        None => (DEFAULT_MIN_SAMPLES as usize).min(samples).max(6.min(samples)),
    };
    Ok(Some(AdaptiveSampling {
        ci_half_width_pct: *target.get_ref(),
        min_samples,
    }))
}
