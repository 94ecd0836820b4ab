//! What the benches (and tests) that run servers as child processes share: a child that
//! is killed when dropped, and a free loopback port to give it.

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
