//! What the benches (and tests) that run servers as child processes share: a child that
//! is killed when dropped, a free loopback port to give it, and the
//! process's memory as Linux reports it. Each bench uses some of it.

#![allow(dead_code)]

use std::process::Child;

/// A server process, killed and reaped when dropped (also on panic).
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `kB` field of `/proc/self/status` (`VmRSS:`, `VmHWM:`), in KiB.
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
