//! The deterministic core of an execution: `apply(fact) -> actions`.
//!
//! An execution's state is a tree of runs: the top-level machine is run 0;
//! each Parallel branch and Map iteration is a child run. A `Fact` is
//! something that happened outside (the execution started, a task returned,
//! a timer fired, a stop was requested), stamped with the time it was
//! journaled. Applying a fact advances every run it unblocks as far as it
//! can without the outside world, records Step Functions history events, and
//! returns the `Action`s the driver must perform (run a task, arm a timer).
//!
//! No clock, I/O or randomness happens here: time is the fact's timestamp and
//! entropy is seeded from the execution's seed and the fact's sequence
//! number. Replaying the same facts therefore rebuilds the same state, the
//! same history and the same pending actions; that is how recovery works.
//! The seed is not a secret: `States.UUID`, `States.MathRandom` and retry
//! jitter show outputs of a generator that gives it away, so nothing that
//! must stay secret derives from it.
//!
//! A callback task (`.waitForTaskToken`) waits on after its handler hands
//! it over (`Fact::TaskSubmitted`) until a `TaskSucceeded`/`TaskFailed`
//! fact from SendTaskSuccess/Failure; `TaskHeartbeat` moves its
//! HeartbeatSeconds deadline. Its token, keyed by the execution's token
//! secret (see `task::task_token`), is in `$$.Task.Token` while its
//! Parameters are evaluated.
//!
//! The core is spread over files by job, all of them `impl Execution`:
//! this one holds the facts and actions, `apply` and the queries the driver
//! asks; `run` the tree of runs and their history chains; `states` the
//! state lifecycle and each state type's body; `task_state` Task states;
//! `fanout` Parallel branches and Map iterations; `failure` Retry, Catch
//! and timers; `redrive` what RedriveExecution runs again.

use crate::history::{json_text, with_data, with_failure, DataField, EventType, HistoryEvent};
use crate::task::{TaskInvocation, TaskTarget, TokenSecret};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use zoomvault_asl::body;
use zoomvault_asl::definition::{ContextUse, State, StateKind, StateMachine, Transition};
use zoomvault_asl::error::names;
use zoomvault_asl::lifecycle::{self, Env, Finished};
use zoomvault_asl::retry::{self, Recovery};
use zoomvault_asl::{Failure, SplitMix64};

mod failure;
mod fanout;
mod map_run;
mod redrive;
mod run;
mod states;
mod task_state;

use task_state::TaskFailure;

use fanout::MapProgress;
pub use map_run::{
    result_key, ChildRedrive, ChildStart, MapRunChange, MapRunUpdate, ReadItems, WriteResults,
};
use map_run::{MapRunProgress, MapRunStart};
use redrive::{StoppedRun, Unfinished};
use run::{AwaitedTask, Current, Frame, Run, RunId, TimerPurpose, Waiting, Work};

/// Something that happened outside the core, in journal order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fact")]
pub enum Fact {
    Started {
        input: Value,
    },
    TaskSucceeded {
        key: u64,
        output: Value,
    },
    TaskFailed {
        key: u64,
        error: String,
        cause: String,
    },
    TimerFired {
        key: u64,
    },
    Stopped {
        error: Option<String>,
        cause: Option<String>,
    },
    /// A callback (`.waitForTaskToken`) task was handed to its worker: its
    /// handler returned `output`, or (`None`) no handler is registered and
    /// the token waits in the history for a worker outside the engine.
    TaskSubmitted {
        key: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<Value>,
    },
    /// SendTaskHeartbeat for a callback task with `HeartbeatSeconds`.
    TaskHeartbeat {
        key: u64,
    },
    /// RedriveExecution: a FAILED, TIMED_OUT or ABORTED execution runs
    /// again from the state that did not succeed.
    Redriven,
    /// UpdateMapRun on one of the execution's running Map Runs.
    MapRunUpdated(MapRunUpdate),
}

/// What the driver must do after the facts that produced it are committed.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    RunTask(TaskInvocation),
    StartTimer {
        key: u64,
        due_ms: i64,
    },
    /// A distributed Map's ItemReader: read, then journal the items (or
    /// the failure) under its key.
    ReadItems(ReadItems),
    /// A distributed Map's child execution: started by the driver in the
    /// same transaction as the fact that caused it; its end is journaled
    /// in the parent under its key.
    StartChild(ChildStart),
    /// A redriven Map Run's STANDARD child that did not succeed: redriven
    /// by the driver in the same transaction as the fact that caused it;
    /// its end is journaled in the parent under its new key.
    RedriveChild(ChildRedrive),
    /// A child execution whose Map Run no longer waits for it: stopped.
    StopChild {
        execution_arn: String,
    },
    /// A distributed Map's ResultWriter: write, then journal under its key.
    WriteResults(WriteResults),
}

/// The state of a callback task, as SendTaskSuccess and kin see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackTask {
    /// Waiting for its token; `heartbeat` when it has HeartbeatSeconds.
    Awaited { heartbeat: bool },
    /// It was a callback task, and it has ended (or its execution has).
    Closed,
    /// No callback task of this execution has this key.
    NotACallback,
}

/// An execution's status, as the Step Functions API names it. The journal
/// stores it (`ExecutionRow::status`); the core derives it from `End`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Running,
        Status::Succeeded,
        Status::Failed,
        Status::TimedOut,
        Status::Aborted,
    ];

    /// The name the Step Functions API uses.
    pub fn api_name(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }

    /// The status the API calls `name`, if it is one.
    pub fn from_api_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.api_name() == name)
    }

    pub fn is_terminal(self) -> bool {
        self != Status::Running
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.api_name())
    }
}

/// How a closed execution ended: its status with the output or failure
/// that goes with it.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    Succeeded { output: Value },
    Failed { failure: Failure },
    TimedOut { failure: Failure },
    Aborted { failure: Failure },
}

impl End {
    pub fn status(&self) -> Status {
        match self {
            End::Succeeded { .. } => Status::Succeeded,
            End::Failed { .. } => Status::Failed,
            End::TimedOut { .. } => Status::TimedOut,
            End::Aborted { .. } => Status::Aborted,
        }
    }

    /// The history event that closes the execution, with its details.
    fn event(&self) -> (EventType, Value) {
        let (event_type, failure) = match self {
            End::Succeeded { output } => {
                let d = with_data(Map::new(), DataField::Output, output);
                return (EventType::ExecutionSucceeded, Value::Object(d));
            }
            End::Failed { failure } => (EventType::ExecutionFailed, failure),
            End::TimedOut { failure } => (EventType::ExecutionTimedOut, failure),
            End::Aborted { failure } => (EventType::ExecutionAborted, failure),
        };
        (event_type, Value::Object(with_failure(Map::new(), failure)))
    }
}

/// Identity of an execution, fixed at start.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionInfo {
    pub execution_arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    pub start_ms: i64,
    /// Entropy for what the ASL makes random; not secret.
    pub seed: u64,
    /// What the execution's task tokens are signed with.
    pub token_secret: TokenSecret,
}

/// A definition with every nested machine (branches, item processors)
/// numbered, so a run can name its machine by index.
#[derive(Debug)]
pub struct Compiled {
    machines: Vec<StateMachine>,
    /// machine -> state name -> the child machines of a Parallel or Map.
    /// Nested by machine so a lookup borrows the state name.
    children: Vec<FxHashMap<String, Vec<usize>>>,
}

impl Compiled {
    pub fn new(root: StateMachine) -> Compiled {
        let mut c = Compiled {
            machines: Vec::new(),
            children: Vec::new(),
        };
        c.add(root);
        c
    }

    fn add(&mut self, machine: StateMachine) -> usize {
        let id = self.machines.len();
        self.machines.push(machine.clone());
        self.children.push(FxHashMap::default());
        for (name, state) in &machine.states {
            let subs: Vec<StateMachine> = match &state.kind {
                StateKind::Parallel(p) => p.branches.clone(),
                StateKind::Map(m) => vec![m.processor.clone()],
                _ => continue,
            };
            let ids = subs.into_iter().map(|m| self.add(m)).collect();
            self.children[id].insert(name.clone(), ids);
        }
        id
    }

    /// The child machines of the Parallel or Map state `state` of `machine`.
    fn children_of(&self, machine: usize, state: &str) -> &[usize] {
        &self.children[machine][state]
    }

    pub fn root(&self) -> &StateMachine {
        &self.machines[0]
    }
}

/// One execution's state, rebuilt from its facts.
#[derive(Debug)]
pub struct Execution {
    pub info: ExecutionInfo,
    compiled: Arc<Compiled>,
    input: Value,
    runs: FxHashMap<RunId, Run>,
    next_run: RunId,
    next_key: u64,
    next_event: u64,
    tasks: FxHashMap<u64, RunId>,
    /// Every callback task ever scheduled, awaited or not, so a late
    /// SendTaskSuccess can be told apart from one for a task that never
    /// waited for a token.
    callbacks: FxHashSet<u64>,
    timers: FxHashMap<u64, TimerPurpose>,
    /// `None` while the execution runs (again, after a redrive).
    end: Option<End>,
    facts_applied: u64,
    redrive_count: u32,
    redrive_ms: Option<i64>,
    /// States entered so far (a retry is not a new transition).
    pub transitions: u64,
    /// What aborting a Map Run produced where no `Ctx` is at hand; added
    /// to the fact's output when its apply is over.
    deferred: Applied,
}

/// What applying one fact produced.
#[derive(Debug, Default)]
pub struct Applied {
    pub events: Vec<HistoryEvent>,
    pub actions: Vec<Action>,
    /// Map Runs started, updated or ended (their rows in the journal).
    pub map_runs: Vec<MapRunChange>,
}

struct Ctx<'a> {
    now: i64,
    entropy: SplitMix64,
    out: &'a mut Applied,
}

pub fn fmt_ms(ms: i64) -> String {
    zoomvault_asl::timestamp::format(from_ms(ms))
}

pub fn from_ms(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

pub fn to_ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

impl Execution {
    pub fn new(info: ExecutionInfo, compiled: Arc<Compiled>) -> Execution {
        Execution {
            info,
            compiled,
            input: Value::Null,
            runs: FxHashMap::default(),
            next_run: 0,
            next_key: 1,
            next_event: 1,
            tasks: FxHashMap::default(),
            callbacks: FxHashSet::default(),
            timers: FxHashMap::default(),
            end: None,
            facts_applied: 0,
            redrive_count: 0,
            redrive_ms: None,
            transitions: 0,
            deferred: Applied::default(),
        }
    }

    pub fn status(&self) -> Status {
        self.end.as_ref().map_or(Status::Running, End::status)
    }

    /// How the execution ended; `None` while it runs.
    pub fn end(&self) -> Option<&End> {
        self.end.as_ref()
    }

    pub fn input(&self) -> &Value {
        &self.input
    }

    /// Applies one fact stamped `now_ms`. Facts for tasks or timers that are
    /// no longer awaited (a late result after a timeout, a timer of an
    /// aborted branch) change nothing.
    pub fn apply(&mut self, fact: &Fact, now_ms: i64) -> Applied {
        let mut out = Applied::default();
        let seed = self.info.seed ^ self.facts_applied.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.facts_applied += 1;
        let mut cx = Ctx {
            now: now_ms,
            entropy: SplitMix64(seed),
            out: &mut out,
        };
        if self.end.is_some() && !matches!(fact, Fact::Redriven) {
            return out;
        }
        let mut work = Vec::new();
        match fact {
            Fact::Started { input } => self.start(input, &mut cx, &mut work),
            Fact::TaskSucceeded { key, output } => {
                if let Some(run) = self.tasks.remove(key) {
                    if self.in_map_run(run) {
                        self.map_run_task_ended(run, *key, Ok(output.clone()), &mut cx, &mut work);
                    } else {
                        self.task_succeeded(run, output.clone(), &mut cx, &mut work);
                    }
                }
            }
            Fact::TaskFailed { key, error, cause } => {
                if let Some(run) = self.tasks.remove(key) {
                    let failure = Failure::new(error.clone(), cause.clone());
                    if self.in_map_run(run) {
                        self.map_run_task_ended(run, *key, Err(failure), &mut cx, &mut work);
                    } else {
                        self.task_failed(run, failure, TaskFailure::Failed, &mut cx, &mut work);
                    }
                }
            }
            Fact::MapRunUpdated(update) => self.update_map_run(update, &mut cx),
            Fact::TimerFired { key } => {
                if let Some(purpose) = self.timers.remove(key) {
                    self.timer_fired(purpose, &mut cx, &mut work);
                }
            }
            Fact::Stopped { error, cause } => {
                let failure = Failure::new(
                    error.clone().unwrap_or_default(),
                    cause.clone().unwrap_or_default(),
                );
                self.finish(End::Aborted { failure }, &mut cx);
            }
            Fact::TaskSubmitted { key, output } => {
                if let Some(run) = self.tasks.get(key).copied() {
                    self.task_submitted(run, output.as_ref(), &mut cx);
                }
            }
            Fact::TaskHeartbeat { key } => {
                if let Some(run) = self.tasks.get(key).copied() {
                    self.task_heartbeat(run, *key, &mut cx);
                }
            }
            Fact::Redriven => self.redrive(&mut cx, &mut work),
        }
        self.drain(&mut work, &mut cx);
        let deferred = std::mem::take(&mut self.deferred);
        out.actions.extend(deferred.actions);
        out.map_runs.extend(deferred.map_runs);
        out
    }

    fn start(&mut self, input: &Value, cx: &mut Ctx, work: &mut Vec<Work>) {
        self.input = input.clone();
        let root = self.new_run(0, None, Map::new(), None);
        let details = with_data(Map::new(), DataField::Input, input);
        let mut details = details;
        details.insert("roleArn".into(), json!(self.info.role_arn));
        self.event(
            root,
            EventType::ExecutionStarted,
            Some(Value::Object(details)),
            cx,
        );
        self.arm_execution_timeout(cx);
        let start = self.compiled.root().start_at.clone();
        work.push(Work::Enter {
            run: root,
            state: start,
            input: input.clone(),
            unfinished: None,
        });
    }

    /// Starts the state machine's TimeoutSeconds, if it has one, from now.
    fn arm_execution_timeout(&mut self, cx: &mut Ctx) {
        if let Some(timeout) = self.compiled.root().timeout_seconds {
            let key = self.key();
            self.timers.insert(key, TimerPurpose::ExecutionTimeout);
            cx.out.actions.push(Action::StartTimer {
                key,
                due_ms: cx.now + (timeout as i64) * 1000,
            });
        }
    }

    /// The execution ends as `end` says.
    fn finish(&mut self, end: End, cx: &mut Ctx) {
        // A Parallel or Map state the root run is in (it failed, or the
        // execution stops in it) keeps what its children did, for a
        // redrive. Every other run is aborted; every wait forgotten.
        // A Map Run anywhere in the execution is aborted, its children
        // stopped.
        let in_map_runs: Vec<RunId> = self
            .runs
            .keys()
            .copied()
            .filter(|r| self.in_map_run(*r))
            .collect();
        for run in in_map_runs {
            self.abort_map_run(run);
        }
        let waiting = self.take_waiting(0);
        if let Some(unfinished) = waiting.and_then(|w| self.unfinished_of(w)) {
            self.set_waiting(0, Waiting::Unfinished(unfinished));
        }
        let ids: Vec<RunId> = self.runs.keys().copied().filter(|r| *r != 0).collect();
        for id in ids {
            self.abort_run(id);
        }
        self.tasks.clear();
        self.timers.clear();
        let (event_type, details) = end.event();
        self.event(0, event_type, Some(details), cx);
        self.end = Some(end);
    }

    /// Whether the task (or Map Run reader, child or writer) with this key
    /// is still awaited: a fact about one that is not would change nothing.
    pub fn awaits_task(&self, key: u64) -> bool {
        self.end.is_none() && self.tasks.contains_key(&key)
    }

    pub fn pending_task_keys(&self) -> impl Iterator<Item = &u64> {
        self.tasks.keys()
    }

    /// Awaited tasks whose handler has not (as far as the journal knows)
    /// taken them: what recovery dispatches again. A callback task with a
    /// recorded TaskSubmitted waits for its token, not for a handler.
    pub fn tasks_to_dispatch(&self) -> impl Iterator<Item = u64> + '_ {
        self.tasks.iter().filter_map(|(key, run)| {
            let submitted = matches!(
                self.waiting(*run),
                Some(Waiting::Task(AwaitedTask {
                    submitted: true,
                    ..
                }))
            );
            (!submitted).then_some(*key)
        })
    }

    /// What a SendTaskSuccess/Failure/Heartbeat for task `key` finds.
    pub fn callback_task(&self, key: u64) -> CallbackTask {
        if !self.callbacks.contains(&key) {
            CallbackTask::NotACallback
        } else if self.tasks.contains_key(&key) && self.end.is_none() {
            let heartbeat = self
                .tasks
                .get(&key)
                .and_then(|run| self.runs.get(run))
                .and_then(|r| r.frame.as_ref())
                .is_some_and(|f| {
                    matches!(
                        f.waiting,
                        Waiting::Task(AwaitedTask {
                            heartbeat_seconds: Some(_),
                            ..
                        })
                    )
                });
            CallbackTask::Awaited { heartbeat }
        } else {
            CallbackTask::Closed
        }
    }

    /// Whether a timer with this key would still do something if it fired.
    pub fn awaits_timer(&self, key: u64) -> bool {
        self.timers.contains_key(&key)
    }

    pub fn redrive_count(&self) -> u32 {
        self.redrive_count
    }

    pub fn pending_timer_keys(&self) -> impl Iterator<Item = &u64> {
        self.timers.keys()
    }
}
