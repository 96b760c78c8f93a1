//! Reading files under a root path: the live machine is `/`, a test's fake
//! machine is a fixture directory with the same layout.

use super::UNREADABLE;
use std::path::Path;

/// The trimmed contents of `root/rel`, or None.
pub fn read(root: &Path, rel: &str) -> Option<String> {
    std::fs::read_to_string(root.join(rel))
        .ok()
        .map(|s| s.trim().to_string())
}

/// As [`read`], with "unreadable" in place of a missing file.
pub fn read_or_unreadable(root: &Path, rel: &str) -> String {
    read(root, rel).unwrap_or_else(|| UNREADABLE.into())
}

/// The bracketed choice of a sysfs selector: `always [madvise] never` -> `madvise`.
pub fn selected(text: &str) -> Option<String> {
    let start = text.find('[')?;
    let end = text[start..].find(']')? + start;
    Some(text[start + 1..end].to_string())
}

/// How many CPUs (or nodes) a kernel list such as `0-3,8` names.
pub fn list_len(text: &str) -> Option<usize> {
    gaslab_protocol::sched::parse_cpu_list(text)
        .ok()
        .map(|v| v.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_lists_parse() {
        assert_eq!(
            selected("always [madvise] never").as_deref(),
            Some("madvise")
        );
        assert_eq!(selected("always madvise never"), None);
        assert_eq!(list_len("0-3,8"), Some(5));
        assert_eq!(list_len("0"), Some(1));
    }
}
