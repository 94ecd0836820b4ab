//! Reading one state: its `Type`, its query language, the fields that type
//! allows in that language (with AWS's message for a field of the other
//! one), and the fields states share: `Comment`, `Next`/`End`, `Assign`,
//! `Retry`/`Catch` where the type takes them, and the processing fields:
//! JSONPath's from `InputPath` to `OutputPath`, or JSONata's `Arguments` and
//! `Output`.
//!
//! A type's own fields are read by `kinds`. Paths and templates are parsed
//! here, never evaluated.

use super::fields::{opt_string, parse_assign, parse_path, parse_result_path};
use super::kinds::{parse_choice, parse_fail, parse_map, parse_parallel, parse_task, parse_wait};
use super::machine::read_query_language;
use super::recovery::{parse_catch, parse_retry};
use super::tree::{
    ContextUse, Pass, PathOrNull, Processing, QueryLanguage, State, StateKind, Transition,
    MAX_STATE_NAME_LEN,
};
use crate::error::pointer_join;
use crate::jsonata::{Place, Template};
use crate::payload::PayloadTemplate;
use crate::{DefinitionError, JsonType};
use serde_json::{Map, Value};

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

fn allowed_fields(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "Pass" => &[
            "Next",
            "End",
            "Output",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultPath",
            "Result",
            "Assign",
        ],
        "Task" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
            "Resource",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
            "Assign",
            "Arguments",
            "Output",
        ],
        "Choice" => &[
            "InputPath",
            "OutputPath",
            "Choices",
            "Default",
            "Assign",
            "Output",
        ],
        "Wait" => &[
            "Next",
            "End",
            "Output",
            "InputPath",
            "OutputPath",
            "Seconds",
            "Timestamp",
            "SecondsPath",
            "TimestampPath",
            "Assign",
        ],
        "Succeed" => &["InputPath", "OutputPath", "Output"],
        "Fail" => &["Error", "ErrorPath", "Cause", "CausePath"],
        "Parallel" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
            "Branches",
            "Assign",
            "Arguments",
            "Output",
        ],
        "Map" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
            "ItemsPath",
            "ItemProcessor",
            "Iterator",
            "ItemSelector",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "Label",
            "ItemReader",
            "ResultWriter",
            "ItemBatcher",
            "Assign",
            "Items",
            "Output",
        ],
        _ => &[],
    }
}

/// Fields only a JSONata state may carry, and fields only a JSONPath state
/// may: AWS refuses each in the other language, naming both.
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Result",
    "ItemsPath",
    "MaxConcurrencyPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
];

/// Reads one state of a machine whose states fall back to `machine_language`.
pub(super) fn parse_state(
    name: &str,
    value: &Value,
    ptr: &str,
    machine_language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<State> {
    if name.is_empty() {
        errors.push(DefinitionError::new(ptr, "a state name must not be empty"));
    }
    if name.chars().count() > MAX_STATE_NAME_LEN {
        errors.push(DefinitionError::new(
            ptr,
            format!("state name is longer than {MAX_STATE_NAME_LEN} characters"),
        ));
    }
    let Some(obj) = value.as_object() else {
        errors.push(DefinitionError::new(
            ptr,
            format!(
                "expected a state object, found {}",
                JsonType::of(value).with_article()
            ),
        ));
        return None;
    };
    let type_name = match obj.get("Type") {
        Some(Value::String(t)) => t.as_str(),
        Some(other) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Type"),
                format!(
                    "expected a state type name, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            return None;
        }
        None => {
            errors.push(DefinitionError::new(
                ptr,
                "These fields are required: [Type]",
            ));
            return None;
        }
    };
    let specific = allowed_fields(type_name);
    if specific.is_empty() {
        errors.push(DefinitionError::new(
            pointer_join(ptr, "Type"),
            "The field 'Type' should have one of these values: \
             [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]",
        ));
        return None;
    }
    let (language, downgraded) = state_language(obj, ptr, machine_language, errors);
    for key in obj.keys() {
        if COMMON.contains(&key.as_str()) {
            continue;
        }
        // A refused downgrade is the whole answer about the state's language.
        let other = match language {
            _ if downgraded => None,
            QueryLanguage::JsonPath if JSONATA_ONLY.contains(&key.as_str()) => Some("JSONata"),
            QueryLanguage::Jsonata if JSONPATH_ONLY.contains(&key.as_str()) => Some("JSONPath"),
            _ => None,
        };
        if let Some(other) = other.filter(|_| specific.contains(&key.as_str())) {
            let own = if other == "JSONata" {
                "JSONPath"
            } else {
                "JSONata"
            };
            errors.push(DefinitionError::new(
                ptr,
                format!(
                    "The QueryLanguage is set to '{own}', but field '{key}' is only supported for the '{other}' QueryLanguage"
                ),
            ));
        } else if !specific.contains(&key.as_str()) {
            // AWS locates an unsupported field at the object that holds it.
            errors.push(DefinitionError::new(
                ptr,
                format!("Field '{key}' is not supported"),
            ));
        }
    }

    let comment = opt_string(obj, "Comment", ptr, errors);
    let jsonata = language == QueryLanguage::Jsonata;
    let processing = if jsonata {
        Processing::default()
    } else {
        parse_processing(obj, ptr, type_name, errors)
    };
    // What an Output or Assign sees: the state's result, or (a state
    // without work of its own) only its input.
    let after = match type_name {
        "Task" | "Parallel" | "Map" => Place::AfterResult,
        _ => Place::AfterInput,
    };
    let template = |key: &str, place: Place, errors: &mut Vec<DefinitionError>| {
        obj.get(key)
            .filter(|_| jsonata)
            .map(|v| Template::parse(v, &pointer_join(ptr, key), place, errors))
    };
    let arguments = template("Arguments", Place::Before, errors);
    let output = template("Output", after, errors);
    let assign = obj
        .get("Assign")
        .map(|v| parse_assign(v, &pointer_join(ptr, "Assign"), language, after, errors));
    let transition = parse_transition(obj, ptr, type_name, errors);
    let (retry, catch) = if matches!(type_name, "Task" | "Parallel" | "Map") {
        (
            parse_retry(obj.get("Retry"), &pointer_join(ptr, "Retry"), errors),
            parse_catch(
                obj.get("Catch"),
                &pointer_join(ptr, "Catch"),
                language,
                errors,
            ),
        )
    } else {
        (Vec::new(), Vec::new())
    };

    let kind = match type_name {
        "Pass" => Some(StateKind::Pass(Pass {
            result: obj.get("Result").cloned(),
        })),
        "Task" => parse_task(obj, ptr, language, errors).map(StateKind::Task),
        "Choice" => parse_choice(obj, ptr, language, errors).map(StateKind::Choice),
        "Wait" => parse_wait(obj, ptr, language, errors).map(StateKind::Wait),
        "Succeed" => Some(StateKind::Succeed),
        "Fail" => Some(StateKind::Fail(parse_fail(obj, ptr, language, errors))),
        "Parallel" => parse_parallel(obj, ptr, machine_language, errors).map(StateKind::Parallel),
        "Map" => parse_map(obj, ptr, language, machine_language, errors)
            .map(|m| StateKind::Map(Box::new(m))),
        _ => None,
    }?;
    // Nested machines are classified state by state on their own.
    let own_text: String = obj
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "ItemProcessor" | "Iterator" | "Branches"))
        .map(|(_, v)| v.to_string())
        .collect();
    let context_use = if jsonata {
        ContextUse::of_jsonata_text(&own_text)
    } else {
        ContextUse::of_text(&own_text)
    };
    Some(State {
        name: name.to_string(),
        comment,
        kind,
        query_language: language,
        processing,
        arguments,
        output,
        assign,
        transition,
        retry,
        catch,
        context_use,
    })
}

/// A state's query language: its own `QueryLanguage`, else the machine's.
/// A JSONata machine cannot take a state back to JSONPath (AWS's rule; the
/// other direction is allowed): such a state is reported, read as JSONata,
/// and flagged so its JSONPath fields are not reported on top.
fn state_language(
    obj: &Map<String, Value>,
    ptr: &str,
    machine_language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> (QueryLanguage, bool) {
    let Some(v) = obj.get("QueryLanguage") else {
        return (machine_language, false);
    };
    let language = read_query_language(v, &pointer_join(ptr, "QueryLanguage"), errors);
    if language == QueryLanguage::JsonPath && machine_language == QueryLanguage::Jsonata {
        errors.push(DefinitionError::new(
            ptr,
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
        ));
        return (QueryLanguage::Jsonata, true);
    }
    (language, false)
}

fn parse_transition(
    obj: &Map<String, Value>,
    ptr: &str,
    type_name: &str,
    errors: &mut Vec<DefinitionError>,
) -> Transition {
    if matches!(type_name, "Choice" | "Succeed" | "Fail") {
        return Transition::ByType;
    }
    let next = obj.get("Next");
    let end = obj.get("End");
    match (next, end) {
        (Some(Value::String(n)), None) => Transition::Next(n.clone()),
        (Some(Value::String(n)), Some(Value::Bool(false))) => Transition::Next(n.clone()),
        (None, Some(Value::Bool(true))) => Transition::End,
        (Some(_), Some(Value::Bool(true))) => {
            errors.push(DefinitionError::new(
                ptr,
                "a state must have exactly one of \"Next\" and \"End\", not both",
            ));
            Transition::End
        }
        (Some(other), _) if !other.is_string() => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Next"),
                format!(
                    "expected a state name, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            Transition::End
        }
        (_, Some(other)) if !other.is_boolean() => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "End"),
                format!(
                    "expected true, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            Transition::End
        }
        _ => {
            errors.push(DefinitionError::new(
                ptr,
                "The field \"Next\" is required but was missing",
            ));
            Transition::End
        }
    }
}

fn parse_processing(
    obj: &Map<String, Value>,
    ptr: &str,
    type_name: &str,
    errors: &mut Vec<DefinitionError>,
) -> Processing {
    let mut p = Processing::default();
    if let Some(v) = obj.get("InputPath") {
        p.input_path = path_or_null(v, &pointer_join(ptr, "InputPath"), errors);
    }
    if let Some(v) = obj.get("OutputPath") {
        p.output_path = path_or_null(v, &pointer_join(ptr, "OutputPath"), errors);
    }
    // On a Map, `Parameters` is the legacy name of `ItemSelector`, which
    // parse_map owns.
    if let Some(v) = obj.get("Parameters").filter(|_| type_name != "Map") {
        p.parameters = Some(PayloadTemplate::parse(
            v,
            &pointer_join(ptr, "Parameters"),
            errors,
        ));
    }
    if let Some(v) = obj.get("ResultSelector") {
        let sptr = pointer_join(ptr, "ResultSelector");
        if !v.is_object() {
            errors.push(DefinitionError::new(&sptr, "expected an object"));
        }
        p.result_selector = Some(PayloadTemplate::parse(v, &sptr, errors));
    }
    if let Some(v) = obj.get("ResultPath") {
        p.result_path = parse_result_path(v, &pointer_join(ptr, "ResultPath"), errors);
    }
    p
}

fn path_or_null(v: &Value, ptr: &str, errors: &mut Vec<DefinitionError>) -> PathOrNull {
    match v {
        Value::Null => PathOrNull::Null,
        Value::String(s) => match parse_path(s, ptr, errors) {
            Some(path) => PathOrNull::Path(path),
            None => PathOrNull::Null,
        },
        other => {
            errors.push(DefinitionError::new(
                ptr,
                format!(
                    "expected a path or null, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            PathOrNull::Null
        }
    }
}
