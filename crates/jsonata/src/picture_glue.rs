//! Where the picture-string functions (`$formatNumber`, `$formatBase`,
//! `$formatInteger`, `$parseInteger`, `$fromMillis`, `$toMillis`, and
//! `$now(picture, timezone)`) meet the evaluator: undefined arguments,
//! option objects and error conversion. The pictures themselves are the
//! `picture` module's; this file must not parse them.

use std::rc::Rc;

use crate::error::RawError;
use crate::eval::{Evaluator, Frame, R};
use crate::picture::{self, PictureError};
use crate::value::Value;

fn err(e: PictureError) -> RawError {
    RawError::new(e.code).message(e.message)
}

fn arg<'j>(args: &[Value<'j>], i: usize) -> Value<'j> {
    args.get(i).cloned().unwrap_or(Value::Undefined)
}

pub(crate) fn from_millis<'j>(
    millis: f64,
    picture: Option<&str>,
    timezone: Option<&str>,
) -> R<Value<'j>> {
    picture::from_millis(millis, picture, timezone)
        .map(Value::string)
        .map_err(err)
}

pub(crate) fn f_format_number<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::Number(n) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let picture = arg(a, 1);
    let options = match arg(a, 2).to_json() {
        Some(serde_json::Value::Object(m)) => Some(m),
        _ => None,
    };
    picture::format_number(n, picture.as_str().unwrap_or(""), options.as_ref())
        .map(Value::string)
        .map_err(err)
}

pub(crate) fn f_format_base<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::Number(n) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    picture::format_base(n, arg(a, 1).as_f64())
        .map(Value::string)
        .map_err(err)
}

pub(crate) fn f_format_integer<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::Number(n) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    picture::format_integer(n, arg(a, 1).as_str().unwrap_or(""))
        .map(Value::string)
        .map_err(err)
}

pub(crate) fn f_parse_integer<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::String(s) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    match picture::parse_integer(&s, arg(a, 1).as_str().unwrap_or("")).map_err(err)? {
        Some(n) => Ok(Value::Number(n)),
        None => Ok(Value::Undefined),
    }
}

pub(crate) fn f_from_millis<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::Number(n) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    from_millis(n, arg(a, 1).as_str(), arg(a, 2).as_str())
}

pub(crate) fn f_to_millis<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::String(s) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let picture = arg(a, 1);
    // A picture without a date takes the date from the evaluation's time,
    // as jsonata-js fills it from `$now()`; without a clock, 0.
    let now = ev.env.now().unwrap_or(0.0);
    match picture::to_millis_at(&s, picture.as_str(), now).map_err(err)? {
        Some(n) => Ok(Value::Number(n)),
        None => Ok(Value::Undefined),
    }
}
