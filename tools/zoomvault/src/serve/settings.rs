//! The settings of `zoomvault serve` and `zoomvault engine serve`: every
//! setting a flag with its environment variable, or a key in the TOML
//! config file ([`ServeOptions`]), resolved into a validated
//! [`ServeSettings`] (flags over environment over file over defaults), and
//! the Step Functions API's access key ([`ApiKey`], whose `Debug` redacts
//! the secret) with the rule that a listener beyond loopback must have one.
//! Pure but for reading the file it is pointed at (clap reads the flags
//! and the environment); it must not bind, open or start anything.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use zoomvault_archive::steps::IngestConfig;
use zoomvault_sfn_api::sigv4::{Credentials, Verifier};
use zoomvault_sfn_api::{ApiConfig, Auth};
use zoomvault_zoom::ZoomConfig;

/// Every setting of `serve`: a flag, its environment variable (shown in
/// `--help`), or the key of the same name in the TOML file `--config`
/// names. Flags and the environment win over the file, the file over the
/// defaults. Every field is optional; [`ServeSettings::resolve`] checks
/// them and fills in the defaults.
#[derive(Debug, Default, Clone, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeOptions {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "ZOOMVAULT_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Where recordings, the journal, the index and the site live
    /// [default: ./zoomvault-data]
    #[arg(long, env = "ZOOMVAULT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Archive into s3://bucket/prefix (S3, MinIO, Ceph, R2) instead of
    /// the data directory; endpoint, region and credentials from the AWS
    /// environment (AWS_ENDPOINT_URL_S3, AWS_REGION, ...)
    #[arg(long, env = "ZOOMVAULT_STORE")]
    pub store: Option<String>,
    /// Path-style S3 addressing (MinIO, Ceph)
    #[arg(long, env = "ZOOMVAULT_S3_FORCE_PATH_STYLE", value_name = "BOOL", value_parser = clap::builder::BoolishValueParser::new())]
    pub s3_force_path_style: Option<bool>,
    /// Your Zoom app's webhook secret token
    #[arg(long, env = "ZOOM_WEBHOOK_SECRET_TOKEN", hide_env_values = true)]
    pub zoom_webhook_secret_token: Option<String>,
    /// Server-to-Server OAuth app: account ID
    #[arg(long, env = "ZOOM_ACCOUNT_ID")]
    pub zoom_account_id: Option<String>,
    /// ... client ID
    #[arg(long, env = "ZOOM_CLIENT_ID")]
    pub zoom_client_id: Option<String>,
    /// ... client secret
    #[arg(long, env = "ZOOM_CLIENT_SECRET", hide_env_values = true)]
    pub zoom_client_secret: Option<String>,
    /// Zoom's API [default: https://api.zoom.us/v2]
    #[arg(long, env = "ZOOM_API_BASE")]
    pub zoom_api_base: Option<String>,
    /// Zoom's OAuth endpoint [default: https://zoom.us]
    #[arg(long, env = "ZOOM_OAUTH_BASE")]
    pub zoom_oauth_base: Option<String>,
    /// Hosts recording files may be downloaded from, comma-separated
    /// (*.zoom.us; http://127.0.0.1 also allows plain http to a simulator)
    /// [default: zoom.us,*.zoom.us,zoomgov.com,*.zoomgov.com]
    #[arg(long, env = "ZOOM_DOWNLOAD_HOSTS")]
    pub zoom_download_hosts: Option<String>,
    /// Ranged-GET part size, 5-5120 [default: 8]
    #[arg(long, env = "ZOOMVAULT_PART_SIZE_MIB")]
    pub part_size_mib: Option<u64>,
    /// The most one step invocation downloads, in MiB: a bigger file is
    /// fanned out over several RetrieveParts invocations, each moving whole
    /// parts of at most this much (one part if a part is bigger)
    /// [default: 2048]
    #[arg(long, env = "ZOOMVAULT_INVOCATION_MIB")]
    pub invocation_mib: Option<u64>,
    /// Parts in flight per file, 1-64 [default: 2]
    #[arg(long, env = "ZOOMVAULT_PART_CONCURRENCY")]
    pub part_concurrency: Option<usize>,
    /// Skip meetings shorter than this [default: 0]
    #[arg(long, env = "ZOOMVAULT_MIN_DURATION_MINUTES")]
    pub min_duration_minutes: Option<u64>,
    /// Workflow steps running at once across all ingests, 1-1024
    /// [default: 2]
    #[arg(long, env = "ZOOMVAULT_MAX_CONCURRENT_TASKS")]
    pub max_concurrent_tasks: Option<usize>,
    /// The site's title [default: Zoom recordings]
    #[arg(long, env = "ZOOMVAULT_SITE_TITLE")]
    pub site_title: Option<String>,
    /// The one key Step Functions API callers must sign with (required
    /// when listening beyond loopback)
    #[arg(long, env = "ZOOMVAULT_API_ACCESS_KEY_ID")]
    pub api_access_key_id: Option<String>,
    /// ... its secret, at least 16 characters
    #[arg(long, env = "ZOOMVAULT_API_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub api_secret_access_key: Option<String>,
    /// How often to scan Zoom for recordings the webhook missed (24h, 6h,
    /// 30m), or off [default: 24h]
    #[arg(long, env = "ZOOMVAULT_SCAN_EVERY")]
    pub scan_every: Option<String>,
    /// How many days back the scan looks [default: 30]
    #[arg(long, env = "ZOOMVAULT_SCAN_DAYS")]
    pub scan_days: Option<i64>,
    /// Purge recordings this many days after they started, or forever
    /// [default: forever]
    #[arg(long, env = "ZOOMVAULT_RETENTION_DAYS")]
    pub retention_days: Option<String>,
    /// A host's own retention, EMAIL=DAYS or EMAIL=forever (repeat, or
    /// comma-separated)
    #[arg(
        long = "retention-host",
        env = "ZOOMVAULT_RETENTION_HOSTS",
        value_delimiter = ','
    )]
    #[serde(default)]
    pub retention_hosts: Vec<String>,
    /// How often to purge recordings past their retention (when a rule
    /// can purge), or off [default: 24h]
    #[arg(long, env = "ZOOMVAULT_PURGE_EVERY")]
    pub purge_every: Option<String>,
    /// How long finished executions stay in the engine's journal (90d,
    /// 30d), or off to keep them all [default: 90d, as AWS keeps them]
    #[arg(long, env = "ZOOMVAULT_JOURNAL_RETENTION")]
    pub journal_retention: Option<String>,
    /// full: every commit (a webhook's 200, a StartExecution's reply) is
    /// on disk before the answer; normal: safe from a crash of zoomvault
    /// but not from a power loss, for disks where fsync is slow
    /// [default: full]
    #[arg(long, env = "ZOOMVAULT_JOURNAL_SYNC", value_name = "full|normal")]
    pub journal_sync: Option<String>,
    /// Where `dynamodb:*` tasks call DynamoDB: an endpoint URL (DynamoDB
    /// Local, moto), or `aws` for AWS's endpoint in the region of the AWS
    /// environment; credentials from the AWS environment [default: none,
    /// and such tasks fail saying so]
    #[arg(long, env = "ZOOMVAULT_DYNAMODB_ENDPOINT", value_name = "URL|aws")]
    pub dynamodb_endpoint: Option<String>,
    /// Send `events:putEvents` tasks to EventBridge at this endpoint URL,
    /// or `aws` for AWS's, instead of the local event queue [default: the
    /// local queue]
    #[arg(long, env = "ZOOMVAULT_EVENTBRIDGE_ENDPOINT", value_name = "URL|aws")]
    pub eventbridge_endpoint: Option<String>,
}

impl ServeOptions {
    /// Reads a TOML settings file, naming the file and what is wrong.
    pub fn from_toml_file(path: &std::path::Path) -> anyhow::Result<ServeOptions> {
        use anyhow::Context;
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{}: not a valid settings file", path.display()))
    }

    /// The retention policy these options give where set, else `file`'s
    /// (`zoomvault purge` reads serve's config file this way).
    pub fn retention_policy(
        self,
        file: ServeOptions,
    ) -> anyhow::Result<zoomvault_archive::operations::purge::RetentionPolicy> {
        self.or(file).retention()
    }

    fn retention(&self) -> anyhow::Result<zoomvault_archive::operations::purge::RetentionPolicy> {
        zoomvault_archive::operations::purge::RetentionPolicy::from_settings(
            self.retention_days.as_deref(),
            &self.retention_hosts,
        )
        .map_err(anyhow::Error::msg)
    }

    /// These options where set, else `file`'s.
    fn or(self, file: ServeOptions) -> ServeOptions {
        ServeOptions {
            listen: self.listen.or(file.listen),
            data_dir: self.data_dir.or(file.data_dir),
            store: self.store.or(file.store),
            s3_force_path_style: self.s3_force_path_style.or(file.s3_force_path_style),
            zoom_webhook_secret_token: self
                .zoom_webhook_secret_token
                .or(file.zoom_webhook_secret_token),
            zoom_account_id: self.zoom_account_id.or(file.zoom_account_id),
            zoom_client_id: self.zoom_client_id.or(file.zoom_client_id),
            zoom_client_secret: self.zoom_client_secret.or(file.zoom_client_secret),
            zoom_api_base: self.zoom_api_base.or(file.zoom_api_base),
            zoom_oauth_base: self.zoom_oauth_base.or(file.zoom_oauth_base),
            zoom_download_hosts: self.zoom_download_hosts.or(file.zoom_download_hosts),
            part_size_mib: self.part_size_mib.or(file.part_size_mib),
            invocation_mib: self.invocation_mib.or(file.invocation_mib),
            part_concurrency: self.part_concurrency.or(file.part_concurrency),
            min_duration_minutes: self.min_duration_minutes.or(file.min_duration_minutes),
            max_concurrent_tasks: self.max_concurrent_tasks.or(file.max_concurrent_tasks),
            site_title: self.site_title.or(file.site_title),
            api_access_key_id: self.api_access_key_id.or(file.api_access_key_id),
            api_secret_access_key: self.api_secret_access_key.or(file.api_secret_access_key),
            scan_every: self.scan_every.or(file.scan_every),
            scan_days: self.scan_days.or(file.scan_days),
            retention_days: self.retention_days.or(file.retention_days),
            retention_hosts: if self.retention_hosts.is_empty() {
                file.retention_hosts
            } else {
                self.retention_hosts
            },
            purge_every: self.purge_every.or(file.purge_every),
            journal_retention: self.journal_retention.or(file.journal_retention),
            journal_sync: self.journal_sync.or(file.journal_sync),
            dynamodb_endpoint: self.dynamodb_endpoint.or(file.dynamodb_endpoint),
            eventbridge_endpoint: self.eventbridge_endpoint.or(file.eventbridge_endpoint),
        }
    }
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
    /// Where recording files may be downloaded from: Zoom's domains unless
    /// set (`ZOOM_DOWNLOAD_HOSTS`).
    pub download_hosts: Option<zoomvault_zoom::DownloadHosts>,
}

impl ZoomSettings {
    /// The Zoom client's configuration: these credentials, and Zoom's own
    /// endpoints unless others are set (the simulator's).
    pub(crate) fn client_config(&self) -> ZoomConfig {
        zoom_config(
            self.account_id.clone(),
            self.client_id.clone(),
            self.client_secret.clone(),
            self.api_base.clone(),
            self.oauth_base.clone(),
            self.download_hosts.clone(),
        )
    }
}

impl ZoomSettings {
    /// A Zoom API client from the environment's `ZOOM_ACCOUNT_ID`,
    /// `ZOOM_CLIENT_ID` and `ZOOM_CLIENT_SECRET` (and `ZOOM_API_BASE`,
    /// `ZOOM_OAUTH_BASE`, `ZOOM_DOWNLOAD_HOSTS`), for the commands that
    /// call Zoom themselves;
    /// `None` when none of the three is set.
    pub fn client_from_env(
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Option<zoomvault_zoom::ZoomClient>> {
        let (account, client, secret) = match (
            env("ZOOM_ACCOUNT_ID"),
            env("ZOOM_CLIENT_ID"),
            env("ZOOM_CLIENT_SECRET"),
        ) {
            (None, None, None) => return Ok(None),
            (Some(a), Some(c), Some(s)) => (a, c, s),
            _ => anyhow::bail!(
                "Zoom credentials are incomplete: set all of ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID \
                 and ZOOM_CLIENT_SECRET, or none"
            ),
        };
        let config = zoom_config(
            account,
            client,
            secret,
            env("ZOOM_API_BASE"),
            env("ZOOM_OAUTH_BASE"),
            download_hosts(env("ZOOM_DOWNLOAD_HOSTS"))?,
        );
        Ok(Some(zoomvault_zoom::ZoomClient::new(config)?))
    }
}

/// A Zoom client configuration: these credentials, and Zoom's own
/// endpoints unless others are given (the simulator's).
fn zoom_config(
    account_id: String,
    client_id: String,
    client_secret: String,
    api_base: Option<String>,
    oauth_base: Option<String>,
    download_hosts: Option<zoomvault_zoom::DownloadHosts>,
) -> ZoomConfig {
    let mut config = ZoomConfig::new(account_id, client_id, client_secret);
    if let Some(hosts) = download_hosts {
        config.download_hosts = hosts;
    }
    if let Some(api) = api_base {
        config.api_base = api;
    }
    if let Some(oauth) = oauth_base {
        config.oauth_base = oauth;
    }
    config
}

/// The download host list `ZOOM_DOWNLOAD_HOSTS` (or the file's
/// `zoom_download_hosts`) gives, checked.
fn download_hosts(text: Option<String>) -> anyhow::Result<Option<zoomvault_zoom::DownloadHosts>> {
    text.map(|text| {
        zoomvault_zoom::DownloadHosts::parse(&text)
            .map_err(|e| anyhow::anyhow!("zoom_download_hosts (ZOOM_DOWNLOAD_HOSTS): {e}"))
    })
    .transpose()
}

/// Where `serve` archives recordings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSetting {
    /// The directory store under the data directory (the default).
    Directory,
    /// A bucket and key prefix on S3 or an S3-compatible store (MinIO,
    /// Ceph, R2): endpoint, region and credentials from the standard AWS
    /// environment (`AWS_ENDPOINT_URL_S3`, ...); path-style addressing for
    /// stores that need it.
    S3 {
        location: zoomvault_aws::s3::S3Location,
        force_path_style: bool,
    },
}

impl StoreSetting {
    /// The store `url` names (`s3://bucket/prefix`), or the directory
    /// store when there is none.
    pub fn parse(url: Option<&str>, force_path_style: bool) -> anyhow::Result<StoreSetting> {
        let Some(url) = url else {
            return Ok(StoreSetting::Directory);
        };
        let location = zoomvault_aws::s3::S3Location::parse(url)
            .map_err(|e| anyhow::anyhow!("ZOOMVAULT_STORE (or the file's store) {url:?}: {e}"))?;
        Ok(StoreSetting::S3 {
            location,
            force_path_style,
        })
    }
}

/// Validated settings of `serve`.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub store: StoreSetting,
    /// None: run against the bundled simulator.
    pub zoom: Option<ZoomSettings>,
    pub ingest: IngestConfig,
    /// Step invocations running at once, across all ingests.
    pub max_concurrent_tasks: usize,
    pub site_title: String,
    /// The access key Step Functions API callers must sign with; required
    /// when listening anywhere but loopback.
    pub api_key: Option<ApiKey>,
    /// The scan for missed meetings: how often (`None`: never) and how
    /// many days back.
    pub scan_every: Option<std::time::Duration>,
    pub scan_days: i64,
    /// How long recordings are kept, and how often the purge runs
    /// (`None`: never, also when no rule can purge).
    pub retention: zoomvault_archive::operations::purge::RetentionPolicy,
    pub purge_every: Option<std::time::Duration>,
    /// How long closed executions stay in the journal (`None`: forever).
    pub journal_retention: Option<std::time::Duration>,
    pub journal_sync: zoomvault_engine::Durability,
    /// Where `dynamodb:*` tasks go (`None`: they fail saying how to set it).
    pub dynamodb_endpoint: Option<AwsEndpoint>,
    /// Where `events:putEvents` tasks go (`None`: the local event queue).
    pub eventbridge_endpoint: Option<AwsEndpoint>,
}

/// An AWS service endpoint a setting names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsEndpoint {
    /// AWS's own, from the AWS environment's region.
    Aws,
    /// This URL (a local emulator, a VPC endpoint).
    Url(String),
}

impl AwsEndpoint {
    /// `aws`, or an http(s) URL; `name` says which setting in an error.
    pub fn parse(name: &str, text: &str) -> anyhow::Result<AwsEndpoint> {
        let text = text.trim();
        if text == "aws" {
            return Ok(AwsEndpoint::Aws);
        }
        anyhow::ensure!(
            text.starts_with("http://") || text.starts_with("https://"),
            "{name} must be `aws` or an http(s) URL, not {text:?}"
        );
        Ok(AwsEndpoint::Url(text.to_owned()))
    }
}

/// How often `serve` scans for missed meetings, and purges, unless told
/// otherwise.
pub const DEFAULT_SCAN_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// An interval setting: a duration as `30s`, `15m`, `6h`, `1d`, or `off`.
pub fn interval(name: &str, text: &str) -> anyhow::Result<Option<std::time::Duration>> {
    if text.trim() == "off" {
        return Ok(None);
    }
    let every = humantime::parse_duration(text.trim()).map_err(|e| {
        anyhow::anyhow!("{name} must be a duration such as 24h, 30m or 1d, or off; {text:?}: {e}")
    })?;
    anyhow::ensure!(
        every >= std::time::Duration::from_secs(1),
        "{name} must be at least a second, or off, not {text:?}"
    );
    Ok(Some(every))
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

    /// `given` (flags and environment) over `file` over the defaults,
    /// checked.
    pub fn resolve(given: ServeOptions, file: ServeOptions) -> anyhow::Result<ServeSettings> {
        let o = given.or(file);
        let retention = o.retention()?;
        let zoom = match (
            o.zoom_webhook_secret_token,
            o.zoom_account_id,
            o.zoom_client_id,
            o.zoom_client_secret,
        ) {
            (None, None, None, None) => None,
            (Some(webhook_secret_token), Some(account_id), Some(client_id), Some(client_secret)) => {
                Some(ZoomSettings {
                    webhook_secret_token,
                    account_id,
                    client_id,
                    client_secret,
                    api_base: o.zoom_api_base,
                    oauth_base: o.zoom_oauth_base,
                    download_hosts: download_hosts(o.zoom_download_hosts)?,
                })
            }
            _ => anyhow::bail!(
                "Zoom settings are incomplete: set all of ZOOM_WEBHOOK_SECRET_TOKEN, ZOOM_ACCOUNT_ID, \
                 ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (or none, to run against the bundled simulator)"
            ),
        };
        let mut ingest = IngestConfig::default();
        if let Some(mib) = o.part_size_mib {
            anyhow::ensure!(
                (5..=5 * 1024).contains(&mib),
                "part_size_mib must be between 5 and 5120 (S3's part limits), not {mib}"
            );
            ingest.part_size = mib * 1024 * 1024;
        }
        if let Some(mib) = o.invocation_mib {
            anyhow::ensure!(
                (1..=1024 * 1024).contains(&mib),
                "invocation_mib must be between 1 and 1048576, not {mib}"
            );
            ingest.invocation_bytes = mib * 1024 * 1024;
        }
        if let Some(n) = o.part_concurrency {
            anyhow::ensure!(
                (1..=64).contains(&n),
                "part_concurrency must be 1 to 64, not {n}"
            );
            ingest.part_concurrency = n;
        }
        if let Some(m) = o.min_duration_minutes {
            ingest.min_duration_minutes = m;
        }
        let max_concurrent_tasks = o
            .max_concurrent_tasks
            .unwrap_or(DEFAULT_MAX_CONCURRENT_TASKS);
        anyhow::ensure!(
            (1..=1024).contains(&max_concurrent_tasks),
            "max_concurrent_tasks must be 1 to 1024, not {max_concurrent_tasks}"
        );
        let listen = o
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let api_key = api_key(listen, o.api_access_key_id, o.api_secret_access_key)?;
        let store =
            StoreSetting::parse(o.store.as_deref(), o.s3_force_path_style.unwrap_or(false))?;
        let scan_every = match o.scan_every {
            Some(text) => interval("scan_every (ZOOMVAULT_SCAN_EVERY)", &text)?,
            None => Some(DEFAULT_SCAN_EVERY),
        };
        let scan_days = o
            .scan_days
            .unwrap_or(zoomvault_archive::operations::scan::DEFAULT_LOOKBACK_DAYS);
        anyhow::ensure!(
            (1..=3660).contains(&scan_days),
            "scan_days must be 1 to 3660, not {scan_days}"
        );
        let purge_every = match o.purge_every {
            Some(text) => interval("purge_every (ZOOMVAULT_PURGE_EVERY)", &text)?,
            None => Some(DEFAULT_SCAN_EVERY),
        }
        .filter(|_| retention.purges());
        let journal_retention = match o.journal_retention {
            Some(text) => interval("journal_retention (ZOOMVAULT_JOURNAL_RETENTION)", &text)?,
            None => Some(zoomvault_engine::DEFAULT_RETENTION),
        };
        let journal_sync = match o.journal_sync.as_deref() {
            None | Some("full") => zoomvault_engine::Durability::Full,
            Some("normal") => zoomvault_engine::Durability::Normal,
            Some(other) => anyhow::bail!(
                "journal_sync (ZOOMVAULT_JOURNAL_SYNC) must be full or normal, not {other:?}"
            ),
        };
        let dynamodb_endpoint = o
            .dynamodb_endpoint
            .as_deref()
            .map(|text| AwsEndpoint::parse("dynamodb_endpoint (ZOOMVAULT_DYNAMODB_ENDPOINT)", text))
            .transpose()?;
        let eventbridge_endpoint = o
            .eventbridge_endpoint
            .as_deref()
            .map(|text| {
                AwsEndpoint::parse(
                    "eventbridge_endpoint (ZOOMVAULT_EVENTBRIDGE_ENDPOINT)",
                    text,
                )
            })
            .transpose()?;
        Ok(ServeSettings {
            dynamodb_endpoint,
            eventbridge_endpoint,
            listen,
            store,
            api_key,
            journal_retention,
            journal_sync,
            scan_every,
            scan_days,
            retention,
            purge_every,
            data_dir: o
                .data_dir
                .unwrap_or_else(|| PathBuf::from("zoomvault-data")),
            zoom,
            ingest,
            max_concurrent_tasks,
            site_title: o
                .site_title
                .unwrap_or_else(|| "Zoom recordings".to_string()),
        })
    }
}

/// Step invocations at once by default. Each file already fetches its
/// parts in parallel, so two at a time keep a 2-core server busy; more let
/// a burst of webhooks starve the engine thread that every acknowledgement
/// waits on (see BENCHMARKS.md). Raise it on bigger machines.
pub const DEFAULT_MAX_CONCURRENT_TASKS: usize = 2;

/// The API access key from its two settings, checked; and the rule that a
/// listener beyond loopback must have one, since the API can start and
/// stop executions.
pub fn api_key(
    listen: SocketAddr,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
) -> anyhow::Result<Option<ApiKey>> {
    let key = ApiKey::from_parts(access_key_id, secret_access_key)?;
    anyhow::ensure!(
        listen.ip().is_loopback() || key.is_some(),
        "listening on {listen}, which is not loopback, serves the Step Functions API to the \
         network: set ZOOMVAULT_API_ACCESS_KEY_ID and ZOOMVAULT_API_SECRET_ACCESS_KEY (or \
         api_access_key_id and api_secret_access_key in the config file) so callers must \
         sign with that key"
    );
    Ok(key)
}

impl ApiKey {
    /// The key from its two settings, checked: both or neither.
    pub fn from_parts(
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
    ) -> anyhow::Result<Option<ApiKey>> {
        Ok(match (access_key_id, secret_access_key) {
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(given: ServeOptions) -> anyhow::Result<ServeSettings> {
        ServeSettings::resolve(given, ServeOptions::default())
    }

    fn toml(text: &str) -> ServeOptions {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_run_against_the_simulator_on_loopback() {
        let settings = resolve(ServeOptions::default()).unwrap();
        assert_eq!(settings.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(settings.data_dir, PathBuf::from("zoomvault-data"));
        assert!(settings.zoom.is_none());
        assert_eq!(settings.max_concurrent_tasks, DEFAULT_MAX_CONCURRENT_TASKS);
        assert!(settings.api_key.is_none());
        assert!(matches!(settings.api_config().auth, Auth::Open));
        assert_eq!(settings.scan_every, Some(DEFAULT_SCAN_EVERY));
        assert_eq!(settings.scan_days, 30);
        assert!(!settings.retention.purges());
        assert_eq!(settings.purge_every, None, "nothing to purge, no schedule");
        assert_eq!(settings.journal_sync, zoomvault_engine::Durability::Full);
        assert_eq!(
            settings.journal_retention,
            Some(std::time::Duration::from_secs(90 * 86_400))
        );
    }

    #[test]
    fn integration_endpoints_are_aws_or_an_http_url_naming_the_setting() {
        for (dynamodb, eventbridge, expected) in [
            (None, None, Ok((None, None))),
            (
                Some("aws"),
                Some("http://127.0.0.1:4566"),
                Ok((
                    Some(AwsEndpoint::Aws),
                    Some(AwsEndpoint::Url("http://127.0.0.1:4566".into())),
                )),
            ),
            (
                Some("dynamodb.local:8000"),
                None,
                Err("ZOOMVAULT_DYNAMODB_ENDPOINT"),
            ),
            (None, Some("default"), Err("ZOOMVAULT_EVENTBRIDGE_ENDPOINT")),
        ] {
            let settings = resolve(ServeOptions {
                dynamodb_endpoint: dynamodb.map(str::to_owned),
                eventbridge_endpoint: eventbridge.map(str::to_owned),
                ..ServeOptions::default()
            });
            match (settings, expected) {
                (Ok(s), Ok(endpoints)) => {
                    assert_eq!((s.dynamodb_endpoint, s.eventbridge_endpoint), endpoints)
                }
                (Err(e), Err(names)) => assert!(e.to_string().contains(names), "{e}"),
                (got, want) => panic!("{dynamodb:?} {eventbridge:?}: {got:?}, wanted {want:?}"),
            }
        }
        let file = toml("dynamodb_endpoint = \"aws\"");
        let settings = ServeSettings::resolve(ServeOptions::default(), file).unwrap();
        assert_eq!(settings.dynamodb_endpoint, Some(AwsEndpoint::Aws));
    }

    #[test]
    fn listening_beyond_loopback_needs_an_api_key() {
        let public = ServeOptions {
            listen: Some(SocketAddr::from(([0, 0, 0, 0], 8080))),
            ..ServeOptions::default()
        };
        let error = resolve(public.clone()).unwrap_err().to_string();
        assert!(error.contains("0.0.0.0:8080"), "{error}");
        assert!(error.contains("ZOOMVAULT_API_ACCESS_KEY_ID"), "{error}");

        let keyed = ServeOptions {
            api_access_key_id: Some("AKIDSERVER".into()),
            api_secret_access_key: Some("a-secret-of-some-length".into()),
            ..public
        };
        let settings = resolve(keyed.clone()).unwrap();
        assert_eq!(
            settings.api_key.as_ref().unwrap().access_key_id,
            "AKIDSERVER"
        );
        assert!(matches!(settings.api_config().auth, Auth::Signed(_)));
        assert!(!format!("{settings:?}").contains("a-secret-of-some-length"));

        let half = resolve(ServeOptions {
            api_secret_access_key: None,
            listen: None,
            ..keyed
        })
        .unwrap_err()
        .to_string();
        assert!(half.contains("incomplete"), "{half}");
    }

    #[test]
    fn incomplete_zoom_credentials_are_refused_naming_all_four() {
        let error = resolve(ServeOptions {
            zoom_account_id: Some("a".into()),
            ..ServeOptions::default()
        })
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Zoom settings are incomplete: set all of ZOOM_WEBHOOK_SECRET_TOKEN, ZOOM_ACCOUNT_ID, \
             ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (or none, to run against the bundled simulator)"
        );
    }

    #[test]
    fn flags_and_environment_win_over_the_toml_file() {
        let file = toml(
            r#"
            listen = "127.0.0.1:9000"
            zoom_webhook_secret_token = "from-file"
            zoom_account_id = "acct"
            zoom_client_id = "id"
            zoom_client_secret = "secret"
            part_size_mib = 16
            invocation_mib = 256
            max_concurrent_tasks = 4
            scan_every = "6h"
            journal_retention = "30d"
            retention_days = "2555"
            retention_hosts = ["dean@example.edu=forever"]
            "#,
        );
        let given = ServeOptions {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 7000))),
            zoom_webhook_secret_token: Some("from-env".into()),
            ..ServeOptions::default()
        };
        let settings = ServeSettings::resolve(given, file).unwrap();
        assert_eq!(settings.listen.port(), 7000);
        let zoom = settings.zoom.unwrap();
        assert_eq!(zoom.webhook_secret_token, "from-env");
        assert_eq!(zoom.account_id, "acct");
        assert_eq!(settings.ingest.part_size, 16 * 1024 * 1024);
        assert_eq!(settings.ingest.invocation_bytes, 256 * 1024 * 1024);
        assert_eq!(settings.max_concurrent_tasks, 4);
        assert_eq!(
            settings.scan_every,
            Some(std::time::Duration::from_secs(6 * 3600))
        );
        assert!(settings.retention.purges());
        assert_eq!(settings.retention.hosts().len(), 1);
        assert_eq!(settings.purge_every, Some(DEFAULT_SCAN_EVERY));
    }

    #[test]
    fn bad_settings_are_refused_naming_the_setting() {
        let refused = |options: ServeOptions| resolve(options).unwrap_err().to_string();
        assert_eq!(
            refused(ServeOptions {
                part_size_mib: Some(2),
                ..ServeOptions::default()
            }),
            "part_size_mib must be between 5 and 5120 (S3's part limits), not 2"
        );
        assert_eq!(
            refused(ServeOptions {
                invocation_mib: Some(0),
                ..ServeOptions::default()
            }),
            "invocation_mib must be between 1 and 1048576, not 0"
        );
        assert!(refused(ServeOptions {
            scan_every: Some("daily".into()),
            ..ServeOptions::default()
        })
        .starts_with("scan_every (ZOOMVAULT_SCAN_EVERY) must be a duration"));
        assert!(refused(ServeOptions {
            retention_hosts: vec!["dean".into()],
            ..ServeOptions::default()
        })
        .contains("retention_hosts: \"dean\" is not EMAIL=DAYS"));
        assert!(refused(ServeOptions {
            zoom_webhook_secret_token: Some("s".into()),
            zoom_account_id: Some("a".into()),
            zoom_client_id: Some("c".into()),
            zoom_client_secret: Some("x".into()),
            zoom_download_hosts: Some("zoom.us, a/b".into()),
            ..ServeOptions::default()
        })
        .contains("zoom_download_hosts (ZOOM_DOWNLOAD_HOSTS): download host \"a/b\""));
        assert!(refused(ServeOptions {
            journal_sync: Some("sometimes".into()),
            ..ServeOptions::default()
        })
        .contains("must be full or normal"));
        let normal = resolve(ServeOptions {
            journal_sync: Some("normal".into()),
            ..ServeOptions::default()
        })
        .unwrap();
        assert_eq!(normal.journal_sync, zoomvault_engine::Durability::Normal);
        let off = resolve(ServeOptions {
            scan_every: Some("off".into()),
            ..ServeOptions::default()
        })
        .unwrap();
        assert_eq!(off.scan_every, None);

        let unknown = toml::from_str::<ServeOptions>("part_size = 8").unwrap_err();
        assert!(
            unknown.to_string().contains("unknown field `part_size`"),
            "{unknown}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zoomvault.toml");
        std::fs::write(&path, "listen = 8080\n").unwrap();
        let e = format!("{:#}", ServeOptions::from_toml_file(&path).unwrap_err());
        assert!(
            e.contains("zoomvault.toml: not a valid settings file") && e.contains("line 1"),
            "{e}"
        );
    }

    #[test]
    fn the_archive_is_the_data_directory_unless_an_s3_location_is_set() {
        let default = resolve(ServeOptions::default()).unwrap();
        assert_eq!(default.store, StoreSetting::Directory);
        let s3 = resolve(ServeOptions {
            store: Some("s3://archive-bucket/zoom".into()),
            s3_force_path_style: Some(true),
            ..ServeOptions::default()
        })
        .unwrap();
        match s3.store {
            StoreSetting::S3 {
                location,
                force_path_style,
            } => {
                assert_eq!(location.to_string(), "s3://archive-bucket/zoom/");
                assert!(force_path_style);
            }
            other => panic!("expected S3, got {other:?}"),
        }
        let e = resolve(ServeOptions {
            store: Some("/var/archive".into()),
            ..ServeOptions::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("ZOOMVAULT_STORE (or the file's store) \"/var/archive\""),
            "{e}"
        );
    }

    #[test]
    fn every_setting_is_a_flag_with_its_environment_variable() {
        use clap::CommandFactory;
        #[derive(clap::Parser)]
        struct Serve {
            #[command(flatten)]
            options: ServeOptions,
        }
        let command = Serve::command();
        let mut missing = Vec::new();
        for arg in command.get_arguments() {
            if arg.get_id() == "help" {
                continue;
            }
            if arg.get_env().is_none() || arg.get_long().is_none() {
                missing.push(arg.get_id().to_string());
            }
        }
        assert!(missing.is_empty(), "without a flag and env: {missing:?}");
        // And the file takes the same names.
        let every: Vec<String> = command
            .get_arguments()
            .filter(|a| a.get_id() != "help")
            .map(|a| a.get_id().to_string())
            .collect();
        for id in every {
            let value = if id == "retention_hosts" {
                "[]"
            } else {
                "\"x\""
            };
            let parsed = toml::from_str::<ServeOptions>(&format!("{id} = {value}"));
            if let Err(e) = parsed {
                assert!(!e.to_string().contains("unknown field"), "{id}: {e}");
            }
        }
    }
}
