//! Test support for gatehouse's black-box and store tests: a fresh PostgreSQL database per test
//! ([`fresh_database_url`]), a fresh SQLite file ([`fresh_sqlite_url`]), the real `gatehouse`
//! binary on a free loopback port ([`Gatehouse`]), headless Chromium through chromedriver
//! ([`Browser`]), an in-process SMTP sink ([`SmtpSink`]) and PKCE pairs ([`pkce`]).
//!
//! It depends on no gatehouse crate: it drives the binary from outside, as a relying party and
//! an operator would. Every server it starts listens on 127.0.0.1 only and is stopped by this
//! crate (on `Drop`, or when the test process exits). A missing dependency (PostgreSQL server
//! binaries, Chromium) is a panic with one line saying what to install: there is no skip path.
//! `scripts/test` installs both and shares one PostgreSQL server with every test binary through
//! `GATEHOUSE_TEST_POSTGRES_URL`.

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::Mutex;

mod browser;
mod gatehouse;
pub mod pkce;
mod postgres;
mod smtp;

pub use browser::{Browser, wait_for_url_prefix};
pub use fantoccini;
pub use gatehouse::{Gatehouse, GatehouseBuilder, fresh_sqlite_url};
pub use postgres::{POSTGRES_ROOT_CERT_ENV, POSTGRES_URL_ENV, fresh_database_url, postgres_root_cert, psql};
pub use smtp::{ReceivedMail, SmtpSink};

/// A TCP port on 127.0.0.1 that was free a moment ago, never the same one twice in a process
/// (the OS may hand a just-released port out again before the server that wanted it binds it).
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let handed_out = handed_out.get_or_insert_with(HashSet::new);
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("cannot bind a port on 127.0.0.1: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("no local address for a bound socket: {e}"))
            .port();
        if handed_out.insert(port) {
            return port;
        }
    }
}

/// Random bytes as lowercase hex, for names that must not collide between tests.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).unwrap_or_else(|_| panic!("the system RNG failed"));
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_never_repeats_within_a_process() {
        let ports: HashSet<u16> = (0..50).map(|_| free_port()).collect();
        assert_eq!(ports.len(), 50);
    }
}
