//! Outgoing webhooks: the recording.completed body as Zoom sends it, its
//! signature (recomputed here independently), and the negative options.
//! Each test starts a simulator of its own.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zoomvault_zoom_sim::{SignatureMode, WebhookOptions};

use crate::support::{following_client, receiver, sim};

fn expected_signature(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn recording_completed_event_has_zoom_shape_and_a_working_download_token() {
    let sim = sim().await;
    let meeting = sim.demo_meeting();
    let event = sim.recording_completed_event(&meeting.uuid);
    assert_eq!(event["event"], "recording.completed");
    assert!(
        event["event_ts"]
            .as_u64()
            .is_some_and(|ts| ts > 1_600_000_000_000),
        "milliseconds"
    );
    assert_eq!(event["payload"]["account_id"], "zv_sim_account");
    let object = &event["payload"]["object"];
    assert_eq!(object["uuid"], meeting.uuid.as_str());
    assert_eq!(object["id"], meeting.id);
    assert_eq!(object["host_email"], "ada@example.com");
    let files = object["recording_files"].as_array().expect("files");
    assert_eq!(files.len(), 6);
    let url = files[0]["download_url"].as_str().expect("url");
    assert!(url.contains("/rec/webhook_download/"), "{url}");
    let token = event["download_token"].as_str().expect("download_token");
    let response = following_client()
        .get(format!("{url}?access_token={token}"))
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.bytes().await.expect("body").len() as u64,
        meeting.files[0].size
    );
}

#[tokio::test]
async fn delivered_webhooks_carry_a_verifiable_signature() {
    let sim = sim().await;
    let secret = sim.config().webhook_secret_token.clone();
    let hook = receiver(&secret).await;
    let meeting = sim.demo_meeting();
    let event = sim.recording_completed_event(&meeting.uuid);
    let (status, answer) = sim
        .send_webhook(&hook.url, &event, WebhookOptions::default())
        .await
        .expect("delivered");
    assert_eq!(status, 200, "{answer}");

    let delivery = hook.deliveries.lock().expect("lock")[0].clone();
    let timestamp = delivery.headers["x-zm-request-timestamp"]
        .to_str()
        .expect("ts")
        .to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let sent: u64 = timestamp.parse().expect("unix seconds");
    assert!(now.abs_diff(sent) < 60);
    assert_eq!(
        delivery.headers["x-zm-signature"].to_str().expect("sig"),
        expected_signature(&secret, &timestamp, &delivery.body)
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&delivery.body).expect("json"),
        event
    );
    assert!(delivery.headers["content-type"]
        .to_str()
        .expect("type")
        .starts_with("application/json"));
}

#[tokio::test]
async fn negative_options_send_stale_forged_or_unsigned_webhooks() {
    let sim = sim().await;
    let secret = sim.config().webhook_secret_token.clone();
    let hook = receiver(&secret).await;
    let meeting = sim.demo_meeting();
    let event = sim.recording_completed_event(&meeting.uuid);
    for signature in [
        SignatureMode::Valid,
        SignatureMode::Corrupted,
        SignatureMode::Missing,
    ] {
        let options = WebhookOptions {
            timestamp: Some(1_000_000_000),
            signature,
            ..WebhookOptions::default()
        };
        sim.send_webhook(&hook.url, &event, options)
            .await
            .expect("delivered");
    }
    let deliveries = hook.deliveries.lock().expect("lock").clone();
    assert_eq!(deliveries.len(), 3);
    for delivery in &deliveries {
        assert_eq!(delivery.headers["x-zm-request-timestamp"], "1000000000");
    }
    let genuine = expected_signature(&secret, "1000000000", &deliveries[0].body);
    assert_eq!(deliveries[0].headers["x-zm-signature"], genuine.as_str());
    let forged = deliveries[1].headers["x-zm-signature"]
        .to_str()
        .expect("sig");
    assert!(forged.starts_with("v0=") && forged.len() == genuine.len());
    assert_ne!(forged, genuine);
    assert!(deliveries[2].headers.get("x-zm-signature").is_none());
}

#[tokio::test]
async fn url_validation_event_is_signed_and_answerable() {
    let sim = sim().await;
    let secret = sim.config().webhook_secret_token.clone();
    let hook = receiver(&secret).await;
    let event = sim.url_validation_event("qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(event["event"], "endpoint.url_validation");
    assert_eq!(event["payload"]["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    let (status, answer) = sim
        .send_webhook(&hook.url, &event, WebhookOptions::default())
        .await
        .expect("delivered");
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(
        answer["encryptedToken"],
        sim.expected_encrypted_token("qgg8vlvZRS6UYooatFL8Aw")
            .as_str()
    );
    let delivery = hook.deliveries.lock().expect("lock")[0].clone();
    let timestamp = delivery.headers["x-zm-request-timestamp"]
        .to_str()
        .expect("ts");
    assert_eq!(
        delivery.headers["x-zm-signature"].to_str().expect("sig"),
        expected_signature(&secret, timestamp, &delivery.body)
    );
}
