//! Streaming downloads against the Zoom simulator over real HTTP: ranges,
//! servers that ignore Range, expired download tokens, OAuth fallback, and
//! bodies that are not the file. Bytes are checked against the simulator's
//! own record of each file.

mod common;

use std::time::Duration;

use common::{client_for, requests_under, start_sim};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use zoomvault_zoom::{
    parse_event, ByteRange, Download, DownloadAuth, DownloadStatus, RecordingCompleted,
    SecretString, ZoomEvent,
};
use zoomvault_zoom_sim::{DownloadErrorBody, FileFault, SimConfig, SimMeeting, ZoomSim};

/// The demo meeting's `recording.completed` event, parsed by this crate.
fn completed_event(sim: &ZoomSim, meeting: &SimMeeting) -> RecordingCompleted {
    let body = serde_json::to_vec(&sim.recording_completed_event(&meeting.uuid)).expect("json");
    match parse_event(&body).expect("the simulator's event parses") {
        ZoomEvent::RecordingCompleted(event) => *event,
        other => panic!("unexpected event {other:?}"),
    }
}

fn token_auth(event: &RecordingCompleted) -> DownloadAuth {
    DownloadAuth::DownloadToken(SecretString::new(
        event.download_token.clone().expect("event carries a token"),
    ))
}

fn download_url(event: &RecordingCompleted, index: usize) -> String {
    event.recording.recording_files[index]
        .download_url
        .clone()
        .expect("file has a download_url")
}

async fn collect(download: Download) -> Vec<u8> {
    let mut stream = download.stream;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.expect("stream chunk"));
    }
    bytes
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn ranged_parts_reassemble_to_the_exact_file() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let event = completed_event(&sim, &meeting);
    let client = client_for(&sim);
    let url = download_url(&event, 0);
    let size = meeting.files[0].size;

    let part_size = 3 * 1024 * 1024;
    let mut whole = Vec::new();
    let mut first = 0;
    while first < size {
        let range = ByteRange::from_offset_len(first, part_size.min(size - first)).expect("range");
        let download = client
            .download(&url, &token_auth(&event), Some(range))
            .await
            .expect("part download");
        assert_eq!(download.status, DownloadStatus::RangeHonoured);
        assert_eq!(download.total_size, Some(size));
        assert_eq!(download.content_length, Some(range.len()));
        let bytes = collect(download).await;
        assert_eq!(
            bytes,
            sim.expected_bytes(&meeting.uuid, 0, range.first()..range.last() + 1),
            "part {range}"
        );
        whole.extend_from_slice(&bytes);
        first += range.len();
    }
    assert_eq!(sha256_hex(&whole), sim.expected_sha256(&meeting.uuid, 0));

    // Every part went through Zoom's URL and its redirect to the CDN, with
    // the Range header on both hops.
    let log = sim.request_log();
    let cdn = requests_under(&log, "/cdn/");
    assert_eq!(cdn.len(), 3);
    assert!(cdn.iter().all(|r| r.status == 206 && r.range.is_some()));
    assert!(requests_under(&log, "/rec/")
        .iter()
        .all(|r| r.status == 302));
}

#[tokio::test]
async fn a_server_that_ignores_range_is_reported_as_whole_file() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    sim.set_range_support(false);
    let event = completed_event(&sim, &meeting);
    let client = client_for(&sim);
    let url = download_url(&event, 2);
    let size = meeting.files[2].size;

    let probe = client
        .probe_range(&url, &token_auth(&event))
        .await
        .expect("probe");
    assert!(!probe.range_supported);
    assert_eq!(probe.total_size, Some(size));

    let range = ByteRange::from_offset_len(100, 1000).expect("range");
    let download = client
        .download(&url, &token_auth(&event), Some(range))
        .await
        .expect("download");
    assert_eq!(download.status, DownloadStatus::WholeFile);
    assert_eq!(download.total_size, Some(size));
    let bytes = collect(download).await;
    assert_eq!(sha256_hex(&bytes), sim.expected_sha256(&meeting.uuid, 2));
}

#[tokio::test]
async fn probe_reports_range_support_and_size() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let event = completed_event(&sim, &meeting);
    let client = client_for(&sim);

    let probe = client
        .probe_range(&download_url(&event, 0), &token_auth(&event))
        .await
        .expect("probe");
    assert!(probe.range_supported);
    assert_eq!(probe.total_size, Some(meeting.files[0].size));
    assert_eq!(probe.content_type.as_deref(), Some("video/mp4"));
}

#[tokio::test]
async fn an_expired_download_token_is_a_typed_error_in_either_body_form() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let event = completed_event(&sim, &meeting);
    let client = client_for(&sim);
    sim.expire_download_tokens();

    for body in [DownloadErrorBody::Json, DownloadErrorBody::Html] {
        sim.set_download_error_body(body);
        let error = client
            .download(&download_url(&event, 0), &token_auth(&event), None)
            .await
            .expect_err("token expired");
        assert_eq!(
            error.error_name(),
            "Zoom.DownloadTokenExpired",
            "{body:?}: {error}"
        );
    }
    assert!(
        requests_under(&sim.request_log(), "/cdn/").is_empty(),
        "no request reached the file"
    );
}

#[tokio::test]
async fn oauth_downloads_the_file_after_the_download_token_expired() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let event = completed_event(&sim, &meeting);
    let client = client_for(&sim);
    sim.expire_download_tokens();

    let download = client
        .download(&download_url(&event, 2), &DownloadAuth::OAuth, None)
        .await
        .expect("OAuth download");
    assert_eq!(download.status, DownloadStatus::WholeFile);
    let bytes = collect(download).await;
    assert_eq!(sha256_hex(&bytes), sim.expected_sha256(&meeting.uuid, 2));
}

#[tokio::test]
async fn a_json_recording_file_is_not_mistaken_for_an_error() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let event = completed_event(&sim, &meeting);
    let client = client_for(&sim);
    let timeline = event
        .recording
        .recording_files
        .iter()
        .position(|f| f.file_type.as_deref() == Some("TIMELINE"))
        .expect("demo has a timeline");

    let download = client
        .download(&download_url(&event, timeline), &token_auth(&event), None)
        .await
        .expect("timeline download");
    assert_eq!(download.content_type.as_deref(), Some("application/json"));
    let bytes = collect(download).await;
    assert_eq!(
        sha256_hex(&bytes),
        sim.expected_sha256(&meeting.uuid, timeline)
    );
}

#[tokio::test]
async fn the_initial_response_is_retried_on_429_and_5xx() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let event = completed_event(&sim, &meeting);
    let client = client_for(&sim);

    sim.fail_next("/rec/", 429, 1, Some(Duration::ZERO));
    sim.fail_next("/cdn/", 503, 1, None);
    let range = ByteRange::from_offset_len(0, 4096).expect("range");
    let download = client
        .download(&download_url(&event, 2), &token_auth(&event), Some(range))
        .await
        .expect("download after retries");
    let bytes = collect(download).await;
    assert_eq!(bytes, sim.expected_bytes(&meeting.uuid, 2, 0..4096));

    let statuses: Vec<(String, u16)> = sim
        .request_log()
        .into_iter()
        .map(|r| (r.path.split('/').nth(1).unwrap_or("").to_owned(), r.status))
        .collect();
    let statuses: Vec<(&str, u16)> = statuses.iter().map(|(p, s)| (p.as_str(), *s)).collect();
    assert_eq!(
        statuses,
        [("rec", 429), ("rec", 302), ("cdn", 503), ("cdn", 206)]
    );
}

#[tokio::test]
async fn a_connection_cut_mid_body_surfaces_as_a_transient_stream_error() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let event = completed_event(&sim, &meeting);
    let client = client_for(&sim);
    // Cut well past the first chunks, so the headers have certainly gone
    // out and the failure is in the body, not the response.
    assert!(sim.set_file_fault(
        &meeting.uuid,
        0,
        FileFault {
            cut_after: Some(2_000_000),
            ..FileFault::default()
        }
    ));

    let download = client
        .download(&download_url(&event, 0), &token_auth(&event), None)
        .await
        .expect("headers arrive");
    let mut stream = download.stream;
    let mut received = 0usize;
    let mut failure = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => received += bytes.len(),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let error = failure.expect("the stream must not end cleanly");
    assert_eq!(error.error_name(), "Zoom.Transient");
    assert!(received < meeting.files[0].size as usize);
}

#[tokio::test]
async fn a_missing_file_is_not_found_and_a_range_past_the_end_is_refused() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let event = completed_event(&sim, &meeting);
    let client = client_for(&sim);

    let mut missing = download_url(&event, 0);
    missing.push_str("nope");
    let error = client
        .download(&missing, &token_auth(&event), None)
        .await
        .expect_err("missing");
    assert_eq!(error.error_name(), "Zoom.NotFound");

    let size = meeting.files[2].size;
    let past_end = ByteRange::from_offset_len(size, 10).expect("range");
    let error = client
        .download(
            &download_url(&event, 2),
            &token_auth(&event),
            Some(past_end),
        )
        .await
        .expect_err("unsatisfiable");
    assert_eq!(error.error_name(), "Zoom.RangeNotSatisfiable");
    assert!(matches!(
        error,
        zoomvault_zoom::Error::RangeNotSatisfiable { total_size: Some(n), .. } if n == size
    ));
}

#[tokio::test]
async fn a_download_url_on_a_host_not_allowed_is_refused_without_a_request() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let event = completed_event(&sim, &meeting);
    let client = client_for(&sim);
    // The simulator's own URL, but by another name for the same machine:
    // not the configured API's host, so not allowed.
    let url = download_url(&event, 0).replace("127.0.0.1", "localhost");
    sim.clear_request_log();
    let Err(e) = client.download(&url, &token_auth(&event), None).await else {
        panic!("a forbidden host was downloaded from");
    };
    assert_eq!(e.error_name(), "Zoom.ForbiddenDownloadHost");
    assert!(
        e.to_string()
            .contains("http://localhost is not an allowed download host"),
        "{e}"
    );
    assert!(sim.request_log().is_empty(), "nothing was requested");
}

#[tokio::test]
async fn a_redirect_to_a_host_not_allowed_is_refused_before_it_is_followed() {
    use axum::response::Redirect;
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let event = completed_event(&sim, &meeting);
    // A server on the allowed host that redirects elsewhere (the file's own
    // URL by another host name), as a hostile or broken hop would.
    let elsewhere = download_url(&event, 0).replace("127.0.0.1", "localhost");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route(
        "/rec/download/{id}",
        axum::routing::get(move || {
            let to = elsewhere.clone();
            async move { Redirect::temporary(&to) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = client_for(&sim);
    sim.clear_request_log();
    let url = format!("http://127.0.0.1:{port}/rec/download/x");
    let Err(e) = client.download(&url, &token_auth(&event), None).await else {
        panic!("a redirect to a forbidden host was followed");
    };
    assert_eq!(e.error_name(), "Zoom.ForbiddenDownloadHost");
    assert!(e.to_string().contains("(redirect 1)"), "{e}");
    assert!(
        sim.request_log().is_empty(),
        "the redirect's target got no request, and so no token"
    );
}

#[tokio::test]
async fn a_part_whose_content_length_contradicts_its_range_is_transient_and_never_handed_out() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let event = completed_event(&sim, &meeting);
    let client = client_for(&sim);
    // One response announces 100 bytes more than its Content-Range covers
    // (and than it sends), as a broken CDN edge might.
    assert!(sim.set_file_fault(
        &meeting.uuid,
        0,
        FileFault {
            misstated_length: Some(100),
            times: Some(1),
            ..FileFault::default()
        }
    ));
    let url = download_url(&event, 0);
    let range = ByteRange::from_offset_len(0, 1024 * 1024).expect("range");
    let error = client
        .download(&url, &token_auth(&event), Some(range))
        .await
        .expect_err("a contradictory response is refused");
    assert_eq!(error.error_name(), "Zoom.Transient");
    assert!(error.is_transient());
    assert!(
        error
            .to_string()
            .contains("Content-Range bytes 0-1048575, Content-Length 1048676"),
        "{error}"
    );
    // Asked again, the sound answer comes.
    let download = client
        .download(&url, &token_auth(&event), Some(range))
        .await
        .expect("a sound response");
    assert_eq!(
        collect(download).await,
        sim.expected_bytes(&meeting.uuid, 0, 0..range.len())
    );
}
