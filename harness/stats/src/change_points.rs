//! Change-point detection by E-Divisive means (Matteson & James, 2014)
//! with a permutation significance test, as used for nightly performance
//! series by MongoDB ("Change Point Detection in Software Performance
//! Testing", Daly et al., ICPE 2020) and Apache Otava (formerly Hunter).
//!
//! Hierarchical: find the split of a segment that maximises the energy
//! statistic q-hat, test it against the same statistic on permutations of
//! the segment, and if significant split there and repeat on the parts.
//! Long series are cut into overlapping windows (Otava's `window_len`) so
//! an old regime does not mask a recent change and the cost stays bounded.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EDivisiveConfig {
    /// Points per analysis window; windows overlap by half.
    pub window: usize,
    /// A split is a change point when its permutation p-value is at most this.
    pub p_value: f64,
    /// Permutations per significance test; the smallest p-value it can
    /// report is 1 / (permutations + 1).
    pub permutations: usize,
    /// Fewest points on either side of a change point.
    pub min_size: usize,
    /// Seeds the permutations, so a history is reproducible.
    pub seed: u64,
}

impl Default for EDivisiveConfig {
    /// Window and permutations as Otava's defaults; p-value 0.001 so a
    /// stationary series raises a false alarm about once in a thousand
    /// tests, which a nightly alert can afford.
    fn default() -> Self {
        Self {
            window: 50,
            p_value: 0.001,
            permutations: 999,
            min_size: 3,
            seed: 0x0e_d1_71_5e,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChangePoint {
    /// Index of the first point of the new regime.
    pub index: usize,
    /// Permutation p-value of the split.
    pub p_value: f64,
    /// The energy statistic q-hat at the split.
    pub statistic: f64,
}

/// Change points of `series`, in index order.
pub fn e_divisive(series: &[f64], config: &EDivisiveConfig) -> Vec<ChangePoint> {
    let min_size = config.min_size.max(2);
    let window = config.window.max(2 * min_size + 1);
    let n = series.len();
    if n < 2 * min_size {
        return Vec::new();
    }
    let mut found: Vec<ChangePoint> = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + window).min(n);
        let start_here = end.saturating_sub(window);
        for cp in hierarchical(&series[start_here..end], config, min_size, start_here) {
            found.push(cp);
        }
        if end == n {
            break;
        }
        start += window / 2;
    }
    merge(found, min_size)
}

/// Overlapping windows find the same change more than once, perhaps a
/// point apart: keep the most significant of any close group.
fn merge(mut found: Vec<ChangePoint>, min_size: usize) -> Vec<ChangePoint> {
    found.sort_by_key(|c| c.index);
    let mut out: Vec<ChangePoint> = Vec::new();
    for cp in found {
        match out.last_mut() {
            Some(last) if cp.index < last.index + min_size => {
                let better = cp.p_value < last.p_value
                    || (cp.p_value == last.p_value && cp.statistic > last.statistic);
                if better {
                    *last = cp;
                }
            }
            _ => out.push(cp),
        }
    }
    out
}

fn hierarchical(
    xs: &[f64],
    config: &EDivisiveConfig,
    min_size: usize,
    offset: usize,
) -> Vec<ChangePoint> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ offset as u64);
    let mut bounds = vec![0, xs.len()];
    let mut out = Vec::new();
    loop {
        // The strongest candidate over all current segments.
        let best = bounds
            .windows(2)
            .filter_map(|w| {
                best_split(&xs[w[0]..w[1]], min_size).map(|(tau, q)| (w[0], w[1], w[0] + tau, q))
            })
            .max_by(|a, b| a.3.total_cmp(&b.3));
        let Some((lo, hi, at, statistic)) = best else {
            break;
        };
        let Some(p_value) = permutation_p_value(&xs[lo..hi], statistic, config, min_size, &mut rng)
        else {
            break;
        };
        out.push(ChangePoint {
            index: offset + at,
            p_value,
            statistic,
        });
        let pos = bounds.partition_point(|&b| b < at);
        bounds.insert(pos, at);
    }
    out
}

/// The p-value of `observed` against the best split of shuffled copies of
/// `segment`, or None as soon as it is certain to exceed the threshold.
fn permutation_p_value(
    segment: &[f64],
    observed: f64,
    config: &EDivisiveConfig,
    min_size: usize,
    rng: &mut ChaCha8Rng,
) -> Option<f64> {
    if observed.is_nan() || observed <= 0.0 {
        return None;
    }
    let total = config.permutations as f64 + 1.0;
    let mut at_least = 0usize;
    let mut shuffled = segment.to_vec();
    for _ in 0..config.permutations {
        shuffled.shuffle(rng);
        let q = best_split(&shuffled, min_size).map_or(0.0, |(_, q)| q);
        if q >= observed {
            at_least += 1;
            if (at_least as f64 + 1.0) / total > config.p_value {
                return None;
            }
        }
    }
    Some((at_least as f64 + 1.0) / total)
}

/// The split tau (left = [0, tau)) maximising q-hat with at least
/// `min_size` points each side, and that q-hat; O(n^2).
///
/// q(tau) = tau (n - tau) / n * (2 mean|x - y| - mean|x - x'| - mean|y - y'|)
/// with x from the left, y from the right (Matteson & James, alpha = 1).
fn best_split(xs: &[f64], min_size: usize) -> Option<(usize, f64)> {
    let n = xs.len();
    if n < 2 * min_size {
        return None;
    }
    // Row sums of |x_i - x_k| to the left and right of each k.
    let mut left = vec![0.0; n];
    let mut right = vec![0.0; n];
    for k in 0..n {
        for i in 0..k {
            let d = (xs[i] - xs[k]).abs();
            left[k] += d;
            right[i] += d;
        }
    }
    let mut within_left = 0.0;
    let mut within_right: f64 = left.iter().sum();
    let mut cross = 0.0;
    let mut best: Option<(usize, f64)> = None;
    for m in 0..n - min_size {
        // Move point m from the right segment to the left one.
        within_left += left[m];
        within_right -= right[m];
        cross += right[m] - left[m];
        let tau = m + 1;
        if tau < min_size {
            continue;
        }
        let (a, b) = (tau as f64, (n - tau) as f64);
        let q = a * b / n as f64
            * (2.0 * cross / (a * b)
                - within_left / (a * (a - 1.0) / 2.0)
                - within_right / (b * (b - 1.0) / 2.0));
        if best.is_none_or(|(_, bq)| q > bq) {
            best = Some((tau, q));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use rand_distr_free::normal;

    /// Box-Muller normals, so the crate needs no distribution crate.
    mod rand_distr_free {
        use rand::Rng;
        pub fn normal(rng: &mut impl Rng) -> f64 {
            let u1: f64 = rng.random_range(f64::EPSILON..1.0);
            let u2: f64 = rng.random();
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }
    }

    fn series(levels: &[(usize, f64)], noise: f64, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        levels
            .iter()
            .flat_map(|&(len, level)| vec![level; len])
            .map(|level| level * (1.0 + noise * normal(&mut rng)))
            .collect()
    }

    fn indexes(cps: &[ChangePoint]) -> Vec<usize> {
        cps.iter().map(|c| c.index).collect()
    }

    #[test]
    fn best_split_matches_the_direct_formula() {
        let xs = [1.0, 2.0, 1.5, 9.0, 8.0, 9.5, 8.5];
        let direct = |tau: usize| {
            let (l, r) = xs.split_at(tau);
            let mean_abs = |a: &[f64], b: &[f64], same: bool| {
                let mut s = 0.0;
                let mut c = 0.0;
                for (i, x) in a.iter().enumerate() {
                    for (j, y) in b.iter().enumerate() {
                        if !same || i < j {
                            s += (x - y).abs();
                            c += 1.0;
                        }
                    }
                }
                s / c
            };
            let (a, b) = (l.len() as f64, r.len() as f64);
            a * b / (a + b)
                * (2.0 * mean_abs(l, r, false) - mean_abs(l, l, true) - mean_abs(r, r, true))
        };
        let (tau, q) = best_split(&xs, 2).unwrap();
        assert_eq!(tau, 3);
        assert!((q - direct(3)).abs() < 1e-9, "{q} vs {}", direct(3));
        for t in 2..=5 {
            assert!(direct(t) <= q + 1e-9);
        }
    }

    #[test]
    fn a_single_step_is_found_at_its_index() {
        let xs = series(&[(20, 100.0), (15, 80.0)], 0.01, 1);
        let cps = e_divisive(&xs, &EDivisiveConfig::default());
        assert_eq!(indexes(&cps), vec![20]);
        assert!(cps[0].p_value <= 0.001);
    }

    #[test]
    fn several_steps_in_a_long_series_are_all_found_across_windows() {
        let xs = series(&[(40, 100.0), (40, 95.0), (40, 105.0), (30, 90.0)], 0.01, 2);
        let cps = e_divisive(&xs, &EDivisiveConfig::default());
        assert_eq!(indexes(&cps), vec![40, 80, 120]);
    }

    #[test]
    fn a_recent_regression_with_three_nights_after_it_is_found() {
        let xs = series(&[(30, 100.0), (3, 80.0)], 0.01, 3);
        let cps = e_divisive(&xs, &EDivisiveConfig::default());
        assert_eq!(indexes(&cps), vec![30]);
    }

    #[test]
    fn stationary_noise_raises_no_alarm_in_at_least_99_of_100_seeds() {
        let config = EDivisiveConfig::default();
        let alarms = (0..100u64)
            .filter(|&seed| {
                !e_divisive(&series(&[(50, 100.0)], 0.02, 1000 + seed), &config).is_empty()
            })
            .count();
        assert!(
            alarms <= 1,
            "{alarms} of 100 stationary series had a change point"
        );
    }

    #[test]
    fn heavy_tailed_stationary_noise_stays_quiet_too() {
        let config = EDivisiveConfig::default();
        let mut alarms = 0;
        for seed in 0..100u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            // Mostly 1% noise, with occasional 15% slow outliers.
            let xs: Vec<f64> = (0..50)
                .map(|_| {
                    let outlier = if rng.random_bool(0.05) { 0.85 } else { 1.0 };
                    100.0 * outlier * (1.0 + 0.01 * normal(&mut rng))
                })
                .collect();
            alarms += usize::from(!e_divisive(&xs, &config).is_empty());
        }
        assert!(alarms <= 1, "{alarms} of 100");
    }

    #[test]
    fn short_or_constant_series_have_no_change_points() {
        let config = EDivisiveConfig::default();
        assert!(e_divisive(&[1.0, 2.0, 3.0], &config).is_empty());
        assert!(e_divisive(&[7.0; 40], &config).is_empty());
        assert!(e_divisive(&[], &config).is_empty());
    }

    #[test]
    fn results_are_reproducible_for_a_seed() {
        let xs = series(&[(25, 100.0), (25, 97.0)], 0.01, 9);
        let config = EDivisiveConfig::default();
        assert_eq!(e_divisive(&xs, &config), e_divisive(&xs, &config));
    }
}
