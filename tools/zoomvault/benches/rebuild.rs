//! How long a rebuild of the index from the store takes, and in how much
//! memory: `cargo bench -p zoomvault --bench rebuild [-- DOCUMENTS [DAYS]]`
//! (default 100,000 documents over 365 days).
//!
//! The store is the embedded default's directory store, filled through
//! `ObjectStore::put` with generated documents (`archive::fixtures`), one
//! `recording.json` per recording (the rebuild reads only documents; a
//! real archive also holds each recording's files and metadata, which a
//! day's listing returns too). Then, each in a fresh process running the
//! code `zoomvault rebuild` runs (`zoomvault::ops::rebuild`):
//!
//! 1. with the index deleted: every document read, validated and written;
//! 2. again: every document read and validated, nothing written.
//!
//! Time is wall-clock for the whole rebuild; memory is the process's peak
//! RSS (`VmHWM`) against its RSS once the archive is open (`VmRSS`).

mod support;

use std::path::Path;
use std::time::Instant;

use futures_util::StreamExt;
use zoomvault::ops::Archive;
use zoomvault::serve::StoreSetting;
use zoomvault_archive::fixtures;
use zoomvault_archive::local::DirObjectStore;

use support::{run_child, status_kib};

/// Child mode: one rebuild of `data`, one JSON line.
fn one(data: &Path) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let archive = Archive::open(data, &StoreSetting::Directory).await.unwrap();
        let idle = status_kib("VmRSS:");
        let started = Instant::now();
        let report = zoomvault::ops::rebuild(&archive, true).await.unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert!(report.complete && report.invalid_count == 0, "{report:?}");
        println!(
            "{}",
            serde_json::json!({
                "seconds": seconds,
                "found": report.found,
                "written": report.written,
                "unchanged": report.unchanged,
                "days": report.days,
                "idle_rss_kib": idle,
                "peak_rss_kib": status_kib("VmHWM:"),
            })
        );
    });
}

fn generate(data: &Path, documents: u64, days: u64) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = DirObjectStore::open(data.join("store")).unwrap();
        let store = &store;
        let started = Instant::now();
        futures_util::stream::iter(0..documents)
            .map(|n| async move {
                fixtures::store_document(store, n, days).await.unwrap();
            })
            .buffer_unordered(32)
            .collect::<Vec<()>>()
            .await;
        eprintln!(
            "stored {documents} documents over {days} days in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    });
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--bench"))
        .collect();
    if args.first().map(String::as_str) == Some("--one") {
        one(Path::new(&args[1]));
        return;
    }
    let documents: u64 = args
        .first()
        .map_or(100_000, |a| a.parse().expect("DOCUMENTS"));
    let days: u64 = args.get(1).map_or(365, |a| a.parse().expect("DAYS"));
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    generate(&data, documents, days);

    let mut rows = Vec::new();
    for run in ["index deleted", "again, nothing to write"] {
        if run == "index deleted" {
            for file in ["index.db", "index.db-wal", "index.db-shm"] {
                let _ = std::fs::remove_file(data.join(file));
            }
        }
        let v = run_child(&["--one", data.to_str().unwrap()], "one rebuild");
        rows.push((run, v));
    }
    println!("| rebuild of {documents} documents over {days} days | seconds | documents/s | written | unchanged | peak RSS | peak above open |");
    println!("|---|---|---|---|---|---|---|");
    for (run, v) in rows {
        let seconds = v["seconds"].as_f64().unwrap();
        let peak = v["peak_rss_kib"].as_u64().unwrap();
        let idle = v["idle_rss_kib"].as_u64().unwrap();
        println!(
            "| {run} | {seconds:.1} | {:.0} | {} | {} | {:.1} MiB | {:.1} MiB |",
            v["found"].as_u64().unwrap() as f64 / seconds,
            v["written"],
            v["unchanged"],
            peak as f64 / 1024.0,
            peak.saturating_sub(idle) as f64 / 1024.0,
        );
    }
}
