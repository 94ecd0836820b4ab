//! Typed Zoom webhook events: the URL-validation challenge, `recording.completed`
//! (the one zoomvault acts on), and every other event kept as raw JSON so it
//! can be acknowledged. It owns parsing only; it must not verify signatures
//! (call `webhook` first, on the raw bytes) or decide what to do with an event.

use std::fmt;

use serde::Deserialize;

use crate::types::MeetingRecording;

/// Why a webhook body could not be understood. Callers answer 400.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not JSON, or JSON without the `event` envelope. serde's message
    /// carries the line and column.
    #[error("webhook body is not a Zoom event: {0}")]
    Malformed(#[source] serde_json::Error),
    /// A known event whose payload lacks what zoomvault needs.
    #[error("`{event}` payload is invalid: {source}")]
    InvalidPayload {
        event: String,
        #[source]
        source: serde_json::Error,
    },
}

/// A parsed webhook event.
#[derive(Debug, Clone, PartialEq)]
pub enum ZoomEvent {
    /// `endpoint.url_validation`: answer with
    /// [`crate::webhook::url_validation_response`].
    UrlValidation { plain_token: String },
    /// Boxed because it is far larger than the other variants.
    RecordingCompleted(Box<RecordingCompleted>),
    /// Any other event, acknowledged and otherwise ignored.
    Other {
        event: String,
        payload: serde_json::Value,
    },
}

impl ZoomEvent {
    /// The event's name as Zoom spells it.
    pub fn name(&self) -> &str {
        match self {
            ZoomEvent::UrlValidation { .. } => URL_VALIDATION,
            ZoomEvent::RecordingCompleted(_) => RECORDING_COMPLETED,
            ZoomEvent::Other { event, .. } => event,
        }
    }
}

pub const URL_VALIDATION: &str = "endpoint.url_validation";
pub const RECORDING_COMPLETED: &str = "recording.completed";

/// `recording.completed`: a meeting's cloud recording is ready to download.
#[derive(Clone, PartialEq)]
pub struct RecordingCompleted {
    /// Milliseconds since the Unix epoch, when Zoom emitted the event. Absent
    /// only in hand-written events (manual ingest).
    pub event_ts: Option<i64>,
    pub account_id: Option<String>,
    /// A bearer token for the files' `download_url`s, valid about 24 hours.
    /// `Debug` never shows it.
    pub download_token: Option<String>,
    pub recording: MeetingRecording,
    /// The event JSON as received, except `download_token`, which is removed
    /// so that storing `raw` (as the archive does) never persists a
    /// credential.
    pub raw: serde_json::Value,
}

impl fmt::Debug for RecordingCompleted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingCompleted")
            .field("event_ts", &self.event_ts)
            .field("account_id", &self.account_id)
            .field(
                "download_token",
                &self.download_token.as_ref().map(|_| "<redacted>"),
            )
            .field("recording", &self.recording)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Envelope {
    event: String,
    #[serde(default)]
    event_ts: Option<i64>,
    #[serde(default)]
    payload: serde_json::Value,
    #[serde(default)]
    download_token: Option<String>,
}

#[derive(Deserialize)]
struct UrlValidationPayload {
    #[serde(rename = "plainToken")]
    plain_token: String,
}

#[derive(Deserialize)]
struct RecordingPayload {
    #[serde(default)]
    account_id: Option<String>,
    object: MeetingRecording,
}

/// Parses a webhook body (the same bytes whose signature was verified).
pub fn parse_event(raw_body: &[u8]) -> Result<ZoomEvent, EventError> {
    let mut raw: serde_json::Value =
        serde_json::from_slice(raw_body).map_err(EventError::Malformed)?;
    let envelope = Envelope::deserialize(&raw).map_err(EventError::Malformed)?;
    let invalid = |source| EventError::InvalidPayload {
        event: envelope.event.clone(),
        source,
    };
    match envelope.event.as_str() {
        URL_VALIDATION => {
            let payload = UrlValidationPayload::deserialize(&envelope.payload).map_err(invalid)?;
            Ok(ZoomEvent::UrlValidation {
                plain_token: payload.plain_token,
            })
        }
        RECORDING_COMPLETED => {
            let payload = RecordingPayload::deserialize(&envelope.payload).map_err(invalid)?;
            if let Some(object) = raw.as_object_mut() {
                object.remove("download_token");
            }
            let account_id = payload
                .account_id
                .or_else(|| payload.object.account_id.clone());
            Ok(ZoomEvent::RecordingCompleted(Box::new(
                RecordingCompleted {
                    event_ts: envelope.event_ts,
                    account_id,
                    download_token: envelope.download_token.filter(|t| !t.is_empty()),
                    recording: payload.object,
                    raw,
                },
            )))
        }
        _ => Ok(ZoomEvent::Other {
            event: envelope.event,
            payload: envelope.payload,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn error_text(body: &str) -> String {
        match parse_event(body.as_bytes()) {
            Ok(event) => format!("parsed {}", event.name()),
            Err(error) => {
                let mut text = error.to_string();
                let mut source = std::error::Error::source(&error);
                while let Some(inner) = source {
                    text.push_str(&format!(" <- {inner}"));
                    source = inner.source();
                }
                text
            }
        }
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        expect![[r#"webhook body is not a Zoom event: expected `,` or `}` at line 2 column 3 <- expected `,` or `}` at line 2 column 3"#]]
            .assert_eq(&error_text("{\"event\": \"x\"\n  \"payload\": {}}"));
        expect!["webhook body is not a Zoom event: missing field `event` <- missing field `event`"]
            .assert_eq(&error_text("{\"payload\": {}}"));
    }

    #[test]
    fn known_events_with_bad_payloads_say_which_event() {
        expect!["`endpoint.url_validation` payload is invalid: missing field `plainToken` <- missing field `plainToken`"]
            .assert_eq(&error_text(r#"{"event": "endpoint.url_validation", "payload": {}}"#));
        expect!["`recording.completed` payload is invalid: missing field `object` <- missing field `object`"]
            .assert_eq(&error_text(r#"{"event": "recording.completed", "payload": {"account_id": "a"}}"#));
    }

    #[test]
    fn other_events_are_kept_leniently() {
        let event = parse_event(br#"{"event": "meeting.ended", "payload": {"anything": [1]}}"#)
            .expect("lenient");
        assert_eq!(
            event,
            ZoomEvent::Other {
                event: "meeting.ended".into(),
                payload: serde_json::json!({"anything": [1]}),
            }
        );
    }

    #[test]
    fn recording_completed_keeps_the_token_out_of_raw_and_debug() {
        let body = br#"{"event": "recording.completed", "event_ts": 1, "download_token": "tok-123",
            "payload": {"account_id": "acc", "object": {"uuid": "u==", "id": 5}}}"#;
        let ZoomEvent::RecordingCompleted(event) = parse_event(body).expect("parses") else {
            panic!("wrong variant");
        };
        assert_eq!(event.download_token.as_deref(), Some("tok-123"));
        assert!(event.raw.get("download_token").is_none());
        assert!(!format!("{event:?}").contains("tok-123"));
        assert_eq!(event.account_id.as_deref(), Some("acc"));
    }
}
