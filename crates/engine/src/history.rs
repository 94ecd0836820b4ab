//! Step Functions history events: what `GetExecutionHistory` returns. The
//! core produces them as it applies facts; the store keeps them; their JSON
//! is AWS's (`timestamp`, `type`, `id`, `previousEventId` and one
//! `...EventDetails` object named after the type).

use serde_json::{json, Map, Value};

/// One history event. `details` holds the type's detail object; its key is
/// derived from the type when the event is rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: u64,
    pub previous_event_id: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    pub event_type: &'static str,
    pub details: Option<Value>,
}

impl HistoryEvent {
    /// The event as the Step Functions API renders it; `timestamp` is epoch
    /// seconds with millisecond precision, as AWS's JSON protocol sends it.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("timestamp".into(), json!(self.timestamp_ms as f64 / 1000.0));
        obj.insert("type".into(), json!(self.event_type));
        obj.insert("id".into(), json!(self.id));
        obj.insert("previousEventId".into(), json!(self.previous_event_id));
        if let (Some(details), Some(key)) = (&self.details, details_key(self.event_type)) {
            obj.insert(key.into(), details.clone());
        }
        Value::Object(obj)
    }

    /// The same JSON as `to_json`, written straight to text: the journal
    /// stores every event, and building an intermediate `Value` per event
    /// was a measurable share of commit time.
    pub fn to_json_string(&self) -> String {
        // Written with `serde_json::to_writer` into bytes, not through
        // `Display`/`write!`, whose `fmt` plumbing cost more than the JSON.
        let mut out = Vec::with_capacity(160);
        out.extend_from_slice(b"{\"timestamp\":");
        match serde_json::Number::from_f64(self.timestamp_ms as f64 / 1000.0) {
            Some(n) => write_json(&mut out, &n),
            None => out.push(b'0'),
        }
        out.extend_from_slice(b",\"type\":\"");
        out.extend_from_slice(self.event_type.as_bytes());
        out.extend_from_slice(b"\",\"id\":");
        write_json(&mut out, &self.id);
        out.extend_from_slice(b",\"previousEventId\":");
        write_json(&mut out, &self.previous_event_id);
        if let (Some(details), Some(key)) = (&self.details, details_key(self.event_type)) {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":");
            write_json(&mut out, details);
        }
        out.push(b'}');
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    pub fn from_json(v: &Value) -> Option<HistoryEvent> {
        let event_type = intern_type(v.get("type")?.as_str()?)?;
        let details = details_key(event_type).and_then(|k| v.get(k).cloned());
        Some(HistoryEvent {
            id: v.get("id")?.as_u64()?,
            previous_event_id: v.get("previousEventId")?.as_u64()?,
            timestamp_ms: (v.get("timestamp")?.as_f64()? * 1000.0).round() as i64,
            event_type,
            details,
        })
    }
}

/// Every history event type the engine emits, so types are `&'static str`.
pub const EVENT_TYPES: &[&str] = &[
    "ExecutionStarted",
    "ExecutionSucceeded",
    "ExecutionFailed",
    "ExecutionAborted",
    "ExecutionTimedOut",
    "ExecutionRedriven",
    "PassStateEntered",
    "PassStateExited",
    "TaskStateEntered",
    "TaskStateExited",
    "TaskStateAborted",
    "ChoiceStateEntered",
    "ChoiceStateExited",
    "WaitStateEntered",
    "WaitStateExited",
    "WaitStateAborted",
    "SucceedStateEntered",
    "SucceedStateExited",
    "FailStateEntered",
    "ParallelStateEntered",
    "ParallelStateExited",
    "ParallelStateStarted",
    "ParallelStateSucceeded",
    "ParallelStateFailed",
    "ParallelStateAborted",
    "MapStateEntered",
    "MapStateExited",
    "MapStateStarted",
    "MapStateSucceeded",
    "MapStateFailed",
    "MapStateAborted",
    "MapIterationStarted",
    "MapIterationSucceeded",
    "MapIterationFailed",
    "MapIterationAborted",
    "TaskScheduled",
    "TaskStarted",
    "TaskSubmitted",
    "TaskSucceeded",
    "TaskFailed",
    "TaskTimedOut",
    "LambdaFunctionScheduled",
    "LambdaFunctionStarted",
    "LambdaFunctionSucceeded",
    "LambdaFunctionFailed",
    "LambdaFunctionTimedOut",
];

pub fn intern_type(name: &str) -> Option<&'static str> {
    EVENT_TYPES.iter().copied().find(|t| *t == name)
}

/// The detail object's key for an event type, as in the Step Functions API
/// (`HistoryEvent` structure).
pub fn details_key(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "ExecutionStarted" => "executionStartedEventDetails",
        "ExecutionSucceeded" => "executionSucceededEventDetails",
        "ExecutionFailed" => "executionFailedEventDetails",
        "ExecutionAborted" => "executionAbortedEventDetails",
        "ExecutionTimedOut" => "executionTimedOutEventDetails",
        "ExecutionRedriven" => "executionRedrivenEventDetails",
        "MapStateStarted" => "mapStateStartedEventDetails",
        "MapIterationStarted" => "mapIterationStartedEventDetails",
        "MapIterationSucceeded" => "mapIterationSucceededEventDetails",
        "MapIterationFailed" => "mapIterationFailedEventDetails",
        "MapIterationAborted" => "mapIterationAbortedEventDetails",
        "TaskScheduled" => "taskScheduledEventDetails",
        "TaskStarted" => "taskStartedEventDetails",
        "TaskSubmitted" => "taskSubmittedEventDetails",
        "TaskSucceeded" => "taskSucceededEventDetails",
        "TaskFailed" => "taskFailedEventDetails",
        "TaskTimedOut" => "taskTimedOutEventDetails",
        "LambdaFunctionScheduled" => "lambdaFunctionScheduledEventDetails",
        "LambdaFunctionSucceeded" => "lambdaFunctionSucceededEventDetails",
        "LambdaFunctionFailed" => "lambdaFunctionFailedEventDetails",
        "LambdaFunctionTimedOut" => "lambdaFunctionTimedOutEventDetails",
        t if t.ends_with("StateEntered") => "stateEnteredEventDetails",
        t if t.ends_with("StateExited") => "stateExitedEventDetails",
        _ => return None,
    })
}

/// Which data field of an event's details `with_data` fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataField {
    Input,
    Output,
}

/// Adds an `input`/`output` detail field: JSON carried as a string, with a
/// `...Details: {truncated}` sibling, as AWS does.
pub fn with_data(
    mut obj: Map<String, Value>,
    field: DataField,
    value: &Value,
) -> Map<String, Value> {
    let (name, details) = match field {
        DataField::Input => ("input", "inputDetails"),
        DataField::Output => ("output", "outputDetails"),
    };
    obj.insert(name.to_string(), Value::String(json_text(value)));
    let mut truncated = Map::with_capacity(1);
    truncated.insert("truncated".to_string(), Value::Bool(false));
    obj.insert(details.to_string(), Value::Object(truncated));
    obj
}

/// Compact JSON text of a value. Same text as `Value`'s `Display`, written
/// without going through `fmt`, which was a visible share of a Map
/// iteration's cost.
pub fn json_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a serde_json::Value always serializes")
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(&mut *out, value).expect("writing JSON into a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_round_trips_through_json() {
        for (i, t) in EVENT_TYPES.iter().enumerate() {
            let e = HistoryEvent {
                id: i as u64 + 1,
                previous_event_id: i as u64,
                timestamp_ms: 1_700_000_000_123,
                event_type: t,
                details: details_key(t).map(|_| json!({"name": "S"})),
            };
            assert_eq!(HistoryEvent::from_json(&e.to_json()), Some(e.clone()));
            let text: Value = serde_json::from_str(&e.to_json_string()).unwrap();
            assert_eq!(text, e.to_json());
        }
    }

    #[test]
    fn state_events_use_the_shared_detail_keys() {
        assert_eq!(
            details_key("PassStateEntered"),
            Some("stateEnteredEventDetails")
        );
        assert_eq!(
            details_key("MapStateExited"),
            Some("stateExitedEventDetails")
        );
        assert_eq!(details_key("ParallelStateStarted"), None);
    }
}
