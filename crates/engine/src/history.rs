//! Step Functions history events: what `GetExecutionHistory` returns. The
//! core produces them as it applies facts; the store keeps them; their JSON
//! is AWS's (`timestamp`, `type`, `id`, `previousEventId` and one
//! `...EventDetails` object named after the type).

use serde_json::{json, Map, Value};
use zoomvault_asl::definition::StateKind;
use zoomvault_asl::Failure;

/// One history event. `details` holds the type's detail object; its key is
/// derived from the type when the event is rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: u64,
    pub previous_event_id: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    pub event_type: EventType,
    pub details: Option<Value>,
}

impl HistoryEvent {
    /// The event as the Step Functions API renders it; `timestamp` is epoch
    /// seconds with millisecond precision, as AWS's JSON protocol sends it.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("timestamp".into(), json!(self.timestamp_ms as f64 / 1000.0));
        obj.insert("type".into(), json!(self.event_type.name()));
        obj.insert("id".into(), json!(self.id));
        obj.insert("previousEventId".into(), json!(self.previous_event_id));
        if let (Some(details), Some(key)) = (&self.details, self.event_type.details_key()) {
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
        out.extend_from_slice(self.event_type.name().as_bytes());
        out.extend_from_slice(b"\",\"id\":");
        write_json(&mut out, &self.id);
        out.extend_from_slice(b",\"previousEventId\":");
        write_json(&mut out, &self.previous_event_id);
        if let (Some(details), Some(key)) = (&self.details, self.event_type.details_key()) {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":");
            write_json(&mut out, details);
        }
        out.push(b'}');
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    pub fn from_json(v: &Value) -> Option<HistoryEvent> {
        let event_type = EventType::from_name(v.get("type")?.as_str()?)?;
        let details = event_type.details_key().and_then(|k| v.get(k).cloned());
        Some(HistoryEvent {
            id: v.get("id")?.as_u64()?,
            previous_event_id: v.get("previousEventId")?.as_u64()?,
            timestamp_ms: (v.get("timestamp")?.as_f64()? * 1000.0).round() as i64,
            event_type,
            details,
        })
    }
}

/// Declares `EventType` with one variant per name, `ALL` in declaration
/// order and `name()`, so a type's text is its variant's name, spelled once.
macro_rules! event_types {
    ($($name:ident),* $(,)?) => {
        /// Every history event type the engine records, named as AWS names
        /// them in `GetExecutionHistory`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($name),*
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$name),*];

            /// The type's name in the Step Functions API.
            pub fn name(self) -> &'static str {
                match self {
                    $(EventType::$name => stringify!($name)),*
                }
            }
        }
    };
}

event_types! {
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionFailed,
    ExecutionAborted,
    ExecutionTimedOut,
    ExecutionRedriven,
    PassStateEntered,
    PassStateExited,
    TaskStateEntered,
    TaskStateExited,
    TaskStateAborted,
    ChoiceStateEntered,
    ChoiceStateExited,
    WaitStateEntered,
    WaitStateExited,
    WaitStateAborted,
    SucceedStateEntered,
    SucceedStateExited,
    FailStateEntered,
    ParallelStateEntered,
    ParallelStateExited,
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
    ParallelStateAborted,
    MapStateEntered,
    MapStateExited,
    MapStateStarted,
    MapStateSucceeded,
    MapStateFailed,
    MapStateAborted,
    MapIterationStarted,
    MapIterationSucceeded,
    MapIterationFailed,
    MapIterationAborted,
    MapRunStarted,
    MapRunSucceeded,
    MapRunFailed,
    MapRunAborted,
    MapRunRedriven,
    EvaluationFailed,
    TaskScheduled,
    TaskStarted,
    TaskSubmitted,
    TaskSucceeded,
    TaskFailed,
    TaskTimedOut,
    LambdaFunctionScheduled,
    LambdaFunctionStarted,
    LambdaFunctionSucceeded,
    LambdaFunctionFailed,
    LambdaFunctionTimedOut,
}

impl EventType {
    /// The type called `name`, if the engine records it.
    pub fn from_name(name: &str) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The event a state of this kind records when it is entered.
    pub fn entered(kind: &StateKind) -> EventType {
        match kind {
            StateKind::Pass(_) => EventType::PassStateEntered,
            StateKind::Task(_) => EventType::TaskStateEntered,
            StateKind::Choice(_) => EventType::ChoiceStateEntered,
            StateKind::Wait(_) => EventType::WaitStateEntered,
            StateKind::Succeed => EventType::SucceedStateEntered,
            StateKind::Fail(_) => EventType::FailStateEntered,
            StateKind::Parallel(_) => EventType::ParallelStateEntered,
            StateKind::Map(_) => EventType::MapStateEntered,
        }
    }

    /// The event a state of this kind records when it is left; a Fail
    /// state is never left, it ends its run.
    pub fn exited(kind: &StateKind) -> Option<EventType> {
        Some(match kind {
            StateKind::Pass(_) => EventType::PassStateExited,
            StateKind::Task(_) => EventType::TaskStateExited,
            StateKind::Choice(_) => EventType::ChoiceStateExited,
            StateKind::Wait(_) => EventType::WaitStateExited,
            StateKind::Succeed => EventType::SucceedStateExited,
            StateKind::Fail(_) => return None,
            StateKind::Parallel(_) => EventType::ParallelStateExited,
            StateKind::Map(_) => EventType::MapStateExited,
        })
    }

    /// The key of the type's detail object, as in the Step Functions API
    /// (`HistoryEvent` structure); `None` for a type that has none.
    pub fn details_key(self) -> Option<&'static str> {
        use EventType::*;
        Some(match self {
            ExecutionStarted => "executionStartedEventDetails",
            ExecutionSucceeded => "executionSucceededEventDetails",
            ExecutionFailed => "executionFailedEventDetails",
            ExecutionAborted => "executionAbortedEventDetails",
            ExecutionTimedOut => "executionTimedOutEventDetails",
            ExecutionRedriven => "executionRedrivenEventDetails",
            MapStateStarted => "mapStateStartedEventDetails",
            MapIterationStarted => "mapIterationStartedEventDetails",
            MapIterationSucceeded => "mapIterationSucceededEventDetails",
            MapIterationFailed => "mapIterationFailedEventDetails",
            MapIterationAborted => "mapIterationAbortedEventDetails",
            MapRunStarted => "mapRunStartedEventDetails",
            MapRunFailed => "mapRunFailedEventDetails",
            MapRunRedriven => "mapRunRedrivenEventDetails",
            EvaluationFailed => "evaluationFailedEventDetails",
            TaskScheduled => "taskScheduledEventDetails",
            TaskStarted => "taskStartedEventDetails",
            TaskSubmitted => "taskSubmittedEventDetails",
            TaskSucceeded => "taskSucceededEventDetails",
            TaskFailed => "taskFailedEventDetails",
            TaskTimedOut => "taskTimedOutEventDetails",
            LambdaFunctionScheduled => "lambdaFunctionScheduledEventDetails",
            LambdaFunctionSucceeded => "lambdaFunctionSucceededEventDetails",
            LambdaFunctionFailed => "lambdaFunctionFailedEventDetails",
            LambdaFunctionTimedOut => "lambdaFunctionTimedOutEventDetails",
            PassStateEntered | TaskStateEntered | ChoiceStateEntered | WaitStateEntered
            | SucceedStateEntered | FailStateEntered | ParallelStateEntered | MapStateEntered => {
                "stateEnteredEventDetails"
            }
            PassStateExited | TaskStateExited | ChoiceStateExited | WaitStateExited
            | SucceedStateExited | ParallelStateExited | MapStateExited => {
                "stateExitedEventDetails"
            }
            TaskStateAborted
            | WaitStateAborted
            | ParallelStateStarted
            | ParallelStateSucceeded
            | ParallelStateFailed
            | ParallelStateAborted
            | MapStateSucceeded
            | MapStateFailed
            | MapStateAborted
            | MapRunSucceeded
            | MapRunAborted
            | LambdaFunctionStarted => return None,
        })
    }
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

/// Adds a failure's `error` and `cause` detail fields, each only when the
/// failure has it: AWS omits an absent error or cause from
/// `ExecutionFailed`, `TaskFailed`, `LambdaFunctionFailed` and kin (both
/// are optional in the API reference's `...EventDetails` shapes, e.g.
/// <https://docs.aws.amazon.com/step-functions/latest/apireference/API_ExecutionFailedEventDetails.html>)
/// rather than sending an empty string. An empty string stands for absent.
pub fn with_failure(mut obj: Map<String, Value>, failure: &Failure) -> Map<String, Value> {
    if !failure.error.is_empty() {
        obj.insert("error".to_string(), json!(failure.error));
    }
    if !failure.cause.is_empty() {
        obj.insert("cause".to_string(), json!(failure.cause));
    }
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
        for (i, t) in EventType::ALL.iter().enumerate() {
            let e = HistoryEvent {
                id: i as u64 + 1,
                previous_event_id: i as u64,
                timestamp_ms: 1_700_000_000_123,
                event_type: *t,
                details: t.details_key().map(|_| json!({"name": "S"})),
            };
            assert_eq!(HistoryEvent::from_json(&e.to_json()), Some(e.clone()));
            let text: Value = serde_json::from_str(&e.to_json_string()).unwrap();
            assert_eq!(text, e.to_json());
        }
    }

    #[test]
    fn state_events_use_the_shared_detail_keys() {
        assert_eq!(
            EventType::PassStateEntered.details_key(),
            Some("stateEnteredEventDetails")
        );
        assert_eq!(
            EventType::MapStateExited.details_key(),
            Some("stateExitedEventDetails")
        );
        assert_eq!(EventType::ParallelStateStarted.details_key(), None);
        assert_eq!(
            EventType::from_name("MapStateEntered"),
            Some(EventType::MapStateEntered)
        );
        assert_eq!(EventType::from_name("NoSuchEvent"), None);
    }

    #[test]
    fn each_state_kind_enters_and_exits_with_its_own_events() {
        let definition = json!({"StartAt": "Pass", "States": {
            "Pass": {"Type": "Pass", "Next": "Task"},
            "Task": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "Next": "Choice"},
            "Choice": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "Wait"}], "Default": "Fail"},
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Parallel"},
            "Parallel": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Map"},
            "Map": {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}, "Next": "Done"},
            "Done": {"Type": "Succeed"},
            "Fail": {"Type": "Fail"}
        }});
        let machine = zoomvault_asl::definition::parse_str(&definition.to_string())
            .unwrap_or_else(|errors| panic!("{errors:?}"));
        let names: Vec<String> = machine
            .states
            .values()
            .map(|s| {
                let exited = EventType::exited(&s.kind).map_or("-", EventType::name);
                format!(
                    "{} {} {}",
                    s.name,
                    EventType::entered(&s.kind).name(),
                    exited
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                "Pass PassStateEntered PassStateExited",
                "Task TaskStateEntered TaskStateExited",
                "Choice ChoiceStateEntered ChoiceStateExited",
                "Wait WaitStateEntered WaitStateExited",
                "Parallel ParallelStateEntered ParallelStateExited",
                "Map MapStateEntered MapStateExited",
                "Done SucceedStateEntered SucceedStateExited",
                "Fail FailStateEntered -",
            ]
        );
    }
}
