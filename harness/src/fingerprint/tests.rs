//! Detection on fixture trees (tests/fixtures/fingerprint) and on this
//! machine.

use super::cpu::{identity, lscpu_field};
use super::{machine_id_with, read_tree, Fingerprint, UNREADABLE};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fingerprint")
        .join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

fn get<'a>(f: &'a super::Fingerprint, key: &str) -> &'a str {
    f.get(key)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no {key} in {f:#?}"))
}

#[test]
fn cfs_5_15_bare_metal() {
    let f = read_tree(&fixture("cfs-5.15"));
    assert_eq!(get(&f, "kernel.release"), "5.15.0-91-generic");
    assert_eq!(get(&f, "kernel.sched.family"), "CFS");
    assert_eq!(get(&f, "kernel.sched.family_source"), "sched features");
    assert_eq!(get(&f, "kernel.scheduler"), "CFS");
    assert_eq!(get(&f, "kernel.sched_ext.state"), "absent");
    assert!(get(&f, "kernel.sched.features").starts_with("GENTLE_FAIR_SLEEPERS START_DEBIT"));
    assert_eq!(get(&f, "kernel.sched.min_granularity_ns"), "3000000");
    assert_eq!(get(&f, "kernel.sched.migration_cost_ns"), "500000");
    assert!(
        !f.contains_key("kernel.sched.debug"),
        "state dumps are not tunables"
    );
    assert!(!f.contains_key("kernel.sched.base_slice_ns"));
    assert_eq!(get(&f, "kernel.sysctl.sched_autogroup_enabled"), "1");
    assert_eq!(
        get(&f, "cpu.model"),
        "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"
    );
    assert_eq!(get(&f, "cpu.vendor"), "GenuineIntel");
    assert_eq!(get(&f, "cpu.microcode"), "0xd0003a5");
    assert_eq!(get(&f, "power.governor"), "performance");
    assert_eq!(get(&f, "power.cpufreq_driver"), "intel_pstate");
    assert_eq!(get(&f, "power.boost"), "on", "no_turbo=0 means turbo on");
    assert_eq!(get(&f, "memory.thp.enabled"), "always");
    assert_eq!(get(&f, "memory.thp.defrag"), "madvise");
    assert_eq!(get(&f, "cpu.smt.control"), "on");
    assert_eq!(get(&f, "cpu.smt.active"), "yes");
    assert_eq!(get(&f, "numa.nodes"), "2");
    assert_eq!(get(&f, "machine.dmi.product_name"), "PowerEdge R650");
    assert_eq!(get(&f, "machine.virtualisation"), "none");
}

#[test]
fn eevdf_6_8_cloud_vm() {
    let f = read_tree(&fixture("eevdf-6.8"));
    assert_eq!(get(&f, "kernel.sched.family"), "EEVDF");
    assert_eq!(get(&f, "kernel.sched.family_source"), "sched features");
    assert_eq!(get(&f, "kernel.sched.base_slice_ns"), "3000000");
    assert_eq!(get(&f, "kernel.sched.preempt"), "none voluntary (full)");
    assert_eq!(get(&f, "cpu.model"), "AMD EPYC 9B14");
    assert_eq!(get(&f, "power.governor"), "mixed: performance,schedutil");
    assert_eq!(get(&f, "power.boost"), "off");
    assert_eq!(get(&f, "memory.thp.enabled"), "madvise");
    assert_eq!(get(&f, "numa.nodes"), "1");
    assert_eq!(get(&f, "machine.virtualisation"), "kvm (Google)");
}

#[test]
fn sched_ext_6_12_with_scx_rusty() {
    let f = read_tree(&fixture("scx-6.12-rusty"));
    assert_eq!(get(&f, "kernel.sched_ext.state"), "enabled");
    assert_eq!(get(&f, "kernel.sched_ext.ops"), "rusty");
    assert_eq!(get(&f, "kernel.scheduler"), "sched_ext:rusty");
    // debugfs is not mounted: the family comes from the release, and
    // the features say so rather than pretending.
    assert_eq!(get(&f, "kernel.sched.family"), "EEVDF");
    assert_eq!(get(&f, "kernel.sched.family_source"), "kernel release");
    assert_eq!(get(&f, "kernel.sched.features"), UNREADABLE);
    assert_eq!(get(&f, "kernel.sysctl.sched_rt_runtime_us"), "950000");
    assert!(
        !f.contains_key("kernel.sched.tunables"),
        "sysctls were readable"
    );
    assert_eq!(get(&f, "power.governor"), "powersave");
    assert_eq!(get(&f, "power.boost"), "on");
}

#[test]
fn graviton3_on_aws() {
    let f = read_tree(&fixture("graviton3"));
    assert_eq!(get(&f, "cpu.model"), "Neoverse V1");
    assert_eq!(get(&f, "cpu.vendor"), "ARM");
    assert_eq!(get(&f, "cpu.arm.implementer"), "0x41");
    assert_eq!(get(&f, "cpu.arm.part"), "0xd40");
    assert_eq!(get(&f, "cpu.graviton"), "Graviton3");
    assert_eq!(get(&f, "machine.dmi.product_name"), "c7g.2xlarge");
    assert_eq!(get(&f, "machine.virtualisation"), "kvm (AWS Nitro)");
    assert_eq!(get(&f, "kernel.sched.family"), "CFS");
    assert_eq!(get(&f, "cpu.smt.control"), "notsupported");
    assert_eq!(get(&f, "cpu.microcode"), UNREADABLE);
    assert_eq!(get(&f, "power.governor"), UNREADABLE);
    assert_eq!(get(&f, "power.boost"), UNREADABLE);
    // The stepping agrees with what lscpu printed on a Graviton3.
    assert_eq!(
        Some(get(&f, "cpu.arm.stepping").to_string()),
        lscpu_field(&text("arm/graviton3.lscpu"), "Stepping")
    );
}

/// Our part table against lscpu's own, on real captures: same core name
/// (lscpu writes a hyphen), same stepping where the same core revision.
#[test]
fn arm_captures_map_to_the_names_lscpu_gives() {
    for (cpuinfo, lscpu, on_aws, graviton, compare_stepping) in [
        ("graviton1-a1", "graviton1-a1", true, Some("Graviton"), true),
        (
            "graviton2-t4g",
            "neoverse-n1-altra-azure",
            true,
            Some("Graviton2"),
            true,
        ),
        ("neoverse-v2-grace", "neoverse-v2-grace", false, None, true),
        ("graviton3-c7g", "graviton3", true, Some("Graviton3"), true),
    ] {
        let f = identity(&text(&format!("arm/{cpuinfo}.cpuinfo")), on_aws);
        let l = text(&format!("arm/{lscpu}.lscpu"));
        assert_eq!(
            lscpu_field(&l, "Vendor ID").as_deref(),
            Some(get(&f, "cpu.vendor"))
        );
        if let Some(name) = lscpu_field(&l, "Model name") {
            assert_eq!(get(&f, "cpu.model").replace(' ', "-"), name, "{cpuinfo}");
        }
        if compare_stepping {
            assert_eq!(
                lscpu_field(&l, "Stepping").as_deref(),
                Some(get(&f, "cpu.arm.stepping")),
                "{cpuinfo}"
            );
        }
        assert_eq!(
            f.get("cpu.graviton").map(String::as_str),
            graviton,
            "{cpuinfo}"
        );
    }
}

#[test]
fn a_neoverse_core_off_aws_is_not_called_a_graviton() {
    let f = identity(&text("arm/graviton3-c7g.cpuinfo"), false);
    assert_eq!(get(&f, "cpu.model"), "Neoverse V1");
    assert!(!f.contains_key("cpu.graviton"));
}

#[test]
fn unknown_parts_keep_their_numbers() {
    let f = identity(
        "processor\t: 0\nCPU implementer\t: 0xc0\nCPU part\t: 0xac3\n",
        false,
    );
    assert_eq!(get(&f, "cpu.model"), "Ampere part 0xac3");
    assert_eq!(get(&f, "cpu.vendor"), "Ampere");
}

#[test]
fn an_empty_root_reads_as_unreadable_not_as_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let f = read_tree(tmp.path());
    for key in [
        "kernel.release",
        "kernel.sched.features",
        "kernel.sched.tunables",
        "power.governor",
        "memory.thp.enabled",
        "numa.nodes",
        "machine.dmi.product_name",
        "machine.virtualisation",
    ] {
        assert_eq!(get(&f, key), UNREADABLE, "{key}");
    }
}

#[test]
fn this_machine_is_detected() {
    let f = super::take(None);
    let release = get(&f, "kernel.release");
    assert_ne!(release, UNREADABLE);
    let family = get(&f, "kernel.sched.family");
    assert!(["CFS", "EEVDF"].contains(&family), "{family}");
    // This machine's release decides the family where debugfs is closed.
    if get(&f, "kernel.sched.family_source") == "kernel release" {
        let v = super::kernel::release_version(release).unwrap();
        assert_eq!(family == "EEVDF", v >= (6, 6));
    }
    for key in [
        "kernel.scheduler",
        "kernel.sched_ext.state",
        "cpu.model",
        "machine.virtualisation",
        "memory.thp.enabled",
    ] {
        assert!(f.contains_key(key), "{key}");
    }
}

#[test]
fn an_empty_machine_id_file_gives_each_kind_of_machine_its_own_id() {
    let machine = |cpus: &str| {
        let mut f = Fingerprint::new();
        f.insert("host.name".into(), "vm".into());
        f.insert("cpu.model".into(), "Intel(R) Xeon(R) Processor".into());
        f.insert("cpu.logical".into(), cpus.into());
        f
    };
    let (small, big) = (machine("2"), machine("16"));
    // sha256 of nothing: what an empty /etc/machine-id used to give every VM.
    assert_ne!(machine_id_with(&big, Some("\n".into())), "vm-e3b0c442");
    assert_ne!(
        machine_id_with(&small, Some(String::new())),
        machine_id_with(&big, Some(String::new()))
    );
    assert_eq!(
        machine_id_with(&big, None),
        machine_id_with(&big, Some(" ".into()))
    );
    // A real machine-id still decides, whatever the hardware.
    assert_eq!(
        machine_id_with(&small, Some("0035969e\n".into())),
        machine_id_with(&big, Some("0035969e".into()))
    );
    assert!(machine_id_with(&big, Some(String::new())).starts_with("vm-"));
}
