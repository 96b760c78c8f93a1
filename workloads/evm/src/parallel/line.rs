//! One cache line per value, for the per-transaction arrays: crossbeam's
//! `CachePadded` takes two lines on x86-64 (against the prefetcher that
//! fetches pairs), which doubled the memory a block's cells are set up in,
//! faulted in and walked through.

use std::ops::Deref;

#[derive(Default)]
#[repr(align(64))]
pub(super) struct OneLine<T>(pub(super) T);

impl<T> Deref for OneLine<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
