//! Each worker's own copies of the contracts it runs most. revm takes a
//! reference to an account's code (an `Arc`) for every call and drops it
//! after: where every transaction calls one token or pool, every core bumps
//! one reference count, on one cache line they hand back and forth. A
//! worker's own copy keeps those bumps in its own cache.

use revm::bytecode::Bytecode;
use revm::primitives::map::DefaultHashBuilder;
use revm::primitives::{Bytes, B256};
use std::collections::HashMap;

/// A contract is copied once a worker has met it this often in one block:
/// copying (and analysing) each of a mainnet block's hundreds of contracts
/// once per worker would cost more than their few calls bump.
const COPY_AFTER: u32 = 8;

#[derive(Default)]
pub(super) struct CodeCopies {
    met: HashMap<B256, (u32, Option<Bytecode>), DefaultHashBuilder>,
}

impl CodeCopies {
    /// The code with this hash: this worker's own copy once it has met the
    /// contract often, `shared` until then.
    pub(super) fn get(&mut self, hash: B256, shared: &Bytecode) -> Bytecode {
        let (met, copy) = self.met.entry(hash).or_default();
        if let Some(copy) = copy {
            return copy.clone();
        }
        *met += 1;
        if *met < COPY_AFTER || !shared.is_legacy() || shared.is_empty() {
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
