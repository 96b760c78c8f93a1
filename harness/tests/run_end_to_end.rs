//! `gaslab run` from profile to validated result set, and the failures it
//! must survive.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn a_tiny_profile_runs_end_to_end_and_its_result_set_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write(
        tmp.path(),
        "tiny.toml",
        &tiny_profile(&["system", "mimalloc"], 3, 60.0),
    );
    let results = tmp.path().join("results");
    let out = run(&[
        "run",
        profile.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let path = written_path(&out);
    assert!(path.starts_with(&results), "{}", path.display());
    // <results>/<machine-id>/<utc-time>_<commit>.json
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.ends_with(".json") && name.contains('_'), "{name}");
    assert!(
        text(&out).contains("median rate") && text(&out).contains("Ggas/s"),
        "{}",
        text(&out)
    );

    let v = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    let s = run(&["show", path.to_str().unwrap()]);
    assert_eq!(s.status.code(), Some(0), "{}", text(&s));
    assert!(text(&s).contains("mimalloc"));

    let set: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(set["schema_version"], 1);
    let content = &set["content"];
    assert_eq!(content["complete"], true);
    assert_eq!(content["profile"]["name"], "tiny");
    for key in [
        "arch",
        "cpu.model",
        "kernel.release",
        "memory.total_bytes",
        "toolchain.rustc",
    ] {
        assert!(
            content["fingerprint_start"][key].is_string(),
            "fingerprint lacks {key}"
        );
        assert!(
            content["fingerprint_end"][key].is_string(),
            "end fingerprint lacks {key}"
        );
    }
    let cells = content["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    for cell in cells {
        assert_eq!(cell["status"]["state"], "ok", "{cell}");
        let samples = cell["samples"].as_array().unwrap();
        assert_eq!(samples.len(), 4, "1 warm-up + 3 samples");
        for s in samples {
            assert_eq!(s["gas"], 50 * 21_000);
            assert!(s["wall_ns"].as_u64().unwrap() > 0);
            assert_eq!(s["digest"], samples[0]["digest"]);
        }
        assert_eq!(cell["allocator_identity"]["name"], cell["allocator"]);
    }
}

#[test]
fn each_worker_reports_the_allocator_it_really_runs() {
    let dir = workers_dir();
    for a in ALLOCATORS {
        let out = std::process::Command::new(dir.join(format!("worker-{a}")))
            .arg("--identify")
            .output()
            .unwrap();
        assert!(out.status.success());
        let hello: Value =
            serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
        assert_eq!(hello["type"], "hello");
        assert_eq!(hello["allocator"]["name"], *a, "{hello}");
        assert!(!hello["allocator"]["evidence"].as_str().unwrap().is_empty());
        assert!(hello["build"]["crates"]["revm"].is_string());
    }
}

#[test]
fn a_worker_whose_allocator_answers_otherwise_fails_its_cell() {
    // worker-mimalloc replaced by the real system worker: the probe answers
    // "system", and the lab must not file it under mimalloc.
    let tmp = tempfile::tempdir().unwrap();
    let real = workers_dir().join("worker-system");
    let workers = fake_workers(
        tmp.path(),
        &[("mimalloc", &format!("exec {} \"$@\"", real.display()))],
    );
    let profile = write(tmp.path(), "p.toml", &tiny_profile(&["mimalloc"], 2, 60.0));
    let results = tmp.path().join("r");
    let out = run(&[
        "run",
        profile.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
        "--workers",
        workers.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let set: Value =
        serde_json::from_str(&std::fs::read_to_string(written_path(&out)).unwrap()).unwrap();
    let cell = &set["content"]["cells"][0];
    assert_eq!(cell["status"]["state"], "failed");
    assert!(
        cell["status"]["reason"]
            .as_str()
            .unwrap()
            .contains("answered `system`"),
        "{cell}"
    );
}

#[test]
fn crashing_and_hanging_workers_fail_only_their_own_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let workers = fake_workers(
        tmp.path(),
        &[
            ("mimalloc", "echo 'about to crash' >&2; kill -SEGV $$"),
            ("jemalloc", "exec sleep 600"),
        ],
    );
    let profile = write(
        tmp.path(),
        "p.toml",
        &tiny_profile(&["system", "mimalloc", "jemalloc", "snmalloc"], 2, 2.0),
    );
    let results = tmp.path().join("r");
    let started = std::time::Instant::now();
    let out = run(&[
        "run",
        profile.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
        "--workers",
        workers.to_str().unwrap(),
    ]);
    assert!(started.elapsed().as_secs() < 60, "the hang was not cut off");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let path = written_path(&out);
    let set: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cells = set["content"]["cells"].as_array().unwrap();
    let state = |i: usize| cells[i]["status"]["state"].as_str().unwrap().to_string();
    assert_eq!(state(0), "ok");
    assert_eq!(state(1), "failed");
    let reason = cells[1]["status"]["reason"].as_str().unwrap();
    assert!(reason.contains("signal 11"), "{reason}");
    assert!(cells[1]["stderr_tail"]
        .as_str()
        .unwrap()
        .contains("about to crash"));
    assert_eq!(state(2), "timed_out");
    assert!(cells[2]["status"]["reason"]
        .as_str()
        .unwrap()
        .contains("timeout"));
    assert_eq!(state(3), "ok", "the cell after the hang still ran");
    assert_eq!(
        run(&["validate", path.to_str().unwrap()]).status.code(),
        Some(0)
    );
}

#[test]
fn ctrl_c_keeps_what_was_measured_and_marks_the_set_incomplete() {
    let tmp = tempfile::tempdir().unwrap();
    // The hanging worker marks that it started, so the test waits for its
    // own worker rather than any `sleep` on the machine.
    let started = tmp.path().join("hang-started");
    let hang = format!("touch '{}'; exec sleep 600", started.display());
    let workers = fake_workers(tmp.path(), &[("jemalloc", hang.as_str())]);
    let profile = write(
        tmp.path(),
        "p.toml",
        &tiny_profile(&["system", "jemalloc", "snmalloc"], 2, 300.0),
    );
    let results = tmp.path().join("r");
    let child = std::process::Command::new(gaslab())
        .args([
            "run",
            profile.to_str().unwrap(),
            "--results",
            results.to_str().unwrap(),
            "--workers",
            workers.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the hanging cell is running.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if started.exists() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the hanging cell never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let path = written_path(&out);
    let set: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(set["content"]["complete"], false);
    let cells = set["content"]["cells"].as_array().unwrap();
    assert_eq!(cells[0]["status"]["state"], "ok");
    assert_eq!(cells[0]["samples"].as_array().unwrap().len(), 3);
    assert_eq!(cells[1]["status"]["state"], "interrupted");
    assert_eq!(cells.len(), 2, "no cell starts after Ctrl-C");
    assert_eq!(
        run(&["validate", path.to_str().unwrap()]).status.code(),
        Some(0)
    );
}
