//! The driver: one thread that owns the journal's write connection and
//! every running execution, turning messages (start, task done, timer due,
//! stop) into facts, applying them, committing facts and history in one
//! transaction, and only then performing the resulting actions (dispatching
//! tasks to handlers on the tokio runtime, arming timers, answering callers).
//!
//! Facts from many executions are committed together (group commit), which
//! is what lets one SQLite file sustain tens of thousands of durable
//! transitions a second. On open, every RUNNING execution is rebuilt by
//! replaying its facts through the same `apply`; the tasks it still awaits
//! are dispatched again (at least once) and its timers re-armed at their
//! recorded due times.
//!
//! # Callback tasks (`.waitForTaskToken`)
//!
//! A callback task ends with `send_task_success` or `send_task_failure`,
//! which name it by its task token (see `task::task_token`). Its handler, if
//! one is registered under the target's name, is called with the token as
//! any task's is; what it returns only *submits* the task (a TaskSubmitted
//! event with that output, as AWS records the service's answer), while a
//! handler failure fails the task. **Embedded-mode rule:** when no handler
//! is registered, the task is not failed: it is submitted to the outside in
//! the transaction that schedules it, and a worker finds its token in the
//! TaskScheduled event's `parameters` (GetExecutionHistory) when the state's
//! Parameters pass `$$.Task.Token`. Recovery never hands a submitted task to
//! a handler again; one whose submission was not journaled is dispatched
//! again (at least once, like any task). `send_task_heartbeat` re-arms
//! HeartbeatSeconds on a new timer. A call about a task that is no longer
//! awaited is refused and journals nothing.
//!
//! # Redrive
//!
//! `redrive_execution` rebuilds a closed execution from its journal, checks
//! AWS's eligibility rules (`redrive_status`) and journals `Fact::Redriven`;
//! the same transaction sets the row back to RUNNING with its redrive count
//! and time. What runs again is the core's business (see `core`). A
//! redriven Map Run's STANDARD children that did not succeed are redriven
//! here the same way (`Action::RedriveChild`), in the turn whose fact asked
//! for it, their ends now awaited under the parent's new keys.
//!
//! # Retention
//!
//! The upkeep thread (`upkeep`) chooses which closed executions have aged
//! out; this thread deletes them and then gives their pages back
//! (`Msg::Sweep`), a bounded batch per message, after the turn's commit, so
//! a sweep is ordered with every redrive.

use crate::arn;
use crate::clock::Clock;
use crate::core::{
    Action, Applied, CallbackTask, ChildRedrive, ChildStart, Compiled, End, Execution,
    ExecutionInfo, Fact, MapRunUpdate, Status, WriteResults,
};
use crate::engine::{EngineConfig, Error, Result, Started};
use crate::handler::{Handlers, TaskRequest};
use crate::objects::ObjectStore;
use crate::rules::RedriveStatus;
use crate::store::{Batch, Closed, ExecutionRow, JournalEntry, NewFact, Reopened, Store};
use crate::store::{ChildLink, MapRunWrite};
use crate::task::{TaskInvocation, TaskToken, TokenSecret};
use serde_json::Value;
use std::collections::VecDeque;
use std::collections::{BinaryHeap, HashMap};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, Semaphore};
use zoomvault_asl::{definition, Failure};

pub(crate) enum Msg {
    Start {
        state_machine_arn: String,
        name: Option<String>,
        input: Value,
        reply: oneshot::Sender<Result<Started>>,
    },
    /// A task's outcome, as the fact to journal.
    TaskDone {
        execution_arn: String,
        fact: Fact,
    },
    /// SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat.
    Callback {
        task_token: String,
        signal: Signal,
        reply: oneshot::Sender<Result<()>>,
    },
    Redrive {
        execution_arn: String,
        reply: oneshot::Sender<Result<i64>>,
    },
    Stop {
        execution_arn: String,
        error: Option<String>,
        cause: Option<String>,
        reply: oneshot::Sender<Result<i64>>,
    },
    Watch {
        execution_arn: String,
        reply: oneshot::Sender<()>,
    },
    /// UpdateMapRun, for the execution running the Map Run.
    UpdateMapRun {
        execution_arn: String,
        update: MapRunUpdate,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Work of a retention sweep (see `Sweep`).
    Sweep(Sweep),
    Shutdown,
}

/// Work of a retention sweep, done by this thread once its turn is
/// committed, so the rows say what the turn did: an execution redriven in
/// it is RUNNING and is kept. Deleting here, rather than on another
/// connection, orders a sweep with every redrive and never leaves a commit
/// waiting on SQLite's busy handler.
pub(crate) enum Sweep {
    /// Delete these executions if they are still closed and stopped before
    /// `closed_before_ms`; answered with how many were.
    Forget {
        ids: Vec<i64>,
        closed_before_ms: i64,
        reply: oneshot::Sender<Result<u64>>,
    },
    /// Give up to `max_pages` free pages back to the file system; answered
    /// with how many are left to give back.
    ReturnFreePages {
        max_pages: u32,
        reply: oneshot::Sender<Result<u64>>,
    },
}

/// What a worker sends about a callback task.
pub(crate) enum Signal {
    Success(Value),
    Failure {
        error: Option<String>,
        cause: Option<String>,
    },
    Heartbeat,
}

/// Recovers every running execution from the journal and starts the engine
/// thread on `store`, the journal's one write connection. Returns the
/// thread's mailbox. Handlers run on the current tokio runtime.
pub(crate) fn start(
    config: &EngineConfig,
    handlers: Handlers,
    mut store: Store,
) -> Result<(mpsc::Sender<Msg>, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel();
    let mut driver = Driver {
        store_next_id: store.next_execution_id()?,
        executions: HashMap::new(),
        timers: BinaryHeap::new(),
        watchers: HashMap::new(),
        handlers: Arc::new(handlers),
        semaphore: Arc::new(Semaphore::new(config.max_concurrent_tasks.max(1))),
        runtime: tokio::runtime::Handle::current(),
        tx: tx.clone(),
        clock: config.clock.clone(),
        in_flight: 0,
        max_batch: config.max_batch.max(1),
        compiled: HashMap::new(),
        objects: Arc::clone(&config.objects),
        queue: VecDeque::new(),
        draining: false,
    };
    let recovered = driver.recover(&mut store)?;
    if recovered > 0 {
        tracing::info!(recovered, "resumed running executions from the journal");
    }
    let thread = std::thread::Builder::new()
        .name("zoomvault-engine".into())
        .spawn(move || driver.run(store, rx))
        .expect("spawn the engine thread");
    Ok((tx, thread))
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    due_ms: std::cmp::Reverse<i64>,
    execution: String,
    key: u64,
}

struct Live {
    id: i64,
    exec: Execution,
    next_seq: u64,
    /// A Map Run's child: its parent's ARN and the key the parent awaits
    /// its end under.
    parent: Option<(String, u64)>,
}

/// Work one turn does on its own executions, queued so a Map Run whose
/// children end at once does not recurse once per child.
enum Internal {
    Apply(String, Fact),
    StartChild(String, ChildStart),
    StopChild(String),
    /// Needs the journal: done by `redrive_children` before the commit.
    RedriveChild(String, ChildRedrive),
}

struct Driver {
    store_next_id: i64,
    executions: HashMap<String, Live>,
    timers: BinaryHeap<Timer>,
    watchers: HashMap<String, Vec<oneshot::Sender<()>>>,
    handlers: Arc<Handlers>,
    semaphore: Arc<Semaphore>,
    runtime: tokio::runtime::Handle,
    tx: mpsc::Sender<Msg>,
    clock: Clock,
    in_flight: usize,
    max_batch: usize,
    compiled: HashMap<String, Arc<Compiled>>,
    objects: Arc<dyn ObjectStore>,
    queue: VecDeque<Internal>,
    draining: bool,
}

/// What one turn of the driver collects before committing.
#[derive(Default)]
struct Turn {
    batch: Batch,
    actions: Vec<(String, Action)>,
    start_replies: Vec<(oneshot::Sender<Result<Started>>, Result<Started>)>,
    /// Answers carrying a time (StopExecution, RedriveExecution).
    ms_replies: Vec<(oneshot::Sender<Result<i64>>, Result<i64>)>,
    unit_replies: Vec<(oneshot::Sender<Result<()>>, Result<()>)>,
    finished: Vec<String>,
    /// Retention work, done once the turn is committed.
    sweeps: Vec<Sweep>,
    /// Map Run children to redrive before the commit (parent ARN, child).
    child_redrives: Vec<(String, ChildRedrive)>,
}

impl Driver {
    fn compile(&mut self, definition_text: &str) -> Result<Arc<Compiled>> {
        if let Some(c) = self.compiled.get(definition_text) {
            return Ok(Arc::clone(c));
        }
        let machine = definition::parse_str(definition_text).map_err(Error::InvalidDefinition)?;
        let c = Arc::new(Compiled::new(machine));
        self.compiled
            .insert(definition_text.to_string(), Arc::clone(&c));
        Ok(c)
    }

    fn recover(&mut self, store: &mut Store) -> Result<usize> {
        let rows = store.running_executions()?;
        let n = rows.len();
        for row in rows {
            let compiled = self.compile(&row.definition)?;
            let facts = store.facts(row.id)?;
            let next_seq = facts.last().map_or(0, |entry| entry.seq + 1);
            let (exec, applied) = replay(&row, compiled, &facts);
            let events = applied.events.len() as u64;
            let actions = applied.actions;
            let stored = store.history_len(row.id)?;
            if stored != events {
                tracing::error!(
                    execution = %row.arn, stored, replayed = events,
                    "replaying the journal produced a different history; the definition or engine changed under a running execution"
                );
            }
            // Re-perform what is still awaited: tasks without a recorded
            // result run again, timers fire at their recorded due times.
            let pending_tasks: std::collections::HashSet<u64> = exec.tasks_to_dispatch().collect();
            let pending_timers: std::collections::HashSet<u64> =
                exec.pending_timer_keys().copied().collect();
            let arn = row.arn.clone();
            // A child was started, and a stopped one stopped, in the
            // transaction of the fact that asked for it: never again.
            let mut writes = Vec::new();
            for action in actions {
                let keep = match &action {
                    Action::RunTask(t) => pending_tasks.contains(&t.key),
                    Action::StartTimer { key, .. } => pending_timers.contains(key),
                    Action::ReadItems(r) => pending_tasks.contains(&r.key),
                    Action::WriteResults(w) => pending_tasks.contains(&w.key),
                    Action::StartChild(_) | Action::StopChild { .. } | Action::RedriveChild(_) => {
                        false
                    }
                };
                match action {
                    Action::WriteResults(w) if keep => writes.push(w),
                    other if keep => self.perform(&arn, other),
                    _ => {}
                }
            }
            let parent = store.parent_of(row.id)?.map(|(p, key, _)| (p, key));
            self.executions.insert(
                arn,
                Live {
                    id: row.id,
                    exec,
                    next_seq,
                    parent,
                },
            );
            for w in writes {
                self.write_results(w, store);
            }
        }
        Ok(n)
    }

    fn run(mut self, mut store: Store, rx: mpsc::Receiver<Msg>) {
        loop {
            let mut msgs = Vec::new();
            // Block for the first message, or until the next timer is due.
            let first = match self.timers.peek() {
                None => rx.recv().map_err(|_| ()),
                Some(t) => {
                    let wait = t.due_ms.0 - self.clock.now_ms();
                    if wait <= 0 {
                        Err(())
                    } else if self.clock.is_virtual() && self.in_flight == 0 {
                        // Nothing else can happen before the timer: let
                        // virtual time jump to it, unless a message is
                        // already waiting.
                        match rx.try_recv() {
                            Ok(m) => Ok(m),
                            Err(mpsc::TryRecvError::Empty) => {
                                self.clock.advance_to(t.due_ms.0);
                                Err(())
                            }
                            Err(mpsc::TryRecvError::Disconnected) => return,
                        }
                    } else {
                        let wait = if self.clock.is_virtual() { 50 } else { wait };
                        match rx.recv_timeout(Duration::from_millis(wait as u64)) {
                            Ok(m) => Ok(m),
                            Err(mpsc::RecvTimeoutError::Timeout) => Err(()),
                            Err(mpsc::RecvTimeoutError::Disconnected) => return,
                        }
                    }
                }
            };
            match first {
                Ok(m) => msgs.push(m),
                Err(()) if self.timers.is_empty() => return, // channel closed
                Err(()) => {}
            }
            while msgs.len() < self.max_batch {
                match rx.try_recv() {
                    Ok(m) => msgs.push(m),
                    Err(_) => break,
                }
            }
            let mut turn = Turn::default();
            let mut shutdown = false;
            let now = self.clock.now_ms();
            for msg in msgs {
                match msg {
                    Msg::Shutdown => shutdown = true,
                    other => self.handle(other, now, &mut store, &mut turn),
                }
            }
            while let Some(t) = self.timers.peek() {
                if t.due_ms.0 > now || turn.batch.facts.len() >= self.max_batch {
                    break;
                }
                let t = self.timers.pop().expect("peeked");
                self.apply(
                    &t.execution,
                    Fact::TimerFired { key: t.key },
                    now,
                    &mut turn,
                );
            }
            self.redrive_children(now, &store, &mut turn);
            if !turn.batch.is_empty() {
                if let Err(e) = store.commit(&turn.batch) {
                    // Nothing of this turn took effect; callers are told.
                    tracing::error!(error = %e, "journal commit failed; the engine stops");
                    for (reply, _) in turn.start_replies {
                        let _ = reply.send(Err(Error::Shutdown));
                    }
                    return;
                }
            }
            for (reply, answer) in turn.start_replies {
                let _ = reply.send(answer);
            }
            for (reply, answer) in turn.ms_replies {
                let _ = reply.send(answer);
            }
            for (reply, answer) in turn.unit_replies {
                let _ = reply.send(answer);
            }
            for (arn, action) in turn.actions {
                if self.executions.contains_key(&arn) {
                    match action {
                        Action::WriteResults(w) => self.write_results(w, &store),
                        other => self.perform(&arn, other),
                    }
                }
            }
            for arn in turn.finished {
                self.executions.remove(&arn);
                for w in self.watchers.remove(&arn).unwrap_or_default() {
                    let _ = w.send(());
                }
            }
            for work in turn.sweeps {
                match work {
                    Sweep::Forget {
                        ids,
                        closed_before_ms,
                        reply,
                    } => {
                        let answer = store.delete_closed_executions(&ids, closed_before_ms);
                        let _ = reply.send(answer.map_err(Error::from));
                    }
                    Sweep::ReturnFreePages { max_pages, reply } => {
                        let answer = store.return_free_pages(max_pages);
                        let _ = reply.send(answer.map_err(Error::from));
                    }
                }
            }
            if shutdown {
                return;
            }
        }
    }

    fn handle(&mut self, msg: Msg, now: i64, store: &mut Store, turn: &mut Turn) {
        match msg {
            Msg::Start {
                state_machine_arn,
                name,
                input,
                reply,
            } => {
                let answer = self.start(&state_machine_arn, name, input, now, store, turn);
                turn.start_replies.push((reply, answer));
            }
            Msg::TaskDone {
                execution_arn,
                fact,
            } => {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.apply(&execution_arn, fact, now, turn);
            }
            Msg::Callback {
                task_token,
                signal,
                reply,
            } => {
                let answer = self.callback(&task_token, signal, now, store, turn);
                turn.unit_replies.push((reply, answer));
            }
            Msg::Redrive {
                execution_arn,
                reply,
            } => {
                let answer = self.redrive(&execution_arn, now, store, turn);
                turn.ms_replies.push((reply, answer));
            }
            Msg::Stop {
                execution_arn,
                error,
                cause,
                reply,
            } => {
                let answer = if self.executions.contains_key(&execution_arn) {
                    self.apply(&execution_arn, Fact::Stopped { error, cause }, now, turn);
                    Ok(now)
                } else {
                    match store.execution(&execution_arn) {
                        Ok(Some(row)) => Ok(row.stop_ms.unwrap_or(now)),
                        Ok(None) => Err(Error::ExecutionDoesNotExist(execution_arn)),
                        Err(e) => Err(e.into()),
                    }
                };
                turn.ms_replies.push((reply, answer));
            }
            Msg::Watch {
                execution_arn,
                reply,
            } => {
                if self.executions.contains_key(&execution_arn) {
                    self.watchers.entry(execution_arn).or_default().push(reply);
                } else {
                    let _ = reply.send(());
                }
            }
            Msg::UpdateMapRun {
                execution_arn,
                update,
                reply,
            } => {
                let running = self
                    .executions
                    .get(&execution_arn)
                    .is_some_and(|l| l.exec.running_map_runs().contains(&update.map_run_arn));
                if running {
                    self.apply(&execution_arn, Fact::MapRunUpdated(update), now, turn);
                }
                turn.unit_replies.push((reply, Ok(())));
            }
            Msg::Sweep(work) => turn.sweeps.push(work),
            Msg::Shutdown => {}
        }
    }

    fn start(
        &mut self,
        state_machine_arn: &str,
        name: Option<String>,
        input: Value,
        now: i64,
        store: &mut Store,
        turn: &mut Turn,
    ) -> Result<Started> {
        let sm = store
            .state_machine(state_machine_arn)?
            .ok_or_else(|| Error::StateMachineDoesNotExist(state_machine_arn.to_string()))?;
        let name = name.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let execution_arn = arn::execution(&sm.name, &name);
        let input_text = input.to_string();
        // Idempotency, as AWS: same name and input as a running execution
        // returns it; anything else with that name already exists.
        let existing = store
            .execution(&execution_arn)?
            .map(|r| (r.status, r.input, r.start_ms))
            .or_else(|| {
                turn.batch
                    .new_executions
                    .iter()
                    .find(|r| r.arn == execution_arn)
                    .map(|r| (r.status, r.input.clone(), r.start_ms))
            });
        if let Some((status, existing_input, start_ms)) = existing {
            if status == Status::Running && existing_input == input_text {
                return Ok(Started {
                    execution_arn,
                    start_ms,
                    already_running: true,
                });
            }
            return Err(Error::ExecutionAlreadyExists(execution_arn));
        }
        let compiled = self.compile(&sm.definition)?;
        let id = self.store_next_id;
        self.store_next_id += 1;
        let seed = uuid::Uuid::new_v4().as_u64_pair().0;
        // Its own secret for its task tokens, journaled with the row in the
        // transaction that starts it: the seed above can be read back from
        // the execution's random outputs, this cannot.
        let token_secret = TokenSecret::generate();
        let row = ExecutionRow {
            id,
            arn: execution_arn.clone(),
            name,
            state_machine_arn: sm.arn.clone(),
            state_machine_name: sm.name.clone(),
            definition: sm.definition.clone(),
            role_arn: sm.role_arn.clone(),
            input: input_text,
            seed,
            token_secret,
            start_ms: now,
            status: Status::Running,
            stop_ms: None,
            output: None,
            error: None,
            cause: None,
            redrive_count: 0,
            redrive_ms: None,
        };
        let exec = Execution::new(info_of(&row), compiled);
        turn.batch.new_executions.push(row);
        self.executions.insert(
            execution_arn.clone(),
            Live {
                id,
                exec,
                next_seq: 0,
                parent: None,
            },
        );
        self.apply(&execution_arn, Fact::Started { input }, now, turn);
        Ok(Started {
            execution_arn,
            start_ms: now,
            already_running: false,
        })
    }

    /// SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat. Only a fact
    /// that changes something is journaled: a late or refused call leaves
    /// the journal as it was.
    fn callback(
        &mut self,
        task_token: &str,
        signal: Signal,
        now: i64,
        store: &mut Store,
        turn: &mut Turn,
    ) -> Result<()> {
        let token = TaskToken::parse(task_token).ok_or(Error::InvalidToken)?;
        let arn = token.execution_arn.clone();
        let key = token.key;
        let Some(live) = self.executions.get(&arn) else {
            // Not running: every task of a closed execution is closed, if
            // the token is genuine at all.
            let row = store.execution(&arn)?.ok_or(Error::InvalidToken)?;
            return if token.verify(&row.token_secret) {
                Err(Error::TaskTimedOut(format!("task {key} of {arn}")))
            } else {
                Err(Error::InvalidToken)
            };
        };
        if !token.verify(&live.exec.info.token_secret) {
            return Err(Error::InvalidToken);
        }
        let heartbeat = match live.exec.callback_task(key) {
            CallbackTask::NotACallback => {
                return Err(Error::TaskDoesNotExist(format!(
                    "task {key} of {arn} does not wait for a task token"
                )))
            }
            CallbackTask::Closed => {
                return Err(Error::TaskTimedOut(format!("task {key} of {arn}")))
            }
            CallbackTask::Awaited { heartbeat } => heartbeat,
        };
        let fact = match signal {
            Signal::Success(output) => Fact::TaskSucceeded { key, output },
            Signal::Failure { error, cause } => Fact::TaskFailed {
                key,
                error: error.unwrap_or_default(),
                cause: cause.unwrap_or_default(),
            },
            Signal::Heartbeat if heartbeat => Fact::TaskHeartbeat { key },
            Signal::Heartbeat => return Ok(()),
        };
        self.apply(&arn, fact, now, turn);
        Ok(())
    }

    /// RedriveExecution: rebuilds the closed execution from its journal and
    /// journals `Redriven`, which reopens it in the same transaction.
    fn redrive(&mut self, arn: &str, now: i64, store: &mut Store, turn: &mut Turn) -> Result<i64> {
        let not_redrivable = |reason| Error::ExecutionNotRedrivable {
            arn: arn.to_string(),
            reason,
        };
        if self.executions.contains_key(arn) {
            // Running, or closed by a fact this turn has not committed yet.
            return Err(not_redrivable(
                "Execution is RUNNING and cannot be redriven",
            ));
        }
        let row = store
            .execution(arn)?
            .ok_or_else(|| Error::ExecutionDoesNotExist(arn.to_string()))?;
        if let RedriveStatus::NotRedrivable { reason } = store.redrive_status(&row, now)? {
            return Err(not_redrivable(reason));
        }
        let compiled = self.compile(&row.definition)?;
        let facts = store.facts(row.id)?;
        let next_seq = facts.last().map_or(0, |entry| entry.seq + 1);
        let (exec, _) = replay(&row, compiled, &facts);
        let parent = store.parent_of(row.id)?.map(|(p, key, _)| (p, key));
        if !exec.status().is_terminal() {
            tracing::error!(execution = %arn, "the journal of a closed execution replays to a running one");
            return Err(not_redrivable(
                "Execution is RUNNING and cannot be redriven",
            ));
        }
        self.executions.insert(
            arn.to_string(),
            Live {
                id: row.id,
                exec,
                next_seq,
                parent,
            },
        );
        self.apply(arn, Fact::Redriven, now, turn);
        Ok(now)
    }

    /// Applies a fact, and whatever it causes among this engine's own
    /// executions (children started or stopped, a child's end in its
    /// parent), in this turn, iteratively.
    fn apply(&mut self, arn: &str, fact: Fact, now: i64, turn: &mut Turn) {
        self.queue.push_back(Internal::Apply(arn.to_string(), fact));
        if self.draining {
            return;
        }
        self.draining = true;
        while let Some(work) = self.queue.pop_front() {
            match work {
                Internal::Apply(arn, fact) => self.apply_one(&arn, fact, now, turn),
                Internal::StartChild(parent, child) => self.start_child(&parent, child, now, turn),
                Internal::RedriveChild(parent, child) => turn.child_redrives.push((parent, child)),
                Internal::StopChild(arn) => {
                    if self.executions.contains_key(&arn) {
                        let fact = Fact::Stopped {
                            error: Some("States.Aborted".into()),
                            cause: Some("The Map Run was stopped".into()),
                        };
                        self.apply_one(&arn, fact, now, turn);
                    }
                }
            }
        }
        self.draining = false;
    }

    fn apply_one(&mut self, arn: &str, fact: Fact, now: i64, turn: &mut Turn) {
        let Some(live) = self.executions.get_mut(arn) else {
            return; // a late message for an execution that has ended
        };
        let redrive = matches!(fact, Fact::Redriven);
        if live.exec.status().is_terminal() != redrive {
            return;
        }
        if let Fact::TimerFired { key } = fact {
            if !live.exec.awaits_timer(key) {
                // Disarmed (a heartbeat re-armed it, its task or branch
                // ended): firing would change nothing, so it is not journaled.
                return;
            }
        }
        let applied = live.exec.apply(&fact, now);
        turn.batch.facts.push(NewFact {
            execution_id: live.id,
            entry: JournalEntry {
                seq: live.next_seq,
                at_ms: now,
                fact,
            },
        });
        live.next_seq += 1;
        turn.batch
            .history
            .extend(applied.events.into_iter().map(|e| (live.id, e)));
        // Embedded mode: a callback task with no handler is submitted to
        // the outside in the same transaction that schedules it (its token
        // is in the TaskScheduled parameters), so a worker that reads the
        // history can never answer before the submission is journaled.
        turn.batch
            .map_runs
            .extend(applied.map_runs.into_iter().map(|change| MapRunWrite {
                execution_id: live.id,
                at_ms: now,
                change,
            }));
        let mut unhandled = Vec::new();
        for action in applied.actions {
            match action {
                Action::RunTask(t) if self.unhandled_callback(&t) => unhandled.push(t.key),
                Action::StartChild(child) => self
                    .queue
                    .push_back(Internal::StartChild(arn.to_string(), child)),
                Action::StopChild { execution_arn } => {
                    self.queue.push_back(Internal::StopChild(execution_arn))
                }
                Action::RedriveChild(child) => self
                    .queue
                    .push_back(Internal::RedriveChild(arn.to_string(), child)),
                other => turn.actions.push((arn.to_string(), other)),
            }
        }
        let Some(live) = self.executions.get_mut(arn) else {
            return;
        };
        if redrive {
            turn.batch.reopened.push(Reopened {
                execution_id: live.id,
                redrive_count: live.exec.redrive_count(),
                redrive_ms: now,
            });
        }
        if let Some(end) = live.exec.end() {
            let (output, error, cause) = match end {
                End::Succeeded { output } => (Some(output.to_string()), None, None),
                // DescribeExecution omits an absent error or cause, as
                // the execution's closing event does.
                End::Failed { failure } | End::TimedOut { failure } | End::Aborted { failure } => (
                    None,
                    Some(failure.error.clone()).filter(|e| !e.is_empty()),
                    Some(failure.cause.clone()).filter(|c| !c.is_empty()),
                ),
            };
            turn.batch.closed.push(Closed {
                execution_id: live.id,
                status: end.status(),
                stop_ms: now,
                output,
                error,
                cause,
            });
            turn.finished.push(arn.to_string());
            // A Map Run's child: its end is its parent's fact, journaled in
            // this same transaction, if the parent still waits for it.
            if let Some((parent, key)) = live.parent.clone() {
                let fact = match end {
                    End::Succeeded { output } => Fact::TaskSucceeded {
                        key,
                        output: output.clone(),
                    },
                    End::Failed { failure }
                    | End::TimedOut { failure }
                    | End::Aborted { failure } => Fact::TaskFailed {
                        key,
                        error: failure.error.clone(),
                        cause: failure.cause.clone(),
                    },
                };
                let awaited = self
                    .executions
                    .get(&parent)
                    .is_some_and(|p| p.exec.awaits_task(key));
                if awaited {
                    self.queue.push_back(Internal::Apply(parent, fact));
                }
            }
        }
        for key in unhandled {
            self.apply(arn, Fact::TaskSubmitted { key, output: None }, now, turn);
        }
    }

    /// A `.waitForTaskToken` task whose target has no registered handler.
    fn unhandled_callback(&self, task: &TaskInvocation) -> bool {
        task.target.waits_for_task_token() && handler_for(&self.handlers, &task.target).is_none()
    }

    fn perform(&mut self, arn: &str, action: Action) {
        match action {
            Action::StartTimer { key, due_ms } => self.timers.push(Timer {
                due_ms: std::cmp::Reverse(due_ms),
                execution: arn.to_string(),
                key,
            }),
            Action::RunTask(invocation) => self.dispatch(invocation),
            Action::ReadItems(read) => {
                self.in_flight += 1;
                let objects = Arc::clone(&self.objects);
                let tx = self.tx.clone();
                self.runtime.spawn(async move {
                    let outcome = crate::map_run_io::read_items(objects.as_ref(), &read).await;
                    let _ = tx.send(Msg::TaskDone {
                        execution_arn: read.execution_arn,
                        fact: outcome_fact(read.key, outcome),
                    });
                });
            }
            // Done within the turn (`apply`), or with the journal at hand
            // (`write_results`).
            Action::StartChild(_)
            | Action::StopChild { .. }
            | Action::RedriveChild(_)
            | Action::WriteResults(_) => {}
        }
    }

    /// A Map Run's ResultWriter: the children's rows are read here, where
    /// the journal is, and written to the object store off this thread.
    fn write_results(&mut self, write: WriteResults, store: &Store) {
        let rows = match store.map_run_children(&write.map_run_arn) {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, map_run = %write.map_run_arn, "reading a Map Run's children failed");
                return;
            }
        };
        self.in_flight += 1;
        let objects = Arc::clone(&self.objects);
        let tx = self.tx.clone();
        self.runtime.spawn(async move {
            let outcome = crate::map_run_io::write_results(objects.as_ref(), &write, &rows).await;
            let _ = tx.send(Msg::TaskDone {
                execution_arn: write.execution_arn,
                fact: outcome_fact(write.key, outcome),
            });
        });
    }

    /// Starts a Map Run's child execution in the turn of the fact that
    /// asked for it, so a child exists exactly when that fact is journaled.
    fn start_child(&mut self, parent_arn: &str, child: ChildStart, now: i64, turn: &mut Turn) {
        let Some(parent) = self.executions.get(parent_arn) else {
            return;
        };
        let parent_id = parent.id;
        let role_arn = parent.exec.info.role_arn.clone();
        let compiled = match self.compile(&child.definition) {
            Ok(c) => c,
            Err(e) => {
                // Validated with its parent; a child definition that does
                // not compile fails the child as a task.
                let fact = Fact::TaskFailed {
                    key: child.key,
                    error: "States.Runtime".into(),
                    cause: e.to_string(),
                };
                self.queue
                    .push_back(Internal::Apply(parent_arn.to_string(), fact));
                return;
            }
        };
        let id = self.store_next_id;
        self.store_next_id += 1;
        let row = ExecutionRow {
            id,
            arn: child.execution_arn.clone(),
            name: child.name.clone(),
            state_machine_arn: child.state_machine_arn.clone(),
            state_machine_name: child
                .state_machine_arn
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_string(),
            definition: child.definition.clone(),
            role_arn,
            input: child.input.to_string(),
            seed: uuid::Uuid::new_v4().as_u64_pair().0,
            token_secret: TokenSecret::generate(),
            start_ms: now,
            status: Status::Running,
            stop_ms: None,
            output: None,
            error: None,
            cause: None,
            redrive_count: 0,
            redrive_ms: None,
        };
        let exec = Execution::new(info_of(&row), compiled);
        turn.batch.new_executions.push(row);
        turn.batch.children.push(ChildLink {
            execution_id: id,
            map_run_arn: child.map_run_arn.clone(),
            parent_id,
            parent_key: child.key,
            items: child.items,
        });
        self.executions.insert(
            child.execution_arn.clone(),
            Live {
                id,
                exec,
                next_seq: 0,
                parent: Some((parent_arn.to_string(), child.key)),
            },
        );
        // Started at once, not queued: a stop queued in this turn (its run
        // aborted in the same fact) must find the child started.
        self.apply_one(
            &child.execution_arn,
            Fact::Started { input: child.input },
            now,
            turn,
        );
    }

    /// Redrives the Map Run children this turn's facts asked for, and
    /// whatever that causes, until none is left; all before the commit, so
    /// a child is reopened exactly when the parent's fact is journaled.
    fn redrive_children(&mut self, now: i64, store: &Store, turn: &mut Turn) {
        while !turn.child_redrives.is_empty() {
            for (parent, child) in std::mem::take(&mut turn.child_redrives) {
                self.redrive_child(&parent, child, now, store, turn);
            }
        }
    }

    /// A redriven Map Run's STANDARD child that did not succeed is
    /// redriven: rebuilt from its journal, then `Fact::Redriven`, its end
    /// awaited by the parent under the new key. One found SUCCEEDED hands
    /// its output to the parent; one whose journal is gone fails as the
    /// parent's task.
    fn redrive_child(
        &mut self,
        parent_arn: &str,
        child: ChildRedrive,
        now: i64,
        store: &Store,
        turn: &mut Turn,
    ) {
        let awaited = self
            .executions
            .get(parent_arn)
            .is_some_and(|p| p.exec.awaits_task(child.key));
        if !awaited {
            // The parent stopped in this same turn.
            return;
        }
        let link = Some((parent_arn.to_string(), child.key));
        if let Some(live) = self.executions.get_mut(&child.execution_arn) {
            // Running already (redriven on its own): the parent adopts it.
            live.parent = link;
            return;
        }
        let fail = |cause: String| Fact::TaskFailed {
            key: child.key,
            error: "States.Runtime".into(),
            cause,
        };
        let row = match store.execution(&child.execution_arn) {
            Ok(Some(row)) => row,
            Ok(None) => {
                let cause = format!(
                    "The child execution {} of Map Run {} no longer exists and cannot be redriven",
                    child.execution_arn, child.map_run_arn
                );
                self.apply(parent_arn, fail(cause), now, turn);
                return;
            }
            Err(e) => {
                self.apply(parent_arn, fail(e.to_string()), now, turn);
                return;
            }
        };
        if row.status == Status::Succeeded {
            let output = row
                .output
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or(Value::Null);
            let fact = Fact::TaskSucceeded {
                key: child.key,
                output,
            };
            self.apply(parent_arn, fact, now, turn);
            return;
        }
        let reopened = self.compile(&row.definition).and_then(|compiled| {
            let facts = store.facts(row.id)?;
            Ok((compiled, facts))
        });
        let (compiled, facts) = match reopened {
            Ok(found) => found,
            Err(e) => {
                self.apply(parent_arn, fail(e.to_string()), now, turn);
                return;
            }
        };
        let next_seq = facts.last().map_or(0, |entry| entry.seq + 1);
        let (exec, _) = replay(&row, compiled, &facts);
        self.executions.insert(
            child.execution_arn.clone(),
            Live {
                id: row.id,
                exec,
                next_seq,
                parent: link,
            },
        );
        self.apply(&child.execution_arn, Fact::Redriven, now, turn);
    }

    fn dispatch(&mut self, invocation: TaskInvocation) {
        self.in_flight += 1;
        let callback = invocation.target.waits_for_task_token();
        if self.unhandled_callback(&invocation) {
            // Only after recovery, for a task scheduled while its handler
            // was registered: submitted to the outside as `apply` does.
            let _ = self.tx.send(Msg::TaskDone {
                execution_arn: invocation.execution_arn,
                fact: Fact::TaskSubmitted {
                    key: invocation.key,
                    output: None,
                },
            });
            return;
        }
        let handlers = Arc::clone(&self.handlers);
        let semaphore = Arc::clone(&self.semaphore);
        let tx = self.tx.clone();
        // A task that waits for a child execution of this engine holds no
        // place among `max_concurrent_tasks`: its child's own tasks need
        // those places, and parents waiting in all of them would wait
        // forever.
        let waits = invocation.target.waits_on_child_execution();
        self.runtime.spawn(async move {
            let result = if waits {
                run_task(&handlers, &invocation).await
            } else {
                match semaphore.acquire_owned().await {
                    Ok(_permit) => run_task(&handlers, &invocation).await,
                    Err(_) => Err(Failure::new(
                        "States.Runtime",
                        "the engine is shutting down",
                    )),
                }
            };
            let key = invocation.key;
            let fact = match result {
                // A callback task's handler only hands the task over.
                Ok(output) if callback => Fact::TaskSubmitted {
                    key,
                    output: Some(output),
                },
                Ok(output) => Fact::TaskSucceeded { key, output },
                Err(f) => Fact::TaskFailed {
                    key,
                    error: f.error,
                    cause: f.cause,
                },
            };
            let _ = tx.send(Msg::TaskDone {
                execution_arn: invocation.execution_arn,
                fact,
            });
        });
    }
}

/// The fact that journals a reader's or writer's outcome under its key.
fn outcome_fact(key: u64, outcome: std::result::Result<Value, Failure>) -> Fact {
    match outcome {
        Ok(output) => Fact::TaskSucceeded { key, output },
        Err(f) => Fact::TaskFailed {
            key,
            error: f.error,
            cause: f.cause,
        },
    }
}

/// The handler of a task's target: by resource for other services, by
/// function name (or the Lambda fallback) for Lambda.
fn handler_for(
    handlers: &Handlers,
    target: &crate::task::TaskTarget,
) -> Option<Arc<dyn crate::handler::TaskHandler>> {
    match target {
        crate::task::TaskTarget::Other { .. } => handlers.get(target.handler_name()).cloned(),
        _ => handlers.lambda(target.handler_name()),
    }
}

async fn run_task(
    handlers: &Handlers,
    invocation: &TaskInvocation,
) -> std::result::Result<Value, Failure> {
    let target = &invocation.target;
    let Some(handler) = handler_for(handlers, target) else {
        return Err(match target {
            crate::task::TaskTarget::Other { resource } => Failure::new(
                "States.TaskFailed",
                format!("No handler is registered for resource {resource}"),
            ),
            _ => Failure::new(
                "Lambda.ResourceNotFoundException",
                format!("Function not found: {}", target.handler_name()),
            ),
        });
    };
    let request = TaskRequest {
        input: target.handler_input(&invocation.input),
        execution_arn: invocation.execution_arn.clone(),
        task_token: invocation.task_token.clone(),
    };
    let output = handler.invoke(request).await?;
    let request_id = format!("{:016x}-{}", invocation.key, invocation.execution_arn.len());
    Ok(target.result(output, &request_id))
}

/// Rebuilds an execution by applying its journal through the core; returns
/// it with everything the replay produced, in order.
pub(crate) fn replay(
    row: &ExecutionRow,
    compiled: Arc<Compiled>,
    journal: &[JournalEntry],
) -> (Execution, Applied) {
    let mut exec = Execution::new(info_of(row), compiled);
    let mut all = Applied::default();
    for entry in journal {
        let applied = exec.apply(&entry.fact, entry.at_ms);
        all.events.extend(applied.events);
        all.actions.extend(applied.actions);
    }
    (exec, all)
}

fn info_of(row: &ExecutionRow) -> ExecutionInfo {
    ExecutionInfo {
        execution_arn: row.arn.clone(),
        name: row.name.clone(),
        state_machine_arn: row.state_machine_arn.clone(),
        state_machine_name: row.state_machine_name.clone(),
        role_arn: row.role_arn.clone(),
        start_ms: row.start_ms,
        seed: row.seed,
        token_secret: row.token_secret.clone(),
    }
}
