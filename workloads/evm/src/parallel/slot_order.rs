//! The order the fold sends and finishes slots in, (address, slot), reached
//! through a 32-byte key per slot rather than by moving the 96-byte slots
//! about a sort.

use super::memory::{SlotEnd, SlotFinal};
use super::{prefetch, spare};
use crate::output::{dealt_by, prefix, BUCKET_BITS};
use revm::primitives::{Address, U256};
use std::cmp::Ordering;

/// A slot's address prefix, its slot's top and bottom words, its position.
type Key = (u64, u64, u64, u32);

/// How far ahead of the gather its slots are asked for.
const GATHER_LOOKAHEAD: usize = 8;

/// `keys` in order. Dealt into buckets by the top bits of the address
/// prefix, and a bucket of one address (a token's balances) again by the
/// top bits of the slot, each bucket then sorted in full: random addresses
/// and hashed slots spread evenly, and a comparison sort of all the keys
/// of a gigagas swap block's part took a millisecond. Keys that crowd one
/// bucket (small slot numbers) only cost a comparison sort of it.
fn sorted_keys(mut keys: Vec<Key>) -> Vec<Key> {
    if keys.len() < 1 << BUCKET_BITS {
        keys.sort_unstable();
        return keys;
    }
    let mut dealt = dealt_by(&keys, |key| key.0);
    for bucket in dealt.buckets.windows(2) {
        let bucket = &mut dealt.keys[bucket[0]..bucket[1]];
        let one_address = bucket.iter().all(|key| key.0 == bucket[0].0);
        if bucket.len() >= 1 << BUCKET_BITS && one_address {
            let again = dealt_by(bucket, |key| key.1);
            bucket.copy_from_slice(&again.keys);
            for sub in again.buckets.windows(2) {
                bucket[sub[0]..sub[1]].sort_unstable();
            }
        } else {
            bucket.sort_unstable();
        }
    }
    dealt.keys
}

pub(super) fn by_address_and_slot(a: &SlotFinal, b: &SlotFinal) -> Ordering {
    a.address.cmp(&b.address).then(a.slot.cmp(&b.slot))
}

/// Puts `slots` in (address, slot) order. False where the key left some
/// pair out of order and the slots were sorted again in full (tests check
/// that the key alone orders a block's usual slots).
pub(super) fn sort_by_address_and_slot(slots: &mut Vec<SlotFinal>) -> bool {
    if slots.len() < 2 {
        return true;
    }
    debug_assert!(slots.len() <= u32::MAX as usize);
    // The address's first eight bytes and the slot's top and bottom words
    // (a hashed key's top, a small slot number's bottom) decide nearly
    // every pair.
    let keys: Vec<Key> = slots
        .iter()
        .enumerate()
        .map(|(position, slot)| {
            let words = slot.slot.as_limbs();
            (prefix(&slot.address), words[3], words[0], position as u32)
        })
        .collect();
    let keys = sorted_keys(keys);
    let mut sorted = spare::slot_list(slots.len());
    for (i, &(_, _, _, position)) in keys.iter().enumerate() {
        // The slots are read in an order of their own: a cache miss each,
        // asked for ahead so that several are on their way at once.
        if let Some(ahead) = keys.get(i + GATHER_LOOKAHEAD) {
            prefetch::for_read(&slots[ahead.3 as usize]);
        }
        let taken = SlotFinal {
            address: Address::ZERO,
            slot: U256::ZERO,
            end: SlotEnd::Changed(U256::ZERO),
        };
        sorted.push(std::mem::replace(&mut slots[position as usize], taken));
    }
    slots.clear();
    spare::keep_slot_list(std::mem::replace(slots, sorted));
    // Addresses that share eight bytes, or slots that share both words,
    // are left as the key put them: sorted in full where they were out of
    // order.
    let ordered = slots.is_sorted_by(|a, b| by_address_and_slot(a, b) != Ordering::Greater);
    if !ordered {
        slots.sort_unstable_by(by_address_and_slot);
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::xorshift;

    fn slot(address: [u8; 20], slot: U256, value: u64) -> SlotFinal {
        SlotFinal {
            address: Address::from(address),
            slot,
            end: SlotEnd::Changed(U256::from(value)),
        }
    }

    #[test]
    fn slots_come_out_in_address_then_slot_order() {
        // Two addresses share their first eight bytes; one account's slots
        // share their top word (small numbers) or differ in it (hashes).
        let (mut a, mut b, mut c) = ([0u8; 20], [0u8; 20], [9u8; 20]);
        a[19] = 1;
        b[19] = 2;
        c[0] = 1;
        let high = U256::from_limbs([0, 0, 0, 7]);
        let mut slots = vec![
            slot(c, U256::from(1), 1),
            slot(b, high, 2),
            slot(a, U256::from(3), 3),
            slot(b, U256::from(2), 4),
            slot(a, high + U256::from(1), 5),
            slot(a, high, 6),
            slot(a, U256::from(1), 7),
            slot(b, U256::from(1), 8),
        ];
        let mut expected: Vec<(Address, U256)> =
            slots.iter().map(|s| (s.address, s.slot)).collect();
        expected.sort();
        // a and b share their first eight bytes: the key interleaves their
        // slots, and the check sorts them again in full.
        assert!(!sort_by_address_and_slot(&mut slots));
        let got: Vec<(Address, U256)> = slots.iter().map(|s| (s.address, s.slot)).collect();
        assert_eq!(got, expected);
        // Each slot's value came with it.
        let value_of = |s: &SlotFinal| match s.end {
            SlotEnd::Changed(v) => v,
            SlotEnd::Versions(_) => unreachable!(),
        };
        assert_eq!(value_of(&slots[0]), U256::from(7));
        assert_eq!(value_of(&slots[7]), U256::from(1));
    }

    #[test]
    fn many_slots_come_out_as_a_plain_sort_puts_them() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut slots: Vec<SlotFinal> = (0..3000)
            .map(|i| {
                // Five pairs of addresses, the two of a pair sharing their
                // first eight bytes.
                let mut address = [(next() % 5) as u8 * 40; 20];
                address[19] = (next() % 2) as u8;
                let key = match next() % 3 {
                    0 => U256::from(next() % 16),
                    1 => U256::from_limbs([next(), 0, 0, next() % 4]),
                    _ => U256::from_limbs([next(), next(), next(), next()]),
                };
                slot(address, key, i)
            })
            .collect();
        slots.sort_by_key(|s| (s.address, s.slot));
        slots.dedup_by_key(|s| (s.address, s.slot));
        let expected: Vec<(Address, U256)> = slots.iter().map(|s| (s.address, s.slot)).collect();
        slots.reverse();
        let len = slots.len() as u64;
        for i in (1..slots.len()).step_by(3) {
            slots.swap(i, (next() % len) as usize);
        }
        sort_by_address_and_slot(&mut slots);
        let got: Vec<(Address, U256)> = slots.iter().map(|s| (s.address, s.slot)).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn keys_dealt_into_buckets_come_out_as_a_plain_sort_puts_them() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut keys: Vec<Key> = Vec::new();
        // One address with thousands of hashed slots and small ones (dealt
        // again by slot), one with thousands of small slots (one bucket),
        // and random addresses with a few slots each.
        for (address, count) in [(7u64 << 56, 5000), (9 << 56, 3000)] {
            for i in 0..count {
                let top = if address == 7 << 56 && i % 4 != 0 {
                    next()
                } else {
                    0
                };
                keys.push((address, top, next() % 100, 0));
            }
        }
        // Apart from the two above in their top bit.
        for _ in 0..4000 {
            keys.push((next() | 1 << 63, next(), next(), 0));
        }
        for (position, key) in keys.iter_mut().enumerate() {
            key.3 = position as u32;
        }
        let mut expected = keys.clone();
        expected.sort_unstable();
        assert_eq!(sorted_keys(keys), expected);
    }

    #[test]
    fn the_key_alone_orders_slots_of_addresses_apart_in_their_first_bytes() {
        // A token's hashed balance slots and a pool's small slot numbers,
        // each address apart from the others in its first byte.
        let mut next = xorshift(0x853c_49e6_748f_ea9b);
        let mut slots = Vec::new();
        for (i, first) in [9u8, 3, 200, 3 + 64].into_iter().enumerate() {
            let mut address = [first; 20];
            address[19] = i as u8;
            for k in 0..50u64 {
                let hashed = U256::from_limbs([next(), next(), next(), next()]);
                slots.push(slot(address, hashed, k));
                slots.push(slot(address, U256::from(50 - k), k));
            }
        }
        let mut expected: Vec<(Address, U256)> =
            slots.iter().map(|s| (s.address, s.slot)).collect();
        expected.sort();
        assert!(
            sort_by_address_and_slot(&mut slots),
            "the key ordered them alone"
        );
        let got: Vec<(Address, U256)> = slots.iter().map(|s| (s.address, s.slot)).collect();
        assert_eq!(got, expected);
    }
}
