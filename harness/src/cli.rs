//! Command-line arguments.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "gaslab",
    version,
    about = "A hardware-tuned benchmarking lab for EVM execution and ZK proving"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a profile's matrix, one worker process per cell, and write a result set.
    Run {
        /// The profile (TOML) to run.
        profile: PathBuf,
        /// Where result sets go: <results>/<machine-id>/<utc-time>_<commit>.json.
        #[arg(long, default_value = "results")]
        results: PathBuf,
        /// Directory holding the worker-<allocator> binaries (default: beside gaslab).
        #[arg(long)]
        workers: Option<PathBuf>,
    },
    /// Print a result set's table.
    Show { file: PathBuf },
    /// Check result sets' schema and hash (exit 0 ok, 2 bad).
    #[command(arg_required_else_help = true)]
    Validate { files: Vec<PathBuf> },
    /// Print this machine's fingerprint as JSON.
    Env {
        #[arg(long)]
        workers: Option<PathBuf>,
    },
    /// Draw every chart (SVG + PNG) from result sets (files or directories).
    #[command(arg_required_else_help = true)]
    Plot {
        results: Vec<PathBuf>,
        #[arg(long, default_value = "plots")]
        out: PathBuf,
    },
    /// Write the static HTML report (index.html), its plots and summary.md.
    Report {
        /// A results directory (searched recursively) or result set files.
        #[arg(default_value = "results")]
        results: Vec<PathBuf>,
        #[arg(long, default_value = "report")]
        out: PathBuf,
    },
    /// Export one result set as CSV, Bencher Metric Format JSON or markdown.
    Export {
        result: PathBuf,
        #[arg(long, value_enum)]
        format: crate::export::Format,
        /// Write here instead of standard output (never over an existing file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}
