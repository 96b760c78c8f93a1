//! The worker under snmalloc (built with cc, no cmake needed).

use gaslab_protocol::AllocatorIdentity;
use gaslab_workloads::allocator::{unconfirmed, with_allocation, AllocatorProbe};
use gaslab_workloads::worker::stats_map;
use snmalloc_sys as sn;

#[global_allocator]
static GLOBAL: snmalloc_rs::SnMalloc = snmalloc_rs::SnMalloc;

const PROBE_BYTES: usize = 16 << 20;

fn usage() -> (usize, usize) {
    let (mut current, mut peak) = (0usize, 0usize);
    // SAFETY: both out-pointers are live.
    unsafe { sn::sn_rust_statistics(&mut current, &mut peak) };
    (current, peak)
}

fn identify() -> AllocatorIdentity {
    let (before, _) = usage();
    let (after, _) = with_allocation(PROBE_BYTES, |_| usage());
    let evidence = format!(
        "snmalloc's OS reservation grew from {before} to {after} bytes for a {PROBE_BYTES}-byte global allocation"
    );
    if after < before + PROBE_BYTES {
        return unconfirmed("snmalloc", evidence);
    }
    AllocatorIdentity {
        name: "snmalloc".into(),
        // snmalloc has no version API; the crate version is in the build's crate list.
        version: None,
        evidence,
    }
}

fn stats() -> std::collections::BTreeMap<String, u64> {
    let (current, peak) = usage();
    stats_map(&[
        ("reserved_bytes", current as u64),
        ("peak_reserved_bytes", peak as u64),
    ])
}

fn main() {
    gaslab_workloads::worker::main(AllocatorProbe { identify, stats })
}
