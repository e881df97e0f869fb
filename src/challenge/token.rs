//! The pass token: what the challenge page hands to the browser and what the
//! browser's cookie must carry back.
//!
//! The page carries `<expires>.<mac>`: `expires` is Unix seconds (ten
//! digits), `mac` the hex HMAC-SHA-256, keyed with the zone's random key,
//! over the client key (IPv4 address or IPv6 prefix), the User-Agent and
//! `expires`. The page's script finds a nonce so that
//! SHA-256(`<token>.<nonce>`) starts with `work` zero bits (the proof of
//! work; 12 bits is about 4,000 hashes) and sets the cookie
//! `<token>.<nonce>`. Verifying takes one HMAC and one SHA-256, no state:
//! a cookie from another address or User-Agent, an expired one, or one with
//! a changed byte fails. The MAC is compared in constant time (`subtle`).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::table::ClientKey;

/// The zone's challenge key.
pub type Key = [u8; 32];

/// Bytes of a token: ten digits, a dot, 64 hex digits.
pub const TOKEN_LEN: usize = 10 + 1 + 64;
/// Longest nonce accepted (digits).
pub const MAX_NONCE: usize = 10;
/// The most proof-of-work bits a profile may ask for (about a million
/// hashes: seconds on a phone).
pub const MAX_WORK: u8 = 20;

/// A token as the page carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token(pub [u8; TOKEN_LEN]);

impl Token {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// What a cookie value proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Minted for this client and User-Agent, not expired, work done;
    /// valid until these Unix seconds.
    Valid(u64),
    /// Not of the token's form.
    Malformed,
    Expired,
    /// The MAC does not match: another client, another User-Agent, another
    /// key (a restart, another node) or a changed byte.
    Forged,
    /// The MAC matches but the proof of work is missing or short.
    NoWork,
}

fn mac(key: &Key, client: ClientKey, user_agent: &[u8], expires: u64) -> Option<[u8; 32]> {
    // HMAC takes keys of any length: this never fails.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    m.update(b"api_abuse challenge v1\0");
    m.update(&client.to_be_bytes());
    m.update(&expires.to_be_bytes());
    m.update(user_agent);
    Some(m.finalize().into_bytes().into())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The token for `client` with `user_agent`, valid until `expires` (Unix
/// seconds, below 10^10).
pub fn mint(key: &Key, client: ClientKey, user_agent: &[u8], expires: u64) -> Token {
    let expires = expires.min(9_999_999_999);
    let mut t = [b'0'; TOKEN_LEN];
    let mut e = expires;
    for i in (0..10).rev() {
        t[i] = b'0' + (e % 10) as u8;
        e /= 10;
    }
    t[10] = b'.';
    let m = mac(key, client, user_agent, expires).unwrap_or([0; 32]);
    for (i, b) in m.iter().enumerate() {
        t[11 + 2 * i] = HEX[usize::from(b >> 4)];
        t[12 + 2 * i] = HEX[usize::from(b & 15)];
    }
    Token(t)
}

fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

fn unhex(s: &[u8]) -> Option<[u8; 32]> {
    let val = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = val(s[2 * i])? << 4 | val(s[2 * i + 1])?;
    }
    Some(out)
}

/// Leading zero bits of SHA-256(`token.nonce`).
pub fn work_bits(token: &[u8], nonce: &[u8]) -> u32 {
    let h = Sha256::new()
        .chain_update(token)
        .chain_update(b".")
        .chain_update(nonce)
        .finalize();
    let mut n = 0;
    for b in h {
        if b == 0 {
            n += 8;
        } else {
            return n + b.leading_zeros();
        }
    }
    n
}

/// Checks a cookie value (`<token>.<nonce>`) for `client` and `user_agent`
/// at `now` (Unix seconds), wanting `work` bits of proof of work.
pub fn verify(
    key: &Key,
    client: ClientKey,
    user_agent: &[u8],
    cookie: &[u8],
    now: u64,
    work: u8,
) -> Verdict {
    if cookie.len() < TOKEN_LEN + 2 || cookie.len() > TOKEN_LEN + 1 + MAX_NONCE {
        return Verdict::Malformed;
    }
    let (token, rest) = cookie.split_at(TOKEN_LEN);
    let (Some(expires), Some(given), [b'.', nonce @ ..]) =
        (digits(&token[..10]), unhex(&token[11..]), rest)
    else {
        return Verdict::Malformed;
    };
    if token[10] != b'.' || digits(nonce).is_none() {
        return Verdict::Malformed;
    }
    if expires <= now {
        return Verdict::Expired;
    }
    let Some(want) = mac(key, client, user_agent, expires) else {
        return Verdict::Forged;
    };
    if !bool::from(want.ct_eq(&given)) {
        return Verdict::Forged;
    }
    if work_bits(token, nonce) < u32::from(work) {
        return Verdict::NoWork;
    }
    Verdict::Valid(expires)
}

/// What the page's script does: the first nonce that gives `work` bits.
/// For tests and for anyone who wants to see that the protocol is cheap.
pub fn solve(token: &Token, work: u8) -> u64 {
    let mut buf = [0u8; MAX_NONCE];
    (0u64..)
        .find(|n| {
            let s = nonce_digits(*n, &mut buf);
            work_bits(token.as_bytes(), s) >= u32::from(work)
        })
        .unwrap_or(0)
}

fn nonce_digits(mut n: u64, buf: &mut [u8; MAX_NONCE]) -> &[u8] {
    let mut i = MAX_NONCE;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    &buf[i..]
}

/// The hex id of a key (the first three bytes of its SHA-256): names the
/// cookie, so that nodes with different keys do not overwrite each other's.
pub fn key_id(key: &Key) -> [u8; 6] {
    let h = Sha256::digest(key);
    let mut id = [0u8; 6];
    for i in 0..3 {
        id[2 * i] = HEX[usize::from(h[i] >> 4)];
        id[2 * i + 1] = HEX[usize::from(h[i] & 15)];
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: Key = [7; 32];
    const CLIENT: ClientKey = 0xffff_c000_0201; // ::ffff:192.0.2.1
    const UA: &[u8] = b"Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0";

    fn cookie(t: &Token, nonce: u64) -> Vec<u8> {
        let mut c = t.as_bytes().to_vec();
        c.extend_from_slice(format!(".{nonce}").as_bytes());
        c
    }

    #[test]
    fn a_solved_token_is_valid_until_it_expires() {
        let t = mint(&KEY, CLIENT, UA, 1_800_003_600);
        assert_eq!(&t.0[..11], b"1800003600.");
        let n = solve(&t, 8);
        let c = cookie(&t, n);
        assert_eq!(
            verify(&KEY, CLIENT, UA, &c, 1_800_000_000, 8),
            Verdict::Valid(1_800_003_600)
        );
        assert_eq!(
            verify(&KEY, CLIENT, UA, &c, 1_800_003_600, 8),
            Verdict::Expired
        );
        assert_eq!(
            verify(&KEY, CLIENT, UA, &c, 1_900_000_000, 8),
            Verdict::Expired
        );
    }

    #[test]
    fn another_address_user_agent_or_key_is_forged() {
        let t = mint(&KEY, CLIENT, UA, 1_800_003_600);
        let c = cookie(&t, solve(&t, 4));
        let now = 1_800_000_000;
        assert_eq!(
            verify(&KEY, CLIENT + 1, UA, &c, now, 4),
            Verdict::Forged,
            "replayed from another address"
        );
        assert_eq!(
            verify(&KEY, CLIENT, b"curl/8.5.0", &c, now, 4),
            Verdict::Forged,
            "replayed with another User-Agent"
        );
        assert_eq!(
            verify(&[8; 32], CLIENT, UA, &c, now, 4),
            Verdict::Forged,
            "another zone's key (a restart, another node)"
        );
    }

    #[test]
    fn a_changed_byte_is_refused() {
        let t = mint(&KEY, CLIENT, UA, 1_800_003_600);
        let c = cookie(&t, solve(&t, 4));
        let now = 1_800_000_000;
        for i in 0..TOKEN_LEN {
            let mut bad = c.clone();
            bad[i] = if bad[i] == b'1' { b'2' } else { b'1' };
            let v = verify(&KEY, CLIENT, UA, &bad, now, 4);
            assert!(!matches!(v, Verdict::Valid(_)), "byte {i} changed: {v:?}");
        }
        // a later expiry is not the client's to choose
        let mut later = c.clone();
        later[..10].copy_from_slice(b"1900000000");
        assert_eq!(verify(&KEY, CLIENT, UA, &later, now, 4), Verdict::Forged);
    }

    #[test]
    fn the_work_is_checked() {
        let t = mint(&KEY, CLIENT, UA, 1_800_003_600);
        let n = solve(&t, 10);
        let now = 1_800_000_000;
        assert_eq!(
            verify(&KEY, CLIENT, UA, &cookie(&t, n), now, 10),
            Verdict::Valid(1_800_003_600)
        );
        // a nonce that does not give the bits
        let lazy = (0..).find(|m| work_bits(&t.0, m.to_string().as_bytes()) == 0);
        let lazy = lazy.unwrap_or(0);
        assert_eq!(
            verify(&KEY, CLIENT, UA, &cookie(&t, lazy), now, 10),
            Verdict::NoWork
        );
        assert!(work_bits(&t.0, n.to_string().as_bytes()) >= 10);
    }

    #[test]
    fn malformed_cookies() {
        let t = mint(&KEY, CLIENT, UA, 1_800_003_600);
        let now = 1_800_000_000;
        for bad in [
            &b""[..],
            b"1",
            t.as_bytes(),
            &cookie(&t, 0)[..TOKEN_LEN + 1],
            &[b'x'; TOKEN_LEN + 3][..],
        ] {
            assert_eq!(verify(&KEY, CLIENT, UA, bad, now, 0), Verdict::Malformed);
        }
        let mut long = cookie(&t, 0);
        long.extend_from_slice(b"12345678901");
        assert_eq!(verify(&KEY, CLIENT, UA, &long, now, 0), Verdict::Malformed);
        let mut upper = cookie(&t, 0);
        upper[20] = b'A';
        assert_eq!(verify(&KEY, CLIENT, UA, &upper, now, 0), Verdict::Malformed);
    }

    /// Whatever a client sends as the cookie: a verdict, never a panic.
    #[test]
    fn arbitrary_cookies_are_refused_without_panicking() {
        let mut x_rng = crate::testing::XorShift64::new(0x243f_6a88_85a3_08d3);
        let mut next = || x_rng.next_u64();
        let t = mint(&KEY, CLIENT, UA, 1_800_003_600);
        for _ in 0..20_000 {
            let len = (next() % 100) as usize;
            let mut c: Vec<u8> = if next() % 2 == 0 {
                // near misses: a real token with bytes changed
                let mut c = t.as_bytes().to_vec();
                c.extend_from_slice(b".12345");
                c.truncate(len.max(1));
                c
            } else {
                (0..len).map(|_| next() as u8).collect()
            };
            if let Some(b) = c.get_mut((next() % 90) as usize) {
                *b = next() as u8;
            }
            let v = verify(&KEY, CLIENT, UA, &c, 1_800_000_000, 4);
            assert!(!matches!(v, Verdict::Valid(_)) || c.starts_with(t.as_bytes()));
        }
    }

    #[test]
    fn key_ids_differ_by_key() {
        assert_ne!(key_id(&KEY), key_id(&[8; 32]));
        assert!(key_id(&KEY).iter().all(u8::is_ascii_hexdigit));
    }
}
