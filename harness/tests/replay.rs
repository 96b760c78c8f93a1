//! `gaslab replay` end to end: the chain's headers are the oracle, and
//! every way a block can fail to reproduce them exits 1 naming the block;
//! bad input exits 2 naming the file.

mod common;

use common::{run, text};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn subset() -> PathBuf {
    workspace().join("workloads/data/mainnet-subset")
}

/// The full shared set, where it sits beside the clone (or the worktree).
fn shared_blocks() -> Option<PathBuf> {
    let ws = workspace();
    [
        std::env::var_os("GASLAB_MAINNET_BLOCKS").map(PathBuf::from),
        Some(ws.join("../shared/mainnet-blocks")),
        Some(ws.join("../../shared/mainnet-blocks")),
    ]
    .into_iter()
    .flatten()
    .find(|d| d.join("README.md").is_file())
}

fn replay(args: &[&str]) -> std::process::Output {
    common::workers_dir();
    let mut all = vec!["replay", "--runs", "1"];
    all.extend_from_slice(args);
    run(&all)
}

/// A copy of one subset block, to corrupt.
fn copy_block(tmp: &Path, number: &str) -> PathBuf {
    let dst = tmp.join(number);
    std::fs::create_dir_all(&dst).unwrap();
    for entry in std::fs::read_dir(subset().join(number)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dst.join(entry.file_name())).unwrap();
    }
    dst
}

fn edit_json(file: &Path, edit: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(file, serde_json::to_string(&v).unwrap()).unwrap();
}

#[test]
fn every_shared_block_verifies() {
    let blocks = shared_blocks().unwrap_or_else(subset);
    let out = replay(&["--format", "json", blocks.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = doc["blocks"].as_array().unwrap();
    if shared_blocks().is_some() {
        assert_eq!(rows.len(), 41);
    }
    assert!(rows.iter().all(|r| r["verdict"] == "match"), "{doc}");
    assert_eq!(doc["summary"]["matched"].as_u64(), Some(rows.len() as u64));
}

#[test]
fn the_table_names_each_block_and_its_hardfork() {
    let dir = subset();
    let out = replay(&[
        dir.join("46147").to_str().unwrap(),
        dir.join("19933122").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("46147") && stdout.contains("Frontier"),
        "{stdout}"
    );
    assert!(
        stdout.contains("19933122") && stdout.contains("Cancun"),
        "{stdout}"
    );
    assert!(stdout.contains("2 blocks: 2 match"), "{stdout}");
}

/// Each row says how the parallel executor took the block: a one-tx block
/// is too small to try, a mining pool's payout chain that is the whole
/// block runs sequentially at once, and a block of independent calls runs
/// in parallel. A sequential-only replay has no such column to fill.
#[test]
fn each_row_names_the_parallel_executors_path() {
    let dir = subset();
    let blocks =
        ["46147", "5891667", "19933122", "13287210"].map(|b| dir.join(b).display().to_string());
    let mut args = vec!["--format", "json", "--executor", "both", "--threads", "2"];
    args.extend(blocks.iter().map(String::as_str));
    let out = replay(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = |i: usize| {
        doc["blocks"][i]["parallel_path"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(path(0), "small_block", "{doc}");
    assert_eq!(path(1), "sender_chain", "{doc}");
    assert_eq!(path(2), "parallel", "{doc}");
    // 1408 of its 1414 transactions are one sender's transfers.
    assert_eq!(path(3), "hot_sender", "{doc}");
    assert!(doc["blocks"][2]["re_executions_per_tx"].is_f64(), "{doc}");

    let mut args = vec!["--format", "json", "--executor", "sequential"];
    args.push(blocks[0].as_str());
    let out = replay(&args);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["blocks"][0]["parallel_path"].is_null(), "{doc}");
}

#[test]
fn a_corrupted_receipts_root_is_a_mismatch_naming_the_block_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let block = copy_block(tmp.path(), "5891667");
    edit_json(&block.join("block.json"), |b| {
        b["receiptsRoot"] = Value::String(format!("0x{}", "11".repeat(32)));
    });
    let out = replay(&[block.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("block 5891667") && all.contains("receiptsRoot"),
        "{all}"
    );
}

#[test]
fn a_wrong_pre_state_balance_is_a_mismatch_naming_the_block_and_transaction() {
    let tmp = tempfile::tempdir().unwrap();
    let block = copy_block(tmp.path(), "1150000");
    let sender = {
        let b: Value =
            serde_json::from_str(&std::fs::read_to_string(block.join("block.json")).unwrap())
                .unwrap();
        b["transactions"][3]["from"].as_str().unwrap().to_string()
    };
    edit_json(&block.join("pre_state.json"), |pre| {
        pre[&sender]["balance"] = Value::String("0x1".into());
    });
    let out = replay(&[block.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("block 1150000"), "{all}");
    // The first transaction this sender sends is the first that cannot pay.
    assert!(all.contains("transaction "), "{all}");
}

#[test]
fn a_missing_account_is_a_mismatch_naming_the_block() {
    let tmp = tempfile::tempdir().unwrap();
    let block = copy_block(tmp.path(), "5891667");
    // The contract the first contract call goes to: without its code the
    // call does nothing and the gas differs.
    let callee = {
        let b: Value =
            serde_json::from_str(&std::fs::read_to_string(block.join("block.json")).unwrap())
                .unwrap();
        let pre: Value =
            serde_json::from_str(&std::fs::read_to_string(block.join("pre_state.json")).unwrap())
                .unwrap();
        b["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["to"].as_str())
            .map(str::to_lowercase)
            .find(|to| pre[to.as_str()]["code"].is_string())
            .expect("a transaction calls a contract")
    };
    edit_json(&block.join("pre_state.json"), |pre| {
        assert!(pre.as_object_mut().unwrap().remove(&callee).is_some());
    });
    let out = replay(&[block.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("block 5891667"), "{}", text(&out));
}

#[test]
fn truncated_json_exits_2_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let block = copy_block(tmp.path(), "2462997");
    let file = block.join("pre_state.json");
    let body = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, &body[..body.len() / 2]).unwrap();
    let out = replay(&[block.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("pre_state.json"), "{}", text(&out));
}

#[test]
fn a_malformed_field_exits_2_naming_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let block = copy_block(tmp.path(), "46147");
    edit_json(&block.join("block.json"), |b| {
        b["transactions"][0]["gas"] = Value::String("lots".into());
    });
    let out = replay(&[block.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("block.json"), "{all}");
}

#[test]
fn an_unknown_blockhash_ancestor_is_not_made_up() {
    let tmp = tempfile::tempdir().unwrap();
    let block = copy_block(tmp.path(), "2462997");
    std::fs::remove_file(block.join("block_hashes.json")).unwrap();
    let out = replay(&[block.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("BLOCKHASH(2462996)"), "{}", text(&out));
}

#[test]
fn parallel_and_sequential_both_verify_every_block_and_agree() {
    let blocks = shared_blocks().unwrap_or_else(subset);
    let out = replay(&[
        "--executor",
        "both",
        "--threads",
        "2",
        blocks.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    if shared_blocks().is_some() {
        assert!(text(&out).contains("41 blocks"), "{}", text(&out));
    }
}

#[test]
fn each_parallel_row_carries_the_blocks_own_headroom() {
    let dir = subset();
    let out = replay(&[
        "--executor",
        "both",
        "--threads",
        "2",
        "--format",
        "json",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let headroom: Vec<f64> = doc["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["headroom"].as_f64().expect("a headroom on every row"))
        .collect();
    // One transaction has nothing to overlap; two threads cap the rest.
    assert!(
        headroom.iter().all(|h| (1.0..=2.0).contains(h)),
        "{headroom:?}"
    );
    assert!(headroom.iter().any(|h| *h > 1.05), "{headroom:?}");

    let sequential_only = replay(&["--format", "json", dir.join("46147").to_str().unwrap()]);
    let doc: Value = serde_json::from_slice(&sequential_only.stdout).unwrap();
    assert!(doc["blocks"][0]["headroom"].is_null(), "{doc}");
}
