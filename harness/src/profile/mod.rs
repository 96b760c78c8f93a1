//! Profiles: TOML files that declare a matrix of cells.
//!
//! ```toml
//! name = "smoke"
//! [defaults]
//! warmup = 2
//! samples = 10
//! timeout_s = 120
//! target_ci_pct = 1.0    # optional: adaptive sampling, `samples` is the cap
//! allocators = ["system", "mimalloc"]
//! threads = [1]
//!
//! [[matrix]]
//! workload = "evm.transfers"
//! params = { txs = [2000, 20000], seed = 1 }   # a list expands the matrix
//! # Optional: each entry is one scheduler setting the matrix runs under.
//! sched = [
//!   { policy = "other" },
//!   { policy = "batch", nice = 5, affinity = "compact" },
//!   { policy = "other", slice_ns = 3000000, affinity = "0,2-3" },
//! ]
//! ```
//!
//! Every error names the file, the line and the field.

mod plan;
mod sched;

pub use plan::{plan, PlannedCell};

use crate::error::{line_column, LabError, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    pub name: Spanned<String>,
    /// For people reading the profile; not used by the planner.
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
    #[serde(default)]
    pub defaults: Settings,
    pub matrix: Vec<MatrixEntry>,
}

/// Settings that `[defaults]` sets and a `[[matrix]]` entry may override.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub warmup: Option<Spanned<i64>>,
    pub samples: Option<Spanned<i64>>,
    pub timeout_s: Option<Spanned<f64>>,
    pub allocators: Option<Spanned<Vec<Spanned<String>>>>,
    pub threads: Option<Spanned<Vec<Spanned<i64>>>>,
    pub sched: Option<Spanned<Vec<Spanned<SchedEntry>>>>,
    /// Adaptive sampling: stop once the median's 95% CI half-width is under
    /// this percentage; `samples` becomes the cap.
    pub target_ci_pct: Option<Spanned<f64>>,
    /// Fewest measured samples before adaptive sampling may stop (default 10).
    pub min_samples: Option<Spanned<i64>>,
}

/// One kernel-scheduler setting as written in a profile; checked and
/// turned into a `SchedSpec` by the planner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedEntry {
    pub policy: Spanned<String>,
    pub nice: Option<Spanned<i64>>,
    pub rt_priority: Option<Spanned<i64>>,
    pub slice_ns: Option<Spanned<i64>>,
    pub affinity: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixEntry {
    pub workload: Spanned<String>,
    #[serde(default)]
    pub params: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    // Listed rather than flattened: flattening would lose the positions
    // that error messages point at.
    pub warmup: Option<Spanned<i64>>,
    pub samples: Option<Spanned<i64>>,
    pub timeout_s: Option<Spanned<f64>>,
    pub allocators: Option<Spanned<Vec<Spanned<String>>>>,
    pub threads: Option<Spanned<Vec<Spanned<i64>>>>,
    pub sched: Option<Spanned<Vec<Spanned<SchedEntry>>>>,
    pub target_ci_pct: Option<Spanned<f64>>,
    pub min_samples: Option<Spanned<i64>>,
}

impl MatrixEntry {
    /// This entry's own overrides of `[defaults]`.
    pub fn settings(&self) -> Settings {
        Settings {
            warmup: self.warmup.clone(),
            samples: self.samples.clone(),
            timeout_s: self.timeout_s.clone(),
            allocators: self.allocators.clone(),
            threads: self.threads.clone(),
            sched: self.sched.clone(),
            target_ci_pct: self.target_ci_pct.clone(),
            min_samples: self.min_samples.clone(),
        }
    }
}

/// A parsed, validated profile with its source kept for error positions.
#[derive(Debug)]
pub struct Profile {
    pub path: PathBuf,
    pub text: String,
    pub file: ProfileFile,
}

impl Profile {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LabError::file(path, format!("cannot read profile: {e}")))?;
        Self::parse(path, text)
    }

    pub fn parse(path: &Path, text: String) -> Result<Self> {
        let file: ProfileFile = toml::from_str(&text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| line_column(&text, s.start))
                .unwrap_or((0, 0));
            LabError::Input {
                file: path.to_path_buf(),
                line,
                column,
                field: field_of_toml_error(&text, &e),
                message: e.message().to_string(),
            }
        })?;
        let profile = Profile {
            path: path.to_path_buf(),
            text,
            file,
        };
        // Planning validates every name, type and range.
        plan(&profile)?;
        Ok(profile)
    }

    pub fn name(&self) -> &str {
        self.file.name.get_ref()
    }

    pub fn sha256(&self) -> String {
        hex(&Sha256::digest(self.text.as_bytes()))
    }

    /// An error at the position of `span`.
    pub fn error_at(
        &self,
        span: std::ops::Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> LabError {
        let (line, column) = line_column(&self.text, span.start);
        LabError::Input {
            file: self.path.clone(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// toml's errors say where but not always which key: take the key on the
/// offending line, which is what a user looks for.
fn field_of_toml_error(text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return "(document)".into();
    };
    let start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let line = text[start..].lines().next().unwrap_or("");
    let key = line.split('=').next().unwrap_or("").trim();
    if line.contains('=') && !key.is_empty() {
        key.to_string()
    } else if let Some(field) = e.message().split('`').nth(1) {
        field.to_string()
    } else {
        line.trim().to_string()
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
