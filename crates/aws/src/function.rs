//! What a zoomvault Lambda function reads from its environment, and the
//! clients and ports it builds from it, once per cold start. Every setting
//! is an environment variable the deployment (`serverless.yml`) sets:
//!
//! | variable | used by | meaning |
//! |---|---|---|
//! | `ZOOMVAULT_BUCKET` | steps | the archive's S3 bucket |
//! | `ZOOMVAULT_PREFIX` | steps | key prefix inside it (empty: none) |
//! | `ZOOMVAULT_TABLE` | steps, operations | the DynamoDB recording index |
//! | `ZOOMVAULT_EVENT_BUS` | steps | the EventBridge bus |
//! | `ZOOMVAULT_STATE_MACHINE_ARN` | webhook, start-ingest, scan-missed-meetings | the ingest state machine |
//! | `ZOOMVAULT_SSM_PREFIX` | all with Zoom access | SSM prefix of Zoom's credentials (default `/zoomvault/`) |
//! | `ZOOMVAULT_PART_SIZE`, `ZOOMVAULT_INVOCATION_BYTES`, `ZOOMVAULT_PART_CONCURRENCY`, `ZOOMVAULT_MIN_DURATION_MINUTES` | steps | `IngestConfig` |
//! | `ZOOMVAULT_S3_FORCE_PATH_STYLE` | steps | `true` for S3-compatible stores that need it |
//! | `ZOOMVAULT_ZOOM_API_BASE`, `ZOOMVAULT_ZOOM_OAUTH_BASE` | steps | Zoom's endpoints (tests point them at the simulator) |
//! | `ZOOM_DOWNLOAD_HOSTS` | steps | hosts recording files may be downloaded from (default Zoom's domains) |
//!
//! AWS's own settings (region, credentials, `AWS_ENDPOINT_URL_*`) come from
//! the usual environment through aws-config. Zoom's credentials never come
//! from the environment: they are read from SSM ([`crate::secrets`]).
//!
//! Glue only; each port's adapter lives in its own module.

use std::sync::Arc;

use aws_config::SdkConfig;
use zoomvault_archive::steps::{IngestConfig, StepContext};
use zoomvault_zoom::{WebhookVerifier, ZoomClient, ZoomConfig};

use crate::dynamodb::DynamoDbIndex;
use crate::eventbridge::EventBridgeSink;
use crate::s3::{S3Location, S3ObjectStore, S3Options};
use crate::secrets;
use crate::SfnStarter;

/// Why a function could not start: what is missing or wrong, by name.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name}={value:?} is not valid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("reading Zoom's credentials from SSM: {0}")]
    Secrets(#[from] secrets::Error),
    #[error("configuring the Zoom client: {0}")]
    Zoom(String),
}

/// The settings of one function, read from its environment.
#[derive(Debug, Clone)]
pub struct FunctionEnv {
    pub bucket: Option<String>,
    pub prefix: String,
    pub table: Option<String>,
    pub event_bus: Option<String>,
    pub state_machine_arn: Option<String>,
    pub ssm_prefix: String,
    pub ingest: IngestConfig,
    pub s3_force_path_style: bool,
    pub zoom_api_base: Option<String>,
    pub zoom_oauth_base: Option<String>,
    pub zoom_download_hosts: Option<String>,
}

impl FunctionEnv {
    /// Reads the process environment.
    pub fn from_env() -> Result<FunctionEnv, Error> {
        FunctionEnv::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads settings through `get` (tests pass a map).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<FunctionEnv, Error> {
        let text = |name: &'static str| get(name).filter(|v| !v.is_empty());
        let mut ingest = IngestConfig::default();
        if let Some(v) = number(get, "ZOOMVAULT_PART_SIZE")? {
            if v < zoomvault_archive::ports::object_store::MIN_PART_SIZE {
                return Err(Error::Invalid {
                    name: "ZOOMVAULT_PART_SIZE",
                    value: v.to_string(),
                    reason: "S3 needs parts of at least 5 MiB (5242880 bytes)".into(),
                });
            }
            ingest.part_size = v;
        }
        if let Some(v) = number(get, "ZOOMVAULT_INVOCATION_BYTES")? {
            ingest.invocation_bytes = v;
        }
        if let Some(v) = number(get, "ZOOMVAULT_PART_CONCURRENCY")? {
            ingest.part_concurrency = usize::try_from(v.max(1)).unwrap_or(usize::MAX);
        }
        if let Some(v) = number(get, "ZOOMVAULT_MIN_DURATION_MINUTES")? {
            ingest.min_duration_minutes = v;
        }
        let s3_force_path_style = match text("ZOOMVAULT_S3_FORCE_PATH_STYLE").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                return Err(Error::Invalid {
                    name: "ZOOMVAULT_S3_FORCE_PATH_STYLE",
                    value: other.to_string(),
                    reason: "expected true or false".into(),
                })
            }
        };
        Ok(FunctionEnv {
            bucket: text("ZOOMVAULT_BUCKET"),
            prefix: get("ZOOMVAULT_PREFIX").unwrap_or_default(),
            table: text("ZOOMVAULT_TABLE"),
            event_bus: text("ZOOMVAULT_EVENT_BUS"),
            state_machine_arn: text("ZOOMVAULT_STATE_MACHINE_ARN"),
            ssm_prefix: text("ZOOMVAULT_SSM_PREFIX")
                .unwrap_or_else(|| secrets::DEFAULT_PREFIX.to_string()),
            ingest,
            s3_force_path_style,
            zoom_api_base: text("ZOOMVAULT_ZOOM_API_BASE"),
            zoom_oauth_base: text("ZOOMVAULT_ZOOM_OAUTH_BASE"),
            zoom_download_hosts: text("ZOOM_DOWNLOAD_HOSTS"),
        })
    }

    fn require<'a>(value: &'a Option<String>, name: &'static str) -> Result<&'a str, Error> {
        value.as_deref().ok_or(Error::Missing(name))
    }
}

/// A whole number of seconds from the environment variable `name`
/// (an operation's time budget inside the function's timeout), or
/// `default` when it is not set.
pub fn seconds_setting(
    name: &'static str,
    default: std::time::Duration,
) -> Result<std::time::Duration, Error> {
    Ok(number(&|n| std::env::var(n).ok(), name)?.map_or(default, std::time::Duration::from_secs))
}

/// A count of at least 1 from the environment variable `name` (days,
/// users at once), or `default` when it is not set.
pub fn count_setting(name: &'static str, default: u64) -> Result<u64, Error> {
    match number(&|n| std::env::var(n).ok(), name)? {
        None => Ok(default),
        Some(0) => Err(Error::Invalid {
            name,
            value: "0".into(),
            reason: "must be at least 1".into(),
        }),
        Some(n) => Ok(n),
    }
}

fn number(get: &dyn Fn(&str) -> Option<String>, name: &'static str) -> Result<Option<u64>, Error> {
    match get(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(value) => value.trim().parse().map(Some).map_err(|e| Error::Invalid {
            name,
            value,
            reason: format!("not a whole number: {e}"),
        }),
    }
}

/// The AWS SDK configuration from the environment (region, credentials,
/// endpoints).
pub async fn sdk_config() -> SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Whether a step function reads Zoom's credentials (the retrieval steps
/// and Finalize do; CompleteFile and RecordFailure never call Zoom, and
/// their roles may not read the parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoomAccess {
    Credentials,
    None,
}

/// Everything a step needs: the S3 store, the DynamoDB index, the
/// EventBridge sink and, with [`ZoomAccess::Credentials`], a Zoom client
/// with the credentials from SSM.
pub async fn step_context(
    env: &FunctionEnv,
    sdk: &SdkConfig,
    zoom: ZoomAccess,
) -> Result<Arc<StepContext>, Error> {
    let bucket = FunctionEnv::require(&env.bucket, "ZOOMVAULT_BUCKET")?;
    let bus = FunctionEnv::require(&env.event_bus, "ZOOMVAULT_EVENT_BUS")?;
    let location = S3Location::parse(&format!("s3://{bucket}/{}", env.prefix)).map_err(|e| {
        Error::Invalid {
            name: "ZOOMVAULT_BUCKET",
            value: bucket.to_string(),
            reason: e.to_string(),
        }
    })?;
    let s3 = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(env.s3_force_path_style)
        .build();
    let store = S3ObjectStore::new(
        aws_sdk_s3::Client::from_conf(s3),
        location,
        S3Options::default(),
    );
    let index = recording_index(env, sdk)?;
    let events = EventBridgeSink::new(aws_sdk_eventbridge::Client::new(sdk), bus);
    let zoom = match zoom {
        ZoomAccess::Credentials => zoom_client(env, sdk).await?,
        // Placeholders, never secrets: any call would be refused at Zoom's
        // OAuth endpoint, naming this client.
        ZoomAccess::None => client_with_endpoints(
            ZoomConfig::new(
                "none",
                "zoomvault-function-without-zoom-credentials",
                "none",
            ),
            env,
        )?,
    };
    Ok(Arc::new(StepContext {
        zoom,
        store: Arc::new(store),
        index: Arc::new(index),
        events: Arc::new(events),
        config: env.ingest.clone(),
    }))
}

/// The DynamoDB recording index (`ZOOMVAULT_TABLE`).
pub fn recording_index(env: &FunctionEnv, sdk: &SdkConfig) -> Result<DynamoDbIndex, Error> {
    let table = FunctionEnv::require(&env.table, "ZOOMVAULT_TABLE")?;
    Ok(DynamoDbIndex::new(
        aws_sdk_dynamodb::Client::new(sdk),
        table,
    ))
}

/// A Zoom client with the credentials from SSM (start-ingest, which needs
/// Zoom's API to find a meeting's instances or a share link, and the scan
/// for missed meetings).
pub async fn zoom_client(env: &FunctionEnv, sdk: &SdkConfig) -> Result<ZoomClient, Error> {
    let ssm = aws_sdk_ssm::Client::new(sdk);
    let config = secrets::load_zoom_config(&ssm, &env.ssm_prefix).await?;
    client_with_endpoints(config, env)
}

/// A Zoom client for `config`, at the endpoints the environment names.
fn client_with_endpoints(config: ZoomConfig, env: &FunctionEnv) -> Result<ZoomClient, Error> {
    let mut config = with_endpoints(config, env);
    if let Some(hosts) = &env.zoom_download_hosts {
        config.download_hosts =
            zoomvault_zoom::DownloadHosts::parse(hosts).map_err(|reason| Error::Invalid {
                name: "ZOOM_DOWNLOAD_HOSTS",
                value: hosts.clone(),
                reason,
            })?;
    }
    ZoomClient::new(config).map_err(|e| Error::Zoom(e.to_string()))
}

fn with_endpoints(mut config: ZoomConfig, env: &FunctionEnv) -> ZoomConfig {
    if let Some(api) = &env.zoom_api_base {
        config.api_base = api.clone();
    }
    if let Some(oauth) = &env.zoom_oauth_base {
        config.oauth_base = oauth.clone();
    }
    config
}

/// The starter of ingest executions (webhook, start-ingest).
pub fn workflow_starter(env: &FunctionEnv, sdk: &SdkConfig) -> Result<SfnStarter, Error> {
    let arn = FunctionEnv::require(&env.state_machine_arn, "ZOOMVAULT_STATE_MACHINE_ARN")?;
    Ok(SfnStarter::new(aws_sdk_sfn::Client::new(sdk), arn))
}

/// The webhook's verifier, with the secret token from SSM.
pub async fn webhook_verifier(
    env: &FunctionEnv,
    sdk: &SdkConfig,
) -> Result<WebhookVerifier, Error> {
    let ssm = aws_sdk_ssm::Client::new(sdk);
    Ok(secrets::load_webhook_verifier(&ssm, &env.ssm_prefix).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<FunctionEnv, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        FunctionEnv::from_lookup(&|name| map.get(name).cloned())
    }

    #[test]
    fn settings_are_read_with_defaults() {
        let env = read(&[
            ("ZOOMVAULT_BUCKET", "archive"),
            ("ZOOMVAULT_PART_SIZE", "16777216"),
            ("ZOOMVAULT_INVOCATION_BYTES", "1073741824"),
            ("ZOOMVAULT_S3_FORCE_PATH_STYLE", "true"),
        ])
        .unwrap();
        assert_eq!(env.bucket.as_deref(), Some("archive"));
        assert_eq!(env.prefix, "");
        assert_eq!(env.ssm_prefix, "/zoomvault/");
        assert_eq!(env.ingest.part_size, 16 * 1024 * 1024);
        assert_eq!(env.ingest.invocation_bytes, 1 << 30);
        assert!(env.s3_force_path_style);
        assert_eq!(env.table, None);
    }

    #[test]
    fn bad_values_are_named() {
        for (vars, expected) in [
            (
                vec![("ZOOMVAULT_PART_SIZE", "lots")],
                "ZOOMVAULT_PART_SIZE=\"lots\" is not valid",
            ),
            (vec![("ZOOMVAULT_PART_SIZE", "1024")], "at least 5 MiB"),
            (
                vec![("ZOOMVAULT_S3_FORCE_PATH_STYLE", "yes")],
                "expected true or false",
            ),
        ] {
            let e = read(&vars).unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
        }
        let env = read(&[]).unwrap();
        let e = FunctionEnv::require(&env.table, "ZOOMVAULT_TABLE").unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable ZOOMVAULT_TABLE is not set"
        );
    }
}
