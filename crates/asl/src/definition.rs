//! The typed state machine: a definition read once from JSON into Rust
//! values, with the spec's defaults filled in, and validated as a whole.
//! Execution never looks at raw keys.
//!
//! `parse` reports every problem it finds, each named by the JSON pointer of
//! the field at fault, and returns a `StateMachine` only when there are none.
//!
//! The model keeps the query language explicit (`QueryLanguage`) and the
//! data-processing fields in their own type (`Processing`), so the JSONata
//! flavour (`Arguments`, `Output`, `{% %}`) can arrive as a second variant
//! rather than a rewrite. It is rejected with a clear error today.

use crate::choice::Condition;
use crate::error::pointer_join;
use crate::path::{Path, Root};
use crate::payload::PayloadTemplate;
use crate::retry::{Catcher, Jitter, Retrier};
use crate::{DefinitionError, JsonType};
use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;
use serde_json::{Map, Value};
use std::collections::{HashSet, VecDeque};

/// AWS's limit on a state name's length.
pub const MAX_STATE_NAME_LEN: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    JsonPath,
    Jsonata,
}

/// A state machine, or a Parallel branch, or a Map's item processor: all
/// three share this shape.
#[derive(Debug, Clone, PartialEq)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub start_at: String,
    /// Looked up by name on every state entered, so hashed with Fx rather
    /// than SipHash: names come from the definition's own author, who gains
    /// nothing by making their own lookups collide.
    pub states: IndexMap<String, State, FxBuildHasher>,
    /// Execution-level timeout; only meaningful at the top level.
    pub timeout_seconds: Option<u64>,
    pub query_language: QueryLanguage,
}

impl StateMachine {
    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.get(name)
    }

    /// Counts every state, including those inside branches and processors.
    pub fn total_states(&self) -> usize {
        self.states
            .values()
            .map(|s| {
                1 + match &s.kind {
                    StateKind::Parallel(p) => p.branches.iter().map(|b| b.total_states()).sum(),
                    StateKind::Map(m) => m.processor.total_states(),
                    _ => 0,
                }
            })
            .sum()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub name: String,
    pub comment: Option<String>,
    pub kind: StateKind,
    pub processing: Processing,
    /// Variables to set on leaving the state (JSONPath `Assign`).
    pub assign: Option<PayloadTemplate>,
    pub transition: Transition,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// How much of the context object `$$` this state's own fields can
    /// read, so an engine builds only what is needed.
    pub context_use: ContextUse,
}

/// What part of the context object a state may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContextUse {
    /// No `$$` anywhere in the state's own fields.
    None,
    /// `$$` paths that cannot reach `$$.Execution.Input`.
    WithoutExecutionInput,
    /// Everything, including the execution's input.
    Full,
}

impl ContextUse {
    /// Classifies the `$$` references in a piece of definition text. A
    /// reference that could reach the execution input (`$$`, `$$.Execution`,
    /// `$$.Execution.Input...`, bracket forms, wildcards) counts as `Full`.
    pub fn of_text(text: &str) -> ContextUse {
        let mut result = ContextUse::None;
        let mut rest = text;
        while let Some(at) = rest.find("$$") {
            rest = &rest[at + 2..];
            let this = match rest.strip_prefix('.') {
                None => ContextUse::Full,
                Some(after) => {
                    let root: String = after.chars().take_while(|c| c.is_alphanumeric()).collect();
                    if root.is_empty() {
                        ContextUse::Full
                    } else if root != "Execution" {
                        ContextUse::WithoutExecutionInput
                    } else {
                        match after[root.len()..].strip_prefix('.') {
                            Some(field)
                                if !field.starts_with("Input") && !field.starts_with('*') =>
                            {
                                ContextUse::WithoutExecutionInput
                            }
                            _ => ContextUse::Full,
                        }
                    }
                }
            };
            result = result.max(this);
        }
        result
    }
}

impl State {
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }
}

/// Where a state goes when it completes normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Next(String),
    End,
    /// Choice decides at run time; Succeed and Fail are terminal by type.
    ByType,
}

/// Input and output processing for the JSONPath query language, applied in
/// AWS's order: InputPath, Parameters, (the state's work), ResultSelector,
/// ResultPath, OutputPath. A field a state type does not accept stays at
/// its identity default.
#[derive(Debug, Clone, PartialEq)]
pub struct Processing {
    pub input_path: PathOrNull,
    pub parameters: Option<PayloadTemplate>,
    pub result_selector: Option<PayloadTemplate>,
    pub result_path: ResultPath,
    pub output_path: PathOrNull,
}

impl Default for Processing {
    fn default() -> Self {
        Processing {
            input_path: PathOrNull::Path(root_path()),
            parameters: None,
            result_selector: None,
            result_path: ResultPath::Path(root_path()),
            output_path: PathOrNull::Path(root_path()),
        }
    }
}

fn root_path() -> Path {
    Path::parse_reference("$").expect("`$` is a valid reference path")
}

/// InputPath and OutputPath: a path, or `null` meaning `{}`.
#[derive(Debug, Clone, PartialEq)]
pub enum PathOrNull {
    Path(Path),
    Null,
}

/// ResultPath: a reference path, or `null` meaning "discard the result".
#[derive(Debug, Clone, PartialEq)]
pub enum ResultPath {
    Path(Path),
    Discard,
}

/// A number given literally or read from a path at run time
/// (`TimeoutSeconds` / `TimeoutSecondsPath` and their kin).
#[derive(Debug, Clone, PartialEq)]
pub enum Dynamic<T> {
    Fixed(T),
    Path(Path),
}

/// A string given literally, or computed from a path or intrinsic
/// (`Error` / `ErrorPath`, `Cause` / `CausePath`).
#[derive(Debug, Clone, PartialEq)]
pub enum TextSource {
    Fixed(String),
    Path(Path),
    Intrinsic(crate::intrinsic::Intrinsic),
}

#[derive(Debug, Clone, PartialEq)]
pub enum StateKind {
    Pass(Pass),
    Task(Task),
    Choice(Choice),
    Wait(Wait),
    Succeed,
    Fail(Fail),
    Parallel(Parallel),
    Map(Box<MapState>),
}

impl StateKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass(_) => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    /// `Result`: when present it replaces the (Parameters-processed) input
    /// as the state's result.
    pub result: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub resource: String,
    pub timeout_seconds: Option<Dynamic<u64>>,
    pub heartbeat_seconds: Option<Dynamic<u64>>,
    pub credentials: Option<Value>,
}

impl Task {
    /// `.waitForTaskToken` resources pause until SendTaskSuccess/Failure.
    pub fn waits_for_task_token(&self) -> bool {
        self.resource.ends_with(".waitForTaskToken")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub choices: Vec<ChoiceBranch>,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceBranch {
    pub condition: Condition,
    pub next: String,
    pub assign: Option<PayloadTemplate>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Wait {
    Seconds(u64),
    Timestamp(time::OffsetDateTime),
    SecondsPath(Path),
    TimestampPath(Path),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fail {
    pub error: Option<TextSource>,
    pub cause: Option<TextSource>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parallel {
    pub branches: Vec<StateMachine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapState {
    pub items_path: Path,
    pub processor: StateMachine,
    pub item_selector: Option<PayloadTemplate>,
    /// `0` means no limit, as in AWS.
    pub max_concurrency: Dynamic<u64>,
    pub tolerated_failure_percentage: Option<Dynamic<f64>>,
    pub tolerated_failure_count: Option<Dynamic<u64>>,
    pub label: Option<String>,
}

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
        )]
    })?;
    parse(&value)
}

/// Parses and validates a definition. Returns every problem found.
pub fn parse(value: &Value) -> Result<StateMachine, Vec<DefinitionError>> {
    let mut errors = Vec::new();
    let machine = parse_machine(value, "", Scope::TopLevel, &mut errors);
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    TopLevel,
    Branch,
    MapProcessor,
}

fn parse_machine(
    value: &Value,
    ptr: &str,
    scope: Scope,
    errors: &mut Vec<DefinitionError>,
) -> Option<StateMachine> {
    let Some(obj) = value.as_object() else {
        errors.push(DefinitionError::new(
            ptr,
            format!(
                "expected an object, found {}",
                JsonType::of(value).with_article()
            ),
        ));
        return None;
    };
    let mut allowed: Vec<&str> = vec!["Comment", "StartAt", "States", "QueryLanguage"];
    match scope {
        Scope::TopLevel => allowed.extend(["TimeoutSeconds", "Version"]),
        Scope::MapProcessor => allowed.push("ProcessorConfig"),
        Scope::Branch => {}
    }
    unknown_fields(obj, ptr, &allowed, "a state machine", errors);

    let comment = opt_string(obj, "Comment", ptr, errors);
    let query_language = match obj.get("QueryLanguage") {
        None => QueryLanguage::JsonPath,
        Some(Value::String(s)) if s == "JSONPath" => QueryLanguage::JsonPath,
        Some(Value::String(s)) if s == "JSONata" => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "QueryLanguage"),
                "the JSONata query language is not supported yet; use \"JSONPath\"",
            ));
            QueryLanguage::Jsonata
        }
        Some(other) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "QueryLanguage"),
                format!("expected \"JSONPath\" or \"JSONata\", found {other}"),
            ));
            QueryLanguage::JsonPath
        }
    };
    if scope == Scope::TopLevel {
        if let Some(v) = obj.get("Version") {
            if v.as_str().is_none() {
                errors.push(DefinitionError::new(
                    pointer_join(ptr, "Version"),
                    "expected a string",
                ));
            }
        }
    }
    if scope == Scope::MapProcessor {
        check_processor_config(obj, ptr, errors);
    }
    let timeout_seconds = match obj.get("TimeoutSeconds") {
        None => None,
        Some(v) => positive_integer(v, &pointer_join(ptr, "TimeoutSeconds"), errors),
    };
    let start_at = match obj.get("StartAt") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "StartAt"),
                format!(
                    "expected a state name, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(
                ptr,
                "missing required field \"StartAt\"",
            ));
            None
        }
    };
    let states_ptr = pointer_join(ptr, "States");
    let mut states = IndexMap::with_hasher(FxBuildHasher);
    match obj.get("States") {
        Some(Value::Object(map)) => {
            if map.is_empty() {
                errors.push(DefinitionError::new(
                    &states_ptr,
                    "must name at least one state",
                ));
            }
            for (name, body) in map {
                let state_ptr = pointer_join(&states_ptr, name);
                if let Some(state) = parse_state(name, body, &state_ptr, errors) {
                    states.insert(name.clone(), state);
                }
            }
        }
        Some(other) => errors.push(DefinitionError::new(
            &states_ptr,
            format!(
                "expected an object of states, found {}",
                JsonType::of(other).with_article()
            ),
        )),
        None => errors.push(DefinitionError::new(
            ptr,
            "missing required field \"States\"",
        )),
    }
    let names: HashSet<&str> = match obj.get("States") {
        Some(Value::Object(map)) => map.keys().map(String::as_str).collect(),
        _ => HashSet::new(),
    };
    if let Some(start) = &start_at {
        if !names.is_empty() && !names.contains(start.as_str()) {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "StartAt"),
                format!("state {start:?} does not exist"),
            ));
        }
    }
    check_transitions(&states, &names, &states_ptr, errors);
    if let Some(start) = &start_at {
        if names.contains(start.as_str()) {
            check_reachability(start, obj, &states_ptr, errors);
        }
    }
    Some(StateMachine {
        comment,
        start_at: start_at?,
        states,
        timeout_seconds,
        query_language,
    })
}

fn check_processor_config(obj: &Map<String, Value>, ptr: &str, errors: &mut Vec<DefinitionError>) {
    let Some(config) = obj.get("ProcessorConfig") else {
        return;
    };
    let cptr = pointer_join(ptr, "ProcessorConfig");
    let Some(config) = config.as_object() else {
        errors.push(DefinitionError::new(cptr, "expected an object"));
        return;
    };
    unknown_fields(
        config,
        &cptr,
        &["Mode", "ExecutionType"],
        "ProcessorConfig",
        errors,
    );
    match config.get("Mode") {
        None => {}
        Some(Value::String(m)) if m == "INLINE" => {}
        Some(Value::String(m)) if m == "DISTRIBUTED" => errors.push(DefinitionError::new(
            pointer_join(&cptr, "Mode"),
            "the DISTRIBUTED Map mode is not supported by the embedded engine; use INLINE",
        )),
        Some(other) => errors.push(DefinitionError::new(
            pointer_join(&cptr, "Mode"),
            format!("expected \"INLINE\" or \"DISTRIBUTED\", found {other}"),
        )),
    }
}

/// Every `Next`, `Default` and catcher `Next` must name a state of the same
/// machine (transitions never cross into a branch or out of it).
fn check_transitions(
    states: &IndexMap<String, State, FxBuildHasher>,
    names: &HashSet<&str>,
    states_ptr: &str,
    errors: &mut Vec<DefinitionError>,
) {
    let mut check = |target: &str, ptr: String| {
        if !names.contains(target) {
            errors.push(DefinitionError::new(
                ptr,
                format!("state {target:?} does not exist"),
            ));
        }
    };
    for (name, state) in states {
        let sptr = pointer_join(states_ptr, name);
        if let Transition::Next(next) = &state.transition {
            check(next, pointer_join(&sptr, "Next"));
        }
        if let StateKind::Choice(choice) = &state.kind {
            for (i, branch) in choice.choices.iter().enumerate() {
                check(
                    &branch.next,
                    pointer_join(
                        &pointer_join(&pointer_join(&sptr, "Choices"), &i.to_string()),
                        "Next",
                    ),
                );
            }
            if let Some(default) = &choice.default {
                check(default, pointer_join(&sptr, "Default"));
            }
        }
        for (i, catcher) in state.catch.iter().enumerate() {
            check(
                &catcher.next,
                pointer_join(
                    &pointer_join(&pointer_join(&sptr, "Catch"), &i.to_string()),
                    "Next",
                ),
            );
        }
    }
}

/// The states a state's raw JSON names as successors: `Next`, `Default`,
/// every choice rule's `Next` and every catcher's `Next`. Read from the raw
/// JSON so a state with other errors still counts its transitions.
fn raw_successors(state: &Value) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    out.extend(state.get("Next").and_then(Value::as_str));
    out.extend(state.get("Default").and_then(Value::as_str));
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(items)) = state.get(list) {
            out.extend(
                items
                    .iter()
                    .filter_map(|i| i.get("Next").and_then(Value::as_str)),
            );
        }
    }
    out
}

/// States that cannot be reached from `StartAt` are an error, as in AWS.
fn check_reachability(
    start: &str,
    obj: &Map<String, Value>,
    states_ptr: &str,
    errors: &mut Vec<DefinitionError>,
) {
    let Some(Value::Object(map)) = obj.get("States") else {
        return;
    };
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue = VecDeque::from([start]);
    while let Some(name) = queue.pop_front() {
        if !seen.insert(name) {
            continue;
        }
        if let Some(state) = map.get(name) {
            queue.extend(raw_successors(state));
        }
    }
    for name in map.keys() {
        if !seen.contains(name.as_str()) {
            errors.push(DefinitionError::new(
                pointer_join(states_ptr, name),
                format!("state {name:?} is not reachable from StartAt {start:?}"),
            ));
        }
    }
}

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

fn allowed_fields(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "Pass" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultPath",
            "Result",
            "Assign",
        ],
        "Task" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
            "Resource",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
            "Assign",
        ],
        "Choice" => &["InputPath", "OutputPath", "Choices", "Default", "Assign"],
        "Wait" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Seconds",
            "Timestamp",
            "SecondsPath",
            "TimestampPath",
            "Assign",
        ],
        "Succeed" => &["InputPath", "OutputPath"],
        "Fail" => &["Error", "ErrorPath", "Cause", "CausePath"],
        "Parallel" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
            "Branches",
            "Assign",
        ],
        "Map" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
            "ItemsPath",
            "ItemProcessor",
            "Iterator",
            "ItemSelector",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "Label",
            "ItemReader",
            "ResultWriter",
            "ItemBatcher",
            "Assign",
        ],
        _ => &[],
    }
}

const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items", "Condition"];

fn parse_state(
    name: &str,
    value: &Value,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<State> {
    if name.is_empty() {
        errors.push(DefinitionError::new(ptr, "a state name must not be empty"));
    }
    if name.chars().count() > MAX_STATE_NAME_LEN {
        errors.push(DefinitionError::new(
            ptr,
            format!("state name is longer than {MAX_STATE_NAME_LEN} characters"),
        ));
    }
    let Some(obj) = value.as_object() else {
        errors.push(DefinitionError::new(
            ptr,
            format!(
                "expected a state object, found {}",
                JsonType::of(value).with_article()
            ),
        ));
        return None;
    };
    let type_name = match obj.get("Type") {
        Some(Value::String(t)) => t.as_str(),
        Some(other) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Type"),
                format!(
                    "expected a state type name, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            return None;
        }
        None => {
            errors.push(DefinitionError::new(ptr, "missing required field \"Type\""));
            return None;
        }
    };
    let specific = allowed_fields(type_name);
    if specific.is_empty() {
        errors.push(DefinitionError::new(
            pointer_join(ptr, "Type"),
            format!(
                "unknown state type {type_name:?}; expected one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map"
            ),
        ));
        return None;
    }
    for key in obj.keys() {
        if COMMON.contains(&key.as_str()) || specific.contains(&key.as_str()) {
            continue;
        }
        let message = if JSONATA_ONLY.contains(&key.as_str()) {
            format!(
                "field {key:?} belongs to the JSONata query language, which is not supported yet"
            )
        } else {
            format!("field {key:?} is not valid in a {type_name} state")
        };
        errors.push(DefinitionError::new(pointer_join(ptr, key), message));
    }
    if let Some(ql) = obj.get("QueryLanguage") {
        if ql != "JSONPath" {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "QueryLanguage"),
                "only the JSONPath query language is supported yet",
            ));
        }
    }

    let comment = opt_string(obj, "Comment", ptr, errors);
    let processing = parse_processing(obj, ptr, type_name, errors);
    let assign = obj
        .get("Assign")
        .map(|v| parse_assign(v, &pointer_join(ptr, "Assign"), errors));
    let transition = parse_transition(obj, ptr, type_name, errors);
    let (retry, catch) = if matches!(type_name, "Task" | "Parallel" | "Map") {
        (
            parse_retry(obj.get("Retry"), &pointer_join(ptr, "Retry"), errors),
            parse_catch(obj.get("Catch"), &pointer_join(ptr, "Catch"), errors),
        )
    } else {
        (Vec::new(), Vec::new())
    };

    let kind = match type_name {
        "Pass" => Some(StateKind::Pass(Pass {
            result: obj.get("Result").cloned(),
        })),
        "Task" => parse_task(obj, ptr, errors).map(StateKind::Task),
        "Choice" => parse_choice(obj, ptr, errors).map(StateKind::Choice),
        "Wait" => parse_wait(obj, ptr, errors).map(StateKind::Wait),
        "Succeed" => Some(StateKind::Succeed),
        "Fail" => Some(StateKind::Fail(parse_fail(obj, ptr, errors))),
        "Parallel" => parse_parallel(obj, ptr, errors).map(StateKind::Parallel),
        "Map" => parse_map(obj, ptr, errors).map(|m| StateKind::Map(Box::new(m))),
        _ => None,
    }?;
    // Nested machines are classified state by state on their own.
    let own_text: String = obj
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "ItemProcessor" | "Iterator" | "Branches"))
        .map(|(_, v)| v.to_string())
        .collect();
    Some(State {
        name: name.to_string(),
        comment,
        kind,
        processing,
        assign,
        transition,
        retry,
        catch,
        context_use: ContextUse::of_text(&own_text),
    })
}

fn parse_transition(
    obj: &Map<String, Value>,
    ptr: &str,
    type_name: &str,
    errors: &mut Vec<DefinitionError>,
) -> Transition {
    if matches!(type_name, "Choice" | "Succeed" | "Fail") {
        return Transition::ByType;
    }
    let next = obj.get("Next");
    let end = obj.get("End");
    match (next, end) {
        (Some(Value::String(n)), None) => Transition::Next(n.clone()),
        (Some(Value::String(n)), Some(Value::Bool(false))) => Transition::Next(n.clone()),
        (None, Some(Value::Bool(true))) => Transition::End,
        (Some(_), Some(Value::Bool(true))) => {
            errors.push(DefinitionError::new(
                ptr,
                "a state must have exactly one of \"Next\" and \"End\", not both",
            ));
            Transition::End
        }
        (Some(other), _) if !other.is_string() => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Next"),
                format!(
                    "expected a state name, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            Transition::End
        }
        (_, Some(other)) if !other.is_boolean() => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "End"),
                format!(
                    "expected true, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            Transition::End
        }
        _ => {
            errors.push(DefinitionError::new(
                ptr,
                format!("a {type_name} state must have \"Next\" or \"End\": true"),
            ));
            Transition::End
        }
    }
}

fn parse_processing(
    obj: &Map<String, Value>,
    ptr: &str,
    type_name: &str,
    errors: &mut Vec<DefinitionError>,
) -> Processing {
    let mut p = Processing::default();
    if let Some(v) = obj.get("InputPath") {
        p.input_path = path_or_null(v, &pointer_join(ptr, "InputPath"), errors);
    }
    if let Some(v) = obj.get("OutputPath") {
        p.output_path = path_or_null(v, &pointer_join(ptr, "OutputPath"), errors);
    }
    // On a Map, `Parameters` is the legacy name of `ItemSelector`, which
    // parse_map owns.
    if let Some(v) = obj.get("Parameters").filter(|_| type_name != "Map") {
        p.parameters = Some(PayloadTemplate::parse(
            v,
            &pointer_join(ptr, "Parameters"),
            errors,
        ));
    }
    if let Some(v) = obj.get("ResultSelector") {
        let sptr = pointer_join(ptr, "ResultSelector");
        if !v.is_object() {
            errors.push(DefinitionError::new(&sptr, "expected an object"));
        }
        p.result_selector = Some(PayloadTemplate::parse(v, &sptr, errors));
    }
    if let Some(v) = obj.get("ResultPath") {
        let rptr = pointer_join(ptr, "ResultPath");
        p.result_path = match v {
            Value::Null => ResultPath::Discard,
            Value::String(s) => match Path::parse_reference(s) {
                Ok(path) if path.root() == Root::Input => ResultPath::Path(path),
                Ok(_) => {
                    errors.push(DefinitionError::new(
                        &rptr,
                        format!("{s:?} must be a reference path into the state's input, starting with \"$\""),
                    ));
                    ResultPath::Discard
                }
                Err(e) => {
                    errors.push(DefinitionError::new(
                        &rptr,
                        format!("invalid reference path {s:?}: {e}"),
                    ));
                    ResultPath::Discard
                }
            },
            other => {
                errors.push(DefinitionError::new(
                    &rptr,
                    format!(
                        "expected a reference path or null, found {}",
                        JsonType::of(other).with_article()
                    ),
                ));
                ResultPath::Discard
            }
        };
    }
    p
}

fn path_or_null(v: &Value, ptr: &str, errors: &mut Vec<DefinitionError>) -> PathOrNull {
    match v {
        Value::Null => PathOrNull::Null,
        Value::String(s) => match parse_path(s, ptr, errors) {
            Some(path) => PathOrNull::Path(path),
            None => PathOrNull::Null,
        },
        other => {
            errors.push(DefinitionError::new(
                ptr,
                format!(
                    "expected a path or null, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            PathOrNull::Null
        }
    }
}

fn parse_path(text: &str, ptr: &str, errors: &mut Vec<DefinitionError>) -> Option<Path> {
    match Path::parse(text) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(DefinitionError::new(
                ptr,
                format!("invalid path {text:?}: {e}"),
            ));
            None
        }
    }
}

fn path_field(
    obj: &Map<String, Value>,
    key: &str,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<Path> {
    let fptr = pointer_join(ptr, key);
    match obj.get(key)? {
        Value::String(s) => parse_path(s, &fptr, errors),
        other => {
            errors.push(DefinitionError::new(
                fptr,
                format!(
                    "expected a path, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
    }
}

fn parse_assign(v: &Value, ptr: &str, errors: &mut Vec<DefinitionError>) -> PayloadTemplate {
    match v.as_object() {
        Some(map) => {
            for key in map.keys() {
                let var = key.strip_suffix(".$").unwrap_or(key);
                if !is_variable_name(var) {
                    errors.push(DefinitionError::new(
                        pointer_join(ptr, key),
                        format!(
                            "{var:?} is not a valid variable name: use letters, digits and '_', not starting with a digit"
                        ),
                    ));
                }
            }
        }
        None => errors.push(DefinitionError::new(
            ptr,
            format!(
                "expected an object of variable assignments, found {}",
                JsonType::of(v).with_article()
            ),
        )),
    }
    PayloadTemplate::parse(v, ptr, errors)
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => chars.all(|c| c.is_alphanumeric() || c == '_'),
        _ => false,
    }
}

fn parse_task(
    obj: &Map<String, Value>,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<Task> {
    let resource = match obj.get("Resource") {
        Some(Value::String(r)) if !r.is_empty() => Some(r.clone()),
        Some(other) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Resource"),
                format!(
                    "expected a resource ARN, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(ptr, "a Task state needs \"Resource\""));
            None
        }
    };
    let timeout_seconds = dynamic_field(
        obj,
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        ptr,
        errors,
        positive_literal,
    );
    let heartbeat_seconds = dynamic_field(
        obj,
        "HeartbeatSeconds",
        "HeartbeatSecondsPath",
        ptr,
        errors,
        positive_literal,
    );
    if let (Some(Dynamic::Fixed(t)), Some(Dynamic::Fixed(h))) =
        (&timeout_seconds, &heartbeat_seconds)
    {
        if h >= t {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "HeartbeatSeconds"),
                format!("must be smaller than TimeoutSeconds ({t}), found {h}"),
            ));
        }
    }
    Some(Task {
        resource: resource?,
        timeout_seconds,
        heartbeat_seconds,
        credentials: obj.get("Credentials").cloned(),
    })
}

/// A number given literally under `key` or read at run time from the path
/// under `path_key` (`TimeoutSeconds`/`TimeoutSecondsPath` and kin): at most
/// one of the two; `literal` checks the literal form.
fn dynamic_field<T>(
    obj: &Map<String, Value>,
    key: &str,
    path_key: &str,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
    literal: impl Fn(&Value) -> Result<T, String>,
) -> Option<Dynamic<T>> {
    match (obj.get(key), obj.get(path_key)) {
        (Some(_), Some(_)) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, path_key),
                format!("\"{key}\" and \"{path_key}\" are mutually exclusive"),
            ));
            None
        }
        (Some(v), None) => match literal(v) {
            Ok(n) => Some(Dynamic::Fixed(n)),
            Err(message) => {
                errors.push(DefinitionError::new(pointer_join(ptr, key), message));
                None
            }
        },
        (None, Some(_)) => path_field(obj, path_key, ptr, errors).map(Dynamic::Path),
        (None, None) => None,
    }
}

fn positive_literal(v: &Value) -> Result<u64, String> {
    v.as_u64()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("expected a positive integer, found {v}"))
}

fn non_negative_literal(v: &Value) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| format!("expected a non-negative integer, found {v}"))
}

fn percentage_literal(v: &Value) -> Result<f64, String> {
    v.as_f64()
        .filter(|p| (0.0..=100.0).contains(p))
        .ok_or_else(|| format!("expected a number between 0 and 100, found {v}"))
}

fn parse_choice(
    obj: &Map<String, Value>,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<Choice> {
    let cptr = pointer_join(ptr, "Choices");
    let mut choices = Vec::new();
    match obj.get("Choices") {
        Some(Value::Array(rules)) if !rules.is_empty() => {
            for (i, rule) in rules.iter().enumerate() {
                let rptr = pointer_join(&cptr, &i.to_string());
                let next = match rule.get("Next") {
                    Some(Value::String(n)) => Some(n.clone()),
                    Some(other) => {
                        errors.push(DefinitionError::new(
                            pointer_join(&rptr, "Next"),
                            format!(
                                "expected a state name, found {}",
                                JsonType::of(other).with_article()
                            ),
                        ));
                        None
                    }
                    None => {
                        if rule.is_object() {
                            errors
                                .push(DefinitionError::new(&rptr, "a choice rule needs \"Next\""));
                        }
                        None
                    }
                };
                let assign = rule
                    .get("Assign")
                    .map(|v| parse_assign(v, &pointer_join(&rptr, "Assign"), errors));
                let condition = Condition::parse(rule, &rptr, errors);
                if let (Some(condition), Some(next)) = (condition, next) {
                    choices.push(ChoiceBranch {
                        condition,
                        next,
                        assign,
                    });
                }
            }
        }
        Some(Value::Array(_)) => errors.push(DefinitionError::new(
            &cptr,
            "must hold at least one choice rule",
        )),
        Some(other) => errors.push(DefinitionError::new(
            &cptr,
            format!(
                "expected an array of choice rules, found {}",
                JsonType::of(other).with_article()
            ),
        )),
        None => errors.push(DefinitionError::new(
            ptr,
            "a Choice state needs \"Choices\"",
        )),
    }
    let default = match obj.get("Default") {
        None => None,
        Some(Value::String(d)) => Some(d.clone()),
        Some(other) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Default"),
                format!(
                    "expected a state name, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
    };
    Some(Choice { choices, default })
}

fn parse_wait(
    obj: &Map<String, Value>,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<Wait> {
    let present: Vec<&str> = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"]
        .into_iter()
        .filter(|k| obj.contains_key(*k))
        .collect();
    if present.len() != 1 {
        errors.push(DefinitionError::new(
            ptr,
            if present.is_empty() {
                "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath".to_string()
            } else {
                format!(
                    "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath; found {}",
                    present.join(", ")
                )
            },
        ));
        return None;
    }
    let key = present[0];
    let fptr = pointer_join(ptr, key);
    match key {
        "Seconds" => match obj[key].as_u64() {
            Some(s) => Some(Wait::Seconds(s)),
            None => {
                errors.push(DefinitionError::new(
                    fptr,
                    format!("expected a non-negative integer, found {}", obj[key]),
                ));
                None
            }
        },
        "Timestamp" => {
            match obj[key].as_str().and_then(crate::timestamp::parse) {
                Some(t) => Some(Wait::Timestamp(t)),
                None => {
                    errors.push(DefinitionError::new(
                    fptr,
                    format!("expected an RFC 3339 timestamp such as \"2016-03-14T01:59:00Z\", found {}", obj[key]),
                ));
                    None
                }
            }
        }
        "SecondsPath" => path_field(obj, key, ptr, errors).map(Wait::SecondsPath),
        _ => path_field(obj, key, ptr, errors).map(Wait::TimestampPath),
    }
}

fn parse_fail(obj: &Map<String, Value>, ptr: &str, errors: &mut Vec<DefinitionError>) -> Fail {
    let text =
        |key: &str, path_key: &str, errors: &mut Vec<DefinitionError>| -> Option<TextSource> {
            match (obj.get(key), obj.get(path_key)) {
                (Some(_), Some(_)) => {
                    errors.push(DefinitionError::new(
                        pointer_join(ptr, path_key),
                        format!("\"{key}\" and \"{path_key}\" are mutually exclusive"),
                    ));
                    None
                }
                (Some(Value::String(s)), None) => Some(TextSource::Fixed(s.clone())),
                (Some(other), None) => {
                    errors.push(DefinitionError::new(
                        pointer_join(ptr, key),
                        format!(
                            "expected a string, found {}",
                            JsonType::of(other).with_article()
                        ),
                    ));
                    None
                }
                (None, Some(Value::String(s))) => {
                    let fptr = pointer_join(ptr, path_key);
                    if crate::intrinsic::Intrinsic::looks_like_call(s) {
                        match crate::intrinsic::Intrinsic::parse(s) {
                            Ok(call) => Some(TextSource::Intrinsic(call)),
                            Err(e) => {
                                errors.push(DefinitionError::new(
                                    fptr,
                                    format!("invalid intrinsic function: {e}"),
                                ));
                                None
                            }
                        }
                    } else {
                        parse_path(s, &fptr, errors).map(TextSource::Path)
                    }
                }
                (None, Some(other)) => {
                    errors.push(DefinitionError::new(
                        pointer_join(ptr, path_key),
                        format!(
                            "expected a path or intrinsic function, found {}",
                            JsonType::of(other).with_article()
                        ),
                    ));
                    None
                }
                (None, None) => None,
            }
        };
    let error = text("Error", "ErrorPath", errors);
    let cause = text("Cause", "CausePath", errors);
    Fail { error, cause }
}

fn parse_parallel(
    obj: &Map<String, Value>,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<Parallel> {
    let bptr = pointer_join(ptr, "Branches");
    match obj.get("Branches") {
        Some(Value::Array(bs)) if !bs.is_empty() => {
            let branches: Vec<Option<StateMachine>> = bs
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    parse_machine(
                        b,
                        &pointer_join(&bptr, &i.to_string()),
                        Scope::Branch,
                        errors,
                    )
                })
                .collect();
            branches
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(|branches| Parallel { branches })
        }
        Some(Value::Array(_)) => {
            errors.push(DefinitionError::new(bptr, "must hold at least one branch"));
            None
        }
        Some(other) => {
            errors.push(DefinitionError::new(
                bptr,
                format!(
                    "expected an array of branches, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(
                ptr,
                "a Parallel state needs \"Branches\"",
            ));
            None
        }
    }
}

fn parse_map(
    obj: &Map<String, Value>,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<MapState> {
    for unsupported in ["ItemReader", "ResultWriter", "ItemBatcher"] {
        if obj.contains_key(unsupported) {
            errors.push(DefinitionError::new(
                pointer_join(ptr, unsupported),
                format!("\"{unsupported}\" belongs to the distributed Map, which the embedded engine does not support yet"),
            ));
        }
    }
    let processor = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
        (Some(_), Some(_)) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Iterator"),
                "\"ItemProcessor\" and its legacy name \"Iterator\" are mutually exclusive",
            ));
            None
        }
        (Some(p), None) => parse_machine(
            p,
            &pointer_join(ptr, "ItemProcessor"),
            Scope::MapProcessor,
            errors,
        ),
        (None, Some(p)) => parse_machine(
            p,
            &pointer_join(ptr, "Iterator"),
            Scope::MapProcessor,
            errors,
        ),
        (None, None) => {
            errors.push(DefinitionError::new(
                ptr,
                "a Map state needs \"ItemProcessor\"",
            ));
            None
        }
    };
    // `Parameters` on a Map is the legacy name of `ItemSelector`: it shapes
    // each item, not the Map's input.
    let item_selector = match (obj.get("ItemSelector"), obj.get("Parameters")) {
        (Some(_), Some(_)) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Parameters"),
                "\"ItemSelector\" and its legacy name \"Parameters\" are mutually exclusive",
            ));
            None
        }
        (Some(v), None) => Some(PayloadTemplate::parse(
            v,
            &pointer_join(ptr, "ItemSelector"),
            errors,
        )),
        (None, Some(v)) => Some(PayloadTemplate::parse(
            v,
            &pointer_join(ptr, "Parameters"),
            errors,
        )),
        (None, None) => None,
    };
    let items_path = path_field(obj, "ItemsPath", ptr, errors).unwrap_or_else(root_path);
    let max_concurrency = dynamic_field(
        obj,
        "MaxConcurrency",
        "MaxConcurrencyPath",
        ptr,
        errors,
        non_negative_literal,
    )
    .unwrap_or(Dynamic::Fixed(0));
    let tolerated_failure_percentage = dynamic_field(
        obj,
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        ptr,
        errors,
        percentage_literal,
    );
    let tolerated_failure_count = dynamic_field(
        obj,
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        ptr,
        errors,
        non_negative_literal,
    );
    let label = opt_string(obj, "Label", ptr, errors);
    Some(MapState {
        items_path,
        processor: processor?,
        item_selector,
        max_concurrency,
        tolerated_failure_percentage,
        tolerated_failure_count,
        label,
    })
}

fn parse_error_equals(
    v: Option<&Value>,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Vec<String> {
    let eptr = pointer_join(ptr, "ErrorEquals");
    let Some(v) = v else {
        errors.push(DefinitionError::new(
            ptr,
            "missing required field \"ErrorEquals\"",
        ));
        return Vec::new();
    };
    let Some(items) = v.as_array() else {
        errors.push(DefinitionError::new(
            eptr,
            format!(
                "expected an array of error names, found {}",
                JsonType::of(v).with_article()
            ),
        ));
        return Vec::new();
    };
    if items.is_empty() {
        errors.push(DefinitionError::new(&eptr, "must name at least one error"));
    }
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) => names.push(s.to_string()),
            None => errors.push(DefinitionError::new(
                pointer_join(&eptr, &i.to_string()),
                format!(
                    "expected an error name, found {}",
                    JsonType::of(item).with_article()
                ),
            )),
        }
    }
    if names.iter().any(|n| n == crate::error::names::ALL) && names.len() > 1 {
        errors.push(DefinitionError::new(
            eptr,
            "\"States.ALL\" must appear alone in ErrorEquals",
        ));
    }
    names
}

/// `States.ALL` may only be in the last retrier or catcher.
fn check_all_is_last(error_lists: &[&[String]], ptr: &str, errors: &mut Vec<DefinitionError>) {
    let n = error_lists.len();
    for (i, list) in error_lists.iter().enumerate() {
        if i + 1 < n && list.iter().any(|e| e == crate::error::names::ALL) {
            errors.push(DefinitionError::new(
                pointer_join(&pointer_join(ptr, &i.to_string()), "ErrorEquals"),
                "\"States.ALL\" must be in the last element",
            ));
        }
    }
}

/// The elements of a `Retry` or `Catch` array that are objects, each with
/// its JSON pointer; an array that is not one, or an element that is not an
/// object, is reported as `what` ("retrier", "catcher").
fn object_elements<'a>(
    v: Option<&'a Value>,
    ptr: &str,
    what: &str,
    errors: &mut Vec<DefinitionError>,
) -> Vec<(String, &'a Map<String, Value>)> {
    let Some(v) = v else { return Vec::new() };
    let Some(items) = v.as_array() else {
        errors.push(DefinitionError::new(
            ptr,
            format!(
                "expected an array of {what}s, found {}",
                JsonType::of(v).with_article()
            ),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_ptr = pointer_join(ptr, &i.to_string());
        match item.as_object() {
            Some(obj) => out.push((item_ptr, obj)),
            None => errors.push(DefinitionError::new(
                item_ptr,
                format!(
                    "expected a {what} object, found {}",
                    JsonType::of(item).with_article()
                ),
            )),
        }
    }
    out
}

fn parse_retry(v: Option<&Value>, ptr: &str, errors: &mut Vec<DefinitionError>) -> Vec<Retrier> {
    let mut out = Vec::new();
    for (rptr, obj) in object_elements(v, ptr, "retrier", errors) {
        unknown_fields(
            obj,
            &rptr,
            &[
                "ErrorEquals",
                "IntervalSeconds",
                "MaxAttempts",
                "BackoffRate",
                "MaxDelaySeconds",
                "JitterStrategy",
                "Comment",
            ],
            "a retrier",
            errors,
        );
        let error_equals = parse_error_equals(obj.get("ErrorEquals"), &rptr, errors);
        let interval_seconds = match obj.get("IntervalSeconds") {
            None => Retrier::DEFAULT_INTERVAL_SECONDS,
            Some(v) => {
                positive_integer(v, &pointer_join(&rptr, "IntervalSeconds"), errors).unwrap_or(1)
            }
        };
        let max_attempts = match obj.get("MaxAttempts") {
            None => Retrier::DEFAULT_MAX_ATTEMPTS,
            Some(v) => match v.as_u64() {
                Some(n) if n <= 99_999_999 => n,
                _ => {
                    errors.push(DefinitionError::new(
                        pointer_join(&rptr, "MaxAttempts"),
                        format!("expected an integer from 0 to 99999999, found {v}"),
                    ));
                    0
                }
            },
        };
        let backoff_rate = match obj.get("BackoffRate") {
            None => Retrier::DEFAULT_BACKOFF_RATE,
            Some(v) => match v.as_f64() {
                Some(r) if r >= 1.0 => r,
                _ => {
                    errors.push(DefinitionError::new(
                        pointer_join(&rptr, "BackoffRate"),
                        format!("expected a number at least 1.0, found {v}"),
                    ));
                    1.0
                }
            },
        };
        let max_delay_seconds = match obj.get("MaxDelaySeconds") {
            None => None,
            Some(v) => positive_integer(v, &pointer_join(&rptr, "MaxDelaySeconds"), errors),
        };
        let jitter = match obj.get("JitterStrategy") {
            None => Jitter::None,
            Some(Value::String(s)) if s == "FULL" => Jitter::Full,
            Some(Value::String(s)) if s == "NONE" => Jitter::None,
            Some(other) => {
                errors.push(DefinitionError::new(
                    pointer_join(&rptr, "JitterStrategy"),
                    format!("expected \"FULL\" or \"NONE\", found {other}"),
                ));
                Jitter::None
            }
        };
        out.push(Retrier {
            error_equals,
            interval_seconds,
            max_attempts,
            backoff_rate,
            max_delay_seconds,
            jitter,
        });
    }
    let lists: Vec<&[String]> = out.iter().map(|r| r.error_equals.as_slice()).collect();
    check_all_is_last(&lists, ptr, errors);
    out
}

fn parse_catch(v: Option<&Value>, ptr: &str, errors: &mut Vec<DefinitionError>) -> Vec<Catcher> {
    let mut out = Vec::new();
    for (cptr, obj) in object_elements(v, ptr, "catcher", errors) {
        unknown_fields(
            obj,
            &cptr,
            &["ErrorEquals", "Next", "ResultPath", "Assign", "Comment"],
            "a catcher",
            errors,
        );
        let error_equals = parse_error_equals(obj.get("ErrorEquals"), &cptr, errors);
        let next = match obj.get("Next") {
            Some(Value::String(n)) => n.clone(),
            Some(other) => {
                errors.push(DefinitionError::new(
                    pointer_join(&cptr, "Next"),
                    format!(
                        "expected a state name, found {}",
                        JsonType::of(other).with_article()
                    ),
                ));
                continue;
            }
            None => {
                errors.push(DefinitionError::new(&cptr, "a catcher needs \"Next\""));
                continue;
            }
        };
        let result_path = match obj.get("ResultPath") {
            None => Some(root_path()),
            Some(Value::Null) => None,
            Some(Value::String(s)) => match Path::parse_reference(s) {
                Ok(p) if p.root() == Root::Input => Some(p),
                Ok(_) => {
                    errors.push(DefinitionError::new(
                        pointer_join(&cptr, "ResultPath"),
                        format!("{s:?} must be a reference path into the state's input, starting with \"$\""),
                    ));
                    None
                }
                Err(e) => {
                    errors.push(DefinitionError::new(
                        pointer_join(&cptr, "ResultPath"),
                        format!("invalid reference path {s:?}: {e}"),
                    ));
                    None
                }
            },
            Some(other) => {
                errors.push(DefinitionError::new(
                    pointer_join(&cptr, "ResultPath"),
                    format!(
                        "expected a reference path or null, found {}",
                        JsonType::of(other).with_article()
                    ),
                ));
                None
            }
        };
        let assign = obj
            .get("Assign")
            .map(|v| parse_assign(v, &pointer_join(&cptr, "Assign"), errors));
        out.push(Catcher {
            error_equals,
            next,
            result_path,
            assign,
        });
    }
    let lists: Vec<&[String]> = out.iter().map(|c| c.error_equals.as_slice()).collect();
    check_all_is_last(&lists, ptr, errors);
    out
}

fn unknown_fields(
    obj: &Map<String, Value>,
    ptr: &str,
    allowed: &[&str],
    what: &str,
    errors: &mut Vec<DefinitionError>,
) {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            errors.push(DefinitionError::new(
                pointer_join(ptr, key),
                format!("field {key:?} is not valid in {what}"),
            ));
        }
    }
}

fn opt_string(
    obj: &Map<String, Value>,
    key: &str,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        other => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, key),
                format!(
                    "expected a string, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
    }
}

fn positive_integer(v: &Value, ptr: &str, errors: &mut Vec<DefinitionError>) -> Option<u64> {
    positive_literal(v)
        .map_err(|message| errors.push(DefinitionError::new(ptr, message)))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};
    use proptest::prelude::*;

    fn check(definition: &str, expected: Expect) {
        let actual = match parse_str(definition) {
            Ok(m) => format!("ok: {} states", m.total_states()),
            Err(errors) => errors.iter().map(|e| format!("{e}\n")).collect(),
        };
        expected.assert_eq(&actual);
    }

    #[test]
    fn minimal_machine_is_valid() {
        check(
            r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#,
            expect![[r#"ok: 1 states"#]],
        );
    }

    #[test]
    fn dangling_next_names_state_and_field() {
        check(
            r#"{"StartAt": "Fetch", "States": {"Fetch": {"Type": "Pass", "Next": "Fetchh"}}}"#,
            expect![[r#"
                /States/Fetch/Next: state "Fetchh" does not exist
            "#]],
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        check(
            r#"{"StartAt": "A", "States": {
                "A": {"Type": "Pass"},
                "B": {"Type": "Task", "Next": "A"},
                "C": {"Type": "Wait", "Seconds": 1, "Timestamp": "2020-01-01T00:00:00Z", "End": true},
                "D": {"Type": "Choice", "Choices": [], "Default": "Nope"},
                "E": {"Type": "Bogus"}
            }}"#,
            expect![[r#"
                /States/A: a Pass state must have "Next" or "End": true
                /States/B: a Task state needs "Resource"
                /States/C: a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath; found Seconds, Timestamp
                /States/D/Choices: must hold at least one choice rule
                /States/E/Type: unknown state type "Bogus"; expected one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map
                /States/D/Default: state "Nope" does not exist
                /States/B: state "B" is not reachable from StartAt "A"
                /States/C: state "C" is not reachable from StartAt "A"
                /States/D: state "D" is not reachable from StartAt "A"
                /States/E: state "E" is not reachable from StartAt "A"
            "#]],
        );
    }

    #[test]
    fn unreachable_states_are_errors() {
        check(
            r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "Orphan": {"Type": "Succeed"}}}"#,
            expect![[r#"
                /States/Orphan: state "Orphan" is not reachable from StartAt "A"
            "#]],
        );
    }

    #[test]
    fn states_all_must_be_alone_and_last() {
        check(
            r#"{"StartAt": "T", "States": {
                "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true,
                      "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["E", "States.ALL"]}],
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "X"}, {"ErrorEquals": ["E"], "Next": "X"}]},
                "X": {"Type": "Succeed"}
            }}"#,
            expect![[r#"
                /States/T/Retry/1/ErrorEquals: "States.ALL" must appear alone in ErrorEquals
                /States/T/Retry/0/ErrorEquals: "States.ALL" must be in the last element
                /States/T/Catch/0/ErrorEquals: "States.ALL" must be in the last element
            "#]],
        );
    }

    #[test]
    fn nested_machines_are_validated_with_their_pointers() {
        check(
            r#"{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Outside"}}}
            ]}, "Outside": {"Type": "Succeed"}}}"#,
            expect![[r#"
                /States/P/Branches/0/States/X/Next: state "Outside" does not exist
                /States/Outside: state "Outside" is not reachable from StartAt "P"
            "#]],
        );
    }

    #[test]
    fn bad_paths_and_unknown_fields_are_named() {
        check(
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.a[", "ResultPath": "$.a[*]", "Resul": 1, "End": true}}}"#,
            expect![[r#"
                /States/A/Resul: field "Resul" is not valid in a Pass state
                /States/A/InputPath: invalid path "$.a[": invalid path '$.a[' at offset 3: '[' is never closed
                /States/A/ResultPath: invalid reference path "$.a[*]": invalid path '$.a[*]' at offset 3: a wildcard '*' is not allowed in a reference path, which may only use '.name', ['name'] and [index]
            "#]],
        );
    }

    #[test]
    fn jsonata_is_rejected_clearly() {
        check(
            r#"{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% 1 %}", "End": true}}}"#,
            expect![[r#"
                /QueryLanguage: the JSONata query language is not supported yet; use "JSONPath"
                /States/A/Output: field "Output" belongs to the JSONata query language, which is not supported yet
            "#]],
        );
    }

    #[test]
    fn not_json_reports_line_and_column() {
        check(
            "{\"StartAt\": ",
            expect![[r#"
                /: definition is not valid JSON: EOF while parsing a value at line 1 column 12 (line 1, column 12)
            "#]],
        );
    }

    #[test]
    fn defaults_are_filled_in() {
        let m = parse_str(
            r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "r", "End": true, "Retry": [{"ErrorEquals": ["E"]}]}}}"#,
        )
        .unwrap();
        let t = &m.states["T"];
        assert_eq!(t.retry[0].interval_seconds, 1);
        assert_eq!(t.retry[0].max_attempts, 3);
        assert_eq!(t.retry[0].backoff_rate, 2.0);
        assert_eq!(t.processing, Processing::default());
    }

    #[test]
    fn context_use_is_classified_conservatively() {
        assert_eq!(ContextUse::of_text(r#"{"a.$": "$.x"}"#), ContextUse::None);
        assert_eq!(
            ContextUse::of_text(r#"{"a.$": "$$.Map.Item.Value"}"#),
            ContextUse::WithoutExecutionInput
        );
        assert_eq!(
            ContextUse::of_text(r#"{"a.$": "$$.Execution.Id"}"#),
            ContextUse::WithoutExecutionInput
        );
        assert_eq!(
            ContextUse::of_text(r#"{"a.$": "$$.Execution.Input.k"}"#),
            ContextUse::Full
        );
        assert_eq!(
            ContextUse::of_text(r#"{"a.$": "$$.Execution"}"#),
            ContextUse::Full
        );
        assert_eq!(ContextUse::of_text(r#"{"a.$": "$$"}"#), ContextUse::Full);
        assert_eq!(
            ContextUse::of_text(r#"{"a.$": "$$['Execution']"}"#),
            ContextUse::Full
        );
        assert_eq!(
            ContextUse::of_text(r#"{"a.$": "$$..Input"}"#),
            ContextUse::Full
        );
    }

    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let keys = prop::sample::select(vec![
            "StartAt",
            "States",
            "Type",
            "Next",
            "End",
            "Pass",
            "Task",
            "Choice",
            "Wait",
            "Map",
            "Parallel",
            "Fail",
            "Succeed",
            "Resource",
            "Branches",
            "ItemProcessor",
            "Iterator",
            "Retry",
            "Catch",
            "ErrorEquals",
            "InputPath",
            "ResultPath",
            "Parameters",
            "Seconds",
            "Choices",
            "Default",
            "A",
            "B",
            "Variable",
            "StringEquals",
            "Assign",
            "x.$",
            "ItemsPath",
            "MaxConcurrency",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(Value::from),
            prop::sample::select(vec![
                "A",
                "B",
                "$",
                "$.a",
                "$$.x",
                "States.ALL",
                "Pass",
                "Task",
                "Map",
                "States.Format('{}', $.a)"
            ])
            .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_text(s in ".*") {
            let _ = parse_str(&s);
        }

        #[test]
        fn parse_never_panics_on_definition_shaped_json(v in arbitrary_json()) {
            let _ = parse(&v);
        }
    }
}
