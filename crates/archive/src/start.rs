//! Starting an ingest by hand, from what an operator has at hand: a saved
//! `recording.completed` webhook body (as Zoom sent it, or as an `events/`
//! sample holds it), a recording's UUID (`{"recording_uuid": ...}`, or
//! `meeting_uuid`, Zoom's name for the same thing), a meeting number
//! (`{"meeting_id": ...}`: its latest instance with a recording, or every
//! instance with `"all_instances": true`), or a recording's share link
//! (`{"share_url": ...}`, found among the account's recordings). The
//! `start-ingest` Lambda and `zoomvault ingest` call [`start_ingest`].
//!
//! Executions are named by the same rule as the webhook's
//! ([`WorkflowStart`]), so a manual start of a recording already started
//! starts nothing new. `"force": true` re-ingests anyway, under a name of
//! its own ([`keys::forced_execution_name`]); a recording Finalize already
//! moved to Zoom's trash is recovered first. The archived document stays
//! as it is until the new ingest's Finalize replaces it.
//!
//! It must not know which engine runs the execution: it has only a
//! `WorkflowStarter`, and a Zoom client for the forms that need the API.

use crate::document::IngestSource;
use crate::keys;
use crate::ports::{StartOutcome, WorkflowStarter};
use crate::steps::{StepError, WorkflowStart};
use serde_json::{json, Value};
use time::{Date, Duration, OffsetDateTime};
use zoomvault_zoom::{parse_event, ZoomClient, ZoomEvent};

/// How far back a share link is looked for when the request gives no
/// `from`: a year of the account's recordings.
pub const SHARE_LINK_LOOKBACK_DAYS: i64 = 365;

/// What a manual start asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ManualStart {
    /// A saved webhook body: the ingest gets the event (and its download
    /// token, if still fresh), exactly as the webhook would have.
    Event(WorkflowStart),
    /// A recording by UUID: the steps read it through the API with OAuth.
    Recording(WorkflowStart),
    /// A meeting number: its latest instance with a recording, or all.
    Meeting { id: u64, all_instances: bool },
    /// A recording's share link, looked for among the account's
    /// recordings that started between `from` and `to`.
    ShareLink { url: String, from: Date, to: Date },
}

/// A parsed request: what to start, and whether to force it.
#[derive(Debug, Clone, PartialEq)]
pub struct StartRequest {
    pub what: ManualStart,
    pub force: bool,
}

impl ManualStart {
    /// Reads a start request's target (see the module documentation).
    pub fn parse(payload: &Value) -> Result<ManualStart, StepError> {
        Ok(StartRequest::parse(payload, OffsetDateTime::now_utc().date())?.what)
    }

    /// The workflow start of a request that names one recording itself
    /// (an event or a UUID); `None` for those that need Zoom's API.
    pub fn workflow(&self) -> Option<&WorkflowStart> {
        match self {
            ManualStart::Event(start) | ManualStart::Recording(start) => Some(start),
            ManualStart::Meeting { .. } | ManualStart::ShareLink { .. } => None,
        }
    }
}

impl StartRequest {
    /// Reads a request; `today` bounds a share link's search.
    pub fn parse(payload: &Value, today: Date) -> Result<StartRequest, StepError> {
        let force = match payload.get("force") {
            None => false,
            Some(Value::Bool(force)) => *force,
            Some(other) => {
                return Err(invalid(format!("force must be true or false, not {other}")))
            }
        };
        Ok(StartRequest {
            what: parse_target(payload, today)?,
            force,
        })
    }
}

fn parse_target(payload: &Value, today: Date) -> Result<ManualStart, StepError> {
    if payload.get("event").is_some() {
        let mut body = payload.clone();
        if let Some(object) = body.as_object_mut() {
            object.remove("force");
        }
        let body = serde_json::to_vec(&body).expect("JSON re-encodes");
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
    if let Some(id) = payload.get("meeting_id") {
        let id = match id {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.replace(' ', "").parse().ok(),
            _ => None,
        }
        .filter(|id| *id > 0)
        .ok_or_else(|| invalid(format!("meeting_id must be a meeting number, not {id}")))?;
        let all_instances = match payload.get("all_instances") {
            None => false,
            Some(Value::Bool(all)) => *all,
            Some(other) => {
                return Err(invalid(format!(
                    "all_instances must be true or false, not {other}"
                )))
            }
        };
        return Ok(ManualStart::Meeting { id, all_instances });
    }
    if let Some(url) = payload.get("share_url") {
        let Some(url) = url
            .as_str()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        else {
            return Err(invalid(format!(
                "share_url must be a Zoom share link (https://...), not {url}"
            )));
        };
        let date = |field: &str, default: Date| -> Result<Date, StepError> {
            match payload.get(field) {
                None => Ok(default),
                Some(Value::String(text)) => parse_day(field, text).map_err(invalid),
                Some(other) => Err(invalid(format!(
                    "{field} must be a date as YYYY-MM-DD, not {other}"
                ))),
            }
        };
        let to = date("to", today)?;
        let from = date("from", to - Duration::days(SHARE_LINK_LOOKBACK_DAYS))?;
        if from > to {
            return Err(invalid(format!("from {from} is after to {to}")));
        }
        return Ok(ManualStart::ShareLink {
            url: share_link_identity(url).to_string(),
            from,
            to,
        });
    }
    Err(invalid(
        "expected a recording.completed webhook body (with \"event\" and \"payload\"), {\"recording_uuid\": \"...\"}, {\"meeting_id\": ...} or {\"share_url\": \"...\"}"
            .to_string(),
    ))
}

/// A day as a request gives it (`YYYY-MM-DD`), or why not, naming `field`:
/// the one reading of the date fields of start and scan requests.
pub(crate) fn parse_day(field: &str, text: &str) -> Result<Date, String> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("{field} must be a date as YYYY-MM-DD, not {text:?}"))
}

/// A share link without its query (`?pwd=...`) or fragment: the part that
/// names the recording.
fn share_link_identity(url: &str) -> &str {
    url.split(['?', '#'])
        .next()
        .unwrap_or(url)
        .trim_end_matches('/')
}

/// Starts the ingests `payload` asks for. Result: `{"executions": [{
/// "recording_uuid", "execution_arn", "execution_name", "outcome":
/// "started" | "already_exists"}], "skipped": [{"recording_uuid",
/// "reason"}]}`. `zoom` is needed for a meeting number, a share link or
/// `force`; without it those are refused.
pub async fn start_ingest(
    starter: &dyn WorkflowStarter,
    zoom: Option<&ZoomClient>,
    payload: &Value,
) -> Result<Value, StepError> {
    let now = OffsetDateTime::now_utc();
    let request = StartRequest::parse(payload, now.date())?;
    let needs_zoom = || {
        invalid(
            "a meeting number, a share link or force needs Zoom's API, and no Zoom credentials are configured"
                .to_string(),
        )
    };
    let mut skipped = Vec::new();
    let mut starts: Vec<WorkflowStart> = match request.what {
        ManualStart::Event(start) | ManualStart::Recording(start) => vec![start],
        ManualStart::Meeting { id, all_instances } => {
            let zoom = zoom.ok_or_else(needs_zoom)?;
            if all_instances {
                let mut starts = Vec::new();
                for instance in zoom.past_meeting_instances(id).await.map_err(zoom_error)? {
                    match zoom.meeting_recordings(&instance.uuid).await {
                        Ok(_) => starts.push(WorkflowStart::for_meeting(
                            &instance.uuid,
                            IngestSource::Manual,
                        )?),
                        Err(zoomvault_zoom::Error::NotFound { .. }) => skipped.push(json!({
                            "recording_uuid": instance.uuid,
                            "reason": "no cloud recording in Zoom (none made, deleted, or in the trash)",
                        })),
                        Err(e) => return Err(zoom_error(e)),
                    }
                }
                starts
            } else {
                let uuid = match zoom.meeting_recordings(&id.to_string()).await {
                    Ok(recording) => recording.uuid,
                    // No instance has a listed recording: most often the
                    // latest was archived and trashed already. Its start
                    // then finds that execution; a recording trashed by
                    // someone else fails its ingest with the cause.
                    Err(zoomvault_zoom::Error::NotFound { .. }) => zoom
                        .past_meeting_instances(id)
                        .await
                        .map_err(zoom_error)?
                        .into_iter()
                        .max_by_key(|instance| instance.start_time)
                        .map(|instance| instance.uuid)
                        .ok_or_else(|| {
                            StepError::new(
                                "Zoom.NotFound",
                                format!("start-ingest: meeting {id} has no instances"),
                            )
                        })?,
                    Err(e) => return Err(zoom_error(e)),
                };
                vec![WorkflowStart::for_meeting(&uuid, IngestSource::Manual)?]
            }
        }
        ManualStart::ShareLink { url, from, to } => {
            let zoom = zoom.ok_or_else(needs_zoom)?;
            let uuid = find_share_link(zoom, &url, from, to).await?;
            vec![WorkflowStart::for_meeting(&uuid, IngestSource::Manual)?]
        }
    };
    if request.force {
        let zoom = zoom.ok_or_else(needs_zoom)?;
        let at_ms = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        for start in &mut starts {
            let uuid = start.input["meeting_uuid"]
                .as_str()
                .expect("a workflow input names its recording")
                .to_string();
            // Finalize trashed it after the first ingest: bring it back,
            // or the new ingest would find nothing to fetch.
            if let Err(zoomvault_zoom::Error::NotFound { .. }) =
                zoom.meeting_recordings(&uuid).await
            {
                zoom.recover_meeting_recordings(&uuid)
                    .await
                    .map_err(zoom_error)?;
                tracing::info!(recording = %uuid, "recovered from Zoom's trash for a forced re-ingest");
            }
            start.name = keys::forced_execution_name(&uuid, at_ms)?;
        }
    }
    let mut executions = Vec::new();
    for start in starts {
        let started = starter
            .start(&start.name, start.input.clone())
            .await
            .map_err(|e| {
                let name = if e.is_transient() {
                    "Workflow.Unavailable"
                } else {
                    "Workflow.StartFailed"
                };
                StepError::new(name, format!("starting {}: {e}", start.name))
            })?;
        let outcome = match started.outcome {
            StartOutcome::Started => "started",
            StartOutcome::AlreadyExists => "already_exists",
        };
        tracing::info!(execution = %started.execution_arn, outcome, "manual ingest");
        executions.push(json!({
            "recording_uuid": start.input["meeting_uuid"],
            "execution_arn": started.execution_arn,
            "execution_name": start.name,
            "outcome": outcome,
        }));
    }
    Ok(json!({ "executions": executions, "skipped": skipped }))
}

/// The UUID of the recording whose share link is `url`, among the
/// account's recordings between `from` and `to`.
async fn find_share_link(
    zoom: &ZoomClient,
    url: &str,
    from: Date,
    to: Date,
) -> Result<String, StepError> {
    for user in zoom.list_users().await.map_err(zoom_error)? {
        let recordings = zoom
            .list_user_recordings(&user.id, from, to)
            .await
            .map_err(zoom_error)?;
        if let Some(found) = recordings.into_iter().find(|r| {
            r.share_url
                .as_deref()
                .is_some_and(|share| share_link_identity(share) == url)
        }) {
            return Ok(found.uuid);
        }
    }
    Err(StepError::new(
        "Ingest.NotFound",
        format!("start-ingest: no recording between {from} and {to} has the share link {url} (give \"from\" to look further back)"),
    ))
}

fn zoom_error(e: zoomvault_zoom::Error) -> StepError {
    StepError::new(e.error_name(), format!("start-ingest: {e}"))
}

fn invalid(cause: String) -> StepError {
    StepError::new("Ingest.InvalidInput", format!("start-ingest: {cause}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::RecordingStarter as Recorder;

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
            let answer = start_ingest(&starter, None, &sample(path))
                .await
                .expect(path);
            names.push(
                answer["executions"][0]["execution_name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        // The three samples name one recording, so one execution: the
        // later two find it.
        assert!(names.iter().all(|n| n == &names[0]), "{names:?}");
        let started = starter.calls();
        assert_eq!(started.len(), 3);
        assert_eq!(starter.started().len(), 1);
        assert_eq!(started[0].1["source"], "webhook");
        assert_eq!(started[1].1["source"], "manual");
        assert!(started[1].1.get("event").is_none());
    }

    #[test]
    fn every_start_ingest_sample_reads() {
        let today = time::macros::date!(2026 - 12 - 05);
        let dir = format!("{}/../../events/start-ingest", env!("CARGO_MANIFEST_DIR"));
        let mut read = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("the samples") {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let request = StartRequest::parse(&sample(&format!("start-ingest/{name}")), today)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            read.push((name, request));
        }
        read.sort_by(|a, b| a.0.cmp(&b.0));
        let names: Vec<&str> = read.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "all-instances.json",
                "force.json",
                "meeting-id.json",
                "meeting-uuid.json",
                "recording-uuid.json",
                "saved-webhook.json",
                "share-url.json"
            ]
        );
        assert_eq!(
            read[0].1.what,
            ManualStart::Meeting {
                id: 85746065432,
                all_instances: true
            }
        );
        assert!(read[1].1.force);
        assert_eq!(
            read[6].1.what,
            ManualStart::ShareLink {
                url: "https://zoom.us/rec/share/4cLKe3kR8x2Sd7b0Xq9Tz1Wm5Pn6Yv.AbCdEfGhIjKlMnOp"
                    .into(),
                from: time::macros::date!(2025 - 12 - 05),
                to: today,
            },
            "the password is not part of the link's identity"
        );
    }

    #[tokio::test]
    async fn bad_requests_say_what_is_wrong() {
        let starter = Recorder::default();
        for (payload, expected) in [
            (json!({}), "expected a recording.completed webhook body"),
            (
                json!({"meeting_id": 85746065432u64}),
                "needs Zoom's API, and no Zoom credentials are configured",
            ),
            (
                json!({"recording_uuid": "abc==", "force": true}),
                "needs Zoom's API",
            ),
            (
                json!({"recording_uuid": "abc==", "force": "yes"}),
                "force must be true or false",
            ),
            (
                json!({"meeting_id": "twelve"}),
                "meeting_id must be a meeting number",
            ),
            (
                json!({"meeting_id": 5, "all_instances": 1}),
                "all_instances must be true or false",
            ),
            (
                json!({"share_url": "zoom.us/rec/share/abc"}),
                "share_url must be a Zoom share link",
            ),
            (
                json!({"share_url": "https://zoom.us/rec/share/abc", "from": "last week"}),
                "from must be a date as YYYY-MM-DD",
            ),
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
            let e = start_ingest(&starter, None, &payload).await.unwrap_err();
            assert_eq!(e.name, "Ingest.InvalidInput");
            assert!(e.cause.contains(expected), "{payload}: {}", e.cause);
        }
        assert!(starter.calls().is_empty());
    }
}
