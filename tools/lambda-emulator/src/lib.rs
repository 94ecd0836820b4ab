//! A Lambda emulator for testing zoomvault's function binaries as
//! deployed, offline: it serves the Lambda Invoke API (what aws-sdk-lambda
//! and the engine's `lambda:invoke` tasks call) and runs each function as
//! real processes of its real binary, each speaking the Lambda Runtime API
//! to its own listener, as `lambda_runtime` does on AWS. Processes start on
//! first invoke, stay warm, and are replaced when they crash or time out.
//!
//! Module map: `config` (what runs), `invoke_api` (the Invoke API) over
//! `pool` (one function's processes and an invocation's life) over
//! `sandbox` (one process) and `runtime_api` (its Runtime API); `error` is
//! the Invoke API's refusals. The emulator never builds the functions and
//! never talks to AWS.

mod config;
mod error;
mod invoke_api;
mod pool;
mod runtime_api;
mod sandbox;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{Config, FunctionConfig};
pub use pool::FunctionMetrics;

use invoke_api::Functions;
use pool::Function;

/// Why the emulator did not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("function {name}: executable {path} is not a file")]
    MissingExecutable { name: String, path: String },
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running emulator. Drop it or call [`Emulator::shutdown`] to stop it;
/// both kill the function processes (shutdown also waits for them).
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    functions: Arc<Functions>,
    server: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// Binds the Invoke API and starts serving; no function process starts
    /// until its first invocation.
    pub async fn start(config: Config) -> Result<Emulator, Error> {
        let Config {
            listen,
            region,
            account,
            functions,
        } = config;
        for (name, function) in &functions {
            if !function.executable.is_file() {
                return Err(Error::MissingExecutable {
                    name: name.clone(),
                    path: function.executable.display().to_string(),
                });
            }
        }
        let mut shared = Functions {
            by_name: BTreeMap::new(),
            region,
            account,
        };
        for (name, function) in functions {
            let function = Function::new(name.clone(), shared.region.clone(), function);
            shared.by_name.insert(name, Arc::new(function));
        }
        let functions = Arc::new(shared);
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| Error::Listen {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Listen {
            addr: listen,
            source,
        })?;
        let app = invoke_api::app(functions.clone());
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the Invoke API stopped");
            }
        });
        Ok(Emulator {
            addr,
            functions,
            server,
        })
    }

    /// The Invoke API's endpoint URL, `http://127.0.0.1:PORT`, for an SDK
    /// client's `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counters and init durations of the function `name`.
    pub fn metrics(&self, name: &str) -> Option<FunctionMetrics> {
        self.functions.by_name.get(name).map(|f| f.metrics())
    }

    /// Stops serving, kills every function process and waits until they
    /// have exited. Invocations still running answer `Runtime.ExitError`.
    pub async fn shutdown(self) {
        self.server.abort();
        for function in self.functions.by_name.values() {
            function.shutdown().await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
        for function in self.functions.by_name.values() {
            function.kill_all();
        }
    }
}
