//! Result sets are refused when altered, truncated or malformed, and never
//! overwritten.

mod common;

use common::*;

fn one_result_set(dir: &std::path::Path) -> std::path::PathBuf {
    let profile = write(dir, "tiny.toml", &tiny_profile(&["system"], 2, 60.0));
    let results = dir.join("results");
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
fn a_tampered_result_set_is_refused_by_every_reader() {
    let tmp = tempfile::tempdir().unwrap();
    let path = one_result_set(tmp.path());
    let original = std::fs::read_to_string(&path).unwrap();
    // Make a sample look faster than it was.
    let needle = "\"wall_ns\": ";
    let i = original.find(needle).unwrap() + needle.len();
    let tampered = format!("{}1{}", &original[..i], &original[i..]);
    std::fs::write(&path, tampered).unwrap();
    for cmd in ["validate", "show"] {
        let out = run(&[cmd, path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {}", text(&out));
        let msg = text(&out);
        assert!(
            msg.contains("sha256") && msg.contains(path.to_str().unwrap()),
            "{msg}"
        );
    }
}

#[test]
fn a_truncated_result_set_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let path = one_result_set(tmp.path());
    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &original[..original.len() / 2]).unwrap();
    let out = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let msg = text(&out);
    assert!(
        msg.contains(path.to_str().unwrap()) && msg.contains("truncated"),
        "{msg}"
    );
}

#[test]
fn two_runs_in_the_same_second_never_overwrite_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let a = one_result_set(tmp.path());
    let before = std::fs::read(&a).unwrap();
    let b = one_result_set(tmp.path());
    assert_ne!(a, b);
    assert_eq!(
        std::fs::read(&a).unwrap(),
        before,
        "the first result set was not touched"
    );
}
