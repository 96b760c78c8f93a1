//! How large a rate could be, given how often it was seen: the exact
//! (Clopper-Pearson) upper bound, for false-alarm rates measured on few
//! trials.

/// One-sided upper confidence bound at `level` for a proportion after `k`
/// successes in `n` trials. 1 when nothing was tried.
pub fn proportion_upper_bound(k: usize, n: usize, level: f64) -> f64 {
    if n == 0 || k >= n {
        return 1.0;
    }
    let ln_fact = |m: usize| libm::lgamma(m as f64 + 1.0);
    // P(X <= k) for X ~ Binomial(n, p); decreasing in p.
    let cdf = |p: f64| {
        (0..=k)
            .map(|i| {
                (ln_fact(n) - ln_fact(i) - ln_fact(n - i)
                    + i as f64 * p.ln()
                    + (n - i) as f64 * (1.0 - p).ln())
                .exp()
            })
            .sum::<f64>()
    };
    let (mut lo, mut hi) = (k as f64 / n as f64, 1.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if cdf(mid) > 1.0 - level {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_exact_bounds() {
        // 0 of n: 1 - (1 - level)^(1/n).
        let zero = proportion_upper_bound(0, 100, 0.95);
        assert!((zero - (1.0 - 0.05f64.powf(0.01))).abs() < 1e-9, "{zero}");
        assert!((proportion_upper_bound(1, 100, 0.95) - 0.0466).abs() < 1e-3);
        assert_eq!(proportion_upper_bound(0, 0, 0.95), 1.0);
        assert_eq!(proportion_upper_bound(3, 3, 0.95), 1.0);
    }
}
