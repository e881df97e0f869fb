//! Scanner probes: requests for well-known sensitive or vulnerable paths.
//!
//! Scanners walk lists of paths that leak secrets or admin consoles on *some*
//! stack (`/.env`, `/.git/config`, `/wp-login.php`, `/phpmyadmin/`,
//! `/actuator/env`, `/server-status`, `/cgi-bin/...`) and backups left by
//! editors and admins (`index.php.bak`, `config.php~`, `db.sql`, `backup.zip`).
//! Matching is per path segment and exact (or a listed prefix), never a
//! substring, so `/api/environments`, `/admin/users`, `/api/backups/42` and
//! `/actuator/health` (a load-balancer check) pass.

/// Segments that are a probe wherever they appear in the path.
const SEGMENTS: &[&[u8]] = &[
    b"msadc",
    b"_vti_bin",
    b"_vti_pvt",
    b"_vti_cnf",
    b"iisadmin",
    b"iissamples",
    b"iishelp",
    b"iisadmpwd",
    b"_mem_bin",
    b"iisprotect",
    b"cfide",
    b"global.asa",
    b"global.asax",
    b"snoop.jsp",
    b".git",
    b".svn",
    b".hg",
    b".bzr",
    b".aws",
    b".ssh",
    b".docker",
    b".kube",
    // Credential stores of cloud and package tools (CRS's restricted files).
    b".gnupg",
    b".azure",
    b".gsutil",
    b".password-store",
    b".git-credentials",
    b".pgpass",
    b".my.cnf",
    b".s3cfg",
    b".htaccess",
    b".htpasswd",
    b".ds_store",
    b".npmrc",
    b".pypirc",
    b".dockerenv",
    b".bash_history",
    b".zsh_history",
    b".mysql_history",
    b".vscode",
    b".idea",
    b".travis.yml",
    b".gitlab-ci.yml",
    b".git-credentials",
    b".gitignore",
    b".gitconfig",
    b".circleci",
    b".terraform",
    b"wp-admin",
    b"wp-login.php",
    b"wp-config.php",
    b"wp-content",
    b"wp-includes",
    b"xmlrpc.php",
    b"wlwmanifest.xml",
    b"phpmyadmin",
    b"phpmyadmin2",
    b"pma",
    b"myadmin",
    b"mysqladmin",
    b"sqladmin",
    b"adminer.php",
    b"adminer",
    b"phpinfo.php",
    b"info.php",
    b"php_info.php",
    b"test.php",
    b"server-status",
    b"server-info",
    b"cgi-bin",
    b"cgi-sys",
    b"web.config",
    b"web-inf",
    b"meta-inf",
    b"elmah.axd",
    b"trace.axd",
    b"jmx-console",
    b"web-console",
    b"invoker",
    b"hnap1",
    b"eval-stdin.php",
    b"_ignition",
    b"_profiler",
    b"sftp-config.json",
    b"docker-compose.yml",
    b"id_rsa",
    b"id_dsa",
    b"laravel.log",
    b"error_log",
    b"debug.log",
    b"access.log",
    b"error.log",
    b"config.php",
    b"configuration.php",
    b"localsettings.php",
    b"settings.php",
    b"setup.php",
    b"install.php",
    b"shell.php",
    b"cmd.php",
    b"c99.php",
    b"r57.php",
    b"boaform",
    b"setup.cgi",
    b"jenkins",
    b"manager",
    b"solr",
    b"druid",
    b"nacos",
    b"owa",
    b"autodiscover",
    b"ecp",
    b"vpnsvc",
    b"jolokia",
    b"console",
    b"env.js",
    b"config.json.bak",
    b"credentials",
    b"secrets.yml",
    b"database.yml",
    b"parameters.yml",
    b"appsettings.json",
];

/// Segments that are a probe only as the first segment (common words deeper
/// in an API path).
const ROOT_ONLY: &[&[u8]] = &[
    b".gitignore",
    b"manager",
    b"solr",
    b"druid",
    b"nacos",
    b"owa",
    b"autodiscover",
    b"ecp",
    b"console",
    b"jenkins",
    b"invoker",
    b"credentials",
];

/// Spring Boot actuator endpoints that leak; `health` and `info` are for
/// load balancers and pass.
const ACTUATOR_LEAKS: &[&[u8]] = &[
    b"env",
    b"heapdump",
    b"threaddump",
    b"configprops",
    b"mappings",
    b"beans",
    b"jolokia",
    b"logfile",
    b"httptrace",
    b"trace",
    b"gateway",
    b"shutdown",
    b"loggers",
    b"conditions",
    b"scheduledtasks",
    b"sessions",
    b"auditevents",
    b"dump",
    b"features",
    b"refresh",
    b"restart",
];

/// Editor and admin backup suffixes.
const BACKUP_SUFFIXES: &[&[u8]] = &[
    b".bak",
    b".old",
    b".orig",
    b".save",
    b".swp",
    b".swo",
    b"~",
    b".sql",
    b".sql.gz",
    b".sql.bz2",
    b".sql.zip",
    b".sql.tar.gz",
    b".bkp",
    b".backup",
    b".dump",
    b".mdb",
    b".sqlite3",
    b".tmp",
    b".copy",
    b".php.txt",
    b".inc",
    b".cfg.bak",
    b".config.bak",
    b".kdbx",
];

/// Archive names scanners try at the web root.
const BACKUP_STEMS: &[&[u8]] = &[
    b"backup",
    b"backups",
    b"www",
    b"wwwroot",
    b"site",
    b"web",
    b"htdocs",
    b"public_html",
    b"db",
    b"database",
    b"dump",
    b"old",
    b"html",
    b"root",
    b"data",
    b"archive",
    b"src",
    b"app",
    b"website",
];
const ARCHIVES: &[&[u8]] = &[
    b".zip",
    b".tar",
    b".tar.gz",
    b".tgz",
    b".rar",
    b".7z",
    b".gz",
    b".tar.bz2",
];

/// `path` is the decoded, normalised path without the query string.
pub fn probe(path: &[u8]) -> bool {
    let mut segments = path
        .split(|&b| b == b'/')
        .filter(|s| !s.is_empty())
        .peekable();
    let mut first = true;
    let mut under_scripts = false;
    while let Some(seg) = segments.next() {
        // Matrix parameters (`;jsessionid=`) are not part of the name.
        let seg = seg.split(|&b| b == b';').next().unwrap_or(seg);
        let root_ok = first || !ROOT_ONLY.contains(&seg);
        if root_ok && SEGMENTS.contains(&seg) {
            return true;
        }
        if seg.starts_with(b".env") || seg.starts_with(b"phpmyadmin") {
            return true;
        }
        // Vite's dev server: `/@fs/` serves any file, `__x00__` is its
        // spelling of a null byte in a module id (`/@id/__x00__virtual:..`,
        // the file-read CVEs of 2025). No production site serves either.
        if (first && seg == b"@fs") || super::normalize::find(seg, b"__x00__").is_some() {
            return true;
        }
        // A dot-file or dot-directory at the root (`/.claude/settings.json`,
        // `/.npmrc`): editors', tools' and agents' state, never a site's
        // page; `/.well-known/` is the standard's own exception. Deeper
        // dot-names pass (`/repos/o/r/contents/.gitignore` is an API).
        if first
            && seg.len() > 1
            && seg[0] == b'.'
            && seg[1].is_ascii_alphanumeric()
            && seg != b".well-known"
        {
            return true;
        }
        if seg == b"actuator" {
            return match segments.peek() {
                None => true,
                Some(next) => ACTUATOR_LEAKS.contains(next),
            };
        }
        if segments.peek().is_none() && (backup(seg) || iis_handler(seg, under_scripts)) {
            return true;
        }
        under_scripts |= first && seg == b"scripts";
        first = false;
    }
    false
}

/// Probes written in the query string (raw, as sent): IIS's log-append
/// trick (`.asp?|-|0|404_Object_Not_Found`), PHP's easter-egg GUIDs
/// (`?=PHPB8B5F2A0-3C92-11d3-...`, they fingerprint the PHP version) and
/// PHP-CGI switches (`?-s`, `?-d+allow_url_include=1`, CVE-2012-1823): no
/// application's own links have these shapes.
pub fn query(q: &[u8]) -> bool {
    if q.starts_with(b"|-|") || super::normalize::find(q, b"|-|0|").is_some() {
        return true;
    }
    if q.len() > 12
        && q[..4].eq_ignore_ascii_case(b"=php")
        && q[4..12].iter().all(u8::is_ascii_hexdigit)
    {
        return true;
    }
    match q {
        [b'-', f, rest @ ..] if f.is_ascii_alphabetic() => {
            rest.is_empty() || rest[0] == b'+' || rest.starts_with(b"%20")
        }
        _ => false,
    }
}

/// Old IIS handlers scanners still try (`/x.idc`, `/null.htw`, `/a.printer`),
/// and programs under IIS's `/scripts/` (`/scripts/root.exe`, `..%c0%af../`).
fn iis_handler(last: &[u8], under_scripts: bool) -> bool {
    const EXT: &[&[u8]] = &[b".idc", b".ida", b".idq", b".htr", b".htw", b".printer"];
    const PROGRAMS: &[&[u8]] = &[b".exe", b".dll", b".com", b".bat"];
    let ends = |list: &[&[u8]]| {
        list.iter()
            .any(|e| last.ends_with(e) && last.len() > e.len())
    };
    ends(EXT) || (under_scripts && ends(PROGRAMS))
}

fn backup(last: &[u8]) -> bool {
    if BACKUP_SUFFIXES
        .iter()
        .any(|s| last.ends_with(s) && last.len() > s.len())
    {
        return true;
    }
    ARCHIVES.iter().any(|a| {
        last.strip_suffix(*a)
            .is_some_and(|stem| BACKUP_STEMS.contains(&stem))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes() {
        for p in [
            "/.env",
            "/app/.env.production",
            "/.git/config",
            "/wp-login.php",
            "/phpMyAdmin-4.9/index.php",
            "/actuator/env",
            "/actuator",
            "/index.php.bak",
            "/config.php~",
            "/backup.zip",
            "/cgi-bin/test.cgi",
            "/server-status",
            "/.aws/credentials",
            "/dump.sql",
            "/.claude/settings.json",
            "/.cursorignore",
            "/_mem_bin/formslogin.asp",
            "/CFIDE/administrator/",
            "/global.asa",
            "/home/.gnupg/secring.gpg",
            "/static/.git-credentials",
            "/@fs/app/package.json",
            "/@id/__x00__virtual:modulepreload-polyfill",
        ] {
            assert!(probe(p.to_ascii_lowercase().as_bytes()), "{p}");
        }
        for q in [
            "|-|0|404_Object_Not_Found",
            "id=1|-|0|404_Object_Not_Found",
            "=PHPB8B5F2A0-3C92-11d3-A3A9-4C7B08C10000",
            "-s",
            "-d+allow_url_include%3d1+-d+auto_prepend_file%3dphp://input",
        ] {
            assert!(query(q.as_bytes()), "{q}");
        }
        for q in [
            "q=a|b",
            "-1",
            "-price",
            "sort=-price",
            "=phpunit",
            "q=php-8.2",
        ] {
            assert!(!query(q.as_bytes()), "{q}");
        }
        for p in [
            "/",
            "/api/v1/environments",
            "/admin/users",
            "/api/backups/42",
            "/actuator/health",
            "/api/console/logs",
            "/static/app.js",
            "/users/old",
            "/api/v2/data.json",
            "/downloads/app-1.2.tar.gz",
            "/api/manager/list",
            "/repos/o/r/contents/.gitignore",
            "/.well-known/openid-configuration",
            "/users/@fs/posts",
            "/@id/42",
        ] {
            assert!(!probe(p.as_bytes()), "{p}");
        }
    }
}
