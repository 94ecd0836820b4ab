//! `zoomvault serve`: one process with the webhook endpoint, the engine,
//! storage and the static site. Settings come from a JSON config file and
//! the environment (environment wins); with no Zoom credentials it starts
//! the bundled Zoom simulator and delivers a signed demo webhook, so a new
//! user sees a real ingest end to end.

use crate::embedded::{Embedded, EmbeddedConfig};
use anyhow::Context;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use zoomvault_archive::keys::validate_key;
use zoomvault_archive::ports::{ObjectStore, WorkflowStarter};
use zoomvault_archive::steps::IngestConfig;
use zoomvault_aws::SfnStarter;
use zoomvault_sfn_api::sigv4::{Credentials, Verifier};
use zoomvault_sfn_api::{ApiConfig, Auth};
use zoomvault_zoom::{WebhookVerifier, ZoomConfig};

/// The settings file (`--config FILE`, JSON). Every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub zoom_webhook_secret_token: Option<String>,
    pub zoom_account_id: Option<String>,
    pub zoom_client_id: Option<String>,
    pub zoom_client_secret: Option<String>,
    pub zoom_api_base: Option<String>,
    pub zoom_oauth_base: Option<String>,
    pub part_size_mib: Option<u64>,
    pub part_concurrency: Option<usize>,
    pub min_duration_minutes: Option<u64>,
    pub max_concurrent_tasks: Option<usize>,
    pub site_title: Option<String>,
    pub api_access_key_id: Option<String>,
    pub api_secret_access_key: Option<String>,
}

/// Zoom credentials, complete or absent.
#[derive(Debug, Clone)]
pub struct ZoomSettings {
    pub webhook_secret_token: String,
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub api_base: Option<String>,
    pub oauth_base: Option<String>,
}

/// Validated settings of `serve`.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// None: run against the bundled simulator.
    pub zoom: Option<ZoomSettings>,
    pub ingest: IngestConfig,
    /// Step invocations running at once, across all ingests.
    pub max_concurrent_tasks: usize,
    pub site_title: String,
    /// The access key Step Functions API callers must sign with; required
    /// when listening anywhere but loopback.
    pub api_key: Option<ApiKey>,
}

/// An access key for the Step Functions API (SigV4).
#[derive(Clone)]
pub struct ApiKey {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl ApiKey {
    /// The API's access rule: only this key when there is one, else open.
    pub fn api_config(key: Option<&ApiKey>) -> ApiConfig {
        match key {
            Some(key) => ApiConfig {
                auth: Auth::Signed(Arc::new(Verifier::new(vec![Credentials::new(
                    key.access_key_id.clone(),
                    key.secret_access_key.clone(),
                )]))),
            },
            None => ApiConfig { auth: Auth::Open },
        }
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

impl ServeSettings {
    /// Who may call the Step Functions API: with a key configured, only
    /// requests signed with it; otherwise (on loopback only) anyone.
    pub fn api_config(&self) -> ApiConfig {
        ApiKey::api_config(self.api_key.as_ref())
    }

    /// Flags over environment over file over defaults.
    pub fn resolve(
        listen: Option<SocketAddr>,
        data_dir: Option<PathBuf>,
        file: ConfigFile,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<ServeSettings> {
        let pick = |name: &str, from_file: Option<String>| env(name).or(from_file);
        let secret = pick("ZOOM_WEBHOOK_SECRET_TOKEN", file.zoom_webhook_secret_token);
        let account = pick("ZOOM_ACCOUNT_ID", file.zoom_account_id);
        let client = pick("ZOOM_CLIENT_ID", file.zoom_client_id);
        let client_secret = pick("ZOOM_CLIENT_SECRET", file.zoom_client_secret);
        let zoom = match (secret, account, client, client_secret) {
            (None, None, None, None) => None,
            (Some(webhook_secret_token), Some(account_id), Some(client_id), Some(client_secret)) => {
                Some(ZoomSettings {
                    webhook_secret_token,
                    account_id,
                    client_id,
                    client_secret,
                    api_base: pick("ZOOM_API_BASE", file.zoom_api_base),
                    oauth_base: pick("ZOOM_OAUTH_BASE", file.zoom_oauth_base),
                })
            }
            _ => anyhow::bail!(
                "Zoom settings are incomplete: set all of ZOOM_WEBHOOK_SECRET_TOKEN, ZOOM_ACCOUNT_ID, \
                 ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (or none, to run against the bundled simulator)"
            ),
        };
        let mut ingest = IngestConfig::default();
        if let Some(mib) = file.part_size_mib {
            anyhow::ensure!(
                (5..=5 * 1024).contains(&mib),
                "part_size_mib must be between 5 and 5120 (S3's part limits), not {mib}"
            );
            ingest.part_size = mib * 1024 * 1024;
        }
        if let Some(n) = file.part_concurrency {
            anyhow::ensure!(
                (1..=64).contains(&n),
                "part_concurrency must be 1 to 64, not {n}"
            );
            ingest.part_concurrency = n;
        }
        if let Some(m) = file.min_duration_minutes {
            ingest.min_duration_minutes = m;
        }
        let max_concurrent_tasks = file
            .max_concurrent_tasks
            .unwrap_or(DEFAULT_MAX_CONCURRENT_TASKS);
        anyhow::ensure!(
            (1..=1024).contains(&max_concurrent_tasks),
            "max_concurrent_tasks must be 1 to 1024, not {max_concurrent_tasks}"
        );
        let listen = listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let api_key = api_key(
            listen,
            pick("ZOOMVAULT_API_ACCESS_KEY_ID", file.api_access_key_id),
            pick(
                "ZOOMVAULT_API_SECRET_ACCESS_KEY",
                file.api_secret_access_key,
            ),
        )?;
        Ok(ServeSettings {
            listen,
            api_key,
            data_dir: data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("zoomvault-data")),
            zoom,
            ingest,
            max_concurrent_tasks,
            site_title: file
                .site_title
                .unwrap_or_else(|| "Zoom recordings".to_string()),
        })
    }
}

/// Step invocations at once by default. Each file already fetches its
/// parts in parallel, so two at a time keep a 2-core server busy; more let
/// a burst of webhooks (each starting an ingest) starve the engine thread
/// that every acknowledgement waits on: at 200 webhooks/s on 2 cores the
/// p99 acknowledgement was 5-6 ms with 2, 8-15 ms with 4 and 17-96 ms with
/// 8 or 16 (BENCHMARKS.md). Raise it on bigger machines.
pub const DEFAULT_MAX_CONCURRENT_TASKS: usize = 2;

/// What the HTTP handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub embedded: Embedded,
    pub verifier: Arc<WebhookVerifier>,
    /// How the webhook starts ingests: aws-sdk-sfn against the engine's own
    /// Step Functions endpoint, the code path that talks to AWS.
    pub starter: Arc<dyn WorkflowStarter>,
    pub api: ApiConfig,
}

/// The starter `serve` uses: an aws-sdk-sfn client for the Step Functions
/// endpoint at `base_url` (this process's listener) and the ingest machine.
pub fn sdk_starter(
    embedded: &Embedded,
    base_url: &str,
    key: Option<&ApiKey>,
) -> Arc<dyn WorkflowStarter> {
    let (id, secret) = key.map_or((EMBEDDED_ACCESS_KEY_ID, EMBEDDED_SECRET_ACCESS_KEY), |k| {
        (k.access_key_id.as_str(), k.secret_access_key.as_str())
    });
    let client = zoomvault_aws::step_functions::client_for_endpoint(base_url, id, secret);
    Arc::new(SfnStarter::new(client, embedded.state_machine_arn.clone()))
}

/// The key the webhook signs its own calls with when no key is configured
/// (on loopback, where the endpoint accepts any key).
const EMBEDDED_ACCESS_KEY_ID: &str = "zoomvault-embedded";
const EMBEDDED_SECRET_ACCESS_KEY: &str = "zoomvault-embedded";

/// The URL this process reaches its own listener at: a wildcard bind
/// (`0.0.0.0`, `::`) is reached on loopback.
pub fn self_url(listening: SocketAddr) -> String {
    let ip = match listening.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listening.port()))
}

/// The HTTP interface: the Step Functions API (`POST /`), webhook, site,
/// stored files.
pub fn app(state: AppState) -> Router {
    let api = zoomvault_sfn_api::app(state.embedded.engine.clone(), state.api.clone());
    Router::new()
        .route("/", get(|| async { Redirect::to("/site/index.html") }))
        .route("/health", get(|| async { "ok" }))
        .route("/zoom/webhook", post(webhook))
        .route("/site/", get(|| async { Redirect::to("/site/index.html") }))
        .route("/site/{*path}", get(site_file))
        .route("/files/{*key}", get(stored_file))
        .with_state(state)
        .merge(api)
}

async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let reply = zoomvault_archive::webhook::handle(
        &state.verifier,
        state.starter.as_ref(),
        header(zoomvault_zoom::webhook::TIMESTAMP_HEADER),
        header(zoomvault_zoom::webhook::SIGNATURE_HEADER),
        &body,
        time::OffsetDateTime::now_utc(),
    )
    .await;
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(reply.body)).into_response()
}

async fn site_file(State(state): State<AppState>, UrlPath(path): UrlPath<String>) -> Response {
    let root = state.embedded.site_dir();
    let relative = std::path::Path::new(&path);
    let full = root.join(relative);
    if !is_within(&root, &full) {
        return (StatusCode::BAD_REQUEST, "bad path").into_response();
    }
    match tokio::fs::read(&full).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type(&path))], bytes).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

async fn stored_file(State(state): State<AppState>, UrlPath(key): UrlPath<String>) -> Response {
    if let Err(e) = validate_key(&key) {
        return (StatusCode::BAD_REQUEST, e.to_string()).into_response();
    }
    match state.embedded.store.get_stream(&key).await {
        Ok(object) => (
            [
                (header::CONTENT_TYPE, content_type(&key).to_string()),
                (header::CONTENT_LENGTH, object.size.to_string()),
            ],
            Body::from_stream(object.stream),
        )
            .into_response(),
        Err(zoomvault_archive::ports::object_store::Error::NotFound { .. }) => {
            (StatusCode::NOT_FOUND, "not found").into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Whether `path` stays inside `root`: no `..` component, and under it.
fn is_within(root: &std::path::Path, path: &std::path::Path) -> bool {
    path.components()
        .all(|c| !matches!(c, std::path::Component::ParentDir))
        && path.starts_with(root)
}

fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit('.').next().unwrap_or("");
    match extension {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css",
        "js" => "text/javascript",
        other => zoomvault_archive::steps::content_type_for(other),
    }
}

/// The API access key from its two settings, checked; and the rule that a
/// listener beyond loopback must have one, since the API can start and
/// stop executions.
pub fn api_key(
    listen: SocketAddr,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
) -> anyhow::Result<Option<ApiKey>> {
    let key = match (access_key_id, secret_access_key) {
        (None, None) => None,
        (Some(access_key_id), Some(secret_access_key)) => {
            anyhow::ensure!(
                !access_key_id.is_empty() && secret_access_key.len() >= 16,
                "the API access key needs a non-empty ZOOMVAULT_API_ACCESS_KEY_ID and a \
                 ZOOMVAULT_API_SECRET_ACCESS_KEY of at least 16 characters"
            );
            Some(ApiKey {
                access_key_id,
                secret_access_key,
            })
        }
        _ => anyhow::bail!(
            "the API access key is incomplete: set both ZOOMVAULT_API_ACCESS_KEY_ID and \
             ZOOMVAULT_API_SECRET_ACCESS_KEY (or neither, on loopback)"
        ),
    };
    anyhow::ensure!(
        listen.ip().is_loopback() || key.is_some(),
        "listening on {listen}, which is not loopback, serves the Step Functions API to the \
         network: set ZOOMVAULT_API_ACCESS_KEY_ID and ZOOMVAULT_API_SECRET_ACCESS_KEY (or \
         api_access_key_id and api_secret_access_key in the config file) so callers must \
         sign with that key"
    );
    Ok(key)
}

/// `zoomvault engine serve`: the engine alone behind its Step Functions
/// API and console, with no Zoom; its only handlers are the examples' demo
/// ones (`echo`, `flaky`, `fail`), so another Lambda resource fails as a
/// missing function and a `.waitForTaskToken` task waits for SendTask*.
/// Runs until Ctrl-C.
pub async fn run_engine(
    listen: SocketAddr,
    db_path: PathBuf,
    key: Option<ApiKey>,
) -> anyhow::Result<()> {
    if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let engine = zoomvault_engine::Engine::open(
        zoomvault_engine::EngineConfig::new(&db_path),
        crate::demo::handlers(),
    )
    .with_context(|| format!("opening the engine journal {}", db_path.display()))?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let base = self_url(listener.local_addr()?);
    eprintln!("zoomvault engine serving the Step Functions API on {base}");
    eprintln!("  try:     aws stepfunctions --endpoint-url {base} list-state-machines");
    eprintln!("  console: {base}/console");
    eprintln!("  journal: {}", db_path.display());
    axum::serve(
        listener,
        zoomvault_sfn_api::app(engine, ApiKey::api_config(key.as_ref())),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// Runs `serve` until Ctrl-C.
pub async fn run(settings: ServeSettings) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let base = self_url(listener.local_addr()?);
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
            };
            (settings, Some(sim))
        }
    };
    let embedded = Embedded::open(EmbeddedConfig {
        data_dir: settings.data_dir.clone(),
        zoom: zoom_config(&zoom),
        ingest: settings.ingest.clone(),
        site_title: settings.site_title.clone(),
        max_concurrent_tasks: settings.max_concurrent_tasks,
    })?;
    embedded.rebuild_site().await.context("building the site")?;
    tokio::spawn(embedded.clone().run_site_builder());
    tokio::spawn(embedded.clone().run_store_sweeper());
    let state = AppState {
        starter: sdk_starter(&embedded, &base, settings.api_key.as_ref()),
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
    let server = tokio::spawn(async move {
        axum::serve(listener, app(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    });
    if let Some(sim) = &simulator {
        demo_ingest(sim, &embedded, &base).await?;
    }
    server.await.context("server task")??;
    Ok(())
}

fn zoom_config(z: &ZoomSettings) -> ZoomConfig {
    let mut config = ZoomConfig::new(
        z.account_id.clone(),
        z.client_id.clone(),
        z.client_secret.clone(),
    );
    if let Some(api) = &z.api_base {
        config.api_base = api.clone();
    }
    if let Some(oauth) = &z.oauth_base {
        config.oauth_base = oauth.clone();
    }
    config
}

/// Delivers a signed `recording.completed` for the simulator's demo meeting
/// to our own webhook and reports the ingest as it finishes.
async fn demo_ingest(
    sim: &zoomvault_zoom_sim::ZoomSim,
    embedded: &Embedded,
    base: &str,
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
    eprintln!("ingest {} finished: {}", arn, row.status);
    if row.status == "SUCCEEDED" {
        eprintln!(
            "recording archived: files under {}, site at {base}/site/index.html (Ctrl-C to stop)",
            embedded.store.root().join("objects").display()
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

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults_run_against_the_simulator_on_loopback() {
        let settings =
            ServeSettings::resolve(None, None, ConfigFile::default(), &env_of(&[])).unwrap();
        assert_eq!(settings.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(settings.data_dir, PathBuf::from("zoomvault-data"));
        assert!(settings.zoom.is_none());
        assert_eq!(settings.max_concurrent_tasks, DEFAULT_MAX_CONCURRENT_TASKS);
        assert!(settings.api_key.is_none());
        assert!(matches!(settings.api_config().auth, Auth::Open));
    }

    #[test]
    fn listening_beyond_loopback_needs_an_api_key() {
        let public = Some(SocketAddr::from(([0, 0, 0, 0], 8080)));
        let error = ServeSettings::resolve(public, None, ConfigFile::default(), &env_of(&[]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("0.0.0.0:8080"), "{error}");
        assert!(error.contains("ZOOMVAULT_API_ACCESS_KEY_ID"), "{error}");

        const KEY: &[(&str, &str)] = &[
            ("ZOOMVAULT_API_ACCESS_KEY_ID", "AKIDSERVER"),
            ("ZOOMVAULT_API_SECRET_ACCESS_KEY", "a-secret-of-some-length"),
        ];
        let key = KEY;
        let settings =
            ServeSettings::resolve(public, None, ConfigFile::default(), &env_of(key)).unwrap();
        assert_eq!(
            settings.api_key.as_ref().unwrap().access_key_id,
            "AKIDSERVER"
        );
        assert!(matches!(settings.api_config().auth, Auth::Signed(_)));
        assert!(!format!("{settings:?}").contains("a-secret-of-some-length"));

        let half = ServeSettings::resolve(None, None, ConfigFile::default(), &env_of(&KEY[..1]))
            .unwrap_err()
            .to_string();
        assert!(half.contains("incomplete"), "{half}");
    }

    #[test]
    fn incomplete_zoom_credentials_are_refused_naming_all_four() {
        let error = ServeSettings::resolve(
            None,
            None,
            ConfigFile::default(),
            &env_of(&[("ZOOM_ACCOUNT_ID", "a")]),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Zoom settings are incomplete: set all of ZOOM_WEBHOOK_SECRET_TOKEN, ZOOM_ACCOUNT_ID, \
             ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (or none, to run against the bundled simulator)"
        );
    }

    #[test]
    fn environment_wins_over_the_file_and_flags_win_over_both() {
        let file: ConfigFile = serde_json::from_str(
            r#"{"listen": "127.0.0.1:9000", "zoom_webhook_secret_token": "from-file",
                "zoom_account_id": "acct", "zoom_client_id": "id", "zoom_client_secret": "secret",
                "part_size_mib": 16, "max_concurrent_tasks": 4}"#,
        )
        .unwrap();
        let settings = ServeSettings::resolve(
            Some(SocketAddr::from(([127, 0, 0, 1], 7000))),
            None,
            file,
            &env_of(&[("ZOOM_WEBHOOK_SECRET_TOKEN", "from-env")]),
        )
        .unwrap();
        assert_eq!(settings.listen.port(), 7000);
        let zoom = settings.zoom.unwrap();
        assert_eq!(zoom.webhook_secret_token, "from-env");
        assert_eq!(zoom.account_id, "acct");
        assert_eq!(settings.ingest.part_size, 16 * 1024 * 1024);
        assert_eq!(settings.max_concurrent_tasks, 4);
    }

    #[test]
    fn out_of_range_settings_are_refused_with_the_allowed_range() {
        let file: ConfigFile = serde_json::from_str(r#"{"part_size_mib": 2}"#).unwrap();
        let error = ServeSettings::resolve(None, None, file, &env_of(&[])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "part_size_mib must be between 5 and 5120 (S3's part limits), not 2"
        );
        let unknown = serde_json::from_str::<ConfigFile>(r#"{"part_size": 8}"#).unwrap_err();
        assert!(
            unknown.to_string().starts_with("unknown field `part_size`"),
            "{unknown}"
        );
    }
}

#[cfg(test)]
mod http_tests {
    use super::*;
    use axum::http::Request;
    use serde_json::Value;
    use tower::ServiceExt;
    use zoomvault_archive::ports::workflow::Error as StartError;
    use zoomvault_archive::ports::{StartOutcome, StartedExecution};

    const SECRET: &str = "fixture-webhook-secret";

    /// A real `recording.completed` delivery, as Zoom documents it.
    const RECORDING_COMPLETED: &str =
        include_str!("../../../crates/zoom/tests/fixtures/recording_completed.json");

    /// Answers every start one way, so the webhook's replies need no engine
    /// endpoint.
    #[derive(Debug)]
    enum Starter {
        Starts,
        Unavailable,
    }

    #[async_trait::async_trait]
    impl WorkflowStarter for Starter {
        async fn start(&self, name: &str, _input: Value) -> Result<StartedExecution, StartError> {
            match self {
                Starter::Starts => Ok(StartedExecution {
                    execution_arn: format!("arn:fixture:{name}"),
                    outcome: StartOutcome::Started,
                }),
                Starter::Unavailable => Err(StartError::Unavailable("the engine is down".into())),
            }
        }
    }

    struct Served {
        app: Router,
        embedded: Embedded,
        _dir: tempfile::TempDir,
    }

    async fn served(starter: Starter) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let embedded = Embedded::open(EmbeddedConfig {
            data_dir: dir.path().to_path_buf(),
            zoom: ZoomConfig::new("account", "client", "client-secret"),
            ingest: IngestConfig::default(),
            site_title: "Recordings".into(),
            max_concurrent_tasks: 1,
        })
        .unwrap();
        let state = AppState {
            embedded: embedded.clone(),
            verifier: Arc::new(WebhookVerifier::new(SECRET.to_string())),
            starter: Arc::new(starter),
            api: ApiKey::api_config(None),
        };
        Served {
            app: app(state),
            embedded,
            _dir: dir,
        }
    }

    /// The whole answer as text: status, every header in order, a blank
    /// line, the body.
    async fn answer(app: &Router, request: Request<Body>) -> String {
        let response = app.clone().oneshot(request).await.unwrap();
        let mut text = format!("{}\n", response.status());
        for (name, value) in response.headers() {
            text += &format!("{name}: {}\n", value.to_str().unwrap());
        }
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        text + "\n" + &String::from_utf8_lossy(&body)
    }

    fn get(uri: &str) -> Request<Body> {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    fn unsigned_webhook(body: &str) -> Request<Body> {
        Request::post("/zoom/webhook")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    fn signed_webhook(body: &str) -> Request<Body> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let secret = zoomvault_zoom::SecretString::new(SECRET.to_string());
        Request::post("/zoom/webhook")
            .header(zoomvault_zoom::webhook::TIMESTAMP_HEADER, now.to_string())
            .header(
                zoomvault_zoom::webhook::SIGNATURE_HEADER,
                zoomvault_zoom::webhook::sign(&secret, now, body.as_bytes()),
            )
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    #[tokio::test]
    async fn webhook_answers_keep_their_status_headers_and_json_body() {
        let starts = served(Starter::Starts).await;
        let unavailable = served(Starter::Unavailable).await;
        let cases = [
            (
                &starts,
                unsigned_webhook(RECORDING_COMPLETED),
                "401 Unauthorized\n\
                 content-type: application/json\n\
                 content-length: 68\n\
                 \n\
                 {\"error\":\"webhook refused: missing `x-zm-request-timestamp` header\"}",
            ),
            (
                &starts,
                signed_webhook("{not json"),
                "400 Bad Request\n\
                 content-type: application/json\n\
                 content-length: 85\n\
                 \n\
                 {\"error\":\"webhook body is not a Zoom event: key must be a string at line 1 column 2\"}",
            ),
            (
                &unavailable,
                signed_webhook(RECORDING_COMPLETED),
                "503 Service Unavailable\n\
                 content-type: application/json\n\
                 content-length: 96\n\
                 \n\
                 {\"error\":\"could not start the ingest workflow: workflow engine unavailable: the engine is down\"}",
            ),
            (
                &starts,
                signed_webhook(RECORDING_COMPLETED),
                "200 OK\n\
                 content-type: application/json\n\
                 content-length: 75\n\
                 \n\
                 {\"execution_arn\":\"arn:fixture:_ajXp112QmuoKj4854875==\",\"outcome\":\"started\"}",
            ),
        ];
        let mut wrong = Vec::new();
        for (served, request, expected) in cases {
            let what = format!("{} {}", request.method(), request.uri());
            let actual = answer(&served.app, request).await;
            if actual != expected {
                wrong.push(format!("{what} answered:\n{actual}\n"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[tokio::test]
    async fn site_and_file_answers_keep_their_status_headers_and_body() {
        let served = served(Starter::Starts).await;
        served.embedded.rebuild_site().await.unwrap();
        let index = std::fs::read_to_string(served.embedded.site_dir().join("index.html")).unwrap();
        served
            .embedded
            .store
            .put(
                "recordings/fixture/audio.m4a",
                Bytes::from_static(b"fixture audio"),
                "audio/mp4",
            )
            .await
            .unwrap();
        // A link to itself: opening it fails, and not because it is absent.
        let looping = served.embedded.object_path("recordings/loop.mp4");
        std::os::unix::fs::symlink("loop.mp4", &looping).unwrap();
        let cases = [
            (
                "/site/index.html",
                format!(
                    "200 OK\n\
                     content-type: text/html; charset=utf-8\n\
                     content-length: {}\n\
                     \n\
                     {index}",
                    index.len()
                ),
            ),
            (
                "/site/../engine.db",
                "400 Bad Request\n\
                 content-type: text/plain; charset=utf-8\n\
                 content-length: 8\n\
                 \n\
                 bad path"
                    .to_string(),
            ),
            (
                "/site/nothing-here.html",
                "404 Not Found\n\
                 content-type: text/plain; charset=utf-8\n\
                 content-length: 9\n\
                 \n\
                 not found"
                    .to_string(),
            ),
            (
                "/files/../engine.db",
                "400 Bad Request\n\
                 content-type: text/plain; charset=utf-8\n\
                 content-length: 62\n\
                 \n\
                 unsafe object key \"../engine.db\": it has a '.' or '..' segment"
                    .to_string(),
            ),
            (
                "/files/recordings/nothing-here.mp4",
                "404 Not Found\n\
                 content-type: text/plain; charset=utf-8\n\
                 content-length: 9\n\
                 \n\
                 not found"
                    .to_string(),
            ),
            (
                "/files/recordings/fixture/audio.m4a",
                "200 OK\n\
                 content-type: audio/mp4\n\
                 content-length: 13\n\
                 \n\
                 fixture audio"
                    .to_string(),
            ),
            (
                "/files/recordings/loop.mp4",
                "500 Internal Server Error\n\
                 content-type: text/plain; charset=utf-8\n\
                 content-length: 78\n\
                 \n\
                 opening \"recordings/loop.mp4\": Too many levels of symbolic links (os error 40)"
                    .to_string(),
            ),
        ];
        let mut wrong = Vec::new();
        for (uri, expected) in cases {
            let actual = answer(&served.app, get(uri)).await;
            if actual != expected {
                wrong.push(format!("GET {uri} answered:\n{actual}\n"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
