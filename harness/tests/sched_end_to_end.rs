//! Scheduler settings from profile to result set: applied and read back
//! per cell, refused fifo failing only its own cell, counters recorded,
//! and `gaslab env --diff` over result sets.

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

fn profile(name: &str, sched: &str) -> String {
    format!(
        "name = \"{name}\"\n[defaults]\nwarmup = 1\nsamples = 2\ntimeout_s = 60\nallocators = [\"system\"]\n\n[[matrix]]\nworkload = \"evm.transfers\"\nparams = {{ txs = 50, seed = 3 }}\nsched = [{sched}]\n"
    )
}

fn load(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn each_cell_runs_under_its_settings_and_records_them_with_counters() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(
        tmp.path(),
        "s.toml",
        &profile(
            "s",
            "{ policy = \"batch\", nice = 2, affinity = \"compact\" }, { policy = \"other\" }",
        ),
    );
    let results = tmp.path().join("results");
    let out = run(&[
        "run",
        p.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let set = load(&written_path(&out));
    let cells = set["content"]["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    let batch = &cells[0];
    assert_eq!(batch["status"]["state"], "ok", "{batch:#}");
    assert!(batch["key"]
        .as_str()
        .unwrap()
        .ends_with("sched=policy=batch,nice=2,cpus=compact"));
    assert_eq!(batch["spec"]["sched"]["policy"], "batch");
    assert_eq!(batch["info"]["sched.policy"], "batch");
    assert_eq!(batch["info"]["sched.nice"], "2");
    assert_eq!(cells[1]["info"]["sched.policy"], "other");
    for cell in cells {
        let counted = cell["info"]["counter.task_clock_ns"] == "counted";
        for s in cell["samples"].as_array().unwrap() {
            assert_eq!(s["metrics"].get("task_clock_ns").is_some(), counted);
        }
        assert!(
            cell["info"]["counter.cycles"].is_string(),
            "availability recorded"
        );
    }
    let v = run(&["validate", written_path(&out).to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
}

#[test]
fn refused_fifo_fails_its_cell_with_the_reason_and_the_matrix_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(
        tmp.path(),
        "f.toml",
        &profile(
            "f",
            "{ policy = \"fifo\", rt_priority = 1 }, { policy = \"other\" }",
        ),
    );
    let results = tmp.path().join("results");
    // Without CAP_SYS_NICE and with RLIMIT_RTPRIO 0 the kernel refuses fifo.
    // SAFETY: geteuid has no preconditions.
    let mut cmd = if unsafe { libc::geteuid() } == 0 {
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
    let out = cmd
        .arg(gaslab())
        .args([
            "run",
            p.to_str().unwrap(),
            "--results",
            results.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("1 of 2 cells did not finish ok"),
        "{}",
        text(&out)
    );
    let set = load(&written_path(&out));
    let cells = set["content"]["cells"].as_array().unwrap();
    assert_eq!(cells[0]["status"]["state"], "failed");
    let reason = cells[0]["status"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("policy=fifo") && reason.contains("refused"),
        "{reason}"
    );
    assert!(cells[0]["samples"].as_array().unwrap().is_empty());
    assert_eq!(cells[1]["status"]["state"], "ok");
}

#[test]
fn env_diff_groups_what_differs_between_two_result_sets() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let mut paths = Vec::new();
    for name in ["one", "two"] {
        let p = write(
            tmp.path(),
            &format!("{name}.toml"),
            &profile(name, "{ policy = \"other\" }"),
        );
        let out = run(&[
            "run",
            p.to_str().unwrap(),
            "--results",
            results.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        paths.push(written_path(&out));
        // Result names have one-second resolution; never collide.
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let (a, b) = (paths[0].to_str().unwrap(), paths[1].to_str().unwrap());
    let same = run(&["env", "--diff", a, a]);
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&same.stdout), "no differences\n");
    let d = run(&["env", "--diff", a, b]);
    assert_eq!(d.status.code(), Some(0), "{}", text(&d));
    let out = String::from_utf8_lossy(&d.stdout);
    assert!(out.contains("gaslab\n"), "{out}");
    assert!(out.contains("  profile.name: one -> two\n"), "{out}");
    let missing = run(&["env", "--diff", a, "/nonexistent.json"]);
    assert_eq!(missing.status.code(), Some(2));
}
