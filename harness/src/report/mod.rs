//! Rendering result sets for people.

mod table;

pub use table::print_table;
pub use table::{cell_summary, format_rate, rate_unit, CellSummary};
