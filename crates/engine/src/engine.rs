//! The `Engine` handle: what callers (the Step Functions API, the CLI,
//! tests) use. State machines are read and written on an admin connection
//! of its own; everything that changes an execution is a message to the
//! engine thread (`driver`), answered once its facts are committed; the
//! journal's files are kept bounded by the upkeep thread (`upkeep`), which
//! also removes closed executions after `EngineConfig::retention`.

use crate::arn;
use crate::clock::Clock;
use crate::core::{Compiled, Status};
use crate::driver::{self, replay, Msg, Signal};
use crate::handler::Handlers;
use crate::rules::{merge_tags, validate_name, MachineType, RedriveStatus};
use crate::store::{self, Durability, ExecutionRow, JournalStats, StateMachineRow, Store};
use crate::upkeep::{self, Request};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use zoomvault_asl::{definition, DefinitionError};

mod map_runs;
pub use map_runs::MapRunDescription;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("state machine does not exist: {0}")]
    StateMachineDoesNotExist(String),
    #[error("state machine already exists: {0}")]
    StateMachineAlreadyExists(String),
    #[error("invalid state machine definition:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    InvalidDefinition(Vec<DefinitionError>),
    #[error("execution does not exist: {0}")]
    ExecutionDoesNotExist(String),
    #[error("execution already exists: {0}")]
    ExecutionAlreadyExists(String),
    #[error("invalid name {0:?}: {1}")]
    InvalidName(String, &'static str),
    #[error("invalid ARN {0:?}")]
    InvalidArn(String),
    /// TagResource and kin: no state machine has this ARN.
    #[error("resource not found: {0}")]
    ResourceNotFound(String),
    /// More than `MAX_TAGS` tags on one resource.
    #[error("too many tags on {0}: at most 50 are allowed")]
    TooManyTags(String),
    /// A tag key or value breaks AWS's rules (a ValidationException there).
    #[error("invalid tag {key:?}: {reason}")]
    InvalidTag { key: String, reason: &'static str },
    /// SendTask*: the token is not one this engine issued.
    #[error("invalid task token")]
    InvalidToken,
    /// SendTask*: the token is genuine but names a task that never waited
    /// for a token (it ends when its handler returns).
    #[error("task does not exist: {0}")]
    TaskDoesNotExist(String),
    /// SendTask*: the task has already ended (succeeded, failed, timed out,
    /// or its execution ended). AWS: "The task token has either expired or
    /// the task associated with the token has already been closed."
    #[error("task timed out: {0}")]
    TaskTimedOut(String),
    /// RedriveExecution refused; `reason` is AWS's `redriveStatusReason`.
    #[error("execution cannot be redriven: {arn}: {reason}")]
    ExecutionNotRedrivable { arn: String, reason: &'static str },
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("the engine has shut down")]
    Shutdown,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The journal database file.
    pub db_path: PathBuf,
    /// Tasks running at once, across all executions.
    pub max_concurrent_tasks: usize,
    /// Most facts committed in one transaction.
    pub max_batch: usize,
    pub clock: Clock,
    /// How long a closed execution stays in the journal after it stops.
    /// The engine removes older ones a minute after it opens and hourly
    /// after that, both by `clock`. `None` keeps every execution.
    pub retention: Option<Duration>,
    /// Whether a commit is on disk before it returns (the default) or only
    /// safe from a process crash (`Durability::Normal`, an opt-in).
    pub durability: Durability,
    /// Where a distributed Map's ItemReader reads and its ResultWriter
    /// writes; by default no bucket exists.
    pub objects: std::sync::Arc<dyn crate::objects::ObjectStore>,
}

/// How long AWS Step Functions keeps a closed standard execution: 90 days.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

impl EngineConfig {
    pub fn new(db_path: impl Into<PathBuf>) -> EngineConfig {
        EngineConfig {
            db_path: db_path.into(),
            max_concurrent_tasks: 64,
            max_batch: 4096,
            clock: Clock::System,
            retention: Some(DEFAULT_RETENTION),
            durability: Durability::Full,
            objects: std::sync::Arc::new(crate::objects::NoObjects),
        }
    }
}

/// Everything CreateStateMachine takes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStateMachine {
    pub name: String,
    pub definition: String,
    /// `None`: the embedded engine's default role.
    pub role_arn: Option<String>,
    pub machine_type: MachineType,
    pub tags: Vec<(String, String)>,
}

impl NewStateMachine {
    /// A STANDARD state machine with the default role and no tags.
    pub fn new(name: impl Into<String>, definition: impl Into<String>) -> NewStateMachine {
        NewStateMachine {
            name: name.into(),
            definition: definition.into(),
            role_arn: None,
            machine_type: MachineType::Standard,
            tags: Vec::new(),
        }
    }
}

/// Answer to StartExecution.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub execution_arn: String,
    pub start_ms: i64,
    /// True when this call started nothing: an execution of the same name
    /// and input was already running (AWS's idempotent StartExecution).
    pub already_running: bool,
}

/// A handle to the engine. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// An [`Engine`] that may have been dropped (`Engine::downgrade`).
#[derive(Debug, Clone)]
pub struct WeakEngine(std::sync::Weak<Inner>);

impl WeakEngine {
    /// The engine, while any `Engine` handle to it is still held.
    pub fn upgrade(&self) -> Option<Engine> {
        self.0.upgrade().map(|inner| Engine { inner })
    }
}

#[derive(Debug)]
struct Inner {
    tx: Mutex<mpsc::Sender<Msg>>,
    admin: Mutex<Store>,
    clock: Clock,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The upkeep thread's mailbox; dropped with the engine, which ends it.
    upkeep: Mutex<mpsc::Sender<Request>>,
}

impl Inner {
    /// Ends the engine thread after its current turn, once.
    fn stop_driver(&self) {
        if let Ok(tx) = self.tx.lock() {
            let _ = tx.send(Msg::Shutdown);
        }
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_driver();
    }
}

impl Engine {
    /// Opens (or creates) the journal, recovers running executions and
    /// starts the driver. Must be called inside a tokio runtime: handlers
    /// run on it.
    pub fn open(config: EngineConfig, handlers: Handlers) -> Result<Engine> {
        let store = Store::open_with(&config.db_path, config.durability)?;
        let admin = Store::open_with(&config.db_path, config.durability)?;
        let upkeep_store = Store::open_with(&config.db_path, config.durability)?;
        store.auto_checkpoint_after(store::WAL_RESTART_PAGES)?;
        admin.disable_auto_checkpoint()?;
        let (tx, thread) = driver::start(&config, handlers, store)?;
        let upkeep = upkeep::spawn(
            upkeep_store,
            tx.clone(),
            config.clock.clone(),
            config.retention,
        );
        Ok(Engine {
            inner: Arc::new(Inner {
                tx: Mutex::new(tx),
                admin: Mutex::new(admin),
                clock: config.clock,
                thread: Mutex::new(Some(thread)),
                upkeep: Mutex::new(upkeep),
            }),
        })
    }

    fn send(&self, msg: Msg) -> Result<()> {
        self.inner
            .tx
            .lock()
            .map_err(|_| Error::Shutdown)?
            .send(msg)
            .map_err(|_| Error::Shutdown)
    }

    fn admin(&self) -> std::sync::MutexGuard<'_, Store> {
        self.inner.admin.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops the engine thread after the turn it is in, before the
    /// process stops: nothing is journaled afterwards, so a task still
    /// running is run again after the next open, as after a crash. Without
    /// this, a graceful stop that tears the runtime down under running
    /// tasks journals the errors that teardown causes them (a blocking
    /// task refused) as their failures. Calls afterwards fail as on a
    /// dropped engine.
    pub fn shutdown(&self) {
        self.inner.stop_driver();
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// A handle that does not keep the engine open: for a task handler
    /// that calls back into the engine it runs under (nested executions),
    /// which would otherwise keep the engine alive from its own driver.
    pub fn downgrade(&self) -> WeakEngine {
        WeakEngine(Arc::downgrade(&self.inner))
    }

    /// Creates a STANDARD state machine without tags after validating its
    /// definition (`create_state_machine_with` takes everything).
    pub fn create_state_machine(
        &self,
        name: &str,
        definition: &str,
        role_arn: Option<&str>,
    ) -> Result<StateMachineRow> {
        let mut new = NewStateMachine::new(name, definition);
        new.role_arn = role_arn.map(str::to_string);
        self.create_state_machine_with(&new)
    }

    /// CreateStateMachine: validates the name, definition and tags, then
    /// stores the machine.
    pub fn create_state_machine_with(&self, new: &NewStateMachine) -> Result<StateMachineRow> {
        validate_name(&new.name)?;
        definition::parse_str(&new.definition).map_err(Error::InvalidDefinition)?;
        let arn = arn::state_machine(&new.name);
        let mut tags = Vec::new();
        merge_tags(&arn, &mut tags, &new.tags)?;
        let mut admin = self.admin();
        if admin.state_machine(&arn)?.is_some() {
            return Err(Error::StateMachineAlreadyExists(arn));
        }
        let now = self.now_ms();
        let row = StateMachineRow {
            arn,
            name: new.name.clone(),
            definition: new.definition.clone(),
            role_arn: new.role_arn.clone().unwrap_or_else(arn::default_role),
            machine_type: new.machine_type,
            created_ms: now,
            updated_ms: now,
            revision: 1,
        };
        admin.put_state_machine(&row, &tags)?;
        Ok(row)
    }

    /// TagResource: adds tags to a state machine, replacing the value of a
    /// key it already has.
    pub fn tag_resource(&self, resource_arn: &str, tags: &[(String, String)]) -> Result<()> {
        let mut admin = self.admin();
        let mut existing = admin
            .state_machine_tags(resource_arn)?
            .ok_or_else(|| Error::ResourceNotFound(resource_arn.to_string()))?;
        merge_tags(resource_arn, &mut existing, tags)?;
        admin.put_state_machine_tags(resource_arn, &existing)?;
        Ok(())
    }

    /// UntagResource: removes the tags with these keys; an unknown key is
    /// not an error.
    pub fn untag_resource(&self, resource_arn: &str, keys: &[String]) -> Result<()> {
        let mut admin = self.admin();
        let mut existing = admin
            .state_machine_tags(resource_arn)?
            .ok_or_else(|| Error::ResourceNotFound(resource_arn.to_string()))?;
        existing.retain(|(k, _)| !keys.contains(k));
        admin.put_state_machine_tags(resource_arn, &existing)?;
        Ok(())
    }

    /// ListTagsForResource: a state machine's tags, in the order their
    /// keys were first set.
    pub fn list_tags(&self, resource_arn: &str) -> Result<Vec<(String, String)>> {
        self.admin()
            .state_machine_tags(resource_arn)?
            .ok_or_else(|| Error::ResourceNotFound(resource_arn.to_string()))
    }

    /// Creates the state machine, or updates its definition if it exists.
    pub fn upsert_state_machine(&self, name: &str, definition: &str) -> Result<StateMachineRow> {
        let arn = arn::state_machine(name);
        match self.state_machine(&arn) {
            Ok(_) => {
                self.update_state_machine(&arn, Some(definition), None)?;
                self.state_machine(&arn)
            }
            Err(Error::StateMachineDoesNotExist(_)) => {
                self.create_state_machine(name, definition, None)
            }
            Err(e) => Err(e),
        }
    }

    pub fn update_state_machine(
        &self,
        arn: &str,
        definition: Option<&str>,
        role_arn: Option<&str>,
    ) -> Result<()> {
        if let Some(d) = definition {
            definition::parse_str(d).map_err(Error::InvalidDefinition)?;
        }
        let now = self.now_ms();
        if self
            .admin()
            .update_state_machine(arn, definition, role_arn, now)?
        {
            Ok(())
        } else {
            Err(Error::StateMachineDoesNotExist(arn.to_string()))
        }
    }

    pub fn state_machine(&self, arn: &str) -> Result<StateMachineRow> {
        self.admin()
            .state_machine(arn)?
            .ok_or_else(|| Error::StateMachineDoesNotExist(arn.to_string()))
    }

    pub fn state_machines(&self) -> Result<Vec<StateMachineRow>> {
        Ok(self.admin().state_machines()?)
    }

    pub fn delete_state_machine(&self, arn: &str) -> Result<()> {
        self.admin().delete_state_machine(arn)?;
        Ok(())
    }

    /// Starts an execution. The execution is in the journal when this
    /// returns. With AWS's idempotency: the same name and input as a
    /// running execution returns that execution.
    pub async fn start_execution(
        &self,
        state_machine_arn: &str,
        name: Option<&str>,
        input: Value,
    ) -> Result<Started> {
        if let Some(n) = name {
            validate_name(n)?;
        }
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Start {
            state_machine_arn: state_machine_arn.to_string(),
            name: name.map(str::to_string),
            input,
            reply,
        })?;
        rx.await.map_err(|_| Error::Shutdown)?
    }

    pub async fn stop_execution(
        &self,
        execution_arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<i64> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Stop {
            execution_arn: execution_arn.to_string(),
            error,
            cause,
            reply,
        })?;
        rx.await.map_err(|_| Error::Shutdown)?
    }

    /// SendTaskSuccess: the callback task named by `task_token` succeeds
    /// with `output`. Journaled when this returns.
    pub async fn send_task_success(&self, task_token: &str, output: Value) -> Result<()> {
        self.callback(task_token, Signal::Success(output)).await
    }

    /// SendTaskFailure: the callback task fails with `error` and `cause`,
    /// which its state's Retry and Catch see as any task failure.
    pub async fn send_task_failure(
        &self,
        task_token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<()> {
        self.callback(task_token, Signal::Failure { error, cause })
            .await
    }

    /// SendTaskHeartbeat: the task's HeartbeatSeconds clock starts again.
    /// Like AWS, it adds no history event; for a task without
    /// HeartbeatSeconds it changes nothing.
    pub async fn send_task_heartbeat(&self, task_token: &str) -> Result<()> {
        self.callback(task_token, Signal::Heartbeat).await
    }

    async fn callback(&self, task_token: &str, signal: Signal) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Callback {
            task_token: task_token.to_string(),
            signal,
            reply,
        })?;
        rx.await.map_err(|_| Error::Shutdown)?
    }

    /// RedriveExecution: a FAILED, TIMED_OUT or ABORTED execution runs
    /// again from the state that did not succeed (see `core`). Returns the
    /// redrive time; the ExecutionRedriven event is journaled when this
    /// returns.
    pub async fn redrive_execution(&self, execution_arn: &str) -> Result<i64> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Redrive {
            execution_arn: execution_arn.to_string(),
            reply,
        })?;
        rx.await.map_err(|_| Error::Shutdown)?
    }

    /// Whether `redrive_execution` would accept the execution now
    /// (DescribeExecution's `redriveStatus` and `redriveStatusReason`).
    pub fn redrive_status(&self, execution_arn: &str) -> Result<RedriveStatus> {
        let row = self.describe_execution(execution_arn)?;
        self.redrive_status_of(&row)
    }

    /// The redrive status of an execution already read. A running or
    /// succeeded execution needs nothing more; only a closed one costs the
    /// state machine lookup and the count of its history, so
    /// DescribeExecution of a running execution stays two cheap reads.
    pub fn redrive_status_of(&self, row: &ExecutionRow) -> Result<RedriveStatus> {
        Ok(self.admin().redrive_status(row, self.now_ms())?)
    }

    pub fn describe_execution(&self, execution_arn: &str) -> Result<ExecutionRow> {
        self.admin()
            .execution(execution_arn)?
            .ok_or_else(|| Error::ExecutionDoesNotExist(execution_arn.to_string()))
    }

    /// Waits until the execution is no longer running and describes it.
    pub async fn wait_for(&self, execution_arn: &str) -> Result<ExecutionRow> {
        loop {
            let row = self.describe_execution(execution_arn)?;
            if row.status.is_terminal() {
                return Ok(row);
            }
            let (reply, rx) = oneshot::channel();
            self.send(Msg::Watch {
                execution_arn: execution_arn.to_string(),
                reply,
            })?;
            let _ = rx.await;
        }
    }

    /// The whole history, oldest first, as Step Functions JSON.
    pub fn history(&self, execution_arn: &str) -> Result<Vec<Value>> {
        let row = self.describe_execution(execution_arn)?;
        Ok(self.admin().history(row.id, 0, false, usize::MAX >> 1)?)
    }

    pub fn history_page(
        &self,
        execution_arn: &str,
        after: u64,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Value>> {
        let row = self.describe_execution(execution_arn)?;
        Ok(self.admin().history(row.id, after, reverse, limit)?)
    }

    /// Rebuilds an execution's history by replaying its journal through the
    /// core, without touching the stored history. A deterministic core gives
    /// exactly the stored events; tests compare the two.
    pub fn replay_history(&self, execution_arn: &str) -> Result<Vec<Value>> {
        let row = self.describe_execution(execution_arn)?;
        let facts = self.admin().facts(row.id)?;
        let machine = definition::parse_str(&row.definition).map_err(Error::InvalidDefinition)?;
        let (_, applied) = replay(&row, Arc::new(Compiled::new(machine)), &facts);
        Ok(applied.events.iter().map(|e| e.to_json()).collect())
    }

    /// Removes from the journal every closed execution (SUCCEEDED, FAILED,
    /// TIMED_OUT, ABORTED) that stopped more than `older_than` ago by the
    /// engine's clock, with its facts and history, gives the space back to
    /// the file system, and returns how many were removed. Running
    /// executions are never touched. This is the sweep that
    /// `EngineConfig::retention` schedules; the engine thread deletes a
    /// hundred executions per transaction, so commits keep flowing through
    /// a large sweep. Afterwards DescribeExecution of a removed execution
    /// says it does not exist, as on AWS.
    pub async fn delete_closed_executions(&self, older_than: Duration) -> Result<u64> {
        let closed_before_ms = self.now_ms().saturating_sub(upkeep::millis(older_than));
        let (reply, rx) = oneshot::channel();
        self.inner
            .upkeep
            .lock()
            .map_err(|_| Error::Shutdown)?
            .send(Request::Sweep {
                closed_before_ms,
                reply,
            })
            .map_err(|_| Error::Shutdown)?;
        rx.await.map_err(|_| Error::Shutdown)?
    }

    /// The journal's size on disk (database, write-ahead log, free pages),
    /// how many executions it holds, running and closed, and when the
    /// longest-closed one stopped. Reads only indexes.
    pub fn journal_stats(&self) -> Result<JournalStats> {
        Ok(self.admin().journal_stats()?)
    }

    pub fn list_executions(
        &self,
        state_machine_arn: Option<&str>,
        status: Option<Status>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ExecutionRow>> {
        Ok(self
            .admin()
            .list_executions(state_machine_arn, status, before_id, limit)?)
    }
}
