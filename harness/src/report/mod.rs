//! Rendering result sets for people.

pub mod calibration;
pub mod compare;
pub mod explain;
mod grid;
pub mod history;
mod counters;
mod table;

pub use counters::print_counters;
pub use table::print_table;
