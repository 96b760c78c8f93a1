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
        /// Seconds the whole run may take, result set written: a cell that
        /// would not fit is not started, or is stopped once its pace shows
        /// it, and recorded as skipped.
        #[arg(long, value_name = "SECONDS", value_parser = seconds)]
        budget: Option<f64>,
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
    /// Compare result set B against baseline A, cell by cell (exit 0 no
    /// regression, 1 regression found, 2 error).
    Compare {
        baseline: PathBuf,
        candidate: PathBuf,
        /// Half-width of the noise band, as a fraction (0.02 = +-2%).
        #[arg(long, default_value_t = 0.02, value_parser = fraction)]
        noise: f64,
        /// Significance level of the Mann-Whitney test.
        #[arg(long, default_value_t = 0.01, value_parser = fraction)]
        alpha: f64,
        /// Judge cells even where the fingerprint key differs.
        #[arg(long)]
        across_fingerprints: bool,
        /// A calibration result set of this host (`gaslab calibrate`): each
        /// cell it calibrated is judged with its own, wider noise band.
        #[arg(long)]
        calibration: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Per machine and cell, the nightly series and its change points
    /// (E-Divisive means with a permutation test). Exit 1 when a cell's
    /// latest change point is a regression.
    History {
        results: PathBuf,
        #[command(flatten)]
        detection: Detection,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// What changed across each change point of a results directory, or
    /// between two result sets: commit range and fingerprint diff.
    #[command(arg_required_else_help = true)]
    Explain {
        /// A results directory, or two result sets (before, after).
        #[arg(num_args = 1..=2)]
        paths: Vec<PathBuf>,
        /// For two result sets: also diff this cell's allocator and build.
        #[arg(long)]
        cell: Option<String>,
        #[command(flatten)]
        detection: Detection,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Measure this host's false-alarm rate and detection power with
    /// injected slowdowns, and record them in a result set.
    Calibrate {
        profile: PathBuf,
        /// Injected slowdowns, in percent.
        #[arg(long, value_delimiter = ',', default_value = "1,3,5")]
        sizes: Vec<f64>,
        /// Runs of each variant per cell.
        #[arg(long, default_value_t = 6)]
        rounds: usize,
        /// Calibrate only these allocators' cells (default: all the profile lists).
        #[arg(long, value_delimiter = ',')]
        allocators: Option<Vec<String>>,
        #[arg(long, default_value_t = 0.02, value_parser = fraction)]
        noise: f64,
        #[arg(long, default_value_t = 0.01, value_parser = fraction)]
        alpha: f64,
        #[arg(long, default_value = "results")]
        results: PathBuf,
        #[arg(long)]
        workers: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
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
        /// A fleet host that delivered nothing (repeatable); named on the page.
        #[arg(long = "missing", value_name = "HOST")]
        missing: Vec<String>,
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

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Markdown,
    Json,
}

/// E-Divisive settings (as MongoDB's signal processing and Apache Otava).
#[derive(clap::Args)]
pub struct Detection {
    /// Points per analysis window (windows overlap by half).
    #[arg(long, default_value_t = 50)]
    pub window: usize,
    /// Largest permutation p-value that counts as a change point.
    #[arg(long, default_value_t = 0.001, value_parser = fraction)]
    pub p_value: f64,
    #[arg(long, default_value_t = 999)]
    pub permutations: usize,
    /// Fewest points on either side of a change point.
    #[arg(long, default_value_t = 3)]
    pub min_size: usize,
}

/// A number strictly between 0 and 1.
fn fraction(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|e| format!("{s:?} is not a number: {e}"))?;
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(format!("{v} must be strictly between 0 and 1"))
    }
}

fn seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|e| format!("{s:?} is not a number of seconds: {e}"))?;
    if v > 0.0 && v <= 7.0 * 86_400.0 {
        Ok(v)
    } else {
        Err(format!(
            "{v} must be more than 0 and at most a week (604800)"
        ))
    }
}
