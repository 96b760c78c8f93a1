//! The harness's one error type, and the exit status each kind maps to.

use std::path::PathBuf;

/// Exit statuses, as the design fixes them.
pub const EXIT_OK: i32 = 0;
/// `compare` / `history` found a regression.
pub const EXIT_REGRESSION: i32 = 1;
pub const EXIT_ERROR: i32 = 2;
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Bad user input: a profile or result file. Names file, line and field.
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Input {
        file: PathBuf,
        line: usize,
        column: usize,
        field: String,
        message: String,
    },
    #[error("{file}: {message}")]
    File { file: PathBuf, message: String },
    #[error("{0}")]
    Other(String),
}

impl LabError {
    pub fn file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        LabError::File {
            file: file.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = LabError> = std::result::Result<T, E>;

/// 1-based line and column of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 11), (2, 6));
    }
}
