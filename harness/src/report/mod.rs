//! Rendering result sets for people.

mod counters;
mod table;

pub use counters::print_counters;
pub use table::print_table;
