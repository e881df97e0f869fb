//! Tiny distinct-count sets for the client record: 128 bits, one per hashed
//! item. Exact membership is not needed, only "how many different things
//! did this client touch recently", so a bitmap with a collision-corrected
//! counter (Whang et al.'s linear counting, taken one item at a time) is
//! enough and costs 16 bytes.

/// Sets the bit of `hash` in a 128-bit set and returns how many new distinct
/// items that stands for: 0 when the bit was already set, else 1 / (1 - f)
/// with f the share of bits set before. A new item lands on a clear bit with
/// probability 1 - f, so the sum is an unbiased distinct count (the
/// derivative of linear counting) despite collisions. A set that reaches
/// half full is cleared, which keeps the weight at most 2.
///
/// The set is cleared as soon as it reaches 64 bits rather than before the
/// next insert: the same weights for every sequence of items (the next
/// insert meets an empty set either way, [`tests::same_weights_as_clearing_on_the_next_insert`]),
/// and a re-seen item, the common case, costs a test and no bit count.
#[inline]
pub fn insert(set: &mut [u64; 2], hash: u32) -> f32 {
    let bit = (hash >> 7) % 128;
    let mask = 1u64 << (bit % 64);
    let i = (bit / 64) as usize % 2;
    if set[i] & mask != 0 {
        return 0.0;
    }
    let ones = set[0].count_ones() + set[1].count_ones();
    if ones >= 63 {
        // This bit makes 64 (or a record written by an earlier build, which
        // cleared only on the next insert, holds 64 already: cleared as that
        // build did; a re-seen item of such a set returned 0 above, where
        // that build counted it new, once).
        *set = [0; 2];
        if ones >= 64 {
            set[i] = mask;
            return 1.0;
        }
    } else {
        set[i] |= mask;
    }
    128.0 / (128 - ones) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_count_new_items() {
        let mut set = [0u64; 2];
        assert_eq!(insert(&mut set, 12345 << 7), 1.0);
        assert_eq!(insert(&mut set, 12345 << 7), 0.0);
        // Distinct items are counted without bias despite collisions.
        let mut set = [0u64; 2];
        let mut rng = 0x1234_5678u32;
        let mut total = 0.0;
        for _ in 0..60 {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            total += insert(&mut set, rng);
        }
        assert!((total - 60.0f32).abs() < 8.0, "{total}");
        for i in 0..200u32 {
            insert(&mut set, i << 7);
        }
        assert!(set[0].count_ones() + set[1].count_ones() <= 64);
    }

    /// The earlier form: clear a half-full set before the next insert.
    fn insert_lazily(set: &mut [u64; 2], hash: u32) -> f32 {
        let mut ones = set[0].count_ones() + set[1].count_ones();
        if ones >= 64 {
            *set = [0; 2];
            ones = 0;
        }
        let bit = (hash >> 7) % 128;
        let word = &mut set[(bit / 64) as usize % 2];
        let mask = 1u64 << (bit % 64);
        if *word & mask != 0 {
            return 0.0;
        }
        *word |= mask;
        128.0 / (128 - ones) as f32
    }

    #[test]
    fn same_weights_as_clearing_on_the_next_insert() {
        let mut rng = crate::testing::XorShift64::new(0x0d15_71c7);
        for round in 0..2_000u64 {
            // Few distinct items (re-seen often) up to many (sets fill).
            let range = 1 + (round % 200) as u32;
            let (mut eager, mut lazy) = ([0u64; 2], [0u64; 2]);
            for _ in 0..300 {
                let h = (rng.next_u64() as u32 % range).wrapping_mul(0x9e37_79b1);
                assert_eq!(insert(&mut eager, h), insert_lazily(&mut lazy, h));
                assert!(eager[0].count_ones() + eager[1].count_ones() < 64);
            }
        }
        // A set left at 64 bits by the earlier form (a zone kept across a
        // reload that upgraded the module): a new item clears it as before;
        // a re-seen one counts 0 instead of 1, once.
        let full = [u64::MAX, 0];
        for h in [64u32 << 7, 100 << 7, 127 << 7] {
            let (mut a, mut b) = (full, full);
            assert_eq!(insert(&mut a, h), insert_lazily(&mut b, h));
            assert_eq!(a, b);
        }
    }
}
