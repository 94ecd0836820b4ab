//! Starting an ingest by hand: from a saved `recording.completed` webhook
//! body (as Zoom sent it, or as an `events/` sample holds it), or from a
//! recording's UUID alone (`{"recording_uuid": ...}`, or `meeting_uuid`,
//! Zoom's name for the same thing). The `start-ingest` Lambda calls
//! [`start_ingest`]; the execution is named by the same rule as the
//! webhook's ([`WorkflowStart`]), so a manual start of a recording the
//! webhook already started starts nothing new.
//!
//! It must not know which engine runs the execution: it has only a
//! `WorkflowStarter`.

use crate::document::IngestSource;
use crate::ports::{StartOutcome, WorkflowStarter};
use crate::steps::{StepError, WorkflowStart};
use serde_json::{json, Value};
use zoomvault_zoom::{parse_event, ZoomEvent};

/// What a manual start asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ManualStart {
    /// A saved webhook body: the ingest gets the event (and its download
    /// token, if still fresh), exactly as the webhook would have.
    Event(WorkflowStart),
    /// A recording by UUID: the steps read it through the API with OAuth.
    Recording(WorkflowStart),
}

impl ManualStart {
    /// Reads a start request: a `recording.completed` body, or an object
    /// with `recording_uuid` or `meeting_uuid`.
    pub fn parse(payload: &Value) -> Result<ManualStart, StepError> {
        if payload.get("event").is_some() {
            let body = serde_json::to_vec(payload).expect("JSON re-encodes");
            let event = parse_event(&body).map_err(|e| invalid(format!("{e}")))?;
            return match event {
                ZoomEvent::RecordingCompleted(event) => {
                    Ok(ManualStart::Event(WorkflowStart::from_event(&event)?))
                }
                ZoomEvent::UrlValidation { .. } => Err(invalid(
                    "an endpoint.url_validation event starts no ingest; give a recording.completed body"
                        .to_string(),
                )),
                ZoomEvent::Other { event, .. } => Err(invalid(format!(
                    "a {event} event starts no ingest; give a recording.completed body"
                ))),
            };
        }
        for field in ["recording_uuid", "meeting_uuid"] {
            match payload.get(field) {
                Some(Value::String(uuid)) if !uuid.is_empty() => {
                    return Ok(ManualStart::Recording(WorkflowStart::for_meeting(
                        uuid,
                        IngestSource::Manual,
                    )?));
                }
                Some(other) => {
                    return Err(invalid(format!(
                        "{field} must be a non-empty string, not {other}"
                    )))
                }
                None => {}
            }
        }
        Err(invalid(
            "expected a recording.completed webhook body (with \"event\" and \"payload\") or {\"recording_uuid\": \"...\"}"
                .to_string(),
        ))
    }

    pub fn workflow(&self) -> &WorkflowStart {
        match self {
            ManualStart::Event(start) | ManualStart::Recording(start) => start,
        }
    }
}

/// Starts the ingest `payload` asks for. Result: `{"execution_arn",
/// "execution_name", "outcome": "started" | "already_exists"}`.
pub async fn start_ingest(
    starter: &dyn WorkflowStarter,
    payload: &Value,
) -> Result<Value, StepError> {
    let start = ManualStart::parse(payload)?;
    let workflow = start.workflow();
    let started = starter
        .start(&workflow.name, workflow.input.clone())
        .await
        .map_err(|e| {
            let name = if e.is_transient() {
                "Workflow.Unavailable"
            } else {
                "Workflow.StartFailed"
            };
            StepError::new(name, format!("starting {}: {e}", workflow.name))
        })?;
    let outcome = match started.outcome {
        StartOutcome::Started => "started",
        StartOutcome::AlreadyExists => "already_exists",
    };
    tracing::info!(execution = %started.execution_arn, outcome, "manual ingest");
    Ok(json!({
        "execution_arn": started.execution_arn,
        "execution_name": workflow.name,
        "outcome": outcome,
    }))
}

fn invalid(cause: String) -> StepError {
    StepError::new("Ingest.InvalidInput", format!("start-ingest: {cause}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::workflow::{Error, StartedExecution};
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Recorder(Mutex<Vec<(String, Value)>>);

    #[async_trait::async_trait]
    impl WorkflowStarter for Recorder {
        async fn start(&self, name: &str, input: Value) -> Result<StartedExecution, Error> {
            let mut started = self.0.lock().unwrap();
            let outcome = if started.iter().any(|(n, _)| n == name) {
                StartOutcome::AlreadyExists
            } else {
                StartOutcome::Started
            };
            started.push((name.to_string(), input));
            Ok(StartedExecution {
                execution_arn: format!(
                    "arn:aws:states:us-east-1:123456789012:execution:zoomvault-ingest:{name}"
                ),
                outcome,
            })
        }
    }

    fn sample(path: &str) -> Value {
        let path = format!("{}/../../events/{path}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).expect("sample exists"))
            .expect("sample is JSON")
    }

    #[tokio::test]
    async fn every_start_ingest_sample_starts_one_execution_named_by_the_recording() {
        let starter = Recorder::default();
        let mut names = Vec::new();
        for path in [
            "start-ingest/saved-webhook.json",
            "start-ingest/recording-uuid.json",
            "start-ingest/meeting-uuid.json",
        ] {
            let answer = start_ingest(&starter, &sample(path)).await.expect(path);
            names.push(answer["execution_name"].as_str().unwrap().to_string());
        }
        // The three samples name one recording, so one execution: the
        // later two find it.
        assert!(names.iter().all(|n| n == &names[0]), "{names:?}");
        let started = starter.0.lock().unwrap();
        assert_eq!(started.len(), 3);
        assert_eq!(started[0].1["source"], "webhook");
        assert_eq!(started[1].1["source"], "manual");
        assert!(started[1].1.get("event").is_none());
    }

    #[tokio::test]
    async fn bad_requests_say_what_is_wrong() {
        let starter = Recorder::default();
        for (payload, expected) in [
            (json!({}), "expected a recording.completed webhook body"),
            (
                json!({"recording_uuid": 42}),
                "recording_uuid must be a non-empty string",
            ),
            (
                json!({"recording_uuid": ""}),
                "recording_uuid must be a non-empty string",
            ),
            (
                json!({"event": "meeting.started", "payload": {}}),
                "a meeting.started event starts no ingest",
            ),
        ] {
            let e = start_ingest(&starter, &payload).await.unwrap_err();
            assert_eq!(e.name, "Ingest.InvalidInput");
            assert!(e.cause.contains(expected), "{payload}: {}", e.cause);
        }
        assert!(starter.0.lock().unwrap().is_empty());
    }
}
