//! The worker under per-cell scheduler settings: applied before the
//! workload, read back from sched_getattr and /proc, recorded; a refusal
//! fails the cell with the kernel's reason.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

fn worker() -> Command {
    Command::new(env!("CARGO_BIN_EXE_worker-system"))
}

/// Runs a worker on `spec` and returns its JSON lines and exit status.
fn run(mut cmd: Command, spec: &str) -> (Vec<Value>, i32) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("worker starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("protocol JSON"))
        .collect();
    (lines, out.status.code().unwrap_or(-1))
}

fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == t).collect()
}

fn spec(sched: &str) -> String {
    format!(
        r#"{{"workload":"evm.transfers","params":{{"txs":100}},"threads":1,"warmup":1,"samples":2,"sched":{sched}}}"#
    )
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn batch_nice_slice_and_compact_affinity_are_applied_and_read_back() {
    let (lines, code) = run(
        worker(),
        &spec(r#"{"policy":"batch","nice":3,"slice_ns":2000000,"affinity":{"kind":"compact"}}"#),
    );
    assert_eq!(code, 0, "{lines:?}");
    let setup = of_type(&lines, "setup");
    let info = &setup[0]["info"];
    assert_eq!(
        info["sched.requested"],
        "policy=batch,nice=3,slice=2000000ns,cpus=compact"
    );
    assert_eq!(info["sched.policy"], "batch", "sched_getattr");
    assert_eq!(info["sched.nice"], "3");
    assert_eq!(info["sched.cpus"], info["sched.requested_cpus"]);
    assert_eq!(info["sched.cpus"].as_str().unwrap().split(',').count(), 1);
    // /proc/<pid>/sched is the second witness where the kernel has it.
    if info["sched.proc"] != "unreadable" {
        assert_eq!(info["sched.proc.policy"], "batch");
        assert_eq!(info["sched.proc.prio"], "123", "120 + nice 3");
    }
    let status = info["sched.slice_status"].as_str().unwrap();
    assert!(
        status == "applied" || status.starts_with("ignored") || status.starts_with("adjusted"),
        "{status}"
    );
    if status == "applied" {
        assert_eq!(info["sched.runtime_ns"], "2000000");
    }
    assert_eq!(of_type(&lines, "done").len(), 1);
}

#[test]
fn counters_are_recorded_per_sample_or_named_unsupported_never_zeroed() {
    let (lines, code) = run(worker(), &spec(r#"{"policy":"other"}"#));
    assert_eq!(code, 0, "{lines:?}");
    let info = &of_type(&lines, "setup")[0]["info"];
    let samples = of_type(&lines, "sample");
    assert_eq!(samples.len(), 3);
    for metric in [
        "task_clock_ns",
        "context_switches",
        "cpu_migrations",
        "page_faults",
        "cycles",
        "instructions",
        "branch_misses",
        "cache_misses",
    ] {
        let state = info[format!("counter.{metric}")].as_str().unwrap();
        for s in &samples {
            let present = s["metrics"].get(metric).is_some();
            if state.starts_with("unsupported") {
                assert!(!present, "{metric} is {state} but has a value");
            } else {
                assert!(present, "{metric} is {state} but has no value");
            }
        }
    }
    let ipc_possible =
        info["counter.cycles"] == "counted" && info["counter.instructions"] == "counted";
    assert_eq!(samples[1]["metrics"].get("ipc").is_some(), ipc_possible);
}

#[test]
fn fifo_refused_fails_the_cell_with_the_reason() {
    // Take away what would let the kernel grant SCHED_FIFO: the
    // capability (root) and the real-time rlimit (everyone).
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--bounding-set",
            "-sys_nice",
            "--inh-caps",
            "-sys_nice",
            "prlimit",
            "--rtprio=0",
        ]);
        c
    } else {
        let mut c = Command::new("prlimit");
        c.arg("--rtprio=0");
        c
    };
    cmd.arg(env!("CARGO_BIN_EXE_worker-system"));
    let (lines, code) = run(cmd, &spec(r#"{"policy":"fifo","rt_priority":1}"#));
    assert_ne!(code, 0);
    let errors = of_type(&lines, "error");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("policy=fifo") && message.contains("refused"),
        "{message}"
    );
    assert!(message.contains("Operation not permitted"), "{message}");
    assert!(
        of_type(&lines, "sample").is_empty(),
        "nothing ran under another policy"
    );
}

#[test]
fn fifo_either_runs_as_fifo_or_fails_never_as_other() {
    let (lines, code) = run(worker(), &spec(r#"{"policy":"fifo","rt_priority":1}"#));
    if code == 0 {
        let info = &of_type(&lines, "setup")[0]["info"];
        assert_eq!(info["sched.policy"], "fifo");
        assert_eq!(info["sched.rt_priority"], "1");
    } else {
        assert!(of_type(&lines, "sample").is_empty());
        assert!(!of_type(&lines, "error").is_empty());
    }
}

#[test]
fn an_affinity_outside_the_allowed_cpus_is_refused() {
    let (lines, code) = run(
        worker(),
        &spec(r#"{"policy":"other","affinity":{"kind":"cpus","cpus":[4000]}}"#),
    );
    assert_ne!(code, 0);
    let message = of_type(&lines, "error")[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("CPU 4000"), "{message}");
}
