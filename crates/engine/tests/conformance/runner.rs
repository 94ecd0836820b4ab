//! The data-driven conformance runner: every JSON file under a suite's
//! case directory is one case that pins one piece of Step Functions
//! behaviour, as AWS documents it, on the embedded engine. Two suites
//! include this file with `#[path]`: the engine's own
//! (`crates/engine/tests/conformance.rs`, cases under
//! `crates/engine/tests/conformance/`) and the service integrations'
//! (`crates/integrations/tests/conformance.rs`, cases under
//! `crates/integrations/tests/conformance/`), which adds its handlers
//! through an [`Extension`]. This file owns only the runner; what the
//! engine must do lives in the case files, so a new behaviour is pinned by
//! adding a file, not code. It must not know any handler beyond the test
//! functions below: what a suite adds comes through its extension.
//!
//! # Case format
//!
//! An execution case runs a definition on a fresh engine (its own SQLite
//! file under the temp directory, a virtual clock so Waits and retries take
//! no wall time) and checks how the execution ends:
//!
//! ```json
//! { "comment": "what this pins",
//!   "source": "optional: the URL of the AWS page or recorded output it follows",
//!   "assumption": "optional: where AWS docs are silent, what we assumed",
//!   "clock": "system",                       // optional; default is virtual
//!   "definition": { ...ASL... },
//!   "input": { ... },
//!   "expect": { "status": "SUCCEEDED", "output": { ... } },
//!   // or: "expect": { "status": "FAILED", "error": "States.Runtime",
//!   //                 "cause": "exact cause", "cause_contains": "part of it" },
//!   "history_types": ["ExecutionStarted", "PassStateEntered", ...] }
//! ```
//!
//! A distributed Map case (under `distributed_map/`) also names the AWS
//! page it follows in `"source"` (a URL), and may give its object store's
//! contents before the run and check them after (a directory per bucket;
//! a JSON value is stored as its JSON text, a string as itself):
//!
//! ```json
//!   "objects": { "bucket": { "key.json": [1, 2], "rows.csv": "a,b\n1,2\n" } },
//!   "expect_objects": { "bucket": { "out/<uuid>/manifest.json": { ... } } },
//!   "map_runs": [ { "status": "SUCCEEDED", "executions": { "succeeded": 2 },
//!                   "items": { "succeeded": 2 } } ],
//!   "child_history_types": ["ExecutionStarted", ...]
//! ```
//!
//! Map Run and child execution ids are random, so every UUID in the
//! output, in object keys and contents is compared as `<uuid>`.
//! `map_runs` lists the execution's Map Runs (oldest first) with the
//! counts DescribeMapRun shows (a count not named must be 0, and
//! `redrive_count` is named only when the run was redriven);
//! `child_history_types` is the history of its first child execution.
//!
//! A case may go on with a redrive (RedriveExecution) once the execution
//! has ended as `expect` says: `"redrive"` holds what to check after the
//! redriven execution ends, with the same keys (`expect`, `history_types`,
//! `map_runs`, `expect_objects`, `child_history_types`); `history_types`
//! there is the whole history, both attempts.
//!
//! A case may create more state machines before its own, each under its
//! name (`arn:aws:states:us-east-1:123456789012:stateMachine:NAME`), for
//! its definition to start as nested executions:
//!
//! ```json
//!   "state_machines": { "child": { ...ASL... } },
//! ```
//!
//! and may pin single history events without listing them all:
//! `history_events` is a list of partial events, each of which must be
//! matched, in order, by a later event of the history that has every
//! member the partial one has, with equal values (objects compared the
//! same way, member by member; UUIDs redacted as in the output):
//!
//! ```json
//!   "history_events": [ { "type": "TaskScheduled",
//!       "taskScheduledEventDetails": { "resourceType": "events", "resource": "putEvents" } } ]
//! ```
//!
//! Every key of `expect` but `status` is optional; `"error": null` or
//! `"cause": null` says the execution must have none (AWS omits an absent
//! error or cause rather than sending an empty string); `history_types`, when
//! present, is the exact sequence of history event types. Whatever else a
//! case says, the runner always checks that replaying the execution's
//! journal rebuilds exactly the stored history.
//!
//! A validation case has `errors` instead of `input`/`expect`: the exact set
//! (order-insensitive) of `/pointer: message` strings that
//! `zoomvault_asl::definition::parse_str` reports for the definition, or an
//! empty array for a definition that must be accepted. It may also have
//! `aws`: the exact set of the same problems as AWS words them in an
//! `InvalidDefinition` message (`DefinitionError::aws_text`, e.g.
//! `MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next`),
//! which pins each problem's code and location too.
//!
//! # Handlers
//!
//! Each case's engine has these Lambda functions, called as
//! `arn:aws:lambda:us-east-1:123456789012:function:NAME` or through
//! `arn:aws:states:::lambda:invoke` with `FunctionName`:
//!
//! - `echo` returns its input.
//! - `fail` fails with error `input.error` (default `Test.Failed`) and cause
//!   `input.cause` (default empty).
//! - `fail_times` fails with `input.error` (default `Test.Transient`) the
//!   first `input.times` calls for the same execution and `input.id`, then
//!   returns its input.
//! - `fail_first` does the same counting the calls for the same `input.id`
//!   in any execution of the case (a Map Run's child started again is a
//!   new execution), and counts every call in `calls.<id>` for
//!   `fail_first_calls` (a case's top-level or `redrive` key: the exact
//!   number of calls per id by the end of that part).
//! - `sleep` first moves a virtual clock forward by `input.advance_ms` (if
//!   given), then waits `input.ms` milliseconds of real time, then returns
//!   its input. The virtual clock stands still while a task is in flight,
//!   so a task timeout is made deterministic by the task itself pushing
//!   time past its deadline and then staying in flight long enough for the
//!   driver (which looks at its timers every 50 ms of real time while tasks
//!   run) to notice.
//! - `add` returns `input.a + input.b`.
//! - `big` returns a string of `input.bytes` (default 0) `x` characters, to
//!   reach Step Functions' payload limit without a case file that size;
//!   or, given `input.items`, the array `[0, 1, ..., items - 1]`.
//!
//! A suite's [`Extension`] registers more handlers on each case's engine
//! (the service integrations, on adapters in the case's temporary
//! directory), is handed the engine once it is open, and may check what
//! the execution left in those adapters against keys of the case that only
//! it reads.
//!
//! Every case passes: a behaviour where the engine still differs from
//! AWS has no case until it is fixed, and is listed as a known difference
//! in ARCHITECTURE.md instead.

// Each suite uses only part of this module.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zoomvault_asl::Failure;
use zoomvault_engine::{Clock, Engine, EngineConfig, Handlers, Status};

/// Virtual time every case starts at: 2023-11-14T22:13:20Z.
const VIRTUAL_START_MS: i64 = 1_700_000_000_000;

/// Longest a case may run before it is reported as hung.
const CASE_DEADLINE: Duration = Duration::from_secs(30);

/// The name of every case's state machine and execution, so `$$` values are
/// predictable.
const STATE_MACHINE_NAME: &str = "conformance";
const EXECUTION_NAME: &str = "case";

/// One suite: where its cases are and what it adds to the engine.
pub struct Suite<'a> {
    /// The directory whose JSON files (at any depth) are the cases.
    pub root: PathBuf,
    /// Cases under these subdirectories (relative to `root`; `""` is every
    /// case) must name the AWS page they follow in `"source"`.
    pub sources_required_under: &'a [&'a str],
    pub extension: &'a dyn Extension,
}

/// Where one case's engine keeps its files.
pub struct CaseSetup<'a> {
    /// The case file, parsed.
    pub case: &'a Value,
    /// The case's own temporary directory.
    pub dir: &'a Path,
    /// Where the case's buckets are, a directory each (see `objects`).
    pub buckets: &'a Path,
}

/// What a suite adds to every case's engine.
pub trait Extension: Sync {
    /// Registers the suite's handlers on one case's engine, before it
    /// opens; an error is reported as the case's failure.
    fn prepare(
        &self,
        setup: &CaseSetup<'_>,
        handlers: &mut Handlers,
    ) -> Result<Box<dyn CaseExtension>, String>;
}

/// The suite's part of one case.
pub trait CaseExtension: Send {
    /// The case's engine is open; nothing has started yet.
    fn opened(&mut self, _engine: &Engine) {}

    /// After the execution ended: what differs from the case's own keys
    /// about what the extension's adapters hold.
    fn check<'a>(
        &'a self,
        _case: &'a Value,
    ) -> Pin<Box<dyn Future<Output = Vec<String>> + Send + 'a>> {
        Box::pin(async { Vec::new() })
    }
}

/// The engine's own suite adds nothing.
pub struct NoExtension;

struct Nothing;

impl CaseExtension for Nothing {}

impl Extension for NoExtension {
    fn prepare(
        &self,
        _: &CaseSetup<'_>,
        _: &mut Handlers,
    ) -> Result<Box<dyn CaseExtension>, String> {
        Ok(Box::new(Nothing))
    }
}

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            case_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
}

/// Calls of `fail_first` by `input.id` (as JSON text), for one case.
type CallsById = Arc<Mutex<HashMap<String, u64>>>;

/// Counts one more call under `key`; the count with this one.
fn count_call<K: std::hash::Hash + Eq>(calls: &Mutex<HashMap<K, u64>>, key: K) -> u64 {
    let mut calls = calls.lock().unwrap_or_else(|e| e.into_inner());
    let n = calls.entry(key).or_insert(0);
    *n += 1;
    *n
}

/// What `fail_times` and `fail_first` answer to their `call`th call: the
/// first `input.times` (default `default_times`) fail with `input.error`
/// (default `Test.Transient`), the others return the input.
async fn failing_calls(input: Value, call: u64, default_times: u64) -> Result<Value, Failure> {
    let times = input["times"].as_u64().unwrap_or(default_times);
    if call <= times {
        let error = input["error"].as_str().unwrap_or("Test.Transient");
        Err(Failure::new(
            error,
            format!("call {call} of {times} failing"),
        ))
    } else {
        Ok(input)
    }
}

fn handlers(clock: &Clock, calls_by_id: &CallsById) -> Handlers {
    let mut h = Handlers::new();
    h.register("echo", |req| async move { Ok(req.input) });
    h.register("fail", |req| async move {
        let error = req.input["error"].as_str().unwrap_or("Test.Failed");
        let cause = req.input["cause"].as_str().unwrap_or("");
        Err(Failure::new(error, cause))
    });
    let calls: Arc<Mutex<HashMap<(String, String), u64>>> = Arc::default();
    h.register("fail_times", move |req| {
        let key = (req.execution_arn.clone(), req.input["id"].to_string());
        let call = count_call(&calls, key);
        failing_calls(req.input, call, 0)
    });
    let first = Arc::clone(calls_by_id);
    h.register("fail_first", move |req| {
        let call = count_call(&first, req.input["id"].to_string());
        failing_calls(req.input, call, 1)
    });
    let clock = clock.clone();
    h.register("sleep", move |req| {
        if let Some(advance) = req.input["advance_ms"].as_i64() {
            clock.advance_to(clock.now_ms() + advance);
        }
        async move {
            let ms = req.input["ms"].as_u64().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(req.input)
        }
    });
    h.register("big", |req| async move {
        if let Some(items) = req.input["items"].as_u64() {
            return Ok(Value::Array((0..items).map(Value::from).collect()));
        }
        let bytes = req.input["bytes"].as_u64().unwrap_or(0);
        Ok(Value::String("x".repeat(bytes as usize)))
    });
    h.register("add", |req| async move {
        match (req.input["a"].as_f64(), req.input["b"].as_f64()) {
            (Some(_), Some(_)) if req.input["a"].is_i64() && req.input["b"].is_i64() => {
                let a = req.input["a"].as_i64().unwrap_or_default();
                let b = req.input["b"].as_i64().unwrap_or_default();
                Ok(json!(a + b))
            }
            (Some(a), Some(b)) => Ok(json!(a + b)),
            _ => Err(Failure::new("Test.BadInput", "add needs numbers a and b")),
        }
    });
    h
}

fn temp_db(index: usize) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "zoomvault-conformance-{}-{index}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create a temp directory");
    dir.join("engine.db")
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Runs a validation case; returns what differs, if anything.
fn check_validation(case: &Value) -> Vec<String> {
    let expected: BTreeSet<String> = case["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    let reported = zoomvault_asl::definition::parse_str(&case["definition"].to_string())
        .err()
        .unwrap_or_default();
    let actual: BTreeSet<String> = reported.iter().map(|e| e.to_string()).collect();
    let mut diff = set_diff("definition errors", &expected, &actual);
    if let Some(aws) = case.get("aws").and_then(Value::as_array) {
        let expected: BTreeSet<String> = aws
            .iter()
            .map(|e| e.as_str().unwrap_or_default().to_string())
            .collect();
        let actual: BTreeSet<String> = reported.iter().map(|e| e.aws_text()).collect();
        diff.extend(set_diff("AWS's texts", &expected, &actual));
    }
    diff
}

/// What differs between two sets of messages, if anything.
fn set_diff(what: &str, expected: &BTreeSet<String>, actual: &BTreeSet<String>) -> Vec<String> {
    if expected == actual {
        return Vec::new();
    }
    let mut diff = vec![format!("{what} differ:")];
    diff.extend(
        expected
            .difference(actual)
            .map(|e| format!("  - expected, not reported: {e}")),
    );
    diff.extend(
        actual
            .difference(expected)
            .map(|e| format!("  + reported, not expected: {e}")),
    );
    diff
}

/// Runs an execution case; returns what differs, if anything.
async fn check_execution(index: usize, case: &Value, extension: &dyn Extension) -> Vec<String> {
    let clock = match case["clock"].as_str() {
        Some("system") => Clock::System,
        _ => Clock::virtual_at(VIRTUAL_START_MS),
    };
    let db = temp_db(index);
    let buckets = db.with_file_name("buckets");
    if let Err(e) = put_objects(&buckets, case.get("objects")) {
        return vec![format!("objects could not be stored: {e}")];
    }
    let mut config = EngineConfig::new(db.clone());
    config.clock = clock.clone();
    config.objects = Arc::new(zoomvault_engine::DirectoryObjects::new(&buckets));
    let calls_by_id = CallsById::default();
    let mut handlers = handlers(&clock, &calls_by_id);
    let setup = CaseSetup {
        case,
        dir: db.parent().unwrap_or(Path::new(".")),
        buckets: &buckets,
    };
    let mut extended = match extension.prepare(&setup, &mut handlers) {
        Ok(x) => x,
        Err(e) => return vec![format!("the suite's extension failed: {e}")],
    };
    let engine = match Engine::open(config, handlers) {
        Ok(e) => e,
        Err(e) => return vec![format!("engine did not open: {e}")],
    };
    extended.opened(&engine);
    for (name, definition) in case
        .get("state_machines")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Err(e) = engine.create_state_machine(name, &definition.to_string(), None) {
            return vec![format!("state machine {name} was not created: {e}")];
        }
    }
    let sm = match engine.create_state_machine(
        STATE_MACHINE_NAME,
        &case["definition"].to_string(),
        None,
    ) {
        Ok(sm) => sm,
        Err(e) => return vec![format!("state machine was not created: {e}")],
    };
    let input = case.get("input").cloned().unwrap_or_else(|| json!({}));
    let started = match engine
        .start_execution(&sm.arn, Some(EXECUTION_NAME), input)
        .await
    {
        Ok(s) => s,
        Err(e) => return vec![format!("execution did not start: {e}")],
    };
    let arn = started.execution_arn;
    let mut diff = check_part(&engine, &arn, case, &buckets, &calls_by_id, &*extended).await;
    if let Some(redrive) = case.get("redrive") {
        if let Err(e) = engine.redrive_execution(&arn).await {
            diff.push(format!("redrive was refused: {e}"));
            return diff;
        }
        let more = check_part(&engine, &arn, redrive, &buckets, &calls_by_id, &*extended).await;
        diff.extend(more.into_iter().map(|d| format!("after the redrive: {d}")));
    }
    diff
}

/// Waits for the execution to end, then checks it as `part` (the case, or
/// its `redrive`) says; returns what differs, if anything.
async fn check_part(
    engine: &Engine,
    arn: &str,
    part: &Value,
    buckets: &Path,
    calls_by_id: &CallsById,
    extended: &dyn CaseExtension,
) -> Vec<String> {
    let case = part;
    let row = match tokio::time::timeout(CASE_DEADLINE, engine.wait_for(arn)).await {
        Ok(Ok(row)) => row,
        Ok(Err(e)) => return vec![format!("wait_for failed: {e}")],
        Err(_) => return vec![format!("execution did not end within {CASE_DEADLINE:?}")],
    };
    let history = match engine.history(arn) {
        Ok(h) => h,
        Err(e) => return vec![format!("history failed: {e}")],
    };
    let mut diff = Vec::new();
    match engine.replay_history(arn) {
        Ok(replayed) if replayed == history => {}
        Ok(replayed) => diff.push(format!(
            "replaying the journal gave a different history:\n  stored:   {}\n  replayed: {}",
            Value::Array(history.clone()),
            Value::Array(replayed)
        )),
        Err(e) => diff.push(format!("replay failed: {e}")),
    }

    let expect = &case["expect"];
    let field = |name: &str, actual: Option<&str>, diff: &mut Vec<String>| {
        let want = match expect.get(name) {
            None => return,
            Some(Value::Null) => None,
            Some(v) => v.as_str(),
        };
        if actual != want {
            diff.push(format!("{name}: expected {want:?}, got {actual:?}"));
        }
    };
    field("status", Some(row.status.api_name()), &mut diff);
    field("error", row.error.as_deref(), &mut diff);
    field("cause", row.cause.as_deref(), &mut diff);
    if let Some(part) = expect.get("cause_contains").and_then(Value::as_str) {
        if !row.cause.as_deref().unwrap_or_default().contains(part) {
            diff.push(format!(
                "cause: expected it to contain {part:?}, got {:?}",
                row.cause
            ));
        }
    }
    if let Some(want) = expect.get("output") {
        let got = row.output.as_deref().map(|o| {
            zoomvault_asl::limits::parse_json::<Value>(o).unwrap_or(Value::String(o.into()))
        });
        let got = got.map(redact_uuids);
        if got.as_ref() != Some(want) {
            diff.push(format!(
                "output differs:\n  expected: {}\n  got:      {}",
                pretty(want).replace('\n', "\n            "),
                got.as_ref()
                    .map(pretty)
                    .unwrap_or_else(|| "(none)".into())
                    .replace('\n', "\n            ")
            ));
        }
    }
    if row.status != Status::Succeeded && !diff.is_empty() {
        // Show what ended the execution, to make a mismatch readable.
        diff.push(format!(
            "(execution ended {} with error {:?}, cause {:?})",
            row.status, row.error, row.cause
        ));
    }
    if let Some(want) = case.get("expect_objects") {
        diff.extend(check_objects(buckets, want));
    }
    if let Some(want) = case.get("map_runs") {
        diff.extend(check_map_runs(engine, arn, want));
    }
    if let Some(want) = case.get("child_history_types") {
        diff.extend(check_child_history(engine, arn, want));
    }
    if let Some(want) = case.get("fail_first_calls") {
        let got: serde_json::Map<String, Value> = calls_by_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(id, n)| (id.trim_matches('"').to_string(), json!(n)))
            .collect();
        let got = Value::Object(got);
        if &got != want {
            diff.push(format!(
                "fail_first calls differ:\n  expected: {want}\n  got:      {got}"
            ));
        }
    }
    if let Some(want) = case.get("history_events").and_then(Value::as_array) {
        diff.extend(check_history_events(&history, want));
    }
    diff.extend(extended.check(case).await);
    if let Some(want) = case.get("history_types").and_then(Value::as_array) {
        let got: Vec<Value> = history.iter().map(|e| e["type"].clone()).collect();
        if &got != want {
            diff.push(format!(
                "history types differ:\n  expected: {}\n  got:      {}",
                Value::Array(want.clone()),
                Value::Array(got)
            ));
        }
    }
    diff
}

/// Whether `event` has every member `partial` has, with equal values
/// (objects compared member by member the same way).
pub fn matches_partially(event: &Value, partial: &Value) -> bool {
    match (event, partial) {
        (Value::Object(e), Value::Object(p)) => p
            .iter()
            .all(|(k, v)| e.get(k).is_some_and(|ev| matches_partially(ev, v))),
        _ => event == partial,
    }
}

/// Each partial event in `want` must match a history event after the one
/// the previous partial event matched.
fn check_history_events(history: &[Value], want: &[Value]) -> Vec<String> {
    let mut events = history.iter().map(|e| redact_uuids(e.clone()));
    for partial in want {
        if !events.any(|e| matches_partially(&e, partial)) {
            return vec![format!(
                "no history event (after the ones matched before it) matches {partial}; the history:\n  {}",
                history
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n  ")
            )];
        }
    }
    Vec::new()
}

/// Every UUID in `v`'s strings (and object keys) as `<uuid>`.
pub fn redact_uuids(v: Value) -> Value {
    fn text(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let b = s.as_bytes();
        let mut i = 0;
        while i < s.len() {
            if i + 36 <= s.len() && s.is_char_boundary(i) && s.is_char_boundary(i + 36) {
                let cand = &b[i..i + 36];
                let shape = cand.iter().enumerate().all(|(j, c)| {
                    if [8, 13, 18, 23].contains(&j) {
                        *c == b'-'
                    } else {
                        c.is_ascii_hexdigit()
                    }
                });
                if shape {
                    out.push_str("<uuid>");
                    i += 36;
                    continue;
                }
            }
            let c = s[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
        out
    }
    match v {
        Value::String(s) => Value::String(text(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(redact_uuids).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (text(&k), redact_uuids(v)))
                .collect(),
        ),
        other => other,
    }
}

fn put_objects(root: &Path, objects: Option<&Value>) -> std::io::Result<()> {
    std::fs::create_dir_all(root)?;
    let Some(Value::Object(buckets)) = objects else {
        return Ok(());
    };
    for (bucket, keys) in buckets {
        let dir = root.join(bucket);
        std::fs::create_dir_all(&dir)?;
        for (key, content) in keys.as_object().into_iter().flatten() {
            let path = dir.join(key);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let bytes = match content {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            std::fs::write(path, bytes)?;
        }
    }
    Ok(())
}

/// Compares the buckets' objects (every one, UUIDs redacted) with `want`.
fn check_objects(root: &Path, want: &Value) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                out.push((rel.to_string_lossy().replace('\\', "/"), p.clone()));
            }
        }
    }
    let mut got = serde_json::Map::new();
    for (bucket, _) in want.as_object().into_iter().flatten() {
        let dir = root.join(bucket);
        let mut files = Vec::new();
        walk(&dir, &dir, &mut files);
        let mut objects = serde_json::Map::new();
        for (key, path) in files {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            objects.insert(key, value);
        }
        got.insert(bucket.clone(), Value::Object(objects));
    }
    let got = redact_uuids(Value::Object(got));
    if &got == want {
        Vec::new()
    } else {
        vec![format!(
            "objects differ:\n  expected: {}\n  got:      {}",
            pretty(want).replace('\n', "\n            "),
            pretty(&got).replace('\n', "\n            ")
        )]
    }
}

fn check_map_runs(engine: &Engine, arn: &str, want: &Value) -> Vec<String> {
    let runs = match engine.list_map_runs(arn) {
        Ok(r) => r,
        Err(e) => return vec![format!("list_map_runs failed: {e}")],
    };
    let mut got = Vec::new();
    for run in runs.iter().rev() {
        let d = match engine.describe_map_run(&run.arn) {
            Ok(d) => d,
            Err(e) => return vec![format!("describe_map_run failed: {e}")],
        };
        let counts = |c: &zoomvault_engine::MapRunCounts| {
            let mut m = serde_json::Map::new();
            for (name, n) in [
                ("running", c.running),
                ("succeeded", c.succeeded),
                ("failed", c.failed),
                ("timed_out", c.timed_out),
                ("aborted", c.aborted),
                ("pending_redrive", c.pending_redrive),
            ] {
                if n > 0 {
                    m.insert(name.into(), json!(n));
                }
            }
            Value::Object(m)
        };
        let mut run = json!({
            "status": d.row.status,
            "executions": counts(&d.executions),
            "items": counts(&d.items),
        });
        if d.row.redrive_count > 0 {
            run["redrive_count"] = json!(d.row.redrive_count);
        }
        got.push(run);
    }
    let got = Value::Array(got);
    if &got == want {
        Vec::new()
    } else {
        vec![format!(
            "map runs differ:\n  expected: {want}\n  got:      {got}"
        )]
    }
}

fn check_child_history(engine: &Engine, arn: &str, want: &Value) -> Vec<String> {
    let first_child = engine
        .list_map_runs(arn)
        .ok()
        .and_then(|runs| runs.last().cloned())
        .and_then(|run| {
            engine
                .list_map_run_executions(&run.arn, None, None, 10_000)
                .ok()
        })
        .and_then(|children| children.last().cloned());
    let Some(child) = first_child else {
        return vec!["no child execution".into()];
    };
    let mut diff = Vec::new();
    match (
        engine.history(&child.arn),
        engine.replay_history(&child.arn),
    ) {
        (Ok(h), Ok(replayed)) => {
            if h != replayed {
                diff.push("the child's journal replays to a different history".into());
            }
            let got = Value::Array(h.iter().map(|e| e["type"].clone()).collect());
            if &got != want {
                diff.push(format!(
                    "child history types differ:\n  expected: {want}\n  got:      {got}"
                ));
            }
        }
        (Err(e), _) | (_, Err(e)) => diff.push(format!("child history failed: {e}")),
    }
    diff
}

/// Runs every case of `suite` and panics listing the ones that failed.
pub async fn run(suite: &Suite<'_>) {
    let root = &suite.root;
    let mut files = Vec::new();
    case_files(root, &mut files);
    assert!(!files.is_empty(), "no cases under {}", root.display());

    let mut failures = Vec::new();
    for (index, path) in files.iter().enumerate() {
        let name = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let case: Value = match zoomvault_asl::limits::parse_json(&text) {
            Ok(c) => c,
            Err(e) => {
                failures.push((name, vec![format!("case file is not JSON: {e}")]));
                continue;
            }
        };
        let needs_source = suite
            .sources_required_under
            .iter()
            .any(|dir| name.starts_with(dir));
        let diff = if needs_source
            && !case
                .get("source")
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("https://docs.aws.amazon.com/"))
        {
            vec!["a case here names the AWS page it follows in \"source\"".into()]
        } else if case.get("errors").is_some() {
            check_validation(&case)
        } else if case.get("expect").is_some() {
            check_execution(index, &case, suite.extension).await
        } else {
            vec!["a case needs \"expect\" or \"errors\"".to_string()]
        };
        if !diff.is_empty() {
            failures.push((name, diff));
        }
    }

    for (name, diff) in &failures {
        eprintln!("FAIL {name}");
        for line in diff {
            eprintln!("    {}", line.replace('\n', "\n    "));
        }
    }
    eprintln!(
        "conformance: {} passed, {} failed",
        files.len() - failures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} conformance case(s) failed: {}",
        failures.len(),
        failures
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
}
