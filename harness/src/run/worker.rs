//! Running one cell in its own worker process, with a deadline, and turning
//! whatever happens (success, crash, hang, bad output, Ctrl-C) into a
//! `CellResult` that keeps every sample that arrived.

use crate::profile::PlannedCell;
use crate::store::{CellResult, CellStatus};
use gaslab_protocol::{worker_binary, WorkerMessage};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(50);
const STDERR_TAIL_BYTES: usize = 4000;

/// Runs `cell` with the worker binary found in `workers`. `on_sample` is
/// called for each measured sample (for the progress bar). With a
/// `budget_end`, the cell is stopped as skipped when it reaches that instant,
/// or earlier, as soon as its own pace shows it cannot finish by then.
pub fn run_cell(
    workers: &Path,
    cell: &PlannedCell,
    interrupted: &AtomicBool,
    budget_end: Option<Instant>,
    mut on_sample: impl FnMut(),
) -> CellResult {
    let mut result = unrun(
        cell,
        CellStatus::Failed {
            reason: "worker did not report".into(),
        },
    );
    let binary = workers.join(worker_binary(&cell.allocator));
    let mut child = match Command::new(&binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: Ctrl-C reaches the harness, which decides.
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            result.status = CellStatus::Failed {
                reason: format!("cannot start {}: {e}", binary.display()),
            };
            return result;
        }
    };
    let spec = serde_json::to_string(&cell.spec).expect("cell specs serialize");
    if let Some(mut stdin) = child.stdin.take() {
        // A worker that dies before reading is reported by its exit below.
        let _ = stdin.write_all(spec.as_bytes());
    }
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = e.read_to_end(&mut buf);
            buf
        })
    });
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let own_deadline = Instant::now() + cell.timeout;
    let deadline = budget_end.map_or(own_deadline, |b| b.min(own_deadline));
    let mut pace = Pace::new(cell);
    let mut outcome: Option<CellStatus> = None;
    let mut saw_done = false;
    let mut worker_error: Option<String> = None;
    loop {
        if interrupted.load(Ordering::SeqCst) {
            kill(&mut child);
            outcome = Some(CellStatus::Interrupted);
            break;
        }
        let now = Instant::now();
        if now >= deadline && deadline < own_deadline {
            kill(&mut child);
            outcome = Some(CellStatus::Skipped {
                reason: format!("the run's budget ran out ({})", progress(&result)),
            });
            break;
        }
        if now >= deadline {
            kill(&mut child);
            outcome = Some(CellStatus::TimedOut {
                reason: format!(
                    "no result within the cell's timeout of {:.1} s ({})",
                    cell.timeout.as_secs_f64(),
                    progress(&result)
                ),
            });
            break;
        }
        match rx.recv_timeout(POLL.min(deadline - now)) {
            Ok(Ok(line)) => match serde_json::from_str::<WorkerMessage>(&line) {
                Ok(WorkerMessage::Hello {
                    allocator, build, ..
                }) => {
                    result.allocator_identity = Some(allocator);
                    result.build = Some(build);
                }
                Ok(WorkerMessage::Setup { setup_ns, info }) => {
                    result.setup_ns = Some(setup_ns);
                    result.info = info;
                    pace.mark(Instant::now());
                }
                Ok(WorkerMessage::Sample(s)) => {
                    if !s.warmup {
                        on_sample();
                    }
                    result.samples.push(s);
                    let now = Instant::now();
                    pace.iteration_done(now);
                    if let Some(reason) = budget_end.and_then(|b| pace.overruns(now, b)) {
                        kill(&mut child);
                        outcome = Some(CellStatus::Skipped {
                            reason: format!("{reason} ({})", progress(&result)),
                        });
                        break;
                    }
                }
                Ok(WorkerMessage::Done { allocator_stats }) => {
                    result.allocator_stats = allocator_stats;
                    saw_done = true;
                }
                Ok(WorkerMessage::Error { message }) => worker_error = Some(message),
                Err(e) => {
                    kill(&mut child);
                    outcome = Some(CellStatus::Failed {
                        reason: format!(
                            "worker wrote a line that is not protocol JSON ({e}): {}",
                            truncate(&line, 200)
                        ),
                    });
                    break;
                }
            },
            Ok(Err(e)) => {
                kill(&mut child);
                outcome = Some(CellStatus::Failed {
                    reason: format!("reading worker output: {e}"),
                });
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }

    let exit = child.wait();
    let stderr_text = stderr
        .and_then(|h| h.join().ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    result.status = match outcome {
        Some(status) => status,
        None => match (exit, worker_error) {
            (_, Some(message)) => CellStatus::Failed { reason: message },
            (Ok(status), None) if status.success() && saw_done => verify_identity(&result),
            (Ok(status), None) => CellStatus::Failed {
                reason: describe_exit(status, saw_done),
            },
            (Err(e), None) => CellStatus::Failed {
                reason: format!("waiting for the worker: {e}"),
            },
        },
    };
    if result.status != CellStatus::Ok && !stderr_text.trim().is_empty() {
        let start = stderr_text.len().saturating_sub(STDERR_TAIL_BYTES);
        let start = (start..stderr_text.len())
            .find(|&i| stderr_text.is_char_boundary(i))
            .unwrap_or(0);
        result.stderr_tail = Some(stderr_text[start..].to_string());
    }
    result
}

/// A cell's result before (or without) its worker: nothing measured yet.
pub(super) fn unrun(cell: &PlannedCell, status: CellStatus) -> CellResult {
    CellResult {
        key: cell.key(),
        spec: cell.spec.clone(),
        allocator: cell.allocator.clone(),
        allocator_identity: None,
        build: None,
        status,
        setup_ns: None,
        info: Default::default(),
        samples: Vec::new(),
        allocator_stats: Default::default(),
        stderr_tail: None,
    }
}

/// "k of n samples measured", for a cell stopped before its end.
fn progress(result: &CellResult) -> String {
    format!(
        "{} of {} samples measured",
        result.measured().count(),
        result.spec.samples
    )
}

/// The fewest measured samples that make the cell ok: all of them, or an
/// adaptive cell's minimum (capped by the count).
fn fewest_samples(spec: &gaslab_protocol::CellSpec) -> usize {
    match spec.adaptive {
        Some(a) => a.min_samples.min(spec.samples),
        None => spec.samples,
    }
}

/// How fast a cell is going, from the gaps between its worker's messages
/// (wall time, so untimed work between samples counts too).
struct Pace {
    iterations_needed: usize,
    iterations_done: usize,
    last: Option<Instant>,
    /// The latest gap: warm-up's cold first iterations soon stop counting.
    per_iteration: Duration,
}

impl Pace {
    fn new(cell: &PlannedCell) -> Pace {
        // An adaptive cell is ok once it has its minimum; judge it by that.
        Pace {
            iterations_needed: cell.spec.warmup + fewest_samples(&cell.spec),
            iterations_done: 0,
            last: None,
            per_iteration: Duration::ZERO,
        }
    }

    fn mark(&mut self, now: Instant) {
        self.last = Some(now);
    }

    fn iteration_done(&mut self, now: Instant) {
        if let Some(last) = self.last {
            self.per_iteration = now - last;
        }
        self.iterations_done += 1;
        self.last = Some(now);
    }

    /// Why the cell cannot finish by `budget_end` at its present pace, or
    /// None while it still can.
    fn overruns(&self, now: Instant, budget_end: Instant) -> Option<String> {
        let left = self.iterations_needed.saturating_sub(self.iterations_done);
        let needed = self.per_iteration * left as u32;
        let room = budget_end.saturating_duration_since(now);
        (needed > room).then(|| {
            format!(
                "over the run's budget: {left} more iterations at {:.2} s each need about {:.0} s, {:.0} s left",
                self.per_iteration.as_secs_f64(),
                needed.as_secs_f64(),
                room.as_secs_f64()
            )
        })
    }
}

/// A cell whose worker ran another allocator than asked, or whose samples
/// disagree, must not pass as ok.
fn verify_identity(result: &CellResult) -> CellStatus {
    match &result.allocator_identity {
        Some(id) if id.name == result.allocator => {}
        Some(id) => {
            return CellStatus::Failed {
                reason: format!(
                    "asked for allocator `{}` but the worker's allocator answered `{}` ({})",
                    result.allocator, id.name, id.evidence
                ),
            }
        }
        None => {
            return CellStatus::Failed {
                reason: "worker never said which allocator it runs".into(),
            }
        }
    }
    // Adaptive sampling may stop anywhere from its minimum to the cap.
    let measured = result.measured().count();
    let enough = (fewest_samples(&result.spec)..=result.spec.samples).contains(&measured);
    if !enough {
        return CellStatus::Failed {
            reason: format!(
                "worker finished with {} of {} samples",
                result.measured().count(),
                result.spec.samples
            ),
        };
    }
    CellStatus::Ok
}

fn describe_exit(status: std::process::ExitStatus, saw_done: bool) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(sig)) => format!("worker was killed by signal {sig} ({})", signal_name(sig)),
        (Some(0), _) if !saw_done => "worker exited without finishing its samples".into(),
        (Some(code), _) => format!("worker exited with status {code}"),
        (None, None) => "worker ended for an unknown reason".into(),
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => "segmentation fault",
        libc::SIGABRT => "abort",
        libc::SIGKILL => "killed",
        libc::SIGBUS => "bus error",
        libc::SIGILL => "illegal instruction",
        libc::SIGFPE => "floating point exception",
        libc::SIGTERM => "terminated",
        _ => "signal",
    }
}

fn kill(child: &mut Child) {
    // The whole process group: a worker's own helper threads or children go too.
    // SAFETY: plain syscall on a pid we own.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    let _ = child.kill();
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Asks a worker binary who it is, without running a cell.
pub fn identify(workers: &Path, allocator: &str) -> Result<WorkerMessage, String> {
    let binary = workers.join(worker_binary(allocator));
    let out = Command::new(&binary)
        .arg("--identify")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next().unwrap_or("");
    serde_json::from_str(line)
        .map_err(|e| format!("{}: unexpected identify output ({e})", binary.display()))
}
