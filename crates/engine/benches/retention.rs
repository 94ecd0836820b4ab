//! Journal retention at size: runs a burst of short executions (10,000 by
//! default), then a retention sweep that removes them all, and prints the
//! journal's files before and after and how long the sweep took. Then it
//! does it again with StartExecution called every 5 ms (the webhook
//! benchmark's rate) during the sweep, and prints how long those calls
//! took, next to a stretch without a sweep. Not a test: it prints Markdown
//! tables for BENCHMARKS.md.
//!
//! ```text
//! cargo bench -p zoomvault-engine --bench retention [-- EXECUTIONS]
//! ```
//!
//! The executions run on a virtual clock that stands still while they run
//! (a short execution has no timers), then jumps past the default retention
//! of 90 days, so the sweep removes every one of them, as the hourly sweep
//! would on the day they age out. The scheduled sweep is off, so the ones
//! measured are the only ones. Each run uses a fresh SQLite file in a
//! temporary directory.

use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zoomvault_engine::{
    Clock, Engine, EngineConfig, Handlers, JournalStats, Status, DEFAULT_RETENTION,
};

// The same allocator as the `zoomvault` binary, so the bench measures what
// users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DEFAULT_EXECUTIONS: usize = 10_000;

/// A short execution: a Pass, a no-op Lambda task, a Pass.
fn short_definition() -> Value {
    json!({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Next": "Work"},
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "noop", "Payload.$": "$"},
            "ResultSelector": {"echo.$": "$.Payload"},
            "OutputPath": "$.echo",
            "Next": "Done"
        },
        "Done": {"Type": "Pass", "End": true}
    }})
}

/// An input the size of a small Zoom webhook's.
fn input(i: usize) -> Value {
    json!({"event": "recording.completed", "payload": {
        "object": {"uuid": format!("uuid-{i:08}"), "topic": "x".repeat(400)}
    }})
}

fn fresh_db() -> std::io::Result<std::path::PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "zoomvault-bench-retention-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join("engine.db"))
}

/// Starts `count` executions named `{prefix}{i}` at once and waits for all.
async fn run_burst(
    engine: &Engine,
    machine: &str,
    prefix: &str,
    count: usize,
) -> Result<(), String> {
    let mut running = Vec::new();
    for i in 0..count {
        let engine = engine.clone();
        let machine = machine.to_string();
        let name = format!("{prefix}{i}");
        running.push(tokio::spawn(async move {
            let started = engine
                .start_execution(&machine, Some(&name), input(i))
                .await?;
            engine.wait_for(&started.execution_arn).await
        }));
    }
    for r in running {
        let row = r
            .await
            .map_err(|e| format!("execution task: {e}"))?
            .map_err(|e| format!("execution: {e}"))?;
        if row.status != Status::Succeeded {
            return Err(format!("{} ended {}", row.arn, row.status));
        }
    }
    Ok(())
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn row(label: &str, s: &JournalStats) -> String {
    format!(
        "| {label} | {} | {} | {} | {} | {} |",
        s.executions,
        mib(s.database_bytes),
        mib(s.wal_bytes),
        mib(s.free_bytes),
        mib(s.database_bytes + s.wal_bytes)
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// StartExecution called every `PROBE_EVERY`, one call at a time, each
/// timed: what a webhook arriving at the webhook benchmark's rate would see
/// of the engine meanwhile.
struct Probe {
    running: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(Vec<Duration>, Vec<String>)>,
}

/// The webhook benchmark's rate: 200 requests a second.
const PROBE_EVERY: Duration = Duration::from_millis(5);

impl Probe {
    fn start(engine: &Engine, machine: &str, prefix: &str) -> Probe {
        let running = Arc::new(AtomicBool::new(true));
        let engine = engine.clone();
        let machine = machine.to_string();
        let prefix = prefix.to_string();
        let flag = Arc::clone(&running);
        let task = tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut arns = Vec::new();
            let mut ticks = tokio::time::interval(PROBE_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while flag.load(Ordering::SeqCst) {
                ticks.tick().await;
                let i = arns.len();
                let name = format!("{prefix}{i}");
                let t = Instant::now();
                match engine
                    .start_execution(&machine, Some(&name), input(i))
                    .await
                {
                    Ok(started) => arns.push(started.execution_arn),
                    Err(_) => break,
                }
                latencies.push(t.elapsed());
            }
            (latencies, arns)
        });
        Probe { running, task }
    }

    /// Stops the probe once its executions have finished; returns its
    /// latencies, sorted, as a table row.
    async fn stop(self, engine: &Engine, label: &str) -> Result<String, String> {
        self.running.store(false, Ordering::SeqCst);
        let (mut latencies, arns) = self.task.await.map_err(|e| format!("probe: {e}"))?;
        for arn in &arns {
            engine
                .wait_for(arn)
                .await
                .map_err(|e| format!("probe execution: {e}"))?;
        }
        latencies.sort();
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
        Ok(format!(
            "| {label} | {} | {} | {} | {} |",
            latencies.len(),
            ms(percentile(&latencies, 0.50)),
            ms(percentile(&latencies, 0.99)),
            ms(latencies.last().copied().unwrap_or_default()),
        ))
    }
}

/// How long the journal is left alone after the burst, so the checkpointer
/// has copied it into the database before the sweep is measured.
const SETTLE: Duration = Duration::from_secs(3);

/// How long the journal is left alone after a sweep: the upkeep thread
/// truncates the log after a round of checkpoints (500 ms) sees no commit.
const QUIET: Duration = Duration::from_secs(2);

/// How long StartExecution is timed without a sweep, for comparison.
const CONTROL: Duration = Duration::from_secs(2);

async fn measure(executions: usize) -> Result<(), String> {
    let db = fresh_db().map_err(|e| format!("create a temporary directory: {e}"))?;
    let clock = Clock::virtual_at(1_700_000_000_000);
    let mut config = EngineConfig::new(&db);
    config.clock = clock.clone();
    config.retention = None;
    let mut handlers = Handlers::new();
    handlers.register("noop", |req| async move { Ok(req.input) });
    let engine = Engine::open(config, handlers).map_err(|e| format!("open engine: {e}"))?;
    let machine = engine
        .create_state_machine("short", &short_definition().to_string(), None)
        .map_err(|e| format!("create state machine: {e}"))?
        .arn;
    let stats = |label: &str| {
        engine
            .journal_stats()
            .map(|s| row(label, &s))
            .map_err(|e| format!("stats: {e}"))
    };
    let age_out = || clock.advance_to(clock.now_ms() + millis(DEFAULT_RETENTION) + 1);
    let sweep = || async {
        let began = Instant::now();
        let removed = engine
            .delete_closed_executions(DEFAULT_RETENTION)
            .await
            .map_err(|e| format!("sweep: {e}"))?;
        Ok::<_, String>((removed, began.elapsed()))
    };
    let mut files = Vec::new();

    // The sweep alone, as the hourly one mostly is.
    let began = Instant::now();
    run_burst(&engine, &machine, "e", executions).await?;
    let burst = began.elapsed();
    files.push(stats("right after the burst")?);
    tokio::time::sleep(SETTLE).await;
    files.push(stats(&format!("{} s later", SETTLE.as_secs()))?);
    age_out();
    let (removed, alone) = sweep().await?;
    files.push(stats("right after the sweep, alone")?);
    tokio::time::sleep(QUIET).await;
    files.push(stats(&format!("{} s later", QUIET.as_secs()))?);
    let (_, nothing) = sweep().await?;

    // The sweep again, with StartExecution called meanwhile.
    run_burst(&engine, &machine, "f", executions).await?;
    tokio::time::sleep(SETTLE).await;
    age_out();
    let control = Probe::start(&engine, &machine, "control");
    tokio::time::sleep(CONTROL).await;
    let control = control.stop(&engine, "no sweep running").await?;
    let probe = Probe::start(&engine, &machine, "probe");
    let (removed_under_load, under_load) = sweep().await?;
    let during = probe.stop(&engine, "during the sweep").await?;
    files.push(stats("right after the sweep, under load")?);
    tokio::time::sleep(QUIET).await;
    files.push(stats(&format!("{} s later", QUIET.as_secs()))?);

    drop(engine);
    if let Some(dir) = db.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }

    let seconds = |d: Duration| d.as_secs_f64();
    println!(
        "{executions} short executions in {:.1} s. The sweep removed {removed} in {:.2} s alone ({:.0} executions/s) and {removed_under_load} in {:.2} s under load; one with nothing to remove took {:.1} ms.",
        seconds(burst),
        seconds(alone),
        removed as f64 / seconds(alone),
        seconds(under_load),
        seconds(nothing) * 1000.0,
    );
    println!();
    println!("| journal | executions | database | WAL | free pages | files |");
    println!("|---|---|---|---|---|---|");
    for line in files {
        println!("{line}");
    }
    println!();
    println!("| StartExecution, one every 5 ms | calls | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    println!("{control}");
    println!("{during}");
    Ok(())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; ignore flags so it stays harmless.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let executions = match args.first().map(|s| s.parse::<usize>()) {
        None => DEFAULT_EXECUTIONS,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: retention [EXECUTIONS]");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(measure(executions)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("retention: {e}");
            ExitCode::FAILURE
        }
    }
}
