//! The worker under rpmalloc.

use gaslab_protocol::AllocatorIdentity;
use gaslab_workloads::allocator::{unconfirmed, with_allocation, AllocatorProbe};
use gaslab_workloads::worker::stats_map;
use rpmalloc_sys as rp;

#[global_allocator]
static GLOBAL: rpmalloc::RpMalloc = rpmalloc::RpMalloc;

fn global_stats() -> rp::rpmalloc_global_statistics_t {
    let mut s = std::mem::MaybeUninit::<rp::rpmalloc_global_statistics_t>::zeroed();
    // SAFETY: rpmalloc fills the struct we own.
    unsafe {
        rp::rpmalloc_global_statistics(s.as_mut_ptr());
        s.assume_init()
    }
}

fn identify() -> AllocatorIdentity {
    // rpmalloc initialises a thread's heap only when it serves that thread,
    // and its mapped-bytes counter only moves for its own allocations.
    let (initialised, mapped) = with_allocation(1 << 20, |_| {
        // SAFETY: plain getters.
        let init = unsafe { rp::rpmalloc_is_thread_initialized() } != 0;
        (init, global_stats().mapped)
    });
    let evidence = format!(
        "rpmalloc_is_thread_initialized() = {initialised}, mapped bytes = {mapped} with a live 1 MiB global allocation"
    );
    if !initialised || mapped == 0 {
        return unconfirmed("rpmalloc", evidence);
    }
    AllocatorIdentity {
        name: "rpmalloc".into(),
        // rpmalloc has no version API; the vendored commit is in the build's crate list.
        version: None,
        evidence,
    }
}

fn stats() -> std::collections::BTreeMap<String, u64> {
    let s = global_stats();
    stats_map(&[
        ("mapped_bytes", s.mapped as u64),
        ("mapped_peak_bytes", s.mapped_peak as u64),
        ("cached_bytes", s.cached as u64),
        ("huge_alloc_bytes", s.huge_alloc as u64),
        ("mapped_total_bytes", s.mapped_total as u64),
    ])
}

fn main() {
    gaslab_workloads::worker::main(AllocatorProbe { identify, stats })
}
