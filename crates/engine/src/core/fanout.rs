//! Parallel branches and Map iterations: child runs started under
//! MaxConcurrency, their outcomes gathered in order, tolerated failures
//! counted, and siblings stopped when one fails the state.

use super::*;

#[derive(Debug, Clone)]
pub(super) struct MapProgress {
    pub(super) items: Vec<Value>,
    pub(super) effective_input: Value,
    pub(super) next: usize,
    pub(super) max_concurrency: usize,
    pub(super) active: BTreeMap<usize, RunId>,
    pub(super) results: Vec<Value>,
    pub(super) done: usize,
    pub(super) failed: u64,
    pub(super) tolerated_percentage: Option<f64>,
    pub(super) tolerated_count: Option<u64>,
    pub(super) first_failure: Option<Failure>,
    /// Iterations that failed in this attempt, with where each stopped.
    pub(super) failed_items: Vec<(usize, Option<StoppedRun>)>,
    /// On a redrive, what the attempt before left: its succeeded items are
    /// skipped, its stopped ones resume where they stopped.
    pub(super) redriven: Option<Box<Unfinished>>,
}

impl Execution {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_parallel(
        &mut self,
        run: RunId,
        machine: usize,
        state: &str,
        effective: Value,
        variables: Map<String, Value>,
        cx: &mut Ctx,
        work: &mut Vec<Work>,
    ) {
        self.event(run, EventType::ParallelStateStarted, None, cx);
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
            self.event(run, EventType::ParallelStateSucceeded, None, cx);
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

    pub(super) fn start_map(
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
            EventType::MapStateStarted,
            Some(json!({ "length": length })),
            cx,
        );
        if progress.done == length {
            // No items, or a redrive found every item succeeded.
            self.event(run, EventType::MapStateSucceeded, None, cx);
            self.state_result(run, Value::Array(progress.results), cx, work);
            return;
        }
        let processor = self.compiled.children_of(machine, state)[0];
        self.set_waiting(run, Waiting::Map(Box::new(progress)));
        self.launch_iterations(run, processor, cx, work);
    }

    /// Starts Map iterations while below MaxConcurrency.
    pub(super) fn launch_iterations(
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
                    // A failure here is the Map state's own evaluation.
                    lifecycle::item_input(selector, &p.effective_input, &mut env)
                        .map_err(|f| f.in_state(&map_state.name, frame.entered_event))
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
                EventType::MapIterationStarted,
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

    pub(super) fn run_ended(
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
            self.runs.insert(run, r);
            let end = match outcome {
                Ok(output) => End::Succeeded { output },
                Err(failure) => End::Failed { failure },
            };
            self.finish(end, cx);
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

    /// Aborts a run and all its descendants (a sibling branch failed, or
    /// the execution ended).
    pub(super) fn abort_run(&mut self, run: RunId) {
        self.abort_map_run(run);
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

    pub(super) fn branch_ended(
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
                    self.event(parent, EventType::ParallelStateSucceeded, None, cx);
                    self.state_result(parent, Value::Array(results), cx, work);
                }
            }
            Err(failure) => {
                // The other branches stop; all keep what a redrive needs.
                if let Some(Waiting::Parallel {
                    children, results, ..
                }) = self.take_waiting(parent)
                {
                    let unfinished =
                        self.parallel_unfinished(children, results, Some((slot, stopped)));
                    self.set_waiting(parent, Waiting::Unfinished(Box::new(unfinished)));
                }
                self.event(parent, EventType::ParallelStateFailed, None, cx);
                work.push(Work::Fail {
                    run: parent,
                    failure,
                });
            }
        }
    }

    pub(super) fn iteration_ended(
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
        let over =
            body::exceeds_tolerance(p.failed, total, p.tolerated_percentage, p.tolerated_count);
        let tolerance_given = p.tolerated_percentage.is_some() || p.tolerated_count.is_some();
        let all_done = p.done == p.items.len();
        let failed = p.failed;
        let first_failure = p.first_failure.clone();
        self.event(
            parent,
            if ok {
                EventType::MapIterationSucceeded
            } else {
                EventType::MapIterationFailed
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
            if let Some(Waiting::Map(p)) = self.take_waiting(parent) {
                let mut stopped_active = Vec::with_capacity(p.active.len());
                for (&i, &child) in &p.active {
                    stopped_active.push((i, self.freeze_run(child)));
                    self.event(
                        parent,
                        EventType::MapIterationAborted,
                        Some(json!({ "name": state_name, "index": i })),
                        cx,
                    );
                }
                let unfinished = p.into_unfinished(stopped_active);
                self.set_waiting(parent, Waiting::Unfinished(Box::new(unfinished)));
            }
            self.event(parent, EventType::MapStateFailed, None, cx);
            work.push(Work::Fail {
                run: parent,
                failure,
            });
            return;
        }
        if all_done {
            let results = match self.take_waiting(parent) {
                Some(Waiting::Map(p)) => p.results,
                _ => Vec::new(),
            };
            self.event(parent, EventType::MapStateSucceeded, None, cx);
            self.state_result(parent, Value::Array(results), cx, work);
            return;
        }
        self.launch_iterations(parent, processor, cx, work);
    }
}
