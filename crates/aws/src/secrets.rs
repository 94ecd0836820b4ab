//! Zoom's credentials from SSM Parameter Store: [`load_zoom_secrets`] reads
//! the four SecureString parameters `{prefix}zoom/account_id`,
//! `{prefix}zoom/client_id`, `{prefix}zoom/client_secret` and
//! `{prefix}zoom/webhook_secret_token` (prefix [`DEFAULT_PREFIX`],
//! `/zoomvault/`, unless configured) in one GetParameters call with
//! decryption, once, at a function's cold start. A function reads only
//! what its role may read: [`load_zoom_config`] the three API credentials,
//! [`load_webhook_verifier`] the webhook's token alone.
//!
//! The client secret and webhook secret token are held as
//! [`SecretString`], so no `Debug` of [`ZoomSecrets`] shows them; the
//! account and client ids are identifiers, shown as `ZoomConfig` shows
//! them. An error names the parameters involved and never carries a value.
//! This module reads credentials; it must not log, cache or write them.

use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::Client;
use zoomvault_archive::ports::BoxError;
use zoomvault_zoom::{SecretString, WebhookVerifier, ZoomConfig};

/// Where the parameters live unless configured otherwise.
pub const DEFAULT_PREFIX: &str = "/zoomvault/";

/// The parameters' names under the prefix.
const ACCOUNT_ID: &str = "zoom/account_id";
const CLIENT_ID: &str = "zoom/client_id";
const CLIENT_SECRET: &str = "zoom/client_secret";
const WEBHOOK_SECRET_TOKEN: &str = "zoom/webhook_secret_token";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Parameters that do not exist (or that this role may not read, which
    /// SSM reports the same way), by full name.
    #[error("SSM parameters missing: {}", .0.join(", "))]
    Missing(Vec<String>),
    /// Throttled, timed out or unreachable: worth retrying.
    #[error("SSM unavailable: {0}")]
    Unavailable(#[source] BoxError),
    #[error("reading SSM parameters failed: {0}")]
    Backend(#[source] BoxError),
}

impl Error {
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}

/// The Zoom Server-to-Server OAuth app's credentials and the webhook's
/// secret token.
#[derive(Debug, Clone)]
pub struct ZoomSecrets {
    pub account_id: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub webhook_secret_token: SecretString,
}

impl ZoomSecrets {
    /// The client configuration: production endpoints and default
    /// policies ([`ZoomConfig::new`]) with these credentials.
    pub fn zoom_config(&self) -> ZoomConfig {
        ZoomConfig::new(
            self.account_id.clone(),
            self.client_id.clone(),
            self.client_secret.clone(),
        )
    }

    /// The webhook's signature verifier, with this secret token.
    pub fn webhook_verifier(&self) -> WebhookVerifier {
        WebhookVerifier::new(self.webhook_secret_token.clone())
    }
}

/// Reads the four parameters under `prefix` (e.g. [`DEFAULT_PREFIX`]) in
/// one GetParameters call, decrypted. Every missing parameter is named in
/// one [`Error::Missing`].
pub async fn load_zoom_secrets(client: &Client, prefix: &str) -> Result<ZoomSecrets, Error> {
    let [account_id, client_id, client_secret, webhook_secret_token] = read(
        client,
        prefix,
        [ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET_TOKEN],
    )
    .await?;
    Ok(ZoomSecrets {
        account_id: account_id.expose().to_owned(),
        client_id: client_id.expose().to_owned(),
        client_secret,
        webhook_secret_token,
    })
}

/// The API credentials alone (`zoom/account_id`, `zoom/client_id`,
/// `zoom/client_secret`), for a function that calls Zoom but never sees a
/// webhook: its role may read only these three.
pub async fn load_zoom_config(client: &Client, prefix: &str) -> Result<ZoomConfig, Error> {
    let [account_id, client_id, client_secret] =
        read(client, prefix, [ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET]).await?;
    Ok(ZoomConfig::new(
        account_id.expose().to_owned(),
        client_id.expose().to_owned(),
        client_secret,
    ))
}

/// The webhook's secret token alone (`zoom/webhook_secret_token`), for the
/// webhook function, whose role may read nothing else.
pub async fn load_webhook_verifier(
    client: &Client,
    prefix: &str,
) -> Result<WebhookVerifier, Error> {
    let [token] = read(client, prefix, [WEBHOOK_SECRET_TOKEN]).await?;
    Ok(WebhookVerifier::new(token))
}

/// The parameters `{prefix}{name}`, in one decrypted GetParameters call, in
/// the order asked; every missing one named in one [`Error::Missing`].
async fn read<const N: usize>(
    client: &Client,
    prefix: &str,
    names: [&str; N],
) -> Result<[SecretString; N], Error> {
    let names = names.map(|name| format!("{prefix}{name}"));
    let output = client
        .get_parameters()
        .set_names(Some(names.to_vec()))
        .with_decryption(true)
        .send()
        .await
        .map_err(classify)?;
    let values = names.clone().map(|name| {
        output
            .parameters()
            .iter()
            .find(|p| p.name() == Some(name.as_str()))
            .and_then(|p| p.value())
            .map(SecretString::new)
    });
    if values.iter().any(Option::is_none) {
        let missing = names
            .iter()
            .zip(&values)
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.clone())
            .collect();
        return Err(Error::Missing(missing));
    }
    Ok(values.map(|value| value.expect("checked above")))
}

/// Throttling, 5xx and transport failures are `Unavailable`. The SDK's
/// errors carry the request's parameter names at most, never values.
fn classify<E>(e: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient =
        crate::sdk_error::is_transient(&e, &["ThrottlingException", "InternalServerError"]);
    if transient {
        Error::Unavailable(Box::new(e))
    } else {
        Error::Backend(Box::new(e))
    }
}
