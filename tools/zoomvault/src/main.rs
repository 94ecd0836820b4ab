//! The `zoomvault` command. Glue only: flags become a validated config,
//! then one library call does the work. Data goes to stdout, diagnostics to
//! stderr; `main` returns the exit code.

mod workflow;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// mimalloc instead of glibc's malloc: the engine thread allocates many
// small JSON values per transition, and glibc's chunk consolidation cost it
// dearly (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "zoomvault",
    version,
    about = "Archive Zoom cloud recordings into storage you own."
)]
struct Cli {
    /// Log lines on stderr as text, or as JSON objects (one a line) for a
    /// log collector. Levels from RUST_LOG (e.g. `info`,
    /// `zoomvault_engine=debug`); by default info for `serve`, warnings
    /// otherwise
    #[arg(
        long,
        global = true,
        env = "ZOOMVAULT_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logging on stderr: the level from RUST_LOG (or the older
/// ZOOMVAULT_LOG), else `default_level`; text or JSON lines.
fn init_logging(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_env("ZOOMVAULT_LOG"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate and run Amazon States Language workflows on the embedded engine.
    Workflow {
        #[command(subcommand)]
        command: workflow::WorkflowCommand,
    },
    /// Run zoomvault: Zoom webhook endpoint, workflow engine, storage and
    /// the recordings site, in one process. Without Zoom credentials it
    /// runs against the bundled Zoom simulator and ingests a demo meeting.
    Serve {
        /// TOML settings file: any of the settings below by their long
        /// names with underscores (zoom_account_id = "..."); flags and
        /// environment variables win over it
        #[arg(long, env = "ZOOMVAULT_CONFIG")]
        config: Option<std::path::PathBuf>,
        #[command(flatten)]
        options: Box<zoomvault::serve::ServeOptions>,
    },
    /// Start an ingest by hand through a running `zoomvault serve`: from a
    /// saved webhook JSON file (or any request start-ingest takes), a
    /// recording UUID, a meeting number (its latest instance, or
    /// --all-instances) or a share link. The same state machine and
    /// execution names as the webhook, so a recording already started
    /// starts nothing new unless --force. Exit code 1 if a start (or, with
    /// --wait, an ingest) failed.
    Ingest(IngestArgs),
    /// Reindex a recording from its edited recording.json: validated
    /// against the schema (each error with its JSON pointer), then written
    /// to the store and the index, and the site rebuilt. Its UUID, meeting,
    /// start time and files' keys, sizes and checksums must not change
    /// (the files' facts may with --force). Exit code 1 if refused.
    Reindex {
        /// The edited recording.json
        #[arg(required_unless_present = "edit", conflicts_with = "edit")]
        file: Option<std::path::PathBuf>,
        /// Open recording UUID's document in $EDITOR, then reindex it
        #[arg(long, value_name = "UUID")]
        edit: Option<String>,
        /// Allow changes to the files' sizes and checksums
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        archive: ArchiveArgs,
    },
    /// Rebuild the recording index from the documents in the store: after
    /// the index was lost, or to check it. Idempotent; an interrupted run
    /// resumes where it stopped. Exit code 1 if any document is invalid
    /// (each is listed with its reason).
    Rebuild {
        #[command(flatten)]
        archive: ArchiveArgs,
        /// Start from the beginning, ignoring where an interrupted run
        /// stopped
        #[arg(long)]
        fresh: bool,
    },
    /// Scan Zoom for recordings the webhook missed: every user's cloud
    /// recordings between two dates (by default the last 30 days), and an
    /// ingest started through the running `zoomvault serve` for each one
    /// that is neither archived nor started already. `serve` also runs it
    /// on a schedule. Exit code 1 if a user or recording could not be
    /// handled.
    Scan(ScanArgs),
    /// Where recordings stand, asked of the running `zoomvault serve`
    /// (its GET /status): received, retrieving (bytes done of total),
    /// archived, failed with its cause, skipped, trashed in Zoom; and the
    /// engine journal's size. By default every recording an ingest
    /// started for in the last day.
    Status(StatusArgs),
    /// Purge recordings past their retention: each recording whose rule
    /// (a host's own, else the default) makes it due, unless its document
    /// has a legal hold, is deleted from the store and the index after a
    /// disposition record (what, when, which rule) is written under
    /// dispositions/, which is never purged. The rules come from the flags,
    /// their environment variables, or serve's --config file. Exit code 1
    /// if a recording could not be judged or purged.
    Purge(PurgeArgs),
    /// The workflow engine alone, behind its Step Functions API.
    Engine {
        #[command(subcommand)]
        command: EngineCommand,
    },
    /// Run the Zoom API simulator (for tests and demos).
    ZoomSim(zoomvault_zoom_sim::cli::Args),
}

/// Where the archive an operation works on is: the data directory `serve`
/// uses, and its store when that is not the directory store.
#[derive(Debug, clap::Args)]
struct ArchiveArgs {
    /// The data directory `zoomvault serve` uses (its index, and its store
    /// unless --store is set)
    #[arg(long, env = "ZOOMVAULT_DATA_DIR", default_value = "zoomvault-data")]
    data_dir: std::path::PathBuf,
    /// Where recordings are archived, when not in the data directory:
    /// s3://bucket/prefix (endpoint and credentials from the AWS
    /// environment)
    #[arg(long, env = "ZOOMVAULT_STORE")]
    store: Option<String>,
    /// Path-style S3 addressing, for stores that need it (MinIO)
    #[arg(long, env = "ZOOMVAULT_S3_FORCE_PATH_STYLE")]
    s3_force_path_style: bool,
}

impl ArchiveArgs {
    async fn open(&self) -> anyhow::Result<zoomvault::ops::Archive> {
        let store =
            zoomvault::serve::StoreSetting::parse(self.store.as_deref(), self.s3_force_path_style)?;
        zoomvault::ops::Archive::open(&self.data_dir, &store).await
    }
}

#[derive(Debug, Subcommand)]
enum EngineCommand {
    /// Serve the Step Functions API (and the console at /console) over one
    /// journal, for the AWS CLI, boto3 or aws-sdk-sfn. Off loopback it
    /// needs ZOOMVAULT_API_ACCESS_KEY_ID and ZOOMVAULT_API_SECRET_ACCESS_KEY.
    Serve {
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// The journal (SQLite); created if missing
        #[arg(long, default_value = "zoomvault-engine.db")]
        db: std::path::PathBuf,
        /// Send Lambda tasks whose function has no built-in handler to this
        /// Lambda Invoke endpoint (AWS's, or an emulator running the
        /// functions), as Step Functions Local does; credentials and region
        /// from the usual AWS environment variables
        #[arg(long, env = "ZOOMVAULT_LAMBDA_ENDPOINT")]
        lambda_endpoint: Option<String>,
        /// Send `events:putEvents` tasks to EventBridge at this endpoint
        /// URL, or `aws` for AWS's [default: a bus with no rules, where
        /// events go nowhere]
        #[arg(long, env = "ZOOMVAULT_EVENTBRIDGE_ENDPOINT")]
        eventbridge_endpoint: Option<String>,
        /// Send `dynamodb:*` tasks to DynamoDB at this endpoint URL, or
        /// `aws` for AWS's [default: none; such tasks fail saying so]
        #[arg(long, env = "ZOOMVAULT_DYNAMODB_ENDPOINT")]
        dynamodb_endpoint: Option<String>,
    },
}

/// mimalloc keeps freed memory for a while before giving it back, which
/// was most of a big retrieval's peak RSS; a 10 ms purge delay bounds it at
/// the same speed (see BENCHMARKS.md). mimalloc reads the option from the
/// environment when the process starts, so the binary sets it and starts
/// itself again, once, unless the user chose a value. Setting it from
/// inside would need an unsafe FFI call.
fn purge_freed_memory_promptly() {
    use std::os::unix::process::CommandExt;
    const OPTION: &str = "MIMALLOC_PURGE_DELAY";
    if std::env::var_os(OPTION).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    // exec only returns if it failed; then run as we are.
    let _ = std::process::Command::new(exe)
        .arg0(arg0)
        .args(args)
        .env(OPTION, "10")
        .exec();
}

fn main() -> ExitCode {
    purge_freed_memory_promptly();
    let cli = Cli::parse();
    let serving = matches!(
        cli.command,
        Command::Serve { .. } | Command::Engine { .. } | Command::ZoomSim(_)
    );
    init_logging(cli.log_format, if serving { "info" } else { "warn" });
    let result = match cli.command {
        Command::Workflow { command } => workflow::run(command),
        Command::Serve { config, options } => serve(*options, config),
        Command::Rebuild { archive, fresh } => rebuild(archive, fresh),
        Command::Reindex {
            file,
            edit,
            force,
            archive,
        } => reindex(archive, file, edit, force),
        Command::Ingest(args) => ingest(args),
        Command::Scan(args) => scan(args),
        Command::Status(args) => status(args),
        Command::Purge(args) => purge(args),
        Command::Engine {
            command:
                EngineCommand::Serve {
                    listen,
                    db,
                    lambda_endpoint,
                    eventbridge_endpoint,
                    dynamodb_endpoint,
                },
        } => engine_serve(
            listen,
            db,
            lambda_endpoint,
            eventbridge_endpoint,
            dynamodb_endpoint,
        ),
        Command::ZoomSim(args) => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(zoomvault_zoom_sim::cli::run(args)))
            .map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn serve(
    options: zoomvault::serve::ServeOptions,
    config: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    use zoomvault::serve::{ServeOptions, ServeSettings};
    let file = match &config {
        Some(path) => ServeOptions::from_toml_file(path)?,
        None => ServeOptions::default(),
    };
    let settings = ServeSettings::resolve(options, file)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let shutdown = {
        let _in_runtime = runtime.enter();
        zoomvault::serve::shutdown_signal()
    };
    runtime.block_on(zoomvault::serve::run(settings, shutdown))?;
    Ok(ExitCode::SUCCESS)
}

/// How the commands that start ingests reach the running `serve`.
#[derive(Debug, clap::Args)]
struct EndpointArgs {
    /// The Step Functions API of the running `zoomvault serve`
    #[arg(
        long,
        env = "ZOOMVAULT_ENDPOINT",
        default_value = "http://127.0.0.1:8080"
    )]
    endpoint: String,
    /// The access key it requires, when it listens beyond loopback
    #[arg(long, env = "ZOOMVAULT_API_ACCESS_KEY_ID")]
    api_access_key_id: Option<String>,
    #[arg(long, env = "ZOOMVAULT_API_SECRET_ACCESS_KEY", hide_env_values = true)]
    api_secret_access_key: Option<String>,
}

impl EndpointArgs {
    fn endpoint(self) -> anyhow::Result<zoomvault::ops::Endpoint> {
        Ok(zoomvault::ops::Endpoint {
            key: zoomvault::serve::ApiKey::from_parts(
                self.api_access_key_id,
                self.api_secret_access_key,
            )?,
            url: self.endpoint,
        })
    }
}

#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// First day of recordings to look at (YYYY-MM-DD) [default: 30 days
    /// before --to]
    #[arg(long, conflicts_with = "days")]
    from: Option<String>,
    /// Last day [default: today]
    #[arg(long)]
    to: Option<String>,
    /// Look at the last DAYS days up to --to
    #[arg(long)]
    days: Option<i64>,
    /// Find and list, start nothing
    #[arg(long)]
    dry_run: bool,
    /// Users listed at once
    #[arg(long, env = "ZOOMVAULT_SCAN_CONCURRENCY", default_value_t = zoomvault_archive::operations::scan::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    #[command(flatten)]
    archive: ArchiveArgs,
    #[command(flatten)]
    endpoint: EndpointArgs,
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    use zoomvault_archive::operations::scan::ScanRequest;
    let request = ScanRequest {
        from: args.from,
        to: args.to,
        days: args.days,
        dry_run: args.dry_run,
    };
    let options = request.options(time::OffsetDateTime::now_utc().date(), args.concurrency)?;
    let zoom = zoomvault::serve::ZoomSettings::client_from_env(&|name| std::env::var(name).ok())?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the scan reads Zoom's API: set ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (and ZOOM_API_BASE, ZOOM_OAUTH_BASE for another endpoint)"
            )
        })?;
    let endpoint = args.endpoint.endpoint()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(async {
        let archive = args.archive.open().await?;
        zoomvault::ops::scan(&archive, &endpoint, &zoom, &options).await
    })?;
    zoomvault::ops::write_scan_report(&report, &mut std::io::stdout().lock())?;
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[derive(Debug, clap::Args)]
struct PurgeArgs {
    /// Judge and list, delete nothing
    #[arg(long)]
    dry_run: bool,
    /// Purge recordings this many days after they started, or forever
    /// [default: forever, or serve's config file]
    #[arg(long, env = "ZOOMVAULT_RETENTION_DAYS")]
    retention_days: Option<String>,
    /// A host's own retention, EMAIL=DAYS or EMAIL=forever (repeat, or
    /// comma-separated)
    #[arg(
        long = "retention-host",
        env = "ZOOMVAULT_RETENTION_HOSTS",
        value_delimiter = ','
    )]
    retention_hosts: Vec<String>,
    /// serve's TOML settings file, for the retention rules it holds
    #[arg(long, env = "ZOOMVAULT_CONFIG")]
    config: Option<std::path::PathBuf>,
    #[command(flatten)]
    archive: ArchiveArgs,
}

fn purge(args: PurgeArgs) -> anyhow::Result<ExitCode> {
    use zoomvault::serve::ServeOptions;
    let file = match &args.config {
        Some(path) => ServeOptions::from_toml_file(path)?,
        None => ServeOptions::default(),
    };
    let given = ServeOptions {
        retention_days: args.retention_days,
        retention_hosts: args.retention_hosts,
        ..ServeOptions::default()
    };
    let policy = given.retention_policy(file)?;
    if !policy.purges() {
        println!("no retention rule purges anything (set --retention-days or --retention-host): nothing to do");
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(async {
        let archive = args.archive.open().await?;
        zoomvault::ops::purge(&archive, &policy, args.dry_run).await
    })?;
    zoomvault::ops::write_purge_report(&report, &mut std::io::stdout().lock())?;
    Ok(if report.failed_count > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Debug, clap::Args)]
struct StatusArgs {
    /// One recording, by UUID
    #[arg(conflicts_with_all = ["meeting", "since"])]
    recording: Option<String>,
    /// Every archived instance of a meeting number
    #[arg(long, conflicts_with = "since")]
    meeting: Option<String>,
    /// Every recording an ingest started for in this long (24h, 7d)
    #[arg(long)]
    since: Option<String>,
    /// The report as JSON, as GET /status answers it
    #[arg(long)]
    json: bool,
    /// The running `zoomvault serve`
    #[arg(
        long,
        env = "ZOOMVAULT_ENDPOINT",
        default_value = "http://127.0.0.1:8080"
    )]
    endpoint: String,
}

fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let mut query = Vec::new();
    if let Some(uuid) = &args.recording {
        query.push(("recording", uuid.as_str()));
    }
    if let Some(id) = &args.meeting {
        query.push(("meeting", id.as_str()));
    }
    if let Some(since) = &args.since {
        query.push(("since", since.as_str()));
    }
    let url = format!("{}/status", args.endpoint.trim_end_matches('/'));
    let runtime = tokio::runtime::Runtime::new()?;
    let (code, body) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(&url)
            .query(&query)
            .send()
            .await
            .with_context(|| format!("asking {url} (is zoomvault serve running there?)"))?;
        let code = response.status();
        anyhow::Ok((code, response.text().await?))
    })?;
    if !code.is_success() {
        let why = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or(body);
        anyhow::bail!("{url} answered {code}: {why}");
    }
    let report: zoomvault::status::StatusReport =
        serde_json::from_str(&body).with_context(|| format!("{url} answered {body:?}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        zoomvault::status::write_report(&report, &mut std::io::stdout().lock())?;
    }
    let unknown = args.recording.is_some()
        && report
            .recordings
            .iter()
            .all(|r| r.state == zoomvault::status::State::Unknown);
    Ok(if unknown {
        eprintln!(
            "no recording {} in the index or the engine",
            args.recording.unwrap_or_default()
        );
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Debug, clap::Args)]
struct IngestArgs {
    /// A .json file, a recording UUID, a meeting number or a share link
    target: String,
    /// Every instance of the meeting number that has a recording
    #[arg(long)]
    all_instances: bool,
    /// Ingest again under a new execution name, recovering the
    /// recording from Zoom's trash first; the archived document stays
    /// until the new ingest replaces it
    #[arg(long)]
    force: bool,
    /// A share link is looked for among recordings from this date
    /// (YYYY-MM-DD) [default: a year before --to]
    #[arg(long)]
    from: Option<String>,
    /// ... to this date [default: today]
    #[arg(long)]
    to: Option<String>,
    /// Wait for each ingest to finish, and report how it ended
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    endpoint: EndpointArgs,
}

fn ingest(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let request = zoomvault::ops::ingest_request(
        &args.target,
        args.all_instances,
        args.force,
        args.from.as_deref(),
        args.to.as_deref(),
    )?;
    let zoom = zoomvault::serve::ZoomSettings::client_from_env(&|name| std::env::var(name).ok())?;
    let endpoint = args.endpoint.endpoint()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let outcome = runtime.block_on(zoomvault::ops::ingest(
        &endpoint,
        zoom.as_ref(),
        &request,
        args.wait,
    ))?;
    outcome.write(&mut std::io::stdout().lock())?;
    Ok(if outcome.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn reindex(
    archive: ArchiveArgs,
    file: Option<std::path::PathBuf>,
    edit: Option<String>,
    force: bool,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let runtime = tokio::runtime::Runtime::new()?;
    let archive = runtime.block_on(archive.open())?;
    let (path, from_editor) = match (file, edit) {
        (Some(path), _) => (path, false),
        (None, Some(uuid)) => {
            let current = runtime.block_on(zoomvault::ops::archived_document(&archive, &uuid))?;
            let copy = tempfile::Builder::new()
                .prefix("recording-")
                .suffix(".json")
                .tempfile()?;
            std::fs::write(copy.path(), &current)?;
            let editor = std::env::var("VISUAL")
                .or_else(|_| std::env::var("EDITOR"))
                .unwrap_or_else(|_| "vi".into());
            let status = std::process::Command::new("sh")
                .args(["-c", &format!("{editor} \"$1\""), "sh"])
                .arg(copy.path())
                .status()
                .with_context(|| format!("running the editor {editor:?}"))?;
            anyhow::ensure!(
                status.success(),
                "the editor {editor:?} failed ({status}); nothing changed"
            );
            // Kept on failure so the edit is not lost.
            let (_, path) = copy.keep()?;
            (path, true)
        }
        (None, None) => unreachable!("clap requires a file or --edit"),
    };
    let edited = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let report = runtime
        .block_on(zoomvault::ops::reindex(&archive, &edited, force))
        .with_context(|| format!("{}: refused, nothing changed", path.display()))?;
    if from_editor {
        let _ = std::fs::remove_file(&path);
    }
    if report.changed {
        println!(
            "reindexed {} ({}): {}",
            report.recording_uuid,
            report.document_key,
            report.fields.join(", ")
        );
    } else {
        println!("unchanged: {} is already as given", report.recording_uuid);
    }
    Ok(ExitCode::SUCCESS)
}

fn rebuild(archive: ArchiveArgs, fresh: bool) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(async {
        let archive = archive.open().await?;
        zoomvault::ops::rebuild(&archive, fresh).await
    })?;
    zoomvault::ops::write_rebuild_report(&report, &mut std::io::stdout().lock())?;
    Ok(if report.invalid_count > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn engine_serve(
    listen: std::net::SocketAddr,
    db: std::path::PathBuf,
    lambda_endpoint: Option<String>,
    eventbridge_endpoint: Option<String>,
    dynamodb_endpoint: Option<String>,
) -> anyhow::Result<ExitCode> {
    use zoomvault::serve::AwsEndpoint;
    let eventbridge = eventbridge_endpoint
        .map(|text| {
            AwsEndpoint::parse(
                "--eventbridge-endpoint (ZOOMVAULT_EVENTBRIDGE_ENDPOINT)",
                &text,
            )
        })
        .transpose()?;
    let dynamodb = dynamodb_endpoint
        .map(|text| AwsEndpoint::parse("--dynamodb-endpoint (ZOOMVAULT_DYNAMODB_ENDPOINT)", &text))
        .transpose()?;
    let key = zoomvault::serve::api_key(
        listen,
        std::env::var("ZOOMVAULT_API_ACCESS_KEY_ID").ok(),
        std::env::var("ZOOMVAULT_API_SECRET_ACCESS_KEY").ok(),
    )?;
    let runtime = tokio::runtime::Runtime::new()?;
    let shutdown = {
        let _in_runtime = runtime.enter();
        zoomvault::serve::shutdown_signal()
    };
    runtime.block_on(async {
        let integrations = zoomvault::serve::integration_clients(&dynamodb, &eventbridge).await;
        zoomvault::serve::run_engine(listen, db, key, lambda_endpoint, integrations, shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
}
