//! The scan for missed meetings against the Zoom simulator over real HTTP,
//! with the SQLite index and `fixtures::RecordingStarter` as the engine:
//! across 90 days, more than 300 users (two pages of users) and one user
//! with more than 300 recordings in a month (two pages of recordings), it
//! starts exactly the recordings that are neither archived, nor in flight,
//! nor ended, nor still processing; a dry run starts nothing; a second
//! run starts nothing; Zoom's 429s are waited out.

mod common;

use std::collections::BTreeSet;

use common::{sim_and_client, TestDir};
use time::macros::{date, datetime};
use time::Duration;
use zoomvault_archive::document::IngestSource;
use zoomvault_archive::fixtures::{self, RecordingStarter};
use zoomvault_archive::local::SqliteIndex;
use zoomvault_archive::operations::scan::{scan, ScanOptions, ScanReport};
use zoomvault_archive::ports::{ExecutionStatus, IndexEntry, RecordingIndex, WorkflowStarter};
use zoomvault_archive::steps::WorkflowStart;
use zoomvault_zoom::ZoomClient;
use zoomvault_zoom_sim::{FileSpec, MeetingSpec, ZoomSim};

const USERS: u64 = 310;
const PROLIFIC: u64 = 320;

fn options(dry_run: bool) -> ScanOptions {
    ScanOptions {
        from: date!(2026 - 09 - 01),
        to: date!(2026 - 11 - 29),
        dry_run,
        concurrency: 8,
    }
}

fn name_of(uuid: &str) -> String {
    WorkflowStart::for_meeting(uuid, IngestSource::Scan)
        .unwrap()
        .name
}

/// The index entry of an archived recording of `uuid`.
fn archived_entry(uuid: &str, meeting_id: u64, start: time::OffsetDateTime) -> IndexEntry {
    let mut document = fixtures::document(meeting_id, 1);
    document.meeting.uuid = uuid.to_owned();
    document.meeting.id = meeting_id;
    document.meeting.start_time = start;
    IndexEntry::from_document(&document).unwrap()
}

async fn run(
    zoom: &ZoomClient,
    index: &dyn RecordingIndex,
    starter: &dyn WorkflowStarter,
    dry_run: bool,
) -> ScanReport {
    let report = scan(zoom, index, starter, &options(dry_run), &|_| {})
        .await
        .expect("scan");
    assert!(report.ok(), "{:?}", report.errors);
    report
}

/// The account: one recording for each of 310 users over the 90 days, 320
/// in October for one more, and three just outside the range.
fn account(sim: &ZoomSim) -> Vec<(String, u64, time::OffsetDateTime)> {
    let mut in_range = Vec::new();
    let add = |email: String, start: time::OffsetDateTime, processing: bool| {
        let meeting = sim.add_meeting(MeetingSpec {
            host_email: Some(email),
            start_time: Some(start),
            files: vec![FileSpec {
                processing,
                ..FileSpec::audio(64)
            }],
            ..MeetingSpec::default()
        });
        (meeting.uuid, meeting.id, start)
    };
    for user in 0..USERS {
        let start = datetime!(2026-09-01 10:00 UTC) + Duration::days((user % 90) as i64);
        in_range.push(add(format!("user{user:03}@example.edu"), start, user == 7));
    }
    for n in 0..PROLIFIC {
        let start = datetime!(2026-10-01 08:00 UTC)
            + Duration::days((n % 20) as i64)
            + Duration::minutes(n as i64);
        in_range.push(add("prolific@example.edu".into(), start, false));
    }
    for start in [
        datetime!(2026-08-31 23:00 UTC),
        datetime!(2026-11-30 00:30 UTC),
        datetime!(2026-12-02 09:00 UTC),
    ] {
        add("user000@example.edu".into(), start, false);
    }
    in_range
}

#[tokio::test]
async fn the_scan_starts_exactly_the_recordings_missing_across_90_days_and_many_pages() {
    let dir = TestDir::new("scan");
    let (sim, zoom) = sim_and_client().await;
    let recordings = account(&sim);
    let index = SqliteIndex::open(dir.path().join("index.db")).unwrap();
    let starter = RecordingStarter::default();

    // Every 10th recording is archived, the next one's ingest is running,
    // one ingest failed, and one recording is still processing in Zoom.
    let mut expected = BTreeSet::new();
    for (i, (uuid, id, start)) in recordings.iter().enumerate() {
        match i % 10 {
            _ if i == 7 => {}
            _ if i == 5 => starter.end(
                &name_of(uuid),
                ExecutionStatus::Failed,
                Some("Ingest.ChecksumMismatch"),
            ),
            0 => {
                index
                    .upsert(archived_entry(uuid, *id, *start))
                    .await
                    .unwrap();
            }
            1 => {
                starter
                    .start(&name_of(uuid), serde_json::json!({}))
                    .await
                    .unwrap();
            }
            _ => {
                expected.insert(uuid.clone());
            }
        }
    }
    let archived = recordings.len().div_ceil(10) as u64;
    let in_flight = (recordings.len() + 8) / 10;
    let before = starter.calls().len();

    let dry = run(&zoom, &index, &starter, true).await;
    assert_eq!(starter.calls().len(), before, "a dry run starts nothing");
    let would: BTreeSet<String> = dry
        .started
        .iter()
        .map(|s| s.recording_uuid.clone())
        .collect();
    assert_eq!(would, expected);

    let report = run(&zoom, &index, &starter, false).await;
    let active = sim.users().iter().filter(|u| u.status == "active").count();
    assert!(active as u64 > USERS + 1);
    assert_eq!(report.users, active as u64, "every active user");
    assert_eq!(report.recordings, recordings.len() as u64);
    assert_eq!(report.archived, archived);
    assert_eq!(report.in_flight, in_flight as u64);
    assert_eq!(report.processing, 1);
    assert_eq!(report.ended_count, 1);
    assert_eq!(report.ended[0].recording_uuid, recordings[5].0);
    assert_eq!(
        report.ended[0].error.as_deref(),
        Some("Ingest.ChecksumMismatch")
    );
    assert_eq!(report.started_count, expected.len() as u64);
    let started: BTreeSet<String> = starter.calls()[before..]
        .iter()
        .map(|(name, input, _)| {
            assert_eq!(input["source"], "scan");
            assert_eq!(name, &name_of(input["meeting_uuid"].as_str().unwrap()));
            input["meeting_uuid"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(started, expected, "exactly the missing ones, each once");
    assert_eq!(starter.calls().len() - before, expected.len());
    assert_eq!(dry.started, report.started, "the dry run named the same");

    // Both listings had to follow Zoom's pages.
    let log = sim.request_log();
    let paged = |path: &dyn Fn(&str) -> bool| {
        log.iter().any(|r| {
            path(&r.path)
                && r.query.as_deref().is_some_and(|q| {
                    q.contains("next_page_token=") && !q.contains("next_page_token=&")
                })
        })
    };
    assert!(paged(&|p| p == "/v2/users"), "users came in pages");
    assert!(
        paged(&|p| p.ends_with("/recordings")),
        "recordings came in pages"
    );

    let again = run(&zoom, &index, &starter, false).await;
    assert_eq!(again.started_count, 0, "{:?}", again.started);
    assert_eq!(again.in_flight, in_flight as u64 + expected.len() as u64);
    assert_eq!(starter.started().len(), in_flight + expected.len());
}

#[tokio::test]
async fn rate_limits_are_waited_out() {
    let (sim, zoom) = sim_and_client().await;
    for user in 0..3 {
        sim.add_meeting(MeetingSpec {
            host_email: Some(format!("user{user}@example.edu")),
            start_time: Some(datetime!(2026-11-02 10:00 UTC)),
            files: vec![FileSpec::audio(64)],
            ..MeetingSpec::default()
        });
    }
    let dir = TestDir::new("scan-429");
    let index = SqliteIndex::open(dir.path().join("index.db")).unwrap();
    let starter = RecordingStarter::default();
    // Two recordings listings answered 429 with Retry-After, and a page
    // of users too.
    sim.fail_next("/v2/users", 429, 1, Some(std::time::Duration::from_secs(1)));
    sim.fail_next(
        "/v2/users/",
        429,
        2,
        Some(std::time::Duration::from_secs(1)),
    );
    let report = scan(
        &zoom,
        &index,
        &starter,
        &ScanOptions {
            from: date!(2026 - 11 - 01),
            to: date!(2026 - 11 - 30),
            dry_run: false,
            concurrency: 1,
        },
        &|_| {},
    )
    .await
    .unwrap();
    assert!(report.ok(), "{:?}", report.errors);
    assert_eq!(report.started_count, 3);
    let limited = sim.request_log().iter().filter(|r| r.status == 429).count();
    assert_eq!(limited, 3, "each refusal was retried, not skipped");
}

#[test]
fn the_range_defaults_to_the_last_month_and_must_be_in_order() {
    let today = date!(2026 - 12 - 06);
    let options = ScanOptions::between(None, None, today).unwrap();
    assert_eq!((options.from, options.to), (date!(2026 - 11 - 07), today));
    let options = ScanOptions::between(Some(date!(2026 - 09 - 01)), None, today).unwrap();
    assert_eq!(options.from, date!(2026 - 09 - 01));
    let e = ScanOptions::between(Some(today), Some(date!(2026 - 12 - 01)), today).unwrap_err();
    assert_eq!(
        e.to_string(),
        "scan range: from 2026-12-06 is after to 2026-12-01"
    );
}
