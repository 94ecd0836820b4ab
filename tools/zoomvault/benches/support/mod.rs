//! What the benches (and tests) that run servers as child processes share: a child that
//! is killed when dropped, a free loopback port to give it, the process's
//! memory as Linux reports it, and a run of the bench binary itself in a
//! child process. Each bench uses some of it.

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

/// Runs this bench binary again with `args` (its child mode, so a run's
/// peak RSS is its own) and returns the one JSON line it prints; `what`
/// names the run if it fails.
pub fn run_child<S: AsRef<std::ffi::OsStr>>(args: &[S], what: &str) -> serde_json::Value {
    let output = std::process::Command::new(std::env::current_exe().expect("the bench's path"))
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    assert!(output.status.success(), "{what} failed");
    let line = String::from_utf8_lossy(&output.stdout).trim().to_string();
    eprintln!("{line}");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{what} printed {line:?}: {e}"))
}
