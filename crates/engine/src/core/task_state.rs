//! Task states: scheduling a task (its history events, timeout and
//! heartbeat timers, the `RunTask` action), callback tasks submitted and
//! kept alive by heartbeats, and the task's outcome.

use super::*;

/// How a task ended without a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TaskFailure {
    Failed,
    TimedOut,
}

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
            self.event(
                run,
                EventType::LambdaFunctionScheduled,
                Some(Value::Object(d)),
                cx,
            );
            self.event(run, EventType::LambdaFunctionStarted, None, cx);
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
            self.event(run, EventType::TaskScheduled, Some(Value::Object(d)), cx);
            self.event(
                run,
                EventType::TaskStarted,
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
            Waiting::Task(AwaitedTask {
                key,
                timers,
                lambda_function,
                resource_type: resource_type.clone(),
                resource: resource.clone(),
                callback,
                submitted: false,
                heartbeat_seconds: heartbeat,
            }),
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
        let Some(Waiting::Task(AwaitedTask {
            callback: true,
            submitted,
            resource_type,
            resource,
            ..
        })) = self.waiting_mut(run)
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
        self.event(run, EventType::TaskSubmitted, Some(Value::Object(d)), cx);
    }

    /// SendTaskHeartbeat: the HeartbeatSeconds clock starts again, on a new
    /// timer; the old one is disarmed and will change nothing if it fires.
    pub(super) fn task_heartbeat(&mut self, run: RunId, task: u64, cx: &mut Ctx) {
        let Some(Waiting::Task(AwaitedTask {
            callback: true,
            timers,
            heartbeat_seconds: Some(seconds),
            ..
        })) = self.waiting(run)
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
        if let Some(Waiting::Task(AwaitedTask { timers, .. })) = self.waiting_mut(run) {
            timers.retain(|t| Some(*t) != old);
            timers.push(new);
        }
        cx.out.actions.push(Action::StartTimer {
            key: new,
            due_ms: cx.now + (seconds as i64) * 1000,
        });
    }

    /// The task the run's current state waits for, its timers disarmed:
    /// the task has ended.
    fn end_awaited_task(&mut self, run: RunId) -> Option<AwaitedTask> {
        let Some(Waiting::Task(task)) = self.waiting(run) else {
            return None;
        };
        let task = task.clone();
        for t in &task.timers {
            self.timers.remove(t);
        }
        Some(task)
    }

    pub(super) fn task_succeeded(
        &mut self,
        run: RunId,
        output: Value,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let Some(task) = self.end_awaited_task(run) else {
            return;
        };
        // A result over a limit fails the task (TaskFailed or
        // LambdaFunctionFailed), as AWS does, naming a Lambda function by
        // its ARN and an integration by its service.
        let who = if task.lambda_function {
            &task.resource
        } else {
            &task.resource_type
        };
        if let Some(failure) = Failure::for_payload(&output, who) {
            return self.task_failed(run, failure, TaskFailure::Failed, cx, work);
        }
        if task.lambda_function {
            let d = with_data(Map::new(), DataField::Output, &output);
            self.event(
                run,
                EventType::LambdaFunctionSucceeded,
                Some(Value::Object(d)),
                cx,
            );
        } else {
            let mut d = with_data(Map::new(), DataField::Output, &output);
            d.insert("resourceType".into(), json!(task.resource_type));
            d.insert("resource".into(), json!(task.resource));
            self.event(run, EventType::TaskSucceeded, Some(Value::Object(d)), cx);
        }
        self.state_result(run, output, cx, work);
    }

    /// The task failed, or (`TaskFailure::TimedOut`) its TimeoutSeconds or
    /// HeartbeatSeconds ran out.
    pub(super) fn task_failed(
        &mut self,
        run: RunId,
        failure: Failure,
        how: TaskFailure,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let Some(task) = self.end_awaited_task(run) else {
            return;
        };
        let event_type = match (task.lambda_function, how) {
            (true, TaskFailure::TimedOut) => EventType::LambdaFunctionTimedOut,
            (true, TaskFailure::Failed) => EventType::LambdaFunctionFailed,
            (false, TaskFailure::TimedOut) => EventType::TaskTimedOut,
            (false, TaskFailure::Failed) => EventType::TaskFailed,
        };
        let mut d = Map::new();
        if !task.lambda_function {
            d.insert("resourceType".into(), json!(task.resource_type));
            d.insert("resource".into(), json!(task.resource));
        }
        let d = with_failure(d, &failure);
        self.event(run, event_type, Some(Value::Object(d)), cx);
        work.push(Work::Fail { run, failure });
    }
}
