//! Per-cell kernel-scheduler settings: what a profile asks the worker to
//! run under. The worker applies them to itself before any thread exists,
//! so every thread it spawns inherits them, and reports what the kernel
//! actually granted.

use serde::{Deserialize, Serialize};

/// Scheduling policy of the worker and all its threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchedPolicy {
    /// SCHED_OTHER (SCHED_NORMAL): CFS or EEVDF.
    Other,
    /// SCHED_BATCH: fair class, treated as CPU-bound (no wake-up preemption).
    Batch,
    /// SCHED_IDLE: runs only when nothing else wants the CPU.
    Idle,
    /// SCHED_FIFO: real-time; needs CAP_SYS_NICE or an RLIMIT_RTPRIO.
    Fifo,
}

impl SchedPolicy {
    pub const NAMES: &'static [&'static str] = &["other", "batch", "idle", "fifo"];

    pub fn name(self) -> &'static str {
        match self {
            SchedPolicy::Other => "other",
            SchedPolicy::Batch => "batch",
            SchedPolicy::Idle => "idle",
            SchedPolicy::Fifo => "fifo",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "other" => Some(SchedPolicy::Other),
            "batch" => Some(SchedPolicy::Batch),
            "idle" => Some(SchedPolicy::Idle),
            "fifo" => Some(SchedPolicy::Fifo),
            _ => None,
        }
    }
}

/// Which CPUs the worker may run on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "cpus")]
pub enum Affinity {
    /// As many CPUs as the cell has threads, filling SMT siblings of one
    /// core before the next core.
    Compact,
    /// As many CPUs as the cell has threads, one per physical core first,
    /// SMT siblings only once every core has one.
    Spread,
    /// Exactly these CPUs.
    Cpus(Vec<usize>),
}

impl Affinity {
    /// `compact`, `spread` or a CPU list such as `0,2-3`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "compact" => Ok(Affinity::Compact),
            "spread" => Ok(Affinity::Spread),
            list => parse_cpu_list(list).map(Affinity::Cpus),
        }
    }
}

impl std::fmt::Display for Affinity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Affinity::Compact => write!(f, "compact"),
            Affinity::Spread => write!(f, "spread"),
            Affinity::Cpus(cpus) => write!(f, "{}", format_cpu_list(cpus)),
        }
    }
}

/// The scheduler settings of one cell. Every field but the policy is
/// optional: unset means "leave as inherited from the harness".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedSpec {
    pub policy: SchedPolicy,
    /// Nice value, -20..=19 (negative needs privilege).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nice: Option<i32>,
    /// Real-time priority for fifo, 1..=99.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rt_priority: Option<u32>,
    /// EEVDF slice request in ns, passed as sched_attr.sched_runtime
    /// (honoured by Linux 6.12+, which clamps it to 0.1..100 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
}

impl SchedSpec {
    /// The part of a cell key that names these settings.
    pub fn key(&self) -> String {
        let mut parts = vec![format!("policy={}", self.policy.name())];
        if let Some(n) = self.nice {
            parts.push(format!("nice={n}"));
        }
        if let Some(p) = self.rt_priority {
            parts.push(format!("rtprio={p}"));
        }
        if let Some(s) = self.slice_ns {
            parts.push(format!("slice={s}ns"));
        }
        if let Some(a) = &self.affinity {
            parts.push(format!("cpus={a}"));
        }
        parts.join(",")
    }
}

/// Parses the kernel's CPU list format (`0-3,8,10-11`).
pub fn parse_cpu_list(s: &str) -> Result<Vec<usize>, String> {
    let mut cpus = Vec::new();
    let s = s.trim();
    if s.is_empty() {
        return Ok(cpus);
    }
    for part in s.split(',') {
        let part = part.trim();
        let num = |t: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{part}` is not a CPU number or range (like 0,2-3)"))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b || b - a > 65_536 {
                    return Err(format!("`{part}` is not an ascending CPU range"));
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(num(part)?),
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// Formats CPUs in the kernel's list format, ranges folded.
pub fn format_cpu_list(cpus: &[usize]) -> String {
    let mut sorted = cpus.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_round_trip_in_kernel_format() {
        assert_eq!(
            parse_cpu_list("0-3,8,10-11").unwrap(),
            vec![0, 1, 2, 3, 8, 10, 11]
        );
        assert_eq!(format_cpu_list(&[11, 0, 1, 2, 3, 8, 10]), "0-3,8,10-11");
        assert_eq!(parse_cpu_list("").unwrap(), Vec::<usize>::new());
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("a").is_err());
    }

    #[test]
    fn affinity_parses_words_and_lists() {
        assert_eq!(Affinity::parse("compact").unwrap(), Affinity::Compact);
        assert_eq!(Affinity::parse("spread").unwrap(), Affinity::Spread);
        assert_eq!(Affinity::parse("1,3").unwrap(), Affinity::Cpus(vec![1, 3]));
        assert!(Affinity::parse("pinned").is_err());
    }

    #[test]
    fn key_names_only_what_is_set() {
        let s = SchedSpec {
            policy: SchedPolicy::Batch,
            nice: None,
            rt_priority: None,
            slice_ns: Some(3_000_000),
            affinity: Some(Affinity::Cpus(vec![0, 1])),
        };
        assert_eq!(s.key(), "policy=batch,slice=3000000ns,cpus=0-1");
    }
}
