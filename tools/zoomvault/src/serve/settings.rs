//! The settings of `zoomvault serve` and `zoomvault engine serve`: the JSON
//! config file, the environment and the flags resolved into a validated
//! [`ServeSettings`] (flags over environment over file over defaults), and
//! the Step Functions API's access key ([`ApiKey`], whose `Debug` redacts
//! the secret) with the rule that a listener beyond loopback must have one.
//! Pure: it reads no file and no environment itself (callers pass the
//! parsed file and a lookup), and must not bind, open or start anything.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use zoomvault_archive::steps::IngestConfig;
use zoomvault_sfn_api::sigv4::{Credentials, Verifier};
use zoomvault_sfn_api::{ApiConfig, Auth};
use zoomvault_zoom::ZoomConfig;

/// The settings file (`--config FILE`, JSON). Every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    /// Where recordings are archived: `s3://bucket/prefix` (S3 or an
    /// S3-compatible store), or absent for the data directory.
    pub store: Option<String>,
    pub s3_force_path_style: Option<bool>,
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
    /// How often the scan for missed meetings runs (`24h`, `6h`, ...), or
    /// `off`.
    pub scan_every: Option<String>,
    /// How many days back it looks.
    pub scan_days: Option<i64>,
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
        )
    }
}

impl ZoomSettings {
    /// A Zoom API client from the environment's `ZOOM_ACCOUNT_ID`,
    /// `ZOOM_CLIENT_ID` and `ZOOM_CLIENT_SECRET` (and `ZOOM_API_BASE`,
    /// `ZOOM_OAUTH_BASE`), for the commands that call Zoom themselves;
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
) -> ZoomConfig {
    let mut config = ZoomConfig::new(account_id, client_id, client_secret);
    if let Some(api) = api_base {
        config.api_base = api;
    }
    if let Some(oauth) = oauth_base {
        config.oauth_base = oauth;
    }
    config
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
}

/// How often `serve` scans for missed meetings unless told otherwise.
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
        let force_path_style = match env("ZOOMVAULT_S3_FORCE_PATH_STYLE").as_deref() {
            None => file.s3_force_path_style.unwrap_or(false),
            Some("true" | "1") => true,
            Some("false" | "0") => false,
            Some(other) => {
                anyhow::bail!("ZOOMVAULT_S3_FORCE_PATH_STYLE must be true or false, not {other:?}")
            }
        };
        let store = StoreSetting::parse(
            pick("ZOOMVAULT_STORE", file.store).as_deref(),
            force_path_style,
        )?;
        let scan_every = match pick("ZOOMVAULT_SCAN_EVERY", file.scan_every) {
            Some(text) => interval("scan_every (ZOOMVAULT_SCAN_EVERY)", &text)?,
            None => Some(DEFAULT_SCAN_EVERY),
        };
        let scan_days = match env("ZOOMVAULT_SCAN_DAYS") {
            Some(text) => text.trim().parse::<i64>().map_err(|_| {
                anyhow::anyhow!("ZOOMVAULT_SCAN_DAYS must be a whole number of days, not {text:?}")
            })?,
            None => file
                .scan_days
                .unwrap_or(zoomvault_archive::operations::scan::DEFAULT_LOOKBACK_DAYS),
        };
        anyhow::ensure!(
            (1..=3660).contains(&scan_days),
            "scan_days must be 1 to 3660, not {scan_days}"
        );
        Ok(ServeSettings {
            listen,
            store,
            api_key,
            scan_every,
            scan_days,
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

    #[test]
    fn the_archive_is_the_data_directory_unless_an_s3_location_is_set() {
        let default =
            ServeSettings::resolve(None, None, ConfigFile::default(), &env_of(&[])).unwrap();
        assert_eq!(default.store, StoreSetting::Directory);
        let s3 = ServeSettings::resolve(
            None,
            None,
            ConfigFile::default(),
            &env_of(&[
                ("ZOOMVAULT_STORE", "s3://archive-bucket/zoom"),
                ("ZOOMVAULT_S3_FORCE_PATH_STYLE", "true"),
            ]),
        )
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
        for (env, expected) in [
            (
                &[("ZOOMVAULT_STORE", "/var/archive")][..],
                "ZOOMVAULT_STORE (or the file's store) \"/var/archive\"",
            ),
            (
                &[
                    ("ZOOMVAULT_STORE", "s3://archive-bucket/p"),
                    ("ZOOMVAULT_S3_FORCE_PATH_STYLE", "maybe"),
                ][..],
                "ZOOMVAULT_S3_FORCE_PATH_STYLE must be true or false",
            ),
        ] {
            let pairs: &'static [(&'static str, &'static str)] = env;
            let e = ServeSettings::resolve(None, None, ConfigFile::default(), &env_of(pairs))
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{e}");
        }
    }
}
