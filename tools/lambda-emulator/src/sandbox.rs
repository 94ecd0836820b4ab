//! One execution environment: a function process, started with the
//! environment Lambda sets, its own Runtime API listener, the threads that
//! copy its output to the emulator's stderr, and the watcher that notices
//! when it exits. A `Sandbox` is owned by one invoker at a time (see
//! `pool`); dropping it kills the process. Which event goes where, and
//! when a process is given up, is `pool`'s business, not this module's.
//!
//! Processes are `std::process` children watched by polling `try_wait`,
//! so the workspace's tokio needs no `process` feature (adding one would
//! rebuild tokio and everything above it for every crate).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::FunctionConfig;
use crate::runtime_api::{self, lock, Delivery, Phase, RuntimeState};

/// How often the watcher asks whether a process has exited.
const EXIT_POLL: Duration = Duration::from_millis(5);

/// What a sandbox needs to know about its function.
#[derive(Debug)]
pub(crate) struct Identity<'a> {
    pub name: &'a str,
    pub region: &'a str,
    pub config: &'a FunctionConfig,
}

/// A running function process and its Runtime API.
#[derive(Debug)]
pub(crate) struct Sandbox {
    state: Arc<RuntimeState>,
    deliveries: mpsc::Sender<Delivery>,
    control: Control,
    server: JoinHandle<()>,
}

/// The handle that can kill a sandbox's process and see it end; kept by
/// the pool for every live process, so shutdown reaches busy ones too.
#[derive(Debug, Clone)]
pub(crate) struct Control {
    child: Arc<Mutex<Child>>,
    phase: watch::Receiver<Phase>,
}

impl Control {
    /// Sends SIGKILL; the watcher then reports the exit.
    pub fn kill(&self) {
        // An error means the process has already been reaped.
        let _ = lock(&self.child).kill();
    }

    pub fn has_exited(&self) -> bool {
        matches!(*self.phase.borrow(), Phase::Exited(_))
    }

    /// Waits until the process has exited.
    pub async fn exited(&self) -> String {
        let mut phase = self.phase.clone();
        let status = match phase.wait_for(|p| matches!(p, Phase::Exited(_))).await {
            Ok(phase) => match &*phase {
                Phase::Exited(status) => status.clone(),
                _ => unreachable!("waited for Exited"),
            },
            // The watcher is gone, so the process is too.
            Err(_) => "exited".to_owned(),
        };
        status
    }
}

impl Sandbox {
    /// Starts the function's process with its own Runtime API listener.
    pub async fn spawn(function: &Identity<'_>, id: u64) -> io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let runtime_api = listener.local_addr()?;
        let mut command = Command::new(&function.config.executable);
        command
            .env_clear()
            .envs(lambda_environment(function, runtime_api))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = function.config.executable.parent() {
            if !dir.as_os_str().is_empty() {
                command.current_dir(dir);
            }
        }
        let (deliveries, receiver) = mpsc::channel(1);
        let (phase, phase_receiver) = watch::channel(Phase::Starting);
        let spawned_at = Instant::now();
        let mut child = command.spawn()?;
        let prefix = format!("[{}#{id}]", function.name);
        for output in [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|o| Box::new(o) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let prefix = prefix.clone();
            std::thread::spawn(move || copy_lines(output, &prefix));
        }
        let state = Arc::new(RuntimeState {
            spawned_at,
            phase,
            deliveries: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(None),
        });
        let app = runtime_api::app(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let child = Arc::new(Mutex::new(child));
        tokio::spawn(watch_exit(child.clone(), state.clone()));
        Ok(Sandbox {
            state,
            deliveries,
            control: Control {
                child,
                phase: phase_receiver,
            },
            server,
        })
    }

    pub fn control(&self) -> Control {
        self.control.clone()
    }

    pub fn phase(&self) -> watch::Receiver<Phase> {
        self.state.phase.subscribe()
    }

    /// Hands an event to the process (it takes it on its next `/next`).
    /// The sandbox is owned by one invoker, so its one slot is free.
    pub fn deliver(&self, delivery: Delivery) -> bool {
        self.deliveries.try_send(delivery).is_ok()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.control.kill();
        self.server.abort();
    }
}

/// The environment Lambda gives a function in a `provided` runtime, then
/// the function's own variables over it. Nothing of the emulator's own
/// environment leaks in, as nothing of the builder's leaks into Lambda.
fn lambda_environment(
    function: &Identity<'_>,
    runtime_api: SocketAddr,
) -> BTreeMap<String, String> {
    let config = function.config;
    let name = function.name;
    let handler = config
        .executable
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bootstrap".to_owned());
    let task_root = config
        .executable
        .parent()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let today = time::OffsetDateTime::now_utc().date();
    let log_stream = format!(
        "{:04}/{:02}/{:02}/[$LATEST]{}",
        today.year(),
        u8::from(today.month()),
        today.day(),
        uuid::Uuid::new_v4().simple()
    );
    let mut environment: BTreeMap<String, String> = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            config.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_REGION", function.region.to_owned()),
        ("AWS_DEFAULT_REGION", function.region.to_owned()),
        ("_HANDLER", handler),
        ("LAMBDA_TASK_ROOT", task_root),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    environment.extend(config.environment.clone());
    environment
}

/// Copies a process's output to stderr line by line, each line prefixed
/// with the function and sandbox, so interleaved processes stay readable.
fn copy_lines(output: Box<dyn Read + Send>, prefix: &str) {
    let mut reader = BufReader::new(output);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let mut stderr = io::stderr().lock();
                let _ = writeln!(stderr, "{prefix} {}", text.trim_end_matches(['\n', '\r']));
            }
        }
    }
}

/// Polls the process until it exits, then records how it ended.
async fn watch_exit(child: Arc<Mutex<Child>>, state: Arc<RuntimeState>) {
    let mut poll = tokio::time::interval(EXIT_POLL);
    let status = loop {
        poll.tick().await;
        match lock(&child).try_wait() {
            Ok(Some(status)) => break describe(status),
            Ok(None) => {}
            Err(error) => break format!("wait failed: {error}"),
        }
    };
    state.phase.send_replace(Phase::Exited(status));
}

/// An exit status as Lambda words it (`exit status 2`, `signal: killed`).
fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(9)) => "signal: killed".to_owned(),
        (None, Some(signal)) => format!("signal: {signal}"),
        (None, None) => status.to_string(),
    }
}
