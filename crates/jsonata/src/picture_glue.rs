//! Where the picture-string functions (`$formatNumber`, `$formatBase`,
//! `$formatInteger`, `$parseInteger`, `$fromMillis`, `$toMillis`, and
//! `$now(picture, timezone)`) meet the evaluator. Their implementation is
//! the `picture` module, written on the `jsonata-picture` branch; until it
//! is merged they are absent from the library (calling one is T1006, as
//! calling any undefined function is), and `$now` with a picture raises
//! the same error. It must not implement picture parsing itself.

use crate::error::RawError;
use crate::eval::R;
use crate::value::Value;

pub(crate) fn from_millis(
    _millis: f64,
    _picture: Option<&str>,
    _timezone: Option<&str>,
) -> R<Value> {
    Err(RawError::new("T1006"))
}
