//! Turning result sets into verdicts: compare two sets, find change points
//! in a nightly history, explain what changed across them, and measure the
//! lab's own detection power. The numbers come from `gaslab-stats`; what
//! comes out are plain public structs that the terminal, markdown and JSON
//! renderers (report/) and the plots read.

pub mod calibrate;
pub mod compare;
pub mod explain;
pub mod fingerprint_diff;
pub mod for_report;
pub mod history;
pub mod measure;
pub mod sampling;

// The types the renderers and the report read most; everything else is
// public in its module (e.g. history::ChangePointReport).
pub use calibrate::{Calibration, CalibrationOptions};
pub use compare::{CellComparison, CompareOptions, Comparison, Verdict};
pub use explain::{ChangeExplanation, Explanation};
pub use history::{History, HistoryOptions};
pub use measure::CellRates;

#[cfg(test)]
pub(crate) mod test_sets;
