//! Webhook acknowledgement latency: `zoomvault serve` (its own process, the
//! release binary) receiving signed `recording.completed` webhooks at a
//! fixed rate, each for a different meeting, so every request starts an
//! ingest that runs while later requests arrive. Prints latency
//! percentiles as a table (not a timed test).
//!
//!   cargo bench -p zoomvault --bench webhook -- [RATE_PER_S] [SECONDS]   (default: 200 15)
//!
//! Afterwards it waits for the ingests to finish (until none finished for
//! a minute) and counts serve's executions by status through the Step
//! Functions API: one SUCCEEDED execution per webhook is nothing lost and
//! nothing doubled. Issue 14's load figure is `-- 1000 60`.
//!
//! The Zoom simulator runs in this process (it serves small files: one
//! 64 KiB M4A per meeting); requests are sent open-loop, one every
//! 1/RATE s whatever the answers do, over a keep-alive connection pool.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use zoomvault_zoom::webhook::{sign, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use zoomvault_zoom::SecretString;
use zoomvault_zoom_sim::{FileSpec, MeetingSpec, SimConfig, ZoomSim};

mod support;

use support::{free_port, Server};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let rate: u64 = args
        .first()
        .map_or(200, |a| a.parse().expect("rate per second"));
    let seconds: u64 = args.get(1).map_or(15, |a| a.parse().expect("seconds"));
    let count = (rate * seconds) as usize;

    let sim = ZoomSim::start(SimConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("simulator");
    let config = sim.config().clone();
    let data = tempfile::tempdir().expect("data dir");
    let port = free_port();
    // MAX_CONCURRENT_TASKS overrides serve's default, to show its effect.
    let settings = data.path().join("settings.toml");
    let mut file_settings = String::from("scan_every = \"off\"\n");
    if let Ok(n) = std::env::var("MAX_CONCURRENT_TASKS") {
        let n: u64 = n.parse().expect("a number");
        file_settings.push_str(&format!("max_concurrent_tasks = {n}\n"));
    }
    std::fs::write(&settings, file_settings).expect("settings file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data.path().join("data"))
        .arg("--config")
        .arg(&settings)
        .env("ZOOM_WEBHOOK_SECRET_TOKEN", &config.webhook_secret_token)
        .env("ZOOM_ACCOUNT_ID", &config.account_id)
        .env("ZOOM_CLIENT_ID", &config.client_id)
        .env("ZOOM_CLIENT_SECRET", &config.client_secret)
        .env("ZOOM_API_BASE", sim.api_base_url())
        .env("ZOOM_OAUTH_BASE", sim.base_url())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting zoomvault serve");
    let stderr = child.stderr.take().expect("piped stderr");
    let server = Server(child);
    // serve prints its routes once it listens; its warnings and errors
    // afterwards are passed on (not its info lines, one per webhook), and
    // the pipe kept drained so serve never blocks on it.
    let (listening, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("site:") {
                let _ = listening.send(());
            } else if line.contains("WARN") || line.contains("ERROR") {
                eprintln!("serve: {line}");
            }
        }
    });
    ready
        .recv_timeout(Duration::from_secs(30))
        .expect("zoomvault serve is listening");
    let url = format!("http://127.0.0.1:{port}/zoom/webhook");

    eprintln!("preparing {count} meetings...");
    let secret = SecretString::new(config.webhook_secret_token.clone());
    let bodies: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let meeting = sim.add_meeting(MeetingSpec {
                topic: format!("Load meeting {i}"),
                files: vec![FileSpec::audio(64 * 1024)],
                ..MeetingSpec::default()
            });
            serde_json::to_vec(&sim.recording_completed_event(&meeting.uuid)).expect("JSON")
        })
        .collect();

    eprintln!("sending {count} webhooks at {rate}/s...");
    let client = reqwest::Client::new();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for (i, body) in bodies.into_iter().enumerate() {
        tokio::time::sleep_until((start + interval * i as u32).into()).await;
        let (client, url, secret) = (client.clone(), url.clone(), secret.clone());
        tasks.push(tokio::spawn(async move {
            let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
            let signature = sign(&secret, timestamp, &body);
            let sent = Instant::now();
            let response = client
                .post(&url)
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(SIGNATURE_HEADER, signature)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            // A request that got no answer counts as status 0.
            let status = match response {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let _ = response.bytes().await;
                    status
                }
                Err(_) => 0,
            };
            (sent.elapsed(), status)
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    let mut not_ok = 0;
    for task in tasks {
        let (latency, status) = task.await.expect("request task");
        if status != 200 {
            not_ok += 1;
        }
        latencies.push(latency);
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    // The acknowledgements are in; the ingests they started may still be
    // running (at most max_concurrent_tasks steps at a time). Count the
    // documents written then, and how long the rest take to finish.
    let store = data.path().join("data/store/objects");
    let done_at_end = count_documents(&store);
    let drain_started = Instant::now();
    // Until every ingest is done, or none finished for a minute.
    let mut done = done_at_end;
    let mut progress_at = Instant::now();
    while done < count && progress_at.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now_done = count_documents(&store);
        if now_done > done {
            progress_at = Instant::now();
        }
        done = now_done;
    }
    let drained_after = drain_started.elapsed().as_secs_f64();
    let executions = executions_by_status(port).await;
    drop(server);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{}",
        serde_json::json!({
            "requests": count,
            "rate_per_s": rate,
            "achieved_per_s": count as f64 / elapsed,
            "not_200": not_ok,
            "p50_ms": ms(percentile(&latencies, 0.50)),
            "p90_ms": ms(percentile(&latencies, 0.90)),
            "p99_ms": ms(percentile(&latencies, 0.99)),
            "max_ms": ms(*latencies.last().expect("latencies")),
            "ingests_done_when_last_acknowledged": done_at_end,
            "ingests_done": done,
            "seconds_to_finish_the_rest": drained_after,
            "executions": executions,
        })
    );
    println!();
    let total: u64 = executions.values().sum();
    println!("| requests | offered rate | non-200 | p50 | p90 | p99 | max | ingests done at the last ack | all done after | executions (by status) |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {count} | {rate}/s | {not_ok} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {done_at_end} | {} | {total} {} |",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.90)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().expect("latencies")),
        if done == count {
            format!("{drained_after:.1} s more")
        } else {
            format!("stalled after {drained_after:.0} s ({done} done)")
        },
        serde_json::to_string(&executions).expect("JSON"),
    );
}

/// The executions serve's journal holds, by status, read through its Step
/// Functions API: one per recording, each SUCCEEDED, is nothing lost and
/// nothing doubled.
async fn executions_by_status(port: u16) -> std::collections::BTreeMap<String, u64> {
    let client = zoomvault_aws::step_functions::client_for_endpoint(
        &format!("http://127.0.0.1:{port}"),
        "AKIDBENCH",
        "bench",
    );
    let machine = client
        .list_state_machines()
        .send()
        .await
        .expect("ListStateMachines");
    let mut counts = std::collections::BTreeMap::new();
    for machine in machine.state_machines() {
        let mut pages = client
            .list_executions()
            .state_machine_arn(machine.state_machine_arn())
            .max_results(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for execution in page.expect("ListExecutions").executions() {
                let status = execution.status().as_str().to_string();
                // What failed, by error name (the first 50 failures).
                let failed_seen = counts.get("FAILED").copied().unwrap_or(0);
                if status == "FAILED" && failed_seen < 50 {
                    let described = client
                        .describe_execution()
                        .execution_arn(execution.execution_arn())
                        .send()
                        .await
                        .expect("DescribeExecution");
                    let error = described.error().unwrap_or("(none)");
                    if failed_seen < 3 {
                        eprintln!(
                            "failed: {error}: {}",
                            described.cause().unwrap_or("(no cause)")
                        );
                    }
                    *counts.entry(format!("FAILED {error}")).or_insert(0) += 1;
                }
                *counts.entry(status).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// Recording documents written so far (one per finished ingest).
fn count_documents(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                count_documents(&path)
            } else {
                usize::from(path.file_name().is_some_and(|n| n == "recording.json"))
            }
        })
        .sum()
}
