//! How a worker learns which allocator it really runs: each worker binary
//! asks its allocator through the allocator's own API, so a result can never
//! claim an allocator by the binary's name alone.

use gaslab_protocol::AllocatorIdentity;
use std::collections::BTreeMap;

/// The two questions a worker asks of its allocator.
pub struct AllocatorProbe {
    /// Who are you? Answered after making a real allocation through the
    /// global allocator and checking that this allocator saw it.
    pub identify: fn() -> AllocatorIdentity,
    /// What do your statistics say now?
    pub stats: fn() -> BTreeMap<String, u64>,
}

/// The identity of a probe that did not see the allocation it made: the
/// global allocator is not the one this binary claims.
pub fn unconfirmed(expected: &str, evidence: String) -> AllocatorIdentity {
    AllocatorIdentity {
        name: format!("unknown (not {expected})"),
        version: None,
        evidence,
    }
}

/// Allocates `bytes` through the global allocator and keeps it alive while
/// `check` looks at the allocator's state.
pub fn with_allocation<T>(bytes: usize, check: impl FnOnce(*const u8) -> T) -> T {
    let buf = vec![1u8; bytes];
    let out = check(buf.as_ptr());
    std::hint::black_box(&buf);
    out
}
