//! Multi-needle search compiled at build time.
//!
//! Each signature list becomes a `Needles` constant: for every byte value, a
//! 64-bit mask of the needles that start with it. A scan then reads the
//! haystack once and, at each position, compares only the few needles whose
//! first byte matches, so checking a field against a list of fifty keywords
//! costs about one pass instead of fifty. Lists hold at most 64 needles of at
//! least two bytes (checked at compile time).

pub struct Needles {
    list: &'static [&'static [u8]],
    first: [u64; 256],
    /// Needles by their second byte: ANDed with `first`, it leaves about one
    /// candidate per position even for needles starting with common letters.
    second: [u64; 256],
    /// Read `\` in the haystack as `/` (Windows paths in traversal checks).
    fold_backslash: bool,
}

impl Needles {
    pub const fn new(list: &'static [&'static [u8]]) -> Self {
        Self::build(list, false)
    }

    pub const fn paths(list: &'static [&'static [u8]]) -> Self {
        Self::build(list, true)
    }

    const fn build(list: &'static [&'static [u8]], fold_backslash: bool) -> Self {
        assert!(list.len() <= 64, "at most 64 needles per list");
        let mut first = [0u64; 256];
        let mut second = [0u64; 256];
        let mut i = 0;
        while i < list.len() {
            assert!(list[i].len() >= 2, "needles have at least two bytes");
            first[list[i][0] as usize] |= 1 << i;
            second[list[i][1] as usize] |= 1 << i;
            i += 1;
        }
        Needles {
            list,
            first,
            second,
            fold_backslash,
        }
    }

    fn byte(&self, b: u8) -> u8 {
        if self.fold_backslash && b == b'\\' {
            b'/'
        } else {
            b
        }
    }

    /// Calls `f(needle, position)` for each match in order of position; stops
    /// and returns `true` as soon as `f` does.
    pub fn any_match(&self, hay: &[u8], mut f: impl FnMut(&[u8], usize) -> bool) -> bool {
        for (i, pair) in hay.windows(2).enumerate() {
            let mut m = self.first[usize::from(self.byte(pair[0]))]
                & self.second[usize::from(self.byte(pair[1]))];
            while m != 0 {
                let k = m.trailing_zeros() as usize;
                m &= m - 1;
                let Some(needle) = self.list.get(k) else {
                    continue;
                };
                let Some(window) = hay.get(i..i + needle.len()) else {
                    continue;
                };
                if window
                    .iter()
                    .zip(needle.iter())
                    .all(|(&h, &n)| self.byte(h) == n)
                    && f(needle, i)
                {
                    return true;
                }
            }
        }
        false
    }

    /// Whether any needle occurs in `hay`.
    pub fn found_in(&self, hay: &[u8]) -> bool {
        self.any_match(hay, |_, _| true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: Needles = Needles::new(&[b"union", b"sleep(", b"@@version"]);
    const P: Needles = Needles::paths(&[b"etc/passwd"]);

    #[test]
    fn finds() {
        assert!(N.found_in(b"x sleep(5)"));
        assert!(N.found_in(b"@@version"));
        assert!(!N.found_in(b"sleep (5) unio"));
        assert!(P.found_in(b"..\\etc\\passwd"));
        let mut at = Vec::new();
        N.any_match(b"union sleep(union", |n, p| {
            at.push((n.len(), p));
            false
        });
        assert_eq!(at, vec![(5, 0), (6, 6), (5, 12)]);
    }
}
