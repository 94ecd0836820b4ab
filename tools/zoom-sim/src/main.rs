//! `zoom-sim`: runs the Zoom API simulator, or drives a running one. Only
//! wiring lives here: logging to stderr, flag parsing, then the library's
//! `run`. It must not do anything of its own, so that `zoomvault zoom-sim`,
//! which calls the same `run`, behaves the same.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match zoomvault_zoom_sim::run(zoomvault_zoom_sim::Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("zoom-sim: {error:#}");
            ExitCode::FAILURE
        }
    }
}
