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
//! `Fact::Redriven` (RedriveExecution) reopens a FAILED, TIMED_OUT or
//! ABORTED execution: an `ExecutionRedriven` event continues the history,
//! `$$.Execution.RedriveCount` goes up, the state machine's TimeoutSeconds
//! counts again from the redrive, and the top-level state that did not
//! succeed is entered again with the input it had, its retries counted from
//! zero; the states before it are not run again.
//!
//! When that state is a Parallel or inline Map, it runs again only the
//! branches and iterations that did not succeed (they failed, or were
//! aborted because a sibling failed or the execution stopped or timed out),
//! as AWS documents for RedriveExecution; the others keep their outputs,
//! and the state's result is assembled from kept and new outputs in branch
//! or item order. Each branch or iteration that runs again is redriven like
//! the execution: it resumes at the state it stopped in, with that state's
//! input and the variables it had then, so a failed iteration whose inner
//! Parallel had one good branch reruns only the bad branch. One that never
//! entered a state (not started yet under MaxConcurrency, or its
//! ItemSelector failed) starts afresh: a Map item with the same index and
//! value and its ItemSelector evaluated again, a branch with the Parallel's
//! effective input. What this needs (`Unfinished`) is kept only when such a
//! state does not succeed, and replay rebuilds it from the journal like all
//! the rest.
//!
//! Assumed where AWS's docs are silent:
//! - A branch or iteration resumes where it stopped rather than at its
//!   first state: AWS says a redrive "continues the failed execution from
//!   the unsuccessful step" and does not rerun successful steps, and a Map
//!   Run redrives its Standard child workflows the same way.
//! - History: the state's Entered and Started events come again
//!   (MapStateStarted with the length of the whole item array), then
//!   MapIterationStarted and the events of the iterations and branches that
//!   run again only; a kept one adds no event.
//! - MaxConcurrency limits the iterations that run again, and the tolerated
//!   failure thresholds count this attempt's failed iterations against the
//!   whole item count. An iteration whose failure was tolerated did not
//!   succeed, so it runs again too.
//! - A Retry of the state, before or after a redrive, runs it again whole as
//!   a retry always has; so does a redrive of one that the execution stopped
//!   in while it waited to retry, or that failed in its own processing
//!   (ResultSelector, ResultPath, OutputPath) after all its children
//!   succeeded.
//! - Journals of engines that ran such a state again whole hold `Redriven`
//!   without `rerun` (`Rerun::Whole`) and replay as they ran.

use crate::history::{json_text, with_data, DataField, HistoryEvent};
use crate::task::{TaskInvocation, TaskTarget, TokenKey};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use zoomvault_asl::definition::{ContextUse, State, StateKind, StateMachine, Transition};
use zoomvault_asl::error::names;
use zoomvault_asl::lifecycle::{self, Env};
use zoomvault_asl::retry::{self, Recovery};
use zoomvault_asl::{Failure, SplitMix64};

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
    Redriven {
        /// Absent from the journals of engines that ran such a state again
        /// whole, so those replay as they ran.
        #[serde(default)]
        rerun: Rerun,
    },
}

/// What a redrive runs again of a Parallel or Map state that did not
/// succeed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rerun {
    /// The whole state, every branch and iteration: what engines before
    /// `Unsuccessful` journaled (never journaled now).
    #[default]
    Whole,
    /// Only the branches and iterations that did not succeed, as AWS does.
    Unsuccessful,
}

/// What the driver must do after the facts that produced it are committed.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    RunTask(TaskInvocation),
    StartTimer { key: u64, due_ms: i64 },
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

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Running,
    Succeeded { output: Value },
    Failed { failure: Failure },
    TimedOut { failure: Failure },
    Aborted { failure: Failure },
}

impl Status {
    /// The name the Step Functions API uses.
    pub fn api_name(&self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Succeeded { .. } => "SUCCEEDED",
            Status::Failed { .. } => "FAILED",
            Status::TimedOut { .. } => "TIMED_OUT",
            Status::Aborted { .. } => "ABORTED",
        }
    }

    pub fn is_terminal(&self) -> bool {
        !matches!(self, Status::Running)
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
    pub token_key: TokenKey,
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

type RunId = u64;

#[derive(Debug, Clone)]
struct Run {
    machine: usize,
    parent: Option<(RunId, usize)>,
    variables: Map<String, Value>,
    frame: Option<Frame>,
    /// The last history event of this run, for `previousEventId`.
    last_event: u64,
    /// `$$.Map.Item` for a Map iteration.
    map_item: Option<(usize, Value)>,
}

#[derive(Debug, Clone)]
struct Frame {
    state: String,
    raw_input: Value,
    entered_ms: i64,
    /// Retries made under each retrier of the state.
    retries: Vec<u64>,
    retry_count: u64,
    waiting: Waiting,
}

#[derive(Debug, Clone)]
enum Waiting {
    Nothing,
    Task {
        key: u64,
        timers: Vec<u64>,
        lambda_function: bool,
        resource_type: String,
        resource: String,
        /// A `.waitForTaskToken` task: SendTaskSuccess/Failure ends it.
        callback: bool,
        /// Its TaskSubmitted was recorded: the handler is not run again.
        submitted: bool,
        heartbeat_seconds: Option<u64>,
    },
    Retry {
        timer: u64,
    },
    Wait {
        timer: u64,
        effective_input: Value,
    },
    Parallel {
        /// By branch; `None` for a branch a redrive did not run again.
        children: Vec<Option<RunId>>,
        results: Vec<Option<Value>>,
        remaining: usize,
    },
    Map(Box<MapProgress>),
    /// The Parallel or Map state did not succeed: what its children left
    /// for a redrive.
    Unfinished(Box<Unfinished>),
}

#[derive(Debug, Clone)]
struct MapProgress {
    items: Vec<Value>,
    effective_input: Value,
    next: usize,
    max_concurrency: usize,
    active: BTreeMap<usize, RunId>,
    results: Vec<Value>,
    done: usize,
    failed: u64,
    tolerated_percentage: Option<f64>,
    tolerated_count: Option<u64>,
    first_failure: Option<Failure>,
    /// Iterations that failed in this attempt, with where each stopped.
    failed_items: Vec<(usize, Option<StoppedRun>)>,
    /// On a redrive, what the attempt before left: its succeeded items are
    /// skipped, its stopped ones resume where they stopped.
    redriven: Option<Box<Unfinished>>,
}

impl MapProgress {
    /// Moves `next` past the items a redrive keeps.
    fn skip_kept(&mut self) {
        if let Some(before) = &self.redriven {
            while before.succeeded.get(self.next) == Some(&true) {
                self.next += 1;
            }
        }
    }

    /// What this attempt leaves for a redrive, given where its iterations
    /// still active (`stopped_active`) stopped.
    fn into_unfinished(self, stopped_active: Vec<(usize, Option<StoppedRun>)>) -> Unfinished {
        let before = self.redriven.map(|b| *b);
        // Below `next` every item was run or kept; at and above it, only
        // those the attempt before kept have succeeded.
        let succeeded = (0..self.items.len())
            .map(|i| {
                i < self.next
                    || before
                        .as_ref()
                        .is_some_and(|b| b.succeeded.get(i) == Some(&true))
            })
            .collect();
        // Items the attempt before stopped that this one never reached
        // resume where they stopped then.
        let stopped = before.map(|b| b.stopped).unwrap_or_default();
        let mut unfinished = Unfinished {
            outputs: self.results,
            succeeded,
            stopped,
        };
        for (index, stopped) in self.failed_items.into_iter().chain(stopped_active) {
            unfinished.not_succeeded(index, stopped);
        }
        unfinished
    }
}

/// What a Parallel or Map state that did not succeed (it failed, or its
/// execution stopped or timed out in it) leaves for a redrive: the outputs
/// of its branches or iterations that succeeded and where each of the
/// others stopped. Built only then, so an execution that never fails keeps
/// nothing per child beyond a Map's results.
#[derive(Debug, Clone)]
struct Unfinished {
    /// By branch or item index; meaningful where `succeeded` is set.
    outputs: Vec<Value>,
    succeeded: Vec<bool>,
    /// Children that did not succeed after entering a state. The others
    /// (not started, or failed before their first state) start afresh.
    stopped: FxHashMap<usize, StoppedRun>,
}

impl Unfinished {
    fn not_succeeded(&mut self, index: usize, stopped: Option<StoppedRun>) {
        if let Some(s) = self.succeeded.get_mut(index) {
            *s = false;
        }
        if let Some(stopped) = stopped {
            self.stopped.insert(index, stopped);
        }
    }
}

/// A branch or iteration that did not succeed, as a redrive resumes it: in
/// the state it was in, with that state's input and the run's variables.
#[derive(Debug, Clone)]
struct StoppedRun {
    variables: Map<String, Value>,
    state: String,
    raw_input: Value,
    /// That state's own children, when it is a Parallel or Map.
    unfinished: Option<Box<Unfinished>>,
}

/// What a timer is for.
#[derive(Debug, Clone, PartialEq)]
enum TimerPurpose {
    Resume(RunId),
    TaskTimeout {
        run: RunId,
        task: u64,
        heartbeat: bool,
    },
    ExecutionTimeout,
}

/// Work the core does within one `apply`, kept on an explicit list so a
/// chain of 10,000 Pass states does not recurse 10,000 deep.
enum Work {
    Enter {
        run: RunId,
        state: String,
        input: Value,
        /// A redrive entering a Parallel or Map state again: what the
        /// attempt before left.
        unfinished: Option<Box<Unfinished>>,
    },
    Fail {
        run: RunId,
        failure: Failure,
    },
    RunEnded {
        run: RunId,
        outcome: Result<Value, Failure>,
    },
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
    status: Status,
    facts_applied: u64,
    redrive_count: u32,
    redrive_ms: Option<i64>,
    /// States entered so far (a retry is not a new transition).
    pub transitions: u64,
}

/// What applying one fact produced.
#[derive(Debug, Default)]
pub struct Applied {
    pub events: Vec<HistoryEvent>,
    pub actions: Vec<Action>,
}

struct Ctx<'a> {
    now: i64,
    entropy: SplitMix64,
    out: &'a mut Applied,
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
            status: Status::Running,
            facts_applied: 0,
            redrive_count: 0,
            redrive_ms: None,
            transitions: 0,
        }
    }

    pub fn status(&self) -> &Status {
        &self.status
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
        if self.status.is_terminal() && !matches!(fact, Fact::Redriven { .. }) {
            return out;
        }
        let mut work = Vec::new();
        match fact {
            Fact::Started { input } => self.start(input, &mut cx, &mut work),
            Fact::TaskSucceeded { key, output } => {
                if let Some(run) = self.tasks.remove(key) {
                    self.task_succeeded(run, output.clone(), &mut cx, &mut work);
                }
            }
            Fact::TaskFailed { key, error, cause } => {
                if let Some(run) = self.tasks.remove(key) {
                    let failure = Failure::new(error.clone(), cause.clone());
                    self.task_failed(run, failure, "TaskFailed", &mut cx, &mut work);
                }
            }
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
                let details = json!({ "error": failure.error, "cause": failure.cause });
                self.finish(
                    Status::Aborted { failure },
                    "ExecutionAborted",
                    details,
                    &mut cx,
                );
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
            Fact::Redriven { rerun } => self.redrive(*rerun, &mut cx, &mut work),
        }
        self.drain(&mut work, &mut cx);
        out
    }

    fn start(&mut self, input: &Value, cx: &mut Ctx, work: &mut Vec<Work>) {
        self.input = input.clone();
        let root = self.new_run(0, None, Map::new(), None);
        let details = with_data(Map::new(), DataField::Input, input);
        let mut details = details;
        details.insert("roleArn".into(), json!(self.info.role_arn));
        self.event(root, "ExecutionStarted", Some(Value::Object(details)), cx);
        if let Some(timeout) = self.compiled.root().timeout_seconds {
            let key = self.key();
            self.timers.insert(key, TimerPurpose::ExecutionTimeout);
            cx.out.actions.push(Action::StartTimer {
                key,
                due_ms: cx.now + (timeout as i64) * 1000,
            });
        }
        let start = self.compiled.root().start_at.clone();
        work.push(Work::Enter {
            run: root,
            state: start,
            input: input.clone(),
            unfinished: None,
        });
    }

    fn new_run(
        &mut self,
        machine: usize,
        parent: Option<(RunId, usize)>,
        variables: Map<String, Value>,
        map_item: Option<(usize, Value)>,
    ) -> RunId {
        let id = self.next_run;
        self.next_run += 1;
        let last_event = parent
            .and_then(|(p, _)| self.runs.get(&p))
            .map(|p| p.last_event)
            .unwrap_or(0);
        self.runs.insert(
            id,
            Run {
                machine,
                parent,
                variables,
                frame: None,
                last_event,
                map_item,
            },
        );
        id
    }

    fn key(&mut self) -> u64 {
        let k = self.next_key;
        self.next_key += 1;
        k
    }

    /// Records a history event on a run's chain.
    fn event(
        &mut self,
        run: RunId,
        event_type: &'static str,
        details: Option<Value>,
        cx: &mut Ctx,
    ) -> u64 {
        let id = self.next_event;
        self.next_event += 1;
        let previous = self.runs.get(&run).map(|r| r.last_event).unwrap_or(0);
        if let Some(r) = self.runs.get_mut(&run) {
            r.last_event = id;
        }
        cx.out.events.push(HistoryEvent {
            id,
            previous_event_id: previous,
            timestamp_ms: cx.now,
            event_type,
            details,
        });
        id
    }

    fn drain(&mut self, work: &mut Vec<Work>, cx: &mut Ctx) {
        while let Some(item) = work.pop() {
            if self.status.is_terminal() {
                return;
            }
            match item {
                Work::Enter {
                    run,
                    state,
                    input,
                    unfinished,
                } => self.enter(run, state, input, unfinished, cx, work),
                Work::Fail { run, failure } => self.handle_failure(run, failure, cx, work),
                Work::RunEnded { run, outcome } => self.run_ended(run, outcome, cx, work),
            }
        }
    }

    /// The context object `$$` for the run's current state, with only the
    /// parts the state can read (`ContextUse`): copying the execution input
    /// into every state's context would make a large Map quadratic.
    fn context(&self, run: RunId, task_token: Option<&str>, use_: ContextUse) -> Value {
        if use_ == ContextUse::None {
            return Value::Null;
        }
        let r = &self.runs[&run];
        let mut execution = json!({
            "Id": self.info.execution_arn,
            "Name": self.info.name,
            "RoleArn": self.info.role_arn,
            "StartTime": fmt_ms(self.info.start_ms),
            "RedriveCount": self.redrive_count,
        });
        if let Some(ms) = self.redrive_ms {
            execution["RedriveTime"] = json!(fmt_ms(ms));
        }
        if use_ == ContextUse::Full {
            execution["Input"] = self.input.clone();
        }
        let mut ctx = json!({
            "Execution": execution,
            "StateMachine": {
                "Id": self.info.state_machine_arn,
                "Name": self.info.state_machine_name,
            },
        });
        if let Some(frame) = &r.frame {
            ctx["State"] = json!({
                "EnteredTime": fmt_ms(frame.entered_ms),
                "Name": frame.state,
                "RetryCount": frame.retry_count,
            });
        }
        if let Some(token) = task_token {
            ctx["Task"] = json!({ "Token": token });
        }
        if let Some((index, value)) = &r.map_item {
            ctx["Map"] = json!({ "Item": { "Index": index, "Value": value } });
        }
        ctx
    }

    fn enter(
        &mut self,
        run: RunId,
        state_name: String,
        raw: Value,
        unfinished: Option<Box<Unfinished>>,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        // A branch or iteration whose sibling failed at once, in the same
        // apply, was stopped before its first state: it is not entered.
        let Some(r) = self.runs.get(&run) else {
            return;
        };
        let machine = &self.compiled.machines[r.machine];
        let Some(state) = machine.state(&state_name) else {
            // Validation guarantees every transition names a state.
            work.push(Work::RunEnded {
                run,
                outcome: Err(Failure::runtime(format!(
                    "state {state_name:?} does not exist"
                ))),
            });
            return;
        };
        let type_name = state.type_name();
        let retries = vec![0; state.retry.len()];
        self.transitions += 1;
        if let Some(r) = self.runs.get_mut(&run) {
            r.frame = Some(Frame {
                state: state_name.clone(),
                raw_input: raw.clone(),
                entered_ms: cx.now,
                retries,
                retry_count: 0,
                // Taken by the state's body (see `execute`).
                waiting: unfinished.map_or(Waiting::Nothing, Waiting::Unfinished),
            });
        }
        let entered = with_data(
            Map::from_iter([("name".to_string(), json!(state_name))]),
            DataField::Input,
            &raw,
        );
        self.event(
            run,
            entered_type(type_name),
            Some(Value::Object(entered)),
            cx,
        );
        self.execute(run, cx, work);
    }

    /// The run's current state with what evaluating it needs, copied out
    /// of the execution so the execution can change while it is used.
    fn current(&self, run: RunId) -> Option<Current> {
        self.current_with_token(run, None)
    }

    /// `current`, with `$$.Task.Token` in the context.
    fn current_with_token(&self, run: RunId, task_token: Option<&str>) -> Option<Current> {
        let r = self.runs.get(&run)?;
        let frame = r.frame.as_ref()?;
        let states = &self.compiled.machines[r.machine].states;
        let index = states.get_index_of(&frame.state)?;
        Some(Current {
            compiled: Arc::clone(&self.compiled),
            machine: r.machine,
            index,
            raw: frame.raw_input.clone(),
            context: self.context(run, task_token, states[index].context_use),
            variables: r.variables.clone(),
        })
    }

    /// Runs the current state's body (also on a retry).
    fn execute(&mut self, run: RunId, cx: &mut Ctx, work: &mut Vec<Work>) {
        let token = self.next_task_token(run);
        let cur = self
            .current_with_token(run, token.as_deref())
            .expect("execute needs a current state");
        let state = cur.state();
        let machine_id = cur.machine;
        let variables = &cur.variables;
        let body = evaluate_body(state, &cur.raw, &mut cur.env(&mut cx.entropy), cx.now);
        match body {
            Err(failure) => work.push(Work::Fail { run, failure }),
            Ok(Body::Complete {
                output,
                assigned,
                next,
            }) => self.complete(run, output, assigned, next, cx, work),
            Ok(Body::Wait { due_ms, effective }) => {
                let timer = self.key();
                self.timers.insert(timer, TimerPurpose::Resume(run));
                self.set_waiting(
                    run,
                    Waiting::Wait {
                        timer,
                        effective_input: effective,
                    },
                );
                cx.out
                    .actions
                    .push(Action::StartTimer { key: timer, due_ms });
            }
            Ok(Body::Succeed { output }) => {
                self.exited(run, "Succeed", &state.name, &output, cx);
                work.push(Work::RunEnded {
                    run,
                    outcome: Ok(output),
                });
            }
            Ok(Body::Fail(failure)) => work.push(Work::RunEnded {
                run,
                outcome: Err(failure),
            }),
            Ok(Body::Task {
                target,
                effective,
                timeout,
                heartbeat,
            }) => self.schedule_task(run, target, effective, timeout, heartbeat, cx),
            Ok(Body::Parallel { effective }) => self.start_parallel(
                run,
                machine_id,
                &state.name,
                effective,
                variables.clone(),
                cx,
                work,
            ),
            Ok(Body::Map(progress)) => {
                self.start_map(run, machine_id, &state.name, *progress, cx, work)
            }
        }
    }

    /// The token the run's current state gets if it is a Task whose fields
    /// read `$$`: the task it schedules takes the next key, so its token
    /// is known before Parameters are evaluated.
    fn next_task_token(&self, run: RunId) -> Option<String> {
        let r = self.runs.get(&run)?;
        let frame = r.frame.as_ref()?;
        let state = self.compiled.machines[r.machine].state(&frame.state)?;
        let reads_context =
            matches!(state.kind, StateKind::Task(_)) && state.context_use != ContextUse::None;
        reads_context.then(|| {
            crate::task::task_token(
                &self.info.execution_arn,
                &self.info.token_key,
                self.next_key,
            )
        })
    }

    fn set_waiting(&mut self, run: RunId, waiting: Waiting) {
        if let Some(w) = self.waiting_mut(run) {
            *w = waiting;
        }
    }

    /// What the run's current state waits for, if it is in one.
    fn waiting(&self, run: RunId) -> Option<&Waiting> {
        self.runs
            .get(&run)
            .and_then(|r| r.frame.as_ref())
            .map(|f| &f.waiting)
    }

    /// The same, to change.
    fn waiting_mut(&mut self, run: RunId) -> Option<&mut Waiting> {
        self.runs
            .get_mut(&run)
            .and_then(|r| r.frame.as_mut())
            .map(|f| &mut f.waiting)
    }

    fn schedule_task(
        &mut self,
        run: RunId,
        target: TaskTarget,
        effective: Value,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
        cx: &mut Ctx,
    ) {
        let key = self.key();
        self.tasks.insert(key, run);
        let callback = target.waits_for_task_token();
        if callback {
            self.callbacks.insert(key);
        }
        let lambda_function = target.is_lambda_function();
        let (resource_type, resource) = target.history_resource();
        if lambda_function {
            let mut d = with_data(Map::new(), DataField::Input, &effective);
            d.insert("resource".into(), json!(target.resource()));
            if let Some(t) = timeout {
                d.insert("timeoutInSeconds".into(), json!(t));
            }
            self.event(run, "LambdaFunctionScheduled", Some(Value::Object(d)), cx);
            self.event(run, "LambdaFunctionStarted", None, cx);
        } else {
            let mut d = Map::new();
            d.insert("resourceType".into(), json!(resource_type));
            d.insert("resource".into(), json!(resource));
            d.insert("region".into(), json!(crate::arn::REGION));
            d.insert("parameters".into(), Value::String(json_text(&effective)));
            if let Some(t) = timeout {
                d.insert("timeoutInSeconds".into(), json!(t));
            }
            if let Some(h) = heartbeat {
                d.insert("heartbeatInSeconds".into(), json!(h));
            }
            self.event(run, "TaskScheduled", Some(Value::Object(d)), cx);
            self.event(
                run,
                "TaskStarted",
                Some(json!({ "resourceType": resource_type, "resource": resource })),
                cx,
            );
        }
        let mut timers = Vec::new();
        for (seconds, is_heartbeat) in [(timeout, false), (heartbeat, true)] {
            if let Some(s) = seconds {
                let t = self.key();
                self.timers.insert(
                    t,
                    TimerPurpose::TaskTimeout {
                        run,
                        task: key,
                        heartbeat: is_heartbeat,
                    },
                );
                cx.out.actions.push(Action::StartTimer {
                    key: t,
                    due_ms: cx.now + (s as i64) * 1000,
                });
                timers.push(t);
            }
        }
        self.set_waiting(
            run,
            Waiting::Task {
                key,
                timers,
                lambda_function,
                resource_type: resource_type.clone(),
                resource: resource.clone(),
                callback,
                submitted: false,
                heartbeat_seconds: heartbeat,
            },
        );
        cx.out.actions.push(Action::RunTask(TaskInvocation {
            execution_arn: self.info.execution_arn.clone(),
            key,
            target,
            input: effective,
            task_token: crate::task::task_token(
                &self.info.execution_arn,
                &self.info.token_key,
                key,
            ),
        }));
    }

    /// A callback task's worker has it: record TaskSubmitted (once) and keep
    /// waiting for SendTaskSuccess/Failure.
    fn task_submitted(&mut self, run: RunId, output: Option<&Value>, cx: &mut Ctx) {
        let Some(Waiting::Task {
            callback: true,
            submitted,
            resource_type,
            resource,
            ..
        }) = self.waiting_mut(run)
        else {
            return;
        };
        if *submitted {
            return;
        }
        *submitted = true;
        let mut d = match output {
            Some(o) => with_data(Map::new(), DataField::Output, o),
            None => Map::new(),
        };
        d.insert("resourceType".into(), json!(resource_type));
        d.insert("resource".into(), json!(resource));
        self.event(run, "TaskSubmitted", Some(Value::Object(d)), cx);
    }

    /// SendTaskHeartbeat: the HeartbeatSeconds clock starts again, on a new
    /// timer; the old one is disarmed and will change nothing if it fires.
    fn task_heartbeat(&mut self, run: RunId, task: u64, cx: &mut Ctx) {
        let Some(Waiting::Task {
            callback: true,
            timers,
            heartbeat_seconds: Some(seconds),
            ..
        }) = self.waiting(run)
        else {
            return;
        };
        let seconds = *seconds;
        let old = timers.iter().copied().find(|t| {
            matches!(
                self.timers.get(t),
                Some(TimerPurpose::TaskTimeout {
                    heartbeat: true,
                    ..
                })
            )
        });
        let new = self.key();
        if let Some(old) = old {
            self.timers.remove(&old);
        }
        self.timers.insert(
            new,
            TimerPurpose::TaskTimeout {
                run,
                task,
                heartbeat: true,
            },
        );
        if let Some(Waiting::Task { timers, .. }) = self.waiting_mut(run) {
            timers.retain(|t| Some(*t) != old);
            timers.push(new);
        }
        cx.out.actions.push(Action::StartTimer {
            key: new,
            due_ms: cx.now + (seconds as i64) * 1000,
        });
    }

    /// RedriveExecution: the top-level state that did not succeed is
    /// entered again with the input it had, its retries counted from zero.
    /// A Parallel or Map state there takes what the attempt before left
    /// (see the module docs).
    fn redrive(&mut self, rerun: Rerun, cx: &mut Ctx, work: &mut Vec<Work>) {
        if !self.status.is_terminal() || matches!(self.status, Status::Succeeded { .. }) {
            return;
        }
        self.status = Status::Running;
        self.redrive_count += 1;
        self.redrive_ms = Some(cx.now);
        let count = self.redrive_count;
        self.event(
            0,
            "ExecutionRedriven",
            Some(json!({ "redriveCount": count })),
            cx,
        );
        // The state machine's TimeoutSeconds counts again from the redrive.
        if let Some(timeout) = self.compiled.root().timeout_seconds {
            let key = self.key();
            self.timers.insert(key, TimerPurpose::ExecutionTimeout);
            cx.out.actions.push(Action::StartTimer {
                key,
                due_ms: cx.now + (timeout as i64) * 1000,
            });
        }
        let resume = self
            .runs
            .get_mut(&0)
            .and_then(|r| r.frame.as_mut())
            .map(|f| {
                let unfinished = match std::mem::replace(&mut f.waiting, Waiting::Nothing) {
                    Waiting::Unfinished(u) if rerun == Rerun::Unsuccessful => Some(u),
                    _ => None,
                };
                (f.state.clone(), f.raw_input.clone(), unfinished)
            });
        let (state, input, unfinished) = resume.unwrap_or_else(|| {
            (
                self.compiled.root().start_at.clone(),
                self.input.clone(),
                None,
            )
        });
        work.push(Work::Enter {
            run: 0,
            state,
            input,
            unfinished,
        });
    }

    fn task_waiting(&self, run: RunId) -> Option<(Vec<u64>, bool, String, String)> {
        match &self.runs.get(&run)?.frame.as_ref()?.waiting {
            Waiting::Task {
                timers,
                lambda_function,
                resource_type,
                resource,
                ..
            } => Some((
                timers.clone(),
                *lambda_function,
                resource_type.clone(),
                resource.clone(),
            )),
            _ => None,
        }
    }

    fn task_succeeded(&mut self, run: RunId, output: Value, cx: &mut Ctx, work: &mut Vec<Work>) {
        let Some((timers, lambda, resource_type, resource)) = self.task_waiting(run) else {
            return;
        };
        for t in timers {
            self.timers.remove(&t);
        }
        if lambda {
            let d = with_data(Map::new(), DataField::Output, &output);
            self.event(run, "LambdaFunctionSucceeded", Some(Value::Object(d)), cx);
        } else {
            let mut d = with_data(Map::new(), DataField::Output, &output);
            d.insert("resourceType".into(), json!(resource_type));
            d.insert("resource".into(), json!(resource));
            self.event(run, "TaskSucceeded", Some(Value::Object(d)), cx);
        }
        self.state_result(run, output, cx, work);
    }

    /// `kind` is `TaskFailed` or `TaskTimedOut`.
    fn task_failed(
        &mut self,
        run: RunId,
        failure: Failure,
        kind: &str,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let Some((timers, lambda, resource_type, resource)) = self.task_waiting(run) else {
            return;
        };
        for t in timers {
            self.timers.remove(&t);
        }
        let event_type = match (lambda, kind) {
            (true, "TaskTimedOut") => "LambdaFunctionTimedOut",
            (true, _) => "LambdaFunctionFailed",
            (false, "TaskTimedOut") => "TaskTimedOut",
            (false, _) => "TaskFailed",
        };
        let mut d = Map::new();
        if !lambda {
            d.insert("resourceType".into(), json!(resource_type));
            d.insert("resource".into(), json!(resource));
        }
        d.insert("error".into(), json!(failure.error));
        d.insert("cause".into(), json!(failure.cause));
        self.event(run, event_type, Some(Value::Object(d)), cx);
        work.push(Work::Fail { run, failure });
    }

    /// A Task, Parallel or Map produced its result: ResultSelector, Assign,
    /// ResultPath, OutputPath, then on.
    fn state_result(&mut self, run: RunId, result: Value, cx: &mut Ctx, work: &mut Vec<Work>) {
        let Some(cur) = self.current(run) else {
            return;
        };
        let state = cur.state();
        let mut env = cur.env(&mut cx.entropy);
        let finished = (|| {
            let selected = lifecycle::select_result(state, result, &mut env)?;
            let assigned = lifecycle::assignments(state.assign.as_ref(), &selected, &mut env)?;
            let output = lifecycle::state_output(state, &cur.raw, selected, &env)?;
            Ok::<_, Failure>((output, assigned))
        })();
        match finished {
            Ok((output, assigned)) => self.complete(run, output, assigned, None, cx, work),
            Err(failure) => work.push(Work::Fail { run, failure }),
        }
    }

    /// The current state completed with `output`: set variables, record the
    /// exit, and move on (`next` overrides the state's transition for Choice).
    fn complete(
        &mut self,
        run: RunId,
        output: Value,
        assigned: Map<String, Value>,
        next: Option<String>,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let compiled = Arc::clone(&self.compiled);
        let r = self.runs.get_mut(&run).expect("run exists");
        r.variables.extend(assigned);
        let frame = r.frame.as_ref().expect("current state");
        let state = compiled.machines[r.machine]
            .state(&frame.state)
            .expect("state exists");
        let name = state.name.clone();
        self.exited(run, state.type_name(), &name, &output, cx);
        let next = next.or_else(|| match &state.transition {
            Transition::Next(n) => Some(n.clone()),
            _ => None,
        });
        match next {
            Some(next) => work.push(Work::Enter {
                run,
                state: next,
                input: output,
                unfinished: None,
            }),
            None => work.push(Work::RunEnded {
                run,
                outcome: Ok(output),
            }),
        }
    }

    fn exited(&mut self, run: RunId, type_name: &str, name: &str, output: &Value, cx: &mut Ctx) {
        let d = with_data(
            Map::from_iter([("name".to_string(), json!(name))]),
            DataField::Output,
            output,
        );
        self.event(run, exited_type(type_name), Some(Value::Object(d)), cx);
    }

    /// A state failed: Retry, Catch, or fail the run.
    fn handle_failure(&mut self, run: RunId, failure: Failure, cx: &mut Ctx, work: &mut Vec<Work>) {
        let compiled = Arc::clone(&self.compiled);
        let Some(r) = self.runs.get(&run) else { return };
        let Some(frame) = r.frame.as_ref() else {
            work.push(Work::RunEnded {
                run,
                outcome: Err(failure),
            });
            return;
        };
        let state = compiled.machines[r.machine]
            .state(&frame.state)
            .expect("state exists");
        let recovery = retry::recover(
            &state.retry,
            &state.catch,
            &failure,
            &frame.retries,
            &mut cx.entropy,
        );
        match recovery {
            Recovery::Retry {
                retrier,
                delay_millis,
            } => {
                let timer = self.key();
                self.timers.insert(timer, TimerPurpose::Resume(run));
                let frame = self
                    .runs
                    .get_mut(&run)
                    .and_then(|r| r.frame.as_mut())
                    .expect("frame");
                frame.retries[retrier] += 1;
                frame.retry_count += 1;
                frame.waiting = Waiting::Retry { timer };
                cx.out.actions.push(Action::StartTimer {
                    key: timer,
                    due_ms: cx.now + delay_millis as i64,
                });
            }
            Recovery::Catch { catcher } => {
                let catcher = &state.catch[catcher];
                let cur = self
                    .current(run)
                    .expect("a failing run has a current state");
                let error_output = lifecycle::error_output(&failure);
                let mut env = cur.env(&mut cx.entropy);
                let caught = (|| {
                    let assigned =
                        lifecycle::assignments(catcher.assign.as_ref(), &error_output, &mut env)?;
                    let output = lifecycle::catcher_output(
                        &cur.raw,
                        catcher.result_path.as_ref(),
                        &failure,
                    )?;
                    Ok::<_, Failure>((output, assigned))
                })();
                match caught {
                    Ok((output, assigned)) => {
                        let next = catcher.next.clone();
                        let name = state.name.clone();
                        let type_name = state.type_name();
                        if let Some(r) = self.runs.get_mut(&run) {
                            r.variables.extend(assigned);
                        }
                        self.exited(run, type_name, &name, &output, cx);
                        work.push(Work::Enter {
                            run,
                            state: next,
                            input: output,
                            unfinished: None,
                        });
                    }
                    Err(f) => work.push(Work::RunEnded {
                        run,
                        outcome: Err(f),
                    }),
                }
            }
            Recovery::Propagate => work.push(Work::RunEnded {
                run,
                outcome: Err(failure),
            }),
        }
    }

    fn timer_fired(&mut self, purpose: TimerPurpose, cx: &mut Ctx, work: &mut Vec<Work>) {
        match purpose {
            TimerPurpose::ExecutionTimeout => {
                let failure = Failure::new(
                    names::TIMEOUT,
                    "The execution timed out because it ran longer than the state machine's TimeoutSeconds.",
                );
                let details = json!({ "error": failure.error, "cause": failure.cause });
                self.finish(
                    Status::TimedOut { failure },
                    "ExecutionTimedOut",
                    details,
                    cx,
                );
            }
            TimerPurpose::TaskTimeout {
                run,
                task,
                heartbeat,
            } => {
                if self.tasks.remove(&task).is_some() {
                    let failure = if heartbeat {
                        Failure::new(
                            names::HEARTBEAT_TIMEOUT,
                            "The task did not send a heartbeat within HeartbeatSeconds.",
                        )
                    } else {
                        Failure::new(
                            names::TIMEOUT,
                            "The task did not complete within TimeoutSeconds.",
                        )
                    };
                    self.task_failed(run, failure, "TaskTimedOut", cx, work);
                }
            }
            TimerPurpose::Resume(run) => {
                let Some(waiting) = self
                    .runs
                    .get(&run)
                    .and_then(|r| r.frame.as_ref())
                    .map(|f| f.waiting.clone())
                else {
                    return;
                };
                match waiting {
                    Waiting::Retry { .. } => self.execute(run, cx, work),
                    Waiting::Wait {
                        effective_input, ..
                    } => self.finish_wait(run, effective_input, cx, work),
                    _ => {}
                }
            }
        }
    }

    fn finish_wait(&mut self, run: RunId, effective: Value, cx: &mut Ctx, work: &mut Vec<Work>) {
        let Some(cur) = self.current(run) else {
            return;
        };
        let state = cur.state();
        let mut env = cur.env(&mut cx.entropy);
        let done = (|| {
            let assigned = lifecycle::assignments(state.assign.as_ref(), &effective, &mut env)?;
            let output = lifecycle::output_path(&state.processing, &effective, &env)?;
            Ok::<_, Failure>((output, assigned))
        })();
        match done {
            Ok((output, assigned)) => self.complete(run, output, assigned, None, cx, work),
            Err(failure) => work.push(Work::Fail { run, failure }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn start_parallel(
        &mut self,
        run: RunId,
        machine: usize,
        state: &str,
        effective: Value,
        variables: Map<String, Value>,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        self.event(run, "ParallelStateStarted", None, cx);
        let branch_machines = self.compiled.children_of(machine, state).to_vec();
        let n = branch_machines.len();
        // On a redrive, the branches that succeeded keep their outputs and
        // are not run again; the others resume where they stopped.
        let mut before = self.take_unfinished(run).filter(|b| b.succeeded.len() == n);
        let mut children = vec![None; n];
        let mut results = vec![None; n];
        let mut entries = Vec::with_capacity(n);
        for (i, m) in branch_machines.iter().enumerate() {
            let stopped = match before.as_deref_mut() {
                Some(b) if b.succeeded[i] => {
                    results[i] = Some(std::mem::take(&mut b.outputs[i]));
                    continue;
                }
                Some(b) => b.stopped.remove(&i),
                None => None,
            };
            let (branch_variables, entry) = match stopped {
                Some(s) => (s.variables, (s.state, s.raw_input, s.unfinished)),
                None => (
                    variables.clone(),
                    (
                        self.compiled.machines[*m].start_at.clone(),
                        effective.clone(),
                        None,
                    ),
                ),
            };
            let child = self.new_run(*m, Some((run, i)), branch_variables, None);
            children[i] = Some(child);
            entries.push((child, entry));
        }
        if entries.is_empty() {
            // A redrive found every branch succeeded.
            let results = results
                .into_iter()
                .map(|r| r.unwrap_or(Value::Null))
                .collect();
            self.event(run, "ParallelStateSucceeded", None, cx);
            self.state_result(run, Value::Array(results), cx, work);
            return;
        }
        self.set_waiting(
            run,
            Waiting::Parallel {
                children,
                results,
                remaining: entries.len(),
            },
        );
        // Pushed in reverse so branch 0 is entered first.
        for (child, (state, input, unfinished)) in entries.into_iter().rev() {
            work.push(Work::Enter {
                run: child,
                state,
                input,
                unfinished,
            });
        }
    }

    fn start_map(
        &mut self,
        run: RunId,
        machine: usize,
        state: &str,
        mut progress: MapProgress,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let length = progress.items.len();
        // On a redrive, the items that succeeded keep their outputs and are
        // not run again; the others resume where they stopped.
        if let Some(mut before) = self
            .take_unfinished(run)
            .filter(|b| b.succeeded.len() == length)
        {
            progress.results = std::mem::take(&mut before.outputs);
            progress.done = before.succeeded.iter().filter(|s| **s).count();
            progress.redriven = Some(before);
            progress.skip_kept();
        }
        self.event(
            run,
            "MapStateStarted",
            Some(json!({ "length": length })),
            cx,
        );
        if progress.done == length {
            // No items, or a redrive found every item succeeded.
            self.event(run, "MapStateSucceeded", None, cx);
            self.state_result(run, Value::Array(progress.results), cx, work);
            return;
        }
        let processor = self.compiled.children_of(machine, state)[0];
        self.set_waiting(run, Waiting::Map(Box::new(progress)));
        self.launch_iterations(run, processor, cx, work);
    }

    /// Starts Map iterations while below MaxConcurrency.
    fn launch_iterations(
        &mut self,
        run: RunId,
        processor: usize,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let compiled = Arc::clone(&self.compiled);
        loop {
            let r = &self.runs[&run];
            let Some(frame) = r.frame.as_ref() else {
                return;
            };
            let Waiting::Map(p) = &frame.waiting else {
                return;
            };
            if p.next >= p.items.len() || p.active.len() >= p.max_concurrency {
                return;
            }
            let index = p.next;
            let item = p.items[index].clone();
            let map_state = compiled.machines[r.machine]
                .state(&frame.state)
                .expect("state");
            let StateKind::Map(spec) = &map_state.kind else {
                return;
            };
            // An item a redrive resumes enters the state it stopped in, with
            // that state's input (taken below).
            let resumes = p
                .redriven
                .as_ref()
                .is_some_and(|b| b.stopped.contains_key(&index));
            // Otherwise the item's input: ItemSelector over the Map's
            // effective input (borrowed, never copied per item) with
            // `$$.Map.Item` set, or the item itself.
            let input = (!resumes).then(|| match &spec.item_selector {
                None => Ok(item.clone()),
                Some(selector) => {
                    let mut context = self.context(run, None, map_state.context_use);
                    if map_state.context_use != ContextUse::None {
                        context["Map"] = json!({ "Item": { "Index": index, "Value": item } });
                    }
                    let mut env = Env {
                        context: &context,
                        variables: &r.variables,
                        entropy: &mut cx.entropy,
                    };
                    lifecycle::eval_template(selector, &p.effective_input, &mut env)
                }
            });
            let variables = r.variables.clone();
            let label = map_state.name.clone();
            let child = self.new_run(
                processor,
                Some((run, index)),
                variables,
                Some((index, item)),
            );
            let mut resume = None;
            if let Some(Waiting::Map(p)) = self.waiting_mut(run) {
                if resumes {
                    resume = p.redriven.as_mut().and_then(|b| b.stopped.remove(&index));
                }
                p.next += 1;
                p.skip_kept();
                p.active.insert(index, child);
            }
            self.event(
                run,
                "MapIterationStarted",
                Some(json!({ "name": label, "index": index })),
                cx,
            );
            if let Some(child_run) = self.runs.get_mut(&child) {
                // The iteration's events follow MapIterationStarted.
                child_run.last_event = self.next_event - 1;
                if let Some(stopped) = &mut resume {
                    child_run.variables = std::mem::take(&mut stopped.variables);
                }
            }
            work.push(match (resume, input) {
                (Some(stopped), _) => Work::Enter {
                    run: child,
                    state: stopped.state,
                    input: stopped.raw_input,
                    unfinished: stopped.unfinished,
                },
                (None, Some(Ok(input))) => Work::Enter {
                    run: child,
                    state: compiled.machines[processor].start_at.clone(),
                    input,
                    unfinished: None,
                },
                (None, Some(Err(failure))) => Work::RunEnded {
                    run: child,
                    outcome: Err(failure),
                },
                // `resumes` found where the item stopped, so `resume` has it.
                (None, None) => Work::RunEnded {
                    run: child,
                    outcome: Err(Failure::runtime(format!(
                        "Map state '{label}': item {index} lost where it stopped"
                    ))),
                },
            });
        }
    }

    fn run_ended(
        &mut self,
        run: RunId,
        outcome: Result<Value, Failure>,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let Some(r) = self.runs.remove(&run) else {
            return;
        };
        // Forget whatever the finished run was still waiting on.
        self.forget_waits(&r);
        let Some((parent, slot)) = r.parent else {
            match outcome {
                Ok(output) => {
                    let d = with_data(Map::new(), DataField::Output, &output);
                    self.runs.insert(run, r);
                    self.finish(
                        Status::Succeeded { output },
                        "ExecutionSucceeded",
                        Value::Object(d),
                        cx,
                    );
                }
                Err(failure) => {
                    let d = json!({ "error": failure.error, "cause": failure.cause });
                    self.runs.insert(run, r);
                    self.finish(Status::Failed { failure }, "ExecutionFailed", d, cx);
                }
            }
            return;
        };
        // A branch or iteration that did not succeed leaves, for a redrive,
        // where it stopped.
        let stopped = match &outcome {
            Ok(_) => None,
            Err(_) => self.stopped_run(r),
        };
        let Some(waiting) = self.waiting(parent) else {
            return;
        };
        match waiting {
            Waiting::Parallel { .. } => self.branch_ended(parent, slot, outcome, stopped, cx, work),
            Waiting::Map(_) => self.iteration_ended(parent, slot, outcome, stopped, cx, work),
            _ => {}
        }
    }

    /// A run that did not succeed, as a redrive resumes it; its children
    /// are stopped too, each kept the same way.
    fn stopped_run(&mut self, r: Run) -> Option<StoppedRun> {
        let frame = r.frame?;
        let unfinished = self.unfinished_of(frame.waiting);
        Some(StoppedRun {
            variables: r.variables,
            state: frame.state,
            raw_input: frame.raw_input,
            unfinished,
        })
    }

    /// Stops a run that has not ended (a sibling failed, or the execution
    /// stopped) and keeps where it stopped, for a redrive.
    fn freeze_run(&mut self, run: RunId) -> Option<StoppedRun> {
        let r = self.runs.remove(&run)?;
        self.forget_waits(&r);
        self.stopped_run(r)
    }

    /// What a Parallel or Map state leaves for a redrive, given what it was
    /// waiting on; its children still running are stopped.
    fn unfinished_of(&mut self, waiting: Waiting) -> Option<Box<Unfinished>> {
        match waiting {
            Waiting::Unfinished(u) => Some(u),
            Waiting::Parallel {
                children, results, ..
            } => Some(Box::new(self.parallel_unfinished(children, results, None))),
            Waiting::Map(p) => {
                let stopped_active = p
                    .active
                    .iter()
                    .map(|(&index, &child)| (index, self.freeze_run(child)))
                    .collect();
                Some(Box::new(p.into_unfinished(stopped_active)))
            }
            _ => None,
        }
    }

    /// What a Parallel state leaves for a redrive: its branches still
    /// running are stopped; `failed` is the branch that failed it.
    fn parallel_unfinished(
        &mut self,
        children: Vec<Option<RunId>>,
        results: Vec<Option<Value>>,
        failed: Option<(usize, Option<StoppedRun>)>,
    ) -> Unfinished {
        let succeeded = results.iter().map(Option::is_some).collect();
        let outputs = results
            .into_iter()
            .map(|r| r.unwrap_or(Value::Null))
            .collect();
        let mut unfinished = Unfinished {
            outputs,
            succeeded,
            stopped: FxHashMap::default(),
        };
        for (branch, child) in children.into_iter().enumerate() {
            if let (false, Some(child)) = (unfinished.succeeded[branch], child) {
                let stopped = self.freeze_run(child);
                unfinished.not_succeeded(branch, stopped);
            }
        }
        if let Some((branch, stopped)) = failed {
            unfinished.not_succeeded(branch, stopped);
        }
        unfinished
    }

    /// On a redrive, what the attempt before left in the run's Parallel or
    /// Map state (see `enter`).
    fn take_unfinished(&mut self, run: RunId) -> Option<Box<Unfinished>> {
        let frame = self.runs.get_mut(&run)?.frame.as_mut()?;
        match std::mem::replace(&mut frame.waiting, Waiting::Nothing) {
            Waiting::Unfinished(u) => Some(u),
            other => {
                frame.waiting = other;
                None
            }
        }
    }

    fn forget_waits(&mut self, r: &Run) {
        if let Some(frame) = &r.frame {
            match &frame.waiting {
                Waiting::Task { key, timers, .. } => {
                    self.tasks.remove(key);
                    for t in timers {
                        self.timers.remove(t);
                    }
                }
                Waiting::Retry { timer } | Waiting::Wait { timer, .. } => {
                    self.timers.remove(timer);
                }
                _ => {}
            }
        }
    }

    /// Aborts a run and all its descendants (a sibling branch failed, or
    /// the execution ended).
    fn abort_run(&mut self, run: RunId) {
        let Some(r) = self.runs.remove(&run) else {
            return;
        };
        self.forget_waits(&r);
        if let Some(frame) = &r.frame {
            match &frame.waiting {
                Waiting::Parallel { children, .. } => {
                    for c in children.iter().flatten().copied().collect::<Vec<_>>() {
                        self.abort_run(c);
                    }
                }
                Waiting::Map(p) => {
                    for c in p.active.values().copied().collect::<Vec<_>>() {
                        self.abort_run(c);
                    }
                }
                _ => {}
            }
        }
    }

    fn branch_ended(
        &mut self,
        parent: RunId,
        slot: usize,
        outcome: Result<Value, Failure>,
        stopped: Option<StoppedRun>,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        match outcome {
            Ok(output) => {
                let mut all_done = None;
                if let Some(Waiting::Parallel {
                    results, remaining, ..
                }) = self.waiting_mut(parent)
                {
                    results[slot] = Some(output);
                    *remaining -= 1;
                    if *remaining == 0 {
                        all_done = Some(
                            results
                                .iter_mut()
                                .map(|r| r.take().unwrap_or(Value::Null))
                                .collect::<Vec<_>>(),
                        );
                    }
                }
                if let Some(results) = all_done {
                    self.set_waiting(parent, Waiting::Nothing);
                    self.event(parent, "ParallelStateSucceeded", None, cx);
                    self.state_result(parent, Value::Array(results), cx, work);
                }
            }
            Err(failure) => {
                // The other branches stop; all keep what a redrive needs.
                if let Some(Waiting::Parallel {
                    children, results, ..
                }) = self
                    .runs
                    .get_mut(&parent)
                    .and_then(|p| p.frame.as_mut())
                    .map(|f| std::mem::replace(&mut f.waiting, Waiting::Nothing))
                {
                    let unfinished =
                        self.parallel_unfinished(children, results, Some((slot, stopped)));
                    self.set_waiting(parent, Waiting::Unfinished(Box::new(unfinished)));
                }
                self.event(parent, "ParallelStateFailed", None, cx);
                work.push(Work::Fail {
                    run: parent,
                    failure,
                });
            }
        }
    }

    fn iteration_ended(
        &mut self,
        parent: RunId,
        index: usize,
        outcome: Result<Value, Failure>,
        stopped: Option<StoppedRun>,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let compiled = Arc::clone(&self.compiled);
        let machine = self.runs[&parent].machine;
        let state_name = self.runs[&parent]
            .frame
            .as_ref()
            .map(|f| f.state.clone())
            .unwrap_or_default();
        let processor = compiled.children_of(machine, &state_name)[0];
        let ok = outcome.is_ok();
        let label = json!({ "name": state_name, "index": index });
        let Some(Waiting::Map(p)) = self.waiting_mut(parent) else {
            return;
        };
        p.active.remove(&index);
        p.done += 1;
        match outcome {
            Ok(v) => p.results[index] = v,
            Err(f) => {
                p.failed += 1;
                p.first_failure.get_or_insert(f);
                p.failed_items.push((index, stopped));
            }
        }
        let total = p.items.len() as u64;
        let over = lifecycle::exceeds_tolerance(
            p.failed,
            total,
            p.tolerated_percentage,
            p.tolerated_count,
        );
        let tolerance_given = p.tolerated_percentage.is_some() || p.tolerated_count.is_some();
        let all_done = p.done == p.items.len();
        let failed = p.failed;
        let first_failure = p.first_failure.clone();
        self.event(
            parent,
            if ok {
                "MapIterationSucceeded"
            } else {
                "MapIterationFailed"
            },
            Some(label),
            cx,
        );
        if over {
            let failure = if tolerance_given {
                Failure::new(
                    names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                    format!("The specified tolerated failure threshold was exceeded: {failed} of {total} items failed"),
                )
            } else {
                first_failure
                    .unwrap_or_else(|| Failure::new(names::TASK_FAILED, "a Map iteration failed"))
            };
            // The iterations still running stop; all keep what a redrive
            // needs.
            if let Some(Waiting::Map(p)) = self
                .runs
                .get_mut(&parent)
                .and_then(|r| r.frame.as_mut())
                .map(|f| std::mem::replace(&mut f.waiting, Waiting::Nothing))
            {
                let mut stopped_active = Vec::with_capacity(p.active.len());
                for (&i, &child) in &p.active {
                    stopped_active.push((i, self.freeze_run(child)));
                    self.event(
                        parent,
                        "MapIterationAborted",
                        Some(json!({ "name": state_name, "index": i })),
                        cx,
                    );
                }
                let unfinished = p.into_unfinished(stopped_active);
                self.set_waiting(parent, Waiting::Unfinished(Box::new(unfinished)));
            }
            self.event(parent, "MapStateFailed", None, cx);
            work.push(Work::Fail {
                run: parent,
                failure,
            });
            return;
        }
        if all_done {
            let results = match self
                .runs
                .get_mut(&parent)
                .and_then(|r| r.frame.as_mut())
                .map(|f| std::mem::replace(&mut f.waiting, Waiting::Nothing))
            {
                Some(Waiting::Map(p)) => p.results,
                _ => Vec::new(),
            };
            self.event(parent, "MapStateSucceeded", None, cx);
            self.state_result(parent, Value::Array(results), cx, work);
            return;
        }
        self.launch_iterations(parent, processor, cx, work);
    }

    fn finish(&mut self, status: Status, event_type: &'static str, details: Value, cx: &mut Ctx) {
        // A Parallel or Map state the root run is in (it failed, or the
        // execution stops in it) keeps what its children did, for a
        // redrive. Every other run is aborted; every wait forgotten.
        let waiting = self
            .runs
            .get_mut(&0)
            .and_then(|r| r.frame.as_mut())
            .map(|f| std::mem::replace(&mut f.waiting, Waiting::Nothing));
        if let Some(unfinished) = waiting.and_then(|w| self.unfinished_of(w)) {
            self.set_waiting(0, Waiting::Unfinished(unfinished));
        }
        let ids: Vec<RunId> = self.runs.keys().copied().filter(|r| *r != 0).collect();
        for id in ids {
            self.abort_run(id);
        }
        self.tasks.clear();
        self.timers.clear();
        self.event(0, event_type, Some(details), cx);
        self.status = status;
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
                Some(Waiting::Task {
                    submitted: true,
                    ..
                })
            );
            (!submitted).then_some(*key)
        })
    }

    /// What a SendTaskSuccess/Failure/Heartbeat for task `key` finds.
    pub fn callback_task(&self, key: u64) -> CallbackTask {
        if !self.callbacks.contains(&key) {
            CallbackTask::NotACallback
        } else if self.tasks.contains_key(&key) && !self.status.is_terminal() {
            let heartbeat = self
                .tasks
                .get(&key)
                .and_then(|run| self.runs.get(run))
                .and_then(|r| r.frame.as_ref())
                .is_some_and(|f| {
                    matches!(
                        f.waiting,
                        Waiting::Task {
                            heartbeat_seconds: Some(_),
                            ..
                        }
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

/// A run's current state and its evaluation inputs (see `Execution::current`).
struct Current {
    compiled: Arc<Compiled>,
    machine: usize,
    index: usize,
    raw: Value,
    context: Value,
    variables: Map<String, Value>,
}

impl Current {
    fn state(&self) -> &State {
        &self.compiled.machines[self.machine].states[self.index]
    }

    fn env<'a>(&'a self, entropy: &'a mut SplitMix64) -> Env<'a> {
        Env {
            context: &self.context,
            variables: &self.variables,
            entropy,
        }
    }
}

/// What a state's body decided, computed without touching the execution.
enum Body {
    Complete {
        output: Value,
        assigned: Map<String, Value>,
        next: Option<String>,
    },
    Wait {
        due_ms: i64,
        effective: Value,
    },
    Succeed {
        output: Value,
    },
    Fail(Failure),
    Task {
        target: TaskTarget,
        effective: Value,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
    },
    Parallel {
        effective: Value,
    },
    Map(Box<MapProgress>),
}

fn evaluate_body(state: &State, raw: &Value, env: &mut Env, now: i64) -> Result<Body, Failure> {
    Ok(match &state.kind {
        StateKind::Pass(pass) => {
            let effective = lifecycle::effective_input(state, raw, env)?;
            let result = pass.result.clone().unwrap_or(effective);
            let assigned = lifecycle::assignments(state.assign.as_ref(), &result, env)?;
            let output = lifecycle::state_output(state, raw, result, env)?;
            Body::Complete {
                output,
                assigned,
                next: None,
            }
        }
        StateKind::Choice(choice) => {
            let effective = lifecycle::input_path(&state.processing, raw, env)?;
            let chosen = lifecycle::choose(state, &effective, env)?;
            let (next, rule_assign) = match chosen {
                Some(i) => (
                    choice.choices[i].next.clone(),
                    choice.choices[i].assign.as_ref(),
                ),
                None => (choice.default.clone().unwrap_or_default(), None),
            };
            let mut assigned = lifecycle::assignments(state.assign.as_ref(), &effective, env)?;
            assigned.extend(lifecycle::assignments(rule_assign, &effective, env)?);
            let output = lifecycle::output_path(&state.processing, &effective, env)?;
            Body::Complete {
                output,
                assigned,
                next: Some(next),
            }
        }
        StateKind::Wait(wait) => {
            let effective = lifecycle::input_path(&state.processing, raw, env)?;
            let until = lifecycle::wait_until(wait, &effective, env, from_ms(now))?;
            Body::Wait {
                due_ms: to_ms(until),
                effective,
            }
        }
        StateKind::Succeed => {
            let effective = lifecycle::input_path(&state.processing, raw, env)?;
            let output = lifecycle::output_path(&state.processing, &effective, env)?;
            Body::Succeed { output }
        }
        StateKind::Fail(fail) => Body::Fail(lifecycle::fail_failure(fail, raw, env)?),
        StateKind::Task(task) => {
            let effective = lifecycle::effective_input(state, raw, env)?;
            let timeout = task
                .timeout_seconds
                .as_ref()
                .map(|d| lifecycle::dynamic_u64(d, &effective, env, "TimeoutSecondsPath"))
                .transpose()?;
            let heartbeat = task
                .heartbeat_seconds
                .as_ref()
                .map(|d| lifecycle::dynamic_u64(d, &effective, env, "HeartbeatSecondsPath"))
                .transpose()?;
            let target = TaskTarget::resolve(&task.resource, &effective)?;
            Body::Task {
                target,
                effective,
                timeout,
                heartbeat,
            }
        }
        StateKind::Parallel(_) => Body::Parallel {
            effective: lifecycle::effective_input(state, raw, env)?,
        },
        StateKind::Map(map) => {
            let effective = lifecycle::input_path(&state.processing, raw, env)?;
            let items = match map.items_path.eval(&env_scope(env, &effective))? {
                Value::Array(items) => items,
                other => {
                    return Err(Failure::runtime(format!(
                        "Map state '{}': ItemsPath {:?} must select an array, selected {}",
                        state.name,
                        map.items_path.text(),
                        zoomvault_asl::JsonType::of(&other).with_article()
                    )))
                }
            };
            let max = lifecycle::dynamic_u64(
                &map.max_concurrency,
                &effective,
                env,
                "MaxConcurrencyPath",
            )?;
            let tolerated_percentage = map
                .tolerated_failure_percentage
                .as_ref()
                .map(|d| {
                    lifecycle::dynamic_f64(d, &effective, env, "ToleratedFailurePercentagePath")
                })
                .transpose()?;
            let tolerated_count = map
                .tolerated_failure_count
                .as_ref()
                .map(|d| lifecycle::dynamic_u64(d, &effective, env, "ToleratedFailureCountPath"))
                .transpose()?;
            Body::Map(Box::new(MapProgress {
                results: vec![Value::Null; items.len()],
                items,
                effective_input: effective,
                next: 0,
                max_concurrency: if max == 0 { usize::MAX } else { max as usize },
                active: BTreeMap::new(),
                done: 0,
                failed: 0,
                tolerated_percentage,
                tolerated_count,
                first_failure: None,
                failed_items: Vec::new(),
                redriven: None,
            }))
        }
    })
}

fn env_scope<'a>(env: &'a Env, data: &'a Value) -> zoomvault_asl::Scope<'a> {
    zoomvault_asl::Scope::new(data, env.context, env.variables)
}

fn entered_type(type_name: &str) -> &'static str {
    match type_name {
        "Pass" => "PassStateEntered",
        "Task" => "TaskStateEntered",
        "Choice" => "ChoiceStateEntered",
        "Wait" => "WaitStateEntered",
        "Succeed" => "SucceedStateEntered",
        "Fail" => "FailStateEntered",
        "Parallel" => "ParallelStateEntered",
        _ => "MapStateEntered",
    }
}

fn exited_type(type_name: &str) -> &'static str {
    match type_name {
        "Pass" => "PassStateExited",
        "Task" => "TaskStateExited",
        "Choice" => "ChoiceStateExited",
        "Wait" => "WaitStateExited",
        "Succeed" => "SucceedStateExited",
        "Parallel" => "ParallelStateExited",
        _ => "MapStateExited",
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::TokenKey;

    fn execution(definition: Value) -> Execution {
        let machine = zoomvault_asl::definition::parse_str(&definition.to_string()).unwrap();
        let info = ExecutionInfo {
            execution_arn: crate::arn::execution("m", "e"),
            name: "e".into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
            state_machine_name: "m".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            start_ms: 0,
            seed: 7,
            token_key: TokenKey::LegacySeed(7),
        };
        Execution::new(info, Arc::new(Compiled::new(machine)))
    }

    /// The inputs of the tasks `applied` asks to run.
    fn task_inputs(applied: &Applied) -> Vec<Value> {
        applied
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::RunTask(t) => Some(t.input.clone()),
                Action::StartTimer { .. } => None,
            })
            .collect()
    }

    /// A Parallel of two tasks whose second failed, redriven with `rerun`:
    /// the inputs of the tasks the redrive runs.
    fn redriven_parallel(rerun: Rerun) -> Vec<Value> {
        let task = |branch: &str| {
            json!({"StartAt": "T", "States": {"T": {"Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work",
                "Parameters": {"branch": branch}, "End": true}}})
        };
        let mut e = execution(json!({"StartAt": "P", "States": {"P": {
            "Type": "Parallel", "End": true, "Branches": [task("a"), task("b")]}}}));
        let started = e.apply(&Fact::Started { input: json!({}) }, 0);
        assert_eq!(
            task_inputs(&started),
            [json!({"branch": "a"}), json!({"branch": "b"})]
        );
        let ok = Fact::TaskSucceeded {
            key: 1,
            output: json!("a done"),
        };
        e.apply(&ok, 1);
        let failed = Fact::TaskFailed {
            key: 2,
            error: "E".into(),
            cause: String::new(),
        };
        e.apply(&failed, 2);
        assert_eq!(e.status().api_name(), "FAILED");
        task_inputs(&e.apply(&Fact::Redriven { rerun }, 3))
    }

    fn stopped_at(state: &str) -> StoppedRun {
        StoppedRun {
            variables: Map::new(),
            state: state.into(),
            raw_input: Value::Null,
            unfinished: None,
        }
    }

    #[test]
    fn a_map_attempt_leaves_what_it_did_not_reach_for_the_next_redrive() {
        // Five items; the attempt before kept 0 and 2, and item 4 had
        // stopped in state "S4". This attempt ran 1 (it failed in "S1") and
        // was running 3 (stopped in "S3") when it failed: it never reached 4.
        let before = Unfinished {
            outputs: vec![
                json!("o0"),
                Value::Null,
                json!("o2"),
                Value::Null,
                Value::Null,
            ],
            succeeded: vec![true, false, true, false, false],
            stopped: FxHashMap::from_iter([(4, stopped_at("S4"))]),
        };
        let mut progress = MapProgress {
            items: vec![Value::Null; 5],
            effective_input: Value::Null,
            next: 0,
            max_concurrency: 2,
            active: BTreeMap::new(),
            results: before.outputs.clone(),
            done: 2,
            failed: 1,
            tolerated_percentage: None,
            tolerated_count: None,
            first_failure: None,
            failed_items: vec![(1, Some(stopped_at("S1")))],
            redriven: Some(Box::new(before)),
        };
        progress.skip_kept();
        assert_eq!(progress.next, 1);
        progress.next = 4; // 1 and 3 were launched; 2 was skipped.
        let unfinished = progress.into_unfinished(vec![(3, Some(stopped_at("S3")))]);
        assert_eq!(unfinished.succeeded, [true, false, true, false, false]);
        assert_eq!(
            unfinished.outputs[..3],
            [json!("o0"), Value::Null, json!("o2")]
        );
        let mut stopped: Vec<(usize, String)> = unfinished
            .stopped
            .iter()
            .map(|(i, s)| (*i, s.state.clone()))
            .collect();
        stopped.sort();
        assert_eq!(
            stopped,
            [
                (1, "S1".to_string()),
                (3, "S3".to_string()),
                (4, "S4".to_string())
            ]
        );
    }

    #[test]
    fn a_redriven_fact_without_rerun_replays_as_a_whole_rerun() {
        let legacy: Fact = serde_json::from_str(r#"{"fact":"Redriven"}"#).unwrap();
        assert_eq!(
            legacy,
            Fact::Redriven {
                rerun: Rerun::Whole
            }
        );
        assert_eq!(
            redriven_parallel(Rerun::Whole),
            [json!({"branch": "a"}), json!({"branch": "b"})]
        );
        assert_eq!(
            serde_json::to_string(&Fact::Redriven {
                rerun: Rerun::Unsuccessful
            })
            .unwrap(),
            r#"{"fact":"Redriven","rerun":"Unsuccessful"}"#
        );
        assert_eq!(
            redriven_parallel(Rerun::Unsuccessful),
            [json!({"branch": "b"})]
        );
    }
}
