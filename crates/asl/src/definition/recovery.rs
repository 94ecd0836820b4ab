//! The `Retry` and `Catch` arrays of Task, Parallel and Map states: each
//! retrier and catcher with the spec's defaults filled in, and the rules on
//! `ErrorEquals` (not empty, `States.ALL` alone and only in the last element).
//!
//! It builds `crate::retry`'s types; deciding at run time which retrier or
//! catcher applies to an error belongs to `crate::retry`, not here.

use super::fields::{parse_assign, parse_result_path, positive_integer, unknown_fields};
use super::tree::{root_path, QueryLanguage, ResultPath};
use crate::error::pointer_join;
use crate::jsonata::{Place, Template};
use crate::retry::{Catcher, Jitter, Retrier};
use crate::{DefinitionError, JsonType};
use serde_json::{Map, Value};

fn parse_error_equals(
    v: Option<&Value>,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Vec<String> {
    let eptr = pointer_join(ptr, "ErrorEquals");
    let Some(v) = v else {
        errors.push(DefinitionError::new(
            ptr,
            "These fields are required: [ErrorEquals]",
        ));
        return Vec::new();
    };
    let Some(items) = v.as_array() else {
        errors.push(DefinitionError::new(
            eptr,
            format!(
                "expected an array of error names, found {}",
                JsonType::of(v).with_article()
            ),
        ));
        return Vec::new();
    };
    if items.is_empty() {
        errors.push(DefinitionError::new(&eptr, "must name at least one error"));
    }
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) => names.push(s.to_string()),
            None => errors.push(DefinitionError::new(
                pointer_join(&eptr, &i.to_string()),
                format!(
                    "expected an error name, found {}",
                    JsonType::of(item).with_article()
                ),
            )),
        }
    }
    if names.iter().any(|n| n == crate::error::names::ALL) && names.len() > 1 {
        errors.push(DefinitionError::new(
            eptr,
            "\"States.ALL\" must appear alone in ErrorEquals",
        ));
    }
    names
}

/// `States.ALL` may only be in the last retrier or catcher.
fn check_all_is_last(error_lists: &[&[String]], ptr: &str, errors: &mut Vec<DefinitionError>) {
    let n = error_lists.len();
    for (i, list) in error_lists.iter().enumerate() {
        if i + 1 < n && list.iter().any(|e| e == crate::error::names::ALL) {
            errors.push(DefinitionError::new(
                pointer_join(&pointer_join(ptr, &i.to_string()), "ErrorEquals"),
                "\"States.ALL\" must be in the last element",
            ));
        }
    }
}

/// The elements of a `Retry` or `Catch` array that are objects, each with
/// its JSON pointer; an array that is not one, or an element that is not an
/// object, is reported as `what` ("retrier", "catcher").
fn object_elements<'a>(
    v: Option<&'a Value>,
    ptr: &str,
    what: &str,
    errors: &mut Vec<DefinitionError>,
) -> Vec<(String, &'a Map<String, Value>)> {
    let Some(v) = v else { return Vec::new() };
    let Some(items) = v.as_array() else {
        errors.push(DefinitionError::new(
            ptr,
            format!(
                "expected an array of {what}s, found {}",
                JsonType::of(v).with_article()
            ),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_ptr = pointer_join(ptr, &i.to_string());
        match item.as_object() {
            Some(obj) => out.push((item_ptr, obj)),
            None => errors.push(DefinitionError::new(
                item_ptr,
                format!(
                    "expected a {what} object, found {}",
                    JsonType::of(item).with_article()
                ),
            )),
        }
    }
    out
}

pub(super) fn parse_retry(
    v: Option<&Value>,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Vec<Retrier> {
    let mut out = Vec::new();
    for (rptr, obj) in object_elements(v, ptr, "retrier", errors) {
        unknown_fields(
            obj,
            &rptr,
            &[
                "ErrorEquals",
                "IntervalSeconds",
                "MaxAttempts",
                "BackoffRate",
                "MaxDelaySeconds",
                "JitterStrategy",
                "Comment",
            ],
            "a retrier",
            errors,
        );
        let error_equals = parse_error_equals(obj.get("ErrorEquals"), &rptr, errors);
        let interval_seconds = match obj.get("IntervalSeconds") {
            None => Retrier::DEFAULT_INTERVAL_SECONDS,
            Some(v) => {
                positive_integer(v, &pointer_join(&rptr, "IntervalSeconds"), errors).unwrap_or(1)
            }
        };
        let max_attempts = match obj.get("MaxAttempts") {
            None => Retrier::DEFAULT_MAX_ATTEMPTS,
            Some(v) => match v.as_u64() {
                Some(n) if n <= 99_999_999 => n,
                _ => {
                    errors.push(DefinitionError::new(
                        pointer_join(&rptr, "MaxAttempts"),
                        format!("expected an integer from 0 to 99999999, found {v}"),
                    ));
                    0
                }
            },
        };
        let backoff_rate = match obj.get("BackoffRate") {
            None => Retrier::DEFAULT_BACKOFF_RATE,
            Some(v) => match v.as_f64() {
                Some(r) if r >= 1.0 => r,
                _ => {
                    errors.push(DefinitionError::new(
                        pointer_join(&rptr, "BackoffRate"),
                        format!("expected a number at least 1.0, found {v}"),
                    ));
                    1.0
                }
            },
        };
        let max_delay_seconds = match obj.get("MaxDelaySeconds") {
            None => None,
            Some(v) => positive_integer(v, &pointer_join(&rptr, "MaxDelaySeconds"), errors),
        };
        let jitter = match obj.get("JitterStrategy") {
            None => Jitter::None,
            Some(Value::String(s)) if s == "FULL" => Jitter::Full,
            Some(Value::String(s)) if s == "NONE" => Jitter::None,
            Some(other) => {
                errors.push(DefinitionError::new(
                    pointer_join(&rptr, "JitterStrategy"),
                    format!("expected \"FULL\" or \"NONE\", found {other}"),
                ));
                Jitter::None
            }
        };
        out.push(Retrier {
            error_equals,
            interval_seconds,
            max_attempts,
            backoff_rate,
            max_delay_seconds,
            jitter,
        });
    }
    let lists: Vec<&[String]> = out.iter().map(|r| r.error_equals.as_slice()).collect();
    check_all_is_last(&lists, ptr, errors);
    out
}

pub(super) fn parse_catch(
    v: Option<&Value>,
    ptr: &str,
    language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Vec<Catcher> {
    let mut out = Vec::new();
    for (cptr, obj) in object_elements(v, ptr, "catcher", errors) {
        let own = match language {
            QueryLanguage::JsonPath => "ResultPath",
            QueryLanguage::Jsonata => "Output",
        };
        unknown_fields(
            obj,
            &cptr,
            &["ErrorEquals", "Next", own, "Assign", "Comment"],
            "a catcher",
            errors,
        );
        let error_equals = parse_error_equals(obj.get("ErrorEquals"), &cptr, errors);
        let next = match obj.get("Next") {
            Some(Value::String(n)) => n.clone(),
            Some(other) => {
                errors.push(DefinitionError::new(
                    pointer_join(&cptr, "Next"),
                    format!(
                        "expected a state name, found {}",
                        JsonType::of(other).with_article()
                    ),
                ));
                continue;
            }
            None => {
                errors.push(DefinitionError::new(&cptr, "a catcher needs \"Next\""));
                continue;
            }
        };
        // A catcher keeps `crate::retry`'s `Option<Path>`, where `None` discards.
        let result_path = match obj.get("ResultPath") {
            None => Some(root_path()),
            Some(v) => match parse_result_path(v, &pointer_join(&cptr, "ResultPath"), errors) {
                ResultPath::Path(path) => Some(path),
                ResultPath::Discard => None,
            },
        };
        let assign = obj.get("Assign").map(|v| {
            parse_assign(
                v,
                &pointer_join(&cptr, "Assign"),
                language,
                Place::Catcher,
                errors,
            )
        });
        let output = obj
            .get("Output")
            .filter(|_| language == QueryLanguage::Jsonata)
            .map(|v| Template::parse(v, &pointer_join(&cptr, "Output"), Place::Catcher, errors));
        out.push(Catcher {
            error_equals,
            next,
            result_path,
            assign,
            output,
        });
    }
    let lists: Vec<&[String]> = out.iter().map(|c| c.error_equals.as_slice()).collect();
    check_all_is_last(&lists, ptr, errors);
    out
}
