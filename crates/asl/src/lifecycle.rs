//! The state lifecycle, written once for every state type: how a state's
//! raw input becomes the effective input its body works on (`enter`), how
//! the result its body produced becomes its output and the variables it
//! sets (`finish`), and what a catcher makes of a failure (`catch`). A
//! state type supplies only its body (`body`); the engine decides when
//! each piece runs, since a body may wait (a task, a timer, child runs).
//!
//! For the JSONPath query language the order is AWS's: InputPath,
//! Parameters, the body, ResultSelector, Assign, ResultPath, OutputPath. A
//! field a state type does not accept is at its identity default in
//! `Processing` (validation refuses it), so one composition serves every
//! type. JSONata, when it comes, is a second arm inside these three
//! functions (its `Arguments`, `Output` and `Assign`), not a second
//! lifecycle.
//!
//! What `$` means inside `Assign` (AWS, JSONPath flavour): the state's
//! result after `ResultSelector` for Task, Parallel and Map; the result
//! (`Result`, or the effective input) for Pass; the effective input for
//! Choice and Wait, whose result is their effective input; the error
//! output `{Error, Cause}` in a catcher. Assignments are evaluated together
//! against the variables as they were when the state was entered.

use crate::definition::{PathOrNull, Processing, ResultPath, State};
use crate::path::apply_result_path;
use crate::payload::PayloadTemplate;
use crate::retry::Catcher;
use crate::{Entropy, Failure, Scope};
use serde_json::{Map, Value};

/// What a state can see besides its data: the context object and the
/// workflow variables, plus the entropy source for `States.UUID` and kin.
pub struct Env<'a> {
    pub context: &'a Value,
    pub variables: &'a Map<String, Value>,
    pub entropy: &'a mut dyn Entropy,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("context", self.context)
            .field("variables", self.variables)
            .finish_non_exhaustive()
    }
}

impl<'a> Env<'a> {
    pub(crate) fn scope<'b>(&'b self, input: &'b Value) -> Scope<'b> {
        Scope::new(input, self.context, self.variables)
    }
}

/// What a state leaves when its lifecycle completes: its output (the next
/// state's raw input) and the variables it assigns.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub output: Value,
    pub assigned: Map<String, Value>,
}

/// InputPath, then Parameters: the effective input a state's body works
/// on (for a Task, what its resource is invoked with).
pub fn enter(state: &State, raw: &Value, env: &mut Env) -> Result<Value, Failure> {
    let selected = select(&state.processing.input_path, raw, env, "InputPath")?;
    match &state.processing.parameters {
        Some(template) => eval_template(template, &selected, env),
        None => Ok(selected),
    }
}

/// ResultSelector, Assign, ResultPath, OutputPath: what a state leaves,
/// from its raw input and the result its body produced. A Choice passes
/// the Assign of the rule it chose as `rule_assign`: it is evaluated with
/// the state's own, over the same data, and wins on a name both set.
pub fn finish(
    state: &State,
    raw: &Value,
    result: Value,
    rule_assign: Option<&PayloadTemplate>,
    env: &mut Env,
) -> Result<Finished, Failure> {
    let processing = &state.processing;
    let selected = match &processing.result_selector {
        Some(template) => eval_template(template, &result, env)?,
        None => result,
    };
    let mut assigned = assignments(state.assign.as_ref(), &selected, env)?;
    assigned.extend(assignments(rule_assign, &selected, env)?);
    let combined = place_result(raw, &processing.result_path, selected)?;
    let output = output_path(processing, &combined, env)?;
    Ok(Finished { output, assigned })
}

/// A failure a catcher caught: its Assign over the error output, and the
/// error output placed into the raw input at its ResultPath (no OutputPath,
/// as AWS).
pub fn catch(
    catcher: &Catcher,
    raw: &Value,
    failure: &Failure,
    env: &mut Env,
) -> Result<Finished, Failure> {
    let error_output = failure.error_output();
    let assigned = assignments(catcher.assign.as_ref(), &error_output, env)?;
    let output = match &catcher.result_path {
        None => raw.clone(),
        Some(path) => apply_result_path(raw.clone(), path, error_output)?,
    };
    Ok(Finished { output, assigned })
}

/// Evaluates a payload template (Parameters, ResultSelector, a Map's
/// ItemSelector, Assign) against `data`.
pub fn eval_template(
    template: &PayloadTemplate,
    data: &Value,
    env: &mut Env,
) -> Result<Value, Failure> {
    let scope = Scope::new(data, env.context, env.variables);
    template.eval(&scope, env.entropy)
}

/// Evaluates an `Assign` block into the variables it sets.
fn assignments(
    template: Option<&PayloadTemplate>,
    data: &Value,
    env: &mut Env,
) -> Result<Map<String, Value>, Failure> {
    let Some(template) = template else {
        return Ok(Map::new());
    };
    match eval_template(template, data, env)? {
        Value::Object(map) => Ok(map),
        other => Err(Failure::runtime(format!(
            "Assign must produce an object of variables, produced {other}"
        ))),
    }
}

/// ResultPath: the result placed into the raw input, or the raw input as
/// it was when the result is discarded.
fn place_result(raw: &Value, result_path: &ResultPath, result: Value) -> Result<Value, Failure> {
    match result_path {
        ResultPath::Discard => Ok(raw.clone()),
        // The result replaces the whole input: nothing of it to copy.
        ResultPath::Path(path) if path.is_whole_input() => Ok(result),
        ResultPath::Path(path) => apply_result_path(raw.clone(), path, result),
    }
}

fn output_path(processing: &Processing, value: &Value, env: &Env) -> Result<Value, Failure> {
    select(&processing.output_path, value, env, "OutputPath")
}

/// InputPath or OutputPath. A path that selects nothing fails with AWS's
/// cause for it, the data shown as compact JSON (the engine prefixes the
/// state's name): `The JSONPath '$.missing' specified for the field
/// 'InputPath' could not be found in the input '{"a":1}'`, the wording AWS
/// uses for a payload template's `.$` field
/// (<https://github.com/floci-io/floci/blob/main/src/test/java/io/github/hectorvent/floci/services/stepfunctions/AslExecutorBranchHistoryEventsTest.java>)
/// with the field's name.
fn select(p: &PathOrNull, data: &Value, env: &Env, field: &str) -> Result<Value, Failure> {
    match p {
        PathOrNull::Null => Ok(Value::Object(Map::new())),
        PathOrNull::Path(path) => path.eval(&env.scope(data)).map_err(|f| {
            if f.is_runtime() {
                Failure::runtime(format!(
                    "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{data}'",
                    path.text(),
                ))
            } else {
                f
            }
        }),
    }
}
