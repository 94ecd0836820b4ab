//! The `zoomvault` command. Glue only: flags become a validated config,
//! then one library call does the work. Data goes to stdout, diagnostics to
//! stderr; `main` returns the exit code.

mod workflow;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// mimalloc instead of glibc's malloc: the engine thread allocates many
// small JSON values per transition, and glibc's chunk consolidation was a
// fifth of its time in the Map benchmark (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "zoomvault",
    version,
    about = "Archive Zoom cloud recordings into storage you own."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate and run Amazon States Language workflows on the embedded engine.
    Workflow {
        #[command(subcommand)]
        command: workflow::WorkflowCommand,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ZOOMVAULT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Workflow { command } => workflow::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
