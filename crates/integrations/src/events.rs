//! `arn:aws:states:::events:putEvents`: Step Functions' optimized
//! EventBridge integration
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html>).
//! The request is PutEvents' `Entries` (`Detail` as a JSON object or its
//! text, `DetailType`, `Source`, `EventBusName`, `Resources`, `Time`); the
//! result is PutEvents' answer, `{"Entries": [{"EventId": ...}],
//! "FailedEntryCount": 0}`. As documented, the execution's and its state
//! machine's ARNs are appended to each entry's `Resources`, and an answer
//! with a non-zero `FailedEntryCount` fails the task with
//! `EventBridge.FailedEntry`, the answer as its cause.
//!
//! Embedded ([`EventTarget::Local`]), the archive's event port stands in
//! for zoomvault's bus with the one rule it deploys: an entry with
//! `Source` `zoomvault` and an archive detail-type (`SiteRebuildRequested`,
//! `RecordingArchived`) is emitted to the port, so it triggers the site
//! rebuild (the ingest's `AnnounceArchived` state sends them); such an
//! entry whose detail is not that event's is refused (`MalformedDetail`),
//! since no local consumer could read it. Any other entry is accepted and,
//! like an event no rule matches on EventBridge, goes nowhere; so is every
//! entry on [`EventTarget::NoRules`], the bus of an engine with no archive.
//! With an endpoint
//! configured ([`EventTarget::EventBridge`]) the entries go to PutEvents
//! through aws-sdk-eventbridge unchanged. This module must not interpret
//! archive events beyond that routing.

use std::sync::Arc;

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde_json::{json, Map, Value};
use zoomvault_archive::ports::events::{ArchiveEvent, EventEntry, EventSink};
use zoomvault_asl::Failure;
use zoomvault_engine::{Handlers, TaskRequest};

pub const PUT_EVENTS: &str = "arn:aws:states:::events:putEvents";
pub const PUT_EVENTS_WAIT_FOR_TASK_TOKEN: &str =
    "arn:aws:states:::events:putEvents.waitForTaskToken";

/// The error of a task whose PutEvents answer refused an entry.
pub const FAILED_ENTRY: &str = "EventBridge.FailedEntry";

/// The `Source` of zoomvault's own events (`aws::eventbridge::SOURCE`).
pub const ARCHIVE_SOURCE: &str = "zoomvault";

/// Where `events:putEvents` sends its entries.
#[derive(Debug, Clone)]
pub enum EventTarget {
    /// The archive's event port (the local queue the site builder reads).
    Local(Arc<dyn EventSink>),
    /// PutEvents on an EventBridge endpoint.
    EventBridge(aws_sdk_eventbridge::Client),
    /// A bus with no rules (`zoomvault engine serve`, which has no
    /// archive): an entry PutEvents would take is accepted and goes
    /// nowhere, as on an EventBridge bus no rule matches.
    NoRules,
}

const MEMBERS: &[&str] = &["Entries"];
const ENTRY_MEMBERS: &[&str] = &[
    "Detail",
    "DetailType",
    "EventBusName",
    "Resources",
    "Source",
    "Time",
    "TraceHeader",
];

pub fn register(handlers: &mut Handlers, target: EventTarget) {
    for resource in [PUT_EVENTS, PUT_EVENTS_WAIT_FOR_TASK_TOKEN] {
        let target = target.clone();
        handlers.register(resource, move |request: TaskRequest| {
            let target = target.clone();
            async move { put_events(&target, resource, &request).await }
        });
    }
}

/// One entry of the request, read.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    source: Option<String>,
    detail_type: Option<String>,
    /// The detail's text, as PutEvents carries it.
    detail: Option<String>,
    event_bus_name: Option<String>,
    resources: Vec<String>,
}

/// What became of one entry: its event id, or PutEvents' error code and
/// message.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Accepted(String),
    Refused { code: String, message: String },
}

pub async fn put_events(
    target: &EventTarget,
    resource: &str,
    request: &TaskRequest,
) -> Result<Value, Failure> {
    let entries = read_entries(&request.input, resource, &request.execution_arn)?;
    let outcomes = match target {
        EventTarget::Local(sink) => {
            let mut outcomes = Vec::with_capacity(entries.len());
            for entry in &entries {
                outcomes.push(deliver_locally(Some(sink.as_ref()), entry).await?);
            }
            outcomes
        }
        EventTarget::NoRules => {
            let mut outcomes = Vec::with_capacity(entries.len());
            for entry in &entries {
                outcomes.push(deliver_locally(None, entry).await?);
            }
            outcomes
        }
        EventTarget::EventBridge(client) => send(client, &entries).await?,
    };
    answer(&outcomes)
}

fn read_entries(input: &Value, resource: &str, execution_arn: &str) -> Result<Vec<Entry>, Failure> {
    crate::only_members(input, MEMBERS, resource)?;
    let entries = crate::required(input, "Entries", resource)?
        .as_array()
        .ok_or_else(|| {
            Failure::runtime(format!(
                "The field 'Entries' of {resource} must be an array"
            ))
        })?;
    // PutEvents takes 1 to 10 entries (its API reference); more is a
    // ValidationException before any entry is looked at.
    if entries.is_empty() || entries.len() > 10 {
        return Err(Failure::new(
            "EventBridge.ValidationException",
            format!(
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: \
                 Member must have length between 1 and 10 (got {})",
                entries.len()
            ),
        ));
    }
    let machine_arn = state_machine_arn(execution_arn);
    entries
        .iter()
        .map(|entry| {
            crate::only_members(entry, ENTRY_MEMBERS, resource)?;
            let text = |member: &str| -> Result<Option<String>, Failure> {
                match entry.get(member) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(_) => Err(Failure::runtime(format!(
                        "The field '{member}' of an entry of {resource} must be a string"
                    ))),
                }
            };
            // Step Functions takes Detail as JSON and sends its text; a
            // string is sent as it is (PutEvents then judges it).
            let detail = match entry.get("Detail") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            };
            let mut resources = match entry.get("Resources") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|r| r.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        Failure::runtime(format!("'Resources' of {resource} must be strings"))
                    })?,
                Some(_) => {
                    return Err(Failure::runtime(format!(
                        "'Resources' of {resource} must be an array"
                    )))
                }
            };
            resources.push(execution_arn.to_owned());
            if let Some(machine) = &machine_arn {
                resources.push(machine.clone());
            }
            Ok(Entry {
                source: text("Source")?,
                detail_type: text("DetailType")?,
                detail,
                event_bus_name: text("EventBusName")?,
                resources,
            })
        })
        .collect()
}

/// The state machine of an execution ARN, when it is one.
fn state_machine_arn(execution_arn: &str) -> Option<String> {
    let parsed = zoomvault_arn::parse(execution_arn).ok()?;
    Some(zoomvault_arn::state_machine(
        parsed.scope,
        parsed.resource.state_machine_name(),
    ))
}

/// PutEvents' own checks of an entry, the ones the local bus makes:
/// `Source`, `DetailType` and `Detail` are required, and `Detail` must be
/// a JSON object (the EventBridge API reference's `InvalidArgument` and
/// `MalformedDetail` entry errors).
fn check(entry: &Entry) -> Result<Map<String, Value>, Outcome> {
    let (Some(_), Some(_), Some(detail)) = (&entry.source, &entry.detail_type, &entry.detail)
    else {
        return Err(Outcome::Refused {
            code: "InvalidArgument".into(),
            message: "Parameters Source, DetailType and Detail are required for an entry.".into(),
        });
    };
    match serde_json::from_str::<Value>(detail) {
        Ok(Value::Object(detail)) => Ok(detail),
        _ => Err(Outcome::Refused {
            code: "MalformedDetail".into(),
            message: "Detail is malformed.".into(),
        }),
    }
}

/// Delivers one entry to the local bus: to `sink` when it is an archive
/// event and there is a sink (the one rule zoomvault deploys), else nowhere.
async fn deliver_locally(sink: Option<&dyn EventSink>, entry: &Entry) -> Result<Outcome, Failure> {
    let detail = match check(entry) {
        Ok(detail) => detail,
        Err(refused) => return Ok(refused),
    };
    let detail_type = entry.detail_type.clone().unwrap_or_default();
    let ours = entry.source.as_deref() == Some(ARCHIVE_SOURCE)
        && ["SiteRebuildRequested", "RecordingArchived"].contains(&detail_type.as_str());
    if let Some(sink) = sink.filter(|_| ours) {
        let event = ArchiveEvent::from_entry(&EventEntry {
            detail_type,
            detail: Value::Object(detail),
        });
        let Ok(event) = event else {
            return Ok(Outcome::Refused {
                code: "MalformedDetail".into(),
                message: "Detail is not a zoomvault event of its detail-type.".into(),
            });
        };
        sink.emit(event).await.map_err(|e| {
            // The port's own failure is the service failing, not an entry
            // refused: Retry can match it as EventBridge's internal error.
            Failure::new("EventBridge.InternalException", e.to_string())
        })?;
    } else {
        tracing::debug!(
            source = entry.source.as_deref().unwrap_or_default(),
            detail_type,
            "an event no local rule matches was accepted and dropped"
        );
    }
    Ok(Outcome::Accepted(uuid::Uuid::new_v4().to_string()))
}

async fn send(
    client: &aws_sdk_eventbridge::Client,
    entries: &[Entry],
) -> Result<Vec<Outcome>, Failure> {
    let request = entries
        .iter()
        .map(|e| {
            PutEventsRequestEntry::builder()
                .set_source(e.source.clone())
                .set_detail_type(e.detail_type.clone())
                .set_detail(e.detail.clone())
                .set_event_bus_name(e.event_bus_name.clone())
                .set_resources(Some(e.resources.clone()))
                .build()
        })
        .collect::<Vec<_>>();
    let output = client
        .put_events()
        .set_entries(Some(request))
        .send()
        .await
        .map_err(|e| {
            let code = e.code().unwrap_or("AmazonEventBridge").to_owned();
            let message = e
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| e.to_string());
            Failure::new(
                format!("EventBridge.{}", with_exception_suffix(&code)),
                message,
            )
        })?;
    Ok(output
        .entries()
        .iter()
        .map(|entry| match entry.error_code() {
            Some(code) => Outcome::Refused {
                code: code.to_owned(),
                message: entry.error_message().unwrap_or_default().to_owned(),
            },
            None => Outcome::Accepted(entry.event_id().unwrap_or_default().to_owned()),
        })
        .collect())
}

/// Step Functions names a service's errors with an `Exception` suffix,
/// also where the service's own code has none
/// (<https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html>).
pub(crate) fn with_exception_suffix(code: &str) -> String {
    if code.ends_with("Exception") {
        code.to_owned()
    } else {
        format!("{code}Exception")
    }
}

/// PutEvents' answer, or the task's failure when an entry was refused.
fn answer(outcomes: &[Outcome]) -> Result<Value, Failure> {
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Refused { .. }))
        .count();
    let entries: Vec<Value> = outcomes
        .iter()
        .map(|o| match o {
            Outcome::Accepted(id) => json!({ "EventId": id }),
            Outcome::Refused { code, message } => {
                json!({ "ErrorCode": code, "ErrorMessage": message })
            }
        })
        .collect();
    let response = json!({ "Entries": entries, "FailedEntryCount": failed });
    if failed == 0 {
        Ok(response)
    } else {
        Err(Failure::new(FAILED_ENTRY, response.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(input: Value) -> Result<Vec<Entry>, Failure> {
        read_entries(
            &input,
            PUT_EVENTS,
            "arn:aws:states:us-east-1:000000000000:execution:machine:run-1",
        )
    }

    #[test]
    fn detail_objects_are_sent_as_text_and_the_execution_is_a_resource() {
        let read = entries(json!({"Entries": [{
            "Detail": {"Message": "MyMessage"},
            "DetailType": "MyDetailType",
            "EventBusName": "MyEventBus",
            "Source": "my.source"
        }]}))
        .expect("valid");
        assert_eq!(
            read[0].detail.as_deref(),
            Some(r#"{"Message":"MyMessage"}"#)
        );
        assert_eq!(
            read[0].resources,
            [
                "arn:aws:states:us-east-1:000000000000:execution:machine:run-1",
                "arn:aws:states:us-east-1:000000000000:stateMachine:machine"
            ]
        );
    }

    #[test]
    fn malformed_requests_fail_before_anything_is_sent() {
        for (input, error) in [
            (json!({}), "States.Runtime"),
            (json!({"Entries": []}), "EventBridge.ValidationException"),
            (json!({"Entries": [{"Source": 1}]}), "States.Runtime"),
            (json!({"Entries": [{"Bogus": 1}]}), "States.Runtime"),
            (json!({"Entries": [], "Extra": 1}), "States.Runtime"),
        ] {
            let failure = entries(input.clone()).expect_err(&input.to_string());
            assert_eq!(failure.error, error, "{input}");
        }
    }

    #[test]
    fn a_refused_entry_fails_the_task_with_the_answer_as_cause() {
        let outcomes = [
            Outcome::Accepted("id-1".into()),
            Outcome::Refused {
                code: "MalformedDetail".into(),
                message: "Detail is malformed.".into(),
            },
        ];
        let failure = answer(&outcomes).expect_err("one refused");
        assert_eq!(failure.error, FAILED_ENTRY);
        expect_test::expect![[r#"{"Entries":[{"EventId":"id-1"},{"ErrorCode":"MalformedDetail","ErrorMessage":"Detail is malformed."}],"FailedEntryCount":1}"#]]
            .assert_eq(&failure.cause);
    }
}
