//! Payload templates. (INTERFACE STUB: the intrinsic helper replaces the bodies.)

use crate::{DefinitionError, Entropy, Failure, Scope};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct PayloadTemplate {
    raw: Value,
}

impl PayloadTemplate {
    /// Parses a Parameters / ResultSelector / ItemSelector / Assign value,
    /// pushing every problem (bad path, bad intrinsic, `.$` on a non-string)
    /// into `errors`, named by JSON pointer under `pointer`.
    pub fn parse(value: &Value, pointer: &str, errors: &mut Vec<DefinitionError>) -> PayloadTemplate {
        let _ = (pointer, errors);
        PayloadTemplate { raw: value.clone() }
    }

    pub fn eval(&self, scope: &Scope, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
        let _ = (scope, entropy);
        Ok(self.raw.clone())
    }
}
