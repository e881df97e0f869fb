//! The compiled profiles image: one flat, read-only array of 64-bit words
//! holding the manual lists, the exception networks and a small JSON
//! document with everything else of the profiles file (profiles, exception
//! source names, countries).
//!
//! One process compiles a changed file into an image and writes it to a file
//! once; every worker maps that file read-only (`mmap`, shared pages), so a
//! server holds one copy of its lists whatever its worker count, and a worker
//! that starts later maps the current image without parsing anything. The
//! same type also holds an image in ordinary memory (tests, benchmarks, a
//! file compiled in this process and not yet written).
//!
//! Layout (words): a 16-word header (magic, format, length, checksum,
//! profiles version, where the two tables and the JSON are, the manual
//! lists' entry count per kind), then the tables (see [`super::prefix`]) and
//! the JSON bytes. The checksum (xxh3) covers every other word; an image that
//! fails any check is refused as a whole.
//!
//! Opening an image is what a worker does on its event loop after a hot
//! swap, so it reads nothing per entry: the counts are in the header, and
//! the checksum runs at memory speed over pages faulted in one go.

use std::io::Write;
use std::path::Path;

use super::prefix::{PrefixSetError, Table};

const MAGIC: u64 = u64::from_le_bytes(*b"ABUSEIMG");
const FORMAT: u64 = 4;
const HEADER: usize = 16;

/// Where an image's bytes live.
enum Storage {
    Heap(Box<[u64]>),
    Mapped(memmap2::Mmap),
}

/// A checked image, in memory or mapped from its file.
pub struct Image {
    storage: Storage,
    /// Length in words (a mapping may be longer than the image).
    len: usize,
    lists: Table,
    exceptions: Table,
}

/// Assembles an image.
pub struct Builder {
    words: Vec<u64>,
    tables: [usize; 2],
    /// Manual list entries per kind (header words 9 to 11).
    counts: [u64; 3],
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            words: vec![0; HEADER],
            tables: [0; 2],
            counts: [0; 3],
        }
    }

    /// The manual lists: one value per entry (see [`super::AddrLists`]).
    pub fn lists(
        &mut self,
        nets: impl IntoIterator<Item = (ipnetwork::IpNetwork, u64)>,
    ) -> Result<(), PrefixSetError> {
        let counts = &mut self.counts;
        let nets = nets.into_iter().inspect(|(_, v)| {
            if let Some((k, _)) = super::unpack(*v) {
                counts[k.index()] += 1;
            }
        });
        self.tables[0] = Table::build(nets, &mut self.words)?;
        Ok(())
    }

    /// The exception networks: the value is the index of the source name.
    pub fn exceptions(
        &mut self,
        nets: impl IntoIterator<Item = (ipnetwork::IpNetwork, u64)>,
    ) -> Result<(), PrefixSetError> {
        self.tables[1] = Table::build(nets, &mut self.words)?;
        Ok(())
    }

    /// Adds the JSON document and the header; checks the result as a reader would.
    pub fn finish(mut self, version: u64, meta: &[u8]) -> Result<Image, String> {
        for t in &mut self.tables {
            if *t == 0 {
                *t = Table::build([], &mut self.words).map_err(|e| e.to_string())?;
            }
        }
        let meta_at = self.words.len();
        for chunk in meta.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.words.push(u64::from_le_bytes(w));
        }
        let w = &mut self.words;
        w[0] = MAGIC;
        w[1] = FORMAT;
        w[2] = w.len() as u64;
        w[4] = version;
        w[5] = self.tables[0] as u64;
        w[6] = self.tables[1] as u64;
        w[7] = meta_at as u64;
        w[8] = meta.len() as u64;
        w[9..12].copy_from_slice(&self.counts);
        w[3] = checksum(w);
        Image::check(Storage::Heap(self.words.into_boxed_slice()))
    }
}

/// xxh3 of every word but the checksum's own (tens of GB/s: a 17 MB image
/// in about a millisecond): it catches a truncated or damaged file, it is
/// not a cryptographic seal.
fn checksum(words: &[u64]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(bytemuck::cast_slice(&words[..3.min(words.len())]));
    if let Some(rest) = words.get(4..) {
        h.update(bytemuck::cast_slice(rest));
    }
    h.digest()
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("bytes", &self.size())
            .field("mapped", &self.is_mapped())
            .field("version", &format_args!("{:016x}", self.version()))
            .finish()
    }
}

impl Image {
    fn check(storage: Storage) -> Result<Image, String> {
        let all: &[u64] = match &storage {
            Storage::Heap(w) => w,
            Storage::Mapped(m) => map_words(m)?,
        };
        if all.first() != Some(&MAGIC) {
            return Err("not a profiles image".into());
        }
        let head = all.get(..HEADER).ok_or("shorter than its header")?;
        if head[1] != FORMAT {
            return Err(format!(
                "image format {} (this module reads {FORMAT})",
                head[1]
            ));
        }
        let len = usize::try_from(head[2]).map_err(|_| "bad length")?;
        let words = all.get(..len).ok_or("cut short")?;
        if len < HEADER || checksum(words) != head[3] {
            return Err("checksum mismatch".into());
        }
        let at = |i: usize| usize::try_from(head[i]).map_err(|_| "bad offset".to_string());
        let lists = Table::read(words, at(5)?)?;
        let exceptions = Table::read(words, at(6)?)?;
        let (meta_at, meta_len) = (at(7)?, at(8)?);
        if meta_at.checked_add(meta_len.div_ceil(8)) != Some(len) {
            return Err("document out of place".into());
        }
        Ok(Image {
            storage,
            len,
            lists,
            exceptions,
        })
    }

    /// Maps and checks the image file at `path` (never following a symlink).
    pub fn open(path: &Path) -> Result<Image, String> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| format!("cannot open \"{}\": {e}", path.display()))?;
        let meta = file.metadata().map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err(format!("\"{}\" is not a regular file", path.display()));
        }
        // SAFETY: images are written whole to a temporary name and renamed,
        // never changed afterwards (see `write`), and they live in a
        // directory only nginx's user can write; a file changed under the
        // mapping would be undefined behaviour, which is why the module only
        // maps files it wrote itself.
        // `populate` (MAP_POPULATE) faults every page in with the mapping,
        // in one call, rather than one fault at a time in the checksum.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) }
            .map_err(|e| format!("cannot map \"{}\": {e}", path.display()))?;
        Image::check(Storage::Mapped(map))
            .map_err(|e| format!("image \"{}\" refused: {e}", path.display()))
    }

    /// Writes the image to `dir/name` atomically (temporary file, then
    /// rename), readable by everyone who can enter `dir`.
    pub fn write(&self, dir: &Path, name: &str) -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = dir.join(format!(".{name}.tmp"));
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        let mut buf = std::io::BufWriter::with_capacity(1 << 20, &mut f);
        for w in self.words() {
            buf.write_all(&w.to_le_bytes())?;
        }
        buf.flush()?;
        drop(buf);
        let done = std::fs::rename(&tmp, dir.join(name));
        if done.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        done
    }

    pub fn words(&self) -> &[u64] {
        let all: &[u64] = match &self.storage {
            Storage::Heap(w) => w,
            Storage::Mapped(m) => map_words(m).unwrap_or_default(),
        };
        all.get(..self.len).unwrap_or_default()
    }

    /// Bytes of the image.
    pub fn size(&self) -> usize {
        self.len * 8
    }

    pub fn is_mapped(&self) -> bool {
        matches!(self.storage, Storage::Mapped(_))
    }

    /// The FNV-1a fingerprint of the profiles file it was compiled from.
    /// Manual list entries per kind, in [`super::ListKind::index`] order.
    pub fn counts(&self) -> [usize; 3] {
        let w = self.words();
        [w[9], w[10], w[11]].map(|c| c as usize)
    }

    pub fn version(&self) -> u64 {
        self.words().get(4).copied().unwrap_or(0)
    }

    pub fn lists(&self) -> &Table {
        &self.lists
    }

    pub fn exceptions(&self) -> &Table {
        &self.exceptions
    }

    /// The JSON document (copied out of the words).
    pub fn meta(&self) -> Vec<u8> {
        let w = self.words();
        let (at, len) = (w[7] as usize, w[8] as usize);
        let mut out: Vec<u8> = w
            .get(at..)
            .unwrap_or_default()
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        out.truncate(len);
        out
    }
}

/// The words of a mapping: it starts on a page boundary, so it is aligned
/// for u64; its length must be whole words.
fn map_words(m: &memmap2::Mmap) -> Result<&[u64], String> {
    if m.len() % 8 != 0 || (m.as_ptr() as usize) % std::mem::align_of::<u64>() != 0 {
        return Err("size is not a whole number of words".into());
    }
    // SAFETY: the pointer is aligned and valid for `len` bytes for as long
    // as the mapping (borrowed here) lives; every bit pattern is a valid u64.
    Ok(unsafe { std::slice::from_raw_parts(m.as_ptr().cast::<u64>(), m.len() / 8) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Image {
        let mut b = Builder::new();
        b.lists([("192.0.2.0/24".parse().unwrap(), 7)]).unwrap();
        b.exceptions([("2001:db8::/32".parse().unwrap(), 1)])
            .unwrap();
        b.finish(0xabcd, br#"{"hello":"world"}"#).unwrap()
    }

    #[test]
    fn round_trips_through_a_file() {
        let img = sample();
        assert!(!img.is_mapped());
        let dir = std::env::temp_dir().join(format!("api-abuse-img-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        img.write(&dir, "a.img").unwrap();
        let back = Image::open(&dir.join("a.img")).unwrap();
        assert!(back.is_mapped());
        assert_eq!(back.words(), img.words());
        assert_eq!(back.version(), 0xabcd);
        assert_eq!(back.meta(), br#"{"hello":"world"}"#);
        let w = back.words();
        let hits: Vec<u64> = back
            .lists()
            .matches(w, "192.0.2.9".parse().unwrap())
            .collect();
        assert_eq!(hits, [7]);
        assert_eq!(
            back.exceptions()
                .matches(w, "2001:db8::1".parse().unwrap())
                .collect::<Vec<_>>(),
            [1]
        );

        // damaged, truncated, foreign and symlinked files are refused
        let bytes = std::fs::read(dir.join("a.img")).unwrap();
        let mut bad = bytes.clone();
        let last = bad.len() - 20;
        bad[last] ^= 1;
        std::fs::write(dir.join("bad.img"), &bad).unwrap();
        assert!(Image::open(&dir.join("bad.img"))
            .unwrap_err()
            .contains("checksum"));
        std::fs::write(dir.join("short.img"), &bytes[..bytes.len() - 8]).unwrap();
        assert!(Image::open(&dir.join("short.img")).is_err());
        std::fs::write(dir.join("odd.img"), &bytes[..bytes.len() - 3]).unwrap();
        assert!(Image::open(&dir.join("odd.img")).is_err());
        std::fs::write(dir.join("toml.img"), b"[lists]\ndeny = []\n\n\n\n\n\n\n").unwrap();
        assert!(Image::open(&dir.join("toml.img"))
            .unwrap_err()
            .contains("not a profiles image"));
        let _ = std::fs::remove_file(dir.join("link.img"));
        std::os::unix::fs::symlink(dir.join("a.img"), dir.join("link.img")).unwrap();
        assert!(Image::open(&dir.join("link.img")).is_err());
        assert!(Image::open(&dir.join("none.img")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_flipped_word_is_caught() {
        let img = sample();
        for i in 0..img.words().len() {
            let mut w = img.words().to_vec();
            w[i] ^= 0x10;
            assert!(
                Image::check(Storage::Heap(w.into_boxed_slice())).is_err(),
                "word {i}"
            );
        }
    }
}
