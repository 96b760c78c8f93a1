//! Percentile bootstrap confidence intervals, seeded so a result set's
//! tables are reproducible.

use super::summary::quantile_sorted;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfidenceInterval {
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
    pub level: f64,
}

/// Bootstrap CI of `statistic` over `xs` at `level` (e.g. 0.95) with
/// `resamples` resamples. None for an empty sample.
pub fn bootstrap_ci(
    xs: &[f64],
    statistic: impl Fn(&[f64]) -> f64,
    level: f64,
    resamples: usize,
    seed: u64,
) -> Option<ConfidenceInterval> {
    if xs.is_empty() {
        return None;
    }
    let estimate = statistic(xs);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut buf = vec![0.0; xs.len()];
    let mut stats = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for slot in buf.iter_mut() {
            *slot = xs[rng.random_range(0..xs.len())];
        }
        stats.push(statistic(&buf));
    }
    stats.sort_by(f64::total_cmp);
    let alpha = (1.0 - level) / 2.0;
    Some(ConfidenceInterval {
        estimate,
        lower: quantile_sorted(&stats, alpha),
        upper: quantile_sorted(&stats, 1.0 - alpha),
        level,
    })
}

/// The median, for use as a bootstrap statistic.
pub fn median_of(xs: &[f64]) -> f64 {
    super::median(xs).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_brackets_the_estimate_and_narrows_with_more_data() {
        let small: Vec<f64> = (0..10).map(|i| 100.0 + (i % 5) as f64).collect();
        let large: Vec<f64> = (0..400).map(|i| 100.0 + (i % 5) as f64).collect();
        let a = bootstrap_ci(&small, median_of, 0.95, 2000, 1).unwrap();
        let b = bootstrap_ci(&large, median_of, 0.95, 2000, 1).unwrap();
        assert!(a.lower <= a.estimate && a.estimate <= a.upper);
        assert!(b.upper - b.lower <= a.upper - a.lower);
        assert!(bootstrap_ci(&[], median_of, 0.95, 10, 1).is_none());
    }

    #[test]
    fn constant_data_has_a_zero_width_interval() {
        let ci = bootstrap_ci(&[7.0; 12], median_of, 0.95, 500, 3).unwrap();
        assert_eq!((ci.lower, ci.estimate, ci.upper), (7.0, 7.0, 7.0));
    }
}
