//! Webhook verification and event parsing against what the Zoom simulator
//! really sends: a small receiver (verify, then parse, then answer) is
//! served on a loopback port and the simulator delivers signed, unsigned,
//! corrupted and stale requests to it.

mod common;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use common::start_sim;
use time::OffsetDateTime;
use zoomvault_zoom::webhook::{sign, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use zoomvault_zoom::{parse_event, SecretString, WebhookError, WebhookVerifier, ZoomEvent};
use zoomvault_zoom_sim::{webhook_signature, SignatureMode, SimConfig, WebhookOptions, ZoomSim};

/// What a zoomvault webhook endpoint does, minus starting a workflow:
/// 401 for a bad signature, 400 for a body that is not an event, the
/// challenge answer for URL validation, 200 otherwise.
async fn receive(
    State(verifier): State<Arc<WebhookVerifier>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(error) = verifier.verify(
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        &body,
        OffsetDateTime::now_utc(),
    ) {
        return (StatusCode::UNAUTHORIZED, error.to_string());
    }
    match parse_event(&body) {
        Ok(ZoomEvent::UrlValidation { plain_token }) => (
            StatusCode::OK,
            verifier.url_validation_response(&plain_token).to_string(),
        ),
        Ok(ZoomEvent::RecordingCompleted(event)) => (
            StatusCode::OK,
            format!(
                "recording {} with {} files",
                event.recording.uuid,
                event.recording.recording_files.len()
            ),
        ),
        Ok(other) => (StatusCode::OK, format!("ignored {}", other.name())),
        Err(error) => (StatusCode::BAD_REQUEST, error.to_string()),
    }
}

async fn start_receiver(sim: &ZoomSim) -> String {
    let verifier = Arc::new(WebhookVerifier::new(
        sim.config().webhook_secret_token.clone(),
    ));
    let app = Router::new()
        .route("/zoom/webhook", post(receive))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let addr = listener.local_addr().expect("receiver address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/zoom/webhook")
}

#[tokio::test]
async fn the_receiver_accepts_only_correctly_signed_fresh_requests() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let url = start_receiver(&sim).await;
    let event = sim.recording_completed_event(&meeting.uuid);

    let send = |signature: SignatureMode, timestamp: Option<i64>| {
        let sim = sim.clone();
        let url = url.clone();
        let event = event.clone();
        async move {
            sim.send_webhook(
                &url,
                &event,
                WebhookOptions {
                    signature,
                    timestamp,
                    ..WebhookOptions::default()
                },
            )
            .await
            .expect("delivered")
        }
    };

    let (status, body) = send(SignatureMode::Valid, None).await;
    assert_eq!(
        (status, body),
        (200, format!("recording {} with 6 files", meeting.uuid))
    );

    let (status, body) = send(SignatureMode::Corrupted, None).await;
    assert_eq!(
        (status, body.as_str()),
        (401, "signature does not match the body and timestamp")
    );

    let (status, body) = send(SignatureMode::Missing, None).await;
    assert_eq!(
        (status, body.as_str()),
        (401, "missing `x-zm-signature` header")
    );

    let an_hour_ago = OffsetDateTime::now_utc().unix_timestamp() - 3600;
    let (status, body) = send(SignatureMode::Valid, Some(an_hour_ago)).await;
    assert_eq!(status, 401);
    assert!(
        body.starts_with("request timestamp is 3")
            && body.ends_with("behind our clock, outside the 300 s window"),
        "{body}"
    );
}

#[tokio::test]
async fn url_validation_is_answered_with_the_hmac_zoom_expects() {
    let sim = start_sim(SimConfig::default()).await;
    let url = start_receiver(&sim).await;
    let plain_token = "qgg8vlvZRS6UYooatFL8Aw";

    let (status, body) = sim
        .send_webhook(
            &url,
            &sim.url_validation_event(plain_token),
            WebhookOptions::default(),
        )
        .await
        .expect("delivered");

    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON answer");
    assert_eq!(answer["plainToken"], plain_token);
    assert_eq!(
        answer["encryptedToken"],
        sim.expected_encrypted_token(plain_token).as_str()
    );
}

#[test]
fn signatures_agree_with_an_independent_implementation_and_catch_tampering() {
    let secret = "zv_sim_webhook_secret";
    let body = r#"{"event":"recording.completed","payload":{"object":{"uuid":"a","id":1}}}"#;
    let now = OffsetDateTime::now_utc();
    let ts = now.unix_timestamp();
    let ours = sign(&SecretString::new(secret), ts, body.as_bytes());
    assert_eq!(ours, webhook_signature(secret, ts, body));

    let verifier = WebhookVerifier::new(secret);
    let ts_text = ts.to_string();
    assert_eq!(
        verifier.verify(Some(&ts_text), Some(&ours), body.as_bytes(), now),
        Ok(())
    );
    let tampered = body.replace("\"id\":1", "\"id\":2");
    assert_eq!(
        verifier.verify(Some(&ts_text), Some(&ours), tampered.as_bytes(), now),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        verifier.verify(None, Some(&ours), body.as_bytes(), now),
        Err(WebhookError::MissingHeader {
            header: TIMESTAMP_HEADER
        })
    );
}

#[tokio::test]
async fn the_simulators_recording_completed_event_parses_fully() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let raw = serde_json::to_vec(&sim.recording_completed_event(&meeting.uuid)).expect("json");

    let ZoomEvent::RecordingCompleted(event) = parse_event(&raw).expect("parses") else {
        panic!("not recording.completed");
    };
    assert_eq!(event.recording.uuid, meeting.uuid);
    assert_eq!(event.recording.id, meeting.id);
    assert_eq!(
        event.account_id.as_deref(),
        Some(sim.config().account_id.as_str())
    );
    assert!(event.download_token.is_some());
    assert!(event.event_ts.is_some());
    let files = &event.recording.recording_files;
    assert_eq!(files.len(), meeting.files.len());
    for (parsed, simulated) in files.iter().zip(&meeting.files) {
        assert_eq!(parsed.id, simulated.id);
        assert_eq!(parsed.file_size, simulated.listed_size);
        assert_eq!(
            parsed.download_url.as_deref(),
            Some(simulated.webhook_download_url.as_str())
        );
    }
}
