//! Readers for the field shapes many parts of a definition share: unknown
//! fields, optional strings, positive and other literal numbers, a number
//! given literally or by a path (`TimeoutSeconds`/`TimeoutSecondsPath`), a
//! path, a `ResultPath` (of a state or a catcher), and an `Assign` object of
//! variables.
//!
//! Each reports its problems under the field's JSON pointer and returns what
//! it could read. None of them knows which state or machine it serves.

use super::tree::{Assign, Dynamic, QueryLanguage, ResultPath};
use crate::error::pointer_join;
use crate::jsonata::{Place, Query, Template};
use crate::path::{Path, Root};
use crate::payload::PayloadTemplate;
use crate::{DefinitionError, JsonType};
use serde_json::{Map, Value};

pub(super) fn unknown_fields(
    obj: &Map<String, Value>,
    ptr: &str,
    allowed: &[&str],
    // What the object is, for the reader of a call; AWS's words for an
    // unsupported field do not name it.
    _what: &str,
    errors: &mut Vec<DefinitionError>,
) {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            // AWS's words, located at the object that holds the field.
            errors.push(DefinitionError::new(
                ptr,
                format!("Field '{key}' is not supported"),
            ));
        }
    }
}

pub(super) fn opt_string(
    obj: &Map<String, Value>,
    key: &str,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        other => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, key),
                format!(
                    "expected a string, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
    }
}

pub(super) fn positive_integer(
    v: &Value,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<u64> {
    positive_literal(v)
        .map_err(|message| errors.push(DefinitionError::new(ptr, message)))
        .ok()
}

/// A number given literally under `key` or read at run time from the path
/// under `path_key` (`TimeoutSeconds`/`TimeoutSecondsPath` and kin): at most
/// one of the two; `literal` checks the literal form. In a JSONata state the
/// field itself may hold a `{% %}` expression instead.
pub(super) fn dynamic_field<T>(
    obj: &Map<String, Value>,
    key: &str,
    path_key: &str,
    ptr: &str,
    language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
    literal: impl Fn(&Value) -> Result<T, String>,
) -> Option<Dynamic<T>> {
    match (obj.get(key), obj.get(path_key)) {
        (Some(_), Some(_)) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, path_key),
                format!("\"{key}\" and \"{path_key}\" are mutually exclusive"),
            ));
            None
        }
        (Some(v), None) => {
            if let Some(text) = query_in(v, language) {
                return Query::parse(text, &pointer_join(ptr, key), Place::Before, errors)
                    .map(Dynamic::Query);
            }
            match literal(v) {
                Ok(n) => Some(Dynamic::Fixed(n)),
                Err(message) => {
                    errors.push(DefinitionError::new(pointer_join(ptr, key), message));
                    None
                }
            }
        }
        (None, Some(_)) => path_field(obj, path_key, ptr, errors).map(Dynamic::Path),
        (None, None) => None,
    }
}

/// The expression of a `{% %}` string in a JSONata state's field.
pub(super) fn query_in(v: &Value, language: QueryLanguage) -> Option<&str> {
    match (v, language) {
        (Value::String(s), QueryLanguage::Jsonata) => crate::jsonata::query_text(s),
        _ => None,
    }
}

pub(super) fn positive_literal(v: &Value) -> Result<u64, String> {
    v.as_u64()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("expected a positive integer, found {v}"))
}

pub(super) fn non_negative_literal(v: &Value) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| format!("expected a non-negative integer, found {v}"))
}

pub(super) fn percentage_literal(v: &Value) -> Result<f64, String> {
    v.as_f64()
        .filter(|p| (0.0..=100.0).contains(p))
        .ok_or_else(|| format!("expected a number between 0 and 100, found {v}"))
}

/// A path field (InputPath, ItemsPath, ...), named by the last segment of
/// `ptr`. A path that does not parse gets AWS's words, `The value for the
/// field 'InputPath' must be a valid JSONPath`, as AWS answers for a `.$`
/// field (quoted from failed deployments: "SCHEMA_VALIDATION_FAILED: The
/// value for the field 'Message.$' must be a valid JSONPath").
pub(super) fn parse_path(text: &str, ptr: &str, errors: &mut Vec<DefinitionError>) -> Option<Path> {
    match Path::parse(text) {
        Ok(p) => Some(p),
        Err(_) => {
            let field = ptr.rsplit('/').next().unwrap_or_default();
            let field = field.replace("~1", "/").replace("~0", "~");
            errors.push(DefinitionError::new(
                ptr,
                format!("The value for the field '{field}' must be a valid JSONPath"),
            ));
            None
        }
    }
}

pub(super) fn path_field(
    obj: &Map<String, Value>,
    key: &str,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<Path> {
    let fptr = pointer_join(ptr, key);
    match obj.get(key)? {
        Value::String(s) => parse_path(s, &fptr, errors),
        other => {
            errors.push(DefinitionError::new(
                fptr,
                format!(
                    "expected a path, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
    }
}

/// A `ResultPath` as a state and a catcher both write it: a reference path
/// into the state's input, or `null` to discard the result. A value that is
/// neither is reported and read as `Discard`; the definition is invalid by
/// then, so what stands in for it is never run.
pub(super) fn parse_result_path(
    v: &Value,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> ResultPath {
    match v {
        Value::Null => ResultPath::Discard,
        Value::String(s) => match Path::parse_reference(s) {
            Ok(path) if path.root() == Root::Input => ResultPath::Path(path),
            Ok(_) => {
                errors.push(DefinitionError::new(
                    ptr,
                    format!("{s:?} must be a reference path into the state's input, starting with \"$\""),
                ));
                ResultPath::Discard
            }
            Err(e) => {
                errors.push(DefinitionError::new(
                    ptr,
                    format!("invalid reference path {s:?}: {e}"),
                ));
                ResultPath::Discard
            }
        },
        other => {
            errors.push(DefinitionError::new(
                ptr,
                format!(
                    "expected a reference path or null, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            ResultPath::Discard
        }
    }
}

/// `Assign` in a state of `language`; in JSONata its `{% %}` strings see
/// what `place` allows.
pub(super) fn parse_assign(
    v: &Value,
    ptr: &str,
    language: QueryLanguage,
    place: Place,
    errors: &mut Vec<DefinitionError>,
) -> Assign {
    match v.as_object() {
        Some(map) => {
            for key in map.keys() {
                let var = match language {
                    QueryLanguage::JsonPath => key.strip_suffix(".$").unwrap_or(key),
                    QueryLanguage::Jsonata => key,
                };
                if !is_variable_name(var) {
                    errors.push(DefinitionError::new(
                        pointer_join(ptr, key),
                        format!(
                            "{var:?} is not a valid variable name: use letters, digits and '_', not starting with a digit"
                        ),
                    ));
                }
            }
        }
        None => errors.push(DefinitionError::new(
            ptr,
            format!(
                "expected an object of variable assignments, found {}",
                JsonType::of(v).with_article()
            ),
        )),
    }
    match language {
        QueryLanguage::JsonPath => Assign::JsonPath(PayloadTemplate::parse(v, ptr, errors)),
        QueryLanguage::Jsonata => Assign::Jsonata(Template::parse(v, ptr, place, errors)),
    }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => chars.all(|c| c.is_alphanumeric() || c == '_'),
        _ => false,
    }
}
