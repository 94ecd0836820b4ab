//! Bounded fuzzing of what Zoom's webhook hands us (issue 14, point 6):
//! the body parser (`event::parse_event`) over random bytes, over
//! near-valid events whose fields have the wrong types, huge numbers and
//! strings and deep nesting, and the signature check
//! (`webhook::WebhookVerifier::verify`) over hostile headers, bodies and
//! clocks. Nothing may panic, heap must stay in proportion to the body,
//! and only a body signed with the secret may pass. Each property runs
//! through `zoomvault_fuzz::check` on a 2 MiB stack; the case counts are in
//! each test's doc comment.

use crate::event::{parse_event, EventError, ZoomEvent};
use crate::secret::SecretString;
use crate::webhook::{sign, WebhookError, WebhookVerifier};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use zoomvault_fuzz::{check, linear};

const SECRET: &str = "fuzz-secret-token";

/// A body is parsed into a `Value`, a typed copy and, for a recording, the
/// raw copy kept: a few times its size.
fn body_budget(body: &[u8]) -> usize {
    linear(body.len(), 48, 256 * 1024)
}

/// A value of some JSON type, often not the one a field wants.
fn junk() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::num::f64::ANY
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
        "[0-9]{1,40}".prop_map(Value::String),
        Just(json!("2024-02-30T25:61:61Z")),
        Just(json!("2024-03-05T10:00:00Z")),
        Just(json!("-99999-01-01T00:00:00Z")),
        Just(Value::String("z".repeat(100_000))),
        Just(json!([])),
        Just(json!({})),
    ]
}

fn file() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            prop::sample::select(vec![
                "id",
                "meeting_id",
                "recording_start",
                "recording_end",
                "file_type",
                "file_extension",
                "file_size",
                "download_url",
                "status",
                "recording_type",
            ]),
            junk(),
        ),
        0..8,
    )
    .prop_map(|fields| Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// `levels` arrays nested in each other, as a hostile unknown field.
fn nested(levels: usize) -> Value {
    let mut value = json!(0);
    for _ in 0..levels {
        value = Value::Array(vec![value]);
    }
    value
}

/// Events as Zoom shapes them, with each part right, wrong or missing.
fn event_body() -> impl Strategy<Value = Vec<u8>> {
    let object = (
        prop_oneof![3 => "[A-Za-z0-9+/=]{1,30}".prop_map(Value::String), 1 => junk()],
        prop_oneof![3 => any::<u64>().prop_map(Value::from), 1 => "[0-9]{1,25}".prop_map(Value::String), 1 => junk()],
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "topic", "start_time", "host_email", "type", "duration", "total_size",
                    "share_url", "account_id", "participant_audio_files", "unknown",
                ]),
                junk(),
            ),
            0..6,
        ),
        prop_oneof![3 => prop::collection::vec(file(), 0..6).prop_map(Value::Array), 1 => junk()],
    )
        .prop_map(|(uuid, id, fields, files)| {
            let mut object = Map::new();
            object.insert("uuid".into(), uuid);
            object.insert("id".into(), id);
            object.insert("recording_files".into(), files);
            object.extend(fields.into_iter().map(|(k, v)| (k.to_owned(), v)));
            Value::Object(object)
        });
    let payload = prop_oneof![
        4 => (object, junk()).prop_map(|(object, account)| json!({"object": object, "account_id": account})),
        1 => "\\PC{0,20}".prop_map(|token| json!({"plainToken": token})),
        1 => junk().prop_map(|token| json!({"plainToken": token})),
        1 => (0usize..126).prop_map(|levels| json!({"deep": nested(levels)})),
        1 => junk(),
    ];
    (
        prop_oneof![
            4 => Just(json!("recording.completed")),
            2 => Just(json!("endpoint.url_validation")),
            1 => "[a-z._]{0,20}".prop_map(Value::String),
            1 => junk(),
        ],
        payload,
        prop::option::of(junk()),
        prop::option::of(prop_oneof![Just(json!("tok-123")), junk()]),
    )
        .prop_map(|(event, payload, event_ts, token)| {
            let mut envelope = Map::new();
            envelope.insert("event".into(), event);
            envelope.insert("payload".into(), payload);
            if let Some(ts) = event_ts {
                envelope.insert("event_ts".into(), ts);
            }
            if let Some(token) = token {
                envelope.insert("download_token".into(), token);
            }
            Value::Object(envelope).to_string().into_bytes()
        })
}

/// 1500 cases: near-valid events parse or are refused; a parsed recording
/// never keeps its download token in `raw` or shows it in `Debug`.
#[test]
fn fuzz_webhook_parse_near_valid_events() {
    check(
        1500,
        event_body,
        |body| body_budget(body),
        |body| {
            match parse_event(&body) {
                Ok(ZoomEvent::RecordingCompleted(event)) => {
                    prop_assert!(event.raw.get("download_token").is_none());
                    // The generator's own token, which no other field holds.
                    if event.download_token.as_deref() == Some("tok-123") {
                        let shown = format!("{event:?}");
                        prop_assert!(!shown.contains("tok-123"));
                    }
                }
                Ok(_) | Err(EventError::Malformed(_) | EventError::InvalidPayload { .. }) => {}
            }
            Ok(())
        },
    );
}

/// 2000 cases: any bytes, and bytes drawn from JSON's punctuation.
#[test]
fn fuzz_webhook_parse_random_bytes() {
    check(
        2000,
        || {
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..600),
                prop::collection::vec(
                    prop::sample::select(b"{}[]\":,0123456789.eE+-tfnul event payload".to_vec()),
                    0..600
                ),
            ]
        },
        |body| body_budget(body),
        |body| {
            let _ = parse_event(&body);
            Ok(())
        },
    );
}

/// JSON nested as deep as serde_json allows (128) parses; deeper is a
/// `Malformed` error, even 100,000 levels deep, never a stack overflow.
#[test]
fn fuzz_webhook_parse_nesting_at_and_over_the_json_limit() {
    check(
        1,
        || Just(()),
        |_| 8 * 1024 * 1024,
        |()| {
            let body = |levels: usize| {
                format!(
                    r#"{{"event": "meeting.ended", "payload": {}0{}}}"#,
                    "[".repeat(levels),
                    "]".repeat(levels)
                )
            };
            // The envelope and the payload's arrays: 127 levels in all.
            prop_assert!(parse_event(body(126).as_bytes()).is_ok());
            for levels in [127, 100_000] {
                let error = parse_event(body(levels).as_bytes()).expect_err("too deep");
                prop_assert!(
                    error.to_string().contains("recursion limit exceeded"),
                    "{error}"
                );
            }
            Ok(())
        },
    );
}

/// What a verifier is shown: the two headers, the body and our clock.
#[derive(Debug, Clone)]
struct Delivery {
    timestamp: Option<String>,
    signature: Option<String>,
    body: Vec<u8>,
    now: i64,
}

fn delivery() -> impl Strategy<Value = Delivery> {
    let now = prop_oneof![
        4 => Just(1_700_000_000i64),
        1 => -377_705_116_800i64..=253_402_300_799i64,
    ];
    let timestamp = prop_oneof![
        4 => (-400i64..400).prop_map(|skew| (1_700_000_000 + skew).to_string()),
        1 => any::<i64>().prop_map(|t| t.to_string()),
        1 => Just(i64::MIN.to_string()),
        1 => Just("99999999999999999999".to_owned()),
        1 => Just(" 1700000000 ".to_owned()),
        1 => Just("+1700000000".to_owned()),
        1 => "\\PC{0,12}",
    ];
    // Which signature to send: 0 the right one, 1 right but altered, else junk.
    let signature = prop_oneof![
        3 => Just(0u8),
        1 => Just(1u8),
        1 => Just(2u8),
    ];
    let junk_signature = prop_oneof![
        "v0=[0-9a-f]{64}",
        "v0=[0-9a-fA-F]{0,70}",
        "[ -~]{0,80}",
        "\\PC{0,20}",
        Just("v0=".to_owned()),
    ];
    (
        now,
        prop::option::weighted(0.95, timestamp),
        signature,
        junk_signature,
        prop::collection::vec(any::<u8>(), 0..512),
    )
        .prop_map(|(now, timestamp, which, junk, body)| {
            let secret = SecretString::from(SECRET.to_owned());
            let signature = match (which, timestamp.as_deref().map(|t| t.trim().parse::<i64>())) {
                (0, Some(Ok(t))) => sign(&secret, t, &body),
                (1, Some(Ok(t))) => {
                    let mut s = sign(&secret, t, &body);
                    s.pop();
                    s.push('x');
                    s
                }
                _ => junk,
            };
            Delivery {
                timestamp,
                signature: Some(signature),
                body,
                now,
            }
        })
}

/// 2000 cases: hostile timestamps, signatures, bodies and clocks never
/// panic; a delivery passes only when its signature is Zoom's over exactly
/// `v0:{timestamp header}:{body}` and the timestamp is within the window.
#[test]
fn fuzz_webhook_verify_hostile_deliveries() {
    check(
        2000,
        delivery,
        |delivery| body_budget(&delivery.body),
        |delivery| {
            let verifier = WebhookVerifier::new(SECRET.to_owned());
            let now = OffsetDateTime::from_unix_timestamp(delivery.now).expect("in range");
            let outcome = verifier.verify(
                delivery.timestamp.as_deref(),
                delivery.signature.as_deref(),
                &delivery.body,
                now,
            );
            let secret = SecretString::from(SECRET.to_owned());
            let signed_right = match delivery.timestamp.as_deref() {
                Some(text) => match text.parse::<i64>() {
                    // `sign` formats the number; Zoom's header is the same text.
                    Ok(t) if t.to_string() == text => {
                        delivery.signature.as_deref().map(str::trim)
                            == Some(sign(&secret, t, &delivery.body).as_str())
                    }
                    _ => false,
                },
                None => false,
            };
            match outcome {
                Ok(()) => {
                    prop_assert!(signed_right);
                    let t: i64 = delivery
                        .timestamp
                        .as_deref()
                        .unwrap_or("")
                        .trim()
                        .parse()
                        .expect("verified");
                    prop_assert!(delivery.now.abs_diff(t) <= 300);
                }
                Err(WebhookError::StaleTimestamp { .. }) => prop_assert!(signed_right),
                Err(_) => prop_assert!(!signed_right),
            }
            Ok(())
        },
    );
}
