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
//! A distributed Map whose Map Run did not succeed after its items were
//! known (its children failed past the tolerance, its ResultWriter failed,
//! or the execution stopped or timed out in it) keeps the run
//! (`Unfinished::map_run`), and a redrive redrives that run under its own
//! ARN, as AWS's "Redriving Map Runs" describes
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/redrive-map-run.html>):
//! succeeded children keep their results, STANDARD children that did not
//! succeed are redriven themselves, EXPRESS ones and those never started
//! are started again, the parent records MapRunRedriven, and the results
//! (and ResultWriter files) are assembled from kept and new ones
//! (`map_run::redrive_map_run`). A run whose items were never known (its
//! ItemReader or ItemSelector failed) is started anew, as AWS starts a new
//! Map Run when the first one did not start.
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

use super::*;

/// What a Parallel or Map state that did not succeed (it failed, or its
/// execution stopped or timed out in it) leaves for a redrive: the outputs
/// of its branches or iterations that succeeded and where each of the
/// others stopped. Built only then, so an execution that never fails keeps
/// nothing per child beyond a Map's results.
#[derive(Debug, Clone)]
pub(super) struct Unfinished {
    /// By branch or item index; meaningful where `succeeded` is set.
    pub(super) outputs: Vec<Value>,
    pub(super) succeeded: Vec<bool>,
    /// Children that did not succeed after entering a state. The others
    /// (not started, or failed before their first state) start afresh.
    pub(super) stopped: FxHashMap<usize, StoppedRun>,
    /// A distributed Map's Map Run that did not succeed after its items
    /// were known: a redrive redrives this run (see `map_run`).
    pub(super) map_run: Option<Box<MapRunProgress>>,
}

impl Unfinished {
    pub(super) fn not_succeeded(&mut self, index: usize, stopped: Option<StoppedRun>) {
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
pub(super) struct StoppedRun {
    pub(super) variables: Map<String, Value>,
    pub(super) state: String,
    pub(super) raw_input: Value,
    /// That state's own children, when it is a Parallel or Map.
    pub(super) unfinished: Option<Box<Unfinished>>,
}

impl MapProgress {
    /// Moves `next` past the items a redrive keeps.
    pub(super) fn skip_kept(&mut self) {
        if let Some(before) = &self.redriven {
            while before.succeeded.get(self.next) == Some(&true) {
                self.next += 1;
            }
        }
    }

    /// What this attempt leaves for a redrive, given where its iterations
    /// still active (`stopped_active`) stopped.
    pub(super) fn into_unfinished(
        self,
        stopped_active: Vec<(usize, Option<StoppedRun>)>,
    ) -> Unfinished {
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
            map_run: None,
        };
        for (index, stopped) in self.failed_items.into_iter().chain(stopped_active) {
            unfinished.not_succeeded(index, stopped);
        }
        unfinished
    }
}

impl Execution {
    /// RedriveExecution: the top-level state that did not succeed is
    /// entered again with the input it had, its retries counted from zero.
    /// A Parallel or Map state there takes what the attempt before left
    /// (see the module docs).
    pub(super) fn redrive(&mut self, cx: &mut Ctx, work: &mut Vec<Work>) {
        if matches!(self.end, None | Some(End::Succeeded { .. })) {
            return;
        }
        self.end = None;
        self.redrive_count += 1;
        self.redrive_ms = Some(cx.now);
        let count = self.redrive_count;
        self.event(
            0,
            EventType::ExecutionRedriven,
            Some(json!({ "redriveCount": count })),
            cx,
        );
        // The state machine's TimeoutSeconds counts again from the redrive.
        self.arm_execution_timeout(cx);
        let resume = self
            .runs
            .get_mut(&0)
            .and_then(|r| r.frame.as_mut())
            .map(|f| {
                let unfinished = match std::mem::replace(&mut f.waiting, Waiting::Nothing) {
                    Waiting::Unfinished(u) => Some(u),
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

    /// A run that did not succeed, as a redrive resumes it; its children
    /// are stopped too, each kept the same way.
    pub(super) fn stopped_run(&mut self, r: Run) -> Option<StoppedRun> {
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
    pub(super) fn freeze_run(&mut self, run: RunId) -> Option<StoppedRun> {
        // A Map Run it is in stops with it (a redrive enters that Map state
        // again).
        self.abort_map_run(run);
        let r = self.runs.remove(&run)?;
        self.forget_waits(&r);
        self.stopped_run(r)
    }

    /// What a Parallel or Map state leaves for a redrive, given what it was
    /// waiting on; its children still running are stopped.
    pub(super) fn unfinished_of(&mut self, waiting: Waiting) -> Option<Box<Unfinished>> {
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
    pub(super) fn parallel_unfinished(
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
            map_run: None,
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
    pub(super) fn take_unfinished(&mut self, run: RunId) -> Option<Box<Unfinished>> {
        let frame = self.runs.get_mut(&run)?.frame.as_mut()?;
        match std::mem::replace(&mut frame.waiting, Waiting::Nothing) {
            Waiting::Unfinished(u) => Some(u),
            other => {
                frame.waiting = other;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::TokenSecret;

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
            token_secret: TokenSecret::from_bytes([7; 32]),
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
                _ => None,
            })
            .collect()
    }

    /// A Parallel of two tasks whose second failed, redriven: the inputs
    /// of the tasks the redrive runs.
    fn redriven_parallel() -> Vec<Value> {
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
        assert_eq!(e.status(), Status::Failed);
        task_inputs(&e.apply(&Fact::Redriven, 3))
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
            map_run: None,
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
    fn a_redriven_parallel_runs_only_the_branch_that_failed() {
        assert_eq!(
            serde_json::to_string(&Fact::Redriven).unwrap(),
            r#"{"fact":"Redriven"}"#
        );
        assert_eq!(redriven_parallel(), [json!({"branch": "b"})]);
    }
}
