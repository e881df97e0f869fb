//! Multi-needle search compiled at build time.
//!
//! Each signature list becomes a `Needles` constant: for every byte value, a
//! 64-bit mask of the needles that start with it (and, ANDed with it, of
//! those whose second and third bytes it is). A scan then reads the
//! haystack once and, at each position, compares only the few needles whose
//! first bytes match, so checking a field against a list of fifty keywords
//! costs about one pass instead of fifty. Lists hold at most 64 needles of at
//! least two bytes (checked at compile time).

pub struct Needles {
    list: &'static [&'static [u8]],
    first: [u64; 256],
    /// Needles by their second byte: ANDed with `first`, it leaves about one
    /// candidate per position even for needles starting with common letters.
    second: [u64; 256],
    /// Needles by their third byte (two-byte needles under every byte): lists
    /// whose needles share a prefix (`{{''.`, `{{[].`, `{{_self`) leave no
    /// candidate on a run of that prefix (`{{{{...`).
    third: [u64; 256],
    /// The two-byte needles (the only ones that can match at the last byte).
    short: u64,
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
        let mut third = [0u64; 256];
        let mut short = 0;
        let mut i = 0;
        while i < list.len() {
            assert!(list[i].len() >= 2, "needles have at least two bytes");
            first[fold(list[i][0], fold_backslash) as usize] |= 1 << i;
            second[fold(list[i][1], fold_backslash) as usize] |= 1 << i;
            if list[i].len() == 2 {
                short |= 1 << i;
                let mut b = 0;
                while b < 256 {
                    third[b] |= 1 << i;
                    b += 1;
                }
            } else {
                third[fold(list[i][2], fold_backslash) as usize] |= 1 << i;
            }
            i += 1;
        }
        // The haystack's `\` is read as `/`: it selects the needles of `/`.
        if fold_backslash {
            first[b'\\' as usize] = first[b'/' as usize];
            second[b'\\' as usize] = second[b'/' as usize];
            third[b'\\' as usize] = third[b'/' as usize];
        }
        Needles {
            list,
            first,
            second,
            third,
            short,
            fold_backslash,
        }
    }

    fn byte(&self, b: u8) -> u8 {
        fold(b, self.fold_backslash)
    }

    /// Calls `f(needle, position)` for each match in order of position; stops
    /// and returns `true` as soon as `f` does.
    pub fn any_match(&self, hay: &[u8], mut f: impl FnMut(&[u8], usize) -> bool) -> bool {
        for (i, pair) in hay.windows(2).enumerate() {
            let mut m = self.first[usize::from(pair[0])] & self.second[usize::from(pair[1])];
            if m == 0 {
                continue;
            }
            // Past the end only the two-byte needles can match.
            m &= hay
                .get(i + 2)
                .map_or(self.short, |&b| self.third[usize::from(b)]);
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

const fn fold(b: u8, fold_backslash: bool) -> u8 {
    if fold_backslash && b == b'\\' {
        b'/'
    } else {
        b
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

    /// Every match, in order, as a naive search finds them: needles that
    /// share prefixes, two-byte needles at the end, backslashes as slashes.
    #[test]
    fn same_matches_as_a_naive_search() {
        const LIST: &[&[u8]] = &[b"{{", b"{{'.", b"{{[", b"{%", b"a/", b"/b", b"a/b\\"];
        const L: Needles = Needles::new(LIST);
        const LP: Needles = Needles::paths(LIST);
        let mut state_rng = crate::testing::XorShift64::new(0x2468_ace0_1357_9bdf);
        for round in 0..20_000 {
            let state = state_rng.next_u64();
            let len = (state % 12) as usize;
            let hay: Vec<u8> = (0..len)
                .map(|i| b"{{'.[%a/b\\"[((state >> (i * 4 + 8)) % 10) as usize])
                .collect();
            let (n, fold) = if round % 2 == 0 {
                (&L, false)
            } else {
                (&LP, true)
            };
            let folded: Vec<u8> = hay
                .iter()
                .map(|&b| if fold && b == b'\\' { b'/' } else { b })
                .collect();
            let mut want = Vec::new();
            for i in 0..hay.len() {
                for needle in LIST {
                    if folded[i..].starts_with(needle) {
                        want.push((needle.to_vec(), i));
                    }
                }
            }
            let mut got = Vec::new();
            n.any_match(&hay, |needle, i| {
                got.push((needle.to_vec(), i));
                false
            });
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&hay));
        }
    }
}
