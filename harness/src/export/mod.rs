//! Exports of one result set for other tools: CSV (one row per sample),
//! Bencher Metric Format JSON, and a markdown table. Each format is a file
//! beside its siblings.

mod bmf;
mod csv;
mod markdown;

use crate::store::ResultContent;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One row per sample, warm-up included (marked), every metric a column.
    Csv,
    /// Bencher Metric Format JSON: one benchmark per cell.
    Bmf,
    /// A markdown table, one row per cell.
    Markdown,
}

pub fn export(content: &ResultContent, format: Format) -> String {
    match format {
        Format::Csv => csv::render(content),
        Format::Bmf => bmf::render(content),
        Format::Markdown => markdown::render(content),
    }
}
