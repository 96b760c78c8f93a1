//! What executing a block produces, and the digest that lets two executors
//! (or two runs) prove they produced the same thing.

use revm::primitives::{Address, Log, B256, KECCAK_EMPTY, U256};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub success: bool,
    pub gas_used: u64,
    pub cumulative_gas_used: u64,
    pub logs: Vec<Log>,
}

/// An account's state after the block, where it differs from before.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountChange {
    pub balance: U256,
    pub nonce: u64,
    pub code_hash: B256,
    /// The account's storage was wiped (self-destruct) before `storage` applied.
    pub storage_cleared: bool,
    /// Slots whose value changed, with their new value (zero = deleted).
    pub storage: SlotChanges,
}

/// An account's changed slots with their new values, in slot order. Built
/// from a sorted list in one piece: a map allocated a node per dozen slots,
/// and a token's tens of thousands of balances were built on one thread
/// while the others waited.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlotChanges(Vec<(U256, U256)>);

type SlotIter<'a> = std::iter::Map<
    std::slice::Iter<'a, (U256, U256)>,
    fn(&'a (U256, U256)) -> (&'a U256, &'a U256),
>;

impl SlotChanges {
    /// `slots` in strictly increasing slot order.
    pub(crate) fn from_sorted(slots: Vec<(U256, U256)>) -> Self {
        debug_assert!(slots.windows(2).all(|w| w[0].0 < w[1].0));
        Self(slots)
    }

    pub fn get(&self, slot: &U256) -> Option<&U256> {
        let i = self.0.binary_search_by(|(s, _)| s.cmp(slot)).ok()?;
        Some(&self.0[i].1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// In slot order.
    pub fn iter(&self) -> SlotIter<'_> {
        self.0.iter().map(|(slot, value)| (slot, value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &U256> {
        self.0.iter().map(|(slot, _)| slot)
    }

    pub fn values(&self) -> impl Iterator<Item = &U256> {
        self.0.iter().map(|(_, value)| value)
    }
}

/// In any order; a slot given twice keeps its last value, as a map would.
impl FromIterator<(U256, U256)> for SlotChanges {
    fn from_iter<I: IntoIterator<Item = (U256, U256)>>(slots: I) -> Self {
        let mut slots: Vec<_> = slots.into_iter().collect();
        slots.sort_by_key(|(slot, _)| *slot);
        // Of equal slots the stable sort leaves the last given last.
        slots.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1 = later.1;
            }
            same
        });
        Self(slots)
    }
}

impl<'a> IntoIterator for &'a SlotChanges {
    type Item = (&'a U256, &'a U256);
    type IntoIter = SlotIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl std::ops::Index<&U256> for SlotChanges {
    type Output = U256;

    fn index(&self, slot: &U256) -> &U256 {
        self.get(slot)
            .unwrap_or_else(|| panic!("slot {slot} did not change"))
    }
}

/// An account's balance, nonce and code hash; a missing account is empty.
pub(crate) type Info = (U256, u64, B256);

impl AccountChange {
    /// The one definition of "changed" both executors share: `None` when the
    /// account ends as it began. Wiping the storage of an account that did
    /// not exist before the block is no change; `storage` must already hold
    /// only slots that differ from their base (zero once wiped).
    pub(crate) fn between(
        before: Option<Info>,
        after: Info,
        storage_cleared: bool,
        storage: SlotChanges,
    ) -> Option<Self> {
        let unchanged_info = match before {
            Some(b) => b == after,
            None => after.0.is_zero() && after.1 == 0 && after.2 == KECCAK_EMPTY,
        };
        if unchanged_info && storage.is_empty() && (!storage_cleared || before.is_none()) {
            return None;
        }
        let (balance, nonce, code_hash) = after;
        Some(Self {
            balance,
            nonce,
            code_hash,
            storage_cleared,
            storage,
        })
    }
}

/// Every account a block changed, seen in address order. The changes stay
/// where the executor built them (one list per building thread) and only a
/// small index is sorted: putting a gigagas block's hundred thousand changes
/// themselves in order cost a cache miss or two each, as much as executing
/// the transfers that made them. Consumers walk the index.
#[derive(Clone, Default)]
pub struct StateDiff {
    parts: Vec<Vec<(Address, AccountChange)>>,
    /// (part, position) of each change, in address order.
    order: Vec<(u32, u32)>,
}

/// A part of a [`StateDiff`] with its [`StateDiff::part_order`].
pub(crate) type OrderedPart = (Vec<(Address, AccountChange)>, Vec<(u64, u32)>);

/// An address's first eight bytes as a number that orders as they do.
pub(crate) fn prefix(address: &Address) -> u64 {
    u64::from_be_bytes(address.0[..8].try_into().unwrap())
}

/// Positions of `items` in the order of their addresses, each with its
/// [`prefix`]: the prefix is held inline, and the whole address (a pointer
/// chase) only breaks ties.
pub(crate) fn address_order<T>(items: &[T], address: impl Fn(&T) -> &Address) -> Vec<(u64, u32)> {
    debug_assert!(items.len() <= u32::MAX as usize);
    let keys = items
        .iter()
        .enumerate()
        .map(|(i, item)| (prefix(address(item)), i as u32))
        .collect();
    keys_in_address_order(items, keys, address)
}

/// `keys`, the [`prefix`] and position of each of `items`, in the order of
/// their addresses.
pub(crate) fn keys_in_address_order<T>(
    items: &[T],
    keys: Vec<(u64, u32)>,
    address: impl Fn(&T) -> &Address,
) -> Vec<(u64, u32)> {
    debug_assert_eq!(keys.len(), items.len());
    sort_by_prefix(keys, |a, b| {
        a.0.cmp(&b.0)
            .then_with(|| address(&items[a.1 as usize]).cmp(address(&items[b.1 as usize])))
    })
}

/// Runs each sorted by `less` merged into one, two at a time, each item of
/// the last merge given as `out` makes it: the list the caller keeps is
/// written once, with no pass of its own (which, with a zeroed list for
/// each merge, was a fifth of a gigagas transfer block's last
/// millisecond). A stable sort that found the runs and merged them took
/// three quarters of a millisecond for two parts, most of it mispredicted
/// branches: here each step's choice is a select.
fn merge_runs_into<T: Copy, O>(
    mut runs: Vec<Vec<T>>,
    less: impl Fn(&T, &T) -> bool,
    out: impl Fn(T) -> O,
) -> Vec<O> {
    while runs.len() > 2 {
        let mut pairs = runs.into_iter();
        let mut merged = Vec::new();
        while let Some(a) = pairs.next() {
            merged.push(match pairs.next() {
                Some(b) => merge_two(&a, &b, &less, |x| x),
                None => a,
            });
        }
        runs = merged;
    }
    let b = runs.pop().unwrap_or_default();
    let a = runs.pop().unwrap_or_default();
    merge_two(&a, &b, &less, out)
}

/// `a` and `b`, each sorted by `less`, in one sorted list of what `out`
/// makes of each; on a tie `a`'s comes first.
fn merge_two<T: Copy, O>(
    a: &[T],
    b: &[T],
    less: impl Fn(&T, &T) -> bool,
    out: impl Fn(T) -> O,
) -> Vec<O> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        // Both read, then one kept: a select, where taking one or the
        // other was a branch as unpredictable as the comparison.
        let (x, y) = (a[i], b[j]);
        let take_b = less(&y, &x);
        merged.push(out(if take_b { y } else { x }));
        j += usize::from(take_b);
        i += usize::from(!take_b);
    }
    merged.extend(a[i..].iter().chain(&b[j..]).map(|x| out(*x)));
    merged
}

/// Buckets [`dealt_by`] deals keys into: the top bits of a word.
pub(crate) const BUCKET_BITS: u32 = 11;

/// Keys dealt into buckets by the top [`BUCKET_BITS`] of a word, in bucket
/// order and, within a bucket, in the order given.
pub(crate) struct Dealt<K> {
    pub keys: Vec<K>,
    /// Where each bucket starts, and the end.
    pub buckets: Vec<usize>,
}

pub(crate) fn dealt_by<K: Copy + Default>(keys: &[K], word: impl Fn(&K) -> u64) -> Dealt<K> {
    let bucket = |key: &K| (word(key) >> (64 - BUCKET_BITS)) as usize;
    let mut buckets = vec![0usize; (1 << BUCKET_BITS) + 1];
    for key in keys {
        buckets[bucket(key) + 1] += 1;
    }
    for b in 1..buckets.len() {
        buckets[b] += buckets[b - 1];
    }
    let mut next = buckets.clone();
    let mut dealt = vec![K::default(); keys.len()];
    for key in keys {
        let b = bucket(key);
        dealt[next[b]] = *key;
        next[b] += 1;
    }
    Dealt {
        keys: dealt,
        buckets,
    }
}

/// `keys` in `order`, which must order by their first word first: dealt
/// into buckets by that word's top bits, then each bucket sorted. One
/// comparison sort of a gigagas block's changes took a millisecond on each
/// thread that built a part.
fn sort_by_prefix(
    mut keys: Vec<(u64, u32)>,
    order: impl Fn(&(u64, u32), &(u64, u32)) -> std::cmp::Ordering,
) -> Vec<(u64, u32)> {
    if keys.len() < 1 << BUCKET_BITS {
        keys.sort_unstable_by(order);
        return keys;
    }
    let mut dealt = dealt_by(&keys, |key| key.0);
    for bounds in dealt.buckets.windows(2) {
        dealt.keys[bounds[0]..bounds[1]].sort_unstable_by(&order);
    }
    dealt.keys
}

impl StateDiff {
    /// `parts` may come in any order; each address once over all of them.
    pub(crate) fn from_parts(parts: Vec<Vec<(Address, AccountChange)>>) -> Self {
        Self::from_ordered_parts(
            parts
                .into_iter()
                .map(|part| {
                    let order = Self::part_order(&part);
                    (part, order)
                })
                .collect(),
        )
    }

    /// One part's changes in address order, as (first eight bytes of the
    /// address, position): the threads that build the parts sort their own.
    pub(crate) fn part_order(part: &[(Address, AccountChange)]) -> Vec<(u64, u32)> {
        address_order(part, |(a, _)| a)
    }

    /// [`Self::part_order`] from each change's key, taken as it was made.
    pub(crate) fn part_order_of_keys(
        part: &[(Address, AccountChange)],
        keys: Vec<(u64, u32)>,
    ) -> Vec<(u64, u32)> {
        keys_in_address_order(part, keys, |(a, _)| a)
    }

    /// Parts, each with its [`Self::part_order`]: only merged here.
    pub(crate) fn from_ordered_parts(parts: Vec<OrderedPart>) -> Self {
        let (parts, orders): (Vec<_>, Vec<_>) = parts.into_iter().unzip();
        let address = |&(_, p, i): &(u64, u32, u32)| &parts[p as usize][i as usize].0;
        let runs = orders
            .into_iter()
            .enumerate()
            .map(|(p, order)| {
                let p = p as u32;
                order
                    .into_iter()
                    .map(|(prefix, i)| (prefix, p, i))
                    .collect()
            })
            .collect();
        // `|`, not `||`: which run's prefix is smaller is a coin toss, a
        // branch mispredicted half the time; equal prefixes are rare.
        let order = merge_runs_into(
            runs,
            |a, b| (a.0 < b.0) | (a.0 == b.0 && address(a) < address(b)),
            |(_, p, i)| (p, i),
        );
        let diff = Self { parts, order };
        debug_assert!(diff
            .order
            .windows(2)
            .all(|w| diff.entry(w[0]).0 < diff.entry(w[1]).0));
        diff
    }

    fn entry(&self, (p, i): (u32, u32)) -> &(Address, AccountChange) {
        &self.parts[p as usize][i as usize]
    }

    pub fn get(&self, address: &Address) -> Option<&AccountChange> {
        let i = self
            .order
            .binary_search_by(|at| self.entry(*at).0.cmp(address))
            .ok()?;
        Some(&self.entry(self.order[i]).1)
    }

    pub fn contains_key(&self, address: &Address) -> bool {
        self.get(address).is_some()
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// In address order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            diff: self,
            order: self.order.iter(),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &Address> {
        self.iter().map(|(a, _)| a)
    }

    pub fn values(&self) -> impl Iterator<Item = &AccountChange> {
        self.iter().map(|(_, c)| c)
    }
}

impl PartialEq for StateDiff {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for StateDiff {}

impl std::fmt::Debug for StateDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A state diff's changes in address order.
#[derive(Clone)]
pub struct Iter<'a> {
    diff: &'a StateDiff,
    order: std::slice::Iter<'a, (u32, u32)>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Address, &'a AccountChange);

    fn next(&mut self) -> Option<Self::Item> {
        let (a, c) = self.diff.entry(*self.order.next()?);
        Some((a, c))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.order.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a StateDiff {
    type Item = (&'a Address, &'a AccountChange);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl std::ops::Index<&Address> for StateDiff {
    type Output = AccountChange;

    fn index(&self, address: &Address) -> &AccountChange {
        self.get(address)
            .unwrap_or_else(|| panic!("{address} is not in the state diff"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockOutput {
    pub receipts: Vec<Receipt>,
    pub changes: StateDiff,
    pub gas_used: u64,
}

impl BlockOutput {
    /// sha256 over receipts (status, gas, logs) and the sorted state diff.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.gas_used.to_be_bytes());
        for r in &self.receipts {
            h.update([r.success as u8]);
            h.update(r.gas_used.to_be_bytes());
            h.update(r.cumulative_gas_used.to_be_bytes());
            for log in &r.logs {
                h.update(log.address);
                for topic in log.data.topics() {
                    h.update(topic);
                }
                h.update((log.data.data.len() as u64).to_be_bytes());
                h.update(&log.data.data);
            }
        }
        for (address, change) in &self.changes {
            h.update(address);
            h.update(change.balance.to_be_bytes::<32>());
            h.update(change.nonce.to_be_bytes());
            h.update(change.code_hash);
            h.update([change.storage_cleared as u8]);
            for (slot, value) in &change.storage {
                h.update(slot.to_be_bytes::<32>());
                h.update(value.to_be_bytes::<32>());
            }
        }
        to_hex(&h.finalize())
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A seeded stream of numbers for tests that need many varied keys.
#[cfg(test)]
pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(balance: u64) -> AccountChange {
        AccountChange {
            balance: U256::from(balance),
            code_hash: KECCAK_EMPTY,
            ..Default::default()
        }
    }

    fn address(first: u8, last: u8) -> Address {
        let mut a = [0u8; 20];
        a[0] = first;
        a[19] = last;
        Address::from(a)
    }

    #[test]
    fn parts_in_any_order_read_in_address_order() {
        // Two addresses share their first eight bytes: the tie is broken on
        // the whole address.
        let (a, b, c, d) = (address(1, 9), address(1, 2), address(7, 0), address(3, 3));
        let diff = StateDiff::from_parts(vec![
            vec![(c, change(3)), (a, change(1))],
            vec![],
            vec![(d, change(4)), (b, change(2))],
        ]);
        let keys: Vec<_> = diff.keys().copied().collect();
        assert_eq!(keys, vec![b, a, d, c]);
        assert_eq!(diff.len(), 4);
        assert_eq!(diff[&d].balance, U256::from(4));
        assert!(!diff.contains_key(&address(2, 0)));

        let same = StateDiff::from_parts(vec![vec![
            (a, change(1)),
            (b, change(2)),
            (c, change(3)),
            (d, change(4)),
        ]]);
        assert_eq!(diff, same);
        let other = StateDiff::from_parts(vec![vec![(a, change(1))]]);
        assert_ne!(diff, other);
        let digest = |changes| {
            BlockOutput {
                changes,
                ..Default::default()
            }
            .digest()
        };
        assert_eq!(digest(diff), digest(same));
    }

    #[test]
    fn a_large_part_reads_in_address_order() {
        // Random addresses, a cluster with leading zero bytes (one bucket
        // holds them) and pairs sharing their first eight bytes.
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut addresses: Vec<Address> = (0..6000)
            .map(|i| {
                let mut a = [0u8; 20];
                for chunk in a.chunks_mut(8) {
                    let word = next().to_be_bytes();
                    chunk.copy_from_slice(&word[..chunk.len()]);
                }
                match i % 5 {
                    0 => a[..4].fill(0),
                    1 => a[..8].copy_from_slice(&[7; 8]),
                    _ => {}
                }
                Address::from(a)
            })
            .collect();
        addresses.sort();
        addresses.dedup();
        let mut part: Vec<(Address, AccountChange)> =
            addresses.iter().map(|a| (*a, change(1))).collect();
        part.reverse();
        let len = part.len() as u64;
        for i in (0..part.len()).step_by(2) {
            part.swap(i, (next() % len) as usize);
        }
        // The part's own order, before any merge could mend it.
        let order = StateDiff::part_order(&part);
        let read: Vec<Address> = order.iter().map(|(_, i)| part[*i as usize].0).collect();
        assert_eq!(read, addresses);
        let diff = StateDiff::from_parts(vec![part.clone()]);
        assert!(diff.keys().eq(addresses.iter()));

        // Dealt at random into five parts, one left empty: the merge of
        // their orders, pairwise over three levels, reads the same.
        let mut parts = vec![Vec::new(); 5];
        for entry in part {
            parts[(next() % 4) as usize].push(entry);
        }
        let diff = StateDiff::from_parts(parts);
        assert!(diff.keys().eq(addresses.iter()));
    }

    #[test]
    fn merged_runs_read_as_one_sorted_list_ties_first_run_first() {
        let runs = vec![
            vec![(1, 'a'), (4, 'a'), (9, 'a')],
            vec![(1, 'b'), (2, 'b'), (9, 'b')],
        ];
        let merged = merge_runs_into(runs, |x, y| x.0 < y.0, |x| x);
        let want = [(1, 'a'), (1, 'b'), (2, 'b'), (4, 'a'), (9, 'a'), (9, 'b')];
        assert_eq!(merged, want);
        let one = merge_runs_into(vec![vec![3, 5]], |x, y| x < y, |x| x);
        assert_eq!(one, vec![3, 5]);
        assert!(merge_runs_into(Vec::<Vec<u8>>::new(), |x, y| x < y, |x| x).is_empty());
        // The last merge's items as `out` makes them.
        let three = merge_runs_into(
            vec![vec![2, 6], vec![], vec![1, 7]],
            |x, y| x < y,
            |x| x * 10,
        );
        assert_eq!(three, vec![10, 20, 60, 70]);
    }

    #[test]
    fn slot_changes_read_in_slot_order_and_keep_a_slot_s_last_value() {
        let (one, two, three) = (U256::from(1), U256::from(2), U256::from(3));
        let slots = SlotChanges::from_iter([(three, one), (one, two), (three, three), (two, one)]);
        let read: Vec<_> = slots.iter().map(|(s, v)| (*s, *v)).collect();
        assert_eq!(read, vec![(one, two), (two, one), (three, three)]);
        assert_eq!(slots.len(), 3);
        assert_eq!(slots[&three], three);
        assert_eq!(slots.get(&U256::ZERO), None);
        assert_eq!(slots, SlotChanges::from_sorted(read));
    }
}
