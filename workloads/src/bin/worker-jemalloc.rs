//! The worker under jemalloc (tikv-jemallocator).

use gaslab_protocol::AllocatorIdentity;
use gaslab_workloads::allocator::{unconfirmed, with_allocation, AllocatorProbe};
use gaslab_workloads::worker::stats_map;
use tikv_jemalloc_ctl::{epoch, stats as je, version};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const PROBE_BYTES: usize = 1 << 20;

fn allocated() -> usize {
    // Statistics are cached until the epoch advances.
    epoch::advance().ok();
    je::allocated::read().unwrap_or(0)
}

fn identify() -> AllocatorIdentity {
    let before = allocated();
    let after = with_allocation(PROBE_BYTES, |_| allocated());
    let evidence = format!(
        "jemalloc stats.allocated grew by {} for a {PROBE_BYTES}-byte global allocation",
        after.saturating_sub(before)
    );
    if after < before + PROBE_BYTES {
        return unconfirmed("jemalloc", evidence);
    }
    AllocatorIdentity {
        name: "jemalloc".into(),
        version: version::read()
            .ok()
            .map(|v| v.trim_end_matches('\0').to_string()),
        evidence,
    }
}

fn stats() -> std::collections::BTreeMap<String, u64> {
    epoch::advance().ok();
    let read = |r: tikv_jemalloc_ctl::Result<usize>| r.map(|v| v as u64);
    let mut out = Vec::new();
    for (name, value) in [
        ("allocated_bytes", read(je::allocated::read())),
        ("active_bytes", read(je::active::read())),
        ("resident_bytes", read(je::resident::read())),
        ("mapped_bytes", read(je::mapped::read())),
        ("retained_bytes", read(je::retained::read())),
    ] {
        if let Ok(v) = value {
            out.push((name, v));
        }
    }
    stats_map(&out)
}

fn main() {
    gaslab_workloads::worker::main(AllocatorProbe { identify, stats })
}
