//! The checks across the states of one machine, made once its states are
//! read: every transition names a state of the same machine (never one in a
//! branch or outside it), and every state can be reached from `StartAt`.
//!
//! These passes only report; they must not change or rebuild the tree.

use super::tree::{State, StateKind, Transition};
use crate::error::{codes, pointer_join};
use crate::DefinitionError;
use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;
use serde_json::{Map, Value};
use std::collections::{HashSet, VecDeque};

/// Every `Next`, `Default` and catcher `Next` must name a state of the same
/// machine (transitions never cross into a branch or out of it).
pub(super) fn check_transitions(
    states: &IndexMap<String, State, FxBuildHasher>,
    names: &HashSet<&str>,
    states_ptr: &str,
    errors: &mut Vec<DefinitionError>,
) {
    let mut check = |target: &str, ptr: String| {
        if !names.contains(target) {
            // AWS's words for every transition (StartAt, Next, Default,
            // a catcher's Next).
            errors.push(
                DefinitionError::new(ptr, format!("Missing 'Next' target: {target}"))
                    .with_code(codes::MISSING_TRANSITION_TARGET),
            );
        }
    };
    for (name, state) in states {
        let sptr = pointer_join(states_ptr, name);
        if let Transition::Next(next) = &state.transition {
            check(next, pointer_join(&sptr, "Next"));
        }
        if let StateKind::Choice(choice) = &state.kind {
            for (i, branch) in choice.choices.iter().enumerate() {
                check(
                    &branch.next,
                    pointer_join(
                        &pointer_join(&pointer_join(&sptr, "Choices"), &i.to_string()),
                        "Next",
                    ),
                );
            }
            if let Some(default) = &choice.default {
                check(default, pointer_join(&sptr, "Default"));
            }
        }
        for (i, catcher) in state.catch.iter().enumerate() {
            check(
                &catcher.next,
                pointer_join(
                    &pointer_join(&pointer_join(&sptr, "Catch"), &i.to_string()),
                    "Next",
                ),
            );
        }
    }
}

/// The states a state's raw JSON names as successors: `Next`, `Default`,
/// every choice rule's `Next` and every catcher's `Next`. Read from the raw
/// JSON so a state with other errors still counts its transitions.
fn raw_successors(state: &Value) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    out.extend(state.get("Next").and_then(Value::as_str));
    out.extend(state.get("Default").and_then(Value::as_str));
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(items)) = state.get(list) {
            out.extend(
                items
                    .iter()
                    .filter_map(|i| i.get("Next").and_then(Value::as_str)),
            );
        }
    }
    out
}

/// States that cannot be reached from `StartAt` are an error, as in AWS.
pub(super) fn check_reachability(
    start: &str,
    obj: &Map<String, Value>,
    states_ptr: &str,
    errors: &mut Vec<DefinitionError>,
) {
    let Some(Value::Object(map)) = obj.get("States") else {
        return;
    };
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue = VecDeque::from([start]);
    while let Some(name) = queue.pop_front() {
        if !seen.insert(name) {
            continue;
        }
        if let Some(state) = map.get(name) {
            queue.extend(raw_successors(state));
        }
    }
    for name in map.keys() {
        if !seen.contains(name.as_str()) {
            errors.push(
                DefinitionError::new(
                    pointer_join(states_ptr, name),
                    format!("State \"{name}\" is not reachable."),
                )
                .with_code(codes::MISSING_TRANSITION_TARGET),
            );
        }
    }
}
