//! The worker under the C library's malloc (glibc on Linux).

use gaslab_protocol::AllocatorIdentity;
use gaslab_workloads::allocator::{unconfirmed, with_allocation, AllocatorProbe};
use gaslab_workloads::worker::stats_map;
use std::ffi::CStr;

#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

/// Below glibc's mmap threshold, so the bytes show up in the arena.
const PROBE_BYTES: usize = 64 * 1024;

fn in_use() -> usize {
    // SAFETY: mallinfo2 only reads glibc's arena counters.
    unsafe { libc::mallinfo2() }.uordblks
}

fn identify() -> AllocatorIdentity {
    let before = in_use();
    let after = with_allocation(PROBE_BYTES, |_| in_use());
    let evidence = format!(
        "glibc mallinfo2 in-use bytes grew by {} for a {PROBE_BYTES}-byte global allocation",
        after.saturating_sub(before)
    );
    if after < before + PROBE_BYTES {
        return unconfirmed("system", evidence);
    }
    // SAFETY: glibc returns a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(libc::gnu_get_libc_version()) };
    AllocatorIdentity {
        name: "system".into(),
        version: Some(format!("glibc {}", version.to_string_lossy())),
        evidence,
    }
}

fn stats() -> std::collections::BTreeMap<String, u64> {
    // SAFETY: as above.
    let m = unsafe { libc::mallinfo2() };
    stats_map(&[
        ("arena_bytes", m.arena as u64),
        ("in_use_bytes", m.uordblks as u64),
        ("free_bytes", m.fordblks as u64),
        ("mmapped_bytes", m.hblkhd as u64),
    ])
}

fn main() {
    gaslab_workloads::worker::main(AllocatorProbe { identify, stats })
}
