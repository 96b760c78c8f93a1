//! `gaslab run --budget` and scripts/many-core.sh: the run ends within its
//! budget, and what would not fit is recorded as skipped, never lost.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cells(path: &Path) -> Vec<Value> {
    let set: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        set["content"]["complete"], true,
        "every cell is accounted for"
    );
    set["content"]["cells"].as_array().unwrap().clone()
}

fn state(cell: &Value) -> (&str, &str) {
    (
        cell["status"]["state"].as_str().unwrap(),
        cell["status"]["reason"].as_str().unwrap_or(""),
    )
}

#[test]
fn a_hanging_cell_is_cut_at_the_budget_and_later_cells_are_skipped_not_started() {
    let tmp = tempfile::tempdir().unwrap();
    let workers = fake_workers(tmp.path(), &[("jemalloc", "exec sleep 600")]);
    let profile = write(
        tmp.path(),
        "p.toml",
        &tiny_profile(&["system", "jemalloc", "snmalloc"], 2, 300.0),
    );
    let results = tmp.path().join("r");
    let budget = Duration::from_secs(8);
    let started = Instant::now();
    let out = run(&[
        "run",
        profile.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
        "--workers",
        workers.to_str().unwrap(),
        "--budget",
        &budget.as_secs().to_string(),
    ]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(took <= budget, "the run took {took:?}, over its budget");
    let path = written_path(&out);
    let cells = cells(&path);
    assert_eq!(cells.len(), 3, "skipped cells are recorded too");
    assert_eq!(state(&cells[0]).0, "ok");
    let (s, why) = state(&cells[1]);
    assert_eq!(s, "skipped", "{why}");
    assert!(why.contains("budget ran out"), "{why}");
    let (s, why) = state(&cells[2]);
    assert_eq!(s, "skipped", "{why}");
    assert!(why.starts_with("not started"), "{why}");
    assert!(cells[2]["samples"].as_array().unwrap().is_empty());
    assert_eq!(
        run(&["validate", path.to_str().unwrap()]).status.code(),
        Some(0)
    );
}

#[test]
fn a_cell_whose_pace_cannot_fit_is_stopped_early_and_the_next_one_still_runs() {
    let tmp = tempfile::tempdir().unwrap();
    // 100,000 iterations of a 2,000-transfer block: hours, against 60 s.
    let profile = write(
        tmp.path(),
        "p.toml",
        "name = \"pace\"\n[defaults]\nwarmup = 1\nsamples = 2\ntimeout_s = 600\n\n\
         [[matrix]]\nworkload = \"evm.transfers\"\nparams = { txs = 2000, seed = 1 }\nsamples = 100000\n\n\
         [[matrix]]\nworkload = \"evm.transfers\"\nparams = { txs = 50, seed = 3 }\n",
    );
    let results = tmp.path().join("r");
    let out = run(&[
        "run",
        profile.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
        "--budget",
        "60",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let cells = cells(&written_path(&out));
    let (s, why) = state(&cells[0]);
    assert_eq!(s, "skipped", "{why}");
    assert!(why.contains("over the run's budget"), "{why}");
    assert!(
        !cells[0]["samples"].as_array().unwrap().is_empty(),
        "what it measured before stopping is kept"
    );
    assert_eq!(state(&cells[1]), ("ok", ""), "the budget left was used");
}

#[test]
fn a_budget_must_be_a_positive_number_of_seconds() {
    for bad in ["0", "-5", "soon"] {
        let out = run(&["run", "profiles/smoke.toml", &format!("--budget={bad}")]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out));
        assert!(text(&out).contains("--budget"), "{}", text(&out));
    }
}

/// The script a team runs on a big machine: a directory of binaries in, a
/// validated result set and the mainnet replay out, inside its budget.
#[test]
fn the_many_core_script_stays_inside_its_budget_and_writes_a_valid_set() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake_workers(tmp.path(), &[("jemalloc", "exec sleep 600")]);
    std::os::unix::fs::symlink(gaslab(), bin.join("gaslab")).unwrap();
    std::fs::write(bin.join("COMMIT"), "0123456789ab dirty\n").unwrap();
    let profile = write(
        tmp.path(),
        "p.toml",
        &tiny_profile(&["system", "jemalloc", "mimalloc"], 2, 300.0),
    );
    let out_dir = tmp.path().join("out");
    let budget = 40;
    let started = Instant::now();
    let out = std::process::Command::new(repo_root().join("scripts/many-core.sh"))
        .args([
            bin.to_str().unwrap(),
            out_dir.to_str().unwrap(),
            &budget.to_string(),
            profile.to_str().unwrap(),
        ])
        .env("REPLAY_THREADS", "4")
        .env("REPLAY_S", "25")
        .current_dir(repo_root())
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(took.as_secs() <= budget, "the script took {took:?}");
    let set = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .and_then(|machine| std::fs::read_dir(machine).unwrap().next())
        .expect("a result set under OUT/<machine-id>/")
        .unwrap()
        .path();
    let cells = cells(&set);
    assert_eq!(state(&cells[0]).0, "ok");
    assert_eq!(state(&cells[1]).0, "skipped");
    let content: Value = serde_json::from_str(&std::fs::read_to_string(&set).unwrap()).unwrap();
    let built = &content["content"]["gaslab"];
    assert_eq!(
        built["commit"], "0123456789ab",
        "the binaries' commit, from BIN_DIR/COMMIT"
    );
    assert_eq!(built["dirty"], true);
    let log = std::fs::read_to_string(out_dir.join("many-core.log")).unwrap();
    assert!(log.contains(": ok (schema"), "the set was validated: {log}");
    let replay: Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("replay-4t.json")).expect("replay written"),
    )
    .unwrap();
    assert_eq!(replay["summary"]["mismatched"], 0);
    assert!(replay["summary"]["matched"].as_u64().unwrap() > 0);
}
