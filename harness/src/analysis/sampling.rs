//! Adaptive sampling's account: how many samples the stop rule saved
//! against always taking the cap.

use crate::store::ResultContent;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SamplingSavings {
    /// Cells that sampled adaptively.
    pub cells: usize,
    /// Measured samples they took.
    pub taken: usize,
    /// What a fixed count (the cap) would have taken.
    pub fixed: usize,
}

impl SamplingSavings {
    pub fn saved(&self) -> usize {
        self.fixed - self.taken
    }

    pub fn saved_fraction(&self) -> f64 {
        if self.fixed == 0 {
            0.0
        } else {
            self.saved() as f64 / self.fixed as f64
        }
    }
}

/// None when no cell sampled adaptively.
pub fn savings(content: &ResultContent) -> Option<SamplingSavings> {
    let adaptive: Vec<_> = content
        .cells
        .iter()
        .filter(|c| c.spec.adaptive.is_some())
        .collect();
    if adaptive.is_empty() {
        return None;
    }
    Some(SamplingSavings {
        cells: adaptive.len(),
        taken: adaptive.iter().map(|c| c.measured().count()).sum(),
        fixed: adaptive.iter().map(|c| c.spec.samples).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_sets::{content, noisy_rates};
    use gaslab_protocol::AdaptiveSampling;

    #[test]
    fn savings_count_against_the_cap() {
        let mut c = content(
            &[
                ("system", noisy_rates(1e8, 0.01, 12, 1)),
                ("mimalloc", noisy_rates(1e8, 0.01, 40, 2)),
            ],
            "c",
            &[],
        );
        assert_eq!(savings(&c), None);
        for cell in &mut c.cells {
            cell.spec.samples = 40;
            cell.spec.adaptive = Some(AdaptiveSampling {
                ci_half_width_pct: 1.0,
                min_samples: 10,
            });
        }
        let s = savings(&c).unwrap();
        assert_eq!((s.cells, s.taken, s.fixed, s.saved()), (2, 52, 80, 28));
        assert!((s.saved_fraction() - 0.35).abs() < 1e-12);
    }
}
