//! Asking for a cache line before it is written. A block's working memory
//! is written where no thread has been since the last block (a transaction's
//! cells, a shard's next location), so each first write was a store miss,
//! and the next lock's atomic waited for it: fetched while the transaction
//! executes, it is in cache by then.

/// Whether [`for_write`] does anything here: elsewhere the lines are
/// fetched when written, and working out an address to prefetch is waste.
pub(super) const WORKS: bool = cfg!(target_arch = "x86_64");

const LINE: usize = 64;

/// Starts fetching, for writing, the lines `value` spans (it may be memory
/// a `Vec` reserved and has not yet written).
#[inline]
pub(super) fn for_write<T>(value: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_ET0};
        let start = value as *const i8;
        // From the line `value` starts in to the one it ends in: a value
        // that straddles lines spans one more than its size says.
        let offset = start as usize % LINE;
        for line in (0..offset + std::mem::size_of::<T>().max(1)).step_by(LINE) {
            // SAFETY: a prefetch reads nothing and cannot fault.
            unsafe { _mm_prefetch::<_MM_HINT_ET0>(start.wrapping_sub(offset).wrapping_add(line)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
