//! A minimal JSON-RPC 2.0 client over HTTP: one call, or a batch.

use crate::error::LabError;
use serde_json::{json, Value};

pub struct RpcClient {
    url: String,
    agent: ureq::Agent,
}

impl RpcClient {
    pub fn new(url: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(300)))
            .http_status_as_error(false)
            .build()
            .into();
        RpcClient {
            url: url.to_string(),
            agent,
        }
    }

    /// One call; a JSON-RPC error object becomes an error naming the method.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, LabError> {
        let reply =
            self.post(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))?;
        result_of(method, reply)
    }

    /// Many calls of one method in one request, results in request order.
    pub fn batch(&self, method: &str, params: &[Value]) -> Result<Vec<Value>, LabError> {
        let requests: Vec<Value> = params
            .iter()
            .enumerate()
            .map(|(id, p)| json!({"jsonrpc": "2.0", "id": id, "method": method, "params": p}))
            .collect();
        let reply = self.post(&Value::Array(requests))?;
        let Value::Array(mut replies) = reply else {
            return Err(self.error(format!("{method} batch: the reply is not a JSON array")));
        };
        replies.sort_by_key(|r| r.get("id").and_then(Value::as_u64).unwrap_or(u64::MAX));
        if replies.len() != params.len() {
            return Err(self.error(format!(
                "{method} batch: {} replies to {} requests",
                replies.len(),
                params.len()
            )));
        }
        replies.into_iter().map(|r| result_of(method, r)).collect()
    }

    fn post(&self, body: &Value) -> Result<Value, LabError> {
        let mut response = self
            .agent
            .post(&self.url)
            .send_json(body)
            .map_err(|e| self.error(e.to_string()))?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .map_err(|e| self.error(e.to_string()))?;
        if !status.is_success() {
            return Err(self.error(format!("HTTP {status}: {}", text.trim())));
        }
        serde_json::from_str(&text).map_err(|e| self.error(format!("reply is not JSON: {e}")))
    }

    fn error(&self, message: String) -> LabError {
        LabError::Other(format!("{}: {message}", self.url))
    }
}

fn result_of(method: &str, mut reply: Value) -> Result<Value, LabError> {
    if let Some(error) = reply.get("error") {
        return Err(LabError::Other(format!(
            "{method}: the node answered {error}"
        )));
    }
    match reply.get_mut("result").map(Value::take) {
        Some(Value::Null) | None => Err(LabError::Other(format!(
            "{method}: the node returned no result (unknown block, or not an archive node?)"
        ))),
        Some(result) => Ok(result),
    }
}
