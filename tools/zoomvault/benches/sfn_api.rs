//! Step Functions API round trips per second: StartExecution followed by
//! DescribeExecution of the started execution, over HTTP, from 32 callers
//! at once, against `zoomvault engine serve` and against moto's server
//! (`moto_server`), each in its own process on loopback, driven by the same
//! aws-sdk-sfn client code. Prints a table (stdout) for BENCHMARKS.md.
//!
//!     cargo bench -p zoomvault --bench sfn_api -- [PAIRS] [CONCURRENCY]
//!
//! Defaults: 20,000 pairs for zoomvault, 32 callers; moto gets a tenth of
//! the pairs (it is much slower; rates are per second, so the ratio holds).
//! Each server first gets a warm-up of 200 pairs. Both run the same
//! one-Pass-state machine; moto only records executions (its interpreter is
//! off by default), zoomvault also runs each one durably to completion.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEFINITION: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;

mod support;

use support::{free_port, Server};

/// Starts a server and waits until it accepts connections.
fn start(mut command: Command, port: u16) -> Server {
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    let mut server = Server(child);
    // Keep the pipe drained so the server never blocks writing to it.
    let stderr = server.0.stderr.take().expect("piped stderr");
    std::thread::spawn(move || for _ in BufReader::new(stderr).lines() {});
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{command:?} did not listen on {port}"
        );
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("{command:?} exited: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

struct Measured {
    pairs: usize,
    seconds: f64,
    latencies_ms: Vec<f64>,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.pairs as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut l = self.latencies_ms.clone();
        l.sort_by(|a, b| a.total_cmp(b));
        l[((l.len() as f64 * p) as usize).min(l.len() - 1)]
    }
}

/// Runs `pairs` StartExecution + DescribeExecution pairs from
/// `concurrency` callers; every pair must succeed.
async fn drive(url: &str, pairs: usize, concurrency: usize, tag: &str) -> Measured {
    let client = zoomvault_aws::step_functions::client_for_endpoint(url, "AKIDBENCH", "bench");
    let machine = client
        .create_state_machine()
        .name(format!("bench-{tag}"))
        .definition(DEFINITION)
        .role_arn("arn:aws:iam::123456789012:role/bench")
        .send()
        .await
        .expect("CreateStateMachine")
        .state_machine_arn;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let callers: Vec<_> = (0..concurrency)
        .map(|_| {
            let client = client.clone();
            let machine = machine.clone();
            let next = next.clone();
            let tag = tag.to_string();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= pairs {
                        return latencies;
                    }
                    let t = Instant::now();
                    let arn = client
                        .start_execution()
                        .state_machine_arn(&machine)
                        .name(format!("{tag}-{i}"))
                        .input(r#"{"n":1}"#)
                        .send()
                        .await
                        .expect("StartExecution")
                        .execution_arn;
                    client
                        .describe_execution()
                        .execution_arn(&arn)
                        .send()
                        .await
                        .expect("DescribeExecution");
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            })
        })
        .collect();
    let mut latencies_ms = Vec::with_capacity(pairs);
    for c in callers {
        latencies_ms.extend(c.await.expect("caller"));
    }
    Measured {
        pairs,
        seconds: started.elapsed().as_secs_f64(),
        latencies_ms,
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let pairs: usize = args.first().map_or(20_000, |a| a.parse().expect("pairs"));
    let concurrency: usize = args.get(1).map_or(32, |a| a.parse().expect("concurrency"));
    let moto_pairs = (pairs / 10).max(100);
    let dir = tempfile::tempdir().expect("temp dir");

    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_zoomvault"));
    command
        .args(["engine", "serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--db")
        .arg(dir.path().join("engine.db"));
    let zoomvault = start(command, port);
    let url = format!("http://127.0.0.1:{port}");
    eprintln!("zoomvault: warm-up, then {pairs} pairs from {concurrency} callers...");
    drive(&url, 200, concurrency, "warm").await;
    let zv = drive(&url, pairs, concurrency, "run").await;
    let zv_rss = peak_rss_kib(zoomvault.0.id());
    drop(zoomvault);

    let port = free_port();
    let mut command = Command::new("moto_server");
    command.args(["-p", &port.to_string(), "-H", "127.0.0.1"]);
    let moto = start(command, port);
    let url = format!("http://127.0.0.1:{port}");
    eprintln!("moto: warm-up, then {moto_pairs} pairs from {concurrency} callers...");
    drive(&url, 200, concurrency, "warm").await;
    let mt = drive(&url, moto_pairs, concurrency, "run").await;
    let moto_rss = peak_rss_kib(moto.0.id());
    drop(moto);

    let mib =
        |k: Option<u64>| k.map_or("?".to_string(), |k| format!("{:.0} MiB", k as f64 / 1024.0));
    println!("| server | pairs | pairs/s | p50 ms | p99 ms | peak RSS |");
    println!("|---|---|---|---|---|---|");
    for (name, m, rss) in [
        ("zoomvault engine serve", &zv, zv_rss),
        ("moto_server", &mt, moto_rss),
    ] {
        println!(
            "| {name} | {} | {:.0} | {:.2} | {:.2} | {} |",
            m.pairs,
            m.rate(),
            m.percentile(0.50),
            m.percentile(0.99),
            mib(rss)
        );
    }
    println!();
    println!(
        "zoomvault / moto: {:.1}x pairs per second (StartExecution + DescribeExecution, {concurrency} callers)",
        zv.rate() / mt.rate()
    );
}
