//! Entering a state and running its body: the state lifecycle of each
//! state type, evaluated without touching the execution (`evaluate_body`),
//! then applied to it (completion, exit events, the next state).

use super::*;

/// What a state's body decided, computed without touching the execution.
pub(super) enum Body {
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

pub(super) fn evaluate_body(
    state: &State,
    raw: &Value,
    env: &mut Env,
    now: i64,
) -> Result<Body, Failure> {
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

pub(super) fn env_scope<'a>(env: &'a Env, data: &'a Value) -> zoomvault_asl::Scope<'a> {
    zoomvault_asl::Scope::new(data, env.context, env.variables)
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
        self.event(run, entered_type, Some(Value::Object(entered)), cx);
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
                self.exited(run, state, &output, cx);
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

    /// A Task, Parallel or Map produced its result: ResultSelector, Assign,
    /// ResultPath, OutputPath, then on.
    pub(super) fn state_result(
        &mut self,
        run: RunId,
        result: Value,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
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

    pub(super) fn finish_wait(
        &mut self,
        run: RunId,
        effective: Value,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
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
}
