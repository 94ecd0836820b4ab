//! The functions Step Functions adds to JSONata: `$partition`, `$range`,
//! `$hash`, `$random(seed)`, `$uuid` and `$parse`
//! (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html,
//! "JSONata functions provided by Step Functions").
//!
//! AWS's documented behaviour, and what emulators measured against it: a
//! non-integer count is truncated towards zero; a chunk size of zero, an
//! empty array, a `$range` without a step or with a step that walks away
//! from its end, and a `$hash` without an algorithm are undefined (so the
//! field fails, not the call); a one-element `$range` is the bare number.

use crate::Entropy;
use serde_json::Value;
use std::cell::RefCell;
use zoomvault_jsonata::{Environment, Error};

/// Registers the six functions in `env`; `$random()` without a seed and
/// `$uuid()` draw from `entropy`.
pub(super) fn register<'a>(
    env: &mut Environment<'a>,
    entropy: &'a RefCell<&mut dyn Entropy>,
) -> Result<(), Error> {
    env.register("partition", "<an:a>", |args| {
        call(partition(&present(args)))
    })?;
    env.register("range", "<nnn?:x>", |args| call(range(&present(args))))?;
    env.register("hash", "<ss?:s>", |args| call(hash(&present(args))))?;
    env.register("parse", "<s:x>", |args| call(parse(&present(args))))?;
    env.register("random", "<n?:n>", move |args| {
        call(random(&present(args), &mut **entropy.borrow_mut()))
    })?;
    env.register("uuid", "<:s>", move |_| {
        call(uuid(&mut **entropy.borrow_mut()))
    })?;
    Ok(())
}

/// The arguments up to the first undefined one.
fn present(args: &[Option<Value>]) -> Vec<Value> {
    args.iter().map_while(|a| a.clone()).collect()
}

fn call(outcome: Outcome) -> Result<Option<Value>, Error> {
    outcome.map_err(|message| Error {
        code: "States.QueryEvaluationError",
        position: None,
        token: None,
        message,
        value: None,
    })
}

/// An argument error, reported as the call's failure.
pub(super) type Outcome = Result<Option<Value>, String>;

fn number(v: Option<&Value>, what: &str) -> Result<Option<f64>, String> {
    match v {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(format!("{what} must be a number, found {other}")),
    }
}

fn json_number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// `$partition(array, size)`: the array in chunks of `size`, the last one
/// holding the remainder.
pub(super) fn partition(args: &[Value]) -> Outcome {
    let items = match args.first() {
        Some(Value::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
        None => return Ok(None),
    };
    let Some(size) = number(args.get(1), "The chunk size of $partition")? else {
        return Ok(None);
    };
    let size = size.trunc();
    if items.is_empty() || size < 1.0 {
        return Ok(None);
    }
    let size = size.min(items.len() as f64) as usize;
    Ok(Some(Value::Array(
        items
            .chunks(size)
            .map(|c| Value::Array(c.to_vec()))
            .collect(),
    )))
}

/// AWS's bound on the elements `$range` makes, checked before anything is
/// built.
const RANGE_LIMIT: f64 = 360_145.0;

/// `$range(start, end, step)`: from `start` towards `end` by `step`, with
/// `end` included when a step lands on it.
pub(super) fn range(args: &[Value]) -> Outcome {
    let start = number(args.first(), "The start of $range")?;
    let end = number(args.get(1), "The end of $range")?;
    let step = number(args.get(2), "The step of $range")?;
    let (Some(start), Some(end), Some(step)) = (start, end, step) else {
        return Ok(None);
    };
    let (start, end, step) = (start.trunc(), end.trunc(), step.trunc());
    if step == 0.0 || (end - start) * step < 0.0 {
        return Ok(None);
    }
    let count = ((end - start) / step).floor() + 1.0;
    if count > RANGE_LIMIT {
        return Err("Expression evaluation memory limit exceeded".to_string());
    }
    let values: Vec<Value> = (0..count as u64)
        .map(|i| json_number(start + step * i as f64))
        .collect();
    Ok(Some(match <[Value; 1]>::try_from(values) {
        Ok([only]) => only,
        Err(values) => Value::Array(values),
    }))
}

/// `$hash(data, algorithm)`: the hex digest of a string.
pub(super) fn hash(args: &[Value]) -> Outcome {
    let data = match args.first() {
        Some(Value::String(s)) => s.as_bytes(),
        Some(other) => return Err(format!("The data of $hash must be a string, found {other}")),
        None => return Ok(None),
    };
    let algorithm = match args.get(1) {
        Some(Value::String(a)) => a.as_str(),
        Some(other) => {
            return Err(format!(
                "The algorithm of $hash must be a string, found {other}"
            ))
        }
        None => return Ok(None),
    };
    match crate::intrinsic::hex_digest(algorithm, data) {
        Some(digest) => Ok(Some(Value::String(digest))),
        None => Err(format!(
            "The algorithm of $hash must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, found {algorithm:?}"
        )),
    }
}

/// `$random(seed)`: with a seed, the same number every time for that seed;
/// without one, a draw from the execution's entropy.
pub(super) fn random(args: &[Value], entropy: &mut dyn Entropy) -> Outcome {
    let bits = match number(args.first(), "The seed of $random")? {
        Some(seed) => crate::SplitMix64(seed.trunc() as i64 as u64).next_u64(),
        None => entropy.next_u64(),
    };
    Ok(Some(json_number(super::unit_interval(bits))))
}

/// `$uuid()`: a version 4 UUID from the execution's entropy, as
/// `States.UUID` makes one.
pub(super) fn uuid(entropy: &mut dyn Entropy) -> Outcome {
    Ok(Some(Value::String(crate::intrinsic::uuid_v4(entropy))))
}

/// `$parse(json)`: a JSON string's value, `$eval`'s replacement.
pub(super) fn parse(args: &[Value]) -> Outcome {
    match args.first() {
        None => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| format!("$parse could not read its argument as JSON: {e}")),
        Some(other) => Err(format!(
            "The argument of $parse must be a string, found {other}"
        )),
    }
}
