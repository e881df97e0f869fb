//! One error type for the profiles file: it names the file, and the line, column
//! and field when the problem is inside it, so an operator can fix it from the
//! one error-log line the module writes.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based line and column of the offending value, when known.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl ConfigError {
    pub fn new(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            position: None,
            message: message.into(),
        }
    }

    /// An error at a byte offset of `text`, turned into line and column.
    pub fn at(
        path: impl Into<PathBuf>,
        text: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            path: path.into(),
            position: Some(line_col(text, offset)),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "profiles file \"{}\"", self.path.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ", line {line}, column {col}")?;
        }
        // toml's messages may span lines ("invalid array\nexpected `]`"):
        // the error log gets one line.
        write!(f, ": {}", self.message.trim_end().replace('\n', "; "))
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 11), (2, 6));
        let e = ConfigError::at("/x.toml", text, 6, "bad");
        assert_eq!(
            e.to_string(),
            "profiles file \"/x.toml\", line 2, column 1: bad"
        );
    }

    /// Found by the `profiles` fuzz target.
    #[test]
    fn a_multi_line_parser_message_is_one_line() {
        let text = "[lists]\ndeny = [\"192.0.2.1\" \"192.0.2.2\"]\n";
        let e = crate::config::Profiles::parse(std::path::Path::new("/x.toml"), text)
            .err()
            .expect("refused");
        let line = e.to_string();
        assert!(!line.contains('\n'), "{line:?}");
        assert!(
            line.starts_with("profiles file \"/x.toml\", line 2"),
            "{line}"
        );
        // toml 0.8 wrote this one on two lines; any parser message may.
        let e = ConfigError::at("/x.toml", text, 8, "invalid array\nexpected `]`\n");
        assert_eq!(
            e.to_string(),
            "profiles file \"/x.toml\", line 2, column 1: invalid array; expected `]`"
        );
    }
}
