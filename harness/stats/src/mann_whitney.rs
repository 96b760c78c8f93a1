//! The Mann-Whitney U test (Wilcoxon rank-sum): does one sample tend to be
//! larger than the other? Rank-based, so a few outlier samples (a page
//! fault storm, a migration) cannot make a change look significant.

use crate::normal_cdf;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MannWhitney {
    /// U of the first sample: the number of (a, b) pairs with a > b, ties
    /// counting one half.
    pub u: f64,
    /// The normal approximation's z score (tie- and continuity-corrected).
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Two-sided Mann-Whitney U test by the normal approximation, with the
/// variance corrected for ties and a continuity correction (as R's
/// `wilcox.test(exact = FALSE)` and SciPy's `mannwhitneyu(method =
/// "asymptotic")`). None if either sample is empty.
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> Option<MannWhitney> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let n = n1 + n2;
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));

    // Average ranks over runs of ties; collect t^3 - t for the variance.
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        let rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_a += rank * all[i..=j].iter().filter(|e| e.1).count() as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 {
        // Every value equal: no evidence of any difference.
        return Some(MannWhitney {
            u,
            z: 0.0,
            p_value: 1.0,
        });
    }
    let diff = u - mean;
    let corrected = (diff.abs() - 0.5).max(0.0) * diff.signum();
    let z = corrected / variance.sqrt();
    let p_value = (2.0 * normal_cdf(-z.abs())).min(1.0);
    Some(MannWhitney { u, z, p_value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separated_samples_without_ties() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [6.0, 7.0, 8.0, 9.0, 10.0];
        let r = mann_whitney_u(&a, &b).unwrap();
        assert_eq!(r.u, 0.0);
        // mean 12.5, sd sqrt(25 * 11 / 12); z = (0 - 12.5 + 0.5) / sd.
        let z = -12.0 / (25.0f64 * 11.0 / 12.0).sqrt();
        assert!((r.z - z).abs() < 1e-12, "{} vs {z}", r.z);
        assert!((r.p_value - 0.012186).abs() < 1e-5, "{}", r.p_value);
        // Symmetric: swapping the samples gives U' = n1 n2 - U, same p.
        let s = mann_whitney_u(&b, &a).unwrap();
        assert_eq!(s.u, 25.0);
        assert!((s.p_value - r.p_value).abs() < 1e-15);
    }

    #[test]
    fn ties_get_average_ranks_and_shrink_the_variance() {
        // Pooled sorted: 1 1 2 | 2 3 3 -> ranks 1.5 1.5 3.5 3.5 5.5 5.5.
        let a = [1.0, 1.0, 2.0];
        let b = [2.0, 3.0, 3.0];
        let r = mann_whitney_u(&a, &b).unwrap();
        // R_a = 1.5 + 1.5 + 3.5 = 6.5; U = 6.5 - 6 = 0.5.
        assert_eq!(r.u, 0.5);
        // Three ties of size 2: sum(t^3 - t) = 18; var = 9/12 * (7 - 18/30).
        let var: f64 = 9.0 / 12.0 * (7.0 - 18.0 / 30.0);
        let z = (0.5 - 4.5 + 0.5) / var.sqrt();
        assert!((r.z - z).abs() < 1e-12, "{} vs {z}", r.z);
        assert!((r.p_value - 2.0 * normal_cdf(z)).abs() < 1e-12);
    }

    #[test]
    fn identical_samples_show_no_difference() {
        let r = mann_whitney_u(&[5.0; 8], &[5.0; 8]).unwrap();
        assert_eq!((r.z, r.p_value), (0.0, 1.0));
        let same = [1.0, 2.0, 3.0, 4.0];
        assert!(mann_whitney_u(&same, &same).unwrap().p_value > 0.99);
        assert!(mann_whitney_u(&[], &[1.0]).is_none());
    }
}
