//! The bodies a challenged client gets: a small self-contained HTML page for
//! browsers, a JSON error for API clients. Both are static templates; only
//! the token, the cookie's name, the work, the cookie's lifetime and the
//! retry delay are written in, into a buffer the caller owns (nginx's
//! request pool), so serving one allocates nothing else.
//!
//! The page loads nothing: its one script is inline and static (the values
//! it needs are `data-` attributes of the `<html>` element), so the page's
//! own `Content-Security-Policy` allows exactly that script by its hash and
//! nothing else. The script computes SHA-256 itself rather than with
//! `crypto.subtle`, which browsers offer only on HTTPS and localhost.

use std::io::Write;

use super::token::Token;

/// The page's script (see the README for what it does).
pub const SCRIPT: &str = r#"(function(){var d=document.documentElement,t=d.getAttribute("data-t"),w=+d.getAttribute("data-w"),l=+d.getAttribute("data-l"),c=d.getAttribute("data-c"),m=document.getElementById("m");
var K=[0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2];
function sha(s){var n=s.length,z=((n+8)>>6)+1<<4,x=[],W=[],i,j;for(i=0;i<z;i++)x[i]=0;for(i=0;i<n;i++)x[i>>2]|=s.charCodeAt(i)<<(24-(i&3)*8);x[n>>2]|=0x80<<(24-(n&3)*8);x[z-1]=n*8;
var h=[0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19];
for(i=0;i<z;i+=16){var a=h[0],b=h[1],c=h[2],e=h[4],f=h[5],g=h[6],k=h[7],q=h[3];
for(j=0;j<64;j++){if(j<16)W[j]=x[i+j]|0;else{var u=W[j-15],v=W[j-2];W[j]=(((u>>>7|u<<25)^(u>>>18|u<<14)^(u>>>3))+W[j-7]+((v>>>17|v<<15)^(v>>>19|v<<13)^(v>>>10))+W[j-16])|0}
var p=(k+((e>>>6|e<<26)^(e>>>11|e<<21)^(e>>>25|e<<7))+((e&f)^(~e&g))+K[j]+W[j])|0,o=(((a>>>2|a<<30)^(a>>>13|a<<19)^(a>>>22|a<<10))+((a&b)^(a&c)^(b&c)))|0;
k=g;g=f;f=e;e=(q+p)|0;q=c;c=b;b=a;a=(p+o)|0}
h[0]=h[0]+a|0;h[1]=h[1]+b|0;h[2]=h[2]+c|0;h[3]=h[3]+q|0;h[4]=h[4]+e|0;h[5]=h[5]+f|0;h[6]=h[6]+g|0;h[7]=h[7]+k|0}return h}
function bits(h){for(var i=0,r=0;i<8;i++){if(h[i]){return r+Math.clz32(h[i])}r+=32}return r}
var now=Date.now(),tries=[];try{tries=JSON.parse(sessionStorage.getItem(c)||"[]").filter(function(x){return now-x<60000})}catch(e){}
if(tries.length>=3){m.textContent="Your browser could not be verified. Please allow cookies for this site, then reload the page.";try{sessionStorage.removeItem(c)}catch(e){}return}
tries.push(now);try{sessionStorage.setItem(c,JSON.stringify(tries))}catch(e){}
var n=0;while(bits(sha(t+"."+n))<w)n++;
document.cookie=c+"="+t+"."+n+"; Max-Age="+l+"; Path=/; SameSite=Lax"+(location.protocol=="https:"?"; Secure":"");
if(document.cookie.indexOf(c+"="+t)<0){m.textContent="Please allow cookies for this site, then reload the page.";return}
location.reload()})();"#;

/// The page's own policy: nothing but its script.
pub const CSP: &str =
    "default-src 'none'; script-src 'sha256-WFSID9qVq1lTAyOYzsFXPilaPbOSvvxaEkrJcLzFbLM='; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HEAD: &str = r#"<!DOCTYPE html><html lang="en" data-c=""#;
const BODY: &str = r#""><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>One moment</title></head><body><p id="m">Checking your browser, one moment&hellip;</p><noscript><p>This site lets browsers through once they run a short script. Please enable JavaScript, then reload the page.</p></noscript><script>"#;
const TAIL: &str = "</script></body></html>\n";

/// The most a page takes (the cookie name up to 32 bytes).
pub const PAGE_MAX: usize =
    HEAD.len() + 32 + 10 + super::token::TOKEN_LEN + 30 + BODY.len() + SCRIPT.len() + TAIL.len();

/// Writes the page into `out`; returns its length, `None` if `out` is too
/// small.
pub fn page(
    out: &mut [u8],
    cookie: &[u8],
    token: &Token,
    work: u8,
    lifetime_s: u32,
) -> Option<usize> {
    let total = out.len();
    let mut w = &mut out[..];
    w.write_all(HEAD.as_bytes()).ok()?;
    w.write_all(cookie).ok()?;
    w.write_all(b"\" data-t=\"").ok()?;
    w.write_all(token.as_bytes()).ok()?;
    write!(w, "\" data-w=\"{work}\" data-l=\"{lifetime_s}").ok()?;
    w.write_all(BODY.as_bytes()).ok()?;
    w.write_all(SCRIPT.as_bytes()).ok()?;
    w.write_all(TAIL.as_bytes()).ok()?;
    Some(total - w.len())
}

/// The most a JSON body takes.
pub const JSON_MAX: usize = 256;

/// Writes the API clients' JSON error into `out`; returns its length.
pub fn json(out: &mut [u8], retry_after: u64) -> Option<usize> {
    let total = out.len();
    let mut w = &mut out[..];
    writeln!(
        w,
        "{{\"error\":\"challenge\",\"message\":\"this client must pass a browser challenge: \
         request a page with a browser, or retry later\",\"retry_after\":{retry_after}}}"
    )
    .ok()?;
    Some(total - w.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_policy_allows_exactly_the_script() {
        let h = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT));
        assert!(
            CSP.contains(&format!("'sha256-{h}'")),
            "the script changed: its hash is now sha256-{h}"
        );
        // the README gives the same policy to operators who add their own
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&format!("sha256-{h}")),
            "README: sha256-{h}"
        );
    }

    #[test]
    fn the_page_carries_the_values_and_loads_nothing() {
        let t = super::super::token::mint(&[1; 32], 5, b"ua", 1_800_000_000);
        let mut buf = [0u8; PAGE_MAX];
        let n = page(&mut buf, b"api_abuse_pass_abcdef", &t, 12, 3600).expect("fits");
        let s = std::str::from_utf8(&buf[..n]).expect("utf-8");
        assert!(s.starts_with("<!DOCTYPE html>"));
        assert!(s.contains(&format!(
            "data-c=\"api_abuse_pass_abcdef\" data-t=\"{}\" data-w=\"12\" data-l=\"3600\"",
            std::str::from_utf8(t.as_bytes()).unwrap()
        )));
        assert!(s.contains(&format!("<script>{SCRIPT}</script>")));
        let html = s.replace(SCRIPT, "");
        for external in ["src=", "href=", "http:", "https:", "url(", "<link", "<img"] {
            assert!(!html.contains(external), "{external}");
        }
        for fetch in ["fetch(", "XMLHttpRequest", "import", "src", "//"] {
            assert!(!SCRIPT.contains(fetch), "{fetch}");
        }
        assert!(page(&mut [0u8; 100], b"x", &t, 12, 3600).is_none());
    }

    #[test]
    fn the_json_error_parses() {
        let mut buf = [0u8; JSON_MAX];
        let n = json(&mut buf, 3600).expect("fits");
        let v: serde_json::Value = serde_json::from_slice(&buf[..n]).expect("json");
        assert_eq!(v["error"], "challenge");
        assert_eq!(v["retry_after"], 3600);
    }
}
