//! Statistics on plain numbers. Knows nothing of benchmarks or result sets,
//! so it can be tested on numbers alone.

mod bootstrap;
mod summary;

pub use bootstrap::{bootstrap_ci, median_of};
pub use summary::{coefficient_of_variation, median};
