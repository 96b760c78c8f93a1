//! `gaslab fetch`: writes block folders in the replay's format from an
//! archive node, so users can add their own chain's blocks:
//! `block.json` (eth_getBlockByNumber with full transactions),
//! `pre_state.json` (debug_traceBlockByNumber with the prestateTracer,
//! merged over the block's transactions) and `block_hashes.json` (the
//! ancestors BLOCKHASH can read).

mod prestate;
mod rpc;

use crate::error::LabError;
use rpc::RpcClient;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// BLOCKHASH reaches back this many blocks.
const BLOCKHASH_WINDOW: u64 = 256;
/// Ancestor headers asked for per batch request.
const BATCH: usize = 64;

/// Fetches each of `blocks` into `out/<number>/`; an existing folder is
/// never overwritten.
pub fn fetch(rpc_url: &str, blocks: &[String], out: &Path) -> Result<Vec<PathBuf>, LabError> {
    let numbers = blocks
        .iter()
        .map(|b| parse_number(b))
        .collect::<Result<Vec<_>, _>>()?;
    let client = RpcClient::new(rpc_url);
    std::fs::create_dir_all(out).map_err(|e| LabError::file(out, format!("cannot create: {e}")))?;
    numbers
        .into_iter()
        .map(|n| fetch_block(&client, n, out))
        .collect()
}

fn parse_number(text: &str) -> Result<u64, LabError> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| LabError::Other(format!("`{text}` is not a block number")))
}

fn quantity(n: u64) -> Value {
    Value::String(format!("{n:#x}"))
}

fn fetch_block(client: &RpcClient, number: u64, out: &Path) -> Result<PathBuf, LabError> {
    let dir = out.join(number.to_string());
    if dir.exists() {
        return Err(LabError::file(&dir, "already exists; not overwritten"));
    }
    let block = client.call("eth_getBlockByNumber", json!([quantity(number), true]))?;
    let txs = block
        .get("transactions")
        .and_then(Value::as_array)
        .map(Vec::len)
        .ok_or_else(|| LabError::Other(format!("block {number}: no `transactions` array")))?;
    let traces = client.call(
        "debug_traceBlockByNumber",
        json!([quantity(number), {"tracer": "prestateTracer"}]),
    )?;
    let traced = traces.as_array().map_or(0, Vec::len);
    if traced != txs {
        return Err(LabError::Other(format!(
            "block {number}: {traced} prestate traces for {txs} transactions"
        )));
    }
    let pre_state = prestate::merge(&traces)?;
    let hashes = ancestor_hashes(client, number)?;

    // Written beside the target and renamed, so a folder is whole or absent.
    let partial = out.join(format!(".{number}.partial-{}", std::process::id()));
    let write = |name: &str, value: &Value| {
        let text = serde_json::to_string(value).expect("JSON values serialize");
        std::fs::write(partial.join(name), text)
            .map_err(|e| LabError::file(partial.join(name), e.to_string()))
    };
    std::fs::create_dir_all(&partial).map_err(|e| LabError::file(&partial, e.to_string()))?;
    let written = write("block.json", &block)
        .and_then(|()| write("pre_state.json", &Value::Object(pre_state)))
        .and_then(|()| match hashes.is_empty() {
            true => Ok(()),
            false => write("block_hashes.json", &Value::Object(hashes)),
        })
        .and_then(|()| {
            std::fs::rename(&partial, &dir).map_err(|e| LabError::file(&dir, e.to_string()))
        });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    written.map(|()| dir)
}

/// The hashes of the (up to) 256 blocks before `number`, keyed by decimal
/// number: every ancestor BLOCKHASH could read.
fn ancestor_hashes(
    client: &RpcClient,
    number: u64,
) -> Result<serde_json::Map<String, Value>, LabError> {
    let first = number.saturating_sub(BLOCKHASH_WINDOW);
    let ancestors: Vec<u64> = (first..number).collect();
    let mut hashes = serde_json::Map::new();
    for chunk in ancestors.chunks(BATCH) {
        let params: Vec<Value> = chunk.iter().map(|n| json!([quantity(*n), false])).collect();
        for (n, header) in chunk
            .iter()
            .zip(client.batch("eth_getBlockByNumber", &params)?)
        {
            let hash = header
                .get("hash")
                .filter(|h| h.is_string())
                .ok_or_else(|| LabError::Other(format!("ancestor {n}: no `hash`")))?;
            hashes.insert(n.to_string(), hash.clone());
        }
    }
    Ok(hashes)
}
