//! Ports for servers whose address must be known before they listen: an instance whose public
//! URL is its own address, chromedriver, a mail server that is down before it is up.
//!
//! A port taken from `bind("127.0.0.1:0")` and let go sits in the kernel's ephemeral range, so
//! the next outgoing connection or port-0 listener of a concurrent test can take it before our
//! server binds it (CI saw "Address already in use"). These ports come from below that range
//! (32768–60999 by default), which the kernel never hands out by itself, and each is handed out
//! once per test process; a port some other program already holds is skipped.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU32, Ordering};

const FIRST: u32 = 20_000;
const COUNT: u32 = 12_000;

/// A loopback port nothing listens on, that no other caller in this process gets.
pub fn unused_port() -> u16 {
    // Processes start at different places, so two test binaries rarely try the same ports.
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7_919) % COUNT;
    for _ in 0..COUNT {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % COUNT;
        let port = u16::try_from(FIRST + offset).expect("below 32768");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no unused port between {FIRST} and {}", FIRST + COUNT)
}

/// [`unused_port`] on the loopback address.
pub fn unused_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], unused_port()))
}
