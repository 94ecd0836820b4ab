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
//! type. JSONata is a second arm inside these three functions, not a
//! second lifecycle: `Arguments` is the effective input, `Assign` and
//! `Output` (the result when absent) are evaluated over `$states.input`
//! and `$states.result` (`$states.errorOutput` in a catcher), each against
//! the variables as they were when the state was entered.
//!
//! What `$` means inside `Assign` (AWS, JSONPath flavour): the state's
//! result after `ResultSelector` for Task, Parallel and Map; the result
//! (`Result`, or the effective input) for Pass; the effective input for
//! Choice and Wait, whose result is their effective input; the error
//! output `{Error, Cause}` in a catcher. Assignments are evaluated together
//! against the variables as they were when the state was entered.

use crate::definition::{
    Assign, ChoiceBranch, FieldTemplate, ItemSelector, PathOrNull, Processing, ResultPath, State,
};
use crate::jsonata::{States, Template};
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

    /// `$states` for a JSONata field before the state's work: its raw input.
    /// It borrows what `Env` refers to, not `Env` itself, so the entropy
    /// can be lent out beside it.
    pub(crate) fn states<'b>(&self, input: &'b Value) -> States<'b>
    where
        'a: 'b,
    {
        States {
            input,
            result: None,
            error_output: None,
            context: self.context,
            variables: self.variables,
        }
    }
}

/// What a state's body reads its JSONPath `...Path` fields from (the
/// effective input) or its JSONata `$states.input` from (the raw input).
pub fn body_input<'a>(state: &State, raw: &'a Value, effective: &'a Value) -> &'a Value {
    if state.is_jsonata() {
        raw
    } else {
        effective
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
    if state.is_jsonata() {
        return match &state.arguments {
            Some(arguments) => {
                let states = env.states(raw);
                arguments.eval(&states, "Arguments", env.entropy)
            }
            None => Ok(raw.clone()),
        };
    }
    let selected = select(&state.processing.input_path, raw, env, "InputPath")?;
    match &state.processing.parameters {
        Some(template) => eval_template(template, &selected, env),
        None => Ok(selected),
    }
}

/// ResultSelector, Assign, ResultPath, OutputPath: what a state leaves,
/// from its raw input and the result its body produced. A Choice passes
/// the rule it chose: that rule's Assign is evaluated with the state's,
/// over the same data, and wins on a name both set; in JSONata its Output
/// replaces the state's.
pub fn finish(
    state: &State,
    raw: &Value,
    result: Value,
    rule: Option<(usize, &ChoiceBranch)>,
    env: &mut Env,
) -> Result<Finished, Failure> {
    if state.is_jsonata() {
        return finish_jsonata(state, raw, result, rule, env);
    }
    let processing = &state.processing;
    let selected = match &processing.result_selector {
        Some(template) => eval_template(template, &result, env)?,
        None => result,
    };
    let mut assigned = assignments(state.assign.as_ref(), &selected, env, "Assign")?;
    if let Some((_, rule)) = rule {
        assigned.extend(assignments(rule.assign.as_ref(), &selected, env, "Assign")?);
    }
    let combined = place_result(raw, &processing.result_path, selected)?;
    let output = output_path(processing, &combined, env)?;
    Ok(Finished { output, assigned })
}

fn finish_jsonata(
    state: &State,
    raw: &Value,
    result: Value,
    rule: Option<(usize, &ChoiceBranch)>,
    env: &mut Env,
) -> Result<Finished, Failure> {
    let states = States {
        result: Some(&result),
        ..env.states(raw)
    };
    let entropy = &mut env.entropy;
    let mut assigned = jsonata_assignments(state.assign.as_ref(), &states, "Assign", *entropy)?;
    let mut output_template = state.output.as_ref().map(|t| (t, "Output".to_string()));
    if let Some((index, rule)) = rule {
        let prefix = format!("Choices[{index}]");
        assigned.extend(jsonata_assignments(
            rule.assign.as_ref(),
            &states,
            &format!("{prefix}/Assign"),
            *entropy,
        )?);
        if let Some(t) = &rule.output {
            output_template = Some((t, format!("{prefix}/Output")));
        }
    }
    let output = match output_template {
        Some((template, field)) => template.eval(&states, &field, *entropy)?,
        None => result,
    };
    Ok(Finished { output, assigned })
}

/// A failure a catcher caught: its Assign over the error output, and the
/// error output placed into the raw input at its ResultPath (no OutputPath,
/// as AWS); in JSONata, its Assign and Output over `$states.errorOutput`,
/// which is the output when it has no Output. `index` is the catcher's
/// place in `Catch`, for AWS's field names.
pub fn catch(
    catcher: &Catcher,
    index: usize,
    raw: &Value,
    failure: &Failure,
    env: &mut Env,
) -> Result<Finished, Failure> {
    let error_output = failure.error_output();
    // A JSONata catcher without Output or Assign leaves the error output,
    // which is what the JSONPath arm's default `ResultPath: "$"` leaves too.
    let jsonata = catcher.output.is_some() || matches!(catcher.assign, Some(Assign::Jsonata(_)));
    if jsonata {
        let states = States {
            error_output: Some(&error_output),
            ..env.states(raw)
        };
        let entropy = &mut env.entropy;
        let prefix = format!("Catch[{index}]");
        let assigned = jsonata_assignments(
            catcher.assign.as_ref(),
            &states,
            &format!("{prefix}/Assign"),
            *entropy,
        )?;
        let output = match &catcher.output {
            Some(t) => t.eval(&states, &format!("{prefix}/Output"), *entropy)?,
            None => error_output,
        };
        return Ok(Finished { output, assigned });
    }
    let assigned = assignments(catcher.assign.as_ref(), &error_output, env, "Assign")?;
    let output = match &catcher.result_path {
        None => raw.clone(),
        Some(path) => apply_result_path(raw.clone(), path, error_output)?,
    };
    Ok(Finished { output, assigned })
}

/// A Map item's input from its `ItemSelector`, over the Map's effective
/// input (`$states.input` in JSONata), with `$$.Map.Item` in the context.
pub fn item_input(
    selector: &ItemSelector,
    map_input: &Value,
    env: &mut Env,
) -> Result<Value, Failure> {
    match selector {
        ItemSelector::JsonPath(template) => eval_template(template, map_input, env),
        ItemSelector::Jsonata(template) => {
            let states = env.states(map_input);
            template.eval(&states, "ItemSelector", env.entropy)
        }
    }
}

/// Evaluates a distributed Map's template field in its state's language
/// (`FieldTemplate`): a payload template against `data`, or a JSONata one
/// with `data` as `$states.input`; `field` names it in a failure
/// (`ItemReader/Arguments`).
pub fn eval_field_template(
    template: &FieldTemplate,
    data: &Value,
    env: &mut Env,
    field: &str,
) -> Result<Value, Failure> {
    match template {
        FieldTemplate::JsonPath(template) => eval_template(template, data, env),
        FieldTemplate::Jsonata(template) => {
            let states = env.states(data);
            template.eval(&states, field, env.entropy)
        }
    }
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

/// Evaluates a JSONPath `Assign` block into the variables it sets.
fn assignments(
    assign: Option<&Assign>,
    data: &Value,
    env: &mut Env,
    field: &str,
) -> Result<Map<String, Value>, Failure> {
    let template = match assign {
        None => return Ok(Map::new()),
        Some(Assign::JsonPath(template)) => template,
        Some(Assign::Jsonata(_)) => {
            return Err(Failure::runtime(format!(
                "{field}: a JSONata Assign in a JSONPath lifecycle"
            )))
        }
    };
    match eval_template(template, data, env)? {
        Value::Object(map) => Ok(map),
        other => Err(Failure::runtime(format!(
            "Assign must produce an object of variables, produced {other}"
        ))),
    }
}

/// Evaluates a JSONata `Assign` block: each value's expressions against
/// `$states` and the variables as they were when the state was entered.
fn jsonata_assignments(
    assign: Option<&Assign>,
    states: &States,
    field: &str,
    entropy: &mut dyn crate::Entropy,
) -> Result<Map<String, Value>, Failure> {
    let template: &Template = match assign {
        None => return Ok(Map::new()),
        Some(Assign::Jsonata(template)) => template,
        Some(Assign::JsonPath(_)) => {
            return Err(Failure::runtime(format!(
                "{field}: a JSONPath Assign in a JSONata lifecycle"
            )))
        }
    };
    match template.eval(states, field, entropy)? {
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
