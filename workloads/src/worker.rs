//! The worker loop: read a cell spec on stdin, set up the workload, run
//! warm-up and measured iterations, print one JSON line per event.

use crate::allocator::AllocatorProbe;
use crate::counters::{self, Counters};
use crate::registry;
use crate::sched;
use crate::slowdown::InjectedWork;
use gaslab_protocol::{CellSpec, Sample, WorkerBuild, WorkerMessage, PROTOCOL_VERSION};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Instant;

/// Entry point of every `worker-<allocator>` binary.
///
/// `--identify` prints the hello line (allocator identity and build) and
/// exits; `replay <args>` replays mainnet blocks (see
/// `gaslab_mainnet::replay`); otherwise the cell spec is read from stdin.
pub fn main(probe: AllocatorProbe) -> ! {
    // `worker-<allocator> replay ...`: mainnet replay under this allocator,
    // exec'd by `gaslab replay` (the harness links no workload).
    if std::env::args().nth(1).as_deref() == Some("replay") {
        exit(gaslab_mainnet::replay::main(std::env::args().skip(2)));
    }
    let identify_only = std::env::args().any(|a| a == "--identify");
    emit(&hello(&probe));
    if identify_only {
        exit(0);
    }
    match run_cell(&probe) {
        Ok(()) => exit(0),
        Err(message) => {
            emit(&WorkerMessage::Error { message });
            exit(1);
        }
    }
}

/// Ends the worker, its output flushed, without the process's exit-time
/// finalisers. rpmalloc's (`rpmalloc_finalize`, run from `.fini_array`)
/// walks every thread's heap while the threads of a pool the workload just
/// dropped are still finalising their own: the two met in one heap and
/// crashed 16 of 300 two-thread `prove.keccak` workers after their `done`
/// line. Nothing a worker owes the harness is left to those finalisers.
fn exit(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process at once; no Rust state outlives it.
    unsafe { libc::_exit(code) }
}

fn hello(probe: &AllocatorProbe) -> WorkerMessage {
    WorkerMessage::Hello {
        protocol: PROTOCOL_VERSION,
        pid: std::process::id(),
        allocator: (probe.identify)(),
        build: build_info(),
    }
}

pub fn build_info() -> WorkerBuild {
    let crates = env!("GASLAB_CRATES")
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    WorkerBuild {
        rustc: env!("GASLAB_RUSTC").to_string(),
        target: env!("GASLAB_TARGET").to_string(),
        rustflags: env!("GASLAB_RUSTFLAGS").to_string(),
        profile: env!("GASLAB_PROFILE").to_string(),
        crates,
    }
}

fn run_cell(probe: &AllocatorProbe) -> Result<(), String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("reading the cell spec from stdin: {e}"))?;
    let spec: CellSpec =
        serde_json::from_str(&input).map_err(|e| format!("malformed cell spec: {e}"))?;

    // Before the workload exists, so every thread it spawns inherits them.
    let entered = match &spec.sched {
        Some(s) => Some(sched::enter(s, spec.threads)?),
        None => None,
    };
    let mut counters = Counters::open();

    let start = Instant::now();
    let mut workload = registry::build(&spec).map_err(|e| e.to_string())?;
    let mut info = workload.info();
    info.extend(counters.info());
    if let Some(e) = &entered {
        info.extend(e.info.clone());
    }
    emit(&WorkerMessage::Setup {
        setup_ns: start.elapsed().as_nanos() as u64,
        info,
    });

    let slowdown_pct = slowdown_pct(&spec)?;
    let mut warmup_ns: Vec<u64> = Vec::with_capacity(spec.warmup);
    let mut injected: Option<InjectedWork> = None;
    let mut measured_ns: Vec<f64> = Vec::with_capacity(spec.samples);
    let mut first_digest: Option<String> = None;
    for index in 0..spec.warmup + spec.samples {
        if index == spec.warmup {
            // Sized on this cell's own warm-up, once, before measuring.
            injected = InjectedWork::calibrate(slowdown_pct, &warmup_ns);
        }
        workload
            .before_iteration()
            .map_err(|e| format!("before iteration {index}: {e}"))?;
        counters.start();
        let start = Instant::now();
        let it = workload
            .iterate()
            .map_err(|e| format!("iteration {index}: {e}"));
        if it.is_ok() {
            if let Some(work) = &injected {
                work.run();
            }
        }
        let wall_ns = start.elapsed().as_nanos() as u64;
        let readings = counters.stop();
        let mut it = it?;
        let (gas, work_units) = (it.gas, it.work_units);
        let mut metrics = std::mem::take(&mut it.metrics);
        for (name, value) in counters::derive(&readings, wall_ns) {
            metrics.entry(name).or_insert(value);
        }
        if index < spec.warmup {
            warmup_ns.push(wall_ns);
        } else {
            measured_ns.push(wall_ns as f64);
            if let Some(work) = &injected {
                metrics.insert("slowdown_target_ns".into(), work.target_ns);
            }
        }
        let digest = it.digest().map_err(|e| format!("iteration {index}: {e}"))?;
        // Every iteration must produce the same result, or nothing it
        // measured can be trusted.
        match &first_digest {
            None => first_digest = Some(digest.clone()),
            Some(d) if *d != digest => {
                return Err(format!(
                    "iteration {index} produced digest {digest} but iteration 0 produced {d}"
                ))
            }
            Some(_) => {}
        }
        emit(&WorkerMessage::Sample(Sample {
            index,
            warmup: index < spec.warmup,
            wall_ns,
            gas,
            work_units,
            digest,
            peak_rss_bytes: peak_rss_bytes(),
            metrics,
        }));
        if precise_enough(&spec, &measured_ns) {
            break;
        }
    }
    if let (Some(s), Some(e)) = (&spec.sched, &entered) {
        sched::verify_threads(s, e.cpus.as_deref())?;
    }
    emit(&WorkerMessage::Done {
        allocator_stats: (probe.stats)(),
    });
    Ok(())
}

/// The injected slowdown the cell asks for, in percent (0 when absent).
fn slowdown_pct(spec: &CellSpec) -> Result<f64, String> {
    let pct = spec.float("slowdown_pct").unwrap_or(0.0);
    if !(0.0..=1000.0).contains(&pct) {
        return Err(format!(
            "parameter `slowdown_pct`: {pct} is outside 0..=1000"
        ));
    }
    if pct > 0.0 && spec.warmup == 0 {
        return Err(
            "parameter `slowdown_pct` needs at least one warm-up iteration to size the injected work on"
                .into(),
        );
    }
    Ok(pct)
}

/// Adaptive sampling: enough once the 95% interval of the median iteration
/// time is as narrow as the cell asks. Wall time, not gas/s, so workloads
/// without gas stop the same way.
fn precise_enough(spec: &CellSpec, measured_ns: &[f64]) -> bool {
    let Some(adaptive) = spec.adaptive else {
        return false;
    };
    measured_ns.len() >= adaptive.min_samples
        && gaslab_stats::median_interval(measured_ns, 0.95)
            .is_some_and(|ci| ci.relative_half_width() * 100.0 <= adaptive.ci_half_width_pct)
}

fn emit(msg: &WorkerMessage) {
    let mut out = std::io::stdout().lock();
    let line = serde_json::to_string(msg).expect("worker messages serialize");
    // A closed pipe means the harness is gone; nothing left to report to.
    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
        drop(out);
        exit(3);
    }
}

/// The process's resource usage so far, all threads.
fn usage() -> Option<libc::rusage> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct we own.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    // SAFETY: initialised by the successful call.
    (rc == 0).then(|| unsafe { usage.assume_init() })
}

/// The process's peak resident set so far (getrusage ru_maxrss, in KiB on Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    usage().map(|u| u.ru_maxrss as u64 * 1024)
}

/// The page faults the process has taken so far, minor and major.
pub fn page_faults() -> Option<u64> {
    usage().map(|u| (u.ru_minflt + u.ru_majflt) as u64)
}

/// Turns a map of named sizes into the stats map, dropping nothing.
pub fn stats_map(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
    entries.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}
