//! Checks an execution against the chain: the header's gas used, logs bloom
//! and (Byzantium on) receipts root, and one executor against another.

use crate::{MainnetBlock, Mismatch};
use alloy_consensus::proofs::calculate_receipt_root;
use alloy_consensus::{
    Eip658Value, Receipt as ConsensusReceipt, ReceiptEnvelope, ReceiptWithBloom,
};
use alloy_primitives::{logs_bloom, Bloom};
use gaslab_evm::revm::primitives::hardfork::SpecId;
use gaslab_evm::{BlockOutput, Receipt};

/// Ok when `out` reproduces `block`'s header.
pub fn verify_header(block: &MainnetBlock, out: &BlockOutput) -> Result<(), Mismatch> {
    let header = &block.header;
    let mismatch = |tx, field: &str, detail: String| Mismatch {
        block: block.number,
        tx,
        field: field.into(),
        detail,
    };
    if out.receipts.len() != block.tx_types.len() {
        return Err(mismatch(
            None,
            "transactions",
            format!(
                "{} receipts for {} transactions",
                out.receipts.len(),
                block.tx_types.len()
            ),
        ));
    }

    let blooms: Vec<Bloom> = out.receipts.iter().map(receipt_bloom).collect();
    let bloom = blooms.iter().fold(Bloom::ZERO, |acc, b| acc | *b);
    if bloom != header.logs_bloom {
        // A transaction whose logs set a bit the header lacks is wrong for
        // certain; name the first such one.
        let culprit = blooms
            .iter()
            .position(|b| (*b | header.logs_bloom) != header.logs_bloom);
        return Err(mismatch(
            culprit,
            "logsBloom",
            format!("header {} but execution {}", header.logs_bloom, bloom),
        ));
    }

    if out.gas_used != header.gas_used {
        // The first receipt whose running total passes the header's total
        // is provably wrong.
        let culprit = out
            .receipts
            .iter()
            .position(|r| r.cumulative_gas_used > header.gas_used);
        return Err(mismatch(
            culprit,
            "gasUsed",
            format!("header {} but execution {}", header.gas_used, out.gas_used),
        ));
    }

    // Before Byzantium a receipt commits to an intermediate state root,
    // which needs the whole state; gas and bloom are checked there.
    if block.spec.is_enabled_in(SpecId::BYZANTIUM) {
        let root = receipts_root(block, &out.receipts, &blooms);
        if root != header.receipts_root {
            return Err(mismatch(
                None,
                "receiptsRoot",
                format!("header {} but execution {}", header.receipts_root, root),
            ));
        }
    }
    Ok(())
}

fn receipt_bloom(r: &Receipt) -> Bloom {
    logs_bloom(r.logs.iter())
}

/// The receipts trie root, with alloy's receipt encoding and trie.
fn receipts_root(
    block: &MainnetBlock,
    receipts: &[Receipt],
    blooms: &[Bloom],
) -> alloy_primitives::B256 {
    let envelopes: Vec<ReceiptEnvelope> = receipts
        .iter()
        .zip(blooms)
        .zip(&block.tx_types)
        .map(|((r, bloom), ty)| {
            ReceiptEnvelope::from_typed(
                *ty,
                ReceiptWithBloom {
                    receipt: ConsensusReceipt {
                        status: Eip658Value::Eip658(r.success),
                        cumulative_gas_used: r.cumulative_gas_used,
                        logs: r.logs.clone(),
                    },
                    logs_bloom: *bloom,
                },
            )
        })
        .collect();
    calculate_receipt_root(&envelopes)
}

/// Ok when `other` produced exactly what `reference` did; otherwise the
/// first transaction and receipt field that differ, or the first account.
pub fn compare_outputs(
    block: u64,
    reference: &BlockOutput,
    other: &BlockOutput,
) -> Result<(), Mismatch> {
    let mismatch = |tx, field: &str, detail: String| Mismatch {
        block,
        tx,
        field: field.into(),
        detail,
    };
    for (i, (a, b)) in reference.receipts.iter().zip(&other.receipts).enumerate() {
        let field = if a.success != b.success {
            Some(("status", format!("{} vs {}", a.success, b.success)))
        } else if a.gas_used != b.gas_used {
            Some(("gasUsed", format!("{} vs {}", a.gas_used, b.gas_used)))
        } else if a.cumulative_gas_used != b.cumulative_gas_used {
            Some((
                "cumulativeGasUsed",
                format!("{} vs {}", a.cumulative_gas_used, b.cumulative_gas_used),
            ))
        } else if a.logs != b.logs {
            Some(("logs", format!("{} vs {} logs", a.logs.len(), b.logs.len())))
        } else {
            None
        };
        if let Some((field, detail)) = field {
            return Err(mismatch(
                Some(i),
                field,
                format!("sequential {detail} parallel"),
            ));
        }
    }
    if reference.receipts.len() != other.receipts.len() {
        return Err(mismatch(
            None,
            "receipts",
            format!(
                "sequential {} vs {} parallel",
                reference.receipts.len(),
                other.receipts.len()
            ),
        ));
    }
    if reference.changes != other.changes {
        let address = reference
            .changes
            .iter()
            .find(|(a, c)| other.changes.get(a) != Some(*c))
            .map(|(a, _)| *a)
            .or_else(|| {
                other
                    .changes
                    .keys()
                    .find(|a| !reference.changes.contains_key(a))
                    .copied()
            });
        return Err(mismatch(
            None,
            "state",
            format!("account {address:?} ends differently in parallel than in sequential"),
        ));
    }
    Ok(())
}
