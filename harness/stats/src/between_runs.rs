//! How far apart two more runs of an unchanged benchmark may land, judged
//! from the spread of its earlier runs' medians.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The spread of runs and the band it implies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunBand {
    /// Runs the spread was measured over.
    pub runs: usize,
    /// Sample standard deviation of ln(run median).
    pub log_sd: f64,
    /// Two further runs' ratio leaves 1 +- band with probability 1 - `level`.
    pub band: f64,
}

/// From the medians of `runs` separate runs, the band that two further runs
/// of the same unchanged cell stay within at `level` (two-sided): their log
/// ratio over sqrt(2) * sd follows Student's t with runs - 1 degrees of
/// freedom, because sd itself is only estimated. None under two runs or
/// with a non-positive median.
pub fn between_run_band(medians: &[f64], level: f64) -> Option<RunBand> {
    if medians.len() < 2 || medians.iter().any(|m| m.is_nan() || *m <= 0.0) {
        return None;
    }
    let logs: Vec<f64> = medians.iter().map(|m| m.ln()).collect();
    let n = logs.len() as f64;
    let mean = logs.iter().sum::<f64>() / n;
    let log_sd = (logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let t = StudentsT::new(0.0, 1.0, n - 1.0).ok()?;
    let quantile = t.inverse_cdf(1.0 - (1.0 - level) / 2.0);
    Some(RunBand {
        runs: medians.len(),
        log_sd,
        band: (quantile * std::f64::consts::SQRT_2 * log_sd).exp() - 1.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_widens_with_the_t_quantile_of_few_runs() {
        // ln medians -0.1, 0, 0.1: sd 0.1.
        let m = [(-0.1f64).exp(), 1.0, 0.1f64.exp()];
        let b = between_run_band(&m, 0.99).unwrap();
        assert_eq!(b.runs, 3);
        assert!((b.log_sd - 0.1).abs() < 1e-12);
        // t(0.995, 2 df) = 9.9248.
        let expected = (9.9248 * std::f64::consts::SQRT_2 * 0.1).exp() - 1.0;
        assert!((b.band - expected).abs() < 1e-3, "{b:?}");
        // Many runs: the quantile approaches the normal 2.5758.
        let many: Vec<f64> = (0..2000)
            .map(|i| if i % 2 == 0 { 0.9 } else { 1.1 })
            .collect();
        let b = between_run_band(&many, 0.99).unwrap();
        let expected = (2.5758 * std::f64::consts::SQRT_2 * b.log_sd).exp() - 1.0;
        assert!((b.band - expected).abs() < 1e-3, "{b:?}");
    }

    #[test]
    fn too_few_or_unusable_runs_give_no_band() {
        assert_eq!(between_run_band(&[1.0], 0.99), None);
        assert_eq!(between_run_band(&[1.0, 0.0], 0.99), None);
        assert!(between_run_band(&[1.0, 1.0], 0.99).unwrap().band.abs() < 1e-12);
    }
}
