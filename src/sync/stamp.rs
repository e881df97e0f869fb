//! Stamps order the changes of the whole fleet: **the change with the larger
//! stamp wins**, on every node and in Redis (last writer wins).
//!
//! A stamp is the wall-clock time of the change in milliseconds, shifted left
//! by [`TAG_BITS`], with the low bits taken from the random tag of the zone
//! that made it. So stamps of different nodes almost never tie (two nodes
//! would need the same tag and the same millisecond), the stamps of one node
//! strictly increase (the journal's clock never hands out the same one
//! twice, even within a millisecond or if the wall clock steps back), and a
//! node's change always supersedes the entry it replaces, even one stamped by
//! a node whose clock runs ahead. Clocks still matter between nodes: keep
//! them in step (NTP); a node whose clock is an hour behind loses every
//! conflict on the same client for an hour's worth of changes.

/// Low bits of a stamp that name the zone that made it. Ten bits leave 2^54
/// milliseconds (570,000 years) of range and fit a double exactly (Lua in
/// Redis compares stamps as numbers) until the year 2248.
pub const TAG_BITS: u32 = 10;
pub const TAG_MASK: u64 = (1 << TAG_BITS) - 1;

/// The stamp of a change made at `now_ms` by zone `tag`, later than `prev`.
pub fn after(now_ms: u64, prev: u64, tag: u64) -> u64 {
    let ms = now_ms.max((prev >> TAG_BITS) + 1);
    ms << TAG_BITS | (tag & TAG_MASK)
}

/// The wall-clock milliseconds of a stamp.
pub fn millis(stamp: u64) -> u64 {
    stamp >> TAG_BITS
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_clock_or_later_than_previous() {
        let a = after(1_000, 0, 3);
        assert_eq!(millis(a), 1_000);
        assert_eq!(a & TAG_MASK, 3);
        // same millisecond: still later
        let b = after(1_000, a, 3);
        assert!(b > a && millis(b) == 1_001);
        // clock stepped back: still later
        let c = after(10, b, 3);
        assert!(c > b);
        // beats another node's stamp whatever its tag
        let other = after(5_000, 0, TAG_MASK);
        assert!(after(1_000, other, 0) > other);
        // fits a double exactly for centuries
        let y2200 = 7_258_118_400_000u64;
        let s = after(y2200, 0, TAG_MASK);
        assert_eq!(s as f64 as u64, s);
    }
}
