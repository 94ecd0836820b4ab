//! No secret leaks: `zoomvault serve` (the real binary, logging at debug)
//! ingests one recording and fails another, with the API key set and the
//! OAuth token expiring in between; then every secret in play (Zoom's
//! client secret and webhook secret, every OAuth access token and webhook
//! download token the simulator issued, the API key's secret) is looked
//! for in every file of the data directory (the engine journal holds each
//! execution's input, history and error texts; the store holds documents,
//! metadata and the raw event; the site and index), in the log, and in the
//! answers of `/status` and the site.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::{files_under, serve_process, zoom_env, ServeProcess};
use zoomvault_zoom_sim::{FileFault, FileSpec, MeetingSpec, SimConfig, WebhookOptions, ZoomSim};

const API_KEY_ID: &str = "AKIDSECRETSTEST";
const API_SECRET: &str = "zv-api-secret-0123456789abcdef";

fn start_serve(data: &Path, sim: &ZoomSim) -> ServeProcess {
    let mut env = zoom_env(sim);
    env.extend([
        ("RUST_LOG", "debug".to_string()),
        ("ZOOMVAULT_API_ACCESS_KEY_ID", API_KEY_ID.to_string()),
        ("ZOOMVAULT_API_SECRET_ACCESS_KEY", API_SECRET.to_string()),
        ("ZOOMVAULT_SCAN_EVERY", "off".to_string()),
    ]);
    serve_process(data, env)
}

/// The recording's state as `/status` reports it, once it is final.
async fn wait_final(serve: &ServeProcess, uuid: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = reqwest::Client::new();
    loop {
        let report: serde_json::Value = client
            .get(format!("{}/status", serve.url))
            .query(&[("recording", uuid)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let state = report["recordings"][0]["state"].as_str().unwrap_or("");
        if state == "archived" || state == "failed" {
            return report;
        }
        assert!(
            Instant::now() < deadline,
            "{uuid} still {state:?}: {report}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether `secret` occurs in `haystack`.
fn leaks(secret: &str, haystack: &[u8]) -> bool {
    haystack
        .windows(secret.len())
        .any(|window| window == secret.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_journal_store_site_log_or_status() {
    let sim = ZoomSim::start(SimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let good = sim.demo_meeting();
    let bad = sim.add_meeting(MeetingSpec {
        topic: "Short file".into(),
        files: vec![FileSpec::video(
            "shared_screen_with_speaker_view",
            3 * 1024 * 1024,
        )],
        ..MeetingSpec::default()
    });
    // The second recording's file is shorter than Zoom announces: the
    // ingest fails, so its error texts are in the journal too.
    assert!(sim.set_file_fault(
        &bad.uuid,
        0,
        FileFault {
            served_len: Some(1024 * 1024),
            ..FileFault::default()
        }
    ));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = start_serve(&data, &sim);
    let webhook = format!("{}/zoom/webhook", serve.url);

    let event = sim.recording_completed_event(&good.uuid);
    let (status, reply) = sim
        .send_webhook(&webhook, &event, WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(status, 200, "{reply}");
    let archived = wait_final(&serve, &good.uuid).await;
    assert_eq!(archived["recordings"][0]["state"], "archived", "{archived}");

    // A new access token is fetched for the second recording.
    sim.expire_access_tokens();
    let event = sim.recording_completed_event(&bad.uuid);
    let (status, reply) = sim
        .send_webhook(&webhook, &event, WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(status, 200, "{reply}");
    let failed = wait_final(&serve, &bad.uuid).await;
    assert_eq!(failed["recordings"][0]["state"], "failed", "{failed}");

    let c = sim.config();
    let mut secrets = vec![
        ("Zoom client secret", c.client_secret.clone()),
        ("Zoom webhook secret", c.webhook_secret_token.clone()),
        ("API secret access key", API_SECRET.to_string()),
    ];
    let tokens = sim.issued_tokens();
    assert!(
        tokens.len() >= 4,
        "two access tokens and two download tokens were issued: {tokens:?}"
    );
    secrets.extend(tokens.into_iter().map(|t| ("Zoom token", t)));

    // What is looked in: every file of the data directory, the log, and
    // the answers of /status and the site's pages.
    let mut places: Vec<(String, Vec<u8>)> = files_under(&data)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path.display().to_string(), bytes)
        })
        .collect();
    assert!(
        places.iter().any(|(name, _)| name.ends_with("engine.db")),
        "the journal is among them: {:?}",
        places.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    let client = reqwest::Client::new();
    for path in [
        "/status?since=24h",
        "/site/index.html",
        "/site/recordings.json",
    ] {
        let body = client
            .get(format!("{}{path}", serve.url))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        places.push((path.to_string(), body.to_vec()));
    }
    let log = serve.log.lock().unwrap().join("\n");
    assert!(
        log.contains("DEBUG") && log.contains(&good.uuid),
        "the log is at debug and names the recordings"
    );
    places.push(("serve's log".to_string(), log.into_bytes()));

    let mut found = Vec::new();
    for (what, secret) in &secrets {
        for (place, bytes) in &places {
            if leaks(secret, bytes) {
                found.push(format!("{what} {secret:?} in {place}"));
            }
        }
    }
    assert!(found.is_empty(), "secrets leaked:\n{}", found.join("\n"));
    // The scan can find: the UUIDs and the failure's cause are there.
    let journal = &places
        .iter()
        .find(|(n, _)| n.ends_with("engine.db"))
        .unwrap()
        .1;
    let everything: Vec<u8> = places.iter().flat_map(|(_, b)| b.clone()).collect();
    assert!(leaks(&bad.uuid, &everything) && leaks(&good.uuid, journal));
}
