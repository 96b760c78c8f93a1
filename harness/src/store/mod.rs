//! Result sets: the schema, atomic never-overwriting writes, and reads that
//! refuse anything whose hash does not match.

mod read;
mod schema;
mod write;

pub use read::load;
pub use schema::{CellResult, CellStatus, GaslabInfo, ProfileInfo, ResultContent};
pub use write::write_new;
