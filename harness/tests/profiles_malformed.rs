//! Malformed profiles: an error naming file, line and field, exit 2, no panic.

mod common;

use common::*;

fn check(body: &str, line: usize, field: &str, words: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "bad.toml", body);
    let out = run(&[
        "run",
        p.to_str().unwrap(),
        "--results",
        tmp.path().join("r").to_str().unwrap(),
    ]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");
    let at = format!("bad.toml:{line}:");
    assert!(msg.contains(&at), "expected {at} in: {msg}");
    assert!(msg.contains(field), "expected field {field} in: {msg}");
    assert!(msg.contains(words), "expected {words:?} in: {msg}");
    assert!(
        !tmp.path().join("r").exists(),
        "nothing is written for a bad profile"
    );
}

const HEAD: &str = "name = \"bad\"\n[defaults]\nsamples = 2\n";

#[test]
fn bad_toml() {
    check(
        &format!("{HEAD}[[matrix]]\nworkload = \"evm.transfers\nparams = {{}}\n"),
        5,
        "workload",
        "",
    );
}

#[test]
fn unknown_workload() {
    check(
        &format!("{HEAD}[[matrix]]\nworkload = \"evm.nope\"\n"),
        5,
        "matrix[0].workload",
        "unknown workload `evm.nope`",
    );
}

#[test]
fn unknown_allocator() {
    check(
        "name = \"bad\"\n[defaults]\nallocators = [\"system\",\n  \"tcmalloc\"]\n[[matrix]]\nworkload = \"evm.transfers\"\n",
        4,
        "defaults.allocators[1]",
        "unknown allocator `tcmalloc`",
    );
}

#[test]
fn wrong_type_in_settings() {
    check(
        &format!("{HEAD}[[matrix]]\nworkload = \"evm.transfers\"\nsamples = \"ten\"\n"),
        6,
        "samples",
        "",
    );
}

#[test]
fn wrong_type_in_params() {
    check(
        &format!("{HEAD}[[matrix]]\nworkload = \"evm.transfers\"\nparams = {{ txs = \"many\" }}\n"),
        6,
        "matrix[0].params.txs",
        "expected integer",
    );
}

#[test]
fn unknown_parameter_and_unknown_key() {
    check(
        &format!("{HEAD}[[matrix]]\nworkload = \"evm.transfers\"\nparams = {{ colour = 1 }}\n"),
        6,
        "params.colour",
        "no parameter",
    );
    check(
        &format!("{HEAD}samplez = 3\n[[matrix]]\nworkload = \"evm.transfers\"\n"),
        4,
        "samplez",
        "unknown field",
    );
}

#[test]
fn missing_profile_file() {
    let out = run(&["run", "/nonexistent/p.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("/nonexistent/p.toml"));
}
