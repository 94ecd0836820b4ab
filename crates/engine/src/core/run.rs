//! The tree of runs inside an execution (the top level, each Parallel
//! branch, each Map iteration), what each run's current state waits for,
//! and the history chain each run writes to. Nothing here decides where a
//! run goes next; `states` does.

use super::*;

pub(super) type RunId = u64;

#[derive(Debug, Clone)]
pub(super) struct Run {
    pub(super) machine: usize,
    pub(super) parent: Option<(RunId, usize)>,
    pub(super) variables: Map<String, Value>,
    pub(super) frame: Option<Frame>,
    /// The last history event of this run, for `previousEventId`.
    pub(super) last_event: u64,
    /// `$$.Map.Item` for a Map iteration.
    pub(super) map_item: Option<(usize, Value)>,
}

#[derive(Debug, Clone)]
pub(super) struct Frame {
    pub(super) state: String,
    pub(super) raw_input: Value,
    pub(super) entered_ms: i64,
    /// The id of its `...StateEntered` event, which AWS names in the cause
    /// of a failure the state's own evaluation raises
    /// (`Failure::in_state`).
    pub(super) entered_event: u64,
    /// Retries made under each retrier of the state.
    pub(super) retries: Vec<u64>,
    pub(super) retry_count: u64,
    pub(super) waiting: Waiting,
}

/// A task a Task state waits for, with what its history events name.
#[derive(Debug, Clone)]
pub(super) struct AwaitedTask {
    pub(super) key: u64,
    /// Its TimeoutSeconds and HeartbeatSeconds timers.
    pub(super) timers: Vec<u64>,
    /// A Lambda function used directly as the resource: its events are
    /// `LambdaFunction*`, not `Task*`.
    pub(super) lambda_function: bool,
    pub(super) resource_type: String,
    pub(super) resource: String,
    /// A `.waitForTaskToken` task: SendTaskSuccess/Failure ends it.
    pub(super) callback: bool,
    /// Its TaskSubmitted was recorded: the handler is not run again.
    pub(super) submitted: bool,
    pub(super) heartbeat_seconds: Option<u64>,
}

#[derive(Debug, Clone)]
pub(super) enum Waiting {
    Nothing,
    Task(AwaitedTask),
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
    /// A distributed Map's Map Run.
    MapRun(Box<MapRunProgress>),
    /// The Parallel or Map state did not succeed: what its children left
    /// for a redrive.
    Unfinished(Box<Unfinished>),
}

/// What a timer is for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TimerPurpose {
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
pub(super) enum Work {
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

/// A run's current state and its evaluation inputs (see `Execution::current`).
pub(super) struct Current {
    pub(super) compiled: Arc<Compiled>,
    pub(super) machine: usize,
    pub(super) index: usize,
    pub(super) raw: Value,
    /// The id of the state's entered event (`Frame::entered_event`).
    pub(super) entered_event: u64,
    pub(super) context: Value,
    pub(super) variables: Map<String, Value>,
}

impl Current {
    pub(super) fn state(&self) -> &State {
        &self.compiled.machines[self.machine].states[self.index]
    }

    pub(super) fn env<'a>(&'a self, entropy: &'a mut SplitMix64) -> Env<'a> {
        Env {
            context: &self.context,
            variables: &self.variables,
            entropy,
        }
    }
}

impl Execution {
    pub(super) fn new_run(
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

    pub(super) fn key(&mut self) -> u64 {
        let k = self.next_key;
        self.next_key += 1;
        k
    }

    /// Records a history event on a run's chain.
    pub(super) fn event(
        &mut self,
        run: RunId,
        event_type: EventType,
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

    pub(super) fn drain(&mut self, work: &mut Vec<Work>, cx: &mut Ctx) {
        while let Some(item) = work.pop() {
            if self.end.is_some() {
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
    pub(super) fn context(&self, run: RunId, task_token: Option<&str>, use_: ContextUse) -> Value {
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

    /// The run's current state with what evaluating it needs, copied out
    /// of the execution so the execution can change while it is used.
    pub(super) fn current(&self, run: RunId) -> Option<Current> {
        self.current_with_token(run, None)
    }

    /// `current`, with `$$.Task.Token` in the context.
    pub(super) fn current_with_token(
        &self,
        run: RunId,
        task_token: Option<&str>,
    ) -> Option<Current> {
        let r = self.runs.get(&run)?;
        let frame = r.frame.as_ref()?;
        let states = &self.compiled.machines[r.machine].states;
        let index = states.get_index_of(&frame.state)?;
        Some(Current {
            compiled: Arc::clone(&self.compiled),
            machine: r.machine,
            index,
            raw: frame.raw_input.clone(),
            entered_event: frame.entered_event,
            context: self.context(run, task_token, states[index].context_use),
            variables: r.variables.clone(),
        })
    }

    pub(super) fn set_waiting(&mut self, run: RunId, waiting: Waiting) {
        if let Some(w) = self.waiting_mut(run) {
            *w = waiting;
        }
    }

    /// What the run's current state waits for, if it is in one.
    pub(super) fn waiting(&self, run: RunId) -> Option<&Waiting> {
        self.runs
            .get(&run)
            .and_then(|r| r.frame.as_ref())
            .map(|f| &f.waiting)
    }

    /// The same, to change.
    pub(super) fn waiting_mut(&mut self, run: RunId) -> Option<&mut Waiting> {
        self.runs
            .get_mut(&run)
            .and_then(|r| r.frame.as_mut())
            .map(|f| &mut f.waiting)
    }

    /// What the run's current state waits for, taken out: it waits for
    /// nothing now.
    pub(super) fn take_waiting(&mut self, run: RunId) -> Option<Waiting> {
        self.waiting_mut(run)
            .map(|w| std::mem::replace(w, Waiting::Nothing))
    }

    pub(super) fn forget_waits(&mut self, r: &Run) {
        if let Some(frame) = &r.frame {
            match &frame.waiting {
                Waiting::Task(AwaitedTask { key, timers, .. }) => {
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
}
