//! Each worker's own copies of the contracts it runs most, and of the empty
//! code. revm takes a reference to an account's code (an `Arc`) for every
//! call and drops it after: where every transaction calls one token or pool,
//! every core bumps one reference count, on one cache line they hand back
//! and forth. A worker's own copy keeps those bumps in its own cache.
//!
//! The empty code is the worst such line: revm gives every account loaded
//! without code its one process-wide `Bytecode::default()`, so each plain
//! transfer bumped that count four times. With two threads, the `lock decq`
//! of dropping it was 5% of a transfer block's time.

use revm::bytecode::{opcode, Bytecode, JumpTable};
use revm::primitives::map::DefaultHashBuilder;
use revm::primitives::{Bytes, B256, KECCAK_EMPTY};
use std::collections::HashMap;

/// A contract is copied once a worker has met it this often in one block:
/// copying (and analysing) each of a mainnet block's hundreds of contracts
/// once per worker would cost more than their few calls bump.
const COPY_AFTER: u32 = 8;

pub(super) struct CodeCopies {
    met: HashMap<B256, (u32, Option<Bytecode>), DefaultHashBuilder>,
    empty: Bytecode,
}

impl Default for CodeCopies {
    fn default() -> Self {
        Self {
            met: HashMap::default(),
            empty: own_empty_code(),
        }
    }
}

/// Empty code in an `Arc` of its own: what `Bytecode::default()` holds.
fn own_empty_code() -> Bytecode {
    // SAFETY: revm's own empty code: one STOP to run off into, an original
    // length of zero, and no jump destinations.
    unsafe { Bytecode::new_analyzed(Bytes::from_static(&[opcode::STOP]), 0, JumpTable::default()) }
}

impl CodeCopies {
    /// The code revm is to see for an account with this code hash and
    /// code: this worker's empty code where there is none, so that revm
    /// never reaches for its shared one.
    pub(super) fn code_of(&mut self, hash: B256, code: Option<&Bytecode>) -> Option<Bytecode> {
        match code {
            Some(code) if !code.is_empty() => Some(self.get(hash, code)),
            _ if hash == KECCAK_EMPTY => Some(self.empty.clone()),
            code => code.cloned(),
        }
    }

    /// Non-empty code with this hash: this worker's own copy once it has
    /// met the contract often, `shared` until then.
    fn get(&mut self, hash: B256, shared: &Bytecode) -> Bytecode {
        let (met, copy) = self.met.entry(hash).or_default();
        if let Some(copy) = copy {
            return copy.clone();
        }
        *met += 1;
        if *met < COPY_AFTER || !shared.is_legacy() {
            return shared.clone();
        }
        // The same bytes analysed again: the same code, in memory of its own.
        let own = Bytecode::new_legacy(Bytes::copy_from_slice(shared.original_byte_slice()));
        *copy = Some(own.clone());
        own
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use revm::bytecode::opcode::{JUMPDEST, PUSH1, STOP};

    #[test]
    fn code_less_accounts_get_the_workers_own_empty_code() {
        let mut copies = CodeCopies::default();
        let shared = Bytecode::default();
        for code in [None, Some(&shared)] {
            let own = copies.code_of(KECCAK_EMPTY, code).unwrap();
            assert!(!own.is_default());
            assert_eq!(own.bytecode_ptr(), copies.empty.bytecode_ptr());
            assert!(own.is_empty() && own.is_legacy());
            assert_eq!(own.bytecode(), shared.bytecode());
            assert_eq!(own.legacy_jump_table(), shared.legacy_jump_table());
            assert_eq!(own.hash_slow(), KECCAK_EMPTY);
        }
        // Code missing under another hash stays missing: revm asks for it.
        assert!(copies.code_of(B256::repeat_byte(1), None).is_none());
    }

    #[test]
    fn a_contract_met_often_gets_a_copy_equal_to_the_shared_code() {
        let shared = Bytecode::new_legacy(Bytes::from(vec![PUSH1, 3, JUMPDEST, STOP]));
        let hash = shared.hash_slow();
        let mut copies = CodeCopies::default();
        let got: Vec<Bytecode> = (0..2 * COPY_AFTER)
            .map(|_| copies.get(hash, &shared))
            .collect();
        let shares = |code: &Bytecode| code.bytecode_ptr() == shared.bytecode_ptr();
        assert!(got[..COPY_AFTER as usize - 1].iter().all(shares));
        let copies = &got[COPY_AFTER as usize - 1..];
        assert!(copies.iter().all(|c| !shares(c)));
        assert!(copies
            .iter()
            .all(|c| c.bytecode_ptr() == copies[0].bytecode_ptr()));
        for copy in copies {
            assert_eq!(copy.original_byte_slice(), shared.original_byte_slice());
            assert_eq!(copy.bytecode(), shared.bytecode());
            assert_eq!(copy.legacy_jump_table(), shared.legacy_jump_table());
            assert_eq!(copy.len(), shared.len());
        }
    }
}
