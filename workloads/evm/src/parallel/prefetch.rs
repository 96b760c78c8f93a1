//! Asking for a cache line before it is written. A block's working memory
//! is written where no thread has been since the last block (a transaction's
//! cells, a shard's next location), or where another core wrote last (a
//! shard's lock, the written-filter's words), so each first write was a
//! store miss, and the next lock's atomic waited for it: fetched while the
//! transaction executes, it is in cache by then.

#[cfg(target_arch = "x86_64")]
use std::sync::LazyLock;

/// Whether [`for_write`] does anything here: elsewhere the lines are
/// fetched when written, and working out an address to prefetch is waste.
pub(super) const WORKS: bool = cfg!(target_arch = "x86_64");

const LINE: usize = 64;

/// Whether the CPU has PREFETCHW (AMD since K8, Intel since Broadwell).
/// `_mm_prefetch` with the write hint compiles to a plain read prefetch
/// without that target feature, which fetches a line another core holds as
/// shared: the write then still waits for the other copy to be invalidated.
#[cfg(target_arch = "x86_64")]
static PREFETCHW: LazyLock<bool> = LazyLock::new(|| {
    use std::arch::x86_64::__cpuid;
    // Leaf 0x8000_0000 exists on every x86-64 CPU and says how many
    // extended leaves there are.
    __cpuid(0x8000_0000).eax >= 0x8000_0001 && __cpuid(0x8000_0001).ecx & (1 << 8) != 0
});

/// The start of each line the `bytes` from `start` span: a value that
/// straddles lines spans one more than its size says.
#[cfg(target_arch = "x86_64")]
fn lines(start: *const i8, bytes: usize) -> impl Iterator<Item = *const i8> {
    let offset = start as usize % LINE;
    (0..offset + bytes)
        .step_by(LINE)
        .map(move |line| start.wrapping_sub(offset).wrapping_add(line))
}

/// The lines `value` spans.
#[cfg(target_arch = "x86_64")]
fn lines_of<T>(value: *const T) -> impl Iterator<Item = *const i8> {
    lines(value.cast(), std::mem::size_of::<T>().max(1))
}

/// Starts fetching, for writing, the lines `value` spans (it may be memory
/// a `Vec` reserved and has not yet written).
#[inline]
pub(super) fn for_write<T>(value: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        let exclusive = *PREFETCHW;
        for at in lines_of(value) {
            // SAFETY: a prefetch reads nothing and cannot fault; PREFETCHW
            // runs only where CPUID reports it.
            unsafe {
                if exclusive {
                    std::arch::asm!("prefetchw [{0}]", in(reg) at, options(nostack, preserves_flags, readonly));
                } else {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at);
                }
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Starts fetching, for writing, the first lines of the `bytes` from
/// `start` (at most [`MAX_LINES`]): a list's reserved room.
#[inline]
pub(super) fn for_write_bytes<T>(start: *const T, bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    for at in lines(start.cast(), bytes).take(MAX_LINES) {
        for_write(at.cast::<[u8; LINE]>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (start, bytes);
}

/// The most lines [`for_write_bytes`] fetches: more is a long list, whose
/// tail the hardware prefetcher follows.
const MAX_LINES: usize = 16;

/// Starts fetching, for reading, the lines `value` spans: a value found
/// through a table (a pre-state account) whose fields sit a line or two
/// past the key the lookup compared, fetched for a run of them at once.
#[inline]
pub(super) fn for_read<T>(value: *const T) {
    #[cfg(target_arch = "x86_64")]
    for at in lines_of(value) {
        // SAFETY: a prefetch reads nothing and cannot fault.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
