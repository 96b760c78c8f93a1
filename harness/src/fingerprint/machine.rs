//! The machine around the CPU: NUMA nodes, DMI (the cloud instance type),
//! and whether it is virtualised.

use super::source::{list_len, read};
use super::{Fingerprint, UNREADABLE};
use std::path::Path;

pub fn read_into(root: &Path, f: &mut Fingerprint) {
    let nodes = read(root, "sys/devices/system/node/online");
    f.insert(
        "numa.nodes".into(),
        nodes
            .as_deref()
            .and_then(list_len)
            .map(|n| n.to_string())
            .unwrap_or(UNREADABLE.into()),
    );
    let vendor = read(root, "sys/class/dmi/id/sys_vendor");
    let product = read(root, "sys/class/dmi/id/product_name");
    f.insert(
        "machine.dmi.sys_vendor".into(),
        vendor.clone().unwrap_or(UNREADABLE.into()),
    );
    f.insert(
        "machine.dmi.product_name".into(),
        product.clone().unwrap_or(UNREADABLE.into()),
    );
    let hypervisor_flag = read(root, "proc/cpuinfo").is_some_and(|t| {
        t.lines()
            .find(|l| l.starts_with("flags"))
            .is_some_and(|l| l.split_whitespace().any(|w| w == "hypervisor"))
    });
    let xen = read(root, "sys/hypervisor/type");
    f.insert(
        "machine.virtualisation".into(),
        virtualisation(
            vendor.as_deref(),
            product.as_deref(),
            xen.as_deref(),
            hypervisor_flag,
        ),
    );
}

/// The hypervisor in one word, from the evidence the kernel leaves.
pub fn virtualisation(
    vendor: Option<&str>,
    product: Option<&str>,
    xen: Option<&str>,
    hypervisor_flag: bool,
) -> String {
    if let Some(t) = xen.filter(|t| !t.is_empty()) {
        return t.to_string();
    }
    let product = product.unwrap_or("");
    if let Some(v) = vendor {
        let named = match v {
            v if v.contains("Amazon") && product.ends_with(".metal") => Some("none"),
            v if v.contains("Amazon") => Some("kvm (AWS Nitro)"),
            v if v.contains("QEMU") => Some("kvm (QEMU)"),
            v if v.contains("Google") => Some("kvm (Google)"),
            v if v.contains("Microsoft") && product.contains("Virtual") => Some("hyperv"),
            v if v.contains("VMware") => Some("vmware"),
            v if v.contains("innotek") => Some("virtualbox"),
            v if v.contains("Xen") => Some("xen"),
            _ => None,
        };
        if let Some(n) = named {
            return n.into();
        }
    }
    match (hypervisor_flag, vendor.is_some()) {
        (true, _) => "yes (cpuinfo hypervisor flag; kind unknown)".into(),
        (false, true) => "none".into(),
        (false, false) => UNREADABLE.into(),
    }
}
