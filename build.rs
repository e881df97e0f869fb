//! Passes the location of the nginx tree that `nginx-sys` built (or was pointed
//! at with `NGINX_BUILD_DIR`) to the crate, so tests and scripts can find the
//! nginx binary the module was compiled against.
fn main() {
    if let Ok(dir) = std::env::var("DEP_NGINX_BUILD_DIR") {
        println!("cargo::rustc-env=API_ABUSE_NGINX_BUILD_DIR={dir}");
    }
    println!("cargo::rerun-if-env-changed=DEP_NGINX_BUILD_DIR");
}
