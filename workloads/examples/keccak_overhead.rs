//! What the worker adds to a Plonky3 keccak proof.
//!
//! Runs Plonky3's keccak example shape as a plain program (its own config
//! wiring, global rayon pool, system allocator, no worker loop) and the same
//! proof through `worker-system` as the lab runs it, alternating rounds so
//! machine noise hits both alike, and prints both medians and their ratio.
//!
//!     cargo build --release --workspace
//!     cargo run --release -p gaslab-workloads --example keccak_overhead -- 10 1 5 8
//!
//! Arguments: log2 permutations, log2 FRI blowup, rounds, proofs per round.
//! Threads follow RAYON_NUM_THREADS for both sides (default 1 here).

use p3_challenger::{HashChallenger, SerializingChallenger32};
use p3_commit::ExtensionMmcs;
use p3_dft::Radix2DitParallel;
use p3_field::extension::BinomialExtensionField;
use p3_fri::{FriParameters, TwoAdicFriPcs};
use p3_keccak::{Keccak256Hash, KeccakF};
use p3_keccak_air::{generate_trace_rows, KeccakAir};
use p3_koala_bear::KoalaBear;
use p3_merkle_tree::MerkleTreeMmcs;
use p3_symmetric::{CompressionFunctionFromHasher, PaddingFreeSponge, SerializingHasher};
use p3_uni_stark::{prove, verify, StarkConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

type Val = KoalaBear;
type Challenge = BinomialExtensionField<Val, 4>;
type U64Hash = PaddingFreeSponge<KeccakF, 25, 17, 4>;
type FieldHash = SerializingHasher<U64Hash>;
type MyCompress = CompressionFunctionFromHasher<U64Hash, 2, 4>;
type ValMmcs = MerkleTreeMmcs<
    [Val; p3_keccak::VECTOR_LEN],
    [u64; p3_keccak::VECTOR_LEN],
    FieldHash,
    MyCompress,
    2,
    4,
>;
type ChallengeMmcs = ExtensionMmcs<Val, Challenge, ValMmcs>;
type Dft = Radix2DitParallel<Val>;
type Challenger = SerializingChallenger32<Val, HashChallenger<u8, Keccak256Hash, 32>>;
type Pcs = TwoAdicFriPcs<Val, Dft, ValMmcs, ChallengeMmcs>;
type MyConfig = StarkConfig<Pcs, Challenge, Challenger>;

/// One proof the way Plonky3's example makes it, timed from trace to verified.
fn plain_proof(inputs: &[[u64; 25]], log_blowup: usize) -> f64 {
    let start = Instant::now();
    let u64_hash = U64Hash::new(KeccakF {});
    let val_mmcs = ValMmcs::new(FieldHash::new(u64_hash), MyCompress::new(u64_hash), 3);
    let challenge_mmcs = ChallengeMmcs::new(val_mmcs.clone());
    let fri_params = FriParameters {
        log_blowup,
        ..FriParameters::new_benchmark(challenge_mmcs)
    };
    let trace = generate_trace_rows::<Val>(inputs.to_vec(), fri_params.log_blowup);
    let pcs = Pcs::new(Dft::default(), val_mmcs, fri_params);
    let config = MyConfig::new(pcs, Challenger::from_hasher(vec![], Keccak256Hash {}));
    let proof = prove(&config, &KeccakAir {}, trace, &[]).expect("proves");
    verify(&config, &KeccakAir {}, &proof, &[]).expect("verifies");
    start.elapsed().as_secs_f64()
}

/// The same proof through the lab's worker: the walls of its measured samples.
fn worker_proofs(
    worker: &std::path::Path,
    log_perms: u32,
    log_blowup: usize,
    n: usize,
    threads: usize,
) -> Vec<f64> {
    let spec = format!(
        r#"{{"workload":"prove.keccak","params":{{"log_permutations":{log_perms},"log_blowup":{log_blowup},"seed":1}},"threads":{threads},"warmup":1,"samples":{n}}}"#
    );
    let mut child = Command::new(worker)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "starting {}: {e} (cargo build --release first)",
                worker.display()
            )
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "worker failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "sample" && v["warmup"] == false)
        .map(|v| v["wall_ns"].as_u64().unwrap() as f64 / 1e9)
        .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numeric arguments"))
        .collect();
    let arg = |i: usize, default: usize| args.get(i).copied().unwrap_or(default);
    let (log_perms, log_blowup, rounds, per_round) =
        (arg(0, 10) as u32, arg(1, 1), arg(2, 5), arg(3, 8));
    let threads: usize = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("global pool");
    let worker = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|examples| examples.parent())
        .unwrap()
        .join("worker-system");
    // Same inputs as the worker's (seed 1).
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let inputs: Vec<[u64; 25]> = (0..1usize << log_perms).map(|_| rng.random()).collect();
    plain_proof(&inputs, log_blowup); // warm-up

    let (mut plain, mut lab) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        plain.extend((0..per_round).map(|_| plain_proof(&inputs, log_blowup)));
        lab.extend(worker_proofs(
            &worker, log_perms, log_blowup, per_round, threads,
        ));
        eprintln!("round {}/{rounds} done", round + 1);
    }
    let (p, w) = (median(&mut plain), median(&mut lab));
    println!(
        "2^{log_perms} keccak-f permutations, log_blowup {log_blowup}, {threads} thread(s), {} proofs each",
        plain.len()
    );
    println!("plain Plonky3 program: median {:.4} s/proof", p);
    println!("worker-system:         median {:.4} s/proof", w);
    println!(
        "worker / plain:        {:.4} ({:+.2}%)",
        w / p,
        (w / p - 1.0) * 100.0
    );
}
