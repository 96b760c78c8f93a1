//! The one error type of this crate. Input errors name the file and the
//! field; mismatches name the block, the transaction where known, and the
//! header field the execution failed to reproduce.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MainnetError {
    #[error("{}: {source}", file.display())]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: field `{field}`: {message}", file.display())]
    Json {
        file: PathBuf,
        field: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: field `{field}`: {reason}", file.display())]
    Field {
        file: PathBuf,
        field: String,
        reason: String,
    },
    #[error("{0}")]
    Mismatch(#[from] Mismatch),
}

impl MainnetError {
    /// Unreadable or malformed input, as opposed to a block that did not
    /// reproduce its header.
    pub fn is_input_error(&self) -> bool {
        !matches!(self, MainnetError::Mismatch(_))
    }

    pub(crate) fn field(file: impl Into<PathBuf>, field: &str, reason: impl ToString) -> Self {
        MainnetError::Field {
            file: file.into(),
            field: field.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// A block whose execution did not reproduce what the chain recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("block {block}: {}{field}: {detail}", tx_label(*.tx))]
pub struct Mismatch {
    pub block: u64,
    /// The first transaction known to differ, where it can be told.
    pub tx: Option<usize>,
    /// The header field (`gasUsed`, `logsBloom`, `receiptsRoot`), the
    /// receipt field, or `execution` when a transaction could not run.
    pub field: String,
    pub detail: String,
}

fn tx_label(tx: Option<usize>) -> String {
    tx.map(|i| format!("transaction {i}: ")).unwrap_or_default()
}
