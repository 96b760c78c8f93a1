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
    /// Per cell of a result set: the scheduler settings granted and the
    /// medians of its perf counters (context switches, migrations ...).
    Counters { file: PathBuf },
    /// Print this machine's fingerprint as JSON, or with --diff the
    /// environment fields that differ between two result sets, grouped.
    Env {
        #[arg(long)]
        workers: Option<PathBuf>,
        /// Two result sets to compare: gaslab env --diff A.json B.json
        #[arg(long, num_args = 2, value_names = ["A", "B"])]
        diff: Option<Vec<PathBuf>>,
    },
}
