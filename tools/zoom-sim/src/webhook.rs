//! Zoom's outgoing webhooks: the `recording.completed` and
//! `endpoint.url_validation` event bodies, their `x-zm-signature`
//! (`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the secret
//! token), and their delivery by HTTP POST. Options let a test send a stale
//! timestamp, or a bad or missing signature, to check that a receiver
//! refuses them. An event is built under the state's lock and delivered
//! after it is released: delivery must not touch the state.

use std::time::{Duration, SystemTime};

use anyhow::Context;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::model::UrlForm;
use crate::state::{unix_secs, State};

/// How a delivered webhook is signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureMode {
    /// Signed correctly with the configured secret token.
    #[default]
    Valid,
    /// A well-formed `v0=` signature that does not match the body.
    Corrupted,
    /// No `x-zm-signature` header at all.
    Missing,
}

/// How to deliver one webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookOptions {
    /// `x-zm-request-timestamp` in unix seconds; now when absent. Set it in
    /// the past to test a receiver's replay window.
    pub timestamp: Option<i64>,
    pub signature: SignatureMode,
    /// How long to wait for the receiver. Zoom itself gives up after 3 s;
    /// the default is longer so that a loaded test machine does not fail a
    /// test for Zoom's reason.
    #[serde(with = "millis")]
    pub timeout: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            timestamp: None,
            signature: SignatureMode::Valid,
            timeout: Duration::from_secs(10),
        }
    }
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

fn hmac_hex(secret: &str, message: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `x-zm-signature` Zoom sends for `body` at `timestamp`:
/// `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{body}`).
pub fn webhook_signature(secret_token: &str, timestamp: i64, body: &str) -> String {
    format!(
        "v0={}",
        hmac_hex(secret_token, &format!("v0:{timestamp}:{body}"))
    )
}

/// The `encryptedToken` a receiver must answer an `endpoint.url_validation`
/// event with: hex HMAC-SHA256(secret, plainToken).
pub fn url_validation_encrypted_token(secret_token: &str, plain_token: &str) -> String {
    hmac_hex(secret_token, plain_token)
}

fn event_ts(now: SystemTime) -> u64 {
    now.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A `recording.completed` event for the meeting, with a fresh
/// `download_token` valid for `download_token_ttl`; `None` if the meeting
/// is unknown.
pub(crate) fn recording_completed_event(
    state: &mut State,
    account_id: &str,
    download_token_ttl: Duration,
    meeting_uuid: &str,
) -> Option<Value> {
    let object = state
        .meeting_entry(meeting_uuid)?
        .meeting
        .recording_json(account_id, UrlForm::Webhook);
    let token = state.issue_download_token(meeting_uuid, download_token_ttl);
    Some(json!({
        "event": "recording.completed",
        "event_ts": event_ts(state.now()),
        "payload": {
            "account_id": account_id,
            "object": object,
        },
        "download_token": token,
    }))
}

/// An `endpoint.url_validation` event carrying `plain_token`.
pub(crate) fn url_validation_event(now: SystemTime, plain_token: &str) -> Value {
    json!({
        "payload": { "plainToken": plain_token },
        "event_ts": event_ts(now),
        "event": "endpoint.url_validation",
    })
}

/// POSTs `body` to `url` as Zoom does, signed per `options`; returns the
/// receiver's status and body.
pub(crate) async fn deliver(
    secret_token: &str,
    now: SystemTime,
    url: &str,
    body: &Value,
    options: &WebhookOptions,
) -> anyhow::Result<(u16, String)> {
    let raw = serde_json::to_string(body).context("serialising webhook body")?;
    let timestamp = options
        .timestamp
        .unwrap_or_else(|| i64::try_from(unix_secs(now)).unwrap_or(i64::MAX));
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .build()
        .context("building webhook HTTP client")?;
    let mut request = client
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header("user-agent", "Zoom Marketplace/1.0a")
        .header("x-zm-request-timestamp", timestamp.to_string())
        .header("x-zm-trackingid", format!("zvsim_{}", event_ts(now)));
    match options.signature {
        SignatureMode::Valid => {
            request = request.header(
                "x-zm-signature",
                webhook_signature(secret_token, timestamp, &raw),
            );
        }
        SignatureMode::Corrupted => {
            // Sign something else: the header stays well-formed, so only a
            // receiver that really checks the HMAC notices.
            let forged = webhook_signature(secret_token, timestamp, &format!("{raw} "));
            request = request.header("x-zm-signature", forged);
        }
        SignatureMode::Missing => {}
    }
    let response = request
        .body(raw)
        .send()
        .await
        .with_context(|| format!("delivering webhook to {url}"))?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .with_context(|| format!("reading webhook response from {url}"))?;
    Ok((status, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_and_validation_token_match_openssl() {
        // printf 'v0:1700000000:{}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            webhook_signature("secret", 1_700_000_000, "{}"),
            "v0=84dd7b277ba946b3a34369b43499bfd9258b410b8894583f1288b1911aa6a6d6"
        );
        // printf 'abc' | openssl dgst -sha256 -hmac zv_sim_webhook_secret
        assert_eq!(
            url_validation_encrypted_token("zv_sim_webhook_secret", "abc"),
            "0f457c8e18b352b7a466cffa1e47211fdb88d7e5eb6382014bea305aa12d2693"
        );
    }
}
