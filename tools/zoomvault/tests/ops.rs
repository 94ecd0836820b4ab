//! The operators' commands as a user runs them: the `zoomvault` binary on
//! a data directory, its exit codes, its summary on stdout and its errors.

mod support;

use bytes::Bytes;
use std::path::Path;
use std::process::{Command, Output};
use support::{serve_process, zoom_env, ServeProcess};
use zoomvault_archive::fixtures;
use zoomvault_archive::local::{DirObjectStore, SqliteIndex};
use zoomvault_archive::ports::{IndexEntry, ListQuery, ObjectStore, RecordingIndex};
use zoomvault_archive::RecordingKeys;

fn zoomvault(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args(args)
        .env_remove("ZOOMVAULT_DATA_DIR")
        .env_remove("ZOOMVAULT_STORE")
        .output()
        .expect("running zoomvault")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A data directory whose store holds `count` documents and whose index
/// lists them, as ingests leave it.
async fn archive_with(data: &Path, count: u64) {
    let store = DirObjectStore::open(data.join("store")).unwrap();
    let index = SqliteIndex::open(data.join("index.db")).unwrap();
    for n in 0..count {
        let entry = fixtures::store_document(&store, n, 5).await.unwrap();
        index.upsert(entry).await.unwrap();
    }
}

async fn entries(data: &Path) -> Vec<IndexEntry> {
    let index = SqliteIndex::open(data.join("index.db")).unwrap();
    index
        .list(ListQuery {
            limit: 1000,
            ..ListQuery::default()
        })
        .await
        .unwrap()
        .entries
}

#[tokio::test]
async fn rebuild_restores_a_deleted_index_and_a_second_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    archive_with(&data, 25).await;
    let before = entries(&data).await;
    assert_eq!(before.len(), 25);
    for file in ["index.db", "index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(data.join(file));
    }

    let data_arg = data.to_str().unwrap();
    let run = zoomvault(&["rebuild", "--data-dir", data_arg]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let out = text(&run.stdout);
    assert!(
        out.contains("rebuild complete: 5 days, 25 documents found, 25 written, 0 unchanged"),
        "{out}"
    );
    assert_eq!(entries(&data).await, before, "the index as it was");

    let again = zoomvault(&["rebuild", "--data-dir", data_arg]);
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains("25 documents found, 0 written, 25 unchanged"),
        "{}",
        text(&again.stdout)
    );
    // Not a terminal: progress is plain lines on stderr, ending at the
    // last day.
    assert!(
        text(&again.stderr).contains("rebuild: 5/5 days, 25 documents"),
        "{}",
        text(&again.stderr)
    );
}

#[tokio::test]
async fn an_invalid_document_is_named_and_the_exit_code_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    archive_with(&data, 3).await;
    let store = DirObjectStore::open(data.join("store")).unwrap();
    let document = fixtures::document(99, 5);
    let key = RecordingKeys::for_document(&document).unwrap().document();
    store
        .put(&key, Bytes::from_static(b"[]"), "application/json")
        .await
        .unwrap();

    let run = zoomvault(&["rebuild", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    let out = text(&run.stdout);
    assert!(out.contains("4 documents found"), "{out}");
    assert!(out.contains(&format!("invalid: {key}: ")), "{out}");
    assert_eq!(entries(&data).await.len(), 3);
}

#[test]
fn a_missing_data_directory_and_a_bad_flag_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let run = zoomvault(&["rebuild", "--data-dir", missing.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    let err = text(&run.stderr);
    assert!(
        err.contains("no data directory at") && err.contains("nowhere"),
        "{err}"
    );
    assert!(!missing.exists(), "nothing is created");

    let usage = zoomvault(&["rebuild", "--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(2), "usage errors exit 2");

    let store = zoomvault(&[
        "rebuild",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--store",
        "/var/archive",
    ]);
    assert_eq!(store.status.code(), Some(1));
    assert!(
        text(&store.stderr).contains("\"/var/archive\""),
        "{}",
        text(&store.stderr)
    );
}

/// A Zoom simulator on a free loopback port, in this test's runtime.
async fn simulator() -> zoomvault_zoom_sim::ZoomSim {
    zoomvault_zoom_sim::ZoomSim::start(
        zoomvault_zoom_sim::SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

fn start_serve(data: &Path, sim: &zoomvault_zoom_sim::ZoomSim) -> ServeProcess {
    start_serve_with(data, sim, &[("ZOOMVAULT_SCAN_EVERY", "off")])
}

/// `serve` with settings of its own in the environment (no scheduled scan
/// unless they ask for one).
fn start_serve_with(
    data: &Path,
    sim: &zoomvault_zoom_sim::ZoomSim,
    settings: &[(&'static str, &str)],
) -> ServeProcess {
    let mut env = zoom_env(sim);
    env.extend(settings.iter().map(|&(k, v)| (k, v.to_string())));
    serve_process(data, env)
}

fn ingest(serve: &ServeProcess, sim: &zoomvault_zoom_sim::ZoomSim, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .arg("ingest")
        .args(args)
        .args(["--endpoint", &serve.url])
        .envs(zoom_env(sim))
        .output()
        .expect("running zoomvault ingest")
}

// The simulator serves from the runtime's workers while this test blocks
// on the commands it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_by_meeting_number_archives_once_and_force_ingests_again() {
    let sim = simulator().await;
    let meeting = sim.demo_meeting();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = start_serve(&data, &sim);

    let id = meeting.id.to_string();
    let first = ingest(&serve, &sim, &[&id, "--wait"]);
    let out = text(&first.stdout);
    assert!(first.status.success(), "{out}\n{}", text(&first.stderr));
    assert!(out.contains(&format!("started: {}", meeting.uuid)), "{out}");
    assert!(out.contains("succeeded: arn:"), "{out}");
    assert_eq!(
        sim.trashed(),
        vec![meeting.uuid.clone()],
        "Finalize trashed it"
    );
    let documents = || {
        let store = DirObjectStore::open(data.join("store")).unwrap();
        async move {
            store
                .list("recordings/")
                .await
                .unwrap()
                .into_iter()
                .filter(|o| o.key.ends_with("/recording.json"))
                .count()
        }
    };
    assert_eq!(documents().await, 1);

    // By UUID, the same recording: the same execution, nothing new. Logs
    // as JSON lines, at the level RUST_LOG asks for.
    let again = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args(["--log-format", "json", "ingest", &meeting.uuid])
        .args(["--endpoint", &serve.url])
        .envs(zoom_env(&sim))
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let logged: Vec<serde_json::Value> = text(&again.stderr)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        logged
            .iter()
            .any(|l| l["level"] == "INFO" && l["fields"]["message"] == "manual ingest"),
        "{logged:?}"
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("already started (archived or in flight)"),
        "{}",
        text(&again.stdout)
    );

    // A legal hold placed on the archived copy...
    let archived_entry = entries(&data).await.remove(0);
    hold(&data, &archived_entry, dir.path()).await;

    // Forced: recovered from Zoom's trash, ingested again under a new
    // name, still one document, and still held.
    let forced = ingest(&serve, &sim, &[&meeting.uuid, "--force", "--wait"]);
    let out = text(&forced.stdout);
    assert!(forced.status.success(), "{out}\n{}", text(&forced.stderr));
    assert!(out.contains(".r"), "a forced execution's name: {out}");
    assert!(out.contains("succeeded: arn:"), "{out}");
    assert_eq!(documents().await, 1);
    assert_eq!(sim.trashed(), vec![meeting.uuid.clone()]);
    let store = DirObjectStore::open(data.join("store")).unwrap();
    let document: serde_json::Value =
        serde_json::from_slice(&store.get(&archived_entry.document_key).await.unwrap()).unwrap();
    assert_eq!(document["legal_hold"]["reason"], "Records request 2026-114");
    assert_ne!(
        entries(&data).await[0].ingested_at,
        archived_entry.ingested_at,
        "the document is the new ingest's"
    );

    // A meeting number Zoom does not know: the cause, and exit code 1.
    let unknown = ingest(&serve, &sim, &["999 999 9999"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("Zoom.NotFound"),
        "{}",
        text(&unknown.stderr)
    );
}

fn scan(
    serve: &ServeProcess,
    sim: &zoomvault_zoom_sim::ZoomSim,
    data: &Path,
    args: &[&str],
) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .arg("scan")
        .args(args)
        .args(["--endpoint", &serve.url])
        .arg("--data-dir")
        .arg(data)
        .envs(zoom_env(sim))
        .output()
        .expect("running zoomvault scan")
}

/// Waits until the index lists every one of `uuids` (their ingests done).
async fn archived(data: &Path, uuids: &[String]) {
    let index = SqliteIndex::open(data.join("index.db")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    for uuid in uuids {
        while index.get(uuid).await.unwrap().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "{uuid} was not archived"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Three recordings of the last days, by three users.
fn missed_meetings(sim: &zoomvault_zoom_sim::ZoomSim) -> Vec<String> {
    (0..3)
        .map(|n| {
            sim.add_meeting(zoomvault_zoom_sim::MeetingSpec {
                host_email: Some(format!("lecturer{n}@example.edu")),
                topic: format!("Missed lecture {n}"),
                files: vec![zoomvault_zoom_sim::FileSpec::audio(2048)],
                ..zoomvault_zoom_sim::MeetingSpec::default()
            })
            .uuid
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_starts_the_missed_recordings_once_and_a_dry_run_starts_nothing() {
    let sim = simulator().await;
    let missed = missed_meetings(&sim);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = start_serve(&data, &sim);
    // One came through by hand already.
    let first = ingest(&serve, &sim, &[&missed[0], "--wait"]);
    assert!(first.status.success(), "{}", text(&first.stderr));

    let dry = scan(&serve, &sim, &data, &["--dry-run"]);
    let out = text(&dry.stdout);
    assert!(dry.status.success(), "{out}\n{}", text(&dry.stderr));
    for uuid in &missed[1..] {
        assert!(out.contains(&format!("would start: {uuid} ")), "{out}");
    }
    assert!(
        out.contains("(dry run)") && out.contains("2 would be started"),
        "{out}"
    );
    assert!(
        text(&dry.stderr).contains("scan: "),
        "progress lines: {}",
        text(&dry.stderr)
    );
    assert_eq!(entries(&data).await.len(), 1, "a dry run starts nothing");

    let real = scan(&serve, &sim, &data, &[]);
    let out = text(&real.stdout);
    assert!(real.status.success(), "{out}\n{}", text(&real.stderr));
    assert!(out.contains("2 started"), "{out}");
    archived(&data, &missed).await;

    // Archived and trashed in Zoom: nothing left to start.
    let again = scan(&serve, &sim, &data, &["--days", "7"]);
    let out = text(&again.stdout);
    assert!(again.status.success(), "{out}");
    assert!(out.contains(": 0 started"), "{out}");
    assert_eq!(entries(&data).await.len(), 3);

    // Without Zoom's credentials it cannot scan, and says so.
    let bare = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args(["scan", "--endpoint", &serve.url, "--data-dir"])
        .arg(&data)
        .env_remove("ZOOM_ACCOUNT_ID")
        .env_remove("ZOOM_CLIENT_ID")
        .env_remove("ZOOM_CLIENT_SECRET")
        .output()
        .unwrap();
    assert_eq!(bare.status.code(), Some(1));
    assert!(
        text(&bare.stderr).contains("set ZOOM_ACCOUNT_ID"),
        "{}",
        text(&bare.stderr)
    );
    let usage = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args(["scan", "--from", "2026-11-01", "--days", "3"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2), "--from and --days conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_the_scan_on_its_schedule_and_remembers_the_run() {
    let sim = simulator().await;
    let missed = missed_meetings(&sim);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _serve = start_serve_with(&data, &sim, &[("ZOOMVAULT_SCAN_EVERY", "1s")]);
    archived(&data, &missed).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let record = loop {
        if let Ok(text) = std::fs::read_to_string(data.join("schedule.json")) {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "no schedule record");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let record: serde_json::Value = serde_json::from_str(&record).unwrap();
    assert!(record["scan"].as_i64().is_some(), "{record}");
}

fn status(serve: &ServeProcess, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .arg("status")
        .args(args)
        .args(["--endpoint", &serve.url])
        .output()
        .expect("running zoomvault status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_follows_a_recording_from_retrieving_to_archived_and_names_a_failure() {
    let sim = simulator().await;
    let meeting = sim.demo_meeting();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = start_serve(&data, &sim);

    // Zoom's file server slowed down: the ingest is caught retrieving.
    sim.set_delay("/cdn/", std::time::Duration::from_millis(1500));
    sim.set_delay("/rec/", std::time::Duration::from_millis(1500));
    let started = ingest(&serve, &sim, &[&meeting.uuid]);
    assert!(started.status.success(), "{}", text(&started.stderr));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = text(&status(&serve, &[&meeting.uuid]).stdout);
        if out.contains(" retrieving ") {
            assert!(out.contains(" of ") && out.contains(" files)"), "{out}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never seen retrieving: {out}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    sim.set_delay("/cdn/", std::time::Duration::ZERO);
    sim.set_delay("/rec/", std::time::Duration::ZERO);
    archived(&data, std::slice::from_ref(&meeting.uuid)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let out = loop {
        let out = text(&status(&serve, &[&meeting.uuid]).stdout);
        if out.contains(" archived ") {
            break out;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never archived: {out}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(
        out.contains(&format!("{} files", meeting.files.len())),
        "{out}"
    );
    assert!(out.contains("Zoom's copy in the trash"), "{out}");
    assert!(out.contains("journal: "), "{out}");

    // A recording Zoom does not have: its ingest fails, with the cause.
    let bogus = "bm90IGEgcmVjb3JkaW5n==";
    let failed = ingest(&serve, &sim, &[bogus, "--wait"]);
    assert_eq!(failed.status.code(), Some(1));
    let out = text(&status(&serve, &[bogus]).stdout);
    assert!(out.contains(" failed: Zoom.NotFound"), "{out}");

    // The last day, as JSON: both.
    let json = status(&serve, &["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let states: Vec<(&str, &str)> = report["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["recording_uuid"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        states.contains(&(meeting.uuid.as_str(), "archived")),
        "{states:?}"
    );
    assert!(states.contains(&(bogus, "failed")), "{states:?}");
    assert!(report["journal"]["database_bytes"].as_u64().unwrap() > 0);

    // Asked about what it does not know, or asked wrongly: exit 1, why.
    let unknown = status(&serve, &["bm8gc3VjaA=="]);
    assert_eq!(unknown.status.code(), Some(1));
    let bad = status(&serve, &["--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("since must be a duration"),
        "{}",
        text(&bad.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_purges_on_its_schedule_when_a_rule_can_purge() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = DirObjectStore::open(data.join("store")).unwrap();
        let index = SqliteIndex::open(data.join("index.db")).unwrap();
        for n in 0..2 {
            let entry = fixtures::store_archived(&store, n, 2).await.unwrap();
            index.upsert(entry).await.unwrap();
        }
    }
    let _serve = start_serve_with(
        &data,
        &sim,
        &[
            ("ZOOMVAULT_SCAN_EVERY", "off"),
            ("ZOOMVAULT_RETENTION_DAYS", "365"),
            ("ZOOMVAULT_PURGE_EVERY", "1s"),
        ],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while objects(&data, "dispositions/").await.len() < 2 {
        assert!(std::time::Instant::now() < deadline, "not purged");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !std::fs::read_to_string(data.join("schedule.json")).is_ok_and(|t| t.contains("purge")) {
        assert!(std::time::Instant::now() < deadline, "no schedule record");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(entries(&data).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_names_a_skipped_recording_and_a_meetings_archived_instances() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Meetings shorter than an hour are not archived.
    let serve = start_serve_with(
        &data,
        &sim,
        &[
            ("ZOOMVAULT_SCAN_EVERY", "off"),
            ("ZOOMVAULT_MIN_DURATION_MINUTES", "60"),
        ],
    );
    let short = sim.demo_meeting();
    let long = sim.add_meeting(zoomvault_zoom_sim::MeetingSpec {
        duration_minutes: 90,
        files: vec![zoomvault_zoom_sim::FileSpec::audio(2048)],
        ..zoomvault_zoom_sim::MeetingSpec::default()
    });
    for uuid in [&short.uuid, &long.uuid] {
        let run = ingest(&serve, &sim, &[uuid, "--wait"]);
        assert!(run.status.success(), "{}", text(&run.stderr));
    }
    let out = text(&status(&serve, &[&short.uuid]).stdout);
    assert!(
        out.contains(" skipped ") && out.contains("under the configured minimum of 60 min"),
        "{out}"
    );
    let by_meeting = status(&serve, &["--meeting", &long.id.to_string()]);
    let out = text(&by_meeting.stdout);
    assert!(by_meeting.status.success(), "{}", text(&by_meeting.stderr));
    assert_eq!(
        out.lines().filter(|l| l.contains(" archived ")).count(),
        1,
        "{out}"
    );
    assert!(out.contains(&long.uuid), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_cleanly_on_sigterm() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let mut serve = start_serve(&dir.path().join("data"), &sim);
    let killed = Command::new("kill")
        .args(["-TERM", &serve.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve is still running 30 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "a clean stop exits 0, not {status:?}");
}

/// Every object under `prefix` in the data directory's store.
async fn objects(data: &Path, prefix: &str) -> Vec<String> {
    let store = DirObjectStore::open(data.join("store")).unwrap();
    let mut keys: Vec<String> = store
        .list(prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    keys.sort();
    keys
}

/// Places a legal hold on `entry`'s recording through `zoomvault reindex`.
async fn hold(data: &Path, entry: &IndexEntry, dir: &Path) {
    let store = DirObjectStore::open(data.join("store")).unwrap();
    let mut document: serde_json::Value =
        serde_json::from_slice(&store.get(&entry.document_key).await.unwrap()).unwrap();
    document["legal_hold"] = serde_json::json!({
        "reason": "Records request 2026-114",
        "placed_by": "records@example.edu"
    });
    let file = dir.join("held.json");
    std::fs::write(&file, serde_json::to_vec(&document).unwrap()).unwrap();
    let run = zoomvault(&[
        "reindex",
        file.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
}

#[tokio::test]
async fn purge_keeps_held_recordings_and_records_every_disposition_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = DirObjectStore::open(data.join("store")).unwrap();
        let index = SqliteIndex::open(data.join("index.db")).unwrap();
        for n in 0..4 {
            let entry = fixtures::store_archived(&store, n, 4).await.unwrap();
            index.upsert(entry).await.unwrap();
        }
    }
    let held = entries(&data).await.remove(0);
    hold(&data, &held, dir.path()).await;
    let data_arg = data.to_str().unwrap();
    let before = objects(&data, "").await;

    // No rule: nothing to do, and it says so.
    let none = zoomvault(&["purge", "--data-dir", data_arg]);
    assert!(none.status.success());
    assert!(
        text(&none.stdout).contains("nothing to do"),
        "{}",
        text(&none.stdout)
    );

    // The fixtures are from 2024: a year's retention makes them all due.
    let dry = zoomvault(&[
        "purge",
        "--retention-days",
        "365",
        "--dry-run",
        "--data-dir",
        data_arg,
    ]);
    let out = text(&dry.stdout);
    assert!(dry.status.success(), "{out}\n{}", text(&dry.stderr));
    assert_eq!(out.matches("would purge: ").count(), 3, "{out}");
    assert!(
        out.contains(&format!("held: {}", held.recording_uuid)),
        "{out}"
    );
    assert!(out.contains("Records request 2026-114"), "{out}");
    assert_eq!(
        objects(&data, "").await,
        before,
        "a dry run changes nothing"
    );

    let real = zoomvault(&["purge", "--retention-days", "365", "--data-dir", data_arg]);
    let out = text(&real.stdout);
    assert!(real.status.success(), "{out}\n{}", text(&real.stderr));
    assert_eq!(out.matches("purged: ").count(), 3, "{out}");
    let left = entries(&data).await;
    assert_eq!(left.len(), 1);
    assert_eq!(
        left[0].recording_uuid, held.recording_uuid,
        "the held one survives"
    );
    let records = objects(&data, "dispositions/").await;
    assert_eq!(
        records.len(),
        3,
        "one record for each purged recording: {records:?}"
    );
    let recordings = objects(&data, "recordings/").await;
    let held_prefix = held.document_key.trim_end_matches("recording.json");
    assert!(
        recordings.iter().all(|k| k.starts_with(held_prefix)),
        "only the held recording's objects are left: {recordings:?}"
    );

    // Again: nothing more to purge, nothing written.
    let again = zoomvault(&["purge", "--retention-days", "365", "--data-dir", data_arg]);
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains(" 0 purged"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(objects(&data, "dispositions/").await, records);

    // A rule that is no rule: exit 1, naming it.
    let bad = zoomvault(&["purge", "--retention-host", "dean", "--data-dir", data_arg]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("\"dean\" is not EMAIL=DAYS"),
        "{}",
        text(&bad.stderr)
    );
}

#[tokio::test]
async fn reindex_from_a_file_and_through_the_editor() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    archive_with(&data, 2).await;
    let entry = entries(&data).await.remove(0);
    let store = DirObjectStore::open(data.join("store")).unwrap();
    let current: serde_json::Value =
        serde_json::from_slice(&store.get(&entry.document_key).await.unwrap()).unwrap();
    let data_arg = data.to_str().unwrap();

    // A file with a new title: reindexed.
    let mut edited = current.clone();
    edited["meeting"]["topic"] = serde_json::json!("Renamed by hand");
    let file = dir.path().join("edited.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&edited).unwrap()).unwrap();
    let run = zoomvault(&["reindex", file.to_str().unwrap(), "--data-dir", data_arg]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("/meeting/topic"),
        "{}",
        text(&run.stdout)
    );
    let topics: Vec<String> = entries(&data).await.into_iter().map(|e| e.topic).collect();
    assert!(
        topics.contains(&"Renamed by hand".to_string()),
        "{topics:?}"
    );
    // Again: unchanged.
    let again = zoomvault(&["reindex", file.to_str().unwrap(), "--data-dir", data_arg]);
    assert!(
        text(&again.stdout).starts_with("unchanged"),
        "{}",
        text(&again.stdout)
    );

    // An invalid edit: exit 1, the pointer named, nothing changed.
    edited["meeting"]["duration_minutes"] = serde_json::json!("long");
    std::fs::write(&file, serde_json::to_vec(&edited).unwrap()).unwrap();
    let bad = zoomvault(&["reindex", file.to_str().unwrap(), "--data-dir", data_arg]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("/meeting/duration_minutes"),
        "{}",
        text(&bad.stderr)
    );

    // --edit: the editor (a script here) changes the title in place.
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/Renamed by hand/Edited in the editor/' \"$1\"\n",
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&editor)
        .status()
        .unwrap();
    let edit = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args([
            "reindex",
            "--edit",
            &entry.recording_uuid,
            "--data-dir",
            data_arg,
        ])
        .env("EDITOR", &editor)
        .env_remove("VISUAL")
        .output()
        .unwrap();
    assert!(edit.status.success(), "{}", text(&edit.stderr));
    let topics: Vec<String> = entries(&data).await.into_iter().map(|e| e.topic).collect();
    assert!(
        topics.contains(&"Edited in the editor".to_string()),
        "{topics:?}"
    );
}
