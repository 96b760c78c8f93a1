//! The worker under mimalloc.

use gaslab_protocol::AllocatorIdentity;
use gaslab_workloads::allocator::{unconfirmed, with_allocation, AllocatorProbe};
use gaslab_workloads::worker::stats_map;
use libmimalloc_sys as mi;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn identify() -> AllocatorIdentity {
    // SAFETY: mi_is_in_heap_region only inspects mimalloc's own segment map.
    let owned = with_allocation(4096, |p| unsafe { mi::mi_is_in_heap_region(p.cast()) });
    let evidence = format!("mi_is_in_heap_region(global allocation) = {owned}");
    if !owned {
        return unconfirmed("mimalloc", evidence);
    }
    // SAFETY: a plain getter.
    let v = unsafe { mi::mi_version() };
    // mimalloc 3 encodes 3.3.2 as 30302; earlier releases encoded 2.1.7 as 217.
    let version = if v >= 10_000 {
        format!("{}.{}.{}", v / 10_000, (v / 100) % 100, v % 100)
    } else {
        format!("{}.{}.{}", v / 100, (v / 10) % 10, v % 10)
    };
    AllocatorIdentity {
        name: "mimalloc".into(),
        version: Some(version),
        evidence,
    }
}

fn stats() -> std::collections::BTreeMap<String, u64> {
    let mut f = [0usize; 8];
    let [elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults] = &mut f;
    // SAFETY: every out-pointer is a live usize.
    unsafe {
        mi::mi_process_info(
            elapsed,
            user,
            sys,
            rss,
            peak_rss,
            commit,
            peak_commit,
            faults,
        )
    };
    stats_map(&[
        ("current_rss_bytes", f[3] as u64),
        ("peak_rss_bytes", f[4] as u64),
        ("current_commit_bytes", f[5] as u64),
        ("peak_commit_bytes", f[6] as u64),
        ("page_faults", f[7] as u64),
    ])
}

fn main() {
    gaslab_workloads::worker::main(AllocatorProbe { identify, stats })
}
