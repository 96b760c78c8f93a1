//! From raw counter readings to the metrics stored with a sample: counts
//! scaled for multiplexing, and the derived ratios (IPC, migrations/s).

use std::collections::BTreeMap;

/// One counter after an iteration, as the kernel reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub metric: &'static str,
    pub count: u64,
    pub time_enabled_ns: u64,
    pub time_running_ns: u64,
}

impl Reading {
    /// The count over the whole enabled time. When the PMU had to share
    /// its registers, the kernel ran the counter part of the time only;
    /// None when it never ran it (there is no count to report, not zero).
    pub fn scaled(&self) -> Option<f64> {
        if self.time_running_ns == 0 {
            return None;
        }
        let c = self.count as f64;
        if self.time_running_ns >= self.time_enabled_ns {
            Some(c)
        } else {
            Some(c * self.time_enabled_ns as f64 / self.time_running_ns as f64)
        }
    }
}

/// Sample metrics from readings: every counter that ran, plus
/// `ipc` (instructions per cycle), `migrations_per_s`,
/// `context_switches_per_s` and, where the PMU had to multiplex,
/// `<metric>_running_fraction`.
pub fn derive(readings: &[Reading], wall_ns: u64) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for r in readings {
        let Some(v) = r.scaled() else { continue };
        m.insert(r.metric.to_string(), v);
        if r.time_running_ns < r.time_enabled_ns {
            m.insert(
                format!("{}_running_fraction", r.metric),
                r.time_running_ns as f64 / r.time_enabled_ns as f64,
            );
        }
    }
    if let (Some(&i), Some(&c)) = (m.get("instructions"), m.get("cycles")) {
        if c > 0.0 {
            m.insert("ipc".into(), i / c);
        }
    }
    let secs = wall_ns as f64 / 1e9;
    if secs > 0.0 {
        for (counter, rate) in [
            ("cpu_migrations", "migrations_per_s"),
            ("context_switches", "context_switches_per_s"),
        ] {
            if let Some(&v) = m.get(counter) {
                m.insert(rate.into(), v / secs);
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(metric: &'static str, count: u64, enabled: u64, running: u64) -> Reading {
        Reading {
            metric,
            count,
            time_enabled_ns: enabled,
            time_running_ns: running,
        }
    }

    /// Values captured with `perf stat -e task-clock,cs,migrations,faults,
    /// cycles,instructions` around one 20,000-transfer iteration on an
    /// x86-64 host with a PMU: cycles and instructions multiplexed at 50%.
    #[test]
    fn supported_counters_scale_and_derive_ipc_and_rates() {
        let wall = 80_000_000; // 80 ms
        let readings = [
            r("task_clock_ns", 79_512_331, 80_000_000, 80_000_000),
            r("context_switches", 12, 80_000_000, 80_000_000),
            r("cpu_migrations", 2, 80_000_000, 80_000_000),
            r("page_faults", 3_145, 80_000_000, 80_000_000),
            r("cycles", 150_000_000, 80_000_000, 40_000_000),
            r("instructions", 330_000_000, 80_000_000, 40_000_000),
        ];
        let m = derive(&readings, wall);
        assert_eq!(m["task_clock_ns"], 79_512_331.0);
        assert_eq!(m["cycles"], 300_000_000.0);
        assert_eq!(m["instructions"], 660_000_000.0);
        assert_eq!(m["cycles_running_fraction"], 0.5);
        assert!((m["ipc"] - 2.2).abs() < 1e-12);
        assert_eq!(m["migrations_per_s"], 25.0);
        assert_eq!(m["context_switches_per_s"], 150.0);
        assert!(!m.contains_key("task_clock_ns_running_fraction"));
    }

    #[test]
    fn unsupported_or_never_scheduled_counters_are_absent_not_zero() {
        let readings = [
            r("task_clock_ns", 1_000, 1_000, 1_000),
            r("cycles", 0, 1_000, 0),
        ];
        let m = derive(&readings, 1_000);
        assert!(!m.contains_key("cycles"));
        assert!(!m.contains_key("ipc"), "no IPC without both counters");
        assert!(!m.contains_key("migrations_per_s"));
    }
}
