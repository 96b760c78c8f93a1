//! Where each of a shard's locations sits in the shard's list, found by the
//! location's hash: open addressing with linear probing over one array of
//! 4-byte words, each holding 8 bits of the hash and the position. A lookup
//! or a new location touches one cache line of it, and a thread can name
//! that line, and ask for it, before it takes the shard's lock. (hashbrown's
//! table kept tags and positions in two arrays: two cold lines for each new
//! location, neither of which could be named ahead.)

/// Bits of a word that hold the position (plus one: zero is an empty word).
const POSITION_BITS: u32 = 24;
const POSITION_MASK: u32 = (1 << POSITION_BITS) - 1;
const EMPTY: u32 = 0;
/// The most locations one shard holds: 16.7 million, about 2.5 GB of
/// versions in that one shard. A new location costs its writer some two
/// thousand gas (a cold slot), so even a block whose every write lands in
/// one shard needs over 30 gigagas of writes to get there, thirty times
/// the largest block the lab builds. Past it, recording panics, naming
/// this limit.
pub(super) const MAX_POSITIONS: usize = POSITION_MASK as usize - 1;

pub(super) struct LocationIndex {
    words: Box<[u32]>,
    len: usize,
}

impl LocationIndex {
    /// Room for `locations` without growing: at most three quarters of the
    /// words used, so a probe seldom leaves the line it starts on.
    pub(super) fn with_capacity(locations: usize) -> Self {
        let words = (locations + locations / 3 + 1).next_power_of_two().max(16);
        Self {
            words: vec![EMPTY; words].into_boxed_slice(),
            len: 0,
        }
    }

    /// The words and mask as they are now: what a thread without the lock
    /// may prefetch from (a stale pair only prefetches a useless line).
    pub(super) fn words(&self) -> (*const u32, usize) {
        (self.words.as_ptr(), self.words.len() - 1)
    }

    /// The word a probe for `hash` starts at, given [`Self::words`].
    pub(super) fn first_word((words, mask): (*const u32, usize), hash: u64) -> *const u32 {
        words.wrapping_add(hash as usize & mask)
    }

    fn tag(hash: u64) -> u32 {
        ((hash >> 56) as u32) << POSITION_BITS
    }

    /// The position of the location with `hash` for which `is` holds.
    pub(super) fn find(&self, hash: u64, mut is: impl FnMut(usize) -> bool) -> Option<usize> {
        let mask = self.words.len() - 1;
        let tag = Self::tag(hash);
        let mut i = hash as usize & mask;
        loop {
            let word = self.words[i];
            if word == EMPTY {
                return None;
            }
            if word & !POSITION_MASK == tag {
                let position = (word & POSITION_MASK) as usize - 1;
                if is(position) {
                    return Some(position);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds the next location of the list (at position `len`), not yet in
    /// the index; `hash_of(p)` gives the hash of the location at `p` when it
    /// grows. True when it grew (its words moved).
    pub(super) fn insert(&mut self, hash: u64, hash_of: impl Fn(usize) -> u64) -> bool {
        let position = self.len;
        assert!(
            position < MAX_POSITIONS,
            "a shard of the multi-version memory holds at most {MAX_POSITIONS} locations"
        );
        let grow = 4 * (self.len + 1) > 3 * self.words.len();
        if grow {
            self.words = vec![EMPTY; 2 * self.words.len()].into_boxed_slice();
            for p in 0..self.len {
                self.place(hash_of(p), p);
            }
        }
        self.place(hash, position);
        self.len += 1;
        grow
    }

    fn place(&mut self, hash: u64, position: usize) {
        let mask = self.words.len() - 1;
        let mut i = hash as usize & mask;
        while self.words[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.words[i] = Self::tag(hash) | (position as u32 + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashes that collide in the probe start and in the tag, so lookups
    /// must walk past words that are not theirs, and that start at the
    /// table's last words, so probes wrap around to its first.
    fn hash(key: u64) -> u64 {
        (key % 7).wrapping_sub(3) ^ ((key % 3) << 56)
    }

    #[test]
    fn finds_every_location_across_growth_and_collisions() {
        let keys: Vec<u64> = (0..1000).map(|k| k * 7919 + 13).collect();
        let mut index = LocationIndex::with_capacity(4);
        for &k in &keys {
            assert_eq!(index.find(hash(k), |q| keys[q] == k), None);
            index.insert(hash(k), |q| hash(keys[q]));
        }
        for (p, &k) in keys.iter().enumerate() {
            assert_eq!(index.find(hash(k), |q| keys[q] == k), Some(p));
        }
        assert_eq!(index.find(hash(5), |q| keys[q] == 5), None);
        // Three quarters full at most.
        assert!(4 * keys.len() <= 3 * index.words.len());
    }

    #[test]
    fn reports_when_its_words_move() {
        let mut index = LocationIndex::with_capacity(12);
        let before = index.words().0;
        // Room for the twelve it was made for, then growth.
        let grew: Vec<bool> = (0..64).map(|p| index.insert(p, |q| q as u64)).collect();
        assert!(grew[..12].iter().all(|g| !g));
        assert!(grew.iter().any(|g| *g), "64 locations outgrow room for 12");
        assert_ne!(index.words().0, before);
        assert!((0..64).all(|p| index.find(p, |q| q == p as usize) == Some(p as usize)));
    }
}
