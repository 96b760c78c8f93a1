//! Reading result sets back: schema checked, hash verified, or refused.

use super::schema::{ResultSet, SCHEMA_VERSION};
use super::write::content_sha256;
use crate::error::{line_column, LabError, Result};
use std::path::Path;

/// Loads one result set; a schema error names line and field, a hash
/// mismatch refuses the file.
pub fn load(path: &Path) -> Result<ResultSet> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LabError::file(path, format!("cannot read result set: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| LabError::Input {
        file: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        field: "(document)".into(),
        message: format!("not valid JSON ({e}); truncated or corrupt"),
    })?;
    let version = value.get("schema_version").and_then(|v| v.as_u64());
    if version != Some(SCHEMA_VERSION as u64) {
        return Err(input_error(
            path,
            &text,
            "schema_version",
            format!(
                "expected {SCHEMA_VERSION}, found {}",
                value
                    .get("schema_version")
                    .map(|v| v.to_string())
                    .unwrap_or("nothing".into())
            ),
        ));
    }
    let claimed = value.get("sha256").and_then(|v| v.as_str()).unwrap_or("");
    let content = value
        .get("content")
        .ok_or_else(|| input_error(path, &text, "content", "missing".into()))?;
    let actual = content_sha256(content);
    if claimed != actual {
        return Err(input_error(
            path,
            &text,
            "sha256",
            format!("content hash is {actual} but the file claims {claimed:?}: the result set was altered; refusing it"),
        ));
    }
    serde_path_to_error::deserialize(&value).map_err(|e| {
        let field = e.path().to_string();
        input_error(path, &text, &field, e.inner().to_string())
    })
}

/// Points at the line where `field`'s last key appears, best effort.
fn input_error(path: &Path, text: &str, field: &str, message: String) -> LabError {
    let key = field.rsplit('.').next().unwrap_or(field);
    let key = key.split('[').next().unwrap_or(key);
    let (line, column) = text
        .find(&format!("\"{key}\""))
        .map(|i| line_column(text, i))
        .unwrap_or((1, 1));
    LabError::Input {
        file: path.to_path_buf(),
        line,
        column,
        field: field.to_string(),
        message,
    }
}
