//! The `sched = [...]` axis of a profile: each entry one kernel-scheduler
//! setting, checked here so a bad value is reported at its line, not by a
//! worker at run time.

use super::{Profile, SchedEntry};
use crate::error::Result;
use gaslab_protocol::{Affinity, SchedPolicy, SchedSpec};
use toml::Spanned;

/// The kernel clamps a requested slice to this range (Linux 6.12+); a
/// value outside would be silently changed, so it is refused here.
const SLICE_NS: std::ops::RangeInclusive<i64> = 100_000..=100_000_000;

pub fn resolve(
    profile: &Profile,
    list: &Spanned<Vec<Spanned<SchedEntry>>>,
    field: &str,
) -> Result<Vec<Option<SchedSpec>>> {
    if list.get_ref().is_empty() {
        return Err(profile.error_at(list.span(), field, "an empty list plans no cell"));
    }
    list.get_ref()
        .iter()
        .enumerate()
        .map(|(j, e)| entry(profile, e.get_ref(), &format!("{field}[{j}]")).map(Some))
        .collect()
}

fn entry(profile: &Profile, e: &SchedEntry, at: &str) -> Result<SchedSpec> {
    let policy = SchedPolicy::parse(e.policy.get_ref()).ok_or_else(|| {
        profile.error_at(
            e.policy.span(),
            format!("{at}.policy"),
            format!(
                "unknown policy `{}` (known: {})",
                e.policy.get_ref(),
                SchedPolicy::NAMES.join(", ")
            ),
        )
    })?;
    let rt = policy == SchedPolicy::Fifo;
    let nice = match &e.nice {
        Some(n) if rt => {
            return Err(profile.error_at(
                n.span(),
                format!("{at}.nice"),
                "nice does not apply to fifo (use rt_priority)",
            ))
        }
        Some(n) if !(-20..=19).contains(n.get_ref()) => {
            return Err(profile.error_at(
                n.span(),
                format!("{at}.nice"),
                "must be between -20 and 19",
            ))
        }
        Some(n) => Some(*n.get_ref() as i32),
        None => None,
    };
    let rt_priority = match &e.rt_priority {
        Some(p) if !rt => {
            return Err(profile.error_at(
                p.span(),
                format!("{at}.rt_priority"),
                "rt_priority applies to policy \"fifo\" only",
            ))
        }
        Some(p) if !(1..=99).contains(p.get_ref()) => {
            return Err(profile.error_at(
                p.span(),
                format!("{at}.rt_priority"),
                "must be between 1 and 99",
            ))
        }
        Some(p) => Some(*p.get_ref() as u32),
        None => None,
    };
    let slice_ns = match &e.slice_ns {
        Some(s) if rt => {
            return Err(profile.error_at(
                s.span(),
                format!("{at}.slice_ns"),
                "a slice applies to the fair policies (other, batch, idle), not fifo",
            ))
        }
        Some(s) if !SLICE_NS.contains(s.get_ref()) => return Err(profile.error_at(
            s.span(),
            format!("{at}.slice_ns"),
            "must be between 100000 and 100000000 (0.1 to 100 ms, the range the kernel accepts)",
        )),
        Some(s) => Some(*s.get_ref() as u64),
        None => None,
    };
    let affinity = match &e.affinity {
        Some(a) => Some(Affinity::parse(a.get_ref()).map_err(|why| {
            profile.error_at(
                a.span(),
                format!("{at}.affinity"),
                format!("expected \"compact\", \"spread\" or a CPU list like \"0,2-3\": {why}"),
            )
        })?),
        None => None,
    };
    if let Some(Affinity::Cpus(cpus)) = &affinity {
        if cpus.is_empty() {
            let a = e.affinity.as_ref().expect("set");
            return Err(profile.error_at(a.span(), format!("{at}.affinity"), "an empty CPU list"));
        }
    }
    Ok(SchedSpec {
        policy,
        nice,
        rt_priority,
        slice_ns,
        affinity,
    })
}

#[cfg(test)]
mod tests {
    use crate::profile::{plan, Profile};
    use std::path::Path;

    fn parse(body: &str) -> crate::error::Result<Profile> {
        Profile::parse(Path::new("p.toml"), body.to_string())
    }

    const HEAD: &str = "name = \"s\"\n[[matrix]]\nworkload = \"evm.transfers\"\n";

    #[test]
    fn each_sched_entry_is_a_cell_and_joins_its_key() {
        let p = parse(&format!(
            "{HEAD}sched = [{{ policy = \"other\" }}, {{ policy = \"batch\", nice = 5, slice_ns = 3000000, affinity = \"compact\" }}]\n"
        ))
        .unwrap();
        let cells = plan(&p).unwrap();
        assert_eq!(cells.len(), 2);
        assert!(
            cells[0].key().ends_with("sched=policy=other"),
            "{}",
            cells[0].key()
        );
        assert!(
            cells[1]
                .key()
                .ends_with("sched=policy=batch,nice=5,slice=3000000ns,cpus=compact"),
            "{}",
            cells[1].key()
        );
    }

    #[test]
    fn without_sched_the_key_is_unchanged() {
        let cells = plan(&parse(HEAD).unwrap()).unwrap();
        assert_eq!(cells[0].spec.sched, None);
        assert!(!cells[0].key().contains("sched"));
    }

    #[test]
    fn bad_values_name_file_line_and_field() {
        for (line, want) in [
            (
                "sched = [{ policy = \"rr\" }]",
                "matrix[0].sched[0].policy: unknown policy `rr`",
            ),
            (
                "sched = [{ policy = \"other\", nice = 40 }]",
                "matrix[0].sched[0].nice: must be between -20 and 19",
            ),
            (
                "sched = [{ policy = \"fifo\", nice = 1 }]",
                "matrix[0].sched[0].nice: nice does not apply to fifo",
            ),
            (
                "sched = [{ policy = \"batch\", rt_priority = 5 }]",
                "matrix[0].sched[0].rt_priority",
            ),
            (
                "sched = [{ policy = \"other\" }, { policy = \"other\", slice_ns = 5 }]",
                "matrix[0].sched[1].slice_ns: must be between",
            ),
            (
                "sched = [{ policy = \"other\", affinity = \"pinned\" }]",
                "matrix[0].sched[0].affinity",
            ),
            ("sched = []", "matrix[0].sched: an empty list"),
        ] {
            let err = parse(&format!("{HEAD}{line}\n")).unwrap_err().to_string();
            assert!(err.starts_with("p.toml:4:"), "{line}: {err}");
            assert!(err.contains(want), "{line}: {err}");
        }
    }

    #[test]
    fn unknown_sched_fields_are_refused_at_their_line() {
        let err = parse(&format!(
            "{HEAD}sched = [{{ policy = \"other\", slice = 1 }}]\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("p.toml:4:"), "{err}");
        assert!(err.contains("slice"), "{err}");
    }

    #[test]
    fn defaults_sched_applies_to_every_entry() {
        let p = parse("name = \"s\"\n[defaults]\nsched = [{ policy = \"idle\" }, { policy = \"batch\" }]\n[[matrix]]\nworkload = \"evm.transfers\"\n").unwrap();
        assert_eq!(plan(&p).unwrap().len(), 2);
    }
}
