//! Retrieval throughput and memory: zoomvault ingesting a recording with one
//! big file from the Zoom simulator on loopback, side by side with
//! `curl -o` of the same file, in one run. Prints a table (not a timed
//! test).
//!
//!   cargo bench -p zoomvault --bench retrieve -- [SIZE_GIB ...]   (default: 2)
//!
//! The simulator runs as its own process (`zoomvault zoom-sim`), so this
//! process is zoomvault alone: the embedded engine, the real state machine
//! and steps, the directory store. Its RSS is read from /proc/self/status:
//! `VmRSS` once everything is open and idle, `VmHWM` (peak) after the
//! ingest. curl writes into the same filesystem as the store.
//!
//! A third column shows what the disk did in that run: writing the same
//! number of bytes from memory to a file there, then one `fdatasync` (a
//! durable copy with no network, done the simple way). zoomvault can beat
//! it, because it flushes parts while the download goes on; but when it is
//! far slower than `curl -o` (whose file stays in the page cache), the disk,
//! not the download, bounds any copy that must be durable.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;
use zoomvault::embedded::{Embedded, EmbeddedConfig};
use zoomvault_archive::document::IngestSource;
use zoomvault_archive::steps::{IngestConfig, WorkflowStart};
use zoomvault_engine::Status;
use zoomvault_zoom::ZoomConfig;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const GIB: u64 = 1024 * 1024 * 1024;

struct Sim {
    child: Child,
    vars: std::collections::HashMap<String, String>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sim(video_bytes: u64) -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args(["zoom-sim", "--listen", "127.0.0.1:0", "--demo"])
        .args(["--demo-video-bytes", &video_bytes.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting zoomvault zoom-sim");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut vars = std::collections::HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("simulator output");
        if let Some((k, v)) = line.split_once('=') {
            vars.insert(k.to_string(), v.to_string());
        }
        if line.starts_with("DEMO_FILE_5=") {
            break;
        }
    }
    Sim { child, vars }
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

struct Row {
    size: u64,
    curl_seconds: f64,
    curl_sync_seconds: f64,
    disk_seconds: f64,
    recording_bytes: u64,
    zoomvault_seconds: f64,
    idle_rss_kib: u64,
    peak_rss_kib: u64,
    /// RetrieveBatch tasks the execution ran: 0 when every file was read
    /// in one RetrieveFile, the batch count when a file was fanned out.
    batch_tasks: usize,
}

fn run(size: u64) -> Row {
    let sim = start_sim(size);
    let work = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| "/tmp".into()))
        .expect("work dir");

    // curl -o of the big file, through Zoom's redirect to the CDN.
    let url = sim.vars["DEMO_FILE_0"]
        .split_whitespace()
        .last()
        .expect("file URL")
        .to_string();
    let out = work.path().join("curl.mp4");
    let started = Instant::now();
    let status = Command::new("curl")
        .args(["-sS", "-L", "-o"])
        .arg(&out)
        .arg(&url)
        .status()
        .expect("running curl");
    let curl_seconds = started.elapsed().as_secs_f64();
    assert!(status.success(), "curl failed");
    // zoomvault fsyncs the object before it counts it as stored (and
    // before Zoom's copy is trashed); curl does not. The time to make
    // curl's file durable too is measured separately.
    let synced = Instant::now();
    let status = Command::new("sync")
        .arg(&out)
        .status()
        .expect("running sync");
    assert!(status.success(), "sync failed");
    let curl_sync_seconds = curl_seconds + synced.elapsed().as_secs_f64();
    assert_eq!(std::fs::metadata(&out).unwrap().len(), size);
    std::fs::remove_file(&out).unwrap();
    let disk_seconds = durable_copy_seconds(&work.path().join("durable-copy.bin"), size);

    // zoomvault: a manual ingest of the same recording (OAuth downloads),
    // through the real state machine and steps.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (seconds, bytes, idle, peak, batch_tasks) = runtime.block_on(async {
        let mut zoom = ZoomConfig::new(
            sim.vars["ZOOM_ACCOUNT_ID"].clone(),
            sim.vars["ZOOM_CLIENT_ID"].clone(),
            sim.vars["ZOOM_CLIENT_SECRET"].clone(),
        );
        zoom.api_base = sim.vars["ZOOM_API_BASE_URL"].clone();
        zoom.oauth_base = sim.vars["ZOOM_SIM_BASE_URL"].clone();
        let embedded = Embedded::open(EmbeddedConfig {
            store: None,
            data_dir: work.path().join("data"),
            zoom,
            // PART_CONCURRENCY and PART_SIZE_MIB override the defaults, to show the trade
            // between parallel GETs and memory.
            ingest: IngestConfig {
                part_concurrency: std::env::var("PART_CONCURRENCY")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(IngestConfig::default().part_concurrency),
                part_size: std::env::var("PART_SIZE_MIB")
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                    .map_or(IngestConfig::default().part_size, |mib| mib * 1024 * 1024),
                // INVOCATION_MIB lowers the bound above which a file is
                // fanned out over batches (BeginFile, RetrieveParts,
                // CompleteFile), to measure that path on a smaller file.
                invocation_bytes: std::env::var("INVOCATION_MIB")
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                    .map_or(IngestConfig::default().invocation_bytes, |mib| {
                        mib * 1024 * 1024
                    }),
                ..IngestConfig::default()
            },
            site_title: "bench".into(),
            max_concurrent_tasks: zoomvault::serve::DEFAULT_MAX_CONCURRENT_TASKS,
            journal_retention: Some(zoomvault_engine::DEFAULT_RETENTION),
            journal_sync: zoomvault_engine::Durability::Full,
            map_buckets: None,
            integrations: Default::default(),
        })
        .unwrap();
        let idle = status_kib("VmRSS:");
        let start =
            WorkflowStart::for_meeting(&sim.vars["DEMO_MEETING_UUID"], IngestSource::Manual)
                .unwrap();
        let started = Instant::now();
        let execution = embedded
            .engine
            .start_execution(&embedded.state_machine_arn, Some(&start.name), start.input)
            .await
            .unwrap();
        let row = embedded
            .engine
            .wait_for(&execution.execution_arn)
            .await
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(
            row.status,
            Status::Succeeded,
            "{:?} {:?}",
            row.error,
            row.cause
        );
        let output: serde_json::Value =
            serde_json::from_str(row.output.as_deref().unwrap_or("{}")).unwrap();
        let bytes = output["bytes"].as_u64().expect("bytes in the output");
        let peak = status_kib("VmHWM:");
        let batch_tasks = embedded
            .engine
            .history(&execution.execution_arn)
            .unwrap()
            .iter()
            .filter(|event| {
                event["type"] == "TaskStateEntered"
                    && event["stateEnteredEventDetails"]["name"] == "RetrieveBatch"
            })
            .count();
        (seconds, bytes, idle, peak, batch_tasks)
    });
    Row {
        size,
        curl_seconds,
        curl_sync_seconds,
        disk_seconds,
        recording_bytes: bytes,
        zoomvault_seconds: seconds,
        idle_rss_kib: idle,
        peak_rss_kib: peak,
        batch_tasks,
    }
}

/// Seconds to write `size` bytes from memory to `path` and then fdatasync
/// them: how fast this disk takes a durable copy, right now.
fn durable_copy_seconds(path: &std::path::Path, size: u64) -> f64 {
    use std::io::Write;
    // Not zeros, in case a layer below skips or compresses them.
    let chunk: Vec<u8> = (0..8 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let started = Instant::now();
    let mut file = std::fs::File::create(path).expect("disk floor file");
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n])
            .expect("writing the durable copy");
        left -= n as u64;
    }
    file.sync_data().expect("syncing the durable copy");
    let seconds = started.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(path).expect("removing the durable copy");
    seconds
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes: Vec<u64> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(|a| {
            let gib: f64 = a.parse().expect("sizes are GiB numbers, e.g. 2 or 8");
            (gib * GIB as f64) as u64
        })
        .collect();
    let sizes = if sizes.is_empty() {
        vec![2 * GIB]
    } else {
        sizes
    };
    // `--one SIZE` is a child run: one size, one JSON line, so each size's
    // peak RSS is its own process's.
    if args.iter().any(|a| a == "--one") {
        let row = run(sizes[0]);
        println!(
            "{}",
            serde_json::json!({
                "file_bytes": row.size,
                "curl_seconds": row.curl_seconds,
                "curl_then_sync_seconds": row.curl_sync_seconds,
                "disk_write_fsync_seconds": row.disk_seconds,
                "recording_bytes": row.recording_bytes,
                "zoomvault_seconds": row.zoomvault_seconds,
                "idle_rss_kib": row.idle_rss_kib,
                "peak_rss_kib": row.peak_rss_kib,
                "batch_tasks": row.batch_tasks,
            })
        );
        return;
    }
    let mut rows = Vec::new();
    for size in sizes {
        eprintln!("retrieving a {:.1} GiB file...", size as f64 / GIB as f64);
        // As the zoomvault binary runs itself (see its main.rs), unless
        // the caller chose another value.
        let purge_delay = std::env::var("MIMALLOC_PURGE_DELAY").unwrap_or_else(|_| "10".into());
        let output = Command::new(std::env::current_exe().expect("own path"))
            .env("MIMALLOC_PURGE_DELAY", purge_delay)
            .arg("--one")
            .arg((size as f64 / GIB as f64).to_string())
            .stderr(Stdio::inherit())
            .output()
            .expect("running one size");
        assert!(output.status.success(), "the run for {size} bytes failed");
        let line = String::from_utf8_lossy(&output.stdout);
        println!("{}", line.trim());
        let v: serde_json::Value = serde_json::from_str(line.trim()).expect("a JSON line");
        let number = |k: &str| v[k].as_f64().expect(k);
        rows.push(Row {
            size: number("file_bytes") as u64,
            curl_seconds: number("curl_seconds"),
            curl_sync_seconds: number("curl_then_sync_seconds"),
            disk_seconds: number("disk_write_fsync_seconds"),
            recording_bytes: number("recording_bytes") as u64,
            zoomvault_seconds: number("zoomvault_seconds"),
            idle_rss_kib: number("idle_rss_kib") as u64,
            peak_rss_kib: number("peak_rss_kib") as u64,
            batch_tasks: number("batch_tasks") as usize,
        });
    }
    println!();
    print_table(&rows);
}

fn print_table(rows: &[Row]) {
    println!("| big file | curl -o MB/s | curl -o + sync MB/s | memory to disk, then fdatasync MB/s | zoomvault ingest MB/s (whole recording, fsynced) | ratio to curl -o | ratio to curl -o + sync | zoomvault idle RSS | peak RSS | peak above idle | RetrieveBatch tasks |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let curl = r.size as f64 / r.curl_seconds / 1e6;
        let curl_sync = r.size as f64 / r.curl_sync_seconds / 1e6;
        let ours = r.recording_bytes as f64 / r.zoomvault_seconds / 1e6;
        let disk = r.size as f64 / r.disk_seconds / 1e6;
        println!(
            "| {:.1} GiB | {:.0} ({:.2} s) | {:.0} ({:.2} s) | {:.0} ({:.2} s) | {:.0} ({:.2} s, {:.2} GiB) | {:.2}x | {:.2}x | {:.1} MiB | {:.1} MiB | {:.1} MiB | {} |",
            r.size as f64 / GIB as f64,
            curl,
            r.curl_seconds,
            curl_sync,
            r.curl_sync_seconds,
            disk,
            r.disk_seconds,
            ours,
            r.zoomvault_seconds,
            r.recording_bytes as f64 / GIB as f64,
            ours / curl,
            ours / curl_sync,
            r.idle_rss_kib as f64 / 1024.0,
            r.peak_rss_kib as f64 / 1024.0,
            (r.peak_rss_kib.saturating_sub(r.idle_rss_kib)) as f64 / 1024.0,
            r.batch_tasks,
        );
    }
}
