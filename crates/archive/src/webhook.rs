//! Zoom's webhook, answered: verify the signature on the raw bytes, answer
//! the URL-validation challenge, start one ingest execution per
//! `recording.completed` (named after the recording, so Zoom's retries start
//! nothing new) and acknowledge everything else. Framework-free: the HTTP
//! server of `zoomvault serve` calls [`handle`] and sends back the
//! [`WebhookReply`] as it is, and so does the AWS deployment's webhook
//! Lambda (`functions/webhook`).
//!
//! It must not know which engine runs the execution (it has only a
//! `WorkflowStarter`), and must not build an execution's name or input
//! itself: `WorkflowStart` is the one mapping from an event to both.

use crate::ports::{StartOutcome, WorkflowStarter};
use crate::steps::WorkflowStart;
use serde_json::{json, Value};
use time::OffsetDateTime;
use zoomvault_zoom::{parse_event, WebhookVerifier, ZoomEvent};

/// The largest webhook body taken. Zoom's `recording.completed` carries
/// the recording's files but not its participants, a few KiB even for a
/// long recording with many files; a body this large is not Zoom's, and is
/// refused (413) before its signature is computed over it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The HTTP answer: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookReply {
    pub status: u16,
    pub body: Value,
}

impl WebhookReply {
    fn new(status: u16, body: Value) -> WebhookReply {
        WebhookReply { status, body }
    }

    fn error(status: u16, message: impl Into<String>) -> WebhookReply {
        WebhookReply::new(status, json!({ "error": message.into() }))
    }
}

/// Handles one webhook request. `timestamp` and `signature` are the
/// `x-zm-request-timestamp` and `x-zm-signature` headers.
pub async fn handle(
    verifier: &WebhookVerifier,
    starter: &dyn WorkflowStarter,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: OffsetDateTime,
) -> WebhookReply {
    if body.len() > MAX_BODY_BYTES {
        tracing::warn!(bytes = body.len(), "webhook body too large; refused");
        return WebhookReply::error(
            413,
            format!(
                "webhook body of {} bytes refused: Zoom's are far under {MAX_BODY_BYTES}",
                body.len()
            ),
        );
    }
    if let Err(e) = verifier.verify(timestamp, signature, body, now) {
        tracing::warn!(error = %e, "webhook refused");
        return WebhookReply::error(401, format!("webhook refused: {e}"));
    }
    let event = match parse_event(body) {
        Ok(event) => event,
        Err(e) => return WebhookReply::error(400, e.to_string()),
    };
    match event {
        ZoomEvent::UrlValidation { plain_token } => {
            WebhookReply::new(200, verifier.url_validation_response(&plain_token))
        }
        ZoomEvent::RecordingCompleted(event) => {
            let start = match WorkflowStart::from_event(&event) {
                Ok(start) => start,
                Err(e) => return WebhookReply::error(400, e.cause),
            };
            match starter.start(&start.name, start.input).await {
                Ok(started) => {
                    let outcome = match started.outcome {
                        StartOutcome::Started => "started",
                        StartOutcome::AlreadyExists => "already_exists",
                    };
                    tracing::info!(
                        recording_uuid = %event.recording.uuid,
                        execution = %started.execution_arn,
                        outcome,
                        "recording.completed accepted"
                    );
                    WebhookReply::new(
                        200,
                        json!({ "execution_arn": started.execution_arn, "outcome": outcome }),
                    )
                }
                // Not answering 200 makes Zoom deliver again later (+5, +20,
                // +60 min), which is what a busy or broken engine needs.
                Err(e) => {
                    tracing::error!(error = %e, "could not start the ingest workflow");
                    WebhookReply::error(503, format!("could not start the ingest workflow: {e}"))
                }
            }
        }
        ZoomEvent::Other { event, .. } => WebhookReply::new(200, json!({ "ignored": event })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::RecordingStarter;

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_before_anything_else() {
        let verifier = WebhookVerifier::new("fixture-secret".to_string());
        let starter = RecordingStarter::default();
        let body = vec![b' '; MAX_BODY_BYTES + 1];
        let now = OffsetDateTime::now_utc();
        let signature =
            zoomvault_zoom::webhook::sign(verifier.secret_token(), now.unix_timestamp(), &body);
        let reply = handle(
            &verifier,
            &starter,
            Some(&now.unix_timestamp().to_string()),
            Some(&signature),
            &body,
            now,
        )
        .await;
        assert_eq!(reply.status, 413, "{:?}", reply.body);
        assert!(starter.calls().is_empty());
    }
}
