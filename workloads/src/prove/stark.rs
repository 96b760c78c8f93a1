//! The STARK configuration `prove.keccak` proves under, wired as Plonky3's
//! own keccak examples wire it (a 31-bit field, keccak-f Merkle hashing,
//! radix-2 DFT, FRI), so the lab measures the shape provers actually run.

use p3_challenger::{HashChallenger, SerializingChallenger32};
use p3_commit::ExtensionMmcs;
use p3_dft::Radix2DitParallel;
use p3_field::extension::BinomialExtensionField;
use p3_fri::{FriParameters, TwoAdicFriPcs};
use p3_keccak::{Keccak256Hash, KeccakF};
use p3_keccak_air::{generate_trace_rows, KeccakAir};
use p3_koala_bear::KoalaBear;
use p3_matrix::dense::RowMajorMatrix;
use p3_merkle_tree::MerkleTreeMmcs;
use p3_symmetric::{CompressionFunctionFromHasher, PaddingFreeSponge, SerializingHasher};
use p3_uni_stark::{prove, verify, Proof, StarkConfig};

pub type Val = KoalaBear;
pub type Challenge = BinomialExtensionField<Val, 4>;
type U64Hash = PaddingFreeSponge<KeccakF, 25, 17, 4>;
type FieldHash = SerializingHasher<U64Hash>;
type Compress = CompressionFunctionFromHasher<U64Hash, 2, 4>;
type ValMmcs = MerkleTreeMmcs<
    [Val; p3_keccak::VECTOR_LEN],
    [u64; p3_keccak::VECTOR_LEN],
    FieldHash,
    Compress,
    2,
    4,
>;
type ChallengeMmcs = ExtensionMmcs<Val, Challenge, ValMmcs>;
type Dft = Radix2DitParallel<Val>;
type Challenger = SerializingChallenger32<Val, HashChallenger<u8, Keccak256Hash, 32>>;
type Pcs = TwoAdicFriPcs<Val, Dft, ValMmcs, ChallengeMmcs>;
pub type KeccakStarkConfig = StarkConfig<Pcs, Challenge, Challenger>;
pub type KeccakProof = Proof<KeccakStarkConfig>;

/// Plonky3's benchmark FRI parameters with the blowup the cell asks for.
pub fn config(log_blowup: usize) -> KeccakStarkConfig {
    let u64_hash = U64Hash::new(KeccakF {});
    let val_mmcs = ValMmcs::new(FieldHash::new(u64_hash), Compress::new(u64_hash), 3);
    let challenge_mmcs = ChallengeMmcs::new(val_mmcs.clone());
    let fri = FriParameters {
        log_blowup,
        ..FriParameters::new_benchmark(challenge_mmcs)
    };
    let pcs = Pcs::new(Dft::default(), val_mmcs, fri);
    KeccakStarkConfig::new(pcs, Challenger::from_hasher(vec![], Keccak256Hash {}))
}

/// The execution trace of keccak-f over `inputs`, with room for the blowup.
pub fn trace(inputs: Vec<[u64; 25]>, log_blowup: usize) -> RowMajorMatrix<Val> {
    generate_trace_rows::<Val>(inputs, log_blowup)
}

pub fn prove_trace(
    config: &KeccakStarkConfig,
    trace: RowMajorMatrix<Val>,
) -> Result<KeccakProof, String> {
    prove(config, &KeccakAir {}, trace, &[]).map_err(|e| format!("proving failed: {e:?}"))
}

pub fn verify_proof(config: &KeccakStarkConfig, proof: &KeccakProof) -> Result<(), String> {
    verify(config, &KeccakAir {}, proof, &[]).map_err(|e| format!("verification failed: {e:?}"))
}
