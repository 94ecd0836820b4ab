//! Bounded fuzzing of the language's parsers and evaluators (issue 14,
//! point 6): hostile and near-valid definitions, JSONPath, intrinsic calls
//! Choice rules and JSONata expressions must never panic, must keep off the end of a 2 MiB
//! stack, and must hold heap in proportion to what they were given. Each
//! property runs through `zoomvault_fuzz::check`, which measures both; the
//! case counts are in each test's doc comment.
//!
//! The generators are structure-aware, so most cases get past the first
//! syntax check: definitions are machines of random states whose fields
//! are right, wrong-typed or missing, whose transitions make cycles, and
//! whose Parallel and Map states nest; paths and calls are built from the
//! grammar's own tokens. Nesting right at and beyond each documented limit
//! is checked with plain tests, since random generation rarely reaches it.

mod definition;
mod expressions;
mod jsonata;

use serde_json::Value;

/// The JSON text of `value`, which is what any of these inputs arrives as.
fn json_len(value: &Value) -> usize {
    value.to_string().len()
}
