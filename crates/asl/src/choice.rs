//! Choice rules. (INTERFACE STUB: the choice helper replaces the bodies.)

use crate::{DefinitionError, Failure, Scope};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    raw: Value,
}

impl Condition {
    /// Parses one rule object. `Next` and `Assign` are ignored here (the
    /// Choice state owns them); every other problem is pushed to `errors`.
    pub fn parse(value: &Value, pointer: &str, errors: &mut Vec<DefinitionError>) -> Option<Condition> {
        let _ = (pointer, errors);
        Some(Condition { raw: value.clone() })
    }

    pub fn evaluate(&self, scope: &Scope) -> Result<bool, Failure> {
        let _ = scope;
        Ok(false)
    }
}
