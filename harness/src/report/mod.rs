//! Rendering result sets for people.

pub mod calibration;
pub mod compare;
pub mod explain;
mod grid;
pub mod history;
mod table;

pub use table::print_table;
