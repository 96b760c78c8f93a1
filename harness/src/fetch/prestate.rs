//! Merging geth's per-transaction `prestateTracer` results into the state
//! the whole block started from.
//!
//! A transaction's trace shows every account and slot it read or wrote, as
//! they were before that transaction. Whatever an earlier transaction
//! changed, it also touched, so it is in that earlier trace: the first
//! trace to mention an account or a slot holds its value before the block.

use crate::error::LabError;
use serde_json::{Map, Value};

/// Merges `traces` (debug_traceBlockByNumber's reply) in transaction order.
pub fn merge(traces: &Value) -> Result<Map<String, Value>, LabError> {
    let Value::Array(traces) = traces else {
        return Err(LabError::Other(
            "debug_traceBlockByNumber: the reply is not an array of traces".into(),
        ));
    };
    let mut merged = Map::new();
    for (index, trace) in traces.iter().enumerate() {
        let Some(Value::Object(accounts)) = trace.get("result") else {
            let why = trace
                .get("error")
                .map_or("no `result`".to_string(), |e| e.to_string());
            return Err(LabError::Other(format!(
                "debug_traceBlockByNumber: transaction {index}: {why}"
            )));
        };
        for (address, account) in accounts {
            let address = address.to_lowercase();
            match merged.get_mut(&address) {
                None => {
                    merged.insert(address, account.clone());
                }
                Some(seen) => add_unseen_slots(seen, account),
            }
        }
    }
    Ok(merged)
}

/// Slots a later transaction read for the first time still hold their
/// value from before the block.
fn add_unseen_slots(seen: &mut Value, later: &Value) {
    let Some(Value::Object(later_slots)) = later.get("storage") else {
        return;
    };
    let Some(seen) = seen.as_object_mut() else {
        return;
    };
    let slots = seen
        .entry("storage")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(slots) = slots {
        for (slot, value) in later_slots {
            slots.entry(slot.clone()).or_insert_with(|| value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_trace_to_mention_an_account_or_slot_wins() {
        let traces = json!([
            {"txHash": "0x1", "result": {
                "0xAA": {"balance": "0x10", "nonce": 1, "storage": {"0x01": "0x05"}}
            }},
            {"txHash": "0x2", "result": {
                "0xaa": {"balance": "0x99", "nonce": 2, "storage": {"0x01": "0x06", "0x02": "0x07"}},
                "0xbb": {"balance": "0x1"}
            }}
        ]);
        let merged = merge(&traces).unwrap();
        assert_eq!(
            Value::Object(merged),
            json!({
                "0xaa": {"balance": "0x10", "nonce": 1, "storage": {"0x01": "0x05", "0x02": "0x07"}},
                "0xbb": {"balance": "0x1"}
            })
        );
    }

    #[test]
    fn a_failed_trace_is_an_error_naming_the_transaction() {
        let err = merge(&json!([{"result": {}}, {"error": "execution timeout"}])).unwrap_err();
        assert!(err.to_string().contains("transaction 1"), "{err}");
    }
}
