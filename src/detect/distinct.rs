//! Tiny distinct-count sets for the client record: 128 bits, one per hashed
//! item. Exact membership is not needed, only "how many different things
//! did this client touch recently", so a bitmap with a collision-corrected
//! counter (Whang et al.'s linear counting, taken one item at a time) is
//! enough and costs 16 bytes.

/// Sets the bit of `hash` in a 128-bit set and returns how many new distinct
/// items that stands for: 0 when the bit was already set, else 1 / (1 - f)
/// with f the share of bits set before. A new item lands on a clear bit with
/// probability 1 - f, so the sum is an unbiased distinct count (the
/// derivative of linear counting) despite collisions. A set half full is
/// cleared first, which keeps the weight at most 2.
pub fn insert(set: &mut [u64; 2], hash: u32) -> f32 {
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
}
