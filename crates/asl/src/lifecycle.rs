//! The state lifecycle, written once: how a state's raw input becomes its
//! effective input, and how its result becomes its output, in AWS's order
//! (InputPath, Parameters, work, ResultSelector, ResultPath, OutputPath),
//! plus `Assign` and the error output a catcher records. A state type only
//! supplies its work; the engine decides when each piece runs.
//!
//! What `$` means inside `Assign` (AWS, JSONPath flavour): the state's
//! result after `ResultSelector` for Task, Parallel and Map; the result
//! (`Result`, or the effective input) for Pass; the effective input for
//! Choice and Wait; the error output `{Error, Cause}` in a catcher.
//! Assignments are evaluated together against the variables as they were
//! when the state was entered.

use crate::definition::{
    Dynamic, Fail, PathOrNull, Processing, ResultPath, State, StateKind, TextSource, Wait,
};
use crate::error::names;
use crate::path::apply_result_path;
use crate::payload::PayloadTemplate;
use crate::{Entropy, Failure, Scope};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

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
    fn scope<'b>(&'b self, input: &'b Value) -> Scope<'b> {
        Scope::new(input, self.context, self.variables)
    }
}

/// Applies `InputPath`.
pub fn input_path(processing: &Processing, raw: &Value, env: &Env) -> Result<Value, Failure> {
    select(&processing.input_path, raw, env, "InputPath")
}

/// Applies `OutputPath` to a state's output.
pub fn output_path(processing: &Processing, value: &Value, env: &Env) -> Result<Value, Failure> {
    select(&processing.output_path, value, env, "OutputPath")
}

fn select(p: &PathOrNull, data: &Value, env: &Env, field: &str) -> Result<Value, Failure> {
    match p {
        PathOrNull::Null => Ok(Value::Object(Map::new())),
        PathOrNull::Path(path) => path.eval(&env.scope(data)).map_err(|f| {
            Failure::runtime(format!(
                "An error occurred while applying {field} {:?} to the state's data: {}",
                path.text(),
                f.cause
            ))
        }),
    }
}

/// InputPath then Parameters: the effective input of a Pass, Task or
/// Parallel state (for a Task, what the resource is invoked with).
pub fn effective_input(state: &State, raw: &Value, env: &mut Env) -> Result<Value, Failure> {
    let selected = input_path(&state.processing, raw, env)?;
    match &state.processing.parameters {
        Some(template) => eval_template(template, &selected, env),
        None => Ok(selected),
    }
}

pub fn eval_template(
    template: &PayloadTemplate,
    data: &Value,
    env: &mut Env,
) -> Result<Value, Failure> {
    let scope = Scope::new(data, env.context, env.variables);
    template.eval(&scope, env.entropy)
}

/// The result as a state sees it after `ResultSelector`.
pub fn select_result(state: &State, result: Value, env: &mut Env) -> Result<Value, Failure> {
    match &state.processing.result_selector {
        Some(template) => eval_template(template, &result, env),
        None => Ok(result),
    }
}

/// ResultPath then OutputPath: a state's output from its raw input and its
/// (selected) result.
pub fn state_output(
    state: &State,
    raw: &Value,
    result: Value,
    env: &Env,
) -> Result<Value, Failure> {
    let combined = match &state.processing.result_path {
        ResultPath::Discard => raw.clone(),
        ResultPath::Path(path) => apply_result_path(raw.clone(), path, result)?,
    };
    output_path(&state.processing, &combined, env)
}

/// Evaluates an `Assign` block into the variables it sets.
pub fn assignments(
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

/// The error output a catcher hands on: `{"Error": ..., "Cause": ...}`.
pub fn error_output(failure: &Failure) -> Value {
    json!({ "Error": failure.error, "Cause": failure.cause })
}

/// A caught failure's output: the error output placed into the raw input at
/// the catcher's ResultPath (no OutputPath, as AWS).
pub fn catcher_output(
    raw: &Value,
    result_path: Option<&crate::path::Path>,
    failure: &Failure,
) -> Result<Value, Failure> {
    match result_path {
        None => Ok(raw.clone()),
        Some(path) => apply_result_path(raw.clone(), path, error_output(failure)),
    }
}

/// Reads a `...Path` number field (TimeoutSecondsPath, MaxConcurrencyPath,
/// ...): it must select a non-negative integer.
pub fn dynamic_u64(d: &Dynamic<u64>, data: &Value, env: &Env, field: &str) -> Result<u64, Failure> {
    match d {
        Dynamic::Fixed(n) => Ok(*n),
        Dynamic::Path(path) => {
            let v = path.eval(&env.scope(data))?;
            v.as_u64().ok_or_else(|| {
                Failure::runtime(format!(
                    "The value at {field} {:?} must be a non-negative integer, found {v}",
                    path.text()
                ))
            })
        }
    }
}

pub fn dynamic_f64(d: &Dynamic<f64>, data: &Value, env: &Env, field: &str) -> Result<f64, Failure> {
    match d {
        Dynamic::Fixed(n) => Ok(*n),
        Dynamic::Path(path) => {
            let v = path.eval(&env.scope(data))?;
            v.as_f64().ok_or_else(|| {
                Failure::runtime(format!(
                    "The value at {field} {:?} must be a number, found {v}",
                    path.text()
                ))
            })
        }
    }
}

/// When a Wait state entered at `now` with effective input `data` ends.
pub fn wait_until(
    wait: &Wait,
    data: &Value,
    env: &Env,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, Failure> {
    match wait {
        Wait::Seconds(s) => Ok(now + time::Duration::seconds(*s as i64)),
        Wait::Timestamp(t) => Ok(*t),
        Wait::SecondsPath(path) => {
            let v = path.eval(&env.scope(data))?;
            match v.as_u64() {
                Some(s) if s <= 31_622_400 => Ok(now + time::Duration::seconds(s as i64)),
                _ => Err(Failure::runtime(format!(
                    "The SecondsPath parameter does not reference a valid number of seconds: {:?} is {v}",
                    path.text()
                ))),
            }
        }
        Wait::TimestampPath(path) => {
            let v = path.eval(&env.scope(data))?;
            v.as_str().and_then(crate::timestamp::parse).ok_or_else(|| {
                Failure::runtime(format!(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {:?} is {v}",
                    path.text()
                ))
            })
        }
    }
}

/// The failure a Fail state raises.
pub fn fail_failure(fail: &Fail, raw: &Value, env: &mut Env) -> Result<Failure, Failure> {
    let error = text(fail.error.as_ref(), raw, env, "ErrorPath")?;
    let cause = text(fail.cause.as_ref(), raw, env, "CausePath")?;
    Ok(Failure::new(error, cause))
}

fn text(
    source: Option<&TextSource>,
    raw: &Value,
    env: &mut Env,
    field: &str,
) -> Result<String, Failure> {
    let value = match source {
        None => return Ok(String::new()),
        Some(TextSource::Fixed(s)) => return Ok(s.clone()),
        Some(TextSource::Path(path)) => path.eval(&env.scope(raw))?,
        Some(TextSource::Intrinsic(call)) => {
            let scope = Scope::new(raw, env.context, env.variables);
            call.eval(&scope, env.entropy)?
        }
    };
    match value {
        Value::String(s) => Ok(s),
        other => Err(Failure::runtime(format!(
            "The {field} must resolve to a string, found {other}"
        ))),
    }
}

/// Which branch a Choice state takes: the index of the first matching rule,
/// or `None` for `Default`; no match and no Default is
/// `States.NoChoiceMatched`.
pub fn choose(state: &State, data: &Value, env: &Env) -> Result<Option<usize>, Failure> {
    let StateKind::Choice(choice) = &state.kind else {
        return Err(Failure::runtime(
            "choose called on a state that is not a Choice",
        ));
    };
    let scope = env.scope(data);
    for (i, branch) in choice.choices.iter().enumerate() {
        if branch.condition.evaluate(&scope)? {
            return Ok(Some(i));
        }
    }
    if choice.default.is_some() {
        Ok(None)
    } else {
        Err(Failure::new(
            names::NO_CHOICE_MATCHED,
            format!(
                "No Choice Rules matched and no Default was specified in state '{}'",
                state.name
            ),
        ))
    }
}

/// Whether a Map with `failed` of `total` items failed past its tolerance.
/// Without either tolerance field any failure fails the Map; with both, it
/// fails when either threshold is exceeded (AWS's documented rule for the
/// distributed Map, which we apply to the inline Map too).
pub fn exceeds_tolerance(
    failed: u64,
    total: u64,
    percentage: Option<f64>,
    count: Option<u64>,
) -> bool {
    if failed == 0 {
        return false;
    }
    if percentage.is_none() && count.is_none() {
        return true;
    }
    let over_count = count.is_some_and(|c| failed > c);
    let over_percentage =
        percentage.is_some_and(|p| total > 0 && (failed as f64) * 100.0 / (total as f64) > p);
    over_count || over_percentage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_fails_only_past_both_limits() {
        assert!(exceeds_tolerance(1, 10, None, None));
        assert!(!exceeds_tolerance(0, 10, None, None));
        assert!(!exceeds_tolerance(2, 10, None, Some(2)));
        assert!(exceeds_tolerance(3, 10, None, Some(2)));
        assert!(!exceeds_tolerance(5, 10, Some(50.0), None));
        assert!(exceeds_tolerance(6, 10, Some(50.0), None));
        assert!(exceeds_tolerance(3, 10, Some(50.0), Some(2)));
        assert!(exceeds_tolerance(6, 10, Some(50.0), Some(9)));
        assert!(!exceeds_tolerance(2, 10, Some(50.0), Some(2)));
    }
}
