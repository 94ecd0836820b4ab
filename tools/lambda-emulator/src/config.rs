//! What the emulator runs: the functions (executable, environment, limits),
//! the Invoke API's listen address and the region and account its ARNs
//! name. Plain values with Lambda's defaults where Lambda has one; reading
//! them from flags is `main.rs`'s job, and nothing here starts anything.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The emulator's configuration: one entry per function name.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the Invoke API listens; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The region in the ARNs the emulator gives out and in the functions'
    /// `AWS_REGION`.
    pub region: String,
    /// The account in the ARNs the emulator gives out.
    pub account: String,
    pub functions: BTreeMap<String, FunctionConfig>,
}

impl Config {
    /// A configuration listening on a free loopback port, in us-east-1 and
    /// the documentation account 123456789012, with no functions yet.
    pub fn new() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            region: "us-east-1".to_owned(),
            account: "123456789012".to_owned(),
            functions: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) the function `name`.
    pub fn function(mut self, name: impl Into<String>, function: FunctionConfig) -> Config {
        self.functions.insert(name.into(), function);
        self
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

/// One function: the binary Lambda would run as `bootstrap`, and the
/// settings Lambda keeps in the function's configuration.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// The function's executable (a `lambda_runtime::run` main).
    pub executable: PathBuf,
    /// The function's environment variables, set over the ones Lambda sets.
    pub environment: BTreeMap<String, String>,
    /// How many processes (execution environments) may run at once; more
    /// invocations than this wait for a free one.
    pub concurrency: usize,
    /// The function's timeout, counted from the moment the event is handed
    /// to the process.
    pub timeout: Duration,
    /// How long a new process may take to ask for its first event.
    pub init_timeout: Duration,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`; informational, nothing is limited.
    pub memory_mb: u32,
}

impl FunctionConfig {
    /// The defaults: no extra environment, 4 processes, a 60 s timeout
    /// (longer than Lambda's 3 s default, since debug builds are slow),
    /// Lambda's 10 s init limit and 128 MB.
    pub fn new(executable: impl Into<PathBuf>) -> FunctionConfig {
        FunctionConfig {
            executable: executable.into(),
            environment: BTreeMap::new(),
            concurrency: 4,
            timeout: Duration::from_secs(60),
            init_timeout: Duration::from_secs(10),
            memory_mb: 128,
        }
    }

    /// Adds one environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> FunctionConfig {
        self.environment.insert(key.into(), value.into());
        self
    }

    pub fn concurrency(mut self, concurrency: usize) -> FunctionConfig {
        self.concurrency = concurrency.max(1);
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> FunctionConfig {
        self.timeout = timeout;
        self
    }
}
