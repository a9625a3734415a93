//! Release builds on x86_64 Linux link with lld (Rust's default there since 1.90) and hand it
//! `link/symbol-order.txt`: the functions that run while the service starts and serves, placed together
//! so their code fills few pages (idle RSS 23.5 -> 13 MB; docs/benchmarks.md, "Memory"). Relative
//! relocations are packed (DT_RELR, glibc 2.36+), so the loader no longer reads 860 KB of them.
//! Regenerate the list with `python3 link/symbol_order.py`; a stale list only loses the effect.

fn main() {
    let order = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("link/symbol-order.txt");
    println!("cargo::rerun-if-changed={}", order.display());
    println!("cargo::rerun-if-env-changed=AUTHIFY_PLAIN_LINK");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let target = std::env::var("TARGET").unwrap_or_default();
    if !release || target != "x86_64-unknown-linux-gnu" || std::env::var_os("AUTHIFY_PLAIN_LINK").is_some() {
        return;
    }
    if order.exists() {
        println!("cargo::rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", order.display());
        println!("cargo::rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
    println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
}
