//! Switching the tolerance of the module's profiles file between runs.
//!
//! The rewrite is line-based on purpose: the operator's comments, ordering and
//! formatting survive, and only `tolerance = "..."` lines inside `[[profile]]`
//! tables change (a profile without one gets the line inserted under its
//! header). The module hot-reloads the file, so the simulator writes it
//! atomically (temp file + rename) and keeps a backup next to it until the
//! original text is back in place.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub const TOLERANCES: [&str; 3] = ["low", "normal", "high"];

#[derive(Debug, PartialEq, Eq)]
pub enum RewriteError {
    UnknownTolerance(String),
    NoProfiles,
    BadValue { line: usize },
}

impl fmt::Display for RewriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RewriteError::UnknownTolerance(t) => {
                write!(f, "unknown tolerance {t:?} (use low, normal or high)")
            }
            RewriteError::NoProfiles => f.write_str("the file has no [[profile]] table"),
            RewriteError::BadValue { line } => {
                write!(f, "line {line}: tolerance is not a quoted string")
            }
        }
    }
}

/// The table a header line opens, spaces removed: `[[ profile ]]` ->
/// `[[profile]]`. Only bare dotted keys count, so an array element on its own
/// line (`["GET", "/login"],`) is not mistaken for a header.
fn header(line: &str) -> Option<String> {
    let t = line.split('#').next().unwrap_or("").trim();
    let inner = t.strip_prefix('[')?.strip_suffix(']')?;
    let inner = match (inner.strip_prefix('['), inner.strip_suffix(']')) {
        (Some(i), Some(_)) => i.strip_suffix(']').unwrap_or(i),
        (None, None) => inner,
        _ => return None,
    };
    let key: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    let bare = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if key.is_empty() || !key.chars().all(bare) {
        return None;
    }
    let double = t.starts_with("[[");
    Some(if double {
        format!("[[{key}]]")
    } else {
        format!("[{key}]")
    })
}

/// If `line` is `tolerance = "..."` (any spacing, either quote, trailing
/// comment), return (indent, rest after the closing quote).
fn tolerance_line(line: &str, number: usize) -> Result<Option<(&str, &str)>, RewriteError> {
    let indent_len = line.len() - line.trim_start().len();
    let (indent, rest) = line.split_at(indent_len);
    let Some(after_key) = rest.strip_prefix("tolerance") else {
        return Ok(None);
    };
    let after_key = after_key.trim_start();
    let Some(value) = after_key.strip_prefix('=') else {
        // `tolerance_x = ...` or similar: another key.
        return Ok(None);
    };
    let value = value.trim_start();
    let quote = match value.chars().next() {
        Some(q @ ('"' | '\'')) => q,
        _ => return Err(RewriteError::BadValue { line: number }),
    };
    let inner = &value[1..];
    match inner.find(quote) {
        Some(end) => Ok(Some((indent, &inner[end + 1..]))),
        None => Err(RewriteError::BadValue { line: number }),
    }
}

/// Set every `[[profile]]`'s tolerance in `text` to `tolerance`.
pub fn set_tolerance(text: &str, tolerance: &str) -> Result<String, RewriteError> {
    if !TOLERANCES.contains(&tolerance) {
        return Err(RewriteError::UnknownTolerance(tolerance.to_owned()));
    }
    let mut out: Vec<String> = Vec::new();
    // Index in `out` of the current profile's header, while its tolerance is missing.
    let mut pending: Option<usize> = None;
    let mut in_profile = false;
    let mut profiles = 0;
    let mut inserts: Vec<usize> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = header(line) {
            inserts.extend(pending.take());
            in_profile = h == "[[profile]]";
            if in_profile {
                profiles += 1;
                pending = Some(out.len());
            }
            out.push(line.to_owned());
            continue;
        }
        if in_profile {
            if let Some((indent, rest)) = tolerance_line(line, i + 1)? {
                out.push(format!("{indent}tolerance = \"{tolerance}\"{rest}"));
                pending = None;
                continue;
            }
        }
        out.push(line.to_owned());
    }
    inserts.extend(pending);
    if profiles == 0 {
        return Err(RewriteError::NoProfiles);
    }
    for &at in inserts.iter().rev() {
        out.insert(at + 1, format!("tolerance = \"{tolerance}\""));
    }
    let mut result = out.join("\n");
    if text.ends_with('\n') {
        result.push('\n');
    }
    Ok(result)
}

/// Write `text` to `path` atomically, keeping the file's permissions.
fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    let tmp = sibling(path, ".abuse-sim.tmp");
    fs::write(&tmp, text)?;
    if let Ok(meta) = fs::metadata(path) {
        fs::set_permissions(&tmp, meta.permissions())?;
    }
    fs::rename(&tmp, path)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Owns the profiles file for the length of a simulation: `apply` switches the
/// tolerance, `restore` (or drop) puts the original text back and removes the
/// backup.
pub struct ProfilesGuard {
    path: PathBuf,
    backup: PathBuf,
    original: String,
    restored: bool,
}

impl ProfilesGuard {
    pub fn open(path: &Path) -> Result<ProfilesGuard, String> {
        let original =
            fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        // Refuse early if the file cannot be rewritten, before any run starts.
        set_tolerance(&original, "normal").map_err(|e| format!("{}: {e}", path.display()))?;
        let backup = sibling(path, ".abuse-sim.bak");
        if backup.exists() {
            return Err(format!(
                "{} exists: an earlier run was interrupted. Compare it with {}, restore or delete it, then retry",
                backup.display(),
                path.display()
            ));
        }
        fs::write(&backup, &original)
            .map_err(|e| format!("cannot write backup {}: {e}", backup.display()))?;
        Ok(ProfilesGuard {
            path: path.to_owned(),
            backup,
            original,
            restored: false,
        })
    }

    pub fn apply(&self, tolerance: &str) -> Result<(), String> {
        let text = set_tolerance(&self.original, tolerance).map_err(|e| e.to_string())?;
        write_atomic(&self.path, &text)
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }

    pub fn restore(&mut self) -> Result<(), String> {
        if self.restored {
            return Ok(());
        }
        write_atomic(&self.path, &self.original)
            .map_err(|e| format!("cannot restore {}: {e}", self.path.display()))?;
        self.restored = true;
        fs::remove_file(&self.backup)
            .map_err(|e| format!("cannot remove {}: {e}", self.backup.display()))
    }
}

impl Drop for ProfilesGuard {
    fn drop(&mut self) {
        if let Err(e) = self.restore() {
            eprintln!("abuse-sim: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"# demo profiles
[[profile]]
name = "shop"   # the demo
tolerance = "normal"  # low | normal | high
bot_types = "all"

[[profile.sensitive]]
tolerance_note = "not a tolerance key"

[[ profile ]]
name = "api"
sensitive = [
  ["POST", "/login", "auth"],
]
  tolerance='high'

[exceptions]
tolerance = "untouched: not in a profile"
"#;

    #[test]
    fn rewrites_only_profile_tolerance_lines() {
        let out = set_tolerance(FILE, "low").unwrap_or_default();
        assert!(
            out.contains("tolerance = \"low\"  # low | normal | high"),
            "{out}"
        );
        assert!(
            out.contains("  tolerance = \"low\"\n"),
            "indent kept: {out}"
        );
        assert!(out.contains("tolerance_note = \"not a tolerance key\""));
        assert!(out.contains("tolerance = \"untouched: not in a profile\""));
        assert!(out.contains("name = \"shop\"   # the demo"));
        assert_eq!(out.lines().count(), FILE.lines().count());
        assert!(out.ends_with('\n'));
        // Applying twice is the same as once, and going back restores the text's shape.
        assert_eq!(set_tolerance(&out, "low").ok(), Some(out.clone()));
        let back = set_tolerance(&out, "normal").unwrap_or_default();
        assert!(back.contains("tolerance = \"normal\"  # low"));
    }

    #[test]
    fn headers() {
        assert_eq!(header("[[profile]]").as_deref(), Some("[[profile]]"));
        assert_eq!(
            header("  [[ profile ]]  # x").as_deref(),
            Some("[[profile]]")
        );
        assert_eq!(
            header("[profile.reaction]").as_deref(),
            Some("[profile.reaction]")
        );
        assert_eq!(header(r#"["POST", "/login", "auth"],"#), None);
        assert_eq!(header("[[profile]"), None);
        assert_eq!(header("[]"), None);
        assert_eq!(header("name = 1"), None);
    }

    #[test]
    fn inserts_missing_tolerance_under_the_header() {
        let text = "[[profile]]\nname = \"a\"\n[[profile]]\nname = \"b\"\ntolerance = \"low\"\n[[profile]]\nname = \"c\"";
        let out = set_tolerance(text, "high").unwrap_or_default();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], "tolerance = \"high\"");
        assert_eq!(lines[5], "tolerance = \"high\"");
        assert_eq!(lines[7], "tolerance = \"high\"");
        assert_eq!(lines.len(), 9);
        assert!(!out.ends_with('\n'));
    }

    #[test]
    fn errors() {
        assert_eq!(
            set_tolerance(FILE, "medium"),
            Err(RewriteError::UnknownTolerance("medium".into()))
        );
        assert_eq!(
            set_tolerance("[exceptions]\nips = []\n", "low"),
            Err(RewriteError::NoProfiles)
        );
        assert_eq!(
            set_tolerance("[[profile]]\ntolerance = low\n", "low"),
            Err(RewriteError::BadValue { line: 2 })
        );
        assert_eq!(
            set_tolerance("[[profile]]\ntolerance = \"low\n", "low"),
            Err(RewriteError::BadValue { line: 2 })
        );
    }

    #[test]
    fn rewrites_the_demo_profiles_file() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../nginx-conf/profiles.toml");
        let Ok(text) = fs::read_to_string(&path) else {
            return;
        };
        let out = set_tolerance(&text, "high").unwrap_or_default();
        let changed: Vec<(&str, &str)> = text
            .lines()
            .zip(out.lines())
            .filter(|(a, b)| a != b)
            .collect();
        let profiles = text
            .lines()
            .filter(|l| header(l).as_deref() == Some("[[profile]]"))
            .count();
        assert!(profiles > 0);
        assert!(
            changed
                .iter()
                .all(|(_, b)| b.trim_start().starts_with("tolerance = \"high\"")),
            "{changed:?}"
        );
        assert_eq!(
            out.matches("tolerance = \"high\"").count(),
            profiles,
            "one tolerance per profile"
        );
    }

    #[test]
    fn guard_backs_up_and_restores() {
        let dir = std::env::temp_dir().join(format!("abuse-sim-test-{}", std::process::id()));
        let _ = fs::create_dir_all(&dir);
        let path = dir.join("profiles.toml");
        assert!(fs::write(&path, FILE).is_ok());
        {
            let guard = ProfilesGuard::open(&path);
            assert!(guard.is_ok());
            assert!(sibling(&path, ".abuse-sim.bak").exists());
            // A second simulator must not start while the backup exists.
            assert!(ProfilesGuard::open(&path).is_err());
            if let Ok(g) = &guard {
                assert!(g.apply("high").is_ok());
            }
            let now = fs::read_to_string(&path).unwrap_or_default();
            assert!(now.contains("tolerance = \"high\"  #"));
        }
        assert_eq!(fs::read_to_string(&path).ok().as_deref(), Some(FILE));
        assert!(!sibling(&path, ".abuse-sim.bak").exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
