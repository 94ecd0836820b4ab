//! One function's execution environments and the life of an invocation:
//! wait for a free slot (the function's concurrency), take a warm process
//! or start one, wait for it to initialise, hand it the event, and wait for
//! its answer, its exit or its deadline, whichever comes first. A process
//! that timed out, crashed or failed to initialise is given up (killed) and
//! the next invocation starts a fresh one, as Lambda does; a process that
//! answered, even with an error, stays warm. The outcome is Lambda's: a
//! response, or an error document for `X-Amz-Function-Error: Unhandled`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::{oneshot, Semaphore};

use crate::config::FunctionConfig;
use crate::runtime_api::{error_document, lock, Delivery, Phase, Reply};
use crate::sandbox::{Control, Identity, Sandbox};

/// What an invocation needs besides the function.
#[derive(Debug)]
pub(crate) struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    pub invoked_function_arn: String,
}

/// How an invocation ended, as the Invoke API reports it.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The function's response payload.
    Success(Bytes),
    /// An error document (`errorType`, `errorMessage`): the handler's own,
    /// or Lambda's for a timeout, a crash or a failed start.
    Unhandled(Bytes),
}

/// Counters and timings of one function since the emulator started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionMetrics {
    /// Invocations that reached a process (DryRun ones do not).
    pub invocations: u64,
    /// Processes started, the first and every restart.
    pub processes_started: u64,
    /// For each process that asked for its first event, the time from its
    /// spawn to that request: Lambda's `Init Duration`, its cold start.
    pub init_durations: Vec<Duration>,
}

/// One configured function and its processes.
#[derive(Debug)]
pub(crate) struct Function {
    name: String,
    region: String,
    config: FunctionConfig,
    slots: Semaphore,
    idle: Mutex<Vec<Sandbox>>,
    live: Mutex<Vec<Control>>,
    next_sandbox: AtomicU64,
    metrics: Mutex<FunctionMetrics>,
}

impl Function {
    pub fn new(name: String, region: String, config: FunctionConfig) -> Function {
        Function {
            name,
            region,
            slots: Semaphore::new(config.concurrency.max(1)),
            config,
            idle: Mutex::new(Vec::new()),
            live: Mutex::new(Vec::new()),
            next_sandbox: AtomicU64::new(1),
            metrics: Mutex::new(FunctionMetrics::default()),
        }
    }

    pub fn metrics(&self) -> FunctionMetrics {
        lock(&self.metrics).clone()
    }

    /// Runs one invocation to its outcome.
    pub async fn invoke(&self, invocation: Invocation) -> Outcome {
        let Ok(_slot) = self.slots.acquire().await else {
            return Outcome::Unhandled(error_document(
                "Runtime.Unavailable",
                "the emulator is shutting down",
            ));
        };
        lock(&self.metrics).invocations += 1;
        let started = Instant::now();
        let request_id = invocation.request_id.clone();
        let (outcome, init) = self.run(invocation).await;
        report(&self.name, &request_id, started.elapsed(), init);
        outcome
    }

    /// Shuts the function down: no new invocations, every process killed
    /// and waited for.
    pub async fn shutdown(&self) {
        self.slots.close();
        lock(&self.idle).clear();
        let live: Vec<Control> = lock(&self.live).drain(..).collect();
        for control in &live {
            control.kill();
        }
        for control in &live {
            control.exited().await;
        }
    }

    /// Kills every process now, without waiting; for `Drop`.
    pub fn kill_all(&self) {
        self.slots.close();
        for control in lock(&self.live).iter() {
            control.kill();
        }
    }

    async fn run(&self, invocation: Invocation) -> (Outcome, Option<Duration>) {
        let (sandbox, init) = match self.warm_sandbox() {
            Some(sandbox) => (sandbox, None),
            None => match self.cold_sandbox(&invocation.request_id).await {
                Ok((sandbox, init)) => (sandbox, Some(init)),
                Err(outcome) => return (outcome, None),
            },
        };
        (self.deliver(sandbox, invocation).await, init)
    }

    /// An idle process that is still alive, if there is one.
    fn warm_sandbox(&self) -> Option<Sandbox> {
        let mut idle = lock(&self.idle);
        while let Some(sandbox) = idle.pop() {
            if !sandbox.control().has_exited() {
                return Some(sandbox);
            }
        }
        None
    }

    /// Starts a process and waits until it asks for its first event.
    async fn cold_sandbox(&self, request_id: &str) -> Result<(Sandbox, Duration), Outcome> {
        let id = self.next_sandbox.fetch_add(1, Ordering::Relaxed);
        let identity = Identity {
            name: &self.name,
            region: &self.region,
            config: &self.config,
        };
        let sandbox = Sandbox::spawn(&identity, id).await.map_err(|error| {
            Outcome::Unhandled(error_document(
                "Runtime.InvalidEntrypoint",
                &format!(
                    "RequestId: {request_id} Error: could not start {}: {error}",
                    self.config.executable.display()
                ),
            ))
        })?;
        lock(&self.metrics).processes_started += 1;
        {
            let mut live = lock(&self.live);
            live.retain(|control| !control.has_exited());
            live.push(sandbox.control());
        }
        let mut phase = sandbox.phase();
        let settled = tokio::time::timeout(
            self.config.init_timeout,
            phase.wait_for(|p| !matches!(p, Phase::Starting)),
        )
        .await;
        let settled = match settled {
            Ok(Ok(phase)) => phase.clone(),
            Ok(Err(_)) => Phase::Exited("exited".to_owned()),
            Err(_) => {
                return Err(Outcome::Unhandled(timed_out(
                    request_id,
                    self.config.init_timeout,
                )))
            }
        };
        match settled {
            Phase::Ready { init } => {
                lock(&self.metrics).init_durations.push(init);
                Ok((sandbox, init))
            }
            Phase::InitFailed(document) => Err(Outcome::Unhandled(document)),
            Phase::Exited(status) => Err(Outcome::Unhandled(exited(request_id, &status))),
            Phase::Starting => unreachable!("waited for a phase other than Starting"),
        }
    }

    /// Hands the event to `sandbox` and waits for the outcome; keeps the
    /// process warm if it answered, gives it up otherwise.
    async fn deliver(&self, sandbox: Sandbox, invocation: Invocation) -> Outcome {
        let deadline = Instant::now() + self.config.timeout;
        let deadline_unix_ms = (SystemTime::now() + self.config.timeout)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let (reply, answer) = oneshot::channel();
        let request_id = invocation.request_id.clone();
        let delivered = sandbox.deliver(Delivery {
            request_id: invocation.request_id,
            payload: invocation.payload,
            deadline_unix_ms,
            invoked_function_arn: invocation.invoked_function_arn,
            trace_id: trace_id(),
            reply,
        });
        if !delivered {
            return Outcome::Unhandled(error_document(
                "Runtime.Unavailable",
                &format!("RequestId: {request_id} Error: the process was busy"),
            ));
        }
        let control = sandbox.control();
        // Biased: a process that answered and then exited did answer.
        tokio::select! {
            biased;
            answer = answer => match answer {
                Ok(Reply::Response(body)) => {
                    self.keep_warm(sandbox);
                    Outcome::Success(body)
                }
                Ok(Reply::Error(document)) => {
                    self.keep_warm(sandbox);
                    Outcome::Unhandled(document)
                }
                Err(_) => Outcome::Unhandled(exited(&request_id, &control.exited().await)),
            },
            status = control.exited() => Outcome::Unhandled(exited(&request_id, &status)),
            () = tokio::time::sleep_until(deadline.into()) => {
                drop(sandbox);
                Outcome::Unhandled(timed_out(&request_id, self.config.timeout))
            }
        }
    }

    fn keep_warm(&self, sandbox: Sandbox) {
        lock(&self.idle).push(sandbox);
    }
}

/// Lambda's document for an invocation past the function's timeout.
fn timed_out(request_id: &str, timeout: Duration) -> Bytes {
    error_document(
        "Sandbox.Timedout",
        &format!(
            "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
            timeout.as_secs_f64()
        ),
    )
}

/// Lambda's document for a process that ended before it answered.
fn exited(request_id: &str, status: &str) -> Bytes {
    error_document(
        "Runtime.ExitError",
        &format!("RequestId: {request_id} Error: Runtime exited with error: {status}"),
    )
}

/// An X-Ray trace header of the shape Lambda passes, unsampled.
fn trace_id() -> String {
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{epoch:08x}-{};Parent={};Sampled=0",
        &random[..24],
        &random[16..32]
    )
}

/// Lambda's REPORT log line, on the emulator's stderr.
fn report(function: &str, request_id: &str, duration: Duration, init: Option<Duration>) {
    let init = init
        .map(|init| format!("\tInit Duration: {:.2} ms", init.as_secs_f64() * 1000.0))
        .unwrap_or_default();
    eprintln!(
        "[{function}] REPORT RequestId: {request_id}\tDuration: {:.2} ms{init}",
        duration.as_secs_f64() * 1000.0
    );
}
