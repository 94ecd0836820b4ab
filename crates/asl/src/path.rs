//! JSONPath as the Amazon States Language uses it: parsing a path once into a
//! typed query, evaluating it against a [`Scope`], and placing a result into
//! a state's input at a reference path (`ResultPath`).
//!
//! This module owns the path grammar (roots `$`, `$$` and `$name`; dot and
//! bracket names, indices, wildcards, unions, slices, deep scan and filters)
//! and its evaluation. It does no I/O and never panics on its input: every
//! malformed path is an `Err` naming what is wrong and at which character
//! offset, and filter nesting is capped so parsing cannot exhaust the stack.
//! Evaluation is iterative, and what one evaluation selects is capped
//! ([`MAX_SELECTED_VALUES`]) so chained deep scans cannot multiply without
//! bound.
//! Parsing lives in the submodule `parse`; this file keeps the typed path,
//! its evaluation and the placement of a result at a `ResultPath`.
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
//!   message saying so.
//! * A slice is Jayway's (`slice_indices`): `[a:b]` wraps round through
//!   negative indices, a step (`[a:b:c]`) is read and ignored, and a slice
//!   with neither a start nor an end (`[:]`) is refused.
//! * `ResultPath` index steps only replace an existing element of an
//!   existing array; arrays are never created or grown.

mod parse;

use crate::error::names::RESULT_PATH_MATCH_FAILURE;
use crate::{Failure, JsonType, Scope};
use parse::Parser;
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

/// How deeply filters, parentheses and `!` may nest inside one path. Far
/// beyond any real definition; it only keeps the recursive-descent parser
/// (and the evaluator that mirrors it) off the end of the stack.
pub const MAX_NESTING: usize = 64;

/// How many JSON values one evaluation may select at a step, and copy into
/// its result (counting every value inside each one copied). Deep scans
/// multiply: `$..*..*..*` over a document 128 levels deep (what JSON text
/// allows) selects each node once per ancestor per scan, billions of
/// references and copies from a few hundred bytes. Every JSON value takes
/// at least a byte of text, so a result over the limit could never be
/// passed on within Step Functions' 256 KiB payload limit anyway. A path
/// over the limit fails with `States.Runtime`; inside a filter, a query
/// over it selects nothing.
pub const MAX_SELECTED_VALUES: usize = 262_144;

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

    /// True for `$` alone: the whole of the state's data. Placing a result
    /// there replaces the data, so nothing of it needs copying.
    pub fn is_whole_input(&self) -> bool {
        self.root == Root::Input && self.segments.is_empty()
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
        let invalid =
            |why: String| Failure::runtime(format!("Invalid path '{}' : {}", self.text, why));
        let found =
            select(&self.segments, root, root, &self.root.label(), true).map_err(invalid)?;
        if !self.is_definite() && copies_too_much(&found) {
            return Err(invalid(too_many_values()));
        }
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
            // Checked per node, so a step overshoots by at most one node's
            // share, which the document's own size bounds.
            if next.len() > MAX_SELECTED_VALUES {
                return Err(too_many_values());
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

fn too_many_values() -> String {
    format!("it selects more than {MAX_SELECTED_VALUES} values")
}

/// Whether copying `found` would copy more than [`MAX_SELECTED_VALUES`]
/// JSON values, counting each one's contents; it stops counting there.
fn copies_too_much(found: &[Cow<'_, Value>]) -> bool {
    let mut stack: Vec<&Value> = found.iter().map(AsRef::as_ref).collect();
    let mut counted = 0usize;
    while let Some(value) = stack.pop() {
        counted += 1;
        if counted > MAX_SELECTED_VALUES {
            return true;
        }
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(fields) => stack.extend(fields.values()),
            _ => {}
        }
    }
    false
}

fn not_an_object(segment: &Segment, prefix: &str, found: &Value) -> String {
    format!(
        "Expected to find an object with property {} in path {} but found '{}'",
        segment.fragment(),
        prefix,
        JsonType::of(found).name()
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
                    JsonType::of(other).name()
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
                    JsonType::of(other).name()
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
            out.extend(
                slice_indices(*start, *end, items.len())
                    .filter_map(|index| resolve_index(index, items.len()))
                    .filter_map(|at| items.get(at)),
            );
        }
        _ => {}
    }
}

/// Jayway's slice arithmetic, which AWS's JSONPath is (`ArraySliceToken`):
/// `[a:]` and `[:b]` count a negative bound from the end and clip to the
/// array; `[a:b]` clips only `b` to the length and then reads every index
/// from `a` up to `b` as an index step would, a negative one from the end,
/// one outside the array skipped. So `[-4:1]` of six items wraps round,
/// `[4, 5, 100, "nice", 2]`, and `[3:-2]` is empty (both recorded for
/// Jayway in json-path-comparison, bug_reports/Java_com.jayway.jsonpath.md).
/// The indices below `-len` select nothing, so they are not visited.
fn slice_indices(start: Option<i64>, end: Option<i64>, len: usize) -> impl Iterator<Item = i64> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let from_end = |bound: i64| {
        if bound < 0 {
            len.saturating_add(bound)
        } else {
            bound
        }
    };
    let (from, to) = match (start, end) {
        (Some(from), None) => (from_end(from).max(0), len),
        (None, Some(to)) => (0, from_end(to).min(len)),
        (Some(from), Some(to)) => (from.max(-len), to.min(len)),
        (None, None) => (0, 0),
    };
    from..to.max(from)
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
    } else if found.is_empty() || copies_too_much(&found) {
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

#[cfg(test)]
mod tests;
