//! `gaslab fetch` against a JSON-RPC server on 127.0.0.1 that answers with
//! a recorded block and prestate traces built from a committed block
//! folder: what fetch writes must replay and match the chain's header.

mod common;

use common::{run, text};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

const BLOCK: u64 = 2_462_997;

fn block_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../workloads/data/mainnet-subset")
        .join(BLOCK.to_string())
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Per-transaction prestate traces whose merge is the block's pre-state:
/// accounts and slots spread over two transactions, and later traces that
/// repeat an account with a value it only had after an earlier transaction.
fn traces(pre: &Map<String, Value>, txs: usize) -> Value {
    let mut first = Map::new();
    let mut second = Map::new();
    for (i, (address, account)) in pre.iter().enumerate() {
        let mut early = account.clone();
        let mut late = json!({"balance": "0xdead", "nonce": 99});
        if let Some(Value::Object(slots)) = account.get("storage") {
            let (a, b): (Vec<_>, Vec<_>) = slots.iter().enumerate().partition(|(j, _)| j % 2 == 0);
            early["storage"] = Value::Object(
                a.into_iter()
                    .map(|(_, (k, v))| (k.clone(), v.clone()))
                    .collect(),
            );
            late["storage"] = Value::Object(
                b.into_iter()
                    .map(|(_, (k, v))| (k.clone(), v.clone()))
                    .collect(),
            );
        }
        if i % 2 == 0 {
            first.insert(address.to_uppercase().replace("0X", "0x"), early);
            second.insert(address.clone(), late);
        } else {
            second.insert(address.clone(), account.clone());
        }
    }
    let mut out = vec![
        json!({"txHash": "0x01", "result": first}),
        json!({"txHash": "0x02", "result": second}),
    ];
    out.resize(txs, json!({"txHash": "0x03", "result": {}}));
    Value::Array(out)
}

/// Serves the recorded answers until the test ends.
fn serve(block: Value, traces: Value, hashes: Map<String, Value>) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let mut body = String::new();
            request.as_reader().read_to_string(&mut body).unwrap();
            let call: Value = serde_json::from_str(&body).unwrap();
            let answer = |c: &Value| {
                let number = u64::from_str_radix(
                    c["params"][0].as_str().unwrap().trim_start_matches("0x"),
                    16,
                )
                .unwrap();
                let ancestor = number < BLOCK && number + 256 >= BLOCK;
                let result = match (c["method"].as_str().unwrap(), number == BLOCK) {
                    ("eth_getBlockByNumber", true) => block.clone(),
                    ("debug_traceBlockByNumber", true) => traces.clone(),
                    ("eth_getBlockByNumber", false) if ancestor => json!({
                        "number": format!("{number:#x}"),
                        "hash": hashes.get(&number.to_string()).cloned()
                            .unwrap_or_else(|| json!(format!("0x{number:064x}"))),
                    }),
                    _ => {
                        return json!({"jsonrpc": "2.0", "id": c["id"], "error": {"code": -32000, "message": "header not found"}})
                    }
                };
                json!({"jsonrpc": "2.0", "id": c["id"], "result": result})
            };
            let reply = match &call {
                Value::Array(calls) => Value::Array(calls.iter().map(answer).collect()),
                one => answer(one),
            };
            let response = tiny_http::Response::from_string(reply.to_string()).with_header(
                "Content-Type: application/json"
                    .parse::<tiny_http::Header>()
                    .unwrap(),
            );
            let _ = request.respond(response);
        }
    });
    url
}

fn recorded_server() -> String {
    let dir = block_dir();
    let block = read(&dir.join("block.json"));
    let pre = read(&dir.join("pre_state.json"));
    let txs = block["transactions"].as_array().unwrap().len();
    let hashes = read(&dir.join("block_hashes.json"))
        .as_object()
        .unwrap()
        .clone();
    serve(block, traces(pre.as_object().unwrap(), txs), hashes)
}

#[test]
fn a_fetched_block_folder_is_the_recorded_one_and_replays_to_its_header() {
    let url = recorded_server();
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&[
        "fetch",
        &url,
        &BLOCK.to_string(),
        "--out",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let fetched = tmp.path().join(BLOCK.to_string());
    let dir = block_dir();
    assert_eq!(
        read(&fetched.join("block.json")),
        read(&dir.join("block.json"))
    );
    assert_eq!(
        read(&fetched.join("pre_state.json")),
        read(&dir.join("pre_state.json"))
    );
    let hashes = read(&fetched.join("block_hashes.json"));
    assert_eq!(hashes.as_object().unwrap().len(), 256);
    assert_eq!(
        hashes["2462996"],
        read(&dir.join("block_hashes.json"))["2462996"]
    );

    common::workers_dir();
    let replayed = run(&["replay", "--runs", "1", fetched.to_str().unwrap()]);
    assert_eq!(replayed.status.code(), Some(0), "{}", text(&replayed));

    // A second fetch never overwrites what is there.
    let again = run(&[
        "fetch",
        &url,
        &BLOCK.to_string(),
        "--out",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("not overwritten"), "{}", text(&again));
}

#[test]
fn a_node_that_does_not_know_the_block_exits_2_and_writes_nothing() {
    let url = recorded_server();
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&[
        "fetch",
        &url,
        "12345",
        "--out",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("header not found"), "{}", text(&out));
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
