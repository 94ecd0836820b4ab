//! How long the scan for missed meetings takes over a big account, and in
//! how much memory: `cargo bench -p zoomvault --bench scan [-- USERS
//! [LATENCY_MS]]` (default 1,000 users, Zoom-like latency 100 ms).
//!
//! The account is the Zoom simulator's: USERS users, each with two cloud
//! recordings in the last 90 days. Half of the recordings are in the
//! index (archived), the other half not. The engine runs behind its Step
//! Functions API with a `zoomvault-ingest` machine that only waits, so a
//! started ingest stays in flight. Each scan runs in a fresh process (the
//! code `zoomvault scan` runs, `operations::scan` through aws-sdk-sfn), so
//! its peak RSS is its own, not the simulator's or the engine's:
//!
//! 1. the first scan: every user listed over 90 days (four month windows
//!    each), the archived half found in the index, the other half started;
//! 2. again: nothing started, the started half found in flight;
//! 3. a dry run with every Zoom request delayed by LATENCY_MS (Zoom's API
//!    is tens to hundreds of milliseconds away), at 4 users at once (the
//!    default) and at 16.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{run_child, status_kib};
use time::OffsetDateTime;
use zoomvault_archive::local::SqliteIndex;
use zoomvault_archive::operations::scan::{scan, ScanOptions};
use zoomvault_archive::ports::{IndexEntry, RecordingIndex};
use zoomvault_zoom::{ZoomClient, ZoomConfig};
use zoomvault_zoom_sim::{FileSpec, MeetingSpec, SimConfig, ZoomSim};

const DAYS: i64 = 90;

/// Child mode: one scan, one JSON line.
fn one(zoom_base: &str, engine_url: &str, index: &Path, concurrency: usize, dry_run: bool) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let sim = SimConfig::default();
        let mut config = ZoomConfig::new(sim.account_id, sim.client_id, sim.client_secret);
        config.api_base = format!("{zoom_base}/v2");
        config.oauth_base = zoom_base.to_string();
        let zoom = ZoomClient::new(config).unwrap();
        let index = SqliteIndex::open(index).unwrap();
        let starter = zoomvault_aws::SfnStarter::new(
            zoomvault::serve::sfn_client(engine_url, None),
            zoomvault_engine::arn::state_machine(zoomvault::embedded::INGEST_STATE_MACHINE),
        );
        let options = ScanOptions {
            dry_run,
            concurrency,
            ..ScanOptions::last_days(OffsetDateTime::now_utc().date(), DAYS)
        };
        let idle = status_kib("VmRSS:");
        let started = Instant::now();
        let report = scan(&zoom, &index, &starter, &options, &|_| {})
            .await
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert!(report.ok(), "{:?}", report.errors);
        println!(
            "{}",
            serde_json::json!({
                "seconds": seconds,
                "users": report.users,
                "recordings": report.recordings,
                "archived": report.archived,
                "in_flight": report.in_flight,
                "started": report.started_count,
                "idle_rss_kib": idle,
                "peak_rss_kib": status_kib("VmHWM:"),
            })
        );
    });
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--bench"))
        .collect();
    if args.first().map(String::as_str) == Some("--one") {
        one(
            &args[1],
            &args[2],
            Path::new(&args[3]),
            args[4].parse().unwrap(),
            args[5] == "dry-run",
        );
        return;
    }
    let users: u64 = args.first().map_or(1_000, |a| a.parse().expect("USERS"));
    let latency_ms: u64 = args.get(1).map_or(100, |a| a.parse().expect("LATENCY_MS"));
    let work = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (sim, engine_url) = runtime.block_on(async {
        let sim = ZoomSim::start(SimConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let index = SqliteIndex::open(work.path().join("index.db")).unwrap();
        let now = OffsetDateTime::now_utc();
        for n in 0..users * 2 {
            let start = now - time::Duration::days((n % 88) as i64 + 1);
            let meeting = sim.add_meeting(MeetingSpec {
                host_email: Some(format!("user{:04}@example.edu", n / 2)),
                start_time: Some(start),
                files: vec![FileSpec::audio(64)],
                ..MeetingSpec::default()
            });
            if n % 2 == 0 {
                let mut document = zoomvault_archive::fixtures::document(n, 1);
                document.meeting.uuid = meeting.uuid;
                document.meeting.id = meeting.id;
                document.meeting.start_time = start;
                index
                    .upsert(IndexEntry::from_document(&document).unwrap())
                    .await
                    .unwrap();
            }
        }
        let engine = zoomvault_engine::Engine::open(
            zoomvault_engine::EngineConfig::new(work.path().join("engine.db")),
            zoomvault_engine::Handlers::new(),
        )
        .unwrap();
        engine
            .create_state_machine(
                zoomvault::embedded::INGEST_STATE_MACHINE,
                r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}}"#,
                None,
            )
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let api = zoomvault_sfn_api::app(engine, zoomvault_sfn_api::ApiConfig::default());
        tokio::spawn(async move { axum::serve(listener, api).await });
        (sim, url)
    });
    eprintln!("{users} users, {} recordings over {DAYS} days", users * 2);

    let index = work.path().join("index.db");
    let mut rows = Vec::new();
    for (run, concurrency, dry_run, delay) in [
        ("first scan: half archived, half started", 4, false, 0),
        ("again: nothing to start", 4, false, 0),
        (
            "dry run, Zoom 100 ms away, 4 users at once",
            4,
            true,
            latency_ms,
        ),
        (
            "dry run, Zoom 100 ms away, 16 users at once",
            16,
            true,
            latency_ms,
        ),
    ] {
        sim.set_delay("/v2/", Duration::from_millis(delay));
        sim.clear_request_log();
        let index = index.to_str().expect("a UTF-8 temporary path").to_owned();
        let v = run_child(
            &[
                "--one".to_owned(),
                sim.base_url(),
                engine_url.clone(),
                index,
                concurrency.to_string(),
                (if dry_run { "dry-run" } else { "start" }).to_owned(),
            ],
            "one scan",
        );
        let requests = sim
            .request_log()
            .iter()
            .filter(|r| r.path.starts_with("/v2/"))
            .count();
        rows.push((run.replace("100", &latency_ms.to_string()), requests, v));
    }
    println!("| scan of {users} users over {DAYS} days | seconds | Zoom requests | recordings | archived | in flight | started | peak RSS | peak above start |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (run, requests, v) in rows {
        let peak = v["peak_rss_kib"].as_u64().unwrap();
        let idle = v["idle_rss_kib"].as_u64().unwrap();
        println!(
            "| {run} | {:.1} | {requests} | {} | {} | {} | {} | {:.1} MiB | {:.1} MiB |",
            v["seconds"].as_f64().unwrap(),
            v["recordings"],
            v["archived"],
            v["in_flight"],
            v["started"],
            peak as f64 / 1024.0,
            peak.saturating_sub(idle) as f64 / 1024.0,
        );
    }
    drop(runtime);
}
