//! `lambda-emulator`: the emulator as a process, for a test harness or a
//! shell. Reads flags into a `Config`, starts the emulator, prints the
//! Invoke API's endpoint URL as stdout's first line (so a harness that
//! listened on port 0 can read where), and runs until SIGINT or SIGTERM,
//! then kills the function processes. Logs go to stderr. Only glue.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use zoomvault_lambda_emulator::{Config, Emulator, FunctionConfig};

/// Serves the Lambda Invoke API and runs each function's binary as Lambda
/// would, speaking the Lambda Runtime API.
#[derive(Debug, Parser)]
#[command(name = "lambda-emulator", version)]
struct Args {
    /// Where the Invoke API listens (port 0: a free port; the URL is the
    /// first line on stdout).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// A function: NAME=PATH of its executable. Repeatable.
    #[arg(long = "function", value_name = "NAME=PATH", required = true)]
    functions: Vec<String>,
    /// An environment variable of a function: NAME:KEY=VALUE. Repeatable.
    #[arg(long = "env", value_name = "NAME:KEY=VALUE")]
    environment: Vec<String>,
    /// A function's timeout in seconds: NAME=SECONDS (default 60).
    #[arg(long = "timeout", value_name = "NAME=SECONDS")]
    timeouts: Vec<String>,
    /// How many processes of a function may run at once: NAME=N (default 4).
    #[arg(long = "concurrency", value_name = "NAME=N")]
    concurrency: Vec<String>,
    /// The region in the functions' ARNs and `AWS_REGION`.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// The account in the functions' ARNs.
    #[arg(long, default_value = "123456789012")]
    account: String,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = match config(args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("lambda-emulator: {error:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("lambda-emulator: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("lambda-emulator: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let emulator = Emulator::start(config).await?;
    println!("{}", emulator.endpoint());
    tracing::info!(endpoint = %emulator.endpoint(), "serving the Lambda Invoke API");
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    emulator.shutdown().await;
    Ok(())
}

/// Turns the flags into a validated configuration.
fn config(args: Args) -> anyhow::Result<Config> {
    let mut config = Config::new();
    config.listen = args.listen;
    config.region = args.region;
    config.account = args.account;
    for function in &args.functions {
        let (name, path) = split(function, '=', "--function NAME=PATH")?;
        config
            .functions
            .insert(name.to_owned(), FunctionConfig::new(PathBuf::from(path)));
    }
    for variable in &args.environment {
        let (name, assignment) = split(variable, ':', "--env NAME:KEY=VALUE")?;
        let (key, value) = split(assignment, '=', "--env NAME:KEY=VALUE")?;
        function(&mut config, name, "--env")?
            .environment
            .insert(key.to_owned(), value.to_owned());
    }
    for timeout in &args.timeouts {
        let (name, seconds) = split(timeout, '=', "--timeout NAME=SECONDS")?;
        let seconds: f64 = seconds
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s > 0.0)
            .with_context(|| format!("--timeout {timeout}: not a positive number of seconds"))?;
        function(&mut config, name, "--timeout")?.timeout = Duration::from_secs_f64(seconds);
    }
    for concurrency in &args.concurrency {
        let (name, n) = split(concurrency, '=', "--concurrency NAME=N")?;
        let n: usize = n
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| format!("--concurrency {concurrency}: not a positive number"))?;
        function(&mut config, name, "--concurrency")?.concurrency = n;
    }
    Ok(config)
}

fn split<'a>(value: &'a str, separator: char, shape: &str) -> anyhow::Result<(&'a str, &'a str)> {
    match value.split_once(separator) {
        Some((left, right)) if !left.is_empty() => Ok((left, right)),
        _ => bail!("{value:?} is not of the form {shape}"),
    }
}

fn function<'a>(
    config: &'a mut Config,
    name: &str,
    flag: &str,
) -> anyhow::Result<&'a mut FunctionConfig> {
    config
        .functions
        .get_mut(name)
        .with_context(|| format!("{flag} names {name:?}, which no --function defines"))
}
