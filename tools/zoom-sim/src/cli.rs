//! The `zoom-sim` command line, as a library so that the `zoomvault` binary
//! can offer the same thing as `zoomvault zoom-sim` by embedding `Args` and
//! calling `run`. Flags become a `SimConfig` before anything starts; data
//! (URLs, credentials, JSON results) goes to stdout, logs to stderr. It
//! must not simulate anything itself: serving is `ZoomSim`'s, and the
//! subcommands that drive a running simulator only call its `/_sim` API.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::config::{DemoSizes, SimConfig};
use crate::sim::ZoomSim;
use crate::webhook::{SignatureMode, WebhookOptions};

/// `zoom-sim [--listen ADDR] [--seed N] [--demo] ...` serves until Ctrl-C;
/// `zoom-sim send-webhook --sim URL --to URL` drives a running simulator.
#[derive(Debug, clap::Parser)]
#[command(
    name = "zoom-sim",
    about = "A Zoom API simulator: OAuth, cloud recordings REST API, ranged downloads, trash, signed webhooks",
    args_conflicts_with_subcommands = true
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run the simulator until Ctrl-C (what `zoom-sim` alone does).
    Serve(ServeArgs),
    /// Ask a running simulator to deliver a signed `recording.completed` webhook.
    SendWebhook(SendWebhookArgs),
    /// Ask a running simulator to send an `endpoint.url_validation` challenge.
    ValidateUrl(ValidateUrlArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub listen: SocketAddr,
    /// Seeds identifiers and file contents.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Add the demo recording (two MP4 segments, M4A, VTT, chat, timeline).
    #[arg(long)]
    pub demo: bool,
    /// Size of the demo's first MP4 segment in bytes.
    #[arg(long)]
    pub demo_video_bytes: Option<u64>,
    /// OAuth access token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_ttl_secs: u64,
    /// Webhook download token lifetime in seconds.
    #[arg(long, default_value_t = 24 * 3600)]
    pub download_token_ttl_secs: u64,
    /// Make the CDN ignore Range headers (always 200 with the whole file).
    #[arg(long)]
    pub no_range: bool,
    /// Once started, deliver a `recording.completed` for the demo recording here.
    #[arg(long, requires = "demo")]
    pub webhook_to: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct SendWebhookArgs {
    /// Base URL of the running simulator.
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    pub sim: String,
    /// Webhook endpoint to deliver to.
    #[arg(long)]
    pub to: String,
    /// Meeting UUID (default: the most recently added recording that is
    /// not in the trash).
    #[arg(long)]
    pub meeting: Option<String>,
    /// Send this `x-zm-request-timestamp` (unix seconds) instead of now.
    #[arg(long)]
    pub timestamp: Option<i64>,
    /// Send a signature that does not match the body.
    #[arg(long)]
    pub bad_signature: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ValidateUrlArgs {
    /// Base URL of the running simulator.
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    pub sim: String,
    /// Webhook endpoint to challenge.
    #[arg(long)]
    pub to: String,
}

impl ServeArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> SimConfig {
        let defaults = SimConfig::default();
        SimConfig {
            seed: self.seed,
            token_ttl: Duration::from_secs(self.token_ttl_secs),
            download_token_ttl: Duration::from_secs(self.download_token_ttl_secs),
            range_support: !self.no_range,
            demo: DemoSizes {
                video_segment_1: self
                    .demo_video_bytes
                    .unwrap_or(defaults.demo.video_segment_1),
                ..defaults.demo.clone()
            },
            ..defaults
        }
    }
}

/// Runs the command `args` describes.
pub async fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        None => serve(args.serve).await,
        Some(Command::Serve(serve_args)) => serve(serve_args).await,
        Some(Command::SendWebhook(send)) => send_webhook(send).await,
        Some(Command::ValidateUrl(validate)) => validate_url(validate).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let sim = ZoomSim::start(args.config(), args.listen).await?;
    let config = sim.config();
    println!("ZOOM_SIM_BASE_URL={}", sim.base_url());
    println!("ZOOM_API_BASE_URL={}", sim.api_base_url());
    println!("ZOOM_OAUTH_TOKEN_URL={}", sim.oauth_token_url());
    println!("ZOOM_ACCOUNT_ID={}", config.account_id);
    println!("ZOOM_CLIENT_ID={}", config.client_id);
    println!("ZOOM_CLIENT_SECRET={}", config.client_secret);
    println!("ZOOM_WEBHOOK_SECRET_TOKEN={}", config.webhook_secret_token);
    if args.demo {
        let meeting = sim.demo_meeting();
        let token = sim.issue_download_token(&meeting.uuid);
        println!("DEMO_MEETING_UUID={}", meeting.uuid);
        println!("DEMO_MEETING_ID={}", meeting.id);
        println!("DEMO_DOWNLOAD_TOKEN={token}");
        for file in &meeting.files {
            println!(
                "DEMO_FILE_{}={} {} {} bytes {}?access_token={token}",
                file.index,
                file.file_type,
                file.recording_type.as_deref().unwrap_or("-"),
                file.size,
                file.download_url
            );
        }
        if let Some(to) = &args.webhook_to {
            let body = sim.recording_completed_event(&meeting.uuid);
            // A receiver that is not up yet should not take the simulator
            // down with it: report and keep serving, so it can be retried
            // with `zoom-sim send-webhook`.
            match sim.send_webhook(to, &body, WebhookOptions::default()).await {
                Ok((status, answer)) => {
                    println!("DEMO_WEBHOOK_STATUS={status}");
                    tracing::info!(%status, answer, "demo webhook delivered");
                }
                Err(error) => eprintln!("zoom-sim: demo webhook not delivered: {error:#}"),
            }
        }
    }
    eprintln!("zoom-sim: serving on {}; Ctrl-C to stop", sim.base_url());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}

/// POSTs a JSON control request to a running simulator.
async fn control(sim: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
    let url = format!("{}/_sim{path}", sim.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .json(body)
        .send()
        .await
        .with_context(|| format!("reaching the simulator at {url}"))?;
    let status = response.status();
    let answer: Value = response
        .json()
        .await
        .with_context(|| format!("reading the simulator's answer from {url}"))?;
    if !status.is_success() {
        bail!("the simulator refused: {answer}");
    }
    Ok(answer)
}

async fn send_webhook(args: SendWebhookArgs) -> anyhow::Result<()> {
    let options = WebhookOptions {
        timestamp: args.timestamp,
        signature: if args.bad_signature {
            SignatureMode::Corrupted
        } else {
            SignatureMode::Valid
        },
        ..WebhookOptions::default()
    };
    let answer = control(
        &args.sim,
        "/webhooks/recording-completed",
        &json!({"to": args.to, "meeting_uuid": args.meeting, "options": options}),
    )
    .await?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    let status = answer.get("status").and_then(Value::as_u64).unwrap_or(0);
    if !(200..300).contains(&status) {
        bail!("the webhook receiver answered {status}");
    }
    Ok(())
}

async fn validate_url(args: ValidateUrlArgs) -> anyhow::Result<()> {
    let answer = control(
        &args.sim,
        "/webhooks/url-validation",
        &json!({"to": args.to}),
    )
    .await?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    if answer.get("valid") != Some(&Value::Bool(true)) {
        bail!("the receiver did not answer the challenge correctly");
    }
    Ok(())
}
