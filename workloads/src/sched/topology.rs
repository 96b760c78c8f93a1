//! Which CPUs share a core: what "compact" and "spread" are made of.

use std::collections::BTreeMap;
use std::path::Path;

/// One logical CPU's place: package (socket) and core within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    package: i64,
    core: i64,
}

/// Unreadable CPUs sort after every real core, one core each, in CPU order.
const UNKNOWN_CORE: i64 = 1 << 40;

#[derive(Debug, Clone, Default)]
pub struct Topology {
    places: BTreeMap<usize, Place>,
}

impl Topology {
    /// Reads `<root>/sys/devices/system/cpu/cpu*/topology`. A CPU whose
    /// topology cannot be read counts as a core of its own.
    pub fn read(root: &Path) -> Self {
        let cpu_dir = root.join("sys/devices/system/cpu");
        let mut places = BTreeMap::new();
        let Ok(entries) = std::fs::read_dir(&cpu_dir) else {
            return Topology { places };
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let Some(cpu) = name
                .strip_prefix("cpu")
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            let read = |f: &str| {
                std::fs::read_to_string(e.path().join("topology").join(f))
                    .ok()
                    .and_then(|s| s.trim().parse::<i64>().ok())
            };
            let place = Place {
                package: read("physical_package_id").unwrap_or(0),
                core: read("core_id").unwrap_or(UNKNOWN_CORE + cpu as i64),
            };
            places.insert(cpu, place);
        }
        Topology { places }
    }

    fn place(&self, cpu: usize) -> Place {
        self.places.get(&cpu).copied().unwrap_or(Place {
            package: 0,
            core: UNKNOWN_CORE + cpu as i64,
        })
    }

    /// `n` CPUs from `allowed`, SMT siblings of a core before the next core.
    pub fn compact(&self, n: usize, allowed: &[usize]) -> Vec<usize> {
        let mut cpus = allowed.to_vec();
        cpus.sort_by_key(|&c| (self.place(c), c));
        cpus.truncate(n.max(1));
        cpus
    }

    /// `n` CPUs from `allowed`, one per core (alternating packages) before
    /// any core's second sibling.
    pub fn spread(&self, n: usize, allowed: &[usize]) -> Vec<usize> {
        let mut cores: BTreeMap<Place, Vec<usize>> = BTreeMap::new();
        for &c in allowed {
            cores.entry(self.place(c)).or_default().push(c);
        }
        let mut rank_in_package: BTreeMap<i64, usize> = BTreeMap::new();
        let mut keyed = Vec::new();
        for (place, mut siblings) in cores {
            siblings.sort_unstable();
            let rank = rank_in_package.entry(place.package).or_default();
            for (sibling, c) in siblings.into_iter().enumerate() {
                keyed.push(((sibling, *rank, place.package), c));
            }
            *rank += 1;
        }
        keyed.sort();
        keyed.into_iter().map(|(_, c)| c).take(n.max(1)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two packages, two cores each, two SMT siblings per core, numbered
    /// the way Intel servers number them (siblings far apart).
    fn fake_tree() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        // cpu -> (package, core)
        let layout = [
            (0, 0, 0),
            (1, 0, 1),
            (2, 1, 0),
            (3, 1, 1),
            (4, 0, 0),
            (5, 0, 1),
            (6, 1, 0),
            (7, 1, 1),
        ];
        for (cpu, package, core) in layout {
            let d = tmp
                .path()
                .join(format!("sys/devices/system/cpu/cpu{cpu}/topology"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("physical_package_id"), format!("{package}\n")).unwrap();
            std::fs::write(d.join("core_id"), format!("{core}\n")).unwrap();
        }
        tmp
    }

    #[test]
    fn compact_fills_a_core_before_the_next() {
        let t = Topology::read(fake_tree().path());
        let all: Vec<usize> = (0..8).collect();
        assert_eq!(t.compact(2, &all), vec![0, 4]);
        assert_eq!(t.compact(4, &all), vec![0, 4, 1, 5]);
        assert_eq!(t.compact(1, &[3, 7]), vec![3]);
    }

    #[test]
    fn spread_takes_one_cpu_per_core_alternating_packages_first() {
        let t = Topology::read(fake_tree().path());
        let all: Vec<usize> = (0..8).collect();
        assert_eq!(t.spread(2, &all), vec![0, 2]);
        assert_eq!(t.spread(4, &all), vec![0, 2, 1, 3]);
        assert_eq!(t.spread(5, &all), vec![0, 2, 1, 3, 4]);
    }

    #[test]
    fn an_unreadable_tree_treats_every_cpu_as_its_own_core() {
        let t = Topology::read(Path::new("/nonexistent"));
        assert_eq!(t.compact(2, &[0, 1, 2]), vec![0, 1]);
        assert_eq!(t.spread(2, &[0, 1, 2]), vec![0, 1]);
    }
}
