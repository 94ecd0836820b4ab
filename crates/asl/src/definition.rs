//! The typed state machine: a definition read once from JSON into Rust
//! values, with the spec's defaults filled in, and validated as a whole.
//! Execution never looks at raw keys.
//!
//! `parse` reports every problem it finds, each named by the JSON pointer of
//! the field at fault, and returns a `StateMachine` only when there are none.
//!
//! The model keeps the query language explicit (`QueryLanguage`, per state)
//! and the JSONPath data-processing fields in their own type
//! (`Processing`); a JSONata state has its `Arguments`, `Output` and
//! `{% %}` fields instead (`crate::jsonata`), checked against AWS's rules
//! for mixing the two languages.
//!
//! The modules below follow what is read. `tree` is the typed result and
//! nothing else; `machine` reads a machine object (top level, Parallel branch
//! or Map processor) and `graph` checks the transitions between its states;
//! `state` reads what every state shares and `kinds` what each state type adds;
//! `recovery` reads `Retry` and `Catch`; `fields` holds the readers of field
//! shapes they all use. Nothing in them evaluates a path or a template.

mod distributed;
mod fields;
mod graph;
mod kinds;
mod machine;
mod recovery;
mod state;
mod tree;

pub use distributed::{MAX_LABEL_LEN, S3_GET_OBJECT, S3_LIST_OBJECTS_V2, S3_PUT_OBJECT};
pub use tree::{
    Assign, Choice, ChoiceBranch, ContextUse, Dynamic, Fail, ItemSelector, Items, MapState,
    Parallel, Pass, PathOrNull, Processing, QueryLanguage, ResultPath, RuleTest, State, StateKind,
    StateMachine, Task, TextSource, Transition, Wait, MAX_STATE_NAME_LEN,
};
pub use tree::{
    ChildExecutionType, CsvHeaders, Distributed, FieldTemplate, ItemBatcher, ItemReader,
    ItemSource, ResultWriter,
};

use crate::DefinitionError;
use machine::{parse_machine, MachineScope};
use serde_json::Value;

/// Parses and validates a definition given as JSON text.
pub fn parse_str(text: &str) -> Result<StateMachine, Vec<DefinitionError>> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        vec![DefinitionError::new(
            "",
            format!(
                "definition is not valid JSON: {e} (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
        .with_code(crate::error::codes::INVALID_JSON_DESCRIPTION)]
    })?;
    parse(&value)
}

/// How many arrays and objects a definition may nest in each other: as
/// many as JSON text can (serde_json's recursion limit), so a definition
/// given as a value is held to what [`parse_str`] lets through. Reading a
/// definition recurses into nested machines, templates and Choice rules,
/// and at this depth that fits a 2 MiB stack even in a debug build; a value
/// built in code has no limit of its own.
pub const MAX_DEPTH: usize = 127;

/// Parses and validates a definition. Returns every problem found.
pub fn parse(value: &Value) -> Result<StateMachine, Vec<DefinitionError>> {
    if nests_deeper_than(value, MAX_DEPTH) {
        return Err(vec![DefinitionError::new(
            "",
            format!(
                "the definition nests more than {MAX_DEPTH} arrays and objects deep, \
                 which JSON text cannot"
            ),
        )]);
    }
    let mut errors = Vec::new();
    let machine = parse_machine(
        value,
        "",
        MachineScope::TopLevel,
        QueryLanguage::JsonPath,
        &mut errors,
    );
    match machine {
        Some(m) if errors.is_empty() => Ok(m),
        _ => {
            if errors.is_empty() {
                errors.push(DefinitionError::new("", "definition could not be read"));
            }
            Err(errors)
        }
    }
}

/// Whether `value` nests more than `limit` arrays and objects in each
/// other. Iterative, so any depth is safe to ask about.
fn nests_deeper_than(value: &Value, limit: usize) -> bool {
    let mut pending = vec![(value, 1usize)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if depth > limit {
            return true;
        }
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    false
}

#[cfg(test)]
mod tests;
