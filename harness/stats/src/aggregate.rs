//! Aggregates that respect what the numbers are: rates as total over
//! total, ratios by their geometric mean.

/// Median by linear interpolation of the two middle values; None if empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    Some(median_in_place(&mut v))
}

/// Median of a scratch buffer (reordered). The buffer must not be empty.
pub(crate) fn median_in_place(v: &mut [f64]) -> f64 {
    let n = v.len();
    let mid = n / 2;
    let (_, upper, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

/// A rate over several measurements: the sum of the amounts (gas) over the
/// sum of the durations (seconds). This is the harmonic mean of the
/// per-measurement rates weighted by amount, and the only honest aggregate
/// of gas/s: an arithmetic mean of rates over-weights the fast runs.
/// None when the lengths differ, nothing was measured, or no time passed.
pub fn throughput(amounts: &[f64], durations: &[f64]) -> Option<f64> {
    if amounts.len() != durations.len() || amounts.is_empty() {
        return None;
    }
    let time: f64 = durations.iter().sum();
    (time > 0.0).then(|| amounts.iter().sum::<f64>() / time)
}

/// The geometric mean, the one average of ratios where a halving and a
/// doubling cancel. None if empty or any value is not positive.
pub fn geometric_mean(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() || xs.iter().any(|x| x.is_nan() || *x <= 0.0) {
        return None;
    }
    Some((xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_lengths() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn throughput_is_total_over_total_not_mean_of_rates() {
        // 100 gas in 1 s (100/s) and 100 gas in 3 s (33.3/s): the lab did
        // 200 gas in 4 s = 50/s; the mean of the rates would claim 66.7/s.
        let t = throughput(&[100.0, 100.0], &[1.0, 3.0]).unwrap();
        assert!((t - 50.0).abs() < 1e-12, "{t}");
        assert_eq!(throughput(&[1.0], &[0.0]), None);
        assert_eq!(throughput(&[1.0, 2.0], &[1.0]), None);
    }

    #[test]
    fn geometric_mean_cancels_halving_and_doubling() {
        let g = geometric_mean(&[0.5, 2.0]).unwrap();
        assert!((g - 1.0).abs() < 1e-12, "{g}");
        assert_eq!(geometric_mean(&[1.0, 0.0]), None);
        assert_eq!(geometric_mean(&[]), None);
    }
}
