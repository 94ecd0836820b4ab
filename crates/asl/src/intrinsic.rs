//! Intrinsic functions. (INTERFACE STUB: the intrinsic helper replaces the bodies.)

use crate::{Entropy, Failure, Scope};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Intrinsic {
    text: String,
}

impl Intrinsic {
    /// True when a `.$` value is an intrinsic call rather than a path.
    pub fn looks_like_call(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    pub fn parse(text: &str) -> Result<Intrinsic, String> {
        Ok(Intrinsic { text: text.to_string() })
    }

    pub fn eval(&self, scope: &Scope, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
        let _ = (scope, entropy);
        Err(Failure::intrinsic(format!("{} not implemented", self.text)))
    }
}
