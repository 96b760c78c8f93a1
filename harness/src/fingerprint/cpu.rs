//! CPU identity from /proc/cpuinfo on both architectures: the x86 model
//! name, or the ARM implementer and part mapped to a core name (and, on
//! AWS, to the Graviton generation built from that core).

use super::source::read;
use super::{Fingerprint, UNREADABLE};
use std::collections::BTreeMap;
use std::path::Path;

/// The first processor block of /proc/cpuinfo, as `field -> value`.
pub fn first_block(cpuinfo: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in cpuinfo.lines() {
        if line.trim().is_empty() {
            if out.contains_key("processor") {
                break;
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.entry(k.trim().to_string())
                .or_insert_with(|| v.trim().to_string());
        }
    }
    out
}

/// ARM implementer codes (MIDR_EL1 bits 31:24) the lab may meet.
pub fn implementer_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0x41 => "ARM",
        0x42 => "Broadcom",
        0x43 => "Cavium",
        0x48 => "HiSilicon",
        0x4e => "NVIDIA",
        0x51 => "Qualcomm",
        0x61 => "Apple",
        0xc0 => "Ampere",
        _ => return None,
    })
}

/// Arm Ltd core parts (implementer 0x41) and the Graviton generation that
/// uses each, the same table lscpu and the kernel's cputype.h keep.
pub fn arm_part(part: u32) -> Option<(&'static str, Option<&'static str>)> {
    Some(match part {
        0xd03 => ("Cortex-A53", None),
        0xd07 => ("Cortex-A57", None),
        0xd08 => ("Cortex-A72", Some("Graviton")),
        0xd0b => ("Cortex-A76", None),
        0xd0c => ("Neoverse N1", Some("Graviton2")),
        0xd40 => ("Neoverse V1", Some("Graviton3")),
        0xd49 => ("Neoverse N2", None),
        0xd4f => ("Neoverse V2", Some("Graviton4")),
        0xd83 => ("Neoverse V3AE", None),
        0xd84 => ("Neoverse V3", None),
        0xd8e => ("Neoverse N3", None),
        _ => return None,
    })
}

fn hex(s: &str) -> Option<u32> {
    u32::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok()
}

/// `cpu.*` identity keys from a cpuinfo text. `on_aws` says whether DMI
/// names Amazon EC2: a Neoverse V1 elsewhere is not a Graviton3.
pub fn identity(cpuinfo: &str, on_aws: bool) -> Fingerprint {
    let b = first_block(cpuinfo);
    let mut f = Fingerprint::new();
    if let Some(model) = b.get("model name") {
        f.insert("cpu.model".into(), model.clone());
        f.insert(
            "cpu.vendor".into(),
            b.get("vendor_id").cloned().unwrap_or(UNREADABLE.into()),
        );
        for (k, key) in [
            ("cpu family", "cpu.x86.family"),
            ("model", "cpu.x86.model"),
            ("stepping", "cpu.x86.stepping"),
        ] {
            if let Some(v) = b.get(k) {
                f.insert(key.into(), v.clone());
            }
        }
        f.insert(
            "cpu.microcode".into(),
            b.get("microcode").cloned().unwrap_or(UNREADABLE.into()),
        );
    } else if let (Some(imp), Some(part)) = (
        b.get("CPU implementer").and_then(|s| hex(s)),
        b.get("CPU part").and_then(|s| hex(s)),
    ) {
        f.insert("cpu.arm.implementer".into(), format!("0x{imp:02x}"));
        f.insert("cpu.arm.part".into(), format!("0x{part:03x}"));
        let variant = b.get("CPU variant").and_then(|s| hex(s));
        let revision = b
            .get("CPU revision")
            .and_then(|s| s.trim().parse::<u32>().ok());
        if let (Some(v), Some(r)) = (variant, revision) {
            f.insert("cpu.arm.stepping".into(), format!("r{v}p{r}"));
        }
        let vendor = implementer_name(imp)
            .map(str::to_string)
            .unwrap_or(format!("implementer 0x{imp:02x}"));
        let named = if imp == 0x41 { arm_part(part) } else { None };
        let model = match named {
            Some((name, _)) => name.to_string(),
            None => format!("{vendor} part 0x{part:03x}"),
        };
        f.insert("cpu.model".into(), model);
        f.insert("cpu.vendor".into(), vendor);
        if let Some((_, Some(graviton))) = named {
            if on_aws {
                f.insert("cpu.graviton".into(), graviton.into());
            }
        }
    }
    if let Some(flags) = b.get("flags").or_else(|| b.get("Features")) {
        f.insert(
            "cpu.flags_count".into(),
            flags.split_whitespace().count().to_string(),
        );
    }
    f
}

pub fn read_into(root: &Path, f: &mut Fingerprint) {
    let on_aws = read(root, "sys/class/dmi/id/sys_vendor").is_some_and(|v| v.contains("Amazon"));
    if let Some(text) = read(root, "proc/cpuinfo") {
        f.extend(identity(&text, on_aws));
    }
    if !f.contains_key("cpu.microcode") {
        // arm64 exposes the revision register instead of a microcode field.
        f.insert(
            "cpu.microcode".into(),
            read(
                root,
                "sys/devices/system/cpu/cpu0/regs/identification/revidr_el1",
            )
            .unwrap_or(UNREADABLE.into()),
        );
    }
    f.insert(
        "cpu.online".into(),
        read(root, "sys/devices/system/cpu/online").unwrap_or(UNREADABLE.into()),
    );
}

/// `Model name` and `Vendor ID` from lscpu's text output, for tests that
/// hold our part table against lscpu's own.
#[cfg(test)]
pub fn lscpu_field(text: &str, field: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == field).then(|| v.trim().to_string())
    })
}
