//! Entering a state and running its body: `lifecycle::enter` and the state
//! type's body, evaluated without touching the execution (`evaluate_body`);
//! then, once the body has its result, `lifecycle::finish` and what it
//! means for the run (variables, the exit event, the next state). Which
//! fields apply in which order is `asl::lifecycle`'s alone.

use super::*;

/// What a state's body decided, computed without touching the execution.
pub(super) enum Body {
    /// The body's result, at once: Pass, Choice, Succeed.
    Result(BodyResult),
    /// A Wait: its result is its effective input, when the timer fires.
    Wait {
        due_ms: i64,
        effective: Value,
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
    MapRun(Box<MapRunStart>),
}

/// What a state's body produced, and for a Choice where it goes next and
/// which rule took it there (whose Assign is evaluated with the state's).
pub(super) struct BodyResult {
    pub(super) result: Value,
    pub(super) next: Option<String>,
    pub(super) rule: Option<usize>,
}

impl BodyResult {
    /// A result that goes on by the state's own transition.
    pub(super) fn of(result: Value) -> BodyResult {
        BodyResult {
            result,
            next: None,
            rule: None,
        }
    }
}

/// Enters the state (`lifecycle::enter`) and runs its type's body on the
/// effective input. The rest of the lifecycle runs once the body has a
/// result (`Execution::finish_with`).
pub(super) fn evaluate_body(
    state: &State,
    raw: &Value,
    env: &mut Env,
    now: i64,
) -> Result<Body, Failure> {
    let effective = lifecycle::enter(state, raw, env)?;
    // A state's input after Parameters (or JSONata Arguments) must fit the
    // payload limit; without them it is the previous state's output,
    // already checked.
    if state.processing.parameters.is_some() || state.arguments.is_some() {
        if let Some(failure) = Failure::for_payload(&effective, &state.name) {
            return Err(failure);
        }
    }
    // What the body's own fields read: the effective input for a JSONPath
    // `...Path`, the raw input (`$states.input`) for a JSONata `{% %}`.
    let data = lifecycle::body_input(state, raw, &effective);
    Ok(match &state.kind {
        StateKind::Pass(pass) => {
            Body::Result(BodyResult::of(pass.result.clone().unwrap_or(effective)))
        }
        StateKind::Choice(choice) => {
            let rule = body::choose(state, data, env)?;
            let next = match rule {
                Some(i) => choice.choices[i].next.clone(),
                None => choice.default.clone().unwrap_or_default(),
            };
            Body::Result(BodyResult {
                result: effective,
                next: Some(next),
                rule,
            })
        }
        StateKind::Wait(wait) => {
            let until = body::wait_until(wait, data, env, from_ms(now))?;
            Body::Wait {
                due_ms: to_ms(until),
                effective,
            }
        }
        StateKind::Succeed => Body::Result(BodyResult::of(effective)),
        StateKind::Fail(fail) => Body::Fail(body::fail_failure(fail, data, env)?),
        StateKind::Task(task) => {
            let timeout = task
                .timeout_seconds
                .as_ref()
                .map(|d| body::dynamic_u64(d, data, env, "TimeoutSecondsPath"))
                .transpose()?;
            let heartbeat = task
                .heartbeat_seconds
                .as_ref()
                .map(|d| body::dynamic_u64(d, data, env, "HeartbeatSecondsPath"))
                .transpose()?;
            let target = TaskTarget::resolve(&task.resource, &effective)?;
            Body::Task {
                target,
                effective,
                timeout,
                heartbeat,
            }
        }
        StateKind::Parallel(_) => Body::Parallel { effective },
        StateKind::Map(map) if map.distributed.is_some() => {
            let dist = map.distributed.as_deref().expect("checked above");
            Body::MapRun(Box::new(map_run::evaluate(
                state, map, dist, effective, env,
            )?))
        }
        StateKind::Map(map) => {
            let items = body::map_items(state, map, data, env)?;
            let max = body::dynamic_u64(&map.max_concurrency, data, env, "MaxConcurrencyPath")?;
            let tolerated_percentage = map
                .tolerated_failure_percentage
                .as_ref()
                .map(|d| body::dynamic_f64(d, data, env, "ToleratedFailurePercentagePath"))
                .transpose()?;
            let tolerated_count = map
                .tolerated_failure_count
                .as_ref()
                .map(|d| body::dynamic_u64(d, data, env, "ToleratedFailureCountPath"))
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

impl Execution {
    pub(super) fn enter(
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
        let entered_type = EventType::entered(&state.kind);
        let retries = vec![0; state.retry.len()];
        self.transitions += 1;
        if let Some(r) = self.runs.get_mut(&run) {
            r.frame = Some(Frame {
                state: state_name.clone(),
                raw_input: raw.clone(),
                entered_ms: cx.now,
                // Set below, once the entered event has its id.
                entered_event: 0,
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
        let entered_event = self.event(run, entered_type, Some(Value::Object(entered)), cx);
        if let Some(frame) = self.runs.get_mut(&run).and_then(|r| r.frame.as_mut()) {
            frame.entered_event = entered_event;
        }
        self.execute(run, cx, work);
    }

    /// Runs the current state's body (also on a retry).
    pub(super) fn execute(&mut self, run: RunId, cx: &mut Ctx, work: &mut Vec<Work>) {
        let token = self.next_task_token(run);
        let cur = self
            .current_with_token(run, token.as_deref())
            .expect("execute needs a current state");
        let state = cur.state();
        let machine_id = cur.machine;
        let variables = &cur.variables;
        let body = evaluate_body(state, &cur.raw, &mut cur.env(&mut cx.entropy), cx.now);
        match body {
            Err(failure) => work.push(Work::Fail {
                run,
                failure: failure.in_state(&state.name, cur.entered_event),
            }),
            Ok(Body::Result(produced)) => self.finish_with(&cur, run, produced, cx, work),
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
            Ok(Body::MapRun(start)) => self.start_map_run(run, &state.name, *start, cx, work),
        }
    }

    /// A Task, Parallel or Map produced its result, or a Wait's timer
    /// fired: the rest of the state's lifecycle, then on.
    pub(super) fn state_result(
        &mut self,
        run: RunId,
        result: Value,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        if let Some(cur) = self.current(run) {
            self.finish_with(&cur, run, BodyResult::of(result), cx, work);
        }
    }

    /// The state `cur` of `run` has its body's result: ResultSelector,
    /// Assign (with the chosen Choice rule's), ResultPath, OutputPath
    /// (`lifecycle::finish`), then on to the next state. A body that has its
    /// result at once passes the `cur` it was evaluated with, so its input,
    /// variables and context are not copied out of the execution twice.
    pub(super) fn finish_with(
        &mut self,
        cur: &Current,
        run: RunId,
        produced: BodyResult,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let BodyResult { result, next, rule } = produced;
        let state = cur.state();
        let rule = match (&state.kind, rule) {
            (StateKind::Choice(choice), Some(i)) => Some((i, &choice.choices[i])),
            _ => None,
        };
        let mut env = cur.env(&mut cx.entropy);
        match lifecycle::finish(state, &cur.raw, result, rule, &mut env) {
            Ok(Finished { output, assigned }) => {
                self.complete(run, output, assigned, next, cx, work)
            }
            Err(failure) => work.push(Work::Fail {
                run,
                failure: failure.in_state(&state.name, cur.entered_event),
            }),
        }
    }

    /// The current state completed with `output`: set variables, record the
    /// exit, and move on (`next` overrides the state's transition for Choice).
    pub(super) fn complete(
        &mut self,
        run: RunId,
        output: Value,
        assigned: Map<String, Value>,
        next: Option<String>,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let compiled = Arc::clone(&self.compiled);
        // A state's output (an execution's, for the last) must fit the
        // payload limits.
        if let Some(frame) = self.runs.get(&run).and_then(|r| r.frame.as_ref()) {
            if let Some(failure) = Failure::for_payload(&output, &frame.state) {
                let failure = failure.in_state(&frame.state, frame.entered_event);
                work.push(Work::Fail { run, failure });
                return;
            }
        }
        let r = self.runs.get_mut(&run).expect("run exists");
        r.variables.extend(assigned);
        let frame = r.frame.as_ref().expect("current state");
        let state = compiled.machines[r.machine]
            .state(&frame.state)
            .expect("state exists");
        self.exited(run, state, &output, cx);
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

    /// Records that the run left `state` with `output` (a Fail state is
    /// never left: it ends its run).
    pub(super) fn exited(&mut self, run: RunId, state: &State, output: &Value, cx: &mut Ctx) {
        let Some(exited_type) = EventType::exited(&state.kind) else {
            return;
        };
        let d = with_data(
            Map::from_iter([("name".to_string(), json!(state.name))]),
            DataField::Output,
            output,
        );
        self.event(run, exited_type, Some(Value::Object(d)), cx);
    }
}
