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
    authify::allocator::tune_system_allocator();
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
