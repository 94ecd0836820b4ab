//! Server-to-Server OAuth: fetching an account-credentials access token and
//! caching it until shortly before it expires. It owns the token cache and
//! its one lock; it must not log tokens or the client secret, and it must not
//! decide when a request failed for auth reasons (the client tells it to
//! [`TokenCache::invalidate`] after a 401).
//!
//! Zoom: `POST {oauth_base}/oauth/token?grant_type=account_credentials&account_id=…`
//! with HTTP Basic `client_id:client_secret`; the answer is
//! `{"access_token", "token_type": "bearer", "expires_in": 3599, "scope", "api_url"}`.
//! There is no refresh token: refreshing is asking again.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::secret::SecretString;

/// One access token and which fetch produced it, so a 401 invalidates only
/// the token that failed and not a newer one another task already fetched.
#[derive(Clone)]
pub(crate) struct AccessToken {
    pub(crate) secret: SecretString,
    pub(crate) generation: u64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &self.secret)
            .field("generation", &self.generation)
            .finish()
    }
}

#[derive(Debug)]
struct Cached {
    token: AccessToken,
    refresh_at: Instant,
}

#[derive(Debug, Default)]
struct State {
    cached: Option<Cached>,
    generation: u64,
}

/// The cached token behind a tokio `Mutex`. The lock is held across the
/// token request on purpose: concurrent callers that find the token stale
/// queue behind one refresh and then share its result, instead of each
/// asking Zoom for a token of its own.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    state: Mutex<State>,
}

/// The token endpoint's answer.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
}

/// Zoom's OAuth error shape: `{"reason": "...", "error": "invalid_client"}`.
#[derive(Deserialize, Default)]
pub(crate) struct OAuthErrorBody {
    #[serde(default)]
    pub(crate) reason: Option<String>,
    #[serde(default)]
    pub(crate) error: Option<String>,
}

impl OAuthErrorBody {
    pub(crate) fn describe(body: &[u8]) -> String {
        let parsed: OAuthErrorBody = serde_json::from_slice(body).unwrap_or_default();
        match (parsed.error, parsed.reason) {
            (Some(error), Some(reason)) => format!("{error}: {reason}"),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => crate::error::snippet(body),
        }
    }
}

/// When a token that lives `expires_in` should be replaced: `margin` early,
/// but never earlier than half its life, so a short-lived token (a simulator,
/// or a clock-skewed server) is still reused rather than fetched every call.
pub(crate) fn refresh_after(expires_in: Duration, margin: Duration) -> Duration {
    expires_in.saturating_sub(margin.min(expires_in / 2))
}

impl TokenCache {
    /// The cached token if fresh, else the result of `fetch`, cached.
    pub(crate) async fn get_or_fetch<F, Fut>(
        &self,
        margin: Duration,
        fetch: F,
    ) -> Result<AccessToken>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<TokenResponse>>,
    {
        let mut state = self.state.lock().await;
        if let Some(cached) = &state.cached {
            if Instant::now() < cached.refresh_at {
                return Ok(cached.token.clone());
            }
        }
        let fetched_at = Instant::now();
        let response = fetch().await?;
        if response.access_token.is_empty() {
            return Err(Error::BadResponse {
                what: "OAuth token".into(),
                message: "empty access_token".into(),
            });
        }
        // Zoom documents one hour; assume that if the field is missing.
        let expires_in = Duration::from_secs(response.expires_in.unwrap_or(3600));
        state.generation += 1;
        let token = AccessToken {
            secret: SecretString::new(response.access_token),
            generation: state.generation,
        };
        state.cached = Some(Cached {
            token: token.clone(),
            refresh_at: fetched_at + refresh_after(expires_in, margin),
        });
        tracing::debug!(
            generation = token.generation,
            expires_in_s = expires_in.as_secs(),
            "fetched Zoom access token"
        );
        Ok(token)
    }

    /// Forgets `token` if it is still the cached one (Zoom rejected it).
    pub(crate) async fn invalidate(&self, token: &AccessToken) {
        let mut state = self.state.lock().await;
        if state
            .cached
            .as_ref()
            .is_some_and(|cached| cached.token.generation == token.generation)
        {
            state.cached = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_margin_is_at_most_half_the_lifetime() {
        let minute = Duration::from_secs(60);
        assert_eq!(
            refresh_after(Duration::from_secs(3599), minute),
            Duration::from_secs(3539)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(10), minute),
            Duration::from_secs(5)
        );
        assert_eq!(refresh_after(Duration::ZERO, minute), Duration::ZERO);
    }

    #[test]
    fn oauth_errors_are_described() {
        assert_eq!(
            OAuthErrorBody::describe(
                br#"{"reason":"Invalid client_id or client_secret","error":"invalid_client"}"#
            ),
            "invalid_client: Invalid client_id or client_secret"
        );
        assert_eq!(OAuthErrorBody::describe(b"nope"), "nope");
    }
}
