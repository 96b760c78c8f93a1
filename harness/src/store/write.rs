//! Writing a result set: canonical hash, temp file, then a link that fails
//! rather than overwrite.

use super::schema::{ResultContent, ResultSet, SCHEMA_VERSION};
use crate::error::{LabError, Result};
use crate::profile::hex;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// sha256 of the content's canonical JSON (keys sorted, no whitespace).
pub fn content_sha256(content: &serde_json::Value) -> String {
    // serde_json::Value keeps objects in a BTreeMap, so this is canonical.
    let bytes = serde_json::to_vec(content).expect("JSON values serialize");
    hex(&Sha256::digest(&bytes))
}

/// Writes `content` as `<dir>/<stem>.json`, or `<stem>-2.json` ... if that
/// exists. Returns the path written. Never replaces an existing file.
pub fn write_new(dir: &Path, stem: &str, content: ResultContent) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .map_err(|e| LabError::file(dir, format!("cannot create results directory: {e}")))?;
    let value = serde_json::to_value(&content).expect("result content serializes");
    let set = ResultSet {
        schema_version: SCHEMA_VERSION,
        sha256: content_sha256(&value),
        content,
    };
    let text = serde_json::to_string_pretty(&set).expect("result set serializes") + "\n";

    let tmp = dir.join(format!(".{stem}.{}.tmp", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)
            .map_err(|e| LabError::file(&tmp, format!("cannot create: {e}")))?;
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| LabError::file(&tmp, format!("cannot write: {e}")))?;
    }
    for n in 1..1000 {
        let name = if n == 1 {
            format!("{stem}.json")
        } else {
            format!("{stem}-{n}.json")
        };
        let target = dir.join(name);
        // hard_link fails if the target exists: atomic and never overwrites.
        match std::fs::hard_link(&tmp, &target) {
            Ok(()) => {
                let _ = std::fs::remove_file(&tmp);
                return Ok(target);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(LabError::file(
                    &target,
                    format!("cannot publish result set (kept at {}): {e}", tmp.display()),
                ))
            }
        }
    }
    Err(LabError::file(
        dir,
        format!(
            "too many result sets named {stem}; kept at {}",
            tmp.display()
        ),
    ))
}
