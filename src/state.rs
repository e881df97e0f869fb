//! The state file: run-time list entries, learned application baselines,
//! the daily list statistics and the challenge key, so a restart loses
//! nothing (a person who passed the challenge keeps passing with the cookie
//! they have). Client detector state is not saved: it rebuilds within
//! minutes. The file holds a secret, the key: it is written `0600`.
//!
//! Writing is split so that nothing slow runs where it must not: a
//! [`Snapshot`] is copied bucket by bucket under each bucket's lock (what
//! the requests take anyway, a few microseconds each), then [`encode`]d and
//! [`write_atomic`]ally put in place (temp file `0600` + `fsync` + rename +
//! `fsync` of the directory) by the caller's helper process (see src/ngx/helper.rs).
//!
//! Reading trusts nothing: [`read_checked`] refuses a symlink, a FIFO or
//! anything but a regular file without opening it for a blocking read, and a
//! file larger than the zone could ever write ([`max_size`], times four so a
//! smaller zone still takes a bigger zone's file); [`decode`] checks the
//! magic, the format and record layouts, every count against the bytes
//! left, and a CRC-32 over the whole file, all before one record reaches the
//! zone. A refused file is renamed aside by [`set_aside`], never
//! overwritten.
//!
//! Format (little endian): magic `AABSTATE`, format version, record sizes
//! and schemas, three counted sections (list entries, application
//! baselines, days), from format 3 the 32-byte challenge key, then the
//! CRC-32 of everything before it. A format 2 file (no key) still loads;
//! the zone then keeps the key it made.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::mem::size_of;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::shared::{AppRecord, ListRecord, Shared, DAYS, ORIGIN_RANGE};
use crate::table::Record;

const MAGIC: &[u8; 8] = b"AABSTATE";
const FORMAT: u32 = 3;
/// The last format without the challenge key: still read.
const FORMAT_NO_KEY: u32 = 2;
const KEY_LEN: usize = 32;
/// Bytes before the first section: magic and five u32.
const HEAD: usize = 8 + 5 * 4;

fn layout() -> [u32; 5] {
    [
        FORMAT,
        size_of::<ListRecord>() as u32,
        ListRecord::SCHEMA,
        size_of::<AppRecord>() as u32,
        AppRecord::SCHEMA,
    ]
}

fn bytes_of<T: Record>(v: &T) -> &[u8] {
    // SAFETY: Record types are repr(C) plain data living in zeroed memory.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }
}

fn read_record<T: Record>(b: &[u8]) -> Option<T> {
    if b.len() != size_of::<T>() {
        return None;
    }
    // SAFETY: any bit pattern of the right size is a valid Record (plain
    // integers); the size was checked.
    Some(unsafe { std::ptr::read_unaligned(b.as_ptr().cast::<T>()) })
}

/// What a state file holds, copied out of (or to be put into) a zone.
#[derive(Default)]
pub struct Snapshot {
    pub lists: Vec<(u128, ListRecord)>,
    pub apps: Vec<(u128, AppRecord)>,
    /// (day, deny, gray) per slot.
    pub days: Vec<[u32; 3]>,
    /// The challenge key (`None`: a format 2 file).
    pub challenge_key: Option<crate::challenge::Key>,
}

/// Copies the zone's lasting state, each bucket under its lock.
pub fn snapshot(shared: &Shared) -> Snapshot {
    let mut s = Snapshot::default();
    shared.lists.for_each(|k, _, e| {
        if e.kind != 0 || e.offences > 0 {
            s.lists.push((k, *e));
        }
    });
    shared.apps.for_each(|k, _, a| s.apps.push((k, *a)));
    s.days = shared
        .stats()
        .days
        .iter()
        .map(|d| {
            [
                d.day.load(Ordering::Relaxed),
                d.deny.load(Ordering::Relaxed),
                d.gray.load(Ordering::Relaxed),
            ]
        })
        .collect();
    s.challenge_key = Some(shared.challenge().key());
    s
}

/// The file's bytes for a snapshot.
pub fn encode(s: &Snapshot) -> Vec<u8> {
    let mut w = Vec::with_capacity(
        HEAD + 16
            + s.lists.len() * (16 + size_of::<ListRecord>())
            + s.apps.len() * (16 + size_of::<AppRecord>())
            + s.days.len() * 12
            + KEY_LEN,
    );
    w.extend_from_slice(MAGIC);
    for v in layout() {
        w.extend_from_slice(&v.to_le_bytes());
    }
    w.extend_from_slice(&(s.lists.len() as u32).to_le_bytes());
    for (k, e) in &s.lists {
        w.extend_from_slice(&k.to_le_bytes());
        w.extend_from_slice(bytes_of(e));
    }
    w.extend_from_slice(&(s.apps.len() as u32).to_le_bytes());
    for (k, a) in &s.apps {
        w.extend_from_slice(&k.to_le_bytes());
        w.extend_from_slice(bytes_of(a));
    }
    w.extend_from_slice(&(s.days.len() as u32).to_le_bytes());
    for d in &s.days {
        for v in d {
            w.extend_from_slice(&v.to_le_bytes());
        }
    }
    // all-zero (no key to keep) is never applied
    w.extend_from_slice(&s.challenge_key.unwrap_or([0; KEY_LEN]));
    let crc = crc32fast::hash(&w);
    w.extend_from_slice(&crc.to_le_bytes());
    w
}

/// Why a state file was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("it is a symbolic link")]
    Symlink,
    #[error("it is not a regular file ({0})")]
    NotRegular(&'static str),
    #[error("it is {size} bytes, more than the {cap} this zone could take")]
    TooLarge { size: u64, cap: u64 },
    #[error("it is not an api_abuse state file")]
    NotState,
    #[error("it was written by another module version (format {found:?}, expected {expected:?})")]
    Version { found: [u32; 5], expected: [u32; 5] },
    #[error("it is truncated")]
    Truncated,
    #[error("its checksum does not match (corrupt)")]
    Checksum,
    #[error("it has {0} bytes after its end")]
    Trailing(usize),
    #[error("cannot read it: {0}")]
    Read(String),
}

impl Refused {
    /// Whether the file is to be renamed aside (a read error of a file that
    /// may be fine, e.g. a permission, leaves it where it is).
    pub fn set_aside(&self) -> bool {
        !matches!(self, Refused::Read(_))
    }
}

fn kind_name(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// The largest file a zone like `shared` writes, times four (a zone made
/// smaller still loads what a bigger one wrote, keeping what fits).
pub fn max_size(shared: &Shared) -> u64 {
    let one = HEAD
        + 16
        + shared.lists.capacity() * (16 + size_of::<ListRecord>())
        + shared.apps.capacity() * (16 + size_of::<AppRecord>())
        + DAYS * 12
        + KEY_LEN;
    4 * (one as u64).max(1 << 20)
}

/// The bytes of the state file at `path`, `Ok(None)` when there is none.
pub fn read_checked(path: &Path, cap: u64) -> Result<Option<Vec<u8>>, Refused> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Refused::Read(e.to_string())),
    };
    let t = meta.file_type();
    if t.is_symlink() {
        return Err(Refused::Symlink);
    }
    if !t.is_file() {
        return Err(Refused::NotRegular(kind_name(t)));
    }
    if meta.len() > cap {
        return Err(Refused::TooLarge {
            size: meta.len(),
            cap,
        });
    }
    // O_NOFOLLOW | O_NONBLOCK: a file swapped for a link or a FIFO since the
    // lstat is refused or read without blocking, and checked again below.
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Refused::Read(e.to_string()))?;
    let meta = f.metadata().map_err(|e| Refused::Read(e.to_string()))?;
    if !meta.file_type().is_file() {
        return Err(Refused::NotRegular(kind_name(meta.file_type())));
    }
    let mut data = Vec::with_capacity(meta.len().min(cap) as usize);
    f.take(cap + 1)
        .read_to_end(&mut data)
        .map_err(|e| Refused::Read(e.to_string()))?;
    if data.len() as u64 > cap {
        return Err(Refused::TooLarge {
            size: data.len() as u64,
            cap,
        });
    }
    Ok(Some(data))
}

/// Parses and checks a whole file.
pub fn decode(data: &[u8]) -> Result<Snapshot, Refused> {
    if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
        return Err(Refused::NotState);
    }
    let mut r = Reader { data, at: 8 };
    let found = [r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?];
    let expected = layout();
    let format = found[0];
    if found[1..] != expected[1..] || !(format == FORMAT || format == FORMAT_NO_KEY) {
        return Err(Refused::Version {
            found,
            expected: layout(),
        });
    }
    let mut s = Snapshot::default();
    let n = r.count(16 + size_of::<ListRecord>())?;
    for _ in 0..n {
        let key = r.u128()?;
        let e = read_record(r.take(size_of::<ListRecord>())?).ok_or(Refused::Truncated)?;
        s.lists.push((key, e));
    }
    let n = r.count(16 + size_of::<AppRecord>())?;
    for _ in 0..n {
        let key = r.u128()?;
        let a = read_record(r.take(size_of::<AppRecord>())?).ok_or(Refused::Truncated)?;
        s.apps.push((key, a));
    }
    let n = r.count(12)?;
    for _ in 0..n {
        s.days.push([r.u32()?, r.u32()?, r.u32()?]);
    }
    if format >= FORMAT {
        let mut k = [0u8; KEY_LEN];
        k.copy_from_slice(r.take(KEY_LEN)?);
        s.challenge_key = Some(k);
    }
    let body = r.at;
    let crc = r.u32()?;
    if r.at != data.len() {
        return Err(Refused::Trailing(data.len() - r.at));
    }
    if crc32fast::hash(&data[..body]) != crc {
        return Err(Refused::Checksum);
    }
    Ok(s)
}

/// Puts a decoded snapshot into a fresh zone; returns what was loaded.
pub fn apply(shared: &Shared, s: &Snapshot, now: u32) -> String {
    let (mut lists, mut expired, mut apps) = (0, 0, 0);
    for (key, e) in &s.lists {
        if e.kind != 0 && !e.active(now) && e.offences == 0 {
            expired += 1;
            continue;
        }
        if shared
            .lists
            .upsert(*key, now, |x, t| !x.active(t), |slot, _| *slot = *e)
            .is_some()
        {
            lists += 1;
            if e.origin == ORIGIN_RANGE && e.kind != 0 {
                // lookups check a client's range only while there is one
                shared
                    .list_counters()
                    .ranges
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    for (key, a) in &s.apps {
        if shared
            .apps
            .upsert(*key, now, |_, _| true, |slot, _| *slot = *a)
            .is_some()
        {
            apps += 1;
        }
    }
    for (slot, d) in shared.stats().days.iter().zip(&s.days) {
        slot.day.store(d[0], Ordering::Relaxed);
        slot.deny.store(d[1], Ordering::Relaxed);
        slot.gray.store(d[2], Ordering::Relaxed);
    }
    // A fresh zone, before any worker: pass cookies made before the
    // restart stay valid.
    let key = match s.challenge_key {
        Some(k) if k != [0; KEY_LEN] => {
            shared.challenge().set_key(&k);
            "kept"
        }
        _ => "new",
    };
    format!(
        "{lists} list entries ({expired} expired dropped), {apps} application baselines, \
         challenge key {key}"
    )
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Loads `path` into a fresh zone. `Ok(None)` when there is no file yet.
pub fn load(shared: &Shared, path: &Path) -> Result<Option<String>, Refused> {
    let Some(data) = read_checked(path, max_size(shared))? else {
        return Ok(None);
    };
    let s = decode(&data)?;
    Ok(Some(apply(shared, &s, unix_now() as u32)))
}

/// Renames a refused file to `<name>.bad.<UTC time>` (with a counter when
/// that exists already) and returns the new name.
pub fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(['-', ':'], "");
    let base = format!("{}.bad.{stamp}", path.display());
    for n in 0..100 {
        let to = PathBuf::from(if n == 0 {
            base.clone()
        } else {
            format!("{base}.{n}")
        });
        if std::fs::symlink_metadata(&to).is_ok() {
            continue;
        }
        std::fs::rename(path, &to)?;
        return Ok(to);
    }
    Err(std::io::Error::other("too many refused state files"))
}

/// The directory of `path` ("." for a bare name).
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Holds an exclusive `flock` on the state file's directory: the writers
/// of one file (worker 0, an old worker 0 saving at exit after a reload)
/// take turns, so the last rename carries the latest snapshot.
pub struct DirLock {
    _dir: File,
}

impl DirLock {
    pub fn take(path: &Path) -> Option<DirLock> {
        let f = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(dir_of(path))
            .ok()?;
        // SAFETY: flock on a file descriptor we own.
        (unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&f), libc::LOCK_EX) } == 0)
            .then_some(DirLock { _dir: f })
    }
}

/// Writes `bytes` to `path` atomically: a new temp file (mode 0600, never
/// following a link), fsync, rename over `path`, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = PathBuf::from(format!("{}.tmp.{}", path.display(), std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        File::open(dir_of(path))?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Snapshots and writes in one go (exit, tests); the worker's state helper
/// process does the same off the event loop.
pub fn save(shared: &Shared, path: &Path) -> std::io::Result<()> {
    let _lock = DirLock::take(path);
    write_atomic(path, &encode(&snapshot(shared)))
}

/// Whether the worker can create files in the state file's directory.
pub fn probe_writable(path: &Path) -> std::io::Result<()> {
    let probe = PathBuf::from(format!("{}.probe.{}", path.display(), std::process::id()));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Refused> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or(Refused::Truncated)?;
        let s = &self.data[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, Refused> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u128(&mut self) -> Result<u128, Refused> {
        let mut a = [0u8; 16];
        a.copy_from_slice(self.take(16)?);
        Ok(u128::from_le_bytes(a))
    }

    /// A section's record count, checked against the bytes left so a
    /// corrupt count cannot ask for more memory than the file has.
    fn count(&mut self, record: usize) -> Result<usize, Refused> {
        let n = self.u32()? as usize;
        if n.saturating_mul(record) > self.data.len() - self.at {
            return Err(Refused::Truncated);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::{ListKind, ORIGIN_OPERATOR};

    fn sample() -> Snapshot {
        let e = ListRecord {
            kind: ListKind::Deny as u8,
            origin: ORIGIN_OPERATOR,
            expires: 0,
            ..Default::default()
        };
        Snapshot {
            lists: (0..50u128).map(|k| (k << 8 | 1, e)).collect(),
            apps: Vec::new(),
            days: vec![[20_000, 3, 1]; DAYS],
            challenge_key: Some([7; KEY_LEN]),
        }
    }

    /// What the module wrote before the challenge key was saved (format 2):
    /// the same sections, no key.
    fn format_2(s: &Snapshot) -> Vec<u8> {
        let mut w = encode(s);
        w.truncate(w.len() - 4 - KEY_LEN);
        w[8..12].copy_from_slice(&FORMAT_NO_KEY.to_le_bytes());
        let crc = crc32fast::hash(&w);
        w.extend_from_slice(&crc.to_le_bytes());
        w
    }

    #[test]
    fn the_challenge_key_is_kept_and_old_files_still_load() {
        let z = crate::shared::tests::heap_zone(4 << 20);
        let key = z.shared.challenge().key();
        let s = decode(&encode(&snapshot(&z.shared))).expect("decode");
        assert_eq!(s.challenge_key, Some(key));

        // a restart: a fresh zone (a new key) takes the saved one
        let fresh = crate::shared::tests::heap_zone(4 << 20);
        assert_ne!(fresh.shared.challenge().key(), key);
        let report = apply(&fresh.shared, &s, 1_800_000_000);
        assert!(report.ends_with("challenge key kept"), "{report}");
        assert_eq!(fresh.shared.challenge().key(), key);

        // a format 2 file: its lists load, the zone keeps its own key
        let old = decode(&format_2(&sample())).expect("format 2 loads");
        assert_eq!((old.lists.len(), old.challenge_key), (50, None));
        let other = crate::shared::tests::heap_zone(4 << 20);
        let own = other.shared.challenge().key();
        let report = apply(&other.shared, &old, 1_800_000_000);
        assert!(report.starts_with("50 list entries"), "{report}");
        assert!(report.ends_with("challenge key new"), "{report}");
        assert_eq!(other.shared.challenge().key(), own);
        // and format 2 with a key's bytes after it is not a format 3 file
        let mut padded = format_2(&sample());
        padded.extend_from_slice(&[0; KEY_LEN]);
        assert!(decode(&padded).is_err());
    }

    #[test]
    fn round_trip_and_every_damage_refused() {
        let good = encode(&sample());
        let s = decode(&good).expect("decode");
        assert_eq!(s.lists.len(), 50);
        assert_eq!(s.days.len(), DAYS);
        // every truncation
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        // every single-bit flip
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            assert!(decode(&bad).is_err(), "flip at {i}");
        }
        let mut long = good.clone();
        long.push(0);
        assert_eq!(decode(&long).err(), Some(Refused::Trailing(1)));
        assert_eq!(decode(b"garbage").err(), Some(Refused::NotState));
        let mut other = good.clone();
        other[8] = 9; // format 9
        assert!(matches!(decode(&other), Err(Refused::Version { .. })));
        // a huge count in a short file asks for nothing
        let mut huge = good[..HEAD].to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&huge).err(), Some(Refused::Truncated));
    }

    #[test]
    fn files_that_are_not_plain_files_are_refused_without_blocking() {
        let dir = std::env::temp_dir().join(format!("aa-state-kinds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.state");
        assert_eq!(read_checked(&path, 1 << 20), Ok(None));

        let fifo = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert_eq!(
            read_checked(&path, 1 << 20),
            Err(Refused::NotRegular("a FIFO"))
        );
        let aside = set_aside(&path).unwrap();
        assert!(aside.to_string_lossy().contains("s.state.bad."));
        assert!(!path.exists());

        std::os::unix::fs::symlink(dir.join("elsewhere"), &path).unwrap();
        assert_eq!(read_checked(&path, 1 << 20), Err(Refused::Symlink));
        let again = set_aside(&path).unwrap();
        assert_ne!(again, aside, "a second refusal gets its own name");
        std::fs::remove_file(&again).unwrap();

        std::fs::write(&path, vec![0u8; 5000]).unwrap();
        assert!(matches!(
            read_checked(&path, 4096),
            Err(Refused::TooLarge {
                size: 5000,
                cap: 4096
            })
        ));

        write_atomic(&path, &encode(&sample())).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let data = read_checked(&path, 1 << 20).unwrap().unwrap();
        assert_eq!(decode(&data).unwrap().lists.len(), 50);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
