//! Zoom webhook authenticity: verifying `x-zm-signature` against the raw body
//! and `x-zm-request-timestamp`, answering the `endpoint.url_validation`
//! challenge, and signing bodies the same way Zoom does (for tests and the
//! simulator). It owns only the cryptography and the replay window; it must
//! not parse event JSON (that is `event`), speak HTTP, or log secrets.
//!
//! Zoom's scheme: `x-zm-signature: v0=` + hex HMAC-SHA256(secret token,
//! `v0:{x-zm-request-timestamp}:{raw body}`), the timestamp in Unix seconds.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::secret::SecretString;

type HmacSha256 = Hmac<Sha256>;

/// The header carrying Zoom's request timestamp (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "x-zm-request-timestamp";
/// The header carrying Zoom's `v0=` signature.
pub const SIGNATURE_HEADER: &str = "x-zm-signature";

/// How far a request timestamp may sit from our clock, either way, before the
/// request is treated as a replay. Zoom's own samples use five minutes.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Why a webhook request was rejected. Every variant means "answer 401": the
/// distinction exists for logs and for tests, not for the caller's control
/// flow.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("missing `{header}` header")]
    MissingHeader { header: &'static str },
    #[error("`{TIMESTAMP_HEADER}` is not a Unix timestamp in seconds: {value:?}")]
    MalformedTimestamp { value: String },
    #[error("`{SIGNATURE_HEADER}` is not of the form `v0=<64 hex digits>`")]
    MalformedSignature,
    #[error("signature does not match the body and timestamp")]
    BadSignature,
    #[error(
        "request timestamp is {} s {} our clock, outside the {window_seconds} s window",
        .age_seconds.unsigned_abs(),
        if *.age_seconds >= 0 { "behind" } else { "ahead of" }
    )]
    StaleTimestamp {
        /// Our clock minus the request's timestamp; negative when the request
        /// claims to come from the future.
        age_seconds: i64,
        window_seconds: u64,
    },
}

/// Verifies that a webhook request came from Zoom and is fresh.
#[derive(Clone)]
pub struct WebhookVerifier {
    secret_token: SecretString,
    window: Duration,
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secret_token", &self.secret_token)
            .field("window", &self.window)
            .finish()
    }
}

impl WebhookVerifier {
    /// A verifier with the app's Secret Token and the default five-minute
    /// window.
    pub fn new(secret_token: impl Into<SecretString>) -> Self {
        Self {
            secret_token: secret_token.into(),
            window: DEFAULT_WINDOW,
        }
    }

    /// The same verifier with another replay window.
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    pub fn secret_token(&self) -> &SecretString {
        &self.secret_token
    }

    /// Checks both headers against the exact bytes received. `now` is passed
    /// in so the window can be tested without a clock.
    ///
    /// The signature is checked before the window, so `StaleTimestamp` is only
    /// ever reported for a request Zoom really signed: a replay or clock skew,
    /// which is worth telling apart from a forgery in the logs.
    pub fn verify(
        &self,
        timestamp_header: Option<&str>,
        signature_header: Option<&str>,
        raw_body: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), WebhookError> {
        let timestamp_text = timestamp_header.ok_or(WebhookError::MissingHeader {
            header: TIMESTAMP_HEADER,
        })?;
        let signature_text = signature_header.ok_or(WebhookError::MissingHeader {
            header: SIGNATURE_HEADER,
        })?;
        let timestamp: i64 =
            timestamp_text
                .trim()
                .parse()
                .map_err(|_| WebhookError::MalformedTimestamp {
                    value: timestamp_text.to_owned(),
                })?;
        let claimed = signature_text
            .trim()
            .strip_prefix("v0=")
            .and_then(|hex_digits| hex::decode(hex_digits).ok())
            .ok_or(WebhookError::MalformedSignature)?;

        // The message uses the header text exactly as sent, not the parsed
        // number: that is what Zoom signed.
        let mut mac = self.mac();
        mac.update(b"v0:");
        mac.update(timestamp_text.as_bytes());
        mac.update(b":");
        mac.update(raw_body);
        // `verify_slice` compares in constant time, so the comparison leaks
        // nothing about how many leading bytes of a forgery were right.
        mac.verify_slice(&claimed)
            .map_err(|_| WebhookError::BadSignature)?;

        let age_seconds = now.unix_timestamp().saturating_sub(timestamp);
        if age_seconds.unsigned_abs() > self.window.as_secs() {
            return Err(WebhookError::StaleTimestamp {
                age_seconds,
                window_seconds: self.window.as_secs(),
            });
        }
        Ok(())
    }

    /// The answer to an `endpoint.url_validation` challenge. See
    /// [`url_validation_response`]; the request itself must have passed
    /// [`WebhookVerifier::verify`] first.
    pub fn url_validation_response(&self, plain_token: &str) -> serde_json::Value {
        url_validation_response(&self.secret_token, plain_token)
    }

    fn mac(&self) -> HmacSha256 {
        hmac_with(&self.secret_token)
    }
}

fn hmac_with(secret: &SecretString) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    match HmacSha256::new_from_slice(secret.expose().as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    }
}

/// `{"plainToken": ..., "encryptedToken": hex HMAC-SHA256(secret, plainToken)}`,
/// the body Zoom expects back for `endpoint.url_validation`.
///
/// Zoom signs validation requests like any other event, and callers must
/// verify them before answering: `encryptedToken` is an HMAC under the same
/// key as the signature, so answering an unsigned challenge whose plainToken
/// is `v0:{ts}:{body}` would hand out a valid signature for any body.
pub fn url_validation_response(secret: &SecretString, plain_token: &str) -> serde_json::Value {
    let mut mac = hmac_with(secret);
    mac.update(plain_token.as_bytes());
    serde_json::json!({
        "plainToken": plain_token,
        "encryptedToken": hex::encode(mac.finalize().into_bytes()),
    })
}

/// The `x-zm-signature` value Zoom would send for `body` at `timestamp` (Unix
/// seconds). For tests, the simulator and tools that replay events.
pub fn sign(secret: &SecretString, timestamp: i64, body: &[u8]) -> String {
    let mut mac = hmac_with(secret);
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"event":"recording.completed","payload":{}}"#;

    fn secret() -> SecretString {
        SecretString::new("webhook-secret")
    }

    fn verifier() -> WebhookVerifier {
        WebhookVerifier::new(secret())
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(NOW).expect("valid timestamp")
    }

    fn check(timestamp: Option<&str>, signature: Option<&str>, body: &[u8], expect: Expect) {
        let outcome = match verifier().verify(timestamp, signature, body, now()) {
            Ok(()) => "accepted".to_owned(),
            Err(error) => format!("rejected: {error}"),
        };
        expect.assert_eq(&outcome);
    }

    #[test]
    fn accepts_a_fresh_correct_signature() {
        let signature = sign(&secret(), NOW - 10, BODY);
        check(
            Some(&(NOW - 10).to_string()),
            Some(&signature),
            BODY,
            expect!["accepted"],
        );
    }

    #[test]
    fn rejects_each_kind_of_bad_request_with_its_own_reason() {
        let good_ts = NOW.to_string();
        let good_sig = sign(&secret(), NOW, BODY);
        check(
            None,
            Some(&good_sig),
            BODY,
            expect!["rejected: missing `x-zm-request-timestamp` header"],
        );
        check(
            Some(&good_ts),
            None,
            BODY,
            expect!["rejected: missing `x-zm-signature` header"],
        );
        check(
            Some("yesterday"),
            Some(&good_sig),
            BODY,
            expect![[
                r#"rejected: `x-zm-request-timestamp` is not a Unix timestamp in seconds: "yesterday""#
            ]],
        );
        check(
            Some(&good_ts),
            Some("sha256=abc"),
            BODY,
            expect!["rejected: `x-zm-signature` is not of the form `v0=<64 hex digits>`"],
        );
        check(
            Some(&good_ts),
            Some("v0=not-hex"),
            BODY,
            expect!["rejected: `x-zm-signature` is not of the form `v0=<64 hex digits>`"],
        );
        check(
            Some(&good_ts),
            Some(&good_sig),
            br#"{"event":"recording.completed","payload":{"x":1}}"#,
            expect!["rejected: signature does not match the body and timestamp"],
        );
        check(
            Some(&good_ts),
            Some(&sign(&SecretString::new("other"), NOW, BODY)),
            BODY,
            expect!["rejected: signature does not match the body and timestamp"],
        );
        // A signature made for another timestamp does not carry over.
        check(
            Some(&(NOW - 1).to_string()),
            Some(&good_sig),
            BODY,
            expect!["rejected: signature does not match the body and timestamp"],
        );
    }

    #[test]
    fn rejects_timestamps_outside_the_window_both_ways() {
        let old = NOW - 301;
        check(
            Some(&old.to_string()),
            Some(&sign(&secret(), old, BODY)),
            BODY,
            expect![
                "rejected: request timestamp is 301 s behind our clock, outside the 300 s window"
            ],
        );
        let future = NOW + 400;
        check(
            Some(&future.to_string()),
            Some(&sign(&secret(), future, BODY)),
            BODY,
            expect![
                "rejected: request timestamp is 400 s ahead of our clock, outside the 300 s window"
            ],
        );
        let edge = NOW - 300;
        check(
            Some(&edge.to_string()),
            Some(&sign(&secret(), edge, BODY)),
            BODY,
            expect!["accepted"],
        );
    }

    #[test]
    fn url_validation_matches_a_recomputed_hmac() {
        let response = url_validation_response(&secret(), "qgg8vlvZRS6UYooatFL8Aw");
        let mut mac = HmacSha256::new_from_slice(b"webhook-secret").expect("any key length");
        mac.update(b"qgg8vlvZRS6UYooatFL8Aw");
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(response["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
        assert_eq!(response["encryptedToken"], expected.as_str());
    }

    #[test]
    fn debug_redacts_the_secret_token() {
        let shown = format!("{:?}", verifier());
        assert!(!shown.contains("webhook-secret"), "{shown}");
    }
}
