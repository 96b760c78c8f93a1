//! compare, history, explain, calibrate and adaptive sampling through the
//! `gaslab` binary, on real result sets from real workers.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn profile_with(dir: &Path, name: &str, extra_defaults: &str, params: &str) -> PathBuf {
    write(
        dir,
        &format!("{name}.toml"),
        &format!(
            "name = \"{name}\"\n[defaults]\nwarmup = 2\nsamples = 12\ntimeout_s = 120\nallocators = [\"system\"]\n{extra_defaults}\n[[matrix]]\nworkload = \"evm.transfers\"\nparams = {{ txs = 200, seed = 3{params} }}\n"
        ),
    )
}

fn run_profile(profile: &Path, results: &Path) -> PathBuf {
    let out = run(&[
        "run",
        profile.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    written_path(&out)
}

#[test]
fn compare_judges_a_against_itself_and_against_a_doubled_workload() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let a = run_profile(&profile_with(tmp.path(), "a", "", ""), &results);
    // 100% injected work: every iteration does twice the CPU work.
    let b = run_profile(
        &profile_with(tmp.path(), "b", "", ", slowdown_pct = 100.0"),
        &results,
    );
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());

    let same = run(&["compare", a, a]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    let t = text(&same);
    assert!(
        t.contains("unchanged") && t.contains("geometric mean of ratios 1.0000"),
        "{t}"
    );

    let slow = run(&["compare", a, b]);
    assert_eq!(slow.status.code(), Some(1), "{}", text(&slow));
    assert!(text(&slow).contains("REGRESSION") && text(&slow).contains("B injected 100%"));

    let md = run(&["compare", a, b, "--format", "markdown"]);
    assert_eq!(md.status.code(), Some(1));
    assert!(text(&md).contains("regression found") && text(&md).contains("| cell |"));

    let js = run(&["compare", a, b, "--format", "json"]);
    assert_eq!(js.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&js.stdout).unwrap();
    assert_eq!(v["summary"]["regressions"], 1);
    assert_eq!(v["cells"][0]["verdict"], "regression");
    assert!(v["cells"][0]["ratio"]["upper"].as_f64().unwrap() < 0.98);

    let explain = run(&["explain", a, b, "--format", "json"]);
    assert_eq!(explain.status.code(), Some(0), "{}", text(&explain));
    let x: Value = serde_json::from_slice(&explain.stdout).unwrap();
    // Same commit both sides (the tree may be dirty while developing).
    assert_eq!(x["code"]["changed"], false, "{}", text(&explain));
    assert_eq!(x["code"]["from_commit"], x["code"]["to_commit"]);

    let history = run(&["history", results.to_str().unwrap()]);
    assert_eq!(history.status.code(), Some(0), "{}", text(&history));
    assert!(
        text(&history).contains("2 result sets"),
        "{}",
        text(&history)
    );
}

#[test]
fn bad_input_to_the_analysis_commands_exits_2_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.json");
    let out = run(&[
        "compare",
        missing.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("nope.json"), "{}", text(&out));
    let out = run(&["compare", "a", "b", "--noise", "2"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = run(&["history", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let p = profile_with(tmp.path(), "bad", "min_samples = 8", "");
    let out = run(&["run", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("defaults.min_samples") && text(&out).contains(":7:"),
        "{}",
        text(&out)
    );
}

#[test]
fn calibrate_records_its_table_in_a_result_set_that_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let p = profile_with(tmp.path(), "cal", "", "");
    let out = run(&[
        "calibrate",
        p.to_str().unwrap(),
        "--rounds",
        "2",
        "--sizes",
        "100",
        "--results",
        results.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("A/A (none)") && t.contains("A/B +100%") && t.contains("not detectable"),
        "{t}"
    );
    let path = written_path(&out);
    let v = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    let set: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cal = &set["content"]["calibration"];
    assert_eq!(cal["aa_pairs"], 1);
    assert_eq!(cal["sizes"][0]["pairs"], 4);
    // Two rounds of A and of B: every run is kept.
    assert_eq!(set["content"]["cells"].as_array().unwrap().len(), 4);
    // Calibration runs are not nights: history leaves them out.
    let h = run(&["history", results.to_str().unwrap(), "--format", "json"]);
    let hv: Value = serde_json::from_slice(&h.stdout).unwrap();
    assert_eq!(hv["cells"].as_array().unwrap().len(), 0, "{}", text(&h));
    // compare --calibration judges the cell with the band calibrated for it.
    let band = set["content"]["calibration"]["cell_noise"][0]["band"]
        .as_f64()
        .unwrap();
    let a = run_profile(&p, &tmp.path().join("nights"));
    let (a, cal_path) = (a.to_str().unwrap(), path.to_str().unwrap());
    let c = run(&[
        "compare",
        a,
        a,
        "--calibration",
        cal_path,
        "--format",
        "json",
    ]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c));
    let cv: Value = serde_json::from_slice(&c.stdout).unwrap();
    let used = cv["cells"][0]["noise_band"].as_f64().unwrap();
    assert!((used - band.max(0.02)).abs() < 1e-12, "{used} vs {band}");
    let not_cal = run(&["compare", a, a, "--calibration", a]);
    assert_eq!(not_cal.status.code(), Some(2), "{}", text(&not_cal));
    assert!(
        text(&not_cal).contains("holds no calibration"),
        "{}",
        text(&not_cal)
    );
    // ...but its detection limit is what a nightly report quotes. Whether two
    // rounds detect +100% depends on the host's noise; either way the
    // statement says what is not detectable here.
    let limit = &hv["detection_limits"][0]["statement"];
    assert!(
        limit
            .as_str()
            .unwrap()
            .contains("% are not detectable on this host"),
        "{limit}"
    );
}

#[test]
fn adaptive_sampling_stops_between_its_minimum_and_the_cap_and_says_what_it_saved() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(
        tmp.path(),
        "adaptive.toml",
        "name = \"adaptive\"\n[defaults]\nwarmup = 1\nsamples = 60\ntarget_ci_pct = 100.0\nmin_samples = 6\nallocators = [\"system\"]\n[[matrix]]\nworkload = \"evm.transfers\"\nparams = { txs = 100 }\n",
    );
    let results = tmp.path().join("results");
    let out = run(&[
        "run",
        p.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("adaptive sampling:"), "{}", text(&out));
    let set: Value =
        serde_json::from_str(&std::fs::read_to_string(written_path(&out)).unwrap()).unwrap();
    let cell = &set["content"]["cells"][0];
    assert_eq!(cell["status"]["state"], "ok");
    assert_eq!(cell["spec"]["adaptive"]["min_samples"], 6);
    let measured = cell["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["warmup"] == false)
        .count();
    assert!((6..=60).contains(&measured), "{measured}");
}
