//! sched_setattr and sched_setaffinity on the calling thread.

use super::topology::Topology;
use gaslab_protocol::{Affinity, SchedPolicy, SchedSpec};

/// `struct sched_attr` as the kernel defines it (SCHED_ATTR_SIZE_VER1).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct SchedAttr {
    pub size: u32,
    pub policy: u32,
    pub flags: u64,
    pub nice: i32,
    pub priority: u32,
    pub runtime: u64,
    pub deadline: u64,
    pub period: u64,
    pub util_min: u32,
    pub util_max: u32,
}

/// The first version of the struct: enough for policy, nice and runtime,
/// and accepted by every kernel since 3.14.
const SCHED_ATTR_SIZE_VER0: u32 = 48;

pub(super) fn policy_number(p: SchedPolicy) -> u32 {
    (match p {
        SchedPolicy::Other => libc::SCHED_OTHER,
        SchedPolicy::Batch => libc::SCHED_BATCH,
        SchedPolicy::Idle => libc::SCHED_IDLE,
        SchedPolicy::Fifo => libc::SCHED_FIFO,
    }) as u32
}

/// What [`apply`] asked of the kernel beyond the spec itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Requested {
    /// The CPUs an affinity resolved to, if one was set.
    pub cpus: Option<Vec<usize>>,
}

/// Applies `spec` to the calling thread. Affinity first (a thread pinned
/// before it turns real-time cannot starve the CPU the harness runs on).
pub fn apply(spec: &SchedSpec, threads: usize, topology: &Topology) -> Result<Requested, String> {
    let cpus = match &spec.affinity {
        None => None,
        Some(a) => {
            let allowed = current_affinity(0)?;
            let cpus = match a {
                Affinity::Compact => topology.compact(threads, &allowed),
                Affinity::Spread => topology.spread(threads, &allowed),
                Affinity::Cpus(list) => {
                    if let Some(bad) = list.iter().find(|c| !allowed.contains(c)) {
                        return Err(format!(
                            "affinity asks for CPU {bad}, but this worker may only use CPUs {}",
                            gaslab_protocol::sched::format_cpu_list(&allowed)
                        ));
                    }
                    list.clone()
                }
            };
            if cpus.is_empty() {
                return Err(format!("affinity `{a}` resolved to no CPU"));
            }
            set_affinity(&cpus)?;
            Some(cpus)
        }
    };
    let rt = spec.policy == SchedPolicy::Fifo;
    let mut attr = SchedAttr {
        size: SCHED_ATTR_SIZE_VER0,
        policy: policy_number(spec.policy),
        nice: if rt { 0 } else { spec.nice.unwrap_or(0) },
        priority: if rt { spec.rt_priority.unwrap_or(1) } else { 0 },
        runtime: if rt { 0 } else { spec.slice_ns.unwrap_or(0) },
        ..SchedAttr::default()
    };
    if spec.nice.is_none() && !rt {
        attr.nice = current_nice();
    }
    // SAFETY: the kernel reads `size` bytes of a struct we own.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sched_setattr,
            0,
            &mut attr as *mut SchedAttr,
            0u32,
        )
    };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        let hint = match err.raw_os_error() {
            Some(libc::EPERM) if rt => {
                " (SCHED_FIFO needs CAP_SYS_NICE or a non-zero RLIMIT_RTPRIO)"
            }
            Some(libc::EPERM) => " (a negative nice needs CAP_SYS_NICE or RLIMIT_NICE)",
            Some(libc::EINVAL) => " (the kernel rejected the combination)",
            _ => "",
        };
        return Err(format!(
            "scheduler settings {} refused by the kernel: {err}{hint}; the cell is not run under another policy",
            spec.key()
        ));
    }
    Ok(Requested { cpus })
}

fn current_nice() -> i32 {
    // getpriority can legitimately return -1; errno tells the difference.
    // SAFETY: plain syscall; errno is thread-local.
    unsafe {
        *libc::__errno_location() = 0;
        libc::getpriority(libc::PRIO_PROCESS, 0)
    }
}

pub(super) fn current_affinity(tid: i32) -> Result<Vec<usize>, String> {
    // SAFETY: cpu_set_t is plain data; the kernel fills the one we own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(format!(
                "sched_getaffinity({tid}): {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok((0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect())
    }
}

fn set_affinity(cpus: &[usize]) -> Result<(), String> {
    // SAFETY: as above.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus {
            if c >= libc::CPU_SETSIZE as usize {
                return Err(format!("CPU {c} is beyond what a cpu_set_t holds"));
            }
            libc::CPU_SET(c, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(format!(
                "sched_setaffinity to CPUs {}: {}",
                gaslab_protocol::sched::format_cpu_list(cpus),
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}
