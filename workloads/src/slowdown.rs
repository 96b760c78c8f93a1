//! Injected slowdown for self-calibration: a known amount of real CPU work
//! added to every measured iteration, so the lab can measure whether it
//! detects a change of that size. Work, not sleep: a sleeping thread frees
//! the core and hides exactly the contention a real regression suffers.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The extra work one measured iteration does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InjectedWork {
    /// Spin units per iteration.
    pub units: u64,
    /// What those units should cost, in ns: `pct` of the warm-up median.
    pub target_ns: f64,
}

impl InjectedWork {
    /// Sized from the warm-up iterations' own times and a measured cost per
    /// spin unit. None for a zero slowdown or no warm-up.
    pub fn calibrate(pct: f64, warmup_ns: &[u64]) -> Option<Self> {
        if pct <= 0.0 || warmup_ns.is_empty() {
            return None;
        }
        Some(Self::sized(pct, warmup_ns, ns_per_unit()))
    }

    /// The work for `pct` of the fastest warm-up iteration at `unit_ns` per
    /// unit. The fastest, as for the unit cost: the first iteration runs
    /// cold and a busy machine only ever adds time, so the minimum is the
    /// best estimate of the iteration's own cost.
    fn sized(pct: f64, warmup_ns: &[u64], unit_ns: f64) -> Self {
        let iteration_ns = *warmup_ns.iter().min().expect("not empty") as f64;
        let target_ns = iteration_ns * pct / 100.0;
        let units = (target_ns / unit_ns).round().max(1.0) as u64;
        Self { units, target_ns }
    }

    pub fn run(&self) {
        black_box(spin(self.units));
    }
}

/// A dependent xorshift chain: each step needs the last, so the compiler
/// can neither vectorise nor remove it.
pub fn spin(units: u64) -> u64 {
    let mut x = black_box(0x9e37_79b9_7f4a_7c15u64);
    for _ in 0..units {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// Cost of one spin unit: the fastest of a few timed runs of at least
/// 5 ms, since interruptions only ever make a run slower.
fn ns_per_unit() -> f64 {
    let mut units = 1u64 << 16;
    let mut elapsed = Duration::ZERO;
    while elapsed < Duration::from_millis(5) {
        units *= 2;
        let start = Instant::now();
        black_box(spin(units));
        elapsed = start.elapsed();
    }
    let mut best = elapsed;
    for _ in 0..4 {
        let start = Instant::now();
        black_box(spin(units));
        best = best.min(start.elapsed());
    }
    best.as_nanos() as f64 / units as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_work_for_no_slowdown() {
        assert_eq!(InjectedWork::calibrate(0.0, &[1_000_000]), None);
        assert_eq!(InjectedWork::calibrate(5.0, &[]), None);
    }

    #[test]
    fn units_scale_with_the_percentage_and_the_fastest_warmup_time() {
        let small = InjectedWork::sized(1.0, &[10_000_000; 3], 2.0);
        assert_eq!((small.target_ns, small.units), (100_000.0, 50_000));
        // The fastest warm-up, not the cold first one.
        let big = InjectedWork::sized(5.0, &[50_000_000, 10_000_000, 12_000_000], 2.0);
        assert_eq!((big.target_ns, big.units), (500_000.0, 250_000));
        assert!(InjectedWork::calibrate(3.0, &[1_000_000]).unwrap().units >= 1);
    }

    #[test]
    fn spin_does_the_work_it_is_asked() {
        assert_ne!(spin(1), spin(2));
        assert_eq!(spin(1000), spin(1000));
    }
}
