use std::process::ExitCode;

use clap::Parser;

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

/// argon2 allocates 19 MiB per password check. glibc's dynamic mmap threshold would, after the
/// first free, serve such blocks from a fragmenting heap (882 MB peak measured); a fixed threshold
/// maps and unmaps them each time, which bounds memory at a cost in login throughput
/// (docs/benchmarks.md, "Allocator trade-off").
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
