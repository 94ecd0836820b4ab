//! The fault matrix (issue 14, point 3): the whole ingest, from Zoom's
//! signed webhook through `serve`'s app and the embedded engine to the
//! directory store, under each fault the simulator can inject, one row
//! each. Every row ends in one of two ways, and the row says which: the
//! recording archived with every file byte-identical and the Zoom copy
//! trashed exactly once, or the execution FAILED with the error name and
//! cause the row expects, the Zoom copy untouched. Either way the store
//! must hold no short or corrupt file and no metadata vouching for one.
//!
//! The webhook is delivered without its `download_token`, so every download
//! uses the OAuth access token, as the workflow will once it no longer
//! reads the webhook's token. Faults that heal (a reset, a body that ends
//! early) spoil only their first responses, so the rows run without the
//! test stepping in; the client retries quickly, and the state machine's
//! own Retry (2 s, full jitter) takes over when a task fails.

mod support;

use std::time::{Duration, Instant};

use support::{check_archived, failed_tasks, files_under, start, Harness, HarnessConfig};
use zoomvault_archive::keys::RecordingKeys;
use zoomvault_archive::ports::RecordingIndex;
use zoomvault_archive::steps::{IngestConfig, RetrievedFile};
use zoomvault_engine::store::ExecutionRow;
use zoomvault_engine::Status;
use zoomvault_zoom::RetryPolicy;
use zoomvault_zoom_sim::{
    DemoSizes, FileFault, RecordingState, SimConfig, SimMeeting, WebhookOptions, ZoomSim,
};

const MIB: u64 = 1024 * 1024;

// The recording every row ingests is the simulator's demo (two videos, an
// audio file, a transcript, a chat and a TIMELINE without a size), sized so
// that each way of retrieving a file is taken once, in parts of 5 MiB and
// at most 10 MiB per invocation:

/// 10 MiB + 123 bytes: fanned out, RetrieveParts for parts 1-2 and for part 3.
const BIG_VIDEO: usize = 0;
const BIG_VIDEO_BYTES: u64 = 10 * MIB + 123;
/// 5 MiB + 45 bytes: RetrieveFile, two ranged GETs.
const VIDEO: usize = 1;
const VIDEO_BYTES: u64 = 5 * MIB + 45;
/// 1 MiB + 6 bytes: RetrieveFile, one GET.
const AUDIO: usize = 2;
const AUDIO_BYTES: u64 = MIB + 6;
/// No announced size: RetrieveFile, one streamed GET.
const TIMELINE: usize = 5;

/// One fault, as the row injects it.
enum Fault {
    /// The next `count` requests under `path_prefix` answer `status`, with
    /// `Retry-After: retry_after_secs` when given.
    Status {
        path_prefix: &'static str,
        status: u16,
        count: u32,
        retry_after_secs: Option<u64>,
    },
    /// Every body under `path_prefix` trickles at `bytes_per_second`.
    SlowBody {
        path_prefix: &'static str,
        bytes_per_second: u64,
    },
    /// A fault on one file of the recording.
    File(usize, FileFault),
    /// The CDN answers every ranged GET with the whole file.
    RangeIgnored,
    /// Every OAuth access token expires once the first download has been
    /// answered, while others wait to be (each download URL answers after
    /// 300 ms).
    AccessTokensExpireMidDownload,
    /// The file's download URL redirects to a second simulator on
    /// 127.0.0.2, a host the download allowlist does not cover.
    RedirectToAnotherHost(usize),
}

/// How the row's ingest must end.
enum Expected {
    Archived,
    Failed {
        error: &'static str,
        /// A piece of the cause.
        cause: String,
    },
}

fn config() -> HarnessConfig {
    HarnessConfig {
        sim: SimConfig {
            demo: DemoSizes {
                video_segment_1: BIG_VIDEO_BYTES,
                video_segment_2: VIDEO_BYTES,
                audio: AUDIO_BYTES,
            },
            ..SimConfig::default()
        },
        ingest: IngestConfig {
            part_size: 5 * MIB,
            invocation_bytes: 10 * MIB,
            ..IngestConfig::default()
        },
        api_key: None,
        // Quick retries in the client, so 5xx rows take milliseconds; a
        // Retry-After is honoured whatever this says.
        zoom_retry: RetryPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            ..RetryPolicy::default()
        },
        data_dir: None,
    }
}

/// Runs one row: injects `fault`, delivers the webhook, waits for the
/// ingest and checks it ended as `expected`, with the store holding only
/// whole files.
async fn check(fault: Fault, expected: Expected) {
    check_with(config(), fault, expected).await;
}

/// `check` with a harness of its own configuration.
async fn check_with(config: HarnessConfig, fault: Fault, expected: Expected) {
    let h = start(config).await;
    let meeting = h.sim.demo_meeting();
    assert_eq!(meeting.files[BIG_VIDEO].size, BIG_VIDEO_BYTES);
    assert_eq!(meeting.files[TIMELINE].file_type, "TIMELINE");
    let elsewhere = inject(&h, &meeting, &fault).await;

    let started = Instant::now();
    let arn = deliver_without_download_token(&h, &meeting).await;
    let expired_at_log_entry = match fault {
        Fault::AccessTokensExpireMidDownload => Some(expire_tokens_mid_download(&h).await),
        _ => None,
    };
    let row = tokio::time::timeout(Duration::from_secs(90), h.embedded.engine.wait_for(&arn))
        .await
        .unwrap_or_else(|_| panic!("the ingest did not end: {:?}", failed_tasks(&h, &arn)))
        .unwrap();
    let took = started.elapsed();

    match expected {
        Expected::Archived => check_archived_once(&h, &meeting, &row).await,
        Expected::Failed { error, cause } => {
            check_failed_untouched(&h, &meeting, &row, error, &cause).await
        }
    }
    check_store_holds_only_whole_files(&h, &meeting);

    // What the row's fault must have done on the way.
    let log = h.sim.request_log();
    match fault {
        Fault::Status {
            path_prefix,
            status,
            count,
            ..
        } => {
            let answered = log
                .iter()
                .filter(|r| r.path.starts_with(path_prefix) && r.status == status)
                .count();
            assert_eq!(answered, count as usize, "every injected {status} was met");
        }
        Fault::SlowBody { .. } => {
            assert!(took >= Duration::from_secs(1), "slow bodies took {took:?}");
        }
        Fault::AccessTokensExpireMidDownload => {
            let after = &log[expired_at_log_entry.unwrap_or_default()..];
            assert!(
                after
                    .iter()
                    .any(|r| r.path.starts_with("/rec/") && r.status == 401),
                "a download met the expired token"
            );
            let tokens = log.iter().filter(|r| r.path == "/oauth/token").count();
            assert!(tokens >= 2, "the client fetched a new token ({tokens})");
        }
        Fault::RedirectToAnotherHost(_) => {
            let elsewhere = elsewhere.expect("the second simulator");
            assert!(
                elsewhere.request_log().is_empty(),
                "the foreign host got no request, so no token: {:?}",
                elsewhere.request_log()
            );
        }
        Fault::File(..) | Fault::RangeIgnored => {}
    }
}

/// Arms `fault`; returns the second simulator a redirect points at.
async fn inject(h: &Harness, meeting: &SimMeeting, fault: &Fault) -> Option<ZoomSim> {
    match fault {
        Fault::Status {
            path_prefix,
            status,
            count,
            retry_after_secs,
        } => h.sim.fail_next(
            path_prefix,
            *status,
            *count,
            retry_after_secs.map(Duration::from_secs),
        ),
        Fault::SlowBody {
            path_prefix,
            bytes_per_second,
        } => h.sim.set_body_rate(path_prefix, *bytes_per_second),
        Fault::File(index, file_fault) => {
            assert!(h
                .sim
                .set_file_fault(&meeting.uuid, *index, file_fault.clone()));
        }
        Fault::RangeIgnored => h.sim.set_range_support(false),
        Fault::AccessTokensExpireMidDownload => {
            h.sim.set_delay("/rec/", Duration::from_millis(300));
        }
        Fault::RedirectToAnotherHost(index) => {
            let elsewhere = ZoomSim::start(
                SimConfig::default(),
                std::net::SocketAddr::from(([127, 0, 0, 2], 0)),
            )
            .await
            .unwrap();
            assert!(h.sim.set_file_fault(
                &meeting.uuid,
                *index,
                FileFault {
                    redirect_to: Some(elsewhere.base_url()),
                    ..FileFault::default()
                },
            ));
            return Some(elsewhere);
        }
    }
    None
}

/// Delivers `meeting`'s `recording.completed`, signed as Zoom signs it but
/// without its `download_token`; returns the execution it started.
async fn deliver_without_download_token(h: &Harness, meeting: &SimMeeting) -> String {
    let mut event = h.sim.recording_completed_event(&meeting.uuid);
    event
        .as_object_mut()
        .unwrap()
        .remove("download_token")
        .expect("the event carried a download token");
    let (status, reply) = h
        .sim
        .send_webhook(&h.webhook_url, &event, WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(status, 200, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    reply["execution_arn"].as_str().unwrap().to_string()
}

/// Waits for the first answered download, expires every access token and
/// returns how long the request log was then.
async fn expire_tokens_mid_download(h: &Harness) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = h.sim.request_log();
        if log.iter().any(|r| r.path.starts_with("/rec/")) {
            h.sim.expire_access_tokens();
            return log.len();
        }
        assert!(Instant::now() < deadline, "no download started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Archived byte-identical (see `check_archived`), indexed, and trashed in
/// Zoom by exactly one successful DELETE.
async fn check_archived_once(h: &Harness, meeting: &SimMeeting, row: &ExecutionRow) {
    check_archived(h, meeting, row).await;
    assert!(h.embedded.index.get(&meeting.uuid).await.unwrap().is_some());
    let trashes = h
        .sim
        .request_log()
        .iter()
        .filter(|r| r.method == "DELETE" && r.status == 204)
        .count();
    assert_eq!(trashes, 1, "the Zoom copy is trashed exactly once");
}

/// FAILED with `error` and a cause containing `cause`; nothing trashed or
/// asked to be; no document and no index entry; the cause kept beside the
/// recording.
async fn check_failed_untouched(
    h: &Harness,
    meeting: &SimMeeting,
    row: &ExecutionRow,
    error: &str,
    cause: &str,
) {
    let actual_cause = row.cause.clone().unwrap_or_default();
    assert_eq!(
        (row.status, row.error.as_deref()),
        (Status::Failed, Some(error)),
        "{actual_cause}"
    );
    assert!(
        actual_cause.contains(cause),
        "the cause names what went wrong: {actual_cause}"
    );
    assert_eq!(
        h.sim.recording_state(&meeting.uuid),
        Some(RecordingState::Active),
        "the Zoom copy is untouched"
    );
    assert!(
        h.sim.request_log().iter().all(|r| r.method != "DELETE"),
        "no trash was even asked for"
    );
    let keys = RecordingKeys::new(meeting.start_time, meeting.id, &meeting.uuid).unwrap();
    assert!(h
        .embedded
        .store
        .head(&keys.document())
        .await
        .unwrap()
        .is_none());
    assert!(h.embedded.index.get(&meeting.uuid).await.unwrap().is_none());
    let failure = h.embedded.store.get(&keys.failure()).await.unwrap();
    let failure: serde_json::Value = serde_json::from_slice(&failure).unwrap();
    assert_eq!(failure["error"], error);
}

/// Every object under the recording's `files/` is byte-identical to one of
/// its files in Zoom, and every file metadata object (the "verified" record
/// a retry trusts) describes the stored object's size and vouches for the
/// bytes of Zoom's file at its position: whatever happened, nothing short
/// or corrupt is kept, let alone vouched for. (Bytes are compared, not
/// hashed: `check_archived` checks the recorded checksums.)
fn check_store_holds_only_whole_files(h: &Harness, meeting: &SimMeeting) {
    let keys = RecordingKeys::new(meeting.start_time, meeting.id, &meeting.uuid).unwrap();
    let truth: Vec<Vec<u8>> = meeting
        .files
        .iter()
        .map(|f| h.sim.expected_bytes(&meeting.uuid, f.index, 0..f.size))
        .collect();
    let prefix = h.embedded.object_path(keys.recording_prefix()).unwrap();
    for path in files_under(&prefix.join("files")) {
        let stored = std::fs::read(&path).unwrap();
        assert!(
            truth.contains(&stored),
            "{} ({} bytes) is not any of the recording's files",
            path.display(),
            stored.len()
        );
    }
    for path in files_under(&prefix.join("meta").join("files")) {
        let record: RetrievedFile = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert!(record.verified, "{}", path.display());
        let stored = std::fs::read(h.embedded.object_path(&record.file.storage_key).unwrap())
            .unwrap_or_else(|_| panic!("{} vouches for a missing object", path.display()));
        assert!(
            stored == truth[record.position],
            "{} vouches for bytes that are not Zoom's file",
            path.display()
        );
        assert_eq!(record.file.size_bytes, stored.len() as u64);
    }
}

fn size_mismatch(announced: u64) -> Expected {
    Expected::Failed {
        error: "Ingest.SizeMismatch",
        cause: format!("Zoom announced {announced} bytes"),
    }
}

// ---- the matrix: one row per fault ------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_429_with_retry_after_is_waited_out() {
    let fault = Fault::Status {
        path_prefix: "/v2/",
        status: 429,
        count: 2,
        retry_after_secs: Some(1),
    };
    check(fault, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_429_with_retry_after_is_waited_out() {
    let fault = Fault::Status {
        path_prefix: "/rec/",
        status: 429,
        count: 2,
        retry_after_secs: Some(1),
    };
    check(fault, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_500_is_retried() {
    let fault = Fault::Status {
        path_prefix: "/v2/",
        status: 500,
        count: 3,
        retry_after_secs: None,
    };
    check(fault, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_503_is_retried() {
    let fault = Fault::Status {
        path_prefix: "/v2/",
        status: 503,
        count: 3,
        retry_after_secs: None,
    };
    check(fault, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_token_endpoint_503_is_retried() {
    let fault = Fault::Status {
        path_prefix: "/oauth/token",
        status: 503,
        count: 2,
        retry_after_secs: None,
    };
    check(fault, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_500_is_retried() {
    let fault = Fault::Status {
        path_prefix: "/cdn/",
        status: 500,
        count: 3,
        retry_after_secs: None,
    };
    check(fault, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_503_is_retried() {
    let fault = Fault::Status {
        path_prefix: "/rec/",
        status: 503,
        count: 3,
        retry_after_secs: None,
    };
    check(fault, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mid_body_of_a_fanned_out_file_is_retried_by_batch() {
    let reset = FileFault {
        cut_after: Some(MIB),
        times: Some(2),
        ..FileFault::default()
    };
    check(Fault::File(BIG_VIDEO, reset), Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mid_body_of_a_file_read_in_order_is_retried() {
    let reset = FileFault {
        cut_after: Some(MIB),
        times: Some(1),
        ..FileFault::default()
    };
    check(Fault::File(VIDEO, reset), Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_with_a_good_status_fails_as_a_size_mismatch() {
    let short = FileFault {
        served_len: Some(AUDIO_BYTES - 100),
        ..FileFault::default()
    };
    check(Fault::File(AUDIO, short), size_mismatch(AUDIO_BYTES)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_of_a_file_in_ranged_parts_fails_as_a_size_mismatch() {
    let short = FileFault {
        served_len: Some(VIDEO_BYTES - 100),
        ..FileFault::default()
    };
    check(Fault::File(VIDEO, short), size_mismatch(VIDEO_BYTES)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_of_a_fanned_out_file_fails_as_a_size_mismatch() {
    let short = FileFault {
        served_len: Some(BIG_VIDEO_BYTES - 100),
        ..FileFault::default()
    };
    check(
        Fault::File(BIG_VIDEO, short),
        size_mismatch(BIG_VIDEO_BYTES),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cdn_that_ignores_range_archives_files_read_in_order() {
    // Nothing fanned out: every file fits one invocation.
    let config = HarnessConfig {
        ingest: IngestConfig {
            part_size: 5 * MIB,
            ..IngestConfig::default()
        },
        ..config()
    };
    check_with(config, Fault::RangeIgnored, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cdn_that_ignores_range_archives_a_fanned_out_file() {
    check(Fault::RangeIgnored, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_download_body_still_arrives_whole() {
    let fault = Fault::SlowBody {
        path_prefix: "/cdn/",
        bytes_per_second: 4 * MIB,
    };
    check(fault, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_api_body_still_arrives_whole() {
    let fault = Fault::SlowBody {
        path_prefix: "/v2/",
        bytes_per_second: 2048,
    };
    check(fault, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_that_expires_mid_download_is_refreshed() {
    check(Fault::AccessTokensExpireMidDownload, Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_length_above_what_is_sent_is_retried() {
    let overstated = FileFault {
        misstated_length: Some(100),
        times: Some(1),
        ..FileFault::default()
    };
    check(Fault::File(AUDIO, overstated), Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_length_above_a_parts_range_is_retried() {
    let overstated = FileFault {
        misstated_length: Some(100),
        times: Some(1),
        ..FileFault::default()
    };
    check(Fault::File(BIG_VIDEO, overstated), Expected::Archived).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_length_below_the_file_fails_as_a_size_mismatch() {
    let understated = FileFault {
        misstated_length: Some(-100),
        ..FileFault::default()
    };
    check(Fault::File(AUDIO, understated), size_mismatch(AUDIO_BYTES)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_as_the_file_fails_as_not_a_file() {
    let page = FileFault {
        sign_in_page: true,
        ..FileFault::default()
    };
    let expected = Expected::Failed {
        error: "Zoom.NotAFile",
        cause: "HTML page instead of the file".into(),
    };
    check(Fault::File(TIMELINE, page), expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_as_a_fanned_out_file_fails_as_not_a_file() {
    let page = FileFault {
        sign_in_page: true,
        ..FileFault::default()
    };
    let expected = Expected::Failed {
        error: "Zoom.NotAFile",
        cause: "HTML page instead of the file".into(),
    };
    check(Fault::File(BIG_VIDEO, page), expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_a_host_that_is_not_zooms_is_refused_unrequested() {
    let expected = Expected::Failed {
        error: "Zoom.ForbiddenDownloadHost",
        cause: "http://127.0.0.2 is not an allowed download host".into(),
    };
    check(Fault::RedirectToAnotherHost(BIG_VIDEO), expected).await;
}
