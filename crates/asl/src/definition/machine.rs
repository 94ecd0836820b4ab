//! Reading a state machine object: the top level, a Parallel branch or a Map's
//! item processor, which share one shape. This module owns the machine's own
//! fields (`StartAt`, `States`, `QueryLanguage`, `TimeoutSeconds`, `Version`,
//! `ProcessorConfig`) and which of them each `MachineScope` allows.
//!
//! It hands each state to `state` and the cross-state checks to `graph`, and
//! must not stop at the first problem: every one goes into the error list.

use super::fields::{opt_string, positive_integer, unknown_fields};
use super::graph::{check_reachability, check_transitions};
use super::state::parse_state;
use super::tree::{QueryLanguage, StateMachine};
use crate::error::{codes, pointer_join};
use crate::{DefinitionError, JsonType};
use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Which of the three machine objects is being read; it decides which of the
/// machine's own fields are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MachineScope {
    TopLevel,
    Branch,
    MapProcessor,
}

/// Reads a machine object. `top_language` is the state machine's query
/// language, which a nested machine's states fall back to (not the
/// enclosing Map's or Parallel's own: AWS treats them as independent); the
/// top level reads its own and ignores it.
pub(super) fn parse_machine(
    value: &Value,
    ptr: &str,
    scope: MachineScope,
    top_language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<StateMachine> {
    let Some(obj) = value.as_object() else {
        errors.push(DefinitionError::new(
            ptr,
            format!(
                "expected an object, found {}",
                JsonType::of(value).with_article()
            ),
        ));
        return None;
    };
    let mut allowed: Vec<&str> = vec!["Comment", "StartAt", "States"];
    match scope {
        MachineScope::TopLevel => allowed.extend(["TimeoutSeconds", "Version", "QueryLanguage"]),
        MachineScope::MapProcessor => allowed.push("ProcessorConfig"),
        MachineScope::Branch => {}
    }
    unknown_fields(obj, ptr, &allowed, "a state machine", errors);

    let comment = opt_string(obj, "Comment", ptr, errors);
    let query_language = match scope {
        MachineScope::TopLevel => match obj.get("QueryLanguage") {
            None => QueryLanguage::JsonPath,
            Some(v) => read_query_language(v, &pointer_join(ptr, "QueryLanguage"), errors),
        },
        _ => top_language,
    };
    if scope == MachineScope::TopLevel {
        if let Some(v) = obj.get("Version") {
            if v.as_str().is_none() {
                errors.push(DefinitionError::new(
                    pointer_join(ptr, "Version"),
                    "expected a string",
                ));
            }
        }
    }
    if scope == MachineScope::MapProcessor {
        check_processor_config(obj, ptr, errors);
    }
    let timeout_seconds = match obj.get("TimeoutSeconds") {
        None => None,
        Some(v) => positive_integer(v, &pointer_join(ptr, "TimeoutSeconds"), errors),
    };
    let start_at = match obj.get("StartAt") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "StartAt"),
                format!(
                    "expected a state name, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(
                ptr,
                "These fields are required: [StartAt]",
            ));
            None
        }
    };
    let states_ptr = pointer_join(ptr, "States");
    let mut states = IndexMap::with_hasher(FxBuildHasher);
    match obj.get("States") {
        Some(Value::Object(map)) => {
            if map.is_empty() {
                errors.push(DefinitionError::new(
                    &states_ptr,
                    "must name at least one state",
                ));
            }
            for (name, body) in map {
                let state_ptr = pointer_join(&states_ptr, name);
                if let Some(state) = parse_state(name, body, &state_ptr, query_language, errors) {
                    states.insert(name.clone(), state);
                }
            }
        }
        Some(other) => errors.push(DefinitionError::new(
            &states_ptr,
            format!(
                "expected an object of states, found {}",
                JsonType::of(other).with_article()
            ),
        )),
        None => errors.push(DefinitionError::new(
            ptr,
            "These fields are required: [States]",
        )),
    }
    let names: HashSet<&str> = match obj.get("States") {
        Some(Value::Object(map)) => map.keys().map(String::as_str).collect(),
        _ => HashSet::new(),
    };
    if let Some(start) = &start_at {
        if !names.is_empty() && !names.contains(start.as_str()) {
            errors.push(
                DefinitionError::new(
                    pointer_join(ptr, "StartAt"),
                    format!("Missing 'Next' target: {start}"),
                )
                .with_code(codes::MISSING_TRANSITION_TARGET),
            );
        }
    }
    check_transitions(&states, &names, &states_ptr, errors);
    if let Some(start) = &start_at {
        if names.contains(start.as_str()) {
            check_reachability(start, obj, &states_ptr, errors);
        }
    }
    Some(StateMachine {
        comment,
        start_at: start_at?,
        states,
        timeout_seconds,
        query_language,
    })
}

fn check_processor_config(obj: &Map<String, Value>, ptr: &str, errors: &mut Vec<DefinitionError>) {
    let Some(config) = obj.get("ProcessorConfig") else {
        return;
    };
    let cptr = pointer_join(ptr, "ProcessorConfig");
    let Some(config) = config.as_object() else {
        errors.push(DefinitionError::new(cptr, "expected an object"));
        return;
    };
    unknown_fields(
        config,
        &cptr,
        &["Mode", "ExecutionType"],
        "ProcessorConfig",
        errors,
    );
    match config.get("Mode") {
        None => {}
        Some(Value::String(m)) if m == "INLINE" => {}
        // The distributed mode's own fields are the Map state's, read by
        // `distributed`.
        Some(Value::String(m)) if m == "DISTRIBUTED" => {}
        Some(other) => errors.push(DefinitionError::new(
            pointer_join(&cptr, "Mode"),
            format!("expected \"INLINE\" or \"DISTRIBUTED\", found {other}"),
        )),
    }
}

/// A `QueryLanguage` value: exactly "JSONPath" is JSONPath; anything else
/// is JSONata, as AWS resolves it, with AWS's messages for a value outside
/// the enum.
pub(super) fn read_query_language(
    v: &Value,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> QueryLanguage {
    match v {
        Value::String(s) if s == "JSONPath" => QueryLanguage::JsonPath,
        Value::String(s) if s == "JSONata" => QueryLanguage::Jsonata,
        Value::String(_) => {
            errors.push(DefinitionError::new(
                ptr,
                "Value should be one of the following: [JSONPath, JSONata]",
            ));
            QueryLanguage::Jsonata
        }
        _ => {
            errors.push(DefinitionError::new(ptr, "Expected value of type [STRING]"));
            QueryLanguage::Jsonata
        }
    }
}
