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
//! zero; the states before it are not run again. **Deviation from AWS:** a
//! Parallel or Map state there runs again whole, its succeeded branches and
//! iterations included; AWS reruns only the branches and iterations that
//! failed or were aborted.

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
    Redriven,
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
        children: Vec<RunId>,
        results: Vec<Option<Value>>,
        remaining: usize,
    },
    Map(Box<MapProgress>),
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
        if self.status.is_terminal() && *fact != Fact::Redriven {
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
            Fact::Redriven => self.redrive(&mut cx, &mut work),
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
                Work::Enter { run, state, input } => self.enter(run, state, input, cx, work),
                Work::Fail { run, failure } => self.handle_failure(run, failure, cx, work),
                Work::RunEnded { run, outcome } => self.run_ended(run, outcome, cx, work),
            }
        }
    }

    fn machine(&self, run: RunId) -> &StateMachine {
        &self.compiled.machines[self.runs[&run].machine]
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
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let machine = self.machine(run);
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
                waiting: Waiting::Nothing,
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
        if let Some(frame) = self.runs.get_mut(&run).and_then(|r| r.frame.as_mut()) {
            frame.waiting = waiting;
        }
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
        }) = self
            .runs
            .get_mut(&run)
            .and_then(|r| r.frame.as_mut())
            .map(|f| &mut f.waiting)
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
        }) = self
            .runs
            .get(&run)
            .and_then(|r| r.frame.as_ref())
            .map(|f| &f.waiting)
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
        if let Some(Waiting::Task { timers, .. }) = self
            .runs
            .get_mut(&run)
            .and_then(|r| r.frame.as_mut())
            .map(|f| &mut f.waiting)
        {
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
    /// A Parallel or Map state there runs again whole (see the module docs).
    fn redrive(&mut self, cx: &mut Ctx, work: &mut Vec<Work>) {
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
            .get(&0)
            .and_then(|r| r.frame.as_ref())
            .map(|f| (f.state.clone(), f.raw_input.clone()));
        let (state, input) =
            resume.unwrap_or_else(|| (self.compiled.root().start_at.clone(), self.input.clone()));
        work.push(Work::Enter {
            run: 0,
            state,
            input,
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
        let mut children = Vec::new();
        for (i, m) in branch_machines.iter().enumerate() {
            let child = self.new_run(*m, Some((run, i)), variables.clone(), None);
            children.push(child);
        }
        let n = children.len();
        self.set_waiting(
            run,
            Waiting::Parallel {
                children: children.clone(),
                results: vec![None; n],
                remaining: n,
            },
        );
        // Pushed in reverse so branch 0 is entered first.
        for (i, child) in children.iter().enumerate().rev() {
            let start = self.compiled.machines[branch_machines[i]].start_at.clone();
            work.push(Work::Enter {
                run: *child,
                state: start,
                input: effective.clone(),
            });
        }
    }

    fn start_map(
        &mut self,
        run: RunId,
        machine: usize,
        state: &str,
        progress: MapProgress,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let length = progress.items.len();
        self.event(
            run,
            "MapStateStarted",
            Some(json!({ "length": length })),
            cx,
        );
        let processor = self.compiled.children_of(machine, state)[0];
        self.set_waiting(run, Waiting::Map(Box::new(progress)));
        if length == 0 {
            self.event(run, "MapStateSucceeded", None, cx);
            self.state_result(run, Value::Array(Vec::new()), cx, work);
            return;
        }
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
            // The item's input: ItemSelector over the Map's effective input
            // (borrowed, never copied per item) with `$$.Map.Item` set, or
            // the item itself.
            let input = match &spec.item_selector {
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
            };
            let variables = r.variables.clone();
            let label = map_state.name.clone();
            let child = self.new_run(
                processor,
                Some((run, index)),
                variables,
                Some((index, item)),
            );
            if let Some(Waiting::Map(p)) = self
                .runs
                .get_mut(&run)
                .and_then(|r| r.frame.as_mut())
                .map(|f| &mut f.waiting)
            {
                p.next += 1;
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
            }
            match input {
                Ok(input) => {
                    let start = compiled.machines[processor].start_at.clone();
                    work.push(Work::Enter {
                        run: child,
                        state: start,
                        input,
                    });
                }
                Err(failure) => work.push(Work::RunEnded {
                    run: child,
                    outcome: Err(failure),
                }),
            }
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
        let Some(waiting) = self
            .runs
            .get(&parent)
            .and_then(|p| p.frame.as_ref())
            .map(|f| &f.waiting)
        else {
            return;
        };
        match waiting {
            Waiting::Parallel { .. } => self.branch_ended(parent, slot, outcome, cx, work),
            Waiting::Map(_) => self.iteration_ended(parent, slot, outcome, cx, work),
            _ => {}
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
                    for c in children.clone() {
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
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        match outcome {
            Ok(output) => {
                let mut all_done = None;
                if let Some(Waiting::Parallel {
                    results, remaining, ..
                }) = self
                    .runs
                    .get_mut(&parent)
                    .and_then(|p| p.frame.as_mut())
                    .map(|f| &mut f.waiting)
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
                if let Some(Waiting::Parallel { children, .. }) = self
                    .runs
                    .get(&parent)
                    .and_then(|p| p.frame.as_ref())
                    .map(|f| f.waiting.clone())
                {
                    for c in children {
                        self.abort_run(c);
                    }
                }
                self.set_waiting(parent, Waiting::Nothing);
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
        let Some(Waiting::Map(p)) = self
            .runs
            .get_mut(&parent)
            .and_then(|r| r.frame.as_mut())
            .map(|f| &mut f.waiting)
        else {
            return;
        };
        p.active.remove(&index);
        p.done += 1;
        match outcome {
            Ok(v) => p.results[index] = v,
            Err(f) => {
                p.failed += 1;
                p.first_failure.get_or_insert(f);
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
            let active: Vec<(usize, RunId)> = match self
                .runs
                .get(&parent)
                .and_then(|r| r.frame.as_ref())
                .map(|f| &f.waiting)
            {
                Some(Waiting::Map(p)) => p.active.iter().map(|(i, r)| (*i, *r)).collect(),
                _ => Vec::new(),
            };
            for (i, child) in active {
                self.abort_run(child);
                self.event(
                    parent,
                    "MapIterationAborted",
                    Some(json!({ "name": state_name, "index": i })),
                    cx,
                );
            }
            self.set_waiting(parent, Waiting::Nothing);
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
        // Abort every run but the root; forget every wait.
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
                self.runs
                    .get(run)
                    .and_then(|r| r.frame.as_ref())
                    .map(|f| &f.waiting),
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
                        zoomvault_asl::definition::kind_of(&other)
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
