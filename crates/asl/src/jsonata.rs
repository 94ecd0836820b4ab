//! The JSONata query language as Step Functions runs it: the `{% ... %}`
//! strings of a JSONata state's `Arguments`, `Output`, `Assign`, `Items`,
//! `ItemSelector`, `Condition`, `Seconds`, `Timestamp`, `TimeoutSeconds`,
//! `HeartbeatSeconds`, `MaxConcurrency`, `ToleratedFailure*` and a Fail's
//! `Error` and `Cause`; the `$states` variable (`input`, `result`,
//! `errorOutput`, `context`); the six functions AWS adds (`$partition`,
//! `$range`, `$hash`, `$random`, `$uuid`, `$parse`) and `$eval`, which AWS
//! takes away; and AWS's rule that an expression returning nothing fails
//! the state with `States.QueryEvaluationError`, naming the field.
//!
//! The language itself is `zoomvault_jsonata`'s; this module decides only
//! what an expression sees and what its answer means to a state. Like the
//! rest of the crate it reads no clock and draws no randomness of its own:
//! `$now()` is the state's entered time from the context object, and
//! `$random()`, `$uuid()` and `$shuffle` draw from the caller's `Entropy`,
//! so a replay evaluates every expression to the same value.

mod functions;
mod references;
#[cfg(test)]
mod tests;

use crate::error::{codes, names, pointer_join};
use crate::{DefinitionError, Entropy, Failure};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use zoomvault_jsonata::{Environment, Expression, Limits};

/// The limits a state's expression is evaluated under; beyond them the
/// state fails with `States.QueryEvaluationError`, the cause naming the
/// field and carrying the language's U1001.
///
/// AWS documents no limit of its own on a JSONata expression: the Step
/// Functions guide's JSONata page (transforming-data) and its service
/// quotas name none for depth, steps, time or the size of a value (only the
/// 256 KiB payload quota bounds what a state passes on, which the engine
/// applies elsewhere). The figures published for AWS (failing past 100
/// levels of evaluation, and near 7 MB in one value) are a third party's
/// TestState measurements, not AWS's documentation, so these are
/// `zoomvault_jsonata`'s own defaults, chosen here by name so that a
/// documented figure has one place to go. Both count work, not time: a
/// replay that evaluates the expression again fails or succeeds the same
/// way. A regular expression's matching counts into the same budget.
pub const EXPRESSION_LIMITS: Limits = Limits {
    max_depth: zoomvault_jsonata::DEFAULT_MAX_DEPTH,
    max_steps: zoomvault_jsonata::DEFAULT_MAX_STEPS,
};

pub use references::Place;

/// One `{% ... %}` expression of a definition, parsed once.
#[derive(Clone)]
pub struct Query {
    /// The expression between `{%` and `%}` without the spaces around it,
    /// as AWS quotes it in messages.
    text: String,
    expression: Arc<Expression>,
    /// Whether it reads `$states.context`, `$now()` or `$millis()`: the
    /// engine builds the context object only for states that need it.
    reads_context: bool,
    reads_clock: bool,
    /// The `$name`s it mentions: only those variables are bound when it is
    /// evaluated, so a workflow's other variables are not copied for it.
    variables: Vec<String>,
}

impl fmt::Debug for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{%{}%}}", self.text)
    }
}

impl PartialEq for Query {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// Whether a definition string is a JSONata expression: AWS evaluates a
/// string that starts with `{%` and ends with `%}`, and takes any other
/// string as it is written.
pub fn query_text(s: &str) -> Option<&str> {
    s.strip_prefix("{%")?.strip_suffix("%}")
}

impl Query {
    /// Parses the expression of a `{% ... %}` string found at `pointer`, in a
    /// field where `place` says which parts of `$states` exist. Problems are
    /// AWS's two codes: INVALID_JSONATA_EXPRESSION for one that does not
    /// parse, UNSUPPORTED_JSONATA_EXPRESSION for a reference AWS refuses.
    pub fn parse(
        text: &str,
        pointer: &str,
        place: Place,
        errors: &mut Vec<DefinitionError>,
    ) -> Option<Query> {
        let expression = match Expression::parse(text) {
            Ok(e) => e,
            Err(e) => {
                errors.push(
                    DefinitionError::new(pointer, e.message)
                        .with_code(codes::INVALID_JSONATA_EXPRESSION),
                );
                return None;
            }
        };
        let mut refused = false;
        for problem in references::check(text, &expression, place) {
            errors.push(
                DefinitionError::new(pointer, problem)
                    .with_code(codes::UNSUPPORTED_JSONATA_EXPRESSION),
            );
            refused = true;
        }
        if refused {
            return None;
        }
        Some(Query {
            text: text.trim().to_string(),
            reads_context: crate::definition::ContextUse::of_jsonata_text(text)
                == crate::definition::ContextUse::Full,
            reads_clock: text.contains("$now") || text.contains("$millis"),
            variables: references::variables(text),
            expression: Arc::new(expression),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether evaluating it needs the context object.
    pub fn reads_context(&self) -> bool {
        self.reads_context || self.reads_clock
    }

    /// Evaluates the expression; `field` names where it was written
    /// (`Output/v`, `Arguments/a[0]`, `Seconds`) for AWS's messages. A result
    /// of nothing is `States.QueryEvaluationError`, as are the language's
    /// own errors.
    pub fn eval(
        &self,
        states: &States,
        field: &str,
        entropy: &mut dyn Entropy,
    ) -> Result<Value, Failure> {
        match self
            .eval_optional(states, field, entropy)
            .map_err(|f| f.at(field))?
        {
            Some(v) => Ok(v),
            None => Err(Failure::new(
                names::QUERY_EVALUATION_ERROR,
                format!(
                    "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                    self.text
                ),
            )
            .at(field)),
        }
    }

    fn eval_optional(
        &self,
        states: &States,
        field: &str,
        entropy: &mut dyn Entropy,
    ) -> Result<Option<Value>, Failure> {
        // AWS's words, with the language's code and message after them.
        let failed = |e: zoomvault_jsonata::Error| {
            Failure::new(
                names::QUERY_EVALUATION_ERROR,
                format!(
                    "The JSONata expression '{}' specified for the field '{field}' threw an error during evaluation. {}: {}",
                    self.text, e.code, e.message
                ),
            )
        };
        // The random draws of `$random()`, `$shuffle` and `$uuid()` share
        // the caller's entropy, each taking what it needs in call order.
        let entropy = RefCell::new(entropy);
        let mut draw = || unit_interval(entropy.borrow_mut().next_u64());
        let binding = states.binding(self.reads_context);
        let mut env = Environment::new();
        env.set_limits(EXPRESSION_LIMITS);
        env.set_now_millis(if self.reads_clock {
            states.entered_ms()
        } else {
            0.0
        });
        env.set_random(&mut draw);
        env.hide("eval");
        functions::register(&mut env, &entropy).map_err(failed)?;
        env.bind("states", &binding);
        for name in &self.variables {
            if let Some(value) = states.variables.get(name) {
                env.bind(name, value);
            }
        }
        self.expression.evaluate(None, &mut env).map_err(failed)
    }
}

/// A random draw in [0, 1) from 53 bits of entropy, as JavaScript's
/// `Math.random()` has.
fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// What `$states` holds while an expression is evaluated, and the workflow
/// variables beside it.
#[derive(Debug, Clone, Copy)]
pub struct States<'a> {
    /// The state's raw input.
    pub input: &'a Value,
    /// The state's result (Task, Parallel, Map), in `Output` and `Assign`.
    pub result: Option<&'a Value>,
    /// `{Error, Cause}` in a catcher's `Output` and `Assign`.
    pub error_output: Option<&'a Value>,
    pub context: &'a Value,
    pub variables: &'a Map<String, Value>,
}

impl States<'_> {
    fn binding(&self, with_context: bool) -> Value {
        let mut states = Map::new();
        states.insert("input".into(), self.input.clone());
        if let Some(result) = self.result {
            states.insert("result".into(), result.clone());
        }
        if let Some(error_output) = self.error_output {
            states.insert("errorOutput".into(), error_output.clone());
        }
        if with_context {
            states.insert("context".into(), self.context.clone());
        }
        Value::Object(states)
    }

    /// The state's entered time, which `$now()` and `$millis()` answer: the
    /// one instant of the evaluation that a replay sees again.
    fn entered_ms(&self) -> f64 {
        self.context
            .pointer("/State/EnteredTime")
            .and_then(Value::as_str)
            .and_then(crate::timestamp::parse)
            .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as f64)
            .unwrap_or(0.0)
    }
}

/// A JSON value from a JSONata state's definition in which every string
/// `{% ... %}` is an expression: `Arguments`, `Output`, the values of
/// `Assign`, `ItemSelector`, an `Items` array.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A subtree with no expression in it.
    Literal(Value),
    Query(Query),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Template {
    pub fn parse(
        value: &Value,
        pointer: &str,
        place: Place,
        errors: &mut Vec<DefinitionError>,
    ) -> Template {
        Template {
            root: parse_node(value, pointer, place, errors),
        }
    }

    /// The template's one expression when it is nothing but `{% ... %}`.
    pub fn as_query(&self) -> Option<&Query> {
        match &self.root {
            Node::Query(q) => Some(q),
            _ => None,
        }
    }

    pub fn reads_context(&self) -> bool {
        self.root.reads_context()
    }

    /// Evaluates every expression in the template; `field` is the template's
    /// field name (`Output`, `Arguments`, `Assign/x`), extended with `/key`
    /// and `[i]` for what lies inside, as AWS names a field in its messages.
    pub fn eval(
        &self,
        states: &States,
        field: &str,
        entropy: &mut dyn Entropy,
    ) -> Result<Value, Failure> {
        self.root.eval(states, field, entropy)
    }
}

impl Node {
    fn reads_context(&self) -> bool {
        match self {
            Node::Literal(_) => false,
            Node::Query(q) => q.reads_context(),
            Node::Array(items) => items.iter().any(Node::reads_context),
            Node::Object(fields) => fields.iter().any(|(_, n)| n.reads_context()),
        }
    }

    fn eval(
        &self,
        states: &States,
        field: &str,
        entropy: &mut dyn Entropy,
    ) -> Result<Value, Failure> {
        match self {
            Node::Literal(v) => Ok(v.clone()),
            Node::Query(q) => q.eval(states, field, entropy),
            Node::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| n.eval(states, &format!("{field}[{i}]"), entropy))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Node::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (key, node) in fields {
                    out.insert(
                        key.clone(),
                        node.eval(states, &format!("{field}/{key}"), entropy)?,
                    );
                }
                Ok(Value::Object(out))
            }
        }
    }
}

fn parse_node(
    value: &Value,
    pointer: &str,
    place: Place,
    errors: &mut Vec<DefinitionError>,
) -> Node {
    let node = match value {
        Value::String(s) => match query_text(s) {
            Some(text) => match Query::parse(text, pointer, place, errors) {
                Some(q) => Node::Query(q),
                None => Node::Literal(Value::Null),
            },
            None => Node::Literal(value.clone()),
        },
        Value::Array(items) => Node::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    parse_node(item, &pointer_join(pointer, &i.to_string()), place, errors)
                })
                .collect(),
        ),
        Value::Object(fields) => Node::Object(
            fields
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        parse_node(v, &pointer_join(pointer, k), place, errors),
                    )
                })
                .collect(),
        ),
        other => Node::Literal(other.clone()),
    };
    collapse(node, value)
}

/// A subtree without expressions is kept as the value it was, so evaluating
/// it is one clone.
fn collapse(node: Node, value: &Value) -> Node {
    let literal = match &node {
        Node::Array(items) => items.iter().all(|n| matches!(n, Node::Literal(_))),
        Node::Object(fields) => fields.iter().all(|(_, n)| matches!(n, Node::Literal(_))),
        _ => false,
    };
    if literal {
        Node::Literal(value.clone())
    } else {
        node
    }
}
