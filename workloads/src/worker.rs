//! The worker loop: read a cell spec on stdin, set up the workload, run
//! warm-up and measured iterations, print one JSON line per event.

use crate::allocator::AllocatorProbe;
use crate::registry;
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
        std::process::exit(gaslab_mainnet::replay::main(std::env::args().skip(2)));
    }
    let identify_only = std::env::args().any(|a| a == "--identify");
    emit(&hello(&probe));
    if identify_only {
        std::process::exit(0);
    }
    match run_cell(&probe) {
        Ok(()) => std::process::exit(0),
        Err(message) => {
            emit(&WorkerMessage::Error { message });
            std::process::exit(1);
        }
    }
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

    let start = Instant::now();
    let mut workload = registry::build(&spec).map_err(|e| e.to_string())?;
    emit(&WorkerMessage::Setup {
        setup_ns: start.elapsed().as_nanos() as u64,
        info: workload.info(),
    });

    let mut first_digest: Option<String> = None;
    for index in 0..spec.warmup + spec.samples {
        let start = Instant::now();
        let it = workload
            .iterate()
            .map_err(|e| format!("iteration {index}: {e}"))?;
        let wall_ns = start.elapsed().as_nanos() as u64;
        // Every iteration must produce the same result, or nothing it
        // measured can be trusted.
        match &first_digest {
            None => first_digest = Some(it.digest.clone()),
            Some(d) if *d != it.digest => {
                return Err(format!(
                    "iteration {index} produced digest {} but iteration 0 produced {d}",
                    it.digest
                ))
            }
            Some(_) => {}
        }
        emit(&WorkerMessage::Sample(Sample {
            index,
            warmup: index < spec.warmup,
            wall_ns,
            gas: it.gas,
            work_units: it.work_units,
            digest: it.digest,
            peak_rss_bytes: peak_rss_bytes(),
            metrics: it.metrics,
        }));
    }
    emit(&WorkerMessage::Done {
        allocator_stats: (probe.stats)(),
    });
    Ok(())
}

fn emit(msg: &WorkerMessage) {
    let mut out = std::io::stdout().lock();
    let line = serde_json::to_string(msg).expect("worker messages serialize");
    // A closed pipe means the harness is gone; nothing left to report to.
    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
        std::process::exit(3);
    }
}

/// The process's peak resident set so far (getrusage ru_maxrss, in KiB on Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct we own.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: initialised by the successful call above.
    let usage = unsafe { usage.assume_init() };
    Some(usage.ru_maxrss as u64 * 1024)
}

/// Turns a map of named sizes into the stats map, dropping nothing.
pub fn stats_map(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
    entries.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}
