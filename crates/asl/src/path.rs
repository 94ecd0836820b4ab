//! JSONPath as ASL uses it. (INTERFACE STUB: the path helper replaces the bodies.)

use crate::{Failure, Scope};
use serde_json::Value;

/// A parsed path: rooted at `$` (state data), `$$` (context object) or
/// `$name` (a variable).
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    text: String,
}

impl Path {
    /// Parses any JSONPath query ASL accepts (InputPath, OutputPath, `.$` keys, ItemsPath, ...).
    pub fn parse(text: &str) -> Result<Path, String> {
        Ok(Path { text: text.to_string() })
    }

    /// Parses a reference path (only `.name`, `['name']`, `[n]`), as ResultPath and Choice `Variable` require.
    pub fn parse_reference(text: &str) -> Result<Path, String> {
        Self::parse(text)
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// True for a reference path: one that selects at most one node.
    pub fn is_reference(&self) -> bool {
        true
    }

    /// Evaluates the path. No match is a `States.Runtime` failure naming the path.
    pub fn eval(&self, scope: &Scope) -> Result<Value, Failure> {
        let _ = scope;
        Err(Failure::runtime(format!("path {} not implemented", self.text)))
    }

    /// Like `eval`, but `None` when the path selects nothing (Choice `IsPresent`).
    pub fn lookup(&self, scope: &Scope) -> Option<Value> {
        self.eval(scope).ok()
    }
}

/// Places `result` into `input` at a reference path (ResultPath).
pub fn apply_result_path(input: Value, path: &Path, result: Value) -> Result<Value, Failure> {
    let _ = (input, path);
    Ok(result)
}
