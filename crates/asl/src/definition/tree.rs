//! The typed tree a definition becomes: the machine, its states, each state
//! type's fields and the shared data-processing fields, holding the spec's
//! defaults where the definition left a field out.
//!
//! These are plain values. Reading and checking them is the job of the
//! sibling modules, so nothing here parses JSON or reports an error; the
//! engine relies on a tree it got from `parse` having passed every check.

use crate::choice::Condition;
use crate::jsonata::{Query, Template};
use crate::path::Path;
use crate::payload::PayloadTemplate;
use crate::retry::{Catcher, Retrier};
use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;
use serde_json::Value;

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
    /// The state's own query language: its `QueryLanguage`, or the state
    /// machine's (top level) when it has none.
    pub query_language: QueryLanguage,
    /// The JSONPath fields; at their identity defaults in a JSONata state.
    pub processing: Processing,
    /// JSONata `Arguments` (Task, Parallel): the state's effective input.
    pub arguments: Option<Template>,
    /// JSONata `Output`: the state's output, in place of its result.
    pub output: Option<Template>,
    /// Variables to set on leaving the state.
    pub assign: Option<Assign>,
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
    /// Classifies a JSONata state's text: `$states.context` (or `$states`
    /// as a whole) reads the context object, and `$now()`/`$millis()` read
    /// the state's entered time from it.
    pub fn of_jsonata_text(text: &str) -> ContextUse {
        let mut result = ContextUse::None;
        for (at, _) in text.match_indices("$states") {
            let rest = &text[at + "$states".len()..];
            let names_part = [".input", ".result", ".errorOutput"]
                .iter()
                .any(|p| rest.starts_with(p));
            if !names_part {
                return ContextUse::Full;
            }
        }
        if text.contains("$now") || text.contains("$millis") {
            result = ContextUse::WithoutExecutionInput;
        }
        result
    }

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

    pub fn is_jsonata(&self) -> bool {
        self.query_language == QueryLanguage::Jsonata
    }
}

/// `Assign`: a JSONPath payload template (`"x.$": "$.path"`) or, in a
/// JSONata state, an object whose `{% %}` strings are expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum Assign {
    JsonPath(PayloadTemplate),
    Jsonata(Template),
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

pub(super) fn root_path() -> Path {
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
    /// A JSONata state's `{% ... %}` in the field itself.
    Query(Query),
}

/// A string given literally, or computed from a path or intrinsic
/// (`Error` / `ErrorPath`, `Cause` / `CausePath`).
#[derive(Debug, Clone, PartialEq)]
pub enum TextSource {
    Fixed(String),
    Path(Path),
    Intrinsic(crate::intrinsic::Intrinsic),
    Query(Query),
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
    pub test: RuleTest,
    pub next: String,
    pub assign: Option<Assign>,
    /// JSONata `Output` of the rule, in place of the state's.
    pub output: Option<Template>,
}

/// What decides a choice rule: a JSONPath rule, or a JSONata `Condition`.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleTest {
    Condition(Condition),
    Query(Query),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Wait {
    Seconds(u64),
    Timestamp(time::OffsetDateTime),
    SecondsPath(Path),
    TimestampPath(Path),
    SecondsQuery(Query),
    TimestampQuery(Query),
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
    pub items: Items,
    pub processor: StateMachine,
    pub item_selector: Option<ItemSelector>,
    /// `0` means no limit, as in AWS.
    pub max_concurrency: Dynamic<u64>,
    pub tolerated_failure_percentage: Option<Dynamic<f64>>,
    pub tolerated_failure_count: Option<Dynamic<u64>>,
    pub label: Option<String>,
    /// `Some` for a Map whose processor's mode is DISTRIBUTED: each item
    /// (or batch) runs as a child execution of a Map Run.
    pub distributed: Option<Box<Distributed>>,
}

/// The distributed Map's own fields (see `definition::distributed`).
#[derive(Debug, Clone, PartialEq)]
pub struct Distributed {
    pub execution_type: ChildExecutionType,
    /// Where the items come from; `None` means ItemsPath over the effective
    /// input, as for an inline Map.
    pub item_reader: Option<ItemReader>,
    pub item_batcher: Option<ItemBatcher>,
    pub result_writer: Option<ResultWriter>,
    /// The processor as a state machine definition of its own (without
    /// `ProcessorConfig`): what each child execution runs.
    pub child_definition: String,
}

/// `ProcessorConfig.ExecutionType`: the kind of the child executions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExecutionType {
    Standard,
    Express,
}

impl ChildExecutionType {
    pub fn api_name(self) -> &'static str {
        match self {
            ChildExecutionType::Standard => "STANDARD",
            ChildExecutionType::Express => "EXPRESS",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemReader {
    pub source: ItemSource,
    /// `Bucket` and `Key` (getObject) or `Bucket` and `Prefix`
    /// (listObjectsV2), evaluated over the Map's effective input:
    /// `Parameters` in a JSONPath state, `Arguments` in a JSONata one.
    pub parameters: FieldTemplate,
    /// `ReaderConfig.MaxItems[Path]`: read at most this many items; `0` or
    /// absent means all.
    pub max_items: Option<Dynamic<u64>>,
}

/// What an ItemReader reads: an object's contents in one of three formats,
/// or (`s3:listObjectsV2`) the listing of a bucket.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemSource {
    Json,
    JsonLines,
    Csv(CsvHeaders),
    Listing,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CsvHeaders {
    FirstRow,
    Given(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemBatcher {
    pub max_items_per_batch: Option<Dynamic<u64>>,
    pub max_input_bytes_per_batch: Option<Dynamic<u64>>,
    /// Added to each batch as `BatchInput`, evaluated over the Map's
    /// effective input.
    pub batch_input: Option<FieldTemplate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResultWriter {
    /// `Bucket` and `Prefix`, evaluated over the Map's effective input:
    /// `Parameters` in a JSONPath state, `Arguments` in a JSONata one.
    pub parameters: FieldTemplate,
}

/// A distributed Map's template field in its state's query language: a
/// payload template (`Parameters`, `BatchInput`) in a JSONPath state, a
/// JSONata template (`Arguments`, `BatchInput`) in a JSONata one.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldTemplate {
    JsonPath(PayloadTemplate),
    Jsonata(Template),
}

/// Where a Map's items come from: `ItemsPath` (JSONPath) or `Items`
/// (JSONata: an array, or an expression that yields one).
#[derive(Debug, Clone, PartialEq)]
pub enum Items {
    Path(Path),
    Template(Template),
}

/// A Map's `ItemSelector` in either query language.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemSelector {
    JsonPath(PayloadTemplate),
    Jsonata(Template),
}
