//! The state file: run-time list entries, learned application baselines and
//! the daily list statistics, written atomically (temp file + rename) on a
//! timer and at exit, and read when a zone is created, so a restart loses
//! nothing. Client detector state is not saved: it rebuilds within minutes.
//!
//! Format (little endian): magic, format version, record sizes and schemas,
//! then three counted sections. A file written by a module whose records
//! differ is ignored with a clear message rather than misread.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::mem::size_of;
use std::path::Path;
use std::sync::atomic::Ordering;

use crate::shared::{AppRecord, ListRecord, Shared, DAYS};
use crate::table::Record;

const MAGIC: &[u8; 8] = b"AABSTATE";
const FORMAT: u32 = 1;

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

/// Writes the state of `shared` to `path` atomically.
pub fn save(shared: &Shared, path: &Path) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let result = (|| {
        let mut w = BufWriter::new(File::create(&tmp)?);
        w.write_all(MAGIC)?;
        for v in [
            FORMAT,
            size_of::<ListRecord>() as u32,
            ListRecord::SCHEMA,
            size_of::<AppRecord>() as u32,
            AppRecord::SCHEMA,
        ] {
            w.write_all(&v.to_le_bytes())?;
        }
        let mut lists = Vec::new();
        shared.lists.for_each(|k, _, e| {
            if e.kind != 0 || e.offences > 0 {
                lists.push((k, *e));
            }
        });
        w.write_all(&(lists.len() as u32).to_le_bytes())?;
        for (k, e) in &lists {
            w.write_all(&k.to_le_bytes())?;
            w.write_all(bytes_of(e))?;
        }
        let mut apps = Vec::new();
        shared.apps.for_each(|k, _, a| apps.push((k, *a)));
        w.write_all(&(apps.len() as u32).to_le_bytes())?;
        for (k, a) in &apps {
            w.write_all(&k.to_le_bytes())?;
            w.write_all(bytes_of(a))?;
        }
        w.write_all(&(DAYS as u32).to_le_bytes())?;
        for d in &shared.stats().days {
            for v in [&d.day, &d.deny, &d.gray] {
                w.write_all(&v.load(Ordering::Relaxed).to_le_bytes())?;
            }
        }
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(())
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Loads `path` into a fresh zone. `Ok(None)` when there is no file yet.
pub fn load(shared: &Shared, path: &Path) -> Result<Option<String>, String> {
    let mut data = Vec::new();
    match File::open(path) {
        Ok(mut f) => f.read_to_end(&mut data).map_err(|e| e.to_string())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);
    let mut r = Reader { data: &data, at: 0 };
    if r.take(8)? != MAGIC {
        return Err("not an api_abuse state file".into());
    }
    let header = [r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?];
    let expected = [
        FORMAT,
        size_of::<ListRecord>() as u32,
        ListRecord::SCHEMA,
        size_of::<AppRecord>() as u32,
        AppRecord::SCHEMA,
    ];
    if header != expected {
        return Err(format!(
            "written by another module version (header {header:?}, expected {expected:?})"
        ));
    }
    let (mut lists, mut expired, mut apps) = (0, 0, 0);
    for _ in 0..r.u32()? {
        let key = r.u128()?;
        let e: ListRecord = read_record(r.take(size_of::<ListRecord>())?).ok_or("truncated")?;
        if e.kind != 0 && !e.active(now) && e.offences == 0 {
            expired += 1;
            continue;
        }
        if shared
            .lists
            .upsert(key, now, |x, t| !x.active(t), |slot, _| *slot = e)
            .is_some()
        {
            lists += 1;
        }
    }
    for _ in 0..r.u32()? {
        let key = r.u128()?;
        let a: AppRecord = read_record(r.take(size_of::<AppRecord>())?).ok_or("truncated")?;
        if shared
            .apps
            .upsert(key, now, |_, _| true, |slot, _| *slot = a)
            .is_some()
        {
            apps += 1;
        }
    }
    let days = r.u32()? as usize;
    for i in 0..days {
        let (day, deny, gray) = (r.u32()?, r.u32()?, r.u32()?);
        if let Some(d) = shared.stats().days.get(i) {
            d.day.store(day, Ordering::Relaxed);
            d.deny.store(deny, Ordering::Relaxed);
            d.gray.store(gray, Ordering::Relaxed);
        }
    }
    Ok(Some(format!(
        "{lists} list entries ({expired} expired dropped), {apps} application baselines"
    )))
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or("truncated state file")?;
        let s = &self.data[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u128(&mut self) -> Result<u128, String> {
        let b = self.take(16)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        Ok(u128::from_le_bytes(a))
    }
}
