//! How much faster or slower: the ratio of two medians, with a bootstrap
//! confidence interval.

use crate::aggregate::median_in_place;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RatioEstimate {
    /// median(candidate) / median(baseline).
    pub ratio: f64,
    pub lower: f64,
    pub upper: f64,
    pub level: f64,
}

/// median(candidate) / median(baseline) with a percentile bootstrap
/// interval at `level`: each resample draws both samples independently
/// with replacement. Seeded, so a report is reproducible. None if either
/// sample is empty or the baseline median is not positive.
pub fn ratio_of_medians(
    baseline: &[f64],
    candidate: &[f64],
    level: f64,
    resamples: usize,
    seed: u64,
) -> Option<RatioEstimate> {
    if baseline.is_empty() || candidate.is_empty() {
        return None;
    }
    let base = median_in_place(&mut baseline.to_vec());
    if base.is_nan() || base <= 0.0 {
        return None;
    }
    let ratio = median_in_place(&mut candidate.to_vec()) / base;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut a = vec![0.0; baseline.len()];
    let mut b = vec![0.0; candidate.len()];
    let mut ratios = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for slot in a.iter_mut() {
            *slot = baseline[rng.random_range(0..baseline.len())];
        }
        for slot in b.iter_mut() {
            *slot = candidate[rng.random_range(0..candidate.len())];
        }
        let m = median_in_place(&mut a);
        if m > 0.0 {
            ratios.push(median_in_place(&mut b) / m);
        }
    }
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some(RatioEstimate {
        ratio,
        lower: quantile_sorted(&ratios, tail),
        upper: quantile_sorted(&ratios, 1.0 - tail),
        level,
    })
}

fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(center: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| center * (1.0 + rng.random_range(-0.01..0.01)))
            .collect()
    }

    #[test]
    fn a_ten_percent_slowdown_is_bracketed() {
        let a = noisy(100.0, 30, 1);
        let b = noisy(90.0, 30, 2);
        let r = ratio_of_medians(&a, &b, 0.95, 2000, 7).unwrap();
        assert!(r.lower <= r.ratio && r.ratio <= r.upper);
        assert!(r.lower > 0.88 && r.upper < 0.92, "{r:?}");
    }

    #[test]
    fn identical_samples_give_one_and_a_zero_width_interval_for_constants() {
        let r = ratio_of_medians(&[4.0; 10], &[4.0; 10], 0.95, 500, 1).unwrap();
        assert_eq!((r.lower, r.ratio, r.upper), (1.0, 1.0, 1.0));
        let a = noisy(50.0, 20, 3);
        let r = ratio_of_medians(&a, &a, 0.95, 2000, 1).unwrap();
        assert_eq!(r.ratio, 1.0);
        assert!(r.lower < 1.0 && r.upper > 1.0, "{r:?}");
    }

    #[test]
    fn empty_or_zero_baselines_have_no_ratio() {
        assert!(ratio_of_medians(&[], &[1.0], 0.95, 10, 1).is_none());
        assert!(ratio_of_medians(&[0.0, 0.0], &[1.0], 0.95, 10, 1).is_none());
    }
}
