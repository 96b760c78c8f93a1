//! Rendering result sets for people.

mod table;

pub use table::print_table;
