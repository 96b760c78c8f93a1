//! Runs the worker under the cell's kernel-scheduler settings and records
//! what the kernel actually granted.
//!
//! Settings are applied to the worker's main thread before the workload
//! exists: Linux copies policy, nice, slice and affinity into every thread
//! created afterwards, so the workload's threads inherit them. After the
//! run every live thread is read back and checked, so a workload that
//! changed its threads' settings cannot pass unnoticed.

mod apply;
mod readback;
mod topology;

pub use apply::apply;
pub use readback::{parse_proc_sched, read_task, ProcSched, TaskSched};
pub use topology::Topology;

use gaslab_protocol::SchedSpec;
use std::collections::BTreeMap;
use std::path::Path;

/// What [`enter`] established.
#[derive(Debug, Clone)]
pub struct Entered {
    /// `sched.*` entries for the cell's record: requested and granted.
    pub info: BTreeMap<String, String>,
    /// The CPUs an affinity resolved to, if one was set.
    pub cpus: Option<Vec<usize>>,
}

/// Applies `spec` to this process (all later threads inherit it) and
/// returns what was read back. A refusal (fifo without privilege, a
/// negative nice ...) is an error that fails the cell: it never silently
/// runs under other settings.
pub fn enter(spec: &SchedSpec, threads: usize) -> Result<Entered, String> {
    let topology = Topology::read(Path::new("/"));
    let requested = apply(spec, threads, &topology)?;
    let granted = read_task(0)?;
    let mut info = BTreeMap::new();
    info.insert("sched.requested".into(), spec.key());
    if let Some(cpus) = &requested.cpus {
        info.insert(
            "sched.requested_cpus".into(),
            gaslab_protocol::sched::format_cpu_list(cpus),
        );
    }
    granted.record(&mut info);
    if let Some(slice) = spec.slice_ns {
        // Kernels before 6.12 accept the field and ignore it for fair tasks.
        let status = match granted.runtime_ns {
            r if r == slice => "applied".to_string(),
            0 => {
                "ignored: the kernel reports no slice (custom slices need Linux 6.12+)".to_string()
            }
            r => format!(
                "adjusted: asked {slice} ns, the kernel set {r} ns (it clamps to 0.1..100 ms)"
            ),
        };
        info.insert("sched.slice_status".into(), status);
    }
    let mismatch = granted.differs_from(spec, requested.cpus.as_deref());
    if let Some(m) = mismatch {
        return Err(format!(
            "scheduler settings did not take: {m} (asked {})",
            spec.key()
        ));
    }
    Ok(Entered {
        info,
        cpus: requested.cpus,
    })
}

/// Reads every live thread of this process back and checks it still runs
/// under `spec`; returns the number of threads checked.
pub fn verify_threads(spec: &SchedSpec, cpus: Option<&[usize]>) -> Result<usize, String> {
    let dir = std::fs::read_dir("/proc/self/task")
        .map_err(|e| format!("cannot list /proc/self/task: {e}"))?;
    let mut checked = 0;
    for entry in dir.flatten() {
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // A thread that ended between listing and reading is not a mismatch.
        let Ok(task) = read_task(tid) else { continue };
        if let Some(m) = task.differs_from(spec, cpus) {
            return Err(format!(
                "thread {tid} no longer runs under the cell's scheduler settings: {m}"
            ));
        }
        checked += 1;
    }
    Ok(checked)
}
