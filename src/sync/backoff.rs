//! Reconnection delays: exponential from [`FIRST_MS`] to [`MAX_MS`], with
//! jitter so that a fleet does not reconnect in lockstep when Redis returns
//! (a hundred nodes retrying in the same millisecond is a self-made spike).

/// First retry after this long: a Redis restart or failover takes about a
/// second, so the first retries come quickly.
pub const FIRST_MS: u64 = 100;
/// Never wait longer than this: the node catches up within 5 s of Redis
/// coming back.
pub const MAX_MS: u64 = 5_000;

#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
    rng: u64,
}

impl Backoff {
    pub fn new(seed: u64) -> Backoff {
        Backoff {
            attempt: 0,
            rng: seed | 1,
        }
    }

    /// The delay before the next attempt, in milliseconds: a random point in
    /// the upper half of the current step (so it never shrinks to nothing).
    pub fn next_ms(&mut self) -> u64 {
        let step = FIRST_MS
            .saturating_mul(1u64 << self.attempt.min(16))
            .min(MAX_MS);
        self.attempt = self.attempt.saturating_add(1);
        // xorshift64: jitter needs no quality beyond "not the same on every node".
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        step / 2 + self.rng % (step / 2 + 1)
    }

    /// After a success, the next failure starts from the first step again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_with_jitter_and_resets() {
        let mut b = Backoff::new(7);
        let first = b.next_ms();
        assert!((FIRST_MS / 2..=FIRST_MS).contains(&first), "{first}");
        let mut last = 0;
        for _ in 0..20 {
            last = b.next_ms();
            assert!(last <= MAX_MS);
        }
        assert!(last >= MAX_MS / 2);
        b.reset();
        assert!(b.next_ms() <= FIRST_MS);
        let (mut x, mut y) = (Backoff::new(1), Backoff::new(2));
        let same = (0..10).filter(|_| x.next_ms() == y.next_ms()).count();
        assert!(same < 10, "jitter differs between nodes");
    }
}
