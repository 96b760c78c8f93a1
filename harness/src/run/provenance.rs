//! Which gaslab produced a result: version, commit, and whether the tree
//! had uncommitted changes.

use crate::store::GaslabInfo;
use std::process::Command;

/// `GASLAB_COMMIT` overrides git (a fleet host may build from a tarball, a
/// big machine run prebuilt binaries); then `GASLAB_DIRTY=1` says the build
/// had uncommitted changes, as the tree here may not be the one built.
pub fn gaslab_info() -> GaslabInfo {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let (commit, dirty) = match std::env::var("GASLAB_COMMIT") {
        Ok(commit) => (
            commit,
            std::env::var("GASLAB_DIRTY").is_ok_and(|d| d == "1"),
        ),
        Err(_) => (
            git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "nocommit".into()),
            git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty()),
        ),
    };
    GaslabInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        commit,
        dirty,
    }
}

/// Now, as `2026-11-25T18:30:00Z`.
pub fn utc_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339)
        .map(|s| {
            // Whole seconds are enough for a file name and a history axis.
            match s.find('.') {
                Some(i) => format!("{}Z", &s[..i]),
                None => s,
            }
        })
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}
