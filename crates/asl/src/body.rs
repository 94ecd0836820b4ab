//! The pure parts of each state type's body: what a Choice chooses, when a
//! Wait ends, what a Fail raises, the numbers a Task or Map reads from
//! `...Path` fields, and when a Map has failed past its tolerance. The
//! lifecycle around a body is `lifecycle`'s; what a body waits for (tasks,
//! timers, child runs) is the engine's. No I/O, no clock: `now` is given.
//!
//! `data` is what a field reads: the effective input for a JSONPath
//! `...Path`, the raw input (`$states.input`) for a JSONata `{% %}`; the
//! engine picks it with `lifecycle::body_input`.

use crate::definition::{
    Dynamic, Fail, Items, MapState, RuleTest, State, StateKind, TextSource, Wait,
};
use crate::error::names;
use crate::lifecycle::Env;
use crate::{Failure, Scope};
use serde_json::Value;
use time::OffsetDateTime;

/// Reads a `...Path` number field (TimeoutSecondsPath, MaxConcurrencyPath,
/// ...): it must select a non-negative integer. `field` is the `...Path`
/// field's name; a JSONata expression is in the field without `Path`.
pub fn dynamic_u64(
    d: &Dynamic<u64>,
    data: &Value,
    env: &mut Env,
    field: &str,
) -> Result<u64, Failure> {
    match d {
        Dynamic::Fixed(n) => Ok(*n),
        Dynamic::Query(q) => {
            let field = field.trim_end_matches("Path");
            let v = q.eval(&env.states(data), field, env.entropy)?;
            integral(&v).ok_or_else(|| {
                Failure::new(
                    names::QUERY_EVALUATION_ERROR,
                    format!(
                        "The JSONata expression '{}' specified for the field '{field}' must return a non-negative integer, returned {v}",
                        q.text()
                    ),
                ).at(field)
            })
        }
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

/// A JSON number that is a whole, non-negative value (JSONata's numbers
/// are doubles, so `3.0` counts).
fn integral(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19)
            .map(|f| f as u64)
    })
}

pub fn dynamic_f64(
    d: &Dynamic<f64>,
    data: &Value,
    env: &mut Env,
    field: &str,
) -> Result<f64, Failure> {
    match d {
        Dynamic::Fixed(n) => Ok(*n),
        Dynamic::Query(q) => {
            let field = field.trim_end_matches("Path");
            let v = q.eval(&env.states(data), field, env.entropy)?;
            v.as_f64().ok_or_else(|| {
                Failure::new(
                    names::QUERY_EVALUATION_ERROR,
                    format!(
                        "The JSONata expression '{}' specified for the field '{field}' must return a number, returned {v}",
                        q.text()
                    ),
                ).at(field)
            })
        }
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
    env: &mut Env,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, Failure> {
    match wait {
        Wait::SecondsQuery(q) => {
            let v = q.eval(&env.states(data), "Seconds", env.entropy)?;
            match integral(&v) {
                Some(s) if s <= 31_622_400 => Ok(now + time::Duration::seconds(s as i64)),
                _ => Err(Failure::new(
                    names::QUERY_EVALUATION_ERROR,
                    format!(
                        "The JSONata expression '{}' specified for the field 'Seconds' must return a number of seconds from 0 to 31622400, returned {v}",
                        q.text()
                    ),
                ).at("Seconds")),
            }
        }
        Wait::TimestampQuery(q) => {
            let v = q.eval(&env.states(data), "Timestamp", env.entropy)?;
            v.as_str().and_then(crate::timestamp::parse).ok_or_else(|| {
                Failure::new(
                    names::QUERY_EVALUATION_ERROR,
                    format!(
                        "The JSONata expression '{}' specified for the field 'Timestamp' must return an ISO-8601 timestamp, returned {v}",
                        q.text()
                    ),
                ).at("Timestamp")
            })
        }
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
    let error = text(fail.error.as_ref(), raw, env, "Error")?;
    let cause = text(fail.cause.as_ref(), raw, env, "Cause")?;
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
        // AWS's wording for a path that selects nothing, as for a `.$`
        // field (see `lifecycle`), with the field's name.
        Some(TextSource::Path(path)) => path.eval(&env.scope(raw)).map_err(|f| {
            if f.is_runtime() {
                Failure::runtime(format!(
                    "The JSONPath '{}' specified for the field '{field}Path' could not be found in the input '{raw}'",
                    path.text()
                ))
            } else {
                f
            }
        })?,
        Some(TextSource::Intrinsic(call)) => {
            let scope = Scope::new(raw, env.context, env.variables);
            call.eval(&scope, env.entropy)?
        }
        Some(TextSource::Query(q)) => {
            return match q.eval(&env.states(raw), field, env.entropy)? {
                Value::String(s) => Ok(s),
                other => Err(Failure::new(
                    names::QUERY_EVALUATION_ERROR,
                    format!(
                        "The JSONata expression '{}' specified for the field '{field}' must return a string, returned {other}",
                        q.text()
                    ),
                ).at(field)),
            };
        }
    };
    match value {
        Value::String(s) => Ok(s),
        other => Err(Failure::runtime(format!(
            "The {field}Path must resolve to a string, found {other}"
        ))),
    }
}

/// Which branch a Choice state takes: the index of the first matching rule,
/// or `None` for `Default`; no match and no Default is
/// `States.NoChoiceMatched`.
pub fn choose(state: &State, data: &Value, env: &mut Env) -> Result<Option<usize>, Failure> {
    let StateKind::Choice(choice) = &state.kind else {
        return Err(Failure::runtime(
            "choose called on a state that is not a Choice",
        ));
    };
    for (i, branch) in choice.choices.iter().enumerate() {
        let chosen = match &branch.test {
            RuleTest::Condition(condition) => condition.evaluate(&env.scope(data))?,
            RuleTest::Query(q) => {
                let field = format!("Choices[{i}]/Condition");
                match q.eval(&env.states(data), &field, env.entropy)? {
                    Value::Bool(b) => b,
                    other => {
                        return Err(Failure::new(
                            names::QUERY_EVALUATION_ERROR,
                            format!(
                                "The JSONata expression '{}' specified for the field '{field}' must return a boolean, returned {other}",
                                q.text()
                            ),
                        ).at(&field))
                    }
                }
            }
        };
        if chosen {
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

/// A Map's items: what `ItemsPath` selects from the effective input, or
/// what JSONata `Items` yields; an array either way.
pub fn map_items(
    state: &State,
    map: &MapState,
    data: &Value,
    env: &mut Env,
) -> Result<Vec<Value>, Failure> {
    let (items, what) = match &map.items {
        Items::Path(path) => (
            path.eval(&env.scope(data))?,
            format!("ItemsPath {:?}", path.text()),
        ),
        Items::Template(template) => (
            template.eval(&env.states(data), "Items", env.entropy)?,
            "Items".to_string(),
        ),
    };
    match items {
        Value::Array(items) => Ok(items),
        other => Err(Failure::runtime(format!(
            "Map state '{}': {what} must select an array, selected {}",
            state.name,
            crate::JsonType::of(&other).with_article()
        ))),
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
