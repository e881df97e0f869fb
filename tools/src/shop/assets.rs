//! Static assets (`/static/...`), read once at start-up into memory.
//!
//! Serving from a map of known files means no request path ever reaches the
//! filesystem, so `..` and encoded tricks have nothing to traverse. Each file
//! gets a content hash as ETag, so returning browsers revalidate with
//! `If-None-Match` and receive 304, as they would from a real shop.

use std::collections::HashMap;
use std::io;
use std::path::Path;

const MAX_FILES: usize = 512;
const MAX_FILE_SIZE: u64 = 1024 * 1024;
const MAX_DEPTH: usize = 4;

#[derive(Debug, Clone)]
pub struct Asset {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub etag: String,
}

#[derive(Debug, Default)]
pub struct Assets {
    files: HashMap<String, Asset>,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "html" => "text/html; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// FNV-1a: a stable content hash for ETags (not a security boundary).
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Assets {
    /// Load every regular file under `dir` (bounded in count, size and depth).
    pub fn load(dir: &Path) -> io::Result<Assets> {
        let mut assets = Assets::default();
        assets.walk(dir, "/static", 0)?;
        Ok(assets)
    }

    fn walk(&mut self, dir: &Path, prefix: &str, depth: usize) -> io::Result<()> {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type()?;
            let url = format!("{prefix}/{name}");
            if kind.is_dir() {
                self.walk(&entry.path(), &url, depth + 1)?;
            } else if kind.is_file() && entry.metadata()?.len() <= MAX_FILE_SIZE {
                if self.files.len() >= MAX_FILES {
                    return Ok(());
                }
                self.insert(&url, std::fs::read(entry.path())?);
            }
        }
        Ok(())
    }

    pub fn insert(&mut self, url: &str, body: Vec<u8>) {
        let etag = format!("\"{:016x}\"", fnv1a(&body));
        self.files.insert(
            url.to_owned(),
            Asset {
                body,
                content_type: content_type(url),
                etag,
            },
        );
    }

    pub fn get(&self, url_path: &str) -> Option<&Asset> {
        self.files.get(url_path)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_etags() {
        assert_eq!(
            content_type("/static/css/shop.css"),
            "text/css; charset=utf-8"
        );
        assert_eq!(content_type("/static/x"), "application/octet-stream");
        let mut a = Assets::default();
        a.insert("/static/a.svg", b"<svg/>".to_vec());
        a.insert("/static/b.svg", b"<svg></svg>".to_vec());
        let (ea, eb) = (
            a.get("/static/a.svg").map(|x| x.etag.clone()),
            a.get("/static/b.svg").map(|x| x.etag.clone()),
        );
        assert!(ea.is_some() && ea != eb);
        assert!(a.get("/static/../a.svg").is_none());
    }

    #[test]
    fn loads_the_demo_static_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../nginx-conf/demo/static");
        let a = Assets::load(&dir).unwrap_or_default();
        for f in [
            "/static/css/shop.css",
            "/static/js/shop.js",
            "/static/favicon.svg",
            "/static/img/logo.svg",
        ] {
            assert!(a.get(f).is_some(), "{f} missing");
        }
        for c in crate::catalog::CATEGORIES {
            assert!(a.get(&c.image()).is_some(), "{} image missing", c.slug);
        }
    }
}
