//! The arguments of `api_abuse_sync`:
//! `redis://[user:password@]HOST:PORT[/DB] [prefix=NAME] [password_file=FILE] [node=NAME]`.
//!
//! `rediss://` connects with TLS (the `redis` crate's native-tls, i.e. the
//! system's OpenSSL, verifying the server's certificate against the system
//! store). A password in `password_file` (first line, surrounding white
//! space trimmed) replaces one in the URL, so the URL in nginx.conf need not
//! hold a secret.

use std::path::PathBuf;

use redis::IntoConnectionInfo;

pub const DEFAULT_PREFIX: &str = "api_abuse";

#[derive(Clone, Debug)]
pub struct Settings {
    pub info: redis::ConnectionInfo,
    /// The URL with any password masked, for log lines and the API.
    pub display: String,
    pub prefix: String,
    pub password_file: Option<PathBuf>,
    /// Names this node in the API, metrics and in the entries it writes.
    pub node: String,
}

fn masked(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

/// Parses the directive's arguments (without the directive name). `read`
/// reads the password file (so tests need no file system).
pub fn parse(
    args: &[&str],
    read: impl Fn(&std::path::Path) -> std::io::Result<String>,
    default_node: &str,
) -> Result<Settings, String> {
    let (url, rest) = args
        .split_first()
        .ok_or("needs a URL such as redis://127.0.0.1:6379")?;
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return Err(format!(
            "invalid URL \"{url}\": it must start with redis:// or rediss://"
        ));
    }
    let mut info = url
        .into_connection_info()
        .map_err(|e| format!("invalid URL \"{}\": {e}", masked(url)))?;
    let mut prefix = DEFAULT_PREFIX.to_string();
    let mut password_file = None;
    let mut node = default_node.to_string();
    for a in rest {
        if let Some(p) = a.strip_prefix("prefix=") {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_graphic() && b != b'*') {
                return Err(format!(
                    "invalid \"{a}\": the prefix must be printable, without spaces or \"*\""
                ));
            }
            prefix = p.to_string();
        } else if let Some(f) = a.strip_prefix("password_file=") {
            if f.is_empty() {
                return Err("password_file= needs a path".into());
            }
            let path = PathBuf::from(f);
            let text =
                read(&path).map_err(|e| format!("cannot read password file \"{f}\": {e}"))?;
            let pw = text.lines().next().unwrap_or("").trim();
            if pw.is_empty() {
                return Err(format!("password file \"{f}\" is empty"));
            }
            let redis = info.redis_settings().clone().set_password(pw);
            info = info.set_redis_settings(redis);
            password_file = Some(path);
        } else if let Some(n) = a.strip_prefix("node=") {
            if n.is_empty()
                || n.len() > super::journal::NODE_NAME_MAX
                || !n.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(format!(
                    "invalid \"{a}\": the node name must be 1 to {} printable characters",
                    super::journal::NODE_NAME_MAX
                ));
            }
            node = n.to_string();
        } else {
            return Err(format!(
                "invalid parameter \"{a}\": only prefix=, password_file= and node= may follow the URL"
            ));
        }
    }
    Ok(Settings {
        info,
        display: masked(url),
        prefix,
        password_file,
        node,
    })
}

/// This host's name, the default node name.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its length.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "nginx".into();
    }
    let n = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..n]).into_owned();
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(super::journal::NODE_NAME_MAX)
        .collect();
    if name.is_empty() {
        "nginx".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_file(_: &std::path::Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ))
    }

    #[test]
    fn url_and_parameters() {
        let s = parse(
            &["redis://u:secret@10.0.0.5:6380/2", "prefix=shop"],
            no_file,
            "h",
        )
        .unwrap();
        assert_eq!(s.prefix, "shop");
        assert_eq!(s.node, "h");
        assert_eq!(s.info.redis_settings().db(), 2);
        assert_eq!(s.info.redis_settings().password(), Some("secret"));
        assert_eq!(s.info.redis_settings().username(), Some("u"));
        assert!(!s.display.contains("secret"), "{}", s.display);
        let d = parse(&["redis://127.0.0.1:6379", "node=edge-1"], no_file, "h").unwrap();
        assert_eq!(d.prefix, DEFAULT_PREFIX);
        assert_eq!(d.node, "edge-1");
    }

    #[test]
    fn password_file_replaces_the_urls() {
        let s = parse(
            &["redis://127.0.0.1:6379", "password_file=/etc/pw"],
            |_| Ok("  s3cret \nignored\n".into()),
            "h",
        )
        .unwrap();
        assert_eq!(s.info.redis_settings().password(), Some("s3cret"));
        let e = parse(
            &["redis://127.0.0.1:6379", "password_file=/etc/pw"],
            no_file,
            "h",
        )
        .unwrap_err();
        assert!(e.contains("cannot read password file \"/etc/pw\""), "{e}");
        let e = parse(
            &["redis://127.0.0.1:6379", "password_file=/x"],
            |_| Ok("\n".into()),
            "h",
        )
        .unwrap_err();
        assert!(e.contains("is empty"), "{e}");
    }

    #[test]
    fn errors_name_the_value() {
        for (args, want) in [
            (&[][..], "needs a URL"),
            (&["http://x:1"][..], "must start with redis://"),
            (&["redis://[::1"][..], "invalid URL"),
            (&["redis://h:1", "prefix="][..], "the prefix must be"),
            (&["redis://h:1", "prefix=a*b"][..], "the prefix must be"),
            (&["redis://h:1", "node="][..], "node name"),
            (&["redis://h:1", "ttl=5"][..], "invalid parameter \"ttl=5\""),
        ] {
            let e = parse(args, no_file, "h").unwrap_err();
            assert!(e.contains(want), "{args:?}: {e}");
        }
        assert!(!hostname().is_empty());
    }

    #[test]
    fn tls_urls_are_accepted() {
        let s = parse(&["rediss://redis.example:6380"], no_file, "h").unwrap();
        assert!(matches!(
            s.info.addr(),
            redis::ConnectionAddr::TcpTls { .. }
        ));
    }
}
