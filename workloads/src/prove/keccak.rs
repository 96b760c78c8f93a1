//! `prove.keccak`: prove 2^k keccak-f permutations with Plonky3, then verify.
//!
//! The inputs and the rayon pool are built in setup; an iteration generates
//! the trace, proves and verifies, which is what a prover pays per proof.

use super::stark::{self, KeccakProof, KeccakStarkConfig};
use crate::registry::int_param;
use crate::{Iteration, Workload, WorkloadError};
use gaslab_protocol::CellSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Instant;

pub const MAX_LOG_PERMUTATIONS: i64 = 16;

pub struct KeccakWorkload {
    inputs: Vec<[u64; 25]>,
    log_blowup: usize,
    config: KeccakStarkConfig,
    pool: rayon::ThreadPool,
}

impl KeccakWorkload {
    pub fn new(spec: &CellSpec) -> Result<Self, WorkloadError> {
        let log_permutations = int_param(spec, "log_permutations", 0..=MAX_LOG_PERMUTATIONS)?;
        let log_blowup = int_param(spec, "log_blowup", 1..=4)? as usize;
        let seed = int_param(spec, "seed", 0..=i64::MAX)? as u64;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(spec.threads.max(1))
            .thread_name(|i| format!("prove-{i}"))
            .build()
            .map_err(|e| WorkloadError::Failed(format!("rayon pool: {e}")))?;
        Ok(Self {
            inputs: random_inputs(1 << log_permutations, seed),
            log_blowup,
            config: stark::config(log_blowup),
            pool,
        })
    }
}

/// Keccak-f input states, deterministic in `seed`.
pub fn random_inputs(count: usize, seed: u64) -> Vec<[u64; 25]> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count).map(|_| rng.random()).collect()
}

/// Bytes of the proof as postcard serialises it (compact, field elements as varints).
pub fn proof_bytes(proof: &KeccakProof) -> Result<usize, WorkloadError> {
    postcard::to_allocvec(proof)
        .map(|v| v.len())
        .map_err(|e| WorkloadError::Failed(format!("serialising the proof: {e}")))
}

impl Workload for KeccakWorkload {
    fn info(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("permutations".into(), self.inputs.len().to_string()),
            // What work_units counts: the lab's rate for a gasless cell.
            ("work_unit".into(), "permutation".into()),
            ("log_blowup".into(), self.log_blowup.to_string()),
            ("field".into(), "KoalaBear (BinomialExtension<4>)".into()),
            ("merkle_hash".into(), "keccak-f (p3-keccak)".into()),
            (
                "keccak_vector_len".into(),
                p3_keccak::VECTOR_LEN.to_string(),
            ),
            (
                "rayon_threads".into(),
                self.pool.current_num_threads().to_string(),
            ),
        ])
    }

    fn iterate(&mut self) -> Result<Iteration<'_>, WorkloadError> {
        let (config, inputs, log_blowup) = (&self.config, &self.inputs, self.log_blowup);
        let (proof, prove_s, verify_s) = self
            .pool
            .install(|| {
                let start = Instant::now();
                let trace = stark::trace(inputs.clone(), log_blowup);
                let proof = stark::prove_trace(config, trace)?;
                let prove_s = start.elapsed().as_secs_f64();
                let start = Instant::now();
                stark::verify_proof(config, &proof)?;
                Ok::<_, String>((proof, prove_s, start.elapsed().as_secs_f64()))
            })
            .map_err(WorkloadError::Failed)?;
        let size = proof_bytes(&proof)?;
        let permutations = inputs.len() as u64;
        Ok(Iteration {
            gas: 0,
            work_units: permutations,
            check: Box::new(move || statement_digest(&proof, permutations, log_blowup)),
            metrics: BTreeMap::from([
                ("prove_s".into(), prove_s),
                ("verify_s".into(), verify_s),
                ("proof_bytes".into(), size as f64),
                ("proofs_per_s".into(), 1.0 / (prove_s + verify_s)),
                (
                    "permutations_per_s".into(),
                    permutations as f64 / (prove_s + verify_s),
                ),
            ]),
        })
    }
}

/// What a verified proof is about: the size of the statement and the trace
/// commitment. Proof-of-work witnesses found by parallel grinding may differ
/// from run to run, so the whole proof is not part of the digest.
fn statement_digest(
    proof: &KeccakProof,
    permutations: u64,
    log_blowup: usize,
) -> Result<String, WorkloadError> {
    let commitment = postcard::to_allocvec(&proof.commitments.trace)
        .map_err(|e| WorkloadError::Failed(format!("serialising the commitment: {e}")))?;
    let mut h = Sha256::new();
    h.update(b"prove.keccak verified");
    h.update(permutations.to_be_bytes());
    h.update((log_blowup as u64).to_be_bytes());
    h.update((proof.degree_bits as u64).to_be_bytes());
    h.update(&commitment);
    Ok(h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use p3_field::PrimeCharacteristicRing;

    fn small_proof() -> (KeccakStarkConfig, KeccakProof) {
        let config = stark::config(1);
        let trace = stark::trace(random_inputs(4, 9), 1);
        let proof = stark::prove_trace(&config, trace).unwrap();
        (config, proof)
    }

    #[test]
    fn a_valid_proof_verifies() {
        let (config, proof) = small_proof();
        stark::verify_proof(&config, &proof).unwrap();
        assert!(proof_bytes(&proof).unwrap() > 1000);
    }

    #[test]
    fn a_corrupted_opening_is_rejected() {
        let (config, mut proof) = small_proof();
        proof.opened_values.trace_local[0] += stark::Challenge::ONE;
        assert!(stark::verify_proof(&config, &proof).is_err());
    }

    #[test]
    fn a_proof_of_other_inputs_does_not_verify_against_this_commitment() {
        let (config, mut proof) = small_proof();
        let other = stark::trace(random_inputs(4, 10), 1);
        let other = stark::prove_trace(&config, other).unwrap();
        proof.commitments.trace = other.commitments.trace;
        assert!(stark::verify_proof(&config, &proof).is_err());
    }

    #[test]
    fn the_digest_names_the_statement_not_the_grinding() {
        let spec = CellSpec {
            workload: "prove.keccak".into(),
            params: [("log_permutations", 2), ("log_blowup", 1), ("seed", 1)]
                .iter()
                .map(|(k, v)| (k.to_string(), gaslab_protocol::ParamValue::Int(*v)))
                .collect(),
            threads: 2,
            warmup: 0,
            samples: 1,
            sched: None,
            adaptive: None,
        };
        let mut w = KeccakWorkload::new(&spec).unwrap();
        let a = w.iterate().unwrap();
        assert_eq!(a.work_units, 4);
        assert!(a.metrics["proof_bytes"] > 0.0);
        let a = a.digest().unwrap();
        assert_eq!(a, w.iterate().unwrap().digest().unwrap());
    }
}
