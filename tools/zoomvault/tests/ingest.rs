//! End to end over real HTTP: the Zoom simulator sends signed webhooks to
//! `zoomvault serve`'s app, the embedded engine runs
//! `state-machine/ingest.asl.json` with the real steps, and the files land
//! in the directory store. Checks the archive's promises: byte-identical
//! files, a valid document in store and index, the Zoom copy trashed, the
//! site listing it; and the refusals: bad signatures, stale timestamps,
//! malformed bodies, repeated deliveries, files that differ from what Zoom
//! announced.

mod support;

use support::{
    check_archived, crc64nvme_file, deliver_event, fan_out_harness, harness, harness_keyed,
    harness_with, ingest_and_check, invocations_of, sha256_file, wait_for_failed_task,
};
use zoomvault::serve::ApiKey;
use zoomvault_archive::document;
use zoomvault_archive::keys::RecordingKeys;
use zoomvault_archive::ports::{ArchiveEvent, RecordingIndex};
use zoomvault_archive::steps::IngestConfig;
use zoomvault_engine::Status;
use zoomvault_zoom_sim::{FileFault, SignatureMode, WebhookOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_ingests_every_file_byte_identical_and_trashes_zoom_copy() {
    let h = harness().await;
    let meeting = h.sim.demo_meeting();
    let (status, reply) = h.deliver(&meeting.uuid, WebhookOptions::default()).await;
    assert_eq!(status, 200, "{reply}");
    let arn = reply["execution_arn"].as_str().unwrap();
    let row = h.embedded.engine.wait_for(arn).await.unwrap();
    assert_eq!(
        row.status,
        Status::Succeeded,
        "{:?} {:?}",
        row.error,
        row.cause
    );

    // The document is in the store, valid against the schema, and indexed.
    let keys = RecordingKeys::new(meeting.start_time, meeting.id, &meeting.uuid).unwrap();
    let doc_bytes = h.embedded.store.get(&keys.document()).await.unwrap();
    let doc_json: serde_json::Value = serde_json::from_slice(&doc_bytes).unwrap();
    let doc = document::validate(&doc_json).unwrap();
    assert_eq!(doc.meeting.uuid, meeting.uuid);
    assert_eq!(doc.meeting.topic, meeting.topic);
    assert_eq!(doc.host.email.as_deref(), Some(meeting.host_email.as_str()));
    assert_eq!(doc.files.len(), meeting.files.len());
    let entry = h.embedded.index.get(&meeting.uuid).await.unwrap().unwrap();
    assert_eq!(entry.document_key, keys.document());
    assert_eq!(entry.file_count, meeting.files.len() as u64);

    // Every file, byte-identical to what Zoom serves.
    for file in &meeting.files {
        let stored = doc
            .files
            .iter()
            .find(|f| f.zoom_file_id == file.id && f.file_type == file.file_type)
            .unwrap_or_else(|| panic!("file {} missing from the document", file.index));
        let expected = h.sim.expected_sha256(&meeting.uuid, file.index);
        // A file read in order has its SHA-256; a fanned-out one only its
        // CRC64NVME.
        let read_in_order = stored.size_bytes <= h.invocation_bytes;
        assert_eq!(
            stored.sha256.as_deref(),
            read_in_order.then_some(expected.as_str()),
            "{}",
            stored.storage_key
        );
        assert_eq!(
            sha256_file(&h.embedded.object_path(&stored.storage_key).unwrap()),
            expected,
            "bytes on disk of {}",
            stored.storage_key
        );
        assert_eq!(
            stored.crc64nvme,
            crc64nvme_file(&h.embedded.object_path(&stored.storage_key).unwrap()),
            "CRC64NVME of {}",
            stored.storage_key
        );
        assert_eq!(stored.size_bytes, file.size);
    }
    // Several files of one recording type, and a TIMELINE without an id,
    // each got its own key.
    let mut keys_seen: Vec<&str> = doc.files.iter().map(|f| f.storage_key.as_str()).collect();
    keys_seen.sort();
    keys_seen.dedup();
    assert_eq!(keys_seen.len(), doc.files.len());

    // The one file bigger than a part (the 8 MiB video, in 5 MiB parts)
    // went by ranged GETs; smaller files by one GET each.
    let ranged = h
        .sim
        .request_log()
        .iter()
        .filter(|r| r.path.starts_with("/cdn/") && r.range.is_some() && r.status == 206)
        .count();
    assert_eq!(ranged, 2, "ranged GETs of the 8 MiB video");

    assert!(h.sim.is_trashed(&meeting.uuid), "Zoom copy moved to trash");

    // The state machine's putEvents task announced the recording and
    // asked for a site rebuild; building it lists the recording.
    let pending = h.embedded.events.pending(100).await.unwrap();
    assert!(
        pending.iter().any(|e| e.event
            == ArchiveEvent::RecordingArchived {
                recording_uuid: meeting.uuid.clone(),
                meeting_id: meeting.id,
                document_key: keys.document(),
            }),
        "{pending:?}"
    );
    assert!(pending
        .iter()
        .any(|e| matches!(e.event, ArchiveEvent::SiteRebuildRequested { .. })));
    assert_eq!(h.embedded.rebuild_site().await.unwrap(), 1);
    let index = std::fs::read_to_string(h.embedded.site_dir().join("index.html")).unwrap();
    assert!(index.contains(&zoomvault_site::escape(&meeting.topic)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signature_stale_timestamp_and_malformed_body_start_nothing() {
    let h = harness().await;
    let meeting = h.sim.demo_meeting();

    let (status, reply) = h
        .deliver(
            &meeting.uuid,
            WebhookOptions {
                signature: SignatureMode::Corrupted,
                ..WebhookOptions::default()
            },
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        reply["error"],
        "webhook refused: signature does not match the body and timestamp"
    );

    let stale = time::OffsetDateTime::now_utc().unix_timestamp() - 3600;
    let (status, reply) = h
        .deliver(
            &meeting.uuid,
            WebhookOptions {
                timestamp: Some(stale),
                ..WebhookOptions::default()
            },
        )
        .await;
    assert_eq!(status, 401);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("outside the 300 s window"),
        "{reply}"
    );

    // Correctly signed, but not JSON.
    let body = b"{not json";
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let secret = zoomvault_zoom::SecretString::new(h.sim.config().webhook_secret_token.clone());
    let response = reqwest::Client::new()
        .post(&h.webhook_url)
        .header("x-zm-request-timestamp", now.to_string())
        .header(
            "x-zm-signature",
            zoomvault_zoom::webhook::sign(&secret, now, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let reply: serde_json::Value = response.json().await.unwrap();
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .starts_with("webhook body is not a Zoom event"),
        "{reply}"
    );

    assert_eq!(h.executions(), 0, "nothing was started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_webhook_twice_is_one_execution_and_one_document() {
    let h = harness().await;
    let meeting = h.sim.demo_meeting();
    let body = h.sim.recording_completed_event(&meeting.uuid);
    let (first_status, first) = h
        .sim
        .send_webhook(&h.webhook_url, &body, WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(first_status, 200);
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    let arn = first["execution_arn"].as_str().unwrap().to_string();
    h.embedded.engine.wait_for(&arn).await.unwrap();

    let (status, second) = h
        .sim
        .send_webhook(&h.webhook_url, &body, WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(
        status, 200,
        "Zoom must not retry a delivery we already have"
    );
    let second: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(second["execution_arn"], arn.as_str());
    assert_eq!(second["outcome"], "already_exists");
    assert_eq!(h.executions(), 1);
    let page = h
        .embedded
        .index
        .list(zoomvault_archive::ports::ListQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_smaller_than_announced_fails_the_ingest_and_trashes_nothing() {
    let h = harness().await;
    let meeting = h.sim.demo_meeting();
    let video = &meeting.files[0];
    assert!(h.sim.set_file_fault(
        &meeting.uuid,
        video.index,
        FileFault {
            served_len: Some(video.size - 100),
            ..FileFault::default()
        },
    ));
    let (status, reply) = h.deliver(&meeting.uuid, WebhookOptions::default()).await;
    assert_eq!(status, 200);
    let row = h
        .embedded
        .engine
        .wait_for(reply["execution_arn"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(row.status, Status::Failed);
    assert_eq!(row.error.as_deref(), Some("Ingest.SizeMismatch"));
    let cause = row.cause.unwrap_or_default();
    assert!(
        cause.contains(&format!("Zoom announced {} bytes", video.size)),
        "{cause}"
    );

    assert!(!h.sim.is_trashed(&meeting.uuid), "never trash on failure");
    let keys = RecordingKeys::new(meeting.start_time, meeting.id, &meeting.uuid).unwrap();
    assert!(h
        .embedded
        .store
        .head(&keys.document())
        .await
        .unwrap()
        .is_none());
    assert!(h.embedded.index.get(&meeting.uuid).await.unwrap().is_none());
    // The cause is kept beside the recording.
    let failure = h.embedded.store.get(&keys.failure()).await.unwrap();
    let failure: serde_json::Value = serde_json::from_slice(&failure).unwrap();
    assert_eq!(failure["error"], "Ingest.SizeMismatch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_that_breaks_off_is_retried_and_the_file_still_arrives_whole() {
    let h = harness().await;
    let meeting = h.sim.demo_meeting();
    let video = &meeting.files[0];
    assert!(
        video.size > 5 * 1024 * 1024,
        "the video is fetched in parts"
    );
    // Every response for the video stops after 1 MiB of a 5 MiB part.
    assert!(h.sim.set_file_fault(
        &meeting.uuid,
        video.index,
        FileFault {
            cut_after: Some(1024 * 1024),
            ..FileFault::default()
        },
    ));
    let arn = deliver_event(&h, &meeting).await;
    // Once an attempt has failed on it, the network heals; the state
    // machine's Retry (within 2 s, full jitter) fetches the file again.
    let failed = wait_for_failed_task(&h, &arn).await;
    h.sim.clear_faults();
    assert!(
        failed[0].contains("Zoom.Transient") && failed[0].contains("broke off"),
        "{failed:?}"
    );
    let row = h.embedded.engine.wait_for(&arn).await.unwrap();
    check_archived(&h, &meeting, &row).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_bigger_than_one_invocation_is_fanned_out_over_batches_and_verified_whole() {
    // Every file but the 8 MiB video fits in one invocation.
    let h = fan_out_harness().await;
    let meeting = h.sim.demo_meeting();
    let big: Vec<_> = meeting
        .files
        .iter()
        .filter(|f| f.size > h.invocation_bytes)
        .collect();
    assert_eq!(big.len(), 1, "the demo has one video over 5 MiB");
    let arn = &deliver_event(&h, &meeting).await;
    let row = h.embedded.engine.wait_for(arn).await.unwrap();
    let doc = check_archived(&h, &meeting, &row).await;
    assert_eq!(invocations_of(&h, arn, "zoomvault-begin-file"), 1);
    assert_eq!(invocations_of(&h, arn, "zoomvault-retrieve-parts"), 2);
    assert_eq!(invocations_of(&h, arn, "zoomvault-complete-file"), 1);
    assert_eq!(
        invocations_of(&h, arn, "zoomvault-retrieve-file"),
        meeting.files.len() - 1
    );
    let video = doc
        .files
        .iter()
        .find(|f| f.size_bytes == big[0].size)
        .unwrap();
    assert_eq!(video.sha256, None);
}

/// What a killed serve leaves: an attempt that began a file's upload and
/// never finished (RetrieveFile cut short, or a BeginFile whose result was
/// lost), so the attempt run again began another. Once the file's object
/// is complete those uploads are discarded, read in order or fanned out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_left_by_interrupted_attempts_are_discarded_once_the_file_is_complete() {
    use zoomvault_archive::keys::{FileIdentity, FileKey};
    use zoomvault_archive::ports::UploadShape;
    for h in [harness().await, fan_out_harness().await] {
        let meeting = h.sim.demo_meeting();
        let keys = RecordingKeys::new(meeting.start_time, meeting.id, &meeting.uuid).unwrap();
        let mut videos = Vec::new();
        // The videos bigger than a part: a file of one part is one put,
        // never an upload.
        let part_size = 5 * 1024 * 1024;
        for file in meeting.files.iter().filter(|f| f.size > part_size) {
            let key = keys
                .file(
                    &FileKey::new(&FileIdentity {
                        recording_type: file.recording_type.as_deref(),
                        file_type: &file.file_type,
                        zoom_file_id: file.id.as_deref(),
                        position: file.index,
                    })
                    .unwrap(),
                    &file.file_extension.to_ascii_lowercase(),
                )
                .unwrap();
            let shape = UploadShape {
                total_size: file.size,
                part_size,
            };
            h.embedded
                .store
                .create_multipart_shaped(&key, "video/mp4", shape)
                .await
                .unwrap();
            videos.push(key);
        }
        let event = h.sim.recording_completed_event(&meeting.uuid);
        ingest_and_check(&h, &meeting, &event).await;
        assert!(!videos.is_empty());
        for key in &videos {
            assert_eq!(
                h.embedded.store.list_uploads(key).await.unwrap(),
                vec![],
                "{key}"
            );
        }
        let staging = h.data_dir.join("store/.multipart");
        assert_eq!(std::fs::read_dir(staging).unwrap().count(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_download_breaks_off_is_retried_alone() {
    let h = fan_out_harness().await;
    let meeting = h.sim.demo_meeting();
    let video = &meeting.files[0];
    assert!(video.size > h.invocation_bytes);
    assert!(h.sim.set_file_fault(
        &meeting.uuid,
        video.index,
        FileFault {
            cut_after: Some(1024 * 1024),
            ..FileFault::default()
        },
    ));
    let arn = deliver_event(&h, &meeting).await;
    wait_for_failed_task(&h, &arn).await;
    h.sim.clear_faults();
    let row = h.embedded.engine.wait_for(&arn).await.unwrap();
    check_archived(&h, &meeting, &row).await;
    let failed: Vec<String> = h
        .embedded
        .engine
        .history(&arn)
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "TaskFailed")
        .map(|e| e.to_string())
        .collect();
    assert!(
        failed
            .iter()
            .all(|f| f.contains("Zoom.Transient") && f.contains("broke off")),
        "{failed:?}"
    );
    // Only batches were retried: the upload was begun and completed once.
    assert_eq!(invocations_of(&h, &arn, "zoomvault-begin-file"), 1);
    assert_eq!(invocations_of(&h, &arn, "zoomvault-complete-file"), 1);
    assert!(invocations_of(&h, &arn, "zoomvault-retrieve-parts") > 2);
}

/// The webhook's `download_token` is a secret that would be readable by
/// anyone who may read executions: it stays out of the execution's input
/// and history, and downloads use OAuth, so an expired token changes
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhooks_download_token_stays_out_of_the_execution() {
    let h = harness().await;
    let meeting = h.sim.demo_meeting();
    let event = h.sim.recording_completed_event(&meeting.uuid);
    let token = event["download_token"].as_str().unwrap().to_string();
    assert!(token.len() > 8);
    h.sim.expire_download_tokens();
    ingest_and_check(&h, &meeting, &event).await;
    let refused: Vec<_> = h
        .sim
        .request_log()
        .into_iter()
        .filter(|r| r.path.starts_with("/rec/") && r.status == 401)
        .collect();
    assert!(refused.is_empty(), "downloads were refused: {refused:?}");

    let rows = h
        .embedded
        .engine
        .list_executions(None, None, None, 10)
        .unwrap();
    assert_eq!(rows.len(), 1);
    let history = h.embedded.engine.history(&rows[0].arn).unwrap();
    assert!(history.len() > 10);
    let seen = serde_json::to_string(&history).unwrap();
    assert!(seen.contains(&meeting.uuid), "the history is read");
    assert!(!seen.contains(&token), "the token is in the history");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cdn_that_ignores_range_still_archives_every_file() {
    let h = harness().await;
    h.sim.set_range_support(false);
    let meeting = h.sim.demo_meeting();
    let event = h.sim.recording_completed_event(&meeting.uuid);
    let doc = ingest_and_check(&h, &meeting, &event).await;
    assert!(doc
        .files
        .iter()
        .all(|f| f.size_bytes > 0 || f.file_type == "TIMELINE"));
    let ranged = h
        .sim
        .request_log()
        .iter()
        .filter(|r| r.status == 206)
        .count();
    assert_eq!(ranged, 0, "no ranged answers, so one GET per file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_under_the_minimum_duration_is_skipped_and_left_in_zoom() {
    let h = harness_with(IngestConfig {
        part_size: 5 * 1024 * 1024,
        min_duration_minutes: 24 * 60,
        ..IngestConfig::default()
    })
    .await;
    let meeting = h.sim.demo_meeting();
    let (status, reply) = h.deliver(&meeting.uuid, WebhookOptions::default()).await;
    assert_eq!(status, 200);
    let arn = reply["execution_arn"].as_str().unwrap();
    let row = h.embedded.engine.wait_for(arn).await.unwrap();
    assert_eq!(row.status, Status::Succeeded);
    let history = h.embedded.engine.history(arn).unwrap();
    assert!(history.iter().any(|e| e["type"] == "SucceedStateEntered"
        && e["stateEnteredEventDetails"]["name"] == "Skipped"));
    assert!(
        !h.sim.is_trashed(&meeting.uuid),
        "a skipped meeting stays in Zoom"
    );
    assert!(h.embedded.index.get(&meeting.uuid).await.unwrap().is_none());
    let downloads = h
        .sim
        .request_log()
        .iter()
        .filter(|r| r.path.starts_with("/rec/") || r.path.starts_with("/cdn/"))
        .count();
    assert_eq!(downloads, 0, "no file was fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_and_file_routes_refuse_paths_outside_their_roots() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let h = harness().await;
    h.embedded.rebuild_site().await.unwrap();
    let authority = h
        .webhook_url
        .trim_start_matches("http://")
        .trim_end_matches("/zoom/webhook")
        .to_string();
    // Raw requests: an HTTP client would normalise the `..` away before
    // sending, and an attacker's would not.
    let status = |path: &'static str| {
        let authority = authority.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            response[9..12].parse::<u16>().unwrap()
        }
    };
    assert_eq!(status("/site/index.html").await, 200);
    assert_eq!(status("/site/../../engine.db").await, 400);
    assert_eq!(status("/site/%2e%2e/%2e%2e/engine.db").await, 400);
    assert_eq!(status("/files/../engine.db").await, 400);
    assert_eq!(status("/files/recordings/nothing-here.mp4").await, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_delivery_while_the_ingest_runs_joins_it() {
    let h = harness().await;
    // Slow downloads keep the first ingest running while Zoom retries.
    h.sim
        .set_delay("/cdn/", std::time::Duration::from_millis(300));
    let meeting = h.sim.demo_meeting();
    let body = h.sim.recording_completed_event(&meeting.uuid);
    let deliver = || async {
        let (status, reply) = h
            .sim
            .send_webhook(&h.webhook_url, &body, WebhookOptions::default())
            .await
            .unwrap();
        assert_eq!(status, 200, "{reply}");
        serde_json::from_str::<serde_json::Value>(&reply).unwrap()
    };
    let first = deliver().await;
    let second = deliver().await;
    assert_eq!(first["outcome"], "started");
    assert_eq!(second["outcome"], "already_exists");
    assert_eq!(second["execution_arn"], first["execution_arn"]);
    let arn = first["execution_arn"].as_str().unwrap();
    let row = h.embedded.engine.wait_for(arn).await.unwrap();
    assert_eq!(
        row.status,
        Status::Succeeded,
        "{:?} {:?}",
        row.error,
        row.cause
    );
    assert_eq!(h.executions(), 1);
}

#[tokio::test]
async fn the_step_functions_api_shares_the_listener_and_sees_the_ingest() {
    let h = harness().await;
    let meeting = h.sim.demo_meeting();
    let (status, reply) = h.deliver(&meeting.uuid, WebhookOptions::default()).await;
    assert_eq!(status, 200, "{reply}");
    let arn = reply["execution_arn"].as_str().unwrap().to_string();
    h.embedded.engine.wait_for(&arn).await.unwrap();

    // An aws-sdk-sfn client on serve's own address sees the machine and the
    // execution the webhook started.
    let sfn = zoomvault_aws::step_functions::client_for_endpoint(&h.base, "AKIDANY", "any");
    let machines = sfn.list_state_machines().send().await.unwrap();
    let names: Vec<&str> = machines.state_machines().iter().map(|m| m.name()).collect();
    assert_eq!(names, ["zoomvault-ingest"]);
    let executions = sfn
        .list_executions()
        .state_machine_arn(&h.embedded.state_machine_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(executions.executions().len(), 1);
    assert_eq!(executions.executions()[0].execution_arn(), arn);
    assert_eq!(executions.executions()[0].status().as_str(), "SUCCEEDED");

    // The console is served beside the API.
    let console = reqwest::get(format!("{}/console", h.base)).await.unwrap();
    assert_eq!(console.status(), 200);
    assert!(console.text().await.unwrap().contains("console.js"));

    // GET / is still the site.
    let home = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/", h.base))
        .send()
        .await
        .unwrap();
    assert!(home.status().is_redirection(), "{}", home.status());
    assert_eq!(home.headers()["location"], "/site/index.html");
}

#[tokio::test]
async fn with_an_api_key_the_webhook_signs_its_own_starts_and_strangers_are_refused() {
    let key = ApiKey {
        access_key_id: "AKIDSERVE".into(),
        secret_access_key: "serve-secret-0123456789".into(),
    };
    let h = harness_keyed(
        IngestConfig {
            part_size: 5 * 1024 * 1024,
            ..IngestConfig::default()
        },
        Some(key),
    )
    .await;
    let meeting = h.sim.demo_meeting();
    let (status, reply) = h.deliver(&meeting.uuid, WebhookOptions::default()).await;
    assert_eq!(status, 200, "{reply}");
    let arn = reply["execution_arn"].as_str().unwrap();
    let row = h.embedded.engine.wait_for(arn).await.unwrap();
    assert_eq!(
        row.status,
        Status::Succeeded,
        "{:?} {:?}",
        row.error,
        row.cause
    );

    let stranger =
        zoomvault_aws::step_functions::client_for_endpoint(&h.base, "AKIDSERVE", "guessed");
    let refused = stranger.list_state_machines().send().await.unwrap_err();
    assert_eq!(
        refused.into_service_error().meta().code(),
        Some("InvalidSignatureException")
    );
}
