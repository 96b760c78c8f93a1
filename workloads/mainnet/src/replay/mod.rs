//! `replay`: execute block folders, check each against its header, print
//! a table (or JSON) of times and verdicts. Exit 0 when every block
//! matches, 1 on any mismatch, 2 on unreadable or malformed input.

mod measure;
mod report;

use crate::executor::ExecutorChoice;
use clap::Parser;
use std::path::PathBuf;

pub use measure::{measure_block, BlockRow, Verdict};
pub use report::Summary;

pub const EXIT_OK: i32 = 0;
pub const EXIT_MISMATCH: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "replay",
    about = "Replay mainnet blocks and verify them against their headers"
)]
pub struct ReplayArgs {
    /// Block folders, or folders holding block folders.
    #[arg(required = true)]
    pub blocks: Vec<PathBuf>,
    /// Threads for the parallel executor.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    #[arg(long, value_enum, default_value_t = ExecutorChoice::Sequential)]
    pub executor: ExecutorChoice,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Timed runs per block and executor (the median is reported); every
    /// run is checked against the header.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Runs `replay` with `args` (without the program name); returns the exit
/// status. Rows are printed as blocks finish, errors go to stderr.
pub fn main<I: IntoIterator<Item = String>>(args: I) -> i32 {
    let args = match ReplayArgs::try_parse_from(std::iter::once("replay".to_string()).chain(args)) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
        }
    };
    run(&args)
}

pub fn run(args: &ReplayArgs) -> i32 {
    let executors = match args.executor.executors() {
        Ok(e) => e,
        Err(reason) => {
            eprintln!("error: --executor {:?}: {reason}", args.executor);
            return EXIT_ERROR;
        }
    };
    let dirs = match crate::expand(&args.blocks) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut rows = Vec::with_capacity(dirs.len());
    let mut table = report::Table::new(args.format);
    table.start();
    for dir in &dirs {
        let row = match crate::load(dir) {
            Ok(block) => measure_block(&block, &executors, args.threads, args.runs),
            Err(e) => BlockRow::unreadable(dir, e),
        };
        if let Some(reason) = row.verdict.reason() {
            eprintln!("error: {reason}");
        }
        table.row(&row);
        rows.push(row);
    }
    let summary = Summary::of(&rows);
    table.finish(&rows, &summary);
    summary.exit_code()
}
