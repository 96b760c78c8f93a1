//! A distribution-free confidence interval for the median from order
//! statistics. Cheap and deterministic, so a worker can ask it after every
//! sample whether it has measured enough.

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MedianInterval {
    pub median: f64,
    pub lower: f64,
    pub upper: f64,
    /// The interval's actual coverage (at least the level asked for).
    pub coverage: f64,
}

impl MedianInterval {
    /// Half the interval's width relative to the median (0.01 = +-1%).
    pub fn relative_half_width(&self) -> f64 {
        (self.upper - self.lower) / 2.0 / self.median.abs()
    }
}

/// The interval [x_(k), x_(n+1-k)] with the largest k whose coverage
/// P(k <= B <= n-k), B ~ Binomial(n, 1/2), is at least `level`. None when
/// the sample is too small for any such interval (n < 6 at 95%).
pub fn median_interval(xs: &[f64], level: f64) -> Option<MedianInterval> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let median = crate::aggregate::median_in_place(&mut v.clone());
    // Tail mass below k: P(B <= k-1). Grow k while both tails together
    // stay within 1 - level.
    let ln_n_fact = ln_factorial(n);
    let pmf = |i: usize| {
        (ln_n_fact - ln_factorial(i) - ln_factorial(n - i) - n as f64 * std::f64::consts::LN_2)
            .exp()
    };
    let mut tail = 0.0;
    let mut k = 0;
    while k < n / 2 {
        let next_tail = tail + pmf(k);
        if 2.0 * next_tail > 1.0 - level {
            break;
        }
        tail = next_tail;
        k += 1;
    }
    if k == 0 {
        return None;
    }
    Some(MedianInterval {
        median,
        lower: v[k - 1],
        upper: v[n - k],
        coverage: 1.0 - 2.0 * tail,
    })
}

fn ln_factorial(n: usize) -> f64 {
    libm::lgamma(n as f64 + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_samples_is_the_smallest_95_percent_interval() {
        let five = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!(median_interval(&five, 0.95).is_none());
        let six = [6.0, 1.0, 5.0, 2.0, 4.0, 3.0];
        let ci = median_interval(&six, 0.95).unwrap();
        // Only the extremes: coverage 1 - 2 / 64.
        assert_eq!((ci.lower, ci.median, ci.upper), (1.0, 3.5, 6.0));
        assert!((ci.coverage - (1.0 - 2.0 / 64.0)).abs() < 1e-12);
    }

    #[test]
    fn twenty_samples_use_the_sixth_and_fifteenth() {
        // Tables: n = 20 at 95% gives ranks 6 and 15 (coverage 95.86%).
        let xs: Vec<f64> = (1..=20).map(f64::from).collect();
        let ci = median_interval(&xs, 0.95).unwrap();
        assert_eq!((ci.lower, ci.upper), (6.0, 15.0));
        assert!((ci.coverage - 0.9586).abs() < 1e-4, "{}", ci.coverage);
        assert!((ci.relative_half_width() - 4.5 / 10.5).abs() < 1e-12);
    }

    #[test]
    fn the_interval_narrows_as_samples_accumulate() {
        let spread = |n: usize| {
            let xs: Vec<f64> = (0..n).map(|i| 100.0 + (i * 37 % 11) as f64).collect();
            median_interval(&xs, 0.95).unwrap().relative_half_width()
        };
        assert!(spread(400) < spread(20));
    }
}
