use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: authify::allocator::SplitAllocator = authify::allocator::SplitAllocator;

/// mimalloc's options, set by a constructor: after mimalloc's own (which reads its environment)
/// and before Rust's runtime makes the first allocation.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static CONFIGURE_ALLOCATOR: extern "C" fn() = authify::allocator::configure;

fn main() -> ExitCode {
    tune_allocator();
    let cli = authify::cli::Cli::parse();
    authify::cli::init_tracing();
    match authify::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// argon2 works in 12 MiB per hashing thread, which the threads free when logins stop
/// (`crypto::hash_workers`). glibc's dynamic mmap threshold would, after the first free, serve such
/// blocks from a fragmenting heap that is never given back (882 MB peak measured); a fixed threshold
/// keeps every block of 1 MiB or more in its own mapping, returned to the OS when freed. Two arenas
/// keep the heap of many threads from multiplying (docs/benchmarks.md, "Password logins").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters; it runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
