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
    /// Replay mainnet blocks and verify each against its header
    /// (exit 0 all match, 1 a mismatch, 2 unreadable or malformed input).
    Replay {
        /// Block folders, or folders holding block folders.
        #[arg(required = true)]
        blocks: Vec<PathBuf>,
        /// Threads for the parallel executor.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value = "sequential", value_parser = ["sequential", "parallel", "both"])]
        executor: String,
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        /// Timed runs per block and executor; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: u32,
        /// The allocator whose worker runs the replay.
        #[arg(long, default_value = "system", value_parser = clap::builder::PossibleValuesParser::new(gaslab_protocol::ALLOCATORS))]
        allocator: String,
        /// Directory holding the worker-<allocator> binaries (default: beside gaslab).
        #[arg(long)]
        workers: Option<PathBuf>,
    },
    /// Write block folders in the replay's format from an archive node's JSON-RPC.
    Fetch {
        /// The node's JSON-RPC URL (it must serve debug_traceBlockByNumber).
        rpc_url: String,
        /// Block numbers, decimal or 0x-hex.
        #[arg(required = true)]
        blocks: Vec<String>,
        /// Where the block folders go: <out>/<number>/.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}
