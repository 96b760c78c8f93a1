//! Statistics on plain numbers, for gaslab.
//!
//! Knows nothing of benchmarks or result sets: every function takes slices
//! of f64 and returns a plain struct, so each can be tested on numbers
//! alone. A crate of its own because both sides need it: the harness
//! (compare, history, calibrate) and the workers (adaptive sampling decides
//! in the worker loop when a cell has enough samples).
//!
//! Inputs are expected to be finite; NaN sorts last under `total_cmp` and
//! makes results meaningless, so callers drop unusable samples first.

mod aggregate;
mod between_runs;
mod change_points;
mod mann_whitney;
mod median_interval;
mod proportion;
mod ratio;

pub use aggregate::{geometric_mean, median, throughput};
pub use between_runs::{between_run_band, RunBand};
pub use change_points::{e_divisive, ChangePoint, EDivisiveConfig};
pub use mann_whitney::{mann_whitney_u, MannWhitney};
pub use median_interval::{median_interval, MedianInterval};
pub use proportion::proportion_upper_bound;
pub use ratio::{ratio_of_medians, RatioEstimate};

/// P(Z <= x) for a standard normal Z.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    #[test]
    fn normal_cdf_matches_tables() {
        assert!((super::normal_cdf(0.0) - 0.5).abs() < 1e-15);
        assert!((super::normal_cdf(1.959964) - 0.975).abs() < 1e-6);
        assert!((super::normal_cdf(-2.575829) - 0.005).abs() < 1e-6);
    }
}
