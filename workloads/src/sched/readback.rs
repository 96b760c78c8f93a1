//! Reading back what the kernel granted a thread: sched_getattr,
//! sched_getaffinity, and /proc/<pid>/task/<tid>/sched as a second witness.

use super::apply::{current_affinity, policy_number, SchedAttr};
use gaslab_protocol::sched::format_cpu_list;
use gaslab_protocol::{SchedPolicy, SchedSpec};
use std::collections::BTreeMap;

/// One thread's scheduler state as the kernel reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSched {
    pub policy: u32,
    pub nice: i32,
    pub rt_priority: u32,
    /// sched_attr.sched_runtime: the EEVDF slice on Linux 6.12+, else 0.
    pub runtime_ns: u64,
    pub cpus: Vec<usize>,
    /// The same facts from /proc, where the kernel exposes them.
    pub proc: Option<ProcSched>,
}

/// The fields of /proc/<pid>/sched the lab cares about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcSched {
    pub policy: Option<u32>,
    pub prio: Option<i64>,
    pub slice_ns: Option<u64>,
    pub nr_migrations: Option<u64>,
    pub nr_switches: Option<u64>,
    pub nr_voluntary_switches: Option<u64>,
    pub nr_involuntary_switches: Option<u64>,
}

/// Parses the `name : value` lines of /proc/<pid>/sched (CONFIG_SCHED_DEBUG).
pub fn parse_proc_sched(text: &str) -> ProcSched {
    let mut p = ProcSched::default();
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let int = || value.parse::<u64>().ok();
        match name.trim() {
            "policy" => p.policy = value.parse().ok(),
            "prio" => p.prio = value.parse().ok(),
            "se.slice" => p.slice_ns = int(),
            "se.nr_migrations" => p.nr_migrations = int(),
            "nr_switches" => p.nr_switches = int(),
            "nr_voluntary_switches" => p.nr_voluntary_switches = int(),
            "nr_involuntary_switches" => p.nr_involuntary_switches = int(),
            _ => {}
        }
    }
    p
}

/// Reads thread `tid` of this process (0: the calling thread).
pub fn read_task(tid: i32) -> Result<TaskSched, String> {
    let mut attr = SchedAttr::default();
    // SAFETY: the kernel writes at most `size` bytes into the struct we own.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sched_getattr,
            tid,
            &mut attr as *mut SchedAttr,
            std::mem::size_of::<SchedAttr>() as u32,
            0u32,
        )
    };
    if rc != 0 {
        return Err(format!(
            "sched_getattr({tid}): {}",
            std::io::Error::last_os_error()
        ));
    }
    let path = if tid == 0 {
        "/proc/thread-self/sched".to_string()
    } else {
        format!("/proc/self/task/{tid}/sched")
    };
    Ok(TaskSched {
        policy: attr.policy,
        nice: attr.nice,
        rt_priority: attr.priority,
        runtime_ns: attr.runtime,
        cpus: current_affinity(tid)?,
        proc: std::fs::read_to_string(path)
            .ok()
            .map(|t| parse_proc_sched(&t)),
    })
}

pub(super) fn policy_name(n: u32) -> String {
    match n as i32 {
        libc::SCHED_OTHER => "other".into(),
        libc::SCHED_BATCH => "batch".into(),
        libc::SCHED_IDLE => "idle".into(),
        libc::SCHED_FIFO => "fifo".into(),
        libc::SCHED_RR => "rr".into(),
        6 => "deadline".into(),
        7 => "ext".into(),
        n => format!("policy {n}"),
    }
}

impl TaskSched {
    /// What differs from `spec`, in words; None when everything took.
    pub fn differs_from(&self, spec: &SchedSpec, cpus: Option<&[usize]>) -> Option<String> {
        let want = policy_number(spec.policy);
        // With sched_ext active the kernel may report SCHED_EXT for tasks
        // that asked for a fair policy; that is the machine's scheduler,
        // recorded in the fingerprint, not a refusal.
        if self.policy != want && !(self.policy == 7 && spec.policy != SchedPolicy::Fifo) {
            return Some(format!(
                "policy is {}, not {}",
                policy_name(self.policy),
                spec.policy.name()
            ));
        }
        if spec.policy == SchedPolicy::Fifo {
            let p = spec.rt_priority.unwrap_or(1);
            if self.rt_priority != p {
                return Some(format!("rt priority is {}, not {p}", self.rt_priority));
            }
        } else if let Some(n) = spec.nice {
            if self.nice != n {
                return Some(format!("nice is {}, not {n}", self.nice));
            }
        }
        if let Some(c) = cpus {
            if self.cpus != c {
                return Some(format!(
                    "CPUs are {}, not {}",
                    format_cpu_list(&self.cpus),
                    format_cpu_list(c)
                ));
            }
        }
        None
    }

    /// Adds `sched.*` entries for the cell's record.
    pub fn record(&self, info: &mut BTreeMap<String, String>) {
        info.insert("sched.policy".into(), policy_name(self.policy));
        info.insert("sched.nice".into(), self.nice.to_string());
        info.insert("sched.rt_priority".into(), self.rt_priority.to_string());
        info.insert("sched.runtime_ns".into(), self.runtime_ns.to_string());
        info.insert("sched.cpus".into(), format_cpu_list(&self.cpus));
        match &self.proc {
            None => {
                info.insert("sched.proc".into(), "unreadable".into());
            }
            Some(p) => {
                let mut put = |k: &str, v: Option<String>| {
                    info.insert(format!("sched.proc.{k}"), v.unwrap_or("absent".into()));
                };
                put("policy", p.policy.map(policy_name));
                put("prio", p.prio.map(|v| v.to_string()));
                put("slice_ns", p.slice_ns.map(|v| v.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from /proc/self/sched on Linux 6.18 (EEVDF) after
    /// sched_setattr(SCHED_BATCH, nice 5, runtime 3 ms).
    const EEVDF_BATCH: &str = "\
worker-system (28770, #threads: 1)
-------------------------------------------------------------------
se.exec_start                                :       1525544.368520
se.vruntime                                  :           231.671211
se.sum_exec_runtime                          :             0.880253
se.nr_migrations                             :                    4
nr_switches                                  :                   17
nr_voluntary_switches                        :                    9
nr_involuntary_switches                      :                    8
se.load.weight                               :               344064
policy                                       :                    3
prio                                         :                  125
se.slice                                     :              3000000
clock-delta                                  :                   80
";

    #[test]
    fn proc_sched_text_parses() {
        let p = parse_proc_sched(EEVDF_BATCH);
        assert_eq!(p.policy, Some(3));
        assert_eq!(p.prio, Some(125));
        assert_eq!(p.slice_ns, Some(3_000_000));
        assert_eq!(p.nr_migrations, Some(4));
        assert_eq!(p.nr_switches, Some(17));
        assert_eq!(p.nr_involuntary_switches, Some(8));
    }

    #[test]
    fn a_cfs_kernel_has_no_slice_line() {
        let cfs = EEVDF_BATCH.replace("se.slice", "se.unrelated");
        assert_eq!(parse_proc_sched(&cfs).slice_ns, None);
    }
}
