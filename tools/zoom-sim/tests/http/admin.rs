//! The `/_sim` control API and the CLI's argument parsing: what the
//! `zoom-sim` binary and scripts use to drive a running simulator. Each
//! test that needs a simulator starts its own.

use clap::Parser;
use serde_json::{json, Value};
use zoomvault_zoom_sim::{cli::Command, Args};

use crate::support::{client, following_client, receiver, sim};

async fn post(sim: &zoomvault_zoom_sim::ZoomSim, path: &str, body: Value) -> (u16, Value) {
    let response = client()
        .post(format!("{}/_sim{path}", sim.base_url()))
        .json(&body)
        .send()
        .await
        .expect("control request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn get(sim: &zoomvault_zoom_sim::ZoomSim, path: &str) -> Value {
    client()
        .get(format!("{}/_sim{path}", sim.base_url()))
        .send()
        .await
        .expect("control request")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn control_api_adds_recordings_and_sends_webhooks() {
    let sim = sim().await;
    let info = get(&sim, "/info").await;
    assert_eq!(info["client_id"], "zv_sim_client");
    assert_eq!(info["api_base_url"], sim.api_base_url());

    let (status, demo) = post(
        &sim,
        "/meetings/demo",
        json!({"sizes": {"video_segment_1": 1234}}),
    )
    .await;
    assert_eq!(status, 200, "{demo}");
    let uuid = demo["uuid"].as_str().expect("uuid").to_owned();
    assert_eq!(demo["files"][0]["size"], 1234);

    let (status, custom) = post(
        &sim,
        "/meetings",
        json!({
            "topic": "From a script",
            "start_time": "2024-05-02T10:00:00Z",
            "uuid_shape": "double_slash",
            "files": [{"file_type": "MP4", "file_extension": "MP4",
                       "recording_type": "active_speaker",
                       "content": {"kind": "generated", "size": 99}}]
        }),
    )
    .await;
    assert_eq!(status, 200, "{custom}");
    assert!(custom["uuid"].as_str().is_some_and(|u| u.contains("//")));
    assert_eq!(custom["start_time"], "2024-05-02T10:00:00Z");

    let sha = get(
        &sim,
        &format!("/expected-sha256?meeting_uuid={}&file=0", urlencode(&uuid)),
    )
    .await;
    assert_eq!(sha["sha256"], sim.expected_sha256(&uuid, 0));

    let hook = receiver(&sim.config().webhook_secret_token).await;
    let (status, sent) = post(
        &sim,
        "/webhooks/recording-completed",
        json!({"to": hook.url, "meeting_uuid": uuid}),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["status"], 200);
    assert_eq!(sent["event"]["payload"]["object"]["uuid"], uuid.as_str());
    assert_eq!(hook.deliveries.lock().expect("lock").len(), 1);

    let (_, validation) = post(&sim, "/webhooks/url-validation", json!({"to": hook.url})).await;
    assert_eq!(validation["valid"], true, "{validation}");

    let (status, error) = post(&sim, "/meetings", json!({"files": "not a list"})).await;
    assert_eq!(status, 400);
    assert!(error["error"].is_string());
}

#[tokio::test]
async fn control_api_sets_knobs_and_reads_trash_and_requests() {
    let sim = sim().await;
    let meeting = sim.demo_meeting();
    let (_, token) = post(&sim, "/access-tokens", json!({})).await;
    let token = token["access_token"].as_str().expect("token").to_owned();

    post(
        &sim,
        "/faults/fail-next",
        json!({"path_prefix": "/v2/users", "status": 500}),
    )
    .await;
    let url = format!("{}/users", sim.api_base_url());
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(
            client()
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .expect("get")
        ),
        500
    );
    assert_eq!(
        status(
            client()
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .expect("get")
        ),
        200
    );

    let file_url = format!("{}?access_token={token}", meeting.files[2].download_url);
    post(&sim, "/range-support", json!({"enabled": false})).await;
    let response = following_client()
        .get(&file_url)
        .header("range", "bytes=0-0")
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    post(
        &sim,
        "/faults/file",
        json!({"meeting_uuid": meeting.uuid, "file": "2", "served_len": 5}),
    )
    .await;
    let body = following_client()
        .get(&file_url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    assert_eq!(body.len(), 5);
    post(&sim, "/faults/clear", json!({})).await;

    post(&sim, "/access-tokens/expire", json!({})).await;
    assert_eq!(
        status(
            client()
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .expect("get")
        ),
        401
    );

    let (_, fresh) = post(&sim, "/access-tokens", json!({})).await;
    let trash = client()
        .delete(format!(
            "{}/meetings/{}/recordings",
            sim.api_base_url(),
            meeting.uuid_path_segment()
        ))
        .bearer_auth(fresh["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("trash");
    assert_eq!(trash.status(), 204);
    assert_eq!(get(&sim, "/trash").await, json!([meeting.uuid]));

    let log = get(&sim, "/requests").await;
    let paths: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|r| r["path"].as_str())
        .collect();
    assert!(
        paths.iter().all(|p| !p.starts_with("/_sim")),
        "control calls are not logged"
    );
    assert!(paths.iter().any(|p| p.starts_with("/cdn/")));
    let ranges: Vec<&Value> = log
        .as_array()
        .expect("log")
        .iter()
        .map(|r| &r["range"])
        .collect();
    assert!(ranges.contains(&&json!("bytes=0-0")));
}

fn urlencode(text: &str) -> String {
    zoomvault_zoom_sim::ids::encode_path_segment(text)
}

#[test]
fn cli_parses_serve_flags_and_subcommands() {
    let args = Args::try_parse_from([
        "zoom-sim",
        "--listen",
        "127.0.0.1:0",
        "--seed",
        "7",
        "--demo",
    ])
    .expect("serve flags");
    assert!(args.command.is_none());
    assert!(args.serve.demo);
    assert_eq!(args.serve.config().seed, 7);
    assert!(args.serve.config().range_support);

    let args = Args::try_parse_from([
        "zoom-sim",
        "send-webhook",
        "--sim",
        "http://127.0.0.1:9090",
        "--to",
        "http://127.0.0.1:8080/webhook",
        "--meeting",
        "/abc==",
    ])
    .expect("send-webhook");
    match args.command {
        Some(Command::SendWebhook(send)) => {
            assert_eq!(send.meeting.as_deref(), Some("/abc=="));
            assert!(!send.bad_signature);
        }
        other => panic!("parsed {other:?}"),
    }
    assert!(Args::try_parse_from(["zoom-sim", "--no-range", "send-webhook", "--to", "x"]).is_err());
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sim = sim().await;
    let url = format!("{}/_sim/info", sim.base_url());
    assert!(client().get(&url).send().await.is_ok());
    sim.clone().shutdown().await;
    assert!(
        client().get(&url).send().await.is_err(),
        "connection refused"
    );
}
