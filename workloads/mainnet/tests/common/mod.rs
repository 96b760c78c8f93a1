//! Where the test blocks are: the full shared set when it is there (beside
//! the clone, as in CI), else the subset committed with the project.

#![allow(dead_code)]

use std::path::PathBuf;

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (folder of block folders, whether it is the full shared set of 41).
pub fn blocks_dir() -> (PathBuf, bool) {
    let ws = workspace();
    let candidates = [
        std::env::var_os("GASLAB_MAINNET_BLOCKS").map(PathBuf::from),
        Some(ws.join("../shared/mainnet-blocks")),
        // A worktree sits one level deeper than its clone.
        Some(ws.join("../../shared/mainnet-blocks")),
    ];
    for dir in candidates.into_iter().flatten() {
        if dir.join("README.md").is_file() {
            return (dir, true);
        }
    }
    (ws.join("workloads/data/mainnet-subset"), false)
}
