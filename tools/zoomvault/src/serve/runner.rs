//! Running the servers: [`run`] is `zoomvault serve` (the embedded
//! deployment with its site builder, store sweeper, scheduled scan for
//! missed meetings and scheduled purge, and, with no Zoom
//! credentials, the bundled simulator and a demo ingest), [`run_engine`] is
//! `zoomvault engine serve` (the engine alone behind the Step Functions
//! API); both, and the tests, serve through [`serve_until_shutdown`]. It
//! wires the pieces and prints where they listen; it must not answer
//! requests (`http` does) or decide what settings are valid (`settings`
//! does), and it stops when the shutdown future it is given completes.

use super::http::{app, AppState};
use super::settings::{ApiKey, AwsEndpoint, ServeSettings, StoreSetting, ZoomSettings};
use crate::embedded::{Embedded, EmbeddedConfig, IntegrationEndpoints};
use anyhow::Context;
use axum::Router;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use zoomvault_archive::ports::WorkflowStarter;
use zoomvault_aws::SfnStarter;
use zoomvault_engine::Status;
use zoomvault_zoom::WebhookVerifier;

/// A bound TCP listener and the URL this process reaches it at.
#[derive(Debug)]
pub struct Listener {
    listener: tokio::net::TcpListener,
    url: String,
}

impl Listener {
    /// Binds `addr`; port 0 takes any free port.
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<Listener> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let url = self_url(listener.local_addr()?);
        Ok(Listener { listener, url })
    }

    /// `http://` and the bound address, as [`self_url`] gives it.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish. The console, site, files and `/status` are
/// answered only to loopback peers ([`super::http::guard`]). `serve` and `engine serve` stop on
/// [`shutdown_signal`]; tests pass a future that never completes, so the
/// server lives as long as their runtime.
pub async fn serve_until_shutdown(
    listener: Listener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = super::http::guard(app).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener.listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// What stops `serve` and `engine serve`: Ctrl-C (SIGINT) or SIGTERM, which
/// service managers, `docker stop` and `kill` send. The handlers are
/// installed when this is called (inside a tokio runtime), not when the
/// future is first polled, so a signal sent as soon as the server says it
/// is up already stops it cleanly. If a handler cannot be installed its
/// branch completes at once, and the server stops rather than run with no
/// way to stop it cleanly.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, Signal, SignalKind};
    let interrupt = signal(SignalKind::interrupt()).ok();
    let terminate = signal(SignalKind::terminate()).ok();
    let received = |installed: Option<Signal>| async move {
        if let Some(mut installed) = installed {
            installed.recv().await;
        }
    };
    async move {
        tokio::select! {
            () = received(interrupt) => {}
            () = received(terminate) => {}
        }
    }
}

/// The URL this process reaches its own listener at: a wildcard bind
/// (`0.0.0.0`, `::`) is reached on loopback.
pub fn self_url(listening: SocketAddr) -> String {
    let ip = match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(ip) if ip.is_unspecified() => Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listening.port()))
}

/// The starter `serve` uses: an aws-sdk-sfn client for the Step Functions
/// endpoint at `base_url` (this process's listener) and the ingest machine.
pub fn sdk_starter(
    embedded: &Embedded,
    base_url: &str,
    key: Option<&ApiKey>,
) -> Arc<dyn WorkflowStarter> {
    let client = sfn_client(base_url, key);
    Arc::new(SfnStarter::new(client, embedded.state_machine_arn.clone()))
}

/// An aws-sdk-sfn client for the Step Functions API of a `serve` at
/// `base_url`, signing with `key`, or (no key configured, so loopback,
/// where the endpoint accepts any) with a fixed local one.
pub fn sfn_client(base_url: &str, key: Option<&ApiKey>) -> aws_sdk_sfn::Client {
    let (id, secret) = key.map_or((EMBEDDED_ACCESS_KEY_ID, EMBEDDED_SECRET_ACCESS_KEY), |k| {
        (k.access_key_id.as_str(), k.secret_access_key.as_str())
    });
    zoomvault_aws::step_functions::client_for_endpoint(base_url, id, secret)
}

/// The key zoomvault signs its own calls with when no key is configured
/// (on loopback, where the endpoint accepts any key).
const EMBEDDED_ACCESS_KEY_ID: &str = "zoomvault-embedded";
const EMBEDDED_SECRET_ACCESS_KEY: &str = "zoomvault-embedded";

/// `zoomvault engine serve`: the engine alone behind its Step Functions
/// API and console, with no Zoom; its only handlers are the examples' demo
/// ones (`echo`, `flaky`, `fail`), so another Lambda resource fails as a
/// missing function and a `.waitForTaskToken` task waits for SendTask*.
/// Of the service integrations it runs `states:startExecution` on itself,
/// `events:putEvents` on EventBridge when `integrations` names an endpoint
/// (else on a bus with no rules, where events go nowhere) and `dynamodb:*`
/// when it names one; it has no archive, so no `aws-sdk:s3` bucket.
/// Runs until `shutdown` completes.
pub async fn run_engine(
    listen: SocketAddr,
    db_path: PathBuf,
    key: Option<ApiKey>,
    lambda_endpoint: Option<String>,
    integrations: IntegrationEndpoints,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut handlers = crate::demo::handlers();
    if let Some(endpoint) = &lambda_endpoint {
        let client = zoomvault_aws::lambda::client_for_endpoint(endpoint).await;
        handlers.set_lambda_fallback(zoomvault_aws::lambda::LambdaInvoker::fallback(client));
    }
    let mut config = zoomvault_engine::EngineConfig::new(&db_path);
    // A distributed Map's buckets: a directory per bucket beside the journal.
    let buckets = db_path
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("buckets");
    config.objects = std::sync::Arc::new(crate::map_buckets::MapBuckets::directory(buckets));
    let executions = zoomvault_integrations::states::NestedExecutions::new();
    zoomvault_integrations::register(
        &mut handlers,
        &zoomvault_integrations::Services {
            events: match integrations.eventbridge.clone() {
                Some(client) => zoomvault_integrations::events::EventTarget::EventBridge(client),
                None => zoomvault_integrations::events::EventTarget::NoRules,
            },
            dynamodb: match integrations.dynamodb.clone() {
                Some(client) => zoomvault_integrations::dynamodb::TableTarget::Endpoint(client),
                None => zoomvault_integrations::dynamodb::TableTarget::None,
            },
            buckets: zoomvault_integrations::s3::Buckets::new([]),
            executions: executions.clone(),
        },
    );
    let engine = zoomvault_engine::Engine::open(config, handlers)
        .with_context(|| format!("opening the engine journal {}", db_path.display()))?;
    executions.attach(&engine);
    let listener = Listener::bind(listen).await?;
    let base = listener.url();
    eprintln!("zoomvault engine serving the Step Functions API on {base}");
    eprintln!("  try:     aws stepfunctions --endpoint-url {base} list-state-machines");
    eprintln!("  console: {base}/console");
    eprintln!("  journal: {}", db_path.display());
    if let Some(endpoint) = &lambda_endpoint {
        eprintln!("  lambda:  tasks invoke functions at {endpoint}");
    }
    if integrations.eventbridge.is_none() {
        eprintln!(
            "  events:  events:putEvents goes to a bus with no rules (set --eventbridge-endpoint)"
        );
    }
    let api = zoomvault_sfn_api::app(engine.clone(), ApiKey::api_config(key.as_ref()));
    serve_until_shutdown(listener, api, shutdown).await?;
    // As in `run`: what the runtime's teardown does to running tasks is
    // not their result.
    engine.shutdown();
    Ok(())
}

/// The archive's store when it is not the data directory: an S3 client
/// from the standard AWS environment, over `location`.
/// The object store `setting` names, when it is not the directory store
/// under the data directory (which `Embedded::open` opens itself).
pub async fn archive_store(
    setting: &StoreSetting,
) -> Option<std::sync::Arc<dyn zoomvault_archive::ports::ObjectStore>> {
    let StoreSetting::S3 {
        location,
        force_path_style,
    } = setting
    else {
        return None;
    };
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(*force_path_style)
        .build();
    Some(std::sync::Arc::new(zoomvault_aws::s3::S3ObjectStore::new(
        aws_sdk_s3::Client::from_conf(config),
        location.clone(),
        zoomvault_aws::s3::S3Options::default(),
    )))
}

/// A distributed Map's buckets when the archive is in S3: the S3 buckets
/// themselves (`None`: a directory per bucket under the data directory).
async fn map_buckets(
    setting: &StoreSetting,
) -> Option<std::sync::Arc<dyn zoomvault_engine::ObjectStore>> {
    let StoreSetting::S3 {
        force_path_style, ..
    } = setting
    else {
        return None;
    };
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(*force_path_style)
        .build();
    Some(std::sync::Arc::new(crate::map_buckets::MapBuckets::s3(
        aws_sdk_s3::Client::from_conf(config),
    )))
}

/// The AWS endpoints the service integrations use: clients from the AWS
/// environment (region, credentials) for each one configured, and the
/// archive's bucket name when it is an S3 bucket.
pub async fn integration_endpoints(settings: &ServeSettings) -> IntegrationEndpoints {
    let archive_bucket = match &settings.store {
        StoreSetting::S3 { location, .. } => Some(location.bucket.clone()),
        StoreSetting::Directory => None,
    };
    IntegrationEndpoints {
        archive_bucket,
        ..integration_clients(&settings.dynamodb_endpoint, &settings.eventbridge_endpoint).await
    }
}

/// Clients from the AWS environment (region, credentials) for each
/// integration endpoint configured; no archive bucket.
pub async fn integration_clients(
    dynamodb_endpoint: &Option<AwsEndpoint>,
    eventbridge_endpoint: &Option<AwsEndpoint>,
) -> IntegrationEndpoints {
    let configured = dynamodb_endpoint.is_some() || eventbridge_endpoint.is_some();
    let sdk = if configured {
        Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await)
    } else {
        None
    };
    let sdk_for = |endpoint: &Option<AwsEndpoint>| -> Option<aws_config::SdkConfig> {
        let sdk = sdk.as_ref()?;
        match endpoint.as_ref()? {
            AwsEndpoint::Aws => Some(sdk.clone()),
            AwsEndpoint::Url(url) => Some(sdk.to_builder().endpoint_url(url).build()),
        }
    };
    IntegrationEndpoints {
        dynamodb: sdk_for(dynamodb_endpoint).map(|c| aws_sdk_dynamodb::Client::new(&c)),
        eventbridge: sdk_for(eventbridge_endpoint).map(|c| aws_sdk_eventbridge::Client::new(&c)),
        archive_bucket: None,
    }
}

/// Runs `serve` until `shutdown` completes.
pub async fn run(
    settings: ServeSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = Listener::bind(settings.listen).await?;
    let base = listener.url().to_string();
    let (zoom, simulator) = match &settings.zoom {
        Some(z) => (z.clone(), None),
        None => {
            let sim = zoomvault_zoom_sim::ZoomSim::start(
                zoomvault_zoom_sim::SimConfig::default(),
                SocketAddr::from(([127, 0, 0, 1], 0)),
            )
            .await
            .context("starting the bundled Zoom simulator")?;
            let config = sim.config();
            let settings = ZoomSettings {
                webhook_secret_token: config.webhook_secret_token.clone(),
                account_id: config.account_id.clone(),
                client_id: config.client_id.clone(),
                client_secret: config.client_secret.clone(),
                api_base: Some(sim.api_base_url()),
                oauth_base: Some(sim.base_url()),
                // The simulator serves its files over plain http on loopback.
                download_hosts: Some(
                    zoomvault_zoom::DownloadHosts::parse("http://127.0.0.1")
                        .expect("a valid host list"),
                ),
            };
            (settings, Some(sim))
        }
    };
    let store = archive_store(&settings.store).await;
    let map_buckets = map_buckets(&settings.store).await;
    let integrations = integration_endpoints(&settings).await;
    let embedded = Embedded::open(EmbeddedConfig {
        integrations,
        store,
        map_buckets,
        data_dir: settings.data_dir.clone(),
        zoom: zoom.client_config(),
        ingest: settings.ingest.clone(),
        site_title: settings.site_title.clone(),
        max_concurrent_tasks: settings.max_concurrent_tasks,
        journal_retention: settings.journal_retention,
        journal_sync: settings.journal_sync,
    })?;
    embedded.rebuild_site().await.context("building the site")?;
    tokio::spawn(embedded.clone().run_site_builder());
    tokio::spawn(embedded.clone().run_store_sweeper());
    let starter = sdk_starter(&embedded, &base, settings.api_key.as_ref());
    let schedule = crate::schedule::ScheduleState::open(&settings.data_dir)?;
    if let Some(every) = settings.scan_every {
        let zoom = zoomvault_zoom::ZoomClient::new(zoom.client_config())
            .context("the Zoom client for the scan")?;
        tokio::spawn(scheduled_scan(
            schedule.clone(),
            every,
            settings.scan_days,
            zoom,
            embedded.index.clone(),
            starter.clone(),
        ));
    }
    if let Some(every) = settings.purge_every {
        tokio::spawn(scheduled_purge(
            schedule.clone(),
            every,
            settings.retention.clone(),
            embedded.clone(),
        ));
    }
    let state = AppState {
        starter,
        embedded: embedded.clone(),
        verifier: Arc::new(WebhookVerifier::new(zoom.webhook_secret_token.clone())),
        api: settings.api_config(),
    };
    eprintln!("zoomvault serving on {base}");
    eprintln!("  webhook:  POST {base}/zoom/webhook");
    eprintln!("  site:     {base}/site/index.html");
    eprintln!("  console:  {base}/console");
    eprintln!("  Step Functions API: {base} (aws stepfunctions --endpoint-url {base} ...)");
    eprintln!("  data:     {}", settings.data_dir.display());
    let server = tokio::spawn(serve_until_shutdown(listener, app(state), shutdown));
    if let Some(sim) = &simulator {
        demo_ingest(sim, &embedded, &base, &settings).await?;
    }
    server.await.context("server task")??;
    // Journal nothing more: the steps still running are torn down with
    // the runtime when this returns, and must run again after a restart
    // rather than be journaled as failed by what the teardown does to them.
    embedded.engine.shutdown();
    Ok(())
}

/// The scan for missed meetings every `every`, over the last `days` days.
async fn scheduled_scan(
    schedule: crate::schedule::ScheduleState,
    every: std::time::Duration,
    days: i64,
    zoom: zoomvault_zoom::ZoomClient,
    index: Arc<zoomvault_archive::local::SqliteIndex>,
    starter: Arc<dyn WorkflowStarter>,
) {
    use zoomvault_archive::operations::scan::{scan, ScanOptions};
    crate::schedule::run_every(schedule, "scan", every, || async {
        let options = ScanOptions::last_days(time::OffsetDateTime::now_utc().date(), days);
        let report = scan(&zoom, index.as_ref(), starter.as_ref(), &options, &|_| {}).await?;
        for failure in &report.errors {
            tracing::warn!(what = %failure.what, error = %failure.error, "the scan could not handle");
        }
        for ended in &report.ended {
            tracing::warn!(
                recording = %ended.recording_uuid,
                execution = %ended.execution_arn,
                status = ?ended.status,
                "an ingest ended without archiving its recording (redrive it, or ingest --force)"
            );
        }
        anyhow::ensure!(report.ok(), "{}", report.summary());
        Ok(report.summary())
    })
    .await
}

/// The purge of recordings past their retention, every `every`.
async fn scheduled_purge(
    schedule: crate::schedule::ScheduleState,
    every: std::time::Duration,
    policy: zoomvault_archive::operations::purge::RetentionPolicy,
    embedded: Embedded,
) {
    use zoomvault_archive::operations::purge::{purge_recordings, PurgeOptions};
    crate::schedule::run_every(schedule, "purge", every, || async {
        let options = PurgeOptions {
            now: time::OffsetDateTime::now_utc(),
            dry_run: false,
            purged_by: crate::ops::purged_by("zoomvault serve's scheduled purge"),
            deadline: None,
        };
        let report = purge_recordings(
            embedded.store.as_ref(),
            embedded.index.as_ref(),
            embedded.events.as_ref(),
            &policy,
            &options,
            &|_| {},
        )
        .await?;
        for failed in &report.failed {
            tracing::warn!(recording = %failed.recording_uuid, reason = %failed.reason, "not purged");
        }
        anyhow::ensure!(report.failed_count == 0, "{}", report.summary());
        Ok(report.summary())
    })
    .await
}

/// Delivers a signed `recording.completed` for the simulator's demo meeting
/// to our own webhook and reports the ingest as it finishes.
async fn demo_ingest(
    sim: &zoomvault_zoom_sim::ZoomSim,
    embedded: &Embedded,
    base: &str,
    settings: &ServeSettings,
) -> anyhow::Result<()> {
    let meeting = sim.demo_meeting();
    eprintln!(
        "no Zoom credentials set: running against the bundled Zoom simulator at {}",
        sim.base_url()
    );
    eprintln!(
        "delivering a signed recording.completed webhook for demo meeting {}",
        meeting.uuid
    );
    let body = sim.recording_completed_event(&meeting.uuid);
    let (status, reply) = sim
        .send_webhook(&format!("{base}/zoom/webhook"), &body, Default::default())
        .await
        .context("delivering the demo webhook")?;
    anyhow::ensure!(
        status == 200,
        "the demo webhook was answered {status}: {reply}"
    );
    let reply: serde_json::Value = serde_json::from_str(&reply)?;
    let arn = reply["execution_arn"]
        .as_str()
        .context("webhook reply without execution_arn")?;
    let row = embedded.engine.wait_for(arn).await?;
    eprintln!("ingest {} finished: {}", arn, row.status.api_name());
    if row.status == Status::Succeeded {
        let files = match &settings.store {
            StoreSetting::Directory => settings
                .data_dir
                .join("store/objects")
                .display()
                .to_string(),
            StoreSetting::S3 { location, .. } => location.to_string(),
        };
        eprintln!(
            "recording archived: files under {files}, site at {base}/site/index.html (Ctrl-C to stop)"
        );
    } else {
        eprintln!(
            "ingest failed: {} {}",
            row.error.unwrap_or_default(),
            row.cause.unwrap_or_default()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_bind_is_reached_on_loopback() {
        let url = |addr: &str| self_url(addr.parse().unwrap());
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080");
        assert_eq!(url("192.0.2.7:80"), "http://192.0.2.7:80");
    }

    #[tokio::test]
    async fn serving_stops_once_the_shutdown_future_completes() {
        let listener = Listener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let url = listener.url().to_string();
        let app = Router::new().route("/health", axum::routing::get(|| async { "ok" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_until_shutdown(listener, app, async {
            let _ = stopped.await;
        }));
        let health = reqwest::get(format!("{url}/health")).await.unwrap();
        assert_eq!(health.text().await.unwrap(), "ok");

        stop.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
        let authority = url.trim_start_matches("http://");
        assert!(tokio::net::TcpStream::connect(authority).await.is_err());
    }
}
