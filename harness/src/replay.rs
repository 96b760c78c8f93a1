//! `gaslab replay`: hands the replay to a worker binary, which links the
//! executors and the chosen allocator (the harness links neither). The
//! worker replaces this process, so its output and exit status (0 all
//! blocks match, 1 a mismatch, 2 bad input) are the command's own.

use crate::error::LabError;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct ReplayRequest {
    pub blocks: Vec<PathBuf>,
    pub threads: usize,
    pub executor: String,
    pub format: String,
    pub runs: u32,
    pub allocator: String,
}

impl ReplayRequest {
    /// The worker's `replay` arguments.
    fn worker_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["replay".into()];
        for (flag, value) in [
            ("--threads", self.threads.to_string()),
            ("--executor", self.executor.clone()),
            ("--format", self.format.clone()),
            ("--runs", self.runs.to_string()),
        ] {
            args.push(flag.into());
            args.push(value.into());
        }
        args.push("--".into());
        args.extend(self.blocks.iter().map(|b| b.clone().into_os_string()));
        args
    }
}

/// Replaces this process with `worker-<allocator> replay ...`; returns
/// only when the worker could not be started.
pub fn exec_worker(workers: &Path, request: &ReplayRequest) -> LabError {
    let binary = workers.join(gaslab_protocol::worker_binary(&request.allocator));
    let error = Command::new(&binary).args(request.worker_args()).exec();
    LabError::file(binary, format!("cannot start the replay worker: {error}"))
}
