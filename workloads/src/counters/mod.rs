//! perf_event counters around each measured iteration.
//!
//! Software counters (task-clock, context switches, CPU migrations, page
//! faults) are asked for always, hardware ones (cycles, instructions,
//! branch and cache misses) where the PMU has them. Every counter inherits
//! into the threads the workload spawns. A counter the kernel will not open
//! is recorded as unsupported with the kernel's reason and never appears
//! as a zero in the samples.

mod derive;

pub use derive::{derive, Reading};

use perf_event::events::{Event, Hardware, Software};
use perf_event::{Builder, CountAndTime, Counter};
use std::collections::BTreeMap;

/// A counter the lab asks for, with the metric name it is stored under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub metric: &'static str,
    event: Which,
    /// Software events whose count happens in kernel context (a context
    /// switch, a migration) read zero when kernel counting is excluded, so
    /// they must not fall back to user-only counting.
    needs_kernel: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Sw(Software),
    Hw(Hardware),
}

/// Every counter, in the order the lab opens them.
pub const KINDS: &[Kind] = &[
    Kind::sw("task_clock_ns", Software::TASK_CLOCK, false),
    Kind::sw("context_switches", Software::CONTEXT_SWITCHES, true),
    Kind::sw("cpu_migrations", Software::CPU_MIGRATIONS, true),
    Kind::sw("page_faults", Software::PAGE_FAULTS, false),
    Kind::hw("cycles", Hardware::CPU_CYCLES),
    Kind::hw("instructions", Hardware::INSTRUCTIONS),
    Kind::hw("branch_misses", Hardware::BRANCH_MISSES),
    Kind::hw("cache_misses", Hardware::CACHE_MISSES),
];

impl Kind {
    const fn sw(metric: &'static str, e: Software, needs_kernel: bool) -> Self {
        Kind {
            metric,
            event: Which::Sw(e),
            needs_kernel,
        }
    }
    const fn hw(metric: &'static str, e: Hardware) -> Self {
        Kind {
            metric,
            event: Which::Hw(e),
            needs_kernel: false,
        }
    }

    fn event(self) -> Event {
        match self.event {
            Which::Sw(e) => Event::Software(e),
            Which::Hw(e) => Event::Hardware(e),
        }
    }
}

/// How a counter ended up after opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Counted,
    /// Counted in user space only (kernel counting refused).
    UserOnly(String),
    Unsupported(String),
}

impl std::fmt::Display for Availability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Availability::Counted => write!(f, "counted"),
            Availability::UserOnly(why) => write!(f, "counted in user space only: {why}"),
            Availability::Unsupported(why) => write!(f, "unsupported: {why}"),
        }
    }
}

/// The counters of one worker, opened once and reset around each iteration.
pub struct Counters {
    open: Vec<(Kind, Counter)>,
    availability: Vec<(Kind, Availability)>,
    /// Readings at `start`, subtracted at `stop`: a delta needs no reset,
    /// whose reach into inherited per-thread counters varies by kernel.
    baseline: Vec<Option<CountAndTime>>,
}

impl Counters {
    /// Opens every counter it can for this process and the threads it
    /// will create.
    pub fn open() -> Self {
        let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
            .ok()
            .map(|s| s.trim().to_string());
        let mut open = Vec::new();
        let mut availability = Vec::new();
        for &kind in KINDS {
            match build(kind, true) {
                Ok(c) => {
                    open.push((kind, c));
                    availability.push((kind, Availability::Counted));
                }
                Err(e) => {
                    let why = describe_open_error(&e, paranoid.as_deref());
                    let refused = matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM));
                    let fallback = if refused && !kind.needs_kernel {
                        build(kind, false).ok()
                    } else {
                        None
                    };
                    match fallback {
                        Some(c) => {
                            open.push((kind, c));
                            availability.push((kind, Availability::UserOnly(why)));
                        }
                        None => availability.push((kind, Availability::Unsupported(why))),
                    }
                }
            }
        }
        Counters {
            open,
            availability,
            baseline: Vec::new(),
        }
    }

    /// `counter.<metric>` entries saying what was counted and what not, why.
    pub fn info(&self) -> BTreeMap<String, String> {
        self.availability
            .iter()
            .map(|(k, a)| (format!("counter.{}", k.metric), a.to_string()))
            .collect()
    }

    pub fn availability(&self) -> &[(Kind, Availability)] {
        &self.availability
    }

    /// Starts every open counter and notes where it stands.
    pub fn start(&mut self) {
        self.baseline = self
            .open
            .iter_mut()
            .map(|(_, c)| {
                // A counter that cannot be enabled or read is left out below.
                c.enable().ok()?;
                c.read_count_and_time().ok()
            })
            .collect();
    }

    /// Stops the counters and reads them; a counter that cannot be read is
    /// left out rather than reported as zero.
    pub fn stop(&mut self) -> Vec<Reading> {
        for (_, c) in &mut self.open {
            let _ = c.disable();
        }
        self.open
            .iter_mut()
            .zip(&self.baseline)
            .filter_map(|((k, c), before)| {
                let before = before.as_ref()?;
                let after = c.read_count_and_time().ok()?;
                Some(Reading {
                    metric: k.metric,
                    count: after.count.checked_sub(before.count)?,
                    time_enabled_ns: after.time_enabled.checked_sub(before.time_enabled)?,
                    time_running_ns: after.time_running.checked_sub(before.time_running)?,
                })
            })
            .collect()
    }
}

fn build(kind: Kind, with_kernel: bool) -> std::io::Result<Counter> {
    let mut b = Builder::new().kind(kind.event()).observe_self().any_cpu();
    b.inherit(true);
    if with_kernel {
        b.include_kernel();
    } else {
        b.exclude_kernel(true);
    }
    b.build()
}

/// The kernel's refusal in words a reader of a result set understands.
pub fn describe_open_error(e: &std::io::Error, paranoid: Option<&str>) -> String {
    let errno = e.raw_os_error().unwrap_or(0);
    let what = match errno {
        libc::ENOENT => {
            "the kernel has no such event here (ENOENT: no PMU exposes it, as in most VMs)"
                .to_string()
        }
        libc::EOPNOTSUPP => "the PMU does not support it (EOPNOTSUPP)".to_string(),
        libc::ENODEV => "no PMU device (ENODEV)".to_string(),
        libc::EACCES | libc::EPERM => format!(
            "refused by perf_event_paranoid={} ({})",
            paranoid.unwrap_or("unreadable"),
            if errno == libc::EACCES {
                "EACCES"
            } else {
                "EPERM"
            }
        ),
        libc::ENOSYS => "perf_event_open is not available (ENOSYS)".to_string(),
        _ => format!("perf_event_open failed: {e}"),
    };
    what
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_is_either_counted_or_unsupported_with_a_reason() {
        let mut c = Counters::open();
        assert_eq!(c.availability().len(), KINDS.len());
        c.start();
        let v: Vec<u64> = (0..200_000u64).map(|i| i.wrapping_mul(31)).collect();
        std::hint::black_box(&v);
        let readings = c.stop();
        for (kind, a) in c.availability() {
            let read = readings.iter().any(|r| r.metric == kind.metric);
            match a {
                Availability::Counted | Availability::UserOnly(_) => {
                    assert!(read, "{} opened but not read", kind.metric)
                }
                Availability::Unsupported(why) => {
                    assert!(!read, "{} unsupported yet read", kind.metric);
                    assert!(!why.is_empty());
                }
            }
        }
        let info = c.info();
        assert_eq!(info.len(), KINDS.len());
        assert!(info.keys().all(|k| k.starts_with("counter.")));
    }

    #[test]
    fn task_clock_counts_work_where_the_kernel_allows_it() {
        let mut c = Counters::open();
        if !matches!(c.availability()[0].1, Availability::Counted) {
            return; // recorded as unsupported; covered above
        }
        let t = std::time::Instant::now();
        c.start();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        let r = c.stop();
        let wall = t.elapsed().as_nanos() as u64;
        let clock = r.iter().find(|r| r.metric == "task_clock_ns").unwrap();
        // On-CPU time of one thread: more than nothing, never more than
        // the wall time around it (the machine may be busy; no speed is
        // asserted).
        assert!(
            clock.count > 0 && clock.count <= wall,
            "{clock:?} wall {wall}"
        );
    }

    #[test]
    fn refusals_name_the_reason() {
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert!(describe_open_error(&e, Some("2")).contains("ENOENT"));
        let e = std::io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(
            describe_open_error(&e, Some("3")),
            "refused by perf_event_paranoid=3 (EACCES)"
        );
        let e = std::io::Error::from_raw_os_error(libc::EOPNOTSUPP);
        assert!(describe_open_error(&e, None).contains("EOPNOTSUPP"));
    }
}
