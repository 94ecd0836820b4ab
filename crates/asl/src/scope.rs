//! What a path, template or rule can see while it is evaluated: the state's
//! data (`$`), the context object (`$$`) and the workflow variables
//! (`$name`).

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The data `$` refers to (effective input, or the raw result for
    /// `ResultSelector`).
    pub input: &'a Value,
    /// The context object `$$` (`Execution`, `State`, `StateMachine`, `Task`, `Map`).
    pub context: &'a Value,
    /// Variables set by `Assign`, visible as `$name`.
    pub variables: &'a Map<String, Value>,
}

impl<'a> Scope<'a> {
    pub fn new(input: &'a Value, context: &'a Value, variables: &'a Map<String, Value>) -> Self {
        Scope {
            input,
            context,
            variables,
        }
    }

    /// The same context and variables over other data.
    pub fn with_input(self, input: &'a Value) -> Self {
        Scope { input, ..self }
    }
}
