//! From a cell spec to a ready workload.

use crate::evm::amm::AmmWorkload;
use crate::evm::erc20::Erc20Workload;
use crate::evm::mainnet::MainnetWorkload;
use crate::evm::transfers::TransfersWorkload;
use crate::prove::keccak::KeccakWorkload;
use crate::prove::stateless::StatelessWorkload;
use crate::{Workload, WorkloadError};
use gaslab_protocol::{workload_schema, CellSpec, ParamKind, ParamValue};

/// Builds the workload a cell names, after checking its parameters against
/// the shared catalogue and filling in defaults.
pub fn build(spec: &CellSpec) -> Result<Box<dyn Workload>, WorkloadError> {
    let spec = with_defaults(spec)?;
    match spec.workload.as_str() {
        "evm.transfers" => Ok(Box::new(TransfersWorkload::new(&spec)?)),
        "evm.erc20" => Ok(Box::new(Erc20Workload::new(&spec)?)),
        "evm.amm" => Ok(Box::new(AmmWorkload::new(&spec)?)),
        "prove.keccak" => Ok(Box::new(KeccakWorkload::new(&spec)?)),
        "prove.stateless" => Ok(Box::new(StatelessWorkload::new(&spec)?)),
        "evm.mainnet" => Ok(Box::new(MainnetWorkload::new(&spec)?)),
        other => Err(WorkloadError::UnknownWorkload(other.to_string())),
    }
}

fn with_defaults(spec: &CellSpec) -> Result<CellSpec, WorkloadError> {
    let schema = workload_schema(&spec.workload)
        .ok_or_else(|| WorkloadError::UnknownWorkload(spec.workload.clone()))?;
    let mut spec = spec.clone();
    for name in spec.params.keys() {
        if schema.param(name).is_none() {
            return Err(WorkloadError::BadParam {
                name: name.clone(),
                reason: format!("not a parameter of {}", schema.name),
            });
        }
    }
    for p in schema.params {
        if let Some(default) = p.default {
            if !spec.params.contains_key(p.name) {
                let value = match p.kind {
                    ParamKind::Int => ParamValue::Int(default.parse().expect("catalogue default")),
                    ParamKind::Float => {
                        ParamValue::Float(default.parse().expect("catalogue default"))
                    }
                    ParamKind::Text => ParamValue::Text(default.to_string()),
                };
                spec.params.insert(p.name.to_string(), value);
            }
        }
    }
    Ok(spec)
}

/// Reads a required integer parameter within `range`.
pub fn int_param(
    spec: &CellSpec,
    name: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, WorkloadError> {
    let v = spec.int(name).ok_or_else(|| WorkloadError::BadParam {
        name: name.into(),
        reason: "missing or not an integer".into(),
    })?;
    if !range.contains(&v) {
        return Err(WorkloadError::BadParam {
            name: name.into(),
            reason: format!("{v} is outside {}..={}", range.start(), range.end()),
        });
    }
    Ok(v)
}

/// Reads a required float parameter within `range`.
pub fn float_param(
    spec: &CellSpec,
    name: &str,
    range: std::ops::RangeInclusive<f64>,
) -> Result<f64, WorkloadError> {
    let v = spec.float(name).ok_or_else(|| WorkloadError::BadParam {
        name: name.into(),
        reason: "missing or not a number".into(),
    })?;
    if !range.contains(&v) {
        return Err(WorkloadError::BadParam {
            name: name.into(),
            reason: format!("{v} is outside {}..={}", range.start(), range.end()),
        });
    }
    Ok(v)
}

/// Reads a required text parameter.
pub fn text_param<'a>(spec: &'a CellSpec, name: &str) -> Result<&'a str, WorkloadError> {
    spec.text(name).ok_or_else(|| WorkloadError::BadParam {
        name: name.into(),
        reason: "missing or not text".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn spec(workload: &str, params: &[(&str, ParamValue)]) -> CellSpec {
        CellSpec {
            workload: workload.into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            threads: 1,
            warmup: 0,
            samples: 1,
            sched: None,
            adaptive: None,
        }
    }

    #[test]
    fn every_catalogued_workload_builds_with_its_defaults() {
        for schema in gaslab_protocol::WORKLOADS {
            let mut small = BTreeMap::new();
            if schema.params.iter().any(|p| p.name == "txs") {
                small.insert("txs".to_string(), ParamValue::Int(4));
            }
            let s = CellSpec {
                params: small,
                ..spec(schema.name, &[])
            };
            let mut w = build(&s).unwrap_or_else(|e| panic!("{}: {e}", schema.name));
            w.iterate().unwrap();
        }
    }

    #[test]
    fn unknown_workloads_and_params_are_refused() {
        assert!(matches!(
            build(&spec("evm.nope", &[])),
            Err(WorkloadError::UnknownWorkload(_))
        ));
        let err = build(&spec("evm.transfers", &[("colour", ParamValue::Int(1))]))
            .err()
            .unwrap();
        assert!(err.to_string().contains("colour"), "{err}");
        let err = build(&spec("evm.transfers", &[("txs", ParamValue::Int(0))]))
            .err()
            .unwrap();
        assert!(err.to_string().contains("txs"), "{err}");
    }
}
