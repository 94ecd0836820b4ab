//! JSONPath as the Amazon States Language uses it: parsing a path once into a
//! typed query, evaluating it against a [`Scope`], and placing a result into
//! a state's input at a reference path (`ResultPath`).
//!
//! This module owns the path grammar (roots `$`, `$$` and `$name`; dot and
//! bracket names, indices, wildcards, unions, slices, deep scan and filters)
//! and its evaluation. It does no I/O and never panics on its input: every
//! malformed path is an `Err` naming what is wrong and at which character
//! offset, and filter nesting is capped so parsing cannot exhaust the stack.
//!
//! Step Functions evaluates JSONPath with Jayway JsonPath (Java). Where the
//! AWS documentation is silent, this module follows Jayway's behaviour, and
//! the comment at each such place says so. The main consequences:
//!
//! * A *definite* path (only single names and single indices) yields one
//!   value; selecting nothing fails with `States.Runtime` and a cause in
//!   Jayway's words, e.g. `Invalid path '$.foo' : No results for path:
//!   $['foo']`.
//! * Any other path yields a JSON array of every match in document order,
//!   empty when nothing matches. But, as in Jayway, a missing property or a
//!   type mismatch on the definite *prefix* of a path still fails
//!   (`$.missing[*]` fails; `$.items[*].missing` is `[]`).
//! * A union of names as the last step (`$['a','b']`) is definite and yields
//!   an object holding those of the properties that exist (Jayway's "merge"
//!   case); elsewhere a union of names iterates like a union of indices.
//! * A filter applied to an object tests the object itself; applied to an
//!   array it tests each element. After `..` it tests every object at or
//!   below the node. Inside a filter `$` is the root of the document the
//!   outer path reads (the input, the context object or the variable).
//! * Filter comparisons are typed: values of different JSON types are never
//!   equal nor ordered (Jayway would coerce a numeric string in `==`), and
//!   `!=` is "not `==`", so it matches items that lack the field.
//!
//! Choices of this module's own, where neither AWS nor Jayway is a guide:
//!
//! * Names in dot notation may hold any character but whitespace and
//!   `.[]()'",*<>=!&|` (Jayway stops only at `.`, `[`, `(` and space), so
//!   `$.detail-type` and `$.a$b` work; anything else needs brackets.
//! * Leading or trailing whitespace is an error (Jayway trims it).
//! * Filters support `==, !=, <, <=, >, >=, &&, ||, !`, parentheses and
//!   existence; Jayway's `=~`, `in`, `size` and friends are rejected with a
//!   message saying so, as is a slice step (`[a:b:c]`).
//! * `ResultPath` index steps only replace an existing element of an
//!   existing array; arrays are never created or grown.

use crate::error::names::RESULT_PATH_MATCH_FAILURE;
use crate::{Failure, Scope};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

/// How deeply filters, parentheses and `!` may nest inside one path. Far
/// beyond any real definition; it only keeps the recursive-descent parser
/// (and the evaluator that mirrors it) off the end of the stack.
pub const MAX_NESTING: usize = 64;

/// What a path starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$`: the state's data.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

impl Root {
    fn label(&self) -> String {
        match self {
            Root::Input => "$".to_string(),
            Root::Context => "$$".to_string(),
            Root::Variable(name) => format!("${name}"),
        }
    }
}

/// A parsed path: rooted at `$` (state data), `$$` (context object) or
/// `$name` (a variable).
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    text: String,
    root: Root,
    segments: Vec<Segment>,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    /// `.x`, `[x]`: applies the selector to the current node.
    Child(Selector),
    /// `..x`: applies the selector to the current node and all its descendants.
    Descendant(Selector),
}

#[derive(Debug, Clone, PartialEq)]
enum Selector {
    Name(String),
    /// Two or more quoted names: `['a','b']`.
    Names(Vec<String>),
    Index(i64),
    /// Two or more indices: `[0,2]`.
    Indices(Vec<i64>),
    Wildcard,
    Slice {
        start: Option<i64>,
        end: Option<i64>,
    },
    Filter(Box<Predicate>),
}

/// The condition inside `[?( ... )]`.
#[derive(Debug, Clone, PartialEq)]
enum Predicate {
    /// `a || b || ...` (kept flat so long chains do not nest).
    Any(Vec<Predicate>),
    /// `a && b && ...`
    All(Vec<Predicate>),
    Not(Box<Predicate>),
    /// A path on its own: true when it selects something (even `null`).
    Exists(Query),
    Compare(Operand, Comparison, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Literal(Value),
    Query(Query),
}

/// A path inside a filter: `@...` (the node under test) or `$...` (the root
/// of the document the outer path is evaluated against).
#[derive(Debug, Clone, PartialEq)]
struct Query {
    current: bool,
    segments: Vec<Segment>,
}

impl Path {
    /// Parses any JSONPath query ASL accepts (InputPath, OutputPath, `.$` keys, ItemsPath, ...).
    pub fn parse(text: &str) -> Result<Path, String> {
        let (root, segments) = Parser::new(text).path()?;
        Ok(Path {
            text: text.to_string(),
            root,
            segments: segments.into_iter().map(|(segment, _)| segment).collect(),
        })
    }

    /// Parses a reference path (only `.name`, `['name']`, `[n]`), as ResultPath and Choice `Variable` require.
    ///
    /// Any root is accepted; callers that need `$` (ResultPath) check [`Path::root`].
    pub fn parse_reference(text: &str) -> Result<Path, String> {
        let parser = Parser::new(text);
        let (root, segments) = parser.clone().path()?;
        for (segment, offset) in &segments {
            if !segment.is_reference_step() {
                return Err(parser.error(
                    *offset,
                    format!(
                        "{} is not allowed in a reference path, which may only use \
                         '.name', ['name'] and [index]",
                        segment.kind()
                    ),
                ));
            }
        }
        Ok(Path {
            text: text.to_string(),
            root,
            segments: segments.into_iter().map(|(segment, _)| segment).collect(),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// What the path starts from, so a validator can forbid e.g. `$$` in ResultPath.
    pub fn root(&self) -> Root {
        self.root.clone()
    }

    /// True for a reference path: one that selects at most one node.
    pub fn is_reference(&self) -> bool {
        self.segments.iter().all(Segment::is_reference_step)
    }

    /// True when the path yields a single value rather than an array of
    /// matches: only names and indices, or (as in Jayway) a union of names
    /// as the last step.
    pub fn is_definite(&self) -> bool {
        segments_definite(&self.segments)
    }

    /// The path in Jayway's normalized bracket form (`$['a'][0][*]`), as AWS
    /// error causes show it. Filters appear as `[?]`.
    pub fn normalized(&self) -> String {
        let mut out = self.root.label();
        for segment in &self.segments {
            out.push_str(&segment.fragment());
        }
        out
    }

    /// Evaluates the path. No match is a `States.Runtime` failure naming the path.
    pub fn eval(&self, scope: &Scope) -> Result<Value, Failure> {
        let root = match &self.root {
            Root::Input => scope.input,
            Root::Context => scope.context,
            Root::Variable(name) => match scope.variables.get(name) {
                Some(value) => value,
                None if self.is_definite() => {
                    return Err(Failure::runtime(format!(
                        "Invalid path '{}' : No results for path: {} (no variable named '{}' \
                         is in scope)",
                        self.text,
                        self.normalized(),
                        name
                    )))
                }
                None => return Ok(Value::Array(Vec::new())),
            },
        };
        let found = select(&self.segments, root, root, &self.root.label(), true)
            .map_err(|why| Failure::runtime(format!("Invalid path '{}' : {}", self.text, why)))?;
        if self.is_definite() {
            match found.into_iter().next() {
                Some(value) => Ok(value.into_owned()),
                None => Err(Failure::runtime(format!(
                    "Invalid path '{}' : No results for path: {}",
                    self.text,
                    self.normalized()
                ))),
            }
        } else {
            Ok(Value::Array(
                found.into_iter().map(Cow::into_owned).collect(),
            ))
        }
    }

    /// Like `eval`, but `None` when the path selects nothing (Choice `IsPresent`):
    /// a definite path that fails, or an indefinite one whose array is empty.
    pub fn lookup(&self, scope: &Scope) -> Option<Value> {
        match self.eval(scope).ok()? {
            Value::Array(items) if items.is_empty() && !self.is_definite() => None,
            value => Some(value),
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Places `result` into `input` at a reference path (ResultPath).
///
/// `$` replaces the input. `$.a.b` sets `b` in object `a`, creating missing
/// objects on the way (a new key goes last; an existing key keeps its place).
/// An index step (`$.list[1]`) replaces an existing element of an existing
/// array; arrays are never created or grown, since no AWS document says what
/// that would mean. Anything else (stepping into a string, a number, `null`,
/// or a missing element) fails with `States.ResultPathMatchFailure` and AWS's
/// cause: `Unable to apply ReferencePath $.a.b to input {...}`.
pub fn apply_result_path(input: Value, path: &Path, result: Value) -> Result<Value, Failure> {
    if path.root != Root::Input || !path.is_reference() {
        return Err(Failure::new(
            RESULT_PATH_MATCH_FAILURE,
            format!(
                "Unable to apply ReferencePath {}: a ResultPath must be a reference path \
                 starting with '$'",
                path.text
            ),
        ));
    }
    if path.segments.is_empty() {
        return Ok(result);
    }
    if !result_path_fits(&input, &path.segments) {
        return Err(result_path_mismatch(path, &input));
    }
    let (last, parents) = match path.segments.split_last() {
        Some(split) => split,
        None => return Ok(result),
    };
    // `result_path_fits` has vouched for every step below, so the fallback
    // arms are unreachable; they stay errors rather than panics all the same.
    let unexpected = || {
        Failure::new(
            RESULT_PATH_MATCH_FAILURE,
            format!("Unable to apply ReferencePath {} to input", path.text),
        )
    };
    let mut output = input;
    let mut node = &mut output;
    for segment in parents {
        node = match (segment, node) {
            (Segment::Child(Selector::Name(name)), Value::Object(fields)) => fields
                .entry(name.clone())
                .or_insert_with(|| Value::Object(Map::new())),
            (Segment::Child(Selector::Index(index)), Value::Array(items)) => {
                match resolve_index(*index, items.len()).and_then(|at| items.get_mut(at)) {
                    Some(item) => item,
                    None => return Err(unexpected()),
                }
            }
            _ => return Err(unexpected()),
        };
    }
    match (last, node) {
        (Segment::Child(Selector::Name(name)), Value::Object(fields)) => {
            fields.insert(name.clone(), result);
        }
        (Segment::Child(Selector::Index(index)), Value::Array(items)) => {
            match resolve_index(*index, items.len()).and_then(|at| items.get_mut(at)) {
                Some(item) => *item = result,
                None => return Err(unexpected()),
            }
        }
        _ => return Err(unexpected()),
    }
    Ok(output)
}

/// Whether `apply_result_path` can place a value at `segments` in `input`
/// without stepping into a non-object or a missing array element. Checked
/// before anything is changed, so the failure cause shows the input as it was.
fn result_path_fits(input: &Value, segments: &[Segment]) -> bool {
    let mut node = Some(input);
    for segment in segments {
        match (segment, node) {
            // Below a missing key everything is created, and only objects can be.
            (Segment::Child(Selector::Name(_)), None) => {}
            (Segment::Child(Selector::Name(name)), Some(Value::Object(fields))) => {
                node = fields.get(name);
            }
            (Segment::Child(Selector::Index(index)), Some(Value::Array(items))) => {
                match resolve_index(*index, items.len()) {
                    Some(at) => node = items.get(at),
                    None => return false,
                }
            }
            _ => return false,
        }
    }
    true
}

fn result_path_mismatch(path: &Path, input: &Value) -> Failure {
    let shown = serde_json::to_string(input).unwrap_or_else(|_| input.to_string());
    Failure::new(
        RESULT_PATH_MATCH_FAILURE,
        format!(
            "Unable to apply ReferencePath {} to input {}",
            path.text, shown
        ),
    )
}

impl Segment {
    fn is_reference_step(&self) -> bool {
        matches!(
            self,
            Segment::Child(Selector::Name(_)) | Segment::Child(Selector::Index(_))
        )
    }

    /// Jayway's `isTokenDefinite`: a union of names is definite only as the
    /// last step, where it merges into one object.
    fn is_definite(&self, leaf: bool) -> bool {
        match self {
            Segment::Child(Selector::Name(_)) | Segment::Child(Selector::Index(_)) => true,
            Segment::Child(Selector::Names(_)) => leaf,
            _ => false,
        }
    }

    /// How an error message names this kind of step.
    fn kind(&self) -> &'static str {
        match self {
            Segment::Descendant(_) => "a deep scan '..'",
            Segment::Child(Selector::Wildcard) => "a wildcard '*'",
            Segment::Child(Selector::Filter(_)) => "a filter '[?(...)]'",
            Segment::Child(Selector::Slice { .. }) => "a slice '[start:end]'",
            Segment::Child(Selector::Names(_)) | Segment::Child(Selector::Indices(_)) => {
                "a union '[a,b]'"
            }
            Segment::Child(Selector::Name(_)) => "a name",
            Segment::Child(Selector::Index(_)) => "an index",
        }
    }

    fn fragment(&self) -> String {
        match self {
            Segment::Child(selector) => selector.fragment(),
            Segment::Descendant(selector) => format!("..{}", selector.fragment()),
        }
    }
}

impl Selector {
    fn fragment(&self) -> String {
        let quote = |name: &str| format!("'{}'", name.replace('\\', "\\\\").replace('\'', "\\'"));
        let join = |parts: Vec<String>| parts.join(",");
        match self {
            Selector::Name(name) => format!("[{}]", quote(name)),
            Selector::Names(names) => {
                format!("[{}]", join(names.iter().map(|n| quote(n)).collect()))
            }
            Selector::Index(index) => format!("[{index}]"),
            Selector::Indices(indices) => {
                format!("[{}]", join(indices.iter().map(i64::to_string).collect()))
            }
            Selector::Wildcard => "[*]".to_string(),
            Selector::Slice { start, end } => {
                let bound = |b: &Option<i64>| b.map(|n| n.to_string()).unwrap_or_default();
                format!("[{}:{}]", bound(start), bound(end))
            }
            Selector::Filter(_) => "[?]".to_string(),
        }
    }
}

fn segments_definite(segments: &[Segment]) -> bool {
    let last = segments.len().saturating_sub(1);
    segments
        .iter()
        .enumerate()
        .all(|(i, segment)| segment.is_definite(i == last))
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

/// Applies `segments` to `start`, returning every match in document order.
///
/// `document` is what `$` means inside filters. With `strict`, a step that
/// Jayway would reject because everything before it was definite (a missing
/// property that is not the last step, a name applied to a non-object, an
/// index to a non-array, a filter to a scalar) is an `Err` in Jayway's words;
/// without it (inside filters, or once the path has become indefinite) such
/// steps just select nothing.
fn select<'a>(
    segments: &[Segment],
    start: &'a Value,
    document: &'a Value,
    root_label: &str,
    strict: bool,
) -> Result<Vec<Cow<'a, Value>>, String> {
    let mut nodes = vec![start];
    let mut upstream_definite = true;
    let mut prefix = root_label.to_string();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        let leaf = i == last;
        let strict_prefix = (strict && upstream_definite).then_some(prefix.as_str());
        if let (true, Segment::Child(Selector::Names(names))) = (leaf, segment) {
            // Jayway merges a trailing union of names into one object per node.
            let mut merged = Vec::new();
            for node in nodes {
                match node {
                    Value::Object(fields) => {
                        let picked = names
                            .iter()
                            .filter_map(|n| fields.get(n).map(|v| (n.clone(), v.clone())))
                            .collect::<Map<_, _>>();
                        merged.push(Cow::Owned(Value::Object(picked)));
                    }
                    other => {
                        if let Some(prefix) = strict_prefix {
                            return Err(not_an_object(segment, prefix, other));
                        }
                    }
                }
            }
            return Ok(merged);
        }
        let mut next = Vec::new();
        for node in nodes {
            match segment {
                Segment::Child(selector) => {
                    child(selector, node, document, leaf, strict_prefix, &mut next)?
                }
                Segment::Descendant(selector) => descendants(selector, node, document, &mut next),
            }
        }
        nodes = next;
        if upstream_definite {
            if segment.is_definite(leaf) {
                prefix.push_str(&segment.fragment());
            } else {
                upstream_definite = false;
            }
        }
    }
    Ok(nodes.into_iter().map(Cow::Borrowed).collect())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn not_an_object(segment: &Segment, prefix: &str, found: &Value) -> String {
    format!(
        "Expected to find an object with property {} in path {} but found '{}'",
        segment.fragment(),
        prefix,
        type_name(found)
    )
}

/// One child step from `node`. `strict_prefix` is the normalized path so far
/// when the step must fail rather than select nothing (see [`select`]).
fn child<'a>(
    selector: &Selector,
    node: &'a Value,
    document: &'a Value,
    leaf: bool,
    strict_prefix: Option<&str>,
    out: &mut Vec<&'a Value>,
) -> Result<(), String> {
    match (selector, node) {
        (Selector::Name(name), Value::Object(fields)) => match fields.get(name) {
            Some(value) => out.push(value),
            // Jayway leaves a missing last property to the caller ("No results
            // for path"), but fails at once on a missing intermediate one.
            None if leaf => {}
            None => {
                if let Some(prefix) = strict_prefix {
                    return Err(format!(
                        "Missing property in path {}{}",
                        prefix,
                        selector.fragment()
                    ));
                }
            }
        },
        (Selector::Names(names), Value::Object(fields)) => {
            out.extend(names.iter().filter_map(|name| fields.get(name)));
        }
        (Selector::Name(_) | Selector::Names(_), other) => {
            if let Some(prefix) = strict_prefix {
                return Err(not_an_object(
                    &Segment::Child(selector.clone()),
                    prefix,
                    other,
                ));
            }
        }
        (
            Selector::Index(_) | Selector::Indices(_) | Selector::Slice { .. },
            Value::Array(items),
        ) => array_step(selector, items, out),
        (Selector::Index(_) | Selector::Indices(_) | Selector::Slice { .. }, other) => {
            if let Some(prefix) = strict_prefix {
                return Err(format!(
                    "Expected to find an array for {} in path {} but found '{}'",
                    selector.fragment(),
                    prefix,
                    type_name(other)
                ));
            }
        }
        (Selector::Wildcard, _) => push_children(node, out),
        (Selector::Filter(predicate), Value::Object(_)) => {
            if accepts(predicate, node, document) {
                out.push(node);
            }
        }
        (Selector::Filter(predicate), Value::Array(items)) => {
            out.extend(
                items
                    .iter()
                    .filter(|item| accepts(predicate, item, document)),
            );
        }
        (Selector::Filter(_), other) => {
            if let Some(prefix) = strict_prefix {
                return Err(format!(
                    "Filter [?] can not be applied to primitives: path {} is a {}",
                    prefix,
                    type_name(other)
                ));
            }
        }
    }
    Ok(())
}

fn push_children<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    match node {
        Value::Object(fields) => out.extend(fields.values()),
        Value::Array(items) => out.extend(items.iter()),
        _ => {}
    }
}

/// An index counts from the end when negative, as in Jayway.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let at = if index < 0 {
        len.checked_add(index)?
    } else {
        index
    };
    if (0..len).contains(&at) {
        usize::try_from(at).ok()
    } else {
        None
    }
}

fn array_step<'a>(selector: &Selector, items: &'a [Value], out: &mut Vec<&'a Value>) {
    match selector {
        Selector::Index(index) => {
            out.extend(resolve_index(*index, items.len()).and_then(|at| items.get(at)))
        }
        Selector::Indices(indices) => out.extend(
            indices
                .iter()
                .filter_map(|index| resolve_index(*index, items.len()))
                .filter_map(|at| items.get(at)),
        ),
        Selector::Slice { start, end } => {
            let (from, to) = slice_bounds(*start, *end, items.len());
            // `get` is empty-handed (not panicking) when `from > to`.
            out.extend(items.get(from..to).into_iter().flatten());
        }
        _ => {}
    }
}

/// Jayway's slice arithmetic: a negative bound counts from the end, bounds
/// are clipped to the array, and there is no step. (Jayway leaves negative
/// bounds of `[a:b]` to its index lookup, which agrees with this for the
/// usual cases; mixed signs are normalised here rather than wrapped.)
fn slice_bounds(start: Option<i64>, end: Option<i64>, len: usize) -> (usize, usize) {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let normalise = |bound: i64| -> usize {
        let at = if bound < 0 {
            len_i.saturating_add(bound)
        } else {
            bound
        };
        usize::try_from(at.clamp(0, len_i)).unwrap_or(0)
    };
    let from = start.map(normalise).unwrap_or(0);
    let to = end.map(normalise).unwrap_or(len);
    (from, to)
}

/// Deep scan, after Jayway's `ScanPathToken`: visit the node and every
/// object or array below it in document order (a node before its children),
/// applying the selector to each visited node where it applies. Iterative,
/// so a deeply nested document cannot exhaust the stack.
fn descendants<'a>(
    selector: &Selector,
    start: &'a Value,
    document: &'a Value,
    out: &mut Vec<&'a Value>,
) {
    let mut stack = vec![start];
    while let Some(node) = stack.pop() {
        match (selector, node) {
            (Selector::Name(name), Value::Object(fields)) => out.extend(fields.get(name)),
            // Below a deep scan a union of names iterates (no merge).
            (Selector::Names(names), Value::Object(fields)) => {
                out.extend(names.iter().filter_map(|name| fields.get(name)))
            }
            (
                Selector::Index(_) | Selector::Indices(_) | Selector::Slice { .. },
                Value::Array(items),
            ) => array_step(selector, items, out),
            (Selector::Wildcard, _) => push_children(node, out),
            // Jayway tests a filter after `..` against each object itself.
            (Selector::Filter(predicate), Value::Object(_))
                if accepts(predicate, node, document) =>
            {
                out.push(node)
            }
            _ => {}
        }
        match node {
            Value::Object(fields) => {
                stack.extend(fields.values().rev().filter(|v| is_container(v)))
            }
            Value::Array(items) => stack.extend(items.iter().rev().filter(|v| is_container(v))),
            _ => {}
        }
    }
}

fn is_container(value: &Value) -> bool {
    value.is_object() || value.is_array()
}

fn accepts(predicate: &Predicate, candidate: &Value, document: &Value) -> bool {
    match predicate {
        Predicate::Any(terms) => terms.iter().any(|t| accepts(t, candidate, document)),
        Predicate::All(terms) => terms.iter().all(|t| accepts(t, candidate, document)),
        Predicate::Not(inner) => !accepts(inner, candidate, document),
        Predicate::Exists(query) => query_value(query, candidate, document).is_some(),
        Predicate::Compare(left, op, right) => {
            let left = operand_value(left, candidate, document);
            let right = operand_value(right, candidate, document);
            compare(left.as_deref(), *op, right.as_deref())
        }
    }
}

fn operand_value<'a>(
    operand: &'a Operand,
    candidate: &'a Value,
    document: &'a Value,
) -> Option<Cow<'a, Value>> {
    match operand {
        Operand::Literal(value) => Some(Cow::Borrowed(value)),
        Operand::Query(query) => query_value(query, candidate, document),
    }
}

/// A filter path's value: the one match of a definite path, or the array of
/// matches of an indefinite one; `None` when it selects nothing.
fn query_value<'a>(
    query: &Query,
    candidate: &'a Value,
    document: &'a Value,
) -> Option<Cow<'a, Value>> {
    let (start, label) = if query.current {
        (candidate, "@")
    } else {
        (document, "$")
    };
    let found = select(&query.segments, start, document, label, false).ok()?;
    if segments_definite(&query.segments) {
        found.into_iter().next()
    } else if found.is_empty() {
        None
    } else {
        Some(Cow::Owned(Value::Array(
            found.into_iter().map(Cow::into_owned).collect(),
        )))
    }
}

/// Filter comparisons. A side that selects nothing makes every comparison
/// false except `!=` (Jayway defines `!=` as "not `==`"). Values of
/// different JSON types are never equal nor ordered; Jayway would coerce a
/// numeric string to a number in `==`, which this deliberately does not.
fn compare(left: Option<&Value>, op: Comparison, right: Option<&Value>) -> bool {
    let (Some(left), Some(right)) = (left, right) else {
        return op == Comparison::Ne;
    };
    match op {
        Comparison::Eq => json_equal(left, right),
        Comparison::Ne => !json_equal(left, right),
        _ => {
            let ordering = match (left, right) {
                (Value::Number(a), Value::Number(b)) => compare_numbers(a, b),
                (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                _ => None,
            };
            match ordering {
                Some(ordering) => match op {
                    Comparison::Lt => ordering == Ordering::Less,
                    Comparison::Le => ordering != Ordering::Greater,
                    Comparison::Gt => ordering == Ordering::Greater,
                    Comparison::Ge => ordering != Ordering::Less,
                    Comparison::Eq | Comparison::Ne => false,
                },
                None => false,
            }
        }
    }
}

fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// JSON equality with numbers compared by value (`1 == 1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(k, x)| ys.get(k).is_some_and(|y| json_equal(x, y)))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// A recursive-descent parser over the characters of one path. Offsets in
/// messages count characters from 0.
#[derive(Debug, Clone)]
struct Parser<'t> {
    text: &'t str,
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

/// Characters that end a name in dot notation. Jayway stops only at `.`,
/// `[`, `(` and space; this also stops at quotes, brackets, `,`, `*` and the
/// filter operators so that `@.price<10` reads as a comparison and stray
/// punctuation is reported rather than silently becoming part of a name.
fn is_name_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !".[]()'\",*<>=!&|".contains(c)
}

fn is_identifier_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn describe(c: Option<char>) -> String {
    match c {
        Some(c) if c.is_whitespace() => format!("whitespace {c:?}"),
        Some(c) => format!("'{c}'"),
        None => "the end of the path".to_string(),
    }
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Self {
        Parser {
            text,
            chars: text.chars().collect(),
            pos: 0,
            depth: 0,
        }
    }

    fn error(&self, at: usize, message: impl fmt::Display) -> String {
        format!("invalid path '{}' at offset {}: {}", self.text, at, message)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        if self.chars.len() >= self.pos + n
            && s.chars()
                .eq(self.chars[self.pos..self.pos + n].iter().copied())
        {
            self.pos += n;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char, context: &str) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(
                self.pos,
                format!("expected '{c}' {context}, found {}", describe(self.peek())),
            ))
        }
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            Err(self.error(
                at,
                format!("filters, parentheses and '!' nest more than {MAX_NESTING} levels deep"),
            ))
        } else {
            Ok(())
        }
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn path(mut self) -> Result<(Root, Vec<(Segment, usize)>), String> {
        let root = self.root()?;
        let segments = self.segments()?;
        if let Some(c) = self.peek() {
            let hint = if c.is_whitespace() {
                "; use bracket notation such as ['my name'] for names with spaces"
            } else {
                ""
            };
            return Err(self.error(
                self.pos,
                format!(
                    "unexpected {}, expected '.', '[' or the end of the path{hint}",
                    describe(Some(c))
                ),
            ));
        }
        Ok((root, segments))
    }

    fn root(&mut self) -> Result<Root, String> {
        if !self.eat('$') {
            return Err(self.error(
                self.pos,
                format!(
                    "a path must start with '$', found {}",
                    describe(self.peek())
                ),
            ));
        }
        if self.eat('$') {
            return Ok(Root::Context);
        }
        match self.peek() {
            Some(c) if is_identifier_start(c) => {
                let start = self.pos;
                while self.peek().is_some_and(is_identifier_char) {
                    self.pos += 1;
                }
                Ok(Root::Variable(self.chars[start..self.pos].iter().collect()))
            }
            Some(c) if c.is_ascii_digit() => Err(self.error(
                self.pos,
                "a variable name must start with a letter or '_', not a digit",
            )),
            _ => Ok(Root::Input),
        }
    }

    fn segments(&mut self) -> Result<Vec<(Segment, usize)>, String> {
        let mut segments = Vec::new();
        loop {
            let start = self.pos;
            let segment = match self.peek() {
                Some('.') if self.peek_at(1) == Some('.') => {
                    self.pos += 2;
                    Segment::Descendant(self.after_dot("'..'")?)
                }
                Some('.') => {
                    self.pos += 1;
                    Segment::Child(self.after_dot("'.'")?)
                }
                Some('[') => Segment::Child(self.bracket()?),
                _ => return Ok(segments),
            };
            segments.push((segment, start));
        }
    }

    /// What may follow `.` or `..`: a name, `*`, or (as AWS's own example
    /// `$.abc.['def ghi']` shows) a bracket.
    fn after_dot(&mut self, dot: &str) -> Result<Selector, String> {
        match self.peek() {
            Some('*') => {
                self.pos += 1;
                Ok(Selector::Wildcard)
            }
            Some('[') => self.bracket(),
            Some(c) if is_name_char(c) => {
                let start = self.pos;
                while self.peek().is_some_and(is_name_char) {
                    self.pos += 1;
                }
                Ok(Selector::Name(self.chars[start..self.pos].iter().collect()))
            }
            other => Err(self.error(
                self.pos,
                format!(
                    "expected a name, '*' or '[' after {dot}, found {}{}",
                    describe(other),
                    if other.is_some() {
                        "; use bracket notation such as ['a b'] for names with special characters"
                    } else {
                        ""
                    }
                ),
            )),
        }
    }

    fn bracket(&mut self) -> Result<Selector, String> {
        let open = self.pos;
        self.pos += 1;
        self.skip_whitespace();
        let selector = match self.peek() {
            Some('?') => {
                self.pos += 1;
                self.expect('(', "after '[?'")?;
                self.enter(open)?;
                let predicate = self.or_predicate()?;
                self.skip_whitespace();
                self.expect(')', "to close the filter")?;
                self.leave();
                Selector::Filter(Box::new(predicate))
            }
            Some('*') => {
                self.pos += 1;
                Selector::Wildcard
            }
            Some('\'' | '"') => {
                let mut names = vec![self.string()?];
                loop {
                    self.skip_whitespace();
                    if !self.eat(',') {
                        break;
                    }
                    self.skip_whitespace();
                    match self.peek() {
                        Some('\'' | '"') => names.push(self.string()?),
                        other => {
                            return Err(self.error(
                                self.pos,
                                format!(
                                    "expected a quoted name after ',', found {}",
                                    describe(other)
                                ),
                            ))
                        }
                    }
                }
                if names.len() == 1 {
                    Selector::Name(names.remove(0))
                } else {
                    Selector::Names(names)
                }
            }
            Some(c) if c == '-' || c == ':' || c.is_ascii_digit() => self.indices_or_slice()?,
            None => return Err(self.error(open, "'[' is never closed")),
            other => {
                return Err(self.error(
                    self.pos,
                    format!(
                        "expected a quoted name, an index, a slice, '*' or '?(' after '[', \
                         found {}",
                        describe(other)
                    ),
                ))
            }
        };
        self.skip_whitespace();
        if self.peek().is_none() {
            return Err(self.error(open, "'[' is never closed"));
        }
        self.expect(']', &format!("to close the '[' at offset {open}"))?;
        Ok(selector)
    }

    fn indices_or_slice(&mut self) -> Result<Selector, String> {
        let start = self.optional_integer()?;
        self.skip_whitespace();
        if self.eat(':') {
            self.skip_whitespace();
            let end = self.optional_integer()?;
            self.skip_whitespace();
            if self.peek() == Some(':') {
                return Err(self.error(
                    self.pos,
                    "slice steps ('[start:end:step]') are not supported",
                ));
            }
            return Ok(Selector::Slice { start, end });
        }
        let Some(first) = start else {
            return Err(self.error(
                self.pos,
                format!("expected an index, found {}", describe(self.peek())),
            ));
        };
        let mut indices = vec![first];
        while self.eat(',') {
            self.skip_whitespace();
            match self.optional_integer()? {
                Some(index) => indices.push(index),
                None => {
                    return Err(self.error(
                        self.pos,
                        format!(
                            "expected an index after ',', found {}",
                            describe(self.peek())
                        ),
                    ))
                }
            }
            self.skip_whitespace();
        }
        Ok(if indices.len() == 1 {
            Selector::Index(first)
        } else {
            Selector::Indices(indices)
        })
    }

    /// An optionally signed integer, or `None` when no digits are here.
    fn optional_integer(&mut self) -> Result<Option<i64>, String> {
        let start = self.pos;
        let negative = self.eat('-');
        let digits_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == digits_start {
            if negative {
                return Err(self.error(
                    self.pos,
                    format!("expected digits after '-', found {}", describe(self.peek())),
                ));
            }
            return Ok(None);
        }
        let lexeme: String = self.chars[start..self.pos].iter().collect();
        lexeme
            .parse::<i64>()
            .map(Some)
            .map_err(|_| self.error(start, format!("index {lexeme} is out of range")))
    }

    /// A single- or double-quoted string with JSON-style escapes (and `\'`).
    fn string(&mut self) -> Result<String, String> {
        let start = self.pos;
        let Some(quote) = self.peek() else {
            return Err(self.error(start, "expected a quoted string"));
        };
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error(start, "string is never closed")),
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    let escape_at = self.pos;
                    self.pos += 1;
                    let escaped = match self.peek() {
                        Some(c @ ('\\' | '\'' | '"' | '/')) => c,
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('u') => {
                            self.pos += 1;
                            let c = self.unicode_escape(escape_at)?;
                            out.push(c);
                            continue;
                        }
                        other => {
                            return Err(self.error(
                                escape_at,
                                format!(
                                    "unknown escape '\\{}'",
                                    other.map(String::from).unwrap_or_default()
                                ),
                            ))
                        }
                    };
                    self.pos += 1;
                    out.push(escaped);
                }
                Some(c) => {
                    self.pos += 1;
                    out.push(c);
                }
            }
        }
    }

    /// The `XXXX` of `\uXXXX` (the `\u` already read), joining a UTF-16
    /// surrogate pair written as two escapes.
    fn unicode_escape(&mut self, at: usize) -> Result<char, String> {
        let high = self.hex4(at)?;
        let code = if (0xD800..0xDC00).contains(&high) {
            if !self.eat_str("\\u") {
                return Err(self.error(
                    at,
                    "a high surrogate '\\u' escape must be followed by a low one",
                ));
            }
            let low = self.hex4(at)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(self.error(at, "invalid surrogate pair in '\\u' escapes"));
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(|| self.error(at, "'\\u' escape is not a valid character"))
    }

    fn hex4(&mut self, at: usize) -> Result<u32, String> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self.peek().and_then(|c| c.to_digit(16));
            match digit {
                Some(d) => {
                    code = code * 16 + d;
                    self.pos += 1;
                }
                None => return Err(self.error(at, "'\\u' must be followed by four hex digits")),
            }
        }
        Ok(code)
    }

    fn or_predicate(&mut self) -> Result<Predicate, String> {
        let mut terms = vec![self.and_predicate()?];
        loop {
            self.skip_whitespace();
            if !self.eat_str("||") {
                break;
            }
            terms.push(self.and_predicate()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Predicate::Any(terms)
        })
    }

    fn and_predicate(&mut self) -> Result<Predicate, String> {
        let mut terms = vec![self.unary_predicate()?];
        loop {
            self.skip_whitespace();
            if !self.eat_str("&&") {
                break;
            }
            terms.push(self.unary_predicate()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Predicate::All(terms)
        })
    }

    fn unary_predicate(&mut self) -> Result<Predicate, String> {
        self.skip_whitespace();
        let at = self.pos;
        if self.peek() == Some('!') && self.peek_at(1) != Some('=') {
            self.pos += 1;
            self.enter(at)?;
            let inner = self.unary_predicate()?;
            self.leave();
            return Ok(Predicate::Not(Box::new(inner)));
        }
        if self.eat('(') {
            self.enter(at)?;
            let inner = self.or_predicate()?;
            self.skip_whitespace();
            self.expect(')', &format!("to close the '(' at offset {at}"))?;
            self.leave();
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Predicate, String> {
        let at = self.pos;
        let left = self.operand()?;
        self.skip_whitespace();
        match self.comparison_operator()? {
            Some(op) => {
                self.skip_whitespace();
                let right = self.operand()?;
                Ok(Predicate::Compare(left, op, right))
            }
            None => match left {
                Operand::Query(query) => Ok(Predicate::Exists(query)),
                Operand::Literal(_) => Err(self.error(
                    at,
                    "a literal on its own is not a condition; compare it with \
                     '==', '!=', '<', '<=', '>' or '>='",
                )),
            },
        }
    }

    fn comparison_operator(&mut self) -> Result<Option<Comparison>, String> {
        let at = self.pos;
        let op = if self.eat_str("==") {
            Comparison::Eq
        } else if self.eat_str("!=") {
            Comparison::Ne
        } else if self.eat_str("<=") {
            Comparison::Le
        } else if self.eat_str(">=") {
            Comparison::Ge
        } else if self.eat_str("<") {
            Comparison::Lt
        } else if self.eat_str(">") {
            Comparison::Gt
        } else if self.eat_str("=~") {
            return Err(self.error(
                at,
                "regular expressions ('=~') are not supported in filters",
            ));
        } else if self.peek() == Some('=') {
            return Err(self.error(at, "use '==' to compare, not '='"));
        } else if self.peek().is_some_and(char::is_alphabetic) {
            let word = self.word();
            return Err(self.error(
                at,
                format!(
                    "operator '{word}' is not supported in filters; use '==', '!=', '<', '<=', \
                     '>', '>=', '&&', '||' or '!'"
                ),
            ));
        } else {
            return Ok(None);
        };
        Ok(Some(op))
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(char::is_alphanumeric) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let at = self.pos;
        match self.peek() {
            Some('@') => {
                self.pos += 1;
                let segments = self.segments()?;
                Ok(Operand::Query(Query {
                    current: true,
                    segments: segments.into_iter().map(|(s, _)| s).collect(),
                }))
            }
            Some('$') => {
                if self
                    .peek_at(1)
                    .is_some_and(|c| c == '$' || is_identifier_char(c))
                {
                    return Err(self.error(
                        at,
                        "only '@' and '$' paths can be used inside a filter, not '$$' or variables",
                    ));
                }
                self.pos += 1;
                let segments = self.segments()?;
                Ok(Operand::Query(Query {
                    current: false,
                    segments: segments.into_iter().map(|(s, _)| s).collect(),
                }))
            }
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.string()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_alphabetic() => match self.word().as_str() {
                "true" => Ok(Operand::Literal(Value::Bool(true))),
                "false" => Ok(Operand::Literal(Value::Bool(false))),
                "null" => Ok(Operand::Literal(Value::Null)),
                word => Err(self.error(
                    at,
                    format!(
                        "unknown word '{word}' in filter; expected a path ('@...' or '$...'), \
                         a quoted string, a number, true, false or null"
                    ),
                )),
            },
            other => Err(self.error(
                at,
                format!(
                    "expected a path ('@...' or '$...'), a quoted string, a number, true, false \
                     or null, found {}",
                    describe(other)
                ),
            )),
        }
    }

    fn number(&mut self) -> Result<Operand, String> {
        let start = self.pos;
        self.eat('-');
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos > from
        };
        let mut valid = digits(self);
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            valid &= digits(self);
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            valid &= digits(self);
        }
        let lexeme: String = self.chars[start..self.pos].iter().collect();
        let number = if valid {
            serde_json::from_str::<Number>(&lexeme).ok()
        } else {
            None
        };
        number
            .map(|n| Operand::Literal(Value::Number(n)))
            .ok_or_else(|| self.error(start, format!("'{lexeme}' is not a valid number")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};
    use proptest::prelude::*;
    use serde_json::json;

    fn store() -> Value {
        json!({
            "store": {
                "book": [
                    {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
                    {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
                    {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick",
                     "isbn": "0-553-21311-3", "price": 8.99},
                    {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord",
                     "isbn": "0-395-19395-8", "price": 22.99}
                ],
                "bicycle": {"color": "red", "price": 19.95}
            },
            "expensive": 10
        })
    }

    fn eval_with(
        text: &str,
        input: &Value,
        context: &Value,
        variables: &Map<String, Value>,
    ) -> Result<Value, Failure> {
        let path = Path::parse(text).unwrap_or_else(|e| panic!("{text} should parse: {e}"));
        path.eval(&Scope::new(input, context, variables))
    }

    fn eval(text: &str, input: &Value) -> Result<Value, Failure> {
        eval_with(text, input, &json!({}), &Map::new())
    }

    fn selects(text: &str, input: Value, expected: Value) {
        assert_eq!(eval(text, &input), Ok(expected), "path {text}");
    }

    fn fails(text: &str, input: Value, expected: Expect) {
        let failure = eval(text, &input).expect_err("evaluation should fail");
        assert_eq!(failure.error, "States.Runtime");
        expected.assert_eq(&failure.cause);
    }

    fn parse_error(text: &str, expected: Expect) {
        expected.assert_eq(&Path::parse(text).expect_err("parse should fail"));
    }

    fn reference_error(text: &str, expected: Expect) {
        expected.assert_eq(&Path::parse_reference(text).expect_err("parse should fail"));
    }

    // --- roots -----------------------------------------------------------

    #[test]
    fn dollar_selects_whole_input() {
        selects("$", json!({"a": 1}), json!({"a": 1}));
        selects("$", json!("text"), json!("text"));
    }

    #[test]
    fn double_dollar_reads_the_context_object() {
        let context =
            json!({"Execution": {"Id": "arn:exec"}, "Map": {"Item": {"Value": {"n": 3}}}});
        let variables = Map::new();
        let input = json!({});
        assert_eq!(
            eval_with("$$.Execution.Id", &input, &context, &variables),
            Ok(json!("arn:exec"))
        );
        assert_eq!(
            eval_with("$$.Map.Item.Value.n", &input, &context, &variables),
            Ok(json!(3))
        );
        assert_eq!(
            eval_with("$$", &input, &context, &variables),
            Ok(context.clone())
        );
    }

    #[test]
    fn dollar_name_reads_a_variable() {
        let mut variables = Map::new();
        variables.insert(
            "order".into(),
            json!({"items": [{"sku": "a"}, {"sku": "b"}]}),
        );
        variables.insert("count_2".into(), json!(42));
        let input = json!({"order": "not this"});
        let context = json!({});
        let run = |text| eval_with(text, &input, &context, &variables);
        assert_eq!(run("$count_2"), Ok(json!(42)));
        assert_eq!(run("$order.items[1].sku"), Ok(json!("b")));
        assert_eq!(run("$order['items'][0]"), Ok(json!({"sku": "a"})));
        assert_eq!(run("$order.items[*].sku"), Ok(json!(["a", "b"])));
    }

    #[test]
    fn unknown_variable_is_no_match() {
        let variables = Map::new();
        let (input, context) = (json!({}), json!({}));
        let failure = eval_with("$missing.a", &input, &context, &variables).unwrap_err();
        expect![[r#"Invalid path '$missing.a' : No results for path: $missing['a'] (no variable named 'missing' is in scope)"#]]
            .assert_eq(&failure.cause);
        assert_eq!(
            eval_with("$missing[*]", &input, &context, &variables),
            Ok(json!([]))
        );
        let path = Path::parse("$missing").unwrap();
        assert_eq!(path.lookup(&Scope::new(&input, &context, &variables)), None);
    }

    #[test]
    fn root_reports_what_the_path_starts_from() {
        assert_eq!(Path::parse("$.a").unwrap().root(), Root::Input);
        assert_eq!(Path::parse("$").unwrap().root(), Root::Input);
        assert_eq!(Path::parse("$$.Task.Token").unwrap().root(), Root::Context);
        assert_eq!(
            Path::parse("$x.y").unwrap().root(),
            Root::Variable("x".into())
        );
        assert_eq!(
            Path::parse("$_under").unwrap().root(),
            Root::Variable("_under".into())
        );
        assert_eq!(
            Path::parse("$ünï").unwrap().root(),
            Root::Variable("ünï".into())
        );
    }

    // --- names and indices -----------------------------------------------

    #[test]
    fn dot_name_selects_a_field() {
        selects("$.store.bicycle.color", store(), json!("red"));
        selects("$.expensive", store(), json!(10));
    }

    #[test]
    fn bracket_names_accept_both_quotes_and_escapes() {
        let input =
            json!({"a b": 1, "it's": 2, "say \"hi\"": 3, "back\\slash": 4, "é": 5, "😀": 6, "": 7});
        selects("$['a b']", input.clone(), json!(1));
        selects("$[\"a b\"]", input.clone(), json!(1));
        selects("$['it\\'s']", input.clone(), json!(2));
        selects("$[\"it's\"]", input.clone(), json!(2));
        selects("$['say \\\"hi\\\"']", input.clone(), json!(3));
        selects("$['back\\\\slash']", input.clone(), json!(4));
        selects("$['\\u00e9']", input.clone(), json!(5));
        selects("$['\\ud83d\\ude00']", input.clone(), json!(6));
        selects("$['']", input, json!(7));
    }

    #[test]
    fn dot_bracket_notation_from_the_aws_guide_works() {
        selects(
            "$.abc.['def ghi']",
            json!({"abc": {"def ghi": true}}),
            json!(true),
        );
    }

    #[test]
    fn dot_names_may_hold_dashes_dollars_and_colons() {
        let input = json!({"detail-type": "x", "a$b": 1, "ns:key": 2, "@odata": 3, "0": 4});
        selects("$.detail-type", input.clone(), json!("x"));
        selects("$.a$b", input.clone(), json!(1));
        selects("$.ns:key", input.clone(), json!(2));
        selects("$.@odata", input.clone(), json!(3));
        selects("$.0", input, json!(4));
    }

    #[test]
    fn index_selects_an_element() {
        selects("$.store.book[1].title", store(), json!("Sword"));
        selects("$[0]", json!(["x", "y"]), json!("x"));
        selects("$[ 1 ]", json!(["x", "y"]), json!("y"));
    }

    #[test]
    fn negative_index_counts_from_the_end() {
        selects("$[-1]", json!([1, 2, 3]), json!(3));
        selects("$[-3]", json!([1, 2, 3]), json!(1));
    }

    #[test]
    fn index_out_of_range_is_no_match() {
        fails(
            "$[3]",
            json!([1, 2, 3]),
            expect![[r#"Invalid path '$[3]' : No results for path: $[3]"#]],
        );
        fails(
            "$[-4]",
            json!([1, 2, 3]),
            expect![[r#"Invalid path '$[-4]' : No results for path: $[-4]"#]],
        );
    }

    #[test]
    fn null_value_is_a_match() {
        selects("$.a", json!({"a": null}), json!(null));
    }

    // --- definite path failures (Jayway's messages) ----------------------

    #[test]
    fn definite_path_without_match_fails_naming_the_path() {
        fails(
            "$.foo",
            json!({}),
            expect![[r#"Invalid path '$.foo' : No results for path: $['foo']"#]],
        );
        fails(
            "$.a.b",
            json!({"a": {}}),
            expect![[r#"Invalid path '$.a.b' : No results for path: $['a']['b']"#]],
        );
    }

    #[test]
    fn missing_intermediate_property_fails_where_it_is_missing() {
        fails(
            "$.a.b.c",
            json!({"a": {}}),
            expect![[r#"Invalid path '$.a.b.c' : Missing property in path $['a']['b']"#]],
        );
    }

    #[test]
    fn name_applied_to_a_non_object_fails() {
        fails(
            "$.a.b",
            json!({"a": "text"}),
            expect![[
                r#"Invalid path '$.a.b' : Expected to find an object with property ['b'] in path $['a'] but found 'string'"#
            ]],
        );
    }

    #[test]
    fn index_applied_to_a_non_array_fails() {
        fails(
            "$.a[0]",
            json!({"a": {"0": 1}}),
            expect![[
                r#"Invalid path '$.a[0]' : Expected to find an array for [0] in path $['a'] but found 'object'"#
            ]],
        );
    }

    #[test]
    fn indefinite_path_whose_definite_prefix_is_missing_fails_as_in_jayway() {
        fails(
            "$.missing[*]",
            json!({}),
            expect![[r#"Invalid path '$.missing[*]' : Missing property in path $['missing']"#]],
        );
        fails(
            "$.text[?(@.a)]",
            json!({"text": "abc"}),
            expect![[
                r#"Invalid path '$.text[?(@.a)]' : Filter [?] can not be applied to primitives: path $['text'] is a string"#
            ]],
        );
    }

    // --- indefinite paths ------------------------------------------------

    #[test]
    fn indefinite_path_without_match_is_empty_array() {
        selects("$.items[*].missing", json!({"items": [{}, {}]}), json!([]));
        selects(
            "$.items[?(@.x > 1)]",
            json!({"items": [{"x": 0}]}),
            json!([]),
        );
        selects("$..nothing", json!({"a": {"b": 1}}), json!([]));
        selects("$.items[5:]", json!({"items": [1]}), json!([]));
    }

    #[test]
    fn wildcard_selects_array_elements_and_object_values_in_order() {
        selects("$[*]", json!([1, 2, 3]), json!([1, 2, 3]));
        selects("$.*", json!({"z": 1, "a": 2}), json!([1, 2]));
        selects("$.store.bicycle[*]", store(), json!(["red", 19.95]));
        selects("$.x[*]", json!({"x": 5}), json!([]));
    }

    #[test]
    fn wildcard_then_name_skips_elements_without_it() {
        selects(
            "$.store.book[*].isbn",
            store(),
            json!(["0-553-21311-3", "0-395-19395-8"]),
        );
    }

    #[test]
    fn nested_wildcards_flatten_arrays_of_arrays() {
        // The AWS guide's ResultSelector example for flattening Parallel results.
        selects("$[*][*]", json!([[1, 2], [3], []]), json!([1, 2, 3]));
    }

    #[test]
    fn union_of_indices_returns_each_in_the_order_written() {
        selects("$[0,2]", json!(["a", "b", "c"]), json!(["a", "c"]));
        selects("$[2, 0, 9]", json!(["a", "b", "c"]), json!(["c", "a"]));
        selects("$[-1,0]", json!(["a", "b", "c"]), json!(["c", "a"]));
    }

    #[test]
    fn trailing_union_of_names_merges_into_an_object_as_in_jayway() {
        let path = Path::parse("$['a','c']").unwrap();
        assert!(path.is_definite());
        selects(
            "$['a','c']",
            json!({"a": 1, "b": 2, "c": 3}),
            json!({"a": 1, "c": 3}),
        );
        selects("$['a', \"zz\"]", json!({"a": 1}), json!({"a": 1}));
    }

    #[test]
    fn inner_union_of_names_iterates() {
        let input = json!({"a": {"v": 1}, "b": {"v": 2}});
        assert!(!Path::parse("$['a','b'].v").unwrap().is_definite());
        selects("$['b','a'].v", input, json!([2, 1]));
    }

    #[test]
    fn slices_follow_jayway() {
        let list = json!([0, 1, 2, 3, 4]);
        selects("$[1:3]", list.clone(), json!([1, 2]));
        selects("$[3:]", list.clone(), json!([3, 4]));
        selects("$[:2]", list.clone(), json!([0, 1]));
        selects("$[-2:]", list.clone(), json!([3, 4]));
        selects("$[:-1]", list.clone(), json!([0, 1, 2, 3]));
        selects("$[-3:-1]", list.clone(), json!([2, 3]));
        selects("$[2:100]", list.clone(), json!([2, 3, 4]));
        selects("$[-100:1]", list.clone(), json!([0]));
        selects("$[3:1]", list.clone(), json!([]));
        selects("$[:]", list, json!([0, 1, 2, 3, 4]));
    }

    // --- deep scan -------------------------------------------------------

    #[test]
    fn deep_scan_finds_names_at_any_depth_in_document_order() {
        selects(
            "$..price",
            store(),
            json!([8.95, 12.99, 8.99, 22.99, 19.95]),
        );
        selects(
            "$..a",
            json!({"a": 1, "b": {"a": 2, "c": [{"a": 3}]}}),
            json!([1, 2, 3]),
        );
    }

    #[test]
    fn deep_scan_visits_a_node_before_its_children() {
        selects(
            "$..a",
            json!({"a": {"a": {"a": 0}}}),
            json!([{"a": {"a": 0}}, {"a": 0}, 0]),
        );
    }

    #[test]
    fn deep_scan_wildcard_lists_children_then_descendants() {
        selects(
            "$..*",
            json!({"a": {"b": 1}, "c": [2]}),
            json!([{"b": 1}, [2], 1, 2]),
        );
    }

    #[test]
    fn deep_scan_with_index_applies_to_every_array() {
        selects(
            "$..[0]",
            json!({"a": [1, [2, 3]], "b": {"c": [4]}}),
            json!([1, 2, 4]),
        );
        selects("$..book[2].title", store(), json!(["Moby Dick"]));
        selects(
            "$..['color','title']",
            store(),
            json!(["Sayings", "Sword", "Moby Dick", "The Lord", "red"]),
        );
    }

    #[test]
    fn deep_scan_with_filter_tests_every_object() {
        selects(
            "$..[?(@.id == 2)]",
            json!({"id": 2, "more": [{"id": 2}, {"more": {"id": 2}}, {"id": {"id": 2}}, [{"id": 2}]]}),
            json!([
                {"id": 2, "more": [{"id": 2}, {"more": {"id": 2}}, {"id": {"id": 2}}, [{"id": 2}]]},
                {"id": 2},
                {"id": 2},
                {"id": 2},
                {"id": 2}
            ]),
        );
    }

    #[test]
    fn deep_scan_reaches_the_bottom_of_nested_documents() {
        // Documents parsed by serde_json are at most 128 levels deep.
        let mut value = json!(1);
        for _ in 0..128 {
            value = json!({"n": [value]});
        }
        let found = eval("$..n[0]", &value).unwrap();
        assert_eq!(found.as_array().map(Vec::len), Some(128));
        assert_eq!(found.as_array().and_then(|a| a.last()), Some(&json!(1)));
    }

    // --- filters ---------------------------------------------------------

    #[test]
    fn filter_compares_numbers() {
        let titles =
            |filter: &str| eval(&format!("$.store.book[?({filter})].title"), &store()).unwrap();
        assert_eq!(titles("@.price < 10"), json!(["Sayings", "Moby Dick"]));
        assert_eq!(titles("@.price<=8.99"), json!(["Sayings", "Moby Dick"]));
        assert_eq!(titles("@.price > 20"), json!(["The Lord"]));
        assert_eq!(titles("@.price >= 22.99"), json!(["The Lord"]));
        assert_eq!(titles("@.price == 12.99"), json!(["Sword"]));
        assert_eq!(titles("10 > @.price"), json!(["Sayings", "Moby Dick"]));
    }

    #[test]
    fn filter_compares_strings() {
        let titles =
            |filter: &str| eval(&format!("$.store.book[?({filter})].title"), &store()).unwrap();
        assert_eq!(titles("@.category == 'reference'"), json!(["Sayings"]));
        assert_eq!(titles("@.category != \"fiction\""), json!(["Sayings"]));
        assert_eq!(titles("@.author < 'F'"), json!(["Sword"]));
    }

    #[test]
    fn integer_and_float_literals_compare_by_value() {
        selects(
            "$[?(@.n == 1.0)].n",
            json!([{"n": 1}, {"n": 2}]),
            json!([1]),
        );
        selects(
            "$[?(@.n >= 1e1)].n",
            json!([{"n": 9}, {"n": 10}]),
            json!([10]),
        );
        selects(
            "$[?(@.n < -1)].n",
            json!([{"n": -2}, {"n": 0}]),
            json!([-2]),
        );
        selects(
            "$[?(@.n > 9007199254740993)].n",
            json!([{"n": 9007199254740993_u64}, {"n": 9007199254740994_u64}]),
            json!([9007199254740994_u64]),
        );
    }

    #[test]
    fn filter_existence_selects_items_with_the_field_even_when_null() {
        selects(
            "$[?(@.isbn)].t",
            json!([{"t": 1, "isbn": null}, {"t": 2}]),
            json!([1]),
        );
        selects(
            "$[?(!@.isbn)].t",
            json!([{"t": 1, "isbn": "x"}, {"t": 2}]),
            json!([2]),
        );
    }

    #[test]
    fn values_of_different_types_never_compare() {
        selects(
            "$[?(@.v == '1')].v",
            json!([{"v": 1}, {"v": "1"}]),
            json!(["1"]),
        );
        selects(
            "$[?(@.v < 'b')].v",
            json!([{"v": 1}, {"v": "a"}]),
            json!(["a"]),
        );
        selects(
            "$[?(@.v == true)].v",
            json!([{"v": 1}, {"v": true}]),
            json!([true]),
        );
        selects(
            "$[?(@.v == null)].v",
            json!([{"v": 0}, {"v": null}, {}]),
            json!([null]),
        );
    }

    #[test]
    fn not_equal_matches_items_missing_the_field_as_in_jayway() {
        selects(
            "$[?(@.v != 1)]",
            json!([{"v": 1}, {"v": 2}, {}]),
            json!([{"v": 2}, {}]),
        );
    }

    #[test]
    fn filter_combines_with_and_or_not_and_parentheses() {
        let titles =
            |filter: &str| eval(&format!("$.store.book[?({filter})].title"), &store()).unwrap();
        assert_eq!(titles("@.price < 10 && @.isbn"), json!(["Moby Dick"]));
        assert_eq!(
            titles("@.price > 20 || @.category == 'reference'"),
            json!(["Sayings", "The Lord"])
        );
        assert_eq!(titles("!(@.price > 10)"), json!(["Sayings", "Moby Dick"]));
        assert_eq!(
            titles("(@.price < 10 || @.price > 20) && @.isbn"),
            json!(["Moby Dick", "The Lord"])
        );
        assert_eq!(
            titles("@.price < 10 || @.price > 20 && @.isbn"),
            json!(["Sayings", "Moby Dick", "The Lord"])
        );
        assert_eq!(titles("!!@.isbn"), json!(["Moby Dick", "The Lord"]));
    }

    #[test]
    fn filter_can_compare_against_the_document_root() {
        selects(
            "$.store.book[?(@.price < $.expensive)].price",
            store(),
            json!([8.95, 8.99]),
        );
    }

    #[test]
    fn filter_on_scalars_uses_at_alone() {
        selects("$[?(@ > 1)]", json!([1, 2, 3]), json!([2, 3]));
        selects("$[?(@ == 'b')]", json!(["a", "b"]), json!(["b"]));
    }

    #[test]
    fn filter_paths_may_go_deep_and_index() {
        let input = json!([{"a": {"b": [5, 6]}}, {"a": {"b": [7]}}]);
        selects(
            "$[?(@.a.b[0] == 7)]",
            input.clone(),
            json!([{"a": {"b": [7]}}]),
        );
        selects("$[?(@['a']['b'][-1] == 6)].a.b[0]", input, json!([5]));
    }

    #[test]
    fn filter_compares_whole_arrays_and_objects() {
        selects(
            "$.items[?(@.t == $.want)].id",
            json!({"want": [1, 2.0], "items": [{"t": [1, 2], "id": 9}, {"t": [1], "id": 8}]}),
            json!([9]),
        );
        let list = json!([{"t": {"k": 1}, "id": 1}, {"t": {"k": 2}, "id": 2}]);
        selects("$[?(@.t == $[1].t)].id", list, json!([2]));
    }

    #[test]
    fn nested_filter_is_true_when_it_matches_something() {
        let input = json!([{"id": 1, "tags": [{"n": "x"}]}, {"id": 2, "tags": [{"n": "y"}]}]);
        selects("$[?(@.tags[?(@.n == 'y')])].id", input, json!([2]));
    }

    #[test]
    fn filter_on_an_object_tests_the_object_itself_as_in_jayway() {
        selects(
            "$.bike[?(@.color == 'red')]",
            json!({"bike": {"color": "red"}}),
            json!([{"color": "red"}]),
        );
        selects(
            "$.bike[?(@.color == 'blue')]",
            json!({"bike": {"color": "red"}}),
            json!([]),
        );
    }

    #[test]
    fn filter_path_on_wrong_type_is_simply_false() {
        selects(
            "$[?(@.a.b == 1)]",
            json!([{"a": "s"}, {"a": {"b": 1}}, 7]),
            json!([{"a": {"b": 1}}]),
        );
    }

    // --- definiteness and references ------------------------------------

    #[test]
    fn definite_and_reference_classification() {
        let cases = [
            ("$", true, true),
            ("$.a", true, true),
            ("$['a'][0].b", true, true),
            ("$$.Execution.Id", true, true),
            ("$v[1]", true, true),
            ("$['a','b']", true, false),
            ("$[0,1]", false, false),
            ("$[*]", false, false),
            ("$.*", false, false),
            ("$..a", false, false),
            ("$[1:2]", false, false),
            ("$[?(@.a)]", false, false),
        ];
        for (text, definite, reference) in cases {
            let path = Path::parse(text).unwrap();
            assert_eq!(path.is_definite(), definite, "is_definite({text})");
            assert_eq!(path.is_reference(), reference, "is_reference({text})");
            assert_eq!(
                Path::parse_reference(text).is_ok(),
                reference,
                "parse_reference({text})"
            );
        }
    }

    #[test]
    fn parse_reference_names_the_offending_step() {
        reference_error(
            "$.a[*]",
            expect!["invalid path '$.a[*]' at offset 3: a wildcard '*' is not allowed in a reference path, which may only use '.name', ['name'] and [index]"],
        );
        reference_error(
            "$..a",
            expect!["invalid path '$..a' at offset 1: a deep scan '..' is not allowed in a reference path, which may only use '.name', ['name'] and [index]"],
        );
        reference_error(
            "$.a[?(@.x)]",
            expect!["invalid path '$.a[?(@.x)]' at offset 3: a filter '[?(...)]' is not allowed in a reference path, which may only use '.name', ['name'] and [index]"],
        );
        reference_error(
            "$[0:1]",
            expect!["invalid path '$[0:1]' at offset 1: a slice '[start:end]' is not allowed in a reference path, which may only use '.name', ['name'] and [index]"],
        );
        reference_error(
            "$['a','b']",
            expect!["invalid path '$['a','b']' at offset 1: a union '[a,b]' is not allowed in a reference path, which may only use '.name', ['name'] and [index]"],
        );
        reference_error(
            "$.a.",
            expect!["invalid path '$.a.' at offset 4: expected a name, '*' or '[' after '.', found the end of the path"],
        );
    }

    #[test]
    fn text_and_display_keep_what_was_written() {
        let path = Path::parse("$.a['b c'][0]").unwrap();
        assert_eq!(path.text(), "$.a['b c'][0]");
        assert_eq!(path.to_string(), "$.a['b c'][0]");
        assert_eq!(path.normalized(), "$['a']['b c'][0]");
    }

    #[test]
    fn normalized_form_escapes_quotes() {
        let path = Path::parse(r#"$["it's"]..['a\\b'][1:][*][?(@)]"#).unwrap();
        assert_eq!(path.normalized(), r"$['it\'s']..['a\\b'][1:][*][?]");
    }

    // --- lookup ----------------------------------------------------------

    #[test]
    fn lookup_is_none_when_nothing_matches() {
        let input = json!({"a": {"b": 0}, "list": []});
        let (context, variables) = (json!({}), Map::new());
        let scope = Scope::new(&input, &context, &variables);
        let look = |text: &str| Path::parse(text).unwrap().lookup(&scope);
        assert_eq!(look("$.a.b"), Some(json!(0)));
        assert_eq!(look("$.a.c"), None);
        assert_eq!(look("$.x.y.z"), None);
        assert_eq!(look("$.a.b.c"), None);
        assert_eq!(look("$.list[*]"), None);
        assert_eq!(look("$.a.*"), Some(json!([0])));
    }

    // --- parse errors ----------------------------------------------------

    #[test]
    fn path_must_start_with_dollar() {
        parse_error(
            "",
            expect!["invalid path '' at offset 0: a path must start with '$', found the end of the path"],
        );
        parse_error(
            "a.b",
            expect!["invalid path 'a.b' at offset 0: a path must start with '$', found 'a'"],
        );
        parse_error(
            " $.a",
            expect![
                "invalid path ' $.a' at offset 0: a path must start with '$', found whitespace ' '"
            ],
        );
    }

    #[test]
    fn trailing_dots_are_rejected() {
        parse_error(
            "$.",
            expect!["invalid path '$.' at offset 2: expected a name, '*' or '[' after '.', found the end of the path"],
        );
        parse_error(
            "$..",
            expect!["invalid path '$..' at offset 3: expected a name, '*' or '[' after '..', found the end of the path"],
        );
        parse_error(
            "$...a",
            expect!["invalid path '$...a' at offset 3: expected a name, '*' or '[' after '..', found '.'; use bracket notation such as ['a b'] for names with special characters"],
        );
    }

    #[test]
    fn spaces_in_dot_names_point_to_bracket_notation() {
        parse_error(
            "$.my name",
            expect!["invalid path '$.my name' at offset 4: unexpected whitespace ' ', expected '.', '[' or the end of the path; use bracket notation such as ['my name'] for names with spaces"],
        );
        parse_error(
            "$.a ",
            expect!["invalid path '$.a ' at offset 3: unexpected whitespace ' ', expected '.', '[' or the end of the path; use bracket notation such as ['my name'] for names with spaces"],
        );
    }

    #[test]
    fn brackets_must_close() {
        parse_error(
            "$[",
            expect!["invalid path '$[' at offset 1: '[' is never closed"],
        );
        parse_error(
            "$[0",
            expect!["invalid path '$[0' at offset 1: '[' is never closed"],
        );
        parse_error(
            "$['a'",
            expect!["invalid path '$['a'' at offset 1: '[' is never closed"],
        );
        parse_error(
            "$[0 1]",
            expect!["invalid path '$[0 1]' at offset 4: expected ']' to close the '[' at offset 1, found '1'"],
        );
        parse_error(
            "$]",
            expect!["invalid path '$]' at offset 1: unexpected ']', expected '.', '[' or the end of the path"],
        );
    }

    #[test]
    fn strings_must_close_and_escape_properly() {
        parse_error(
            "$['abc]",
            expect!["invalid path '$['abc]' at offset 2: string is never closed"],
        );
        parse_error(
            "$['a\\qb']",
            expect![[r#"invalid path '$['a\qb']' at offset 4: unknown escape '\q'"#]],
        );
        parse_error(
            "$['\\u12']",
            expect![[
                r#"invalid path '$['\u12']' at offset 3: '\u' must be followed by four hex digits"#
            ]],
        );
        parse_error(
            "$['\\ud800x']",
            expect![[
                r#"invalid path '$['\ud800x']' at offset 3: a high surrogate '\u' escape must be followed by a low one"#
            ]],
        );
        parse_error(
            "$['\\udc00']",
            expect![[
                r#"invalid path '$['\udc00']' at offset 3: '\u' escape is not a valid character"#
            ]],
        );
        parse_error(
            "$['a',]",
            expect![
                "invalid path '$['a',]' at offset 6: expected a quoted name after ',', found ']'"
            ],
        );
    }

    #[test]
    fn bad_bracket_contents_are_named() {
        parse_error(
            "$[abc]",
            expect!["invalid path '$[abc]' at offset 2: expected a quoted name, an index, a slice, '*' or '?(' after '[', found 'a'"],
        );
        parse_error(
            "$[-]",
            expect!["invalid path '$[-]' at offset 3: expected digits after '-', found ']'"],
        );
        parse_error(
            "$[1,]",
            expect!["invalid path '$[1,]' at offset 4: expected an index after ',', found ']'"],
        );
        parse_error(
            "$[0:4:2]",
            expect!["invalid path '$[0:4:2]' at offset 5: slice steps ('[start:end:step]') are not supported"],
        );
        parse_error(
            "$[99999999999999999999]",
            expect!["invalid path '$[99999999999999999999]' at offset 2: index 99999999999999999999 is out of range"],
        );
        parse_error(
            "$[?@.a]",
            expect!["invalid path '$[?@.a]' at offset 3: expected '(' after '[?', found '@'"],
        );
    }

    #[test]
    fn roots_must_be_well_formed() {
        parse_error(
            "$1abc",
            expect!["invalid path '$1abc' at offset 1: a variable name must start with a letter or '_', not a digit"],
        );
        parse_error(
            "$$$",
            expect!["invalid path '$$$' at offset 2: unexpected '$', expected '.', '[' or the end of the path"],
        );
        parse_error(
            "$$abc",
            expect!["invalid path '$$abc' at offset 2: unexpected 'a', expected '.', '[' or the end of the path"],
        );
        parse_error(
            "$var-x",
            expect!["invalid path '$var-x' at offset 4: unexpected '-', expected '.', '[' or the end of the path"],
        );
    }

    #[test]
    fn filter_syntax_errors_are_named() {
        parse_error(
            "$[?(@.a = 1)]",
            expect!["invalid path '$[?(@.a = 1)]' at offset 8: use '==' to compare, not '='"],
        );
        parse_error(
            "$[?(@.a =~ /x/)]",
            expect!["invalid path '$[?(@.a =~ /x/)]' at offset 8: regular expressions ('=~') are not supported in filters"],
        );
        parse_error(
            "$[?(@.a in [1])]",
            expect!["invalid path '$[?(@.a in [1])]' at offset 8: operator 'in' is not supported in filters; use '==', '!=', '<', '<=', '>', '>=', '&&', '||' or '!'"],
        );
        parse_error(
            "$[?(1)]",
            expect!["invalid path '$[?(1)]' at offset 4: a literal on its own is not a condition; compare it with '==', '!=', '<', '<=', '>' or '>='"],
        );
        parse_error(
            "$[?(@.a == )]",
            expect!["invalid path '$[?(@.a == )]' at offset 11: expected a path ('@...' or '$...'), a quoted string, a number, true, false or null, found ')'"],
        );
        parse_error(
            "$[?(@.a == yes)]",
            expect!["invalid path '$[?(@.a == yes)]' at offset 11: unknown word 'yes' in filter; expected a path ('@...' or '$...'), a quoted string, a number, true, false or null"],
        );
        parse_error(
            "$[?(@.a == 1.)]",
            expect!["invalid path '$[?(@.a == 1.)]' at offset 12: expected ')' to close the filter, found '.'"],
        );
        parse_error(
            "$[?(@.a == 1e)]",
            expect!["invalid path '$[?(@.a == 1e)]' at offset 11: '1e' is not a valid number"],
        );
        parse_error(
            "$[?(@.a == 1e999)]",
            expect![
                "invalid path '$[?(@.a == 1e999)]' at offset 11: '1e999' is not a valid number"
            ],
        );
        parse_error(
            "$[?(@.a)",
            expect!["invalid path '$[?(@.a)' at offset 1: '[' is never closed"],
        );
        parse_error(
            "$[?(@.a]",
            expect![
                "invalid path '$[?(@.a]' at offset 7: expected ')' to close the filter, found ']'"
            ],
        );
        parse_error(
            "$[?((@.a)]",
            expect!["invalid path '$[?((@.a)]' at offset 9: expected ')' to close the filter, found ']'"],
        );
        parse_error(
            "$[?(@.a &&)]",
            expect!["invalid path '$[?(@.a &&)]' at offset 10: expected a path ('@...' or '$...'), a quoted string, a number, true, false or null, found ')'"],
        );
        parse_error(
            "$[?($$.a)]",
            expect!["invalid path '$[?($$.a)]' at offset 4: only '@' and '$' paths can be used inside a filter, not '$$' or variables"],
        );
        parse_error(
            "$[?($x)]",
            expect!["invalid path '$[?($x)]' at offset 4: only '@' and '$' paths can be used inside a filter, not '$$' or variables"],
        );
    }

    #[test]
    fn nesting_up_to_the_cap_parses() {
        let deep = format!(
            "$[?({}@.a{})]",
            "(".repeat(MAX_NESTING - 1),
            ")".repeat(MAX_NESTING - 1)
        );
        assert!(Path::parse(&deep).is_ok());
        let nots = format!("$[?({}@.a)]", "!".repeat(MAX_NESTING - 1));
        assert!(Path::parse(&nots).is_ok());
    }

    #[test]
    fn nesting_beyond_the_cap_is_an_error_not_a_crash() {
        let deep = format!(
            "$[?({}@.a{})]",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        let error = Path::parse(&deep).unwrap_err();
        assert!(
            error.contains(
                "at offset 67: filters, parentheses and '!' nest more than 64 levels deep"
            ),
            "{error}"
        );
        for huge in [
            format!("$[?({}", "(".repeat(100_000)),
            format!("$[?({}@)]", "!".repeat(100_000)),
            "$[?(@[?(".repeat(10_000),
        ] {
            assert!(Path::parse(&huge)
                .unwrap_err()
                .contains("nest more than 64 levels"));
        }
    }

    #[test]
    fn long_flat_chains_do_not_nest() {
        let chain = vec!["@.a == 1"; 20_000].join(" || ");
        let path = Path::parse(&format!("$[?({chain})]")).unwrap();
        let input = json!([{"a": 1}, {"a": 2}]);
        let (context, variables) = (json!({}), Map::new());
        assert_eq!(
            path.eval(&Scope::new(&input, &context, &variables)),
            Ok(json!([{"a": 1}]))
        );
    }

    // --- ResultPath ------------------------------------------------------

    fn apply(path: &str, input: Value, result: Value) -> Result<Value, Failure> {
        apply_result_path(input, &Path::parse_reference(path).unwrap(), result)
    }

    #[test]
    fn result_path_dollar_replaces_the_input() {
        assert_eq!(
            apply("$", json!({"a": 1}), json!("done")),
            Ok(json!("done"))
        );
        assert_eq!(apply("$", json!("scalar"), json!([1])), Ok(json!([1])));
    }

    #[test]
    fn result_path_sets_a_field_at_the_end() {
        assert_eq!(
            apply(
                "$.taskresult",
                json!({"comment": "x", "who": "y"}),
                json!("Hello")
            ),
            Ok(json!({"comment": "x", "who": "y", "taskresult": "Hello"}))
        );
        let output = apply("$.taskresult", json!({"b": 1, "a": 2}), json!(3)).unwrap();
        assert_eq!(
            output.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["b", "a", "taskresult"]
        );
    }

    #[test]
    fn result_path_replaces_an_existing_field_in_place() {
        let output = apply("$.a", json!({"a": 1, "b": 2}), json!({"new": true})).unwrap();
        assert_eq!(output, json!({"a": {"new": true}, "b": 2}));
        assert_eq!(
            output.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn result_path_creates_missing_objects() {
        assert_eq!(
            apply("$.a.b.c", json!({"x": 1}), json!(true)),
            Ok(json!({"x": 1, "a": {"b": {"c": true}}}))
        );
        assert_eq!(
            apply("$.a['b c'].d", json!({"a": {"keep": 1}}), json!(2)),
            Ok(json!({"a": {"keep": 1, "b c": {"d": 2}}}))
        );
    }

    #[test]
    fn result_path_into_a_non_object_fails_with_result_path_match_failure() {
        let failure = apply("$.a.b", json!({"a": "text"}), json!(1)).unwrap_err();
        assert_eq!(failure.error, "States.ResultPathMatchFailure");
        expect![[r#"Unable to apply ReferencePath $.a.b to input {"a":"text"}"#]]
            .assert_eq(&failure.cause);
        let failure = apply("$.a.b", json!({"a": [1]}), json!(1)).unwrap_err();
        expect![[r#"Unable to apply ReferencePath $.a.b to input {"a":[1]}"#]]
            .assert_eq(&failure.cause);
        let failure = apply("$.a.b", json!({"a": null}), json!(1)).unwrap_err();
        assert_eq!(failure.error, RESULT_PATH_MATCH_FAILURE);
    }

    #[test]
    fn result_path_on_a_non_object_input_fails() {
        let failure = apply("$.partitioned", json!("{\"min_size\":1}"), json!(1)).unwrap_err();
        assert_eq!(failure.error, "States.ResultPathMatchFailure");
        expect![[r#"Unable to apply ReferencePath $.partitioned to input "{\"min_size\":1}""#]]
            .assert_eq(&failure.cause);
        assert!(apply("$.a", json!([1, 2]), json!(1)).is_err());
        assert!(apply("$.a", json!(null), json!(1)).is_err());
    }

    #[test]
    fn result_path_index_replaces_an_existing_element_only() {
        assert_eq!(
            apply("$.list[1]", json!({"list": [1, 2, 3]}), json!("x")),
            Ok(json!({"list": [1, "x", 3]}))
        );
        assert_eq!(
            apply("$.list[-1]", json!({"list": [1, 2]}), json!("x")),
            Ok(json!({"list": [1, "x"]}))
        );
        assert_eq!(
            apply("$.list[0].r", json!({"list": [{"a": 1}]}), json!(2)),
            Ok(json!({"list": [{"a": 1, "r": 2}]}))
        );
        let failure = apply("$.list[3]", json!({"list": [1]}), json!("x")).unwrap_err();
        expect![[r#"Unable to apply ReferencePath $.list[3] to input {"list":[1]}"#]]
            .assert_eq(&failure.cause);
        assert!(apply("$.missing[0]", json!({}), json!("x")).is_err());
        assert!(apply("$.missing.deeper[0]", json!({}), json!("x")).is_err());
        assert!(apply("$.obj[0]", json!({"obj": {}}), json!("x")).is_err());
    }

    #[test]
    fn result_path_must_be_an_input_reference_path() {
        for text in ["$$.Execution", "$var.a", "$.a[*]", "$..a"] {
            let failure =
                apply_result_path(json!({}), &Path::parse(text).unwrap(), json!(1)).unwrap_err();
            assert_eq!(failure.error, RESULT_PATH_MATCH_FAILURE, "{text}");
            assert!(
                failure
                    .cause
                    .contains("must be a reference path starting with '$'"),
                "{text}"
            );
        }
    }

    #[test]
    fn result_path_failure_leaves_no_partial_objects_in_the_cause() {
        // The fit check runs before anything is created, so the cause shows the input unchanged.
        let failure = apply("$.new.list[0]", json!({"k": 1}), json!(1)).unwrap_err();
        expect![[r#"Unable to apply ReferencePath $.new.list[0] to input {"k":1}"#]]
            .assert_eq(&failure.cause);
    }

    // --- properties ------------------------------------------------------

    fn sample() -> Value {
        json!({"a": [1, {"b": "x", "c": [true, null]}, 3.5], "b": {"a": {"b": 2}}, "c": "s", "": 0})
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".*") {
            let _ = Path::parse(&s);
            let _ = Path::parse_reference(&s);
        }

        #[test]
        fn path_like_strings_parse_and_evaluate_without_panicking(
            s in "\\$[$@.\\[\\]*?()'\"a-c0-9:,<>=!&| -]{0,40}"
        ) {
            exercise(&s)?;
        }

        #[test]
        fn token_soup_parses_and_evaluates_without_panicking(
            tokens in prop::collection::vec(path_token(), 0..24)
        ) {
            exercise(&format!("${}", tokens.concat()))?;
        }

        #[test]
        fn generated_paths_with_filters_parse_and_evaluate(
            root in prop_oneof![Just("$"), Just("$$"), Just("$a"), Just("$nope")],
            steps in prop::collection::vec(prop_oneof![4 => step_strategy(), 2 => filter_step(), 1 => path_token()], 0..6)
        ) {
            exercise(&format!("{root}{}", steps.concat()))?;
        }

        #[test]
        fn normalized_form_parses_back_to_the_same_path(
            steps in prop::collection::vec(step_strategy(), 0..6)
        ) {
            let text = format!("${}", steps.concat());
            let path = Path::parse(&text).map_err(TestCaseError::fail)?;
            let again = Path::parse(&path.normalized()).map_err(TestCaseError::fail)?;
            prop_assert_eq!(again.segments, path.segments);
        }

        #[test]
        fn result_path_then_eval_reads_back_the_result(
            names in prop::collection::vec("[a-z ']{1,4}", 1..4),
            value in any::<i64>()
        ) {
            let text = format!(
                "${}",
                names.iter().map(|n| format!("['{}']", n.replace('\'', "\\'"))).collect::<String>()
            );
            let path = Path::parse_reference(&text).map_err(TestCaseError::fail)?;
            let output = apply_result_path(json!({"keep": 1}), &path, json!(value))
                .map_err(|f| TestCaseError::fail(f.cause))?;
            let (context, variables) = (json!({}), Map::new());
            prop_assert_eq!(path.eval(&Scope::new(&output, &context, &variables)), Ok(json!(value)));
        }
    }

    /// Parses `text`; when it parses, evaluates it every way this module
    /// offers and checks the invariants that tie those ways together.
    fn exercise(text: &str) -> Result<(), TestCaseError> {
        let Ok(path) = Path::parse(text) else {
            prop_assert!(Path::parse_reference(text).is_err());
            return Ok(());
        };
        prop_assert_eq!(path.text(), text);
        let input = sample();
        let mut variables = Map::new();
        variables.insert("a".into(), sample());
        let context = json!({"Execution": {"Id": "e"}});
        let scope = Scope::new(&input, &context, &variables);
        let result = path.eval(&scope);
        if !path.is_definite() {
            // Indefinite paths yield arrays whenever they succeed.
            prop_assert!(result.as_ref().map(Value::is_array).unwrap_or(true));
        }
        if let Err(failure) = &result {
            prop_assert_eq!(failure.error.as_str(), "States.Runtime");
            prop_assert!(failure.cause.contains(text));
        }
        prop_assert_eq!(
            path.lookup(&scope).is_some(),
            result.is_ok_and(|v| path.is_definite() || v != json!([]))
        );
        if path.is_reference() {
            prop_assert!(path.is_definite());
            prop_assert!(Path::parse_reference(text).is_ok());
            let _ = apply_result_path(input.clone(), &path, json!("r"));
        } else {
            prop_assert!(Path::parse_reference(text).is_err());
        }
        Ok(())
    }

    /// Pieces of path grammar, so random concatenations often parse.
    fn path_token() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("."),
            Just(".."),
            Just("["),
            Just("]"),
            Just("*"),
            Just("[*]"),
            Just("?("),
            Just("[?("),
            Just(")]"),
            Just("("),
            Just(")"),
            Just("@"),
            Just("$"),
            Just("'a'"),
            Just("\"b\""),
            Just("a"),
            Just("b"),
            Just("c"),
            Just("0"),
            Just("1"),
            Just("-1"),
            Just(":"),
            Just(","),
            Just(" "),
            Just("=="),
            Just("!="),
            Just("<"),
            Just(">="),
            Just("!"),
            Just("&&"),
            Just("||"),
            Just("true"),
            Just("null"),
            Just("1.5"),
        ]
        .prop_map(str::to_string)
    }

    fn filter_step() -> impl Strategy<Value = String> {
        let operand = prop_oneof![
            Just("@"),
            Just("@.a"),
            Just("@.b"),
            Just("@[0]"),
            Just("@..b"),
            Just("@.*"),
            Just("$.c"),
            Just("$.a[1].b"),
            Just("'x'"),
            Just("\"s\""),
            Just("1"),
            Just("-2.5"),
            Just("true"),
            Just("null"),
        ];
        let op = prop_oneof![
            Just("=="),
            Just("!="),
            Just("<"),
            Just("<="),
            Just(">"),
            Just(">=")
        ];
        let leaf = prop_oneof![
            operand.clone().prop_map(str::to_string),
            (operand.clone(), op, operand).prop_map(|(l, o, r)| format!("{l} {o} {r}")),
        ];
        let predicate = leaf.prop_recursive(4, 16, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}||{b}")),
                inner.clone().prop_map(|a| format!("!({a})")),
                inner.prop_map(|a| format!("({a})")),
            ]
        });
        (prop_oneof![Just(""), Just("..")], predicate)
            .prop_map(|(scan, p)| format!("{scan}[?({p})]"))
    }

    fn step_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_][a-z0-9_-]{0,5}".prop_map(|n| format!(".{n}")),
            "[a-z_][a-z0-9_-]{0,5}".prop_map(|n| format!("..{n}")),
            "[ -~]{0,6}"
                .prop_map(|n| format!("['{}']", n.replace('\\', "\\\\").replace('\'', "\\'"))),
            "[ -~]{0,6}"
                .prop_map(|n| format!("[\"{}\"]", n.replace('\\', "\\\\").replace('"', "\\\""))),
            (-5i64..5).prop_map(|i| format!("[{i}]")),
            (-5i64..5, -5i64..5).prop_map(|(a, b)| format!("[{a},{b}]")),
            (prop::option::of(-5i64..5), prop::option::of(-5i64..5)).prop_map(|(a, b)| format!(
                "[{}:{}]",
                a.map(|n| n.to_string()).unwrap_or_default(),
                b.map(|n| n.to_string()).unwrap_or_default()
            )),
            Just(".*".to_string()),
            Just("[*]".to_string()),
            Just("..*".to_string()),
        ]
    }
}
