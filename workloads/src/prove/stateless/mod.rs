//! `prove.stateless`: the client program of a zk rollup, run natively.
//!
//! Setup generates a pre-state and a block, builds the full state trie and
//! records the witness on the host side. The measured part is the client:
//! hash the witness, execute the block over it with revm, apply the diff to
//! the partial trie and check the post-state root against the one the host
//! computed from the full post-state.

pub mod client;
pub mod generate;
pub mod trie;
pub mod witness;

use crate::registry::int_param;
use crate::{Iteration, Workload, WorkloadError};
use alloy_primitives::B256;
use client::{execute_and_root, StatelessError};
use gaslab_evm::{Block, BlockOutput};
use gaslab_protocol::CellSpec;
use generate::{generate, Shape};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use trie::HashWork;
use witness::{witness_codes, HostRecord, Witness, WitnessNodes};

/// What one stateless run produced and did.
#[derive(Debug, Clone)]
pub struct StatelessRun {
    pub output: BlockOutput,
    pub post_root: B256,
    pub work: HashWork,
}

/// The client: from a trusted pre-state root, a block and an untrusted
/// witness to the verified post-state root.
pub fn run_client(
    block: &Block,
    pre_root: B256,
    witness: &Witness,
    expected_post_root: B256,
) -> Result<StatelessRun, StatelessError> {
    let mut work = HashWork::default();
    let nodes = WitnessNodes::from_witness(witness, &mut work);
    let codes = witness_codes(witness, &mut work);
    let (output, run) = execute_and_root(block, pre_root, &nodes, &codes)?;
    if run.post_root != expected_post_root {
        return Err(StatelessError::RootMismatch {
            computed: run.post_root,
            expected: expected_post_root,
        });
    }
    work.keccak_calls += run.work.keccak_calls;
    work.trie_nodes_hashed += run.work.trie_nodes_hashed;
    Ok(StatelessRun {
        output,
        post_root: run.post_root,
        work,
    })
}

pub struct StatelessWorkload {
    block: Block,
    shape: Shape,
    host: HostRecord,
}

impl StatelessWorkload {
    pub fn new(spec: &CellSpec) -> Result<Self, WorkloadError> {
        let shape = Shape {
            txs: int_param(spec, "txs", 1..=100_000)? as usize,
            contracts: int_param(spec, "contracts", 1..=10_000)? as usize,
            slots: int_param(spec, "slots", 1..=100_000)? as usize,
            idle_accounts: int_param(spec, "idle_accounts", 0..=10_000_000)? as usize,
            delete_pct: int_param(spec, "delete_pct", 0..=100)? as u32,
        };
        let seed = int_param(spec, "seed", 0..=i64::MAX)? as u64;
        let (block, pre) = generate(shape, seed);
        let host = witness::record(&block, &pre).map_err(WorkloadError::Failed)?;
        Ok(Self { block, shape, host })
    }
}

impl Workload for StatelessWorkload {
    fn info(&self) -> BTreeMap<String, String> {
        let deleted_slots: usize = self
            .host
            .output
            .changes
            .values()
            .map(|c| c.storage.values().filter(|v| v.is_zero()).count())
            .sum();
        BTreeMap::from([
            ("txs".into(), self.shape.txs.to_string()),
            ("contracts".into(), self.shape.contracts.to_string()),
            ("slots_per_contract".into(), self.shape.slots.to_string()),
            ("idle_accounts".into(), self.shape.idle_accounts.to_string()),
            ("deleted_slots".into(), deleted_slots.to_string()),
            ("pre_state_root".into(), self.host.pre_root.to_string()),
            ("post_state_root".into(), self.host.post_root.to_string()),
            (
                "witness_nodes".into(),
                self.host.witness.nodes.len().to_string(),
            ),
            (
                "witness_codes".into(),
                self.host.witness.codes.len().to_string(),
            ),
            (
                "witness_bytes".into(),
                self.host.witness.bytes().to_string(),
            ),
            (
                "update_only_nodes".into(),
                self.host.update_only_nodes.to_string(),
            ),
            (
                "executor".into(),
                "sequential (revm over the witness)".into(),
            ),
        ])
    }

    fn iterate(&mut self) -> Result<Iteration<'_>, WorkloadError> {
        let run = run_client(
            &self.block,
            self.host.pre_root,
            &self.host.witness,
            self.host.post_root,
        )
        .map_err(|e| WorkloadError::Failed(format!("stateless client: {e}")))?;
        Ok(Iteration {
            gas: run.output.gas_used,
            work_units: run.output.receipts.len() as u64,
            check: Box::new(move || {
                let mut h = Sha256::new();
                h.update(run.output.digest());
                h.update(run.post_root);
                Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
            }),
            metrics: BTreeMap::from([
                ("witness_bytes".into(), self.host.witness.bytes() as f64),
                (
                    "trie_nodes_hashed".into(),
                    run.work.trie_nodes_hashed as f64,
                ),
                ("keccak_calls".into(), run.work.keccak_calls as f64),
            ]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaslab_evm::{execute_sequential, PreState};

    fn small(seed: u64) -> (Block, PreState, HostRecord) {
        let shape = Shape {
            txs: 40,
            contracts: 4,
            slots: 24,
            idle_accounts: 60,
            delete_pct: 40,
        };
        let (block, pre) = generate(shape, seed);
        let host = witness::record(&block, &pre).unwrap();
        (block, pre, host)
    }

    fn deleted_slots(output: &BlockOutput) -> usize {
        output
            .changes
            .values()
            .map(|c| c.storage.values().filter(|v| v.is_zero()).count())
            .sum()
    }

    #[test]
    fn stateless_root_equals_the_full_post_state_root_over_random_blocks_with_deletions() {
        for seed in 0..8 {
            let (block, pre, host) = small(seed);
            let run = run_client(&block, host.pre_root, &host.witness, host.post_root).unwrap();
            assert_eq!(run.post_root, host.post_root, "seed {seed}");
            assert_ne!(host.post_root, host.pre_root, "seed {seed}");
            assert!(
                deleted_slots(&run.output) > 0,
                "seed {seed} deletes nothing"
            );
            // Executing from the witness is executing the block.
            let full = execute_sequential(&block, &pre).unwrap();
            assert_eq!(run.output.digest(), full.digest(), "seed {seed}");
            assert!(run.work.trie_nodes_hashed > 0 && run.work.keccak_calls > 0);
        }
    }

    #[test]
    fn the_witness_is_a_small_part_of_the_state() {
        let shape = Shape {
            txs: 10,
            contracts: 4,
            slots: 24,
            idle_accounts: 2000,
            delete_pct: 40,
        };
        let (block, pre) = generate(shape, 3);
        let host = witness::record(&block, &pre).unwrap();
        let full = trie::full_state(&pre).unwrap();
        assert!(host.witness.nodes.len() * 4 < full.nodes.len());
        assert_eq!(host.witness.codes.len(), 1);
    }

    #[test]
    fn a_tampered_witness_node_is_rejected() {
        let (block, _, host) = small(11);
        let n = host.witness.nodes.len();
        for index in [0, 1, n / 2, n - 1] {
            let mut tampered = host.witness.clone();
            let mut node = tampered.nodes[index].to_vec();
            let last = node.len() - 1;
            node[last] ^= 0x01;
            tampered.nodes[index] = node.into();
            let err = run_client(&block, host.pre_root, &tampered, host.post_root)
                .expect_err("a tampered node must not verify");
            assert!(err.to_string().contains("not in the witness"), "{err}");
        }
    }

    #[test]
    fn tampered_bytecode_is_rejected() {
        let (block, _, host) = small(12);
        let mut tampered = host.witness.clone();
        let mut code = tampered.codes[0].to_vec();
        code[1] = 0x00;
        tampered.codes[0] = code.into();
        let err = run_client(&block, host.pre_root, &tampered, host.post_root).unwrap_err();
        assert!(err.to_string().contains("bytecode"), "{err}");
        assert!(err.to_string().contains("not in the witness"), "{err}");
    }

    #[test]
    fn deletions_need_the_sibling_nodes_the_host_recorded() {
        let (block, _, host) = small(13);
        assert!(host.update_only_nodes > 0, "no deletion needed a sibling");
        let mut short = host.witness.clone();
        short
            .nodes
            .truncate(short.nodes.len() - host.update_only_nodes);
        let err = run_client(&block, host.pre_root, &short, host.post_root).unwrap_err();
        assert!(err.to_string().contains("not in the witness"), "{err}");
    }

    #[test]
    fn a_wrong_expected_root_fails_the_run() {
        let (block, _, host) = small(14);
        let err = run_client(&block, host.pre_root, &host.witness, host.pre_root).unwrap_err();
        assert!(matches!(err, StatelessError::RootMismatch { .. }), "{err}");
    }
}
