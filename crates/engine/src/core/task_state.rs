//! Task states: scheduling a task (its history events, timeout and
//! heartbeat timers, the `RunTask` action), callback tasks submitted and
//! kept alive by heartbeats, and the task's outcome.

use super::*;

impl Execution {
    /// The token the run's current state gets if it is a Task whose fields
    /// read `$$`: the task it schedules takes the next key, so its token
    /// is known before Parameters are evaluated.
    pub(super) fn next_task_token(&self, run: RunId) -> Option<String> {
        let r = self.runs.get(&run)?;
        let frame = r.frame.as_ref()?;
        let state = self.compiled.machines[r.machine].state(&frame.state)?;
        let reads_context =
            matches!(state.kind, StateKind::Task(_)) && state.context_use != ContextUse::None;
        reads_context.then(|| {
            crate::task::task_token(
                &self.info.execution_arn,
                &self.info.token_secret,
                self.next_key,
            )
        })
    }

    pub(super) fn schedule_task(
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
                &self.info.token_secret,
                key,
            ),
        }));
    }

    /// A callback task's worker has it: record TaskSubmitted (once) and keep
    /// waiting for SendTaskSuccess/Failure.
    pub(super) fn task_submitted(&mut self, run: RunId, output: Option<&Value>, cx: &mut Ctx) {
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
    pub(super) fn task_heartbeat(&mut self, run: RunId, task: u64, cx: &mut Ctx) {
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

    pub(super) fn task_waiting(&self, run: RunId) -> Option<(Vec<u64>, bool, String, String)> {
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

    pub(super) fn task_succeeded(
        &mut self,
        run: RunId,
        output: Value,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
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
    pub(super) fn task_failed(
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
}
