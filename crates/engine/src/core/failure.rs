//! A state that failed: Retry (a timer, then the body again), Catch (the
//! error output into the catcher's ResultPath), or the failure handed up
//! to the run; and what each kind of timer does when it fires.

use super::*;

impl Execution {
    /// A state failed: Retry, Catch, or fail the run.
    pub(super) fn handle_failure(
        &mut self,
        run: RunId,
        failure: Failure,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        let compiled = Arc::clone(&self.compiled);
        let mut failure = failure;
        // A JSONata expression of the state's own failed: AWS records where
        // (EvaluationFailed) before the failure is retried, caught or ends
        // the run; taking the location records it once, at this state.
        if let Some(location) = failure.location.take() {
            if let Some(state) = self
                .runs
                .get(&run)
                .and_then(|r| r.frame.as_ref())
                .map(|f| f.state.clone())
            {
                let details = json!({
                    "error": failure.error,
                    "cause": failure.cause,
                    "location": location,
                    "state": state,
                });
                self.event(run, EventType::EvaluationFailed, Some(details), cx);
            }
        }
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
                let index = catcher;
                let catcher = &state.catch[catcher];
                let cur = self
                    .current(run)
                    .expect("a failing run has a current state");
                let mut env = cur.env(&mut cx.entropy);
                let caught = lifecycle::catch(catcher, index, &cur.raw, &failure, &mut env);
                match caught {
                    Ok(Finished { output, assigned }) => {
                        let next = catcher.next.clone();
                        if let Some(r) = self.runs.get_mut(&run) {
                            r.variables.extend(assigned);
                        }
                        self.exited(run, state, &output, cx);
                        work.push(Work::Enter {
                            run,
                            state: next,
                            input: output,
                            unfinished: None,
                        });
                    }
                    Err(f) => work.push(Work::RunEnded {
                        run,
                        outcome: Err(f.in_state(&state.name, cur.entered_event)),
                    }),
                }
            }
            Recovery::Propagate => work.push(Work::RunEnded {
                run,
                outcome: Err(failure),
            }),
        }
    }

    pub(super) fn timer_fired(
        &mut self,
        purpose: TimerPurpose,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        match purpose {
            TimerPurpose::ExecutionTimeout => {
                // AWS reports neither an error nor a cause for an
                // execution that ran past TimeoutSeconds: DescribeExecution
                // shows only TIMED_OUT (LocalStack's snapshot recorded on
                // AWS, `test_timeouts.snapshot.json::test_global_timeout`,
                // https://github.com/localstack/localstack/blob/main/tests/aws/services/stepfunctions/v2/timeouts/test_timeouts.snapshot.json).
                self.finish(
                    End::TimedOut {
                        failure: Failure::new("", ""),
                    },
                    cx,
                );
            }
            TimerPurpose::TaskTimeout {
                run,
                task,
                heartbeat,
            } => {
                if self.tasks.remove(&task).is_some() {
                    // A timed-out task has an error and no cause, in its
                    // `...TimedOut` event and in what it fails the state
                    // with (the same snapshot file, `test_fixed_timeout_*`).
                    let error = if heartbeat {
                        names::HEARTBEAT_TIMEOUT
                    } else {
                        names::TIMEOUT
                    };
                    let failure = Failure::new(error, "");
                    self.task_failed(run, failure, TaskFailure::TimedOut, cx, work);
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
                    } => self.state_result(run, effective_input, cx, work),
                    _ => {}
                }
            }
        }
    }
}
