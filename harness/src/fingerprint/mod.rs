//! The machine fingerprint: everything about where a result came from that
//! can change a number without a code change. Detected, never assumed; a
//! field that cannot be read says so.
//!
//! One file per source; every reader takes a root path so tests run on
//! fake /proc + /sys trees (tests/fixtures/fingerprint/).

mod cpu;
pub mod diff;
mod kernel;
mod machine;
mod power;
mod source;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

pub type Fingerprint = BTreeMap<String, String>;

pub const UNREADABLE: &str = "unreadable";

/// Takes this machine's fingerprint. `worker_build` is what a worker said of
/// its own build (rustc, target, RUSTFLAGS, crate versions), where known.
pub fn take(worker_build: Option<&gaslab_protocol::WorkerBuild>) -> Fingerprint {
    let mut f = Fingerprint::new();
    let sys = System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing())
            .with_memory(MemoryRefreshKind::nothing().with_ram()),
    );
    f.insert("arch".into(), std::env::consts::ARCH.into());
    let cpu = sys.cpus().first();
    f.insert(
        "cpu.model".into(),
        cpu.map(|c| c.brand().trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or(UNREADABLE.into()),
    );
    f.insert(
        "cpu.vendor".into(),
        cpu.map(|c| c.vendor_id().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or(UNREADABLE.into()),
    );
    f.insert("cpu.logical".into(), sys.cpus().len().to_string());
    f.insert(
        "cpu.physical_cores".into(),
        System::physical_core_count()
            .map(|n| n.to_string())
            .unwrap_or(UNREADABLE.into()),
    );
    f.insert("memory.total_bytes".into(), sys.total_memory().to_string());
    f.insert(
        "os".into(),
        System::long_os_version().unwrap_or(UNREADABLE.into()),
    );
    f.insert(
        "host.name".into(),
        System::host_name().unwrap_or(UNREADABLE.into()),
    );
    f.extend(read_tree(Path::new("/")));
    let (release, version) = uname();
    for (key, value) in [("kernel.release", release), ("kernel.version", version)] {
        if f.get(key).is_none_or(|v| v == UNREADABLE) {
            f.insert(key.into(), value);
        }
    }
    if let Some(b) = worker_build {
        f.insert("toolchain.rustc".into(), b.rustc.clone());
        f.insert("toolchain.target".into(), b.target.clone());
        f.insert("toolchain.rustflags".into(), b.rustflags.clone());
        f.insert("toolchain.profile".into(), b.profile.clone());
        for (name, version) in &b.crates {
            f.insert(format!("crate.{name}"), version.clone());
        }
    } else {
        f.insert("toolchain.rustc".into(), UNREADABLE.into());
    }
    f
}

fn uname() -> (String, String) {
    let mut u = std::mem::MaybeUninit::<libc::utsname>::zeroed();
    // SAFETY: uname fills the struct we own.
    if unsafe { libc::uname(u.as_mut_ptr()) } != 0 {
        return (UNREADABLE.into(), UNREADABLE.into());
    }
    // SAFETY: initialised by the successful call.
    let u = unsafe { u.assume_init() };
    let field = |chars: &[libc::c_char]| {
        // SAFETY: uname NUL-terminates every field.
        unsafe { std::ffi::CStr::from_ptr(chars.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    (field(&u.release), field(&u.version))
}

/// Everything the fingerprint reads from files, under `root`: kernel and
/// scheduler, CPU identity, power and memory settings, machine.
pub fn read_tree(root: &Path) -> Fingerprint {
    let mut f = Fingerprint::new();
    kernel::read_into(root, &mut f);
    cpu::read_into(root, &mut f);
    power::read_into(root, &mut f);
    machine::read_into(root, &mut f);
    f
}

/// A stable, filesystem-safe name for this machine: host name plus a short
/// hash of /etc/machine-id, so two hosts named `ubuntu` stay apart.
pub fn machine_id(f: &Fingerprint) -> String {
    machine_id_with(f, std::fs::read_to_string("/etc/machine-id").ok())
}

/// `machine_id` with the contents of /etc/machine-id given.
fn machine_id_with(f: &Fingerprint, etc_machine_id: Option<String>) -> String {
    use sha2::{Digest, Sha256};
    let host: String = f
        .get("host.name")
        .map(String::as_str)
        .unwrap_or("host")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // A VM or container image may ship an empty /etc/machine-id, which would
    // give every such host one id: then what the machine is stands in.
    let id = etc_machine_id
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| {
            [
                "host.name",
                "cpu.model",
                "cpu.logical",
                "memory.total_bytes",
            ]
            .map(|k| f.get(k).map_or("", String::as_str))
            .join("|")
        });
    let digest = crate::profile::hex(&Sha256::digest(id.as_bytes()));
    format!("{host}-{}", &digest[..8])
}
