//! The Zoom REST client: configuration, the one `reqwest::Client` setup, the
//! one request loop (OAuth bearer, token refresh on 401, bounded retries for
//! 429/5xx/transport failures), and the typed API calls zoomvault needs. It
//! must not log credentials or URLs with query strings (only method, path,
//! status and attempt go into tracing fields), and it must not buffer
//! recording files (that is `download`, which streams).

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use time::{Date, OffsetDateTime};

use crate::error::{Error, Result, ZoomErrorBody};
use crate::oauth::{AccessToken, OAuthErrorBody, TokenCache, TokenResponse};
use crate::path::{encode_meeting_id, encode_segment};
use crate::retry::{parse_retry_after, RetryPolicy};
use crate::secret::SecretString;
use crate::types::{
    MeetingInstance, MeetingRecording, MeetingsField, Page, Participant, ParticipantsField,
    PastMeeting, User, UsersField,
};

/// Zoom's production API base.
pub const ZOOM_API_BASE: &str = "https://api.zoom.us/v2";
/// Zoom's production OAuth base (the token endpoint is `/oauth/token` under it).
pub const ZOOM_OAUTH_BASE: &str = "https://zoom.us";

/// The longest date range `GET /users/{id}/recordings` accepts in one call,
/// both ends included. Zoom documents "a month"; 30 days is always within it.
pub const MAX_RECORDINGS_WINDOW_DAYS: i64 = 30;

/// How much of an error body is read for its message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Everything the client needs. `Debug` shows the client secret redacted.
#[derive(Debug, Clone)]
pub struct ZoomConfig {
    /// API base including the version, e.g. `https://api.zoom.us/v2`.
    pub api_base: String,
    /// OAuth base; the token endpoint is `{oauth_base}/oauth/token`.
    pub oauth_base: String,
    pub account_id: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub retry: RetryPolicy,
    pub user_agent: String,
    /// TCP + TLS connect limit for every request.
    pub connect_timeout: Duration,
    /// Whole-request limit for API calls (not downloads, whose length is
    /// unbounded; they are limited by `read_timeout` instead).
    pub request_timeout: Duration,
    /// Longest silence between two reads of a response body.
    pub read_timeout: Duration,
    /// Replace the access token this long before Zoom says it expires (never
    /// more than half its lifetime).
    pub token_refresh_margin: Duration,
    /// `page_size` for list endpoints; 300 is the most Zoom serves for
    /// recordings and participants.
    pub page_size: u32,
    /// Where recording files may be downloaded from (and redirected to):
    /// Zoom's domains over https by default. The API's own host is added.
    pub download_hosts: crate::DownloadHosts,
}

impl ZoomConfig {
    /// Production Zoom endpoints and default policies for one
    /// Server-to-Server OAuth app.
    pub fn new(
        account_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Self {
        Self {
            api_base: ZOOM_API_BASE.to_owned(),
            oauth_base: ZOOM_OAUTH_BASE.to_owned(),
            account_id: account_id.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            retry: RetryPolicy::default(),
            user_agent: concat!("zoomvault/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            token_refresh_margin: Duration::from_secs(60),
            page_size: 300,
            download_hosts: crate::DownloadHosts::default(),
        }
    }
}

/// A Zoom API client. Cheap to clone; clones share the HTTP connection pool
/// and the access token.
#[derive(Clone, Debug)]
pub struct ZoomClient {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    api_base: String,
    token_url: Url,
    account_id: String,
    client_id: String,
    client_secret: SecretString,
    pub(crate) retry: RetryPolicy,
    request_timeout: Duration,
    token_refresh_margin: Duration,
    page_size: u32,
    pub(crate) download_hosts: crate::DownloadHosts,
    tokens: TokenCache,
}

/// How one request authenticates.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RequestAuth<'a> {
    /// The cached Server-to-Server token; refreshed once on a 401.
    OAuth,
    /// A fixed bearer token (a webhook's download token); a 401 is final.
    Bearer(&'a SecretString),
    /// No Authorization header (a download hop to another origin).
    None,
}

impl ZoomClient {
    pub fn new(config: ZoomConfig) -> Result<Self> {
        let api_base = config.api_base.trim_end_matches('/').to_owned();
        let api_url = Url::parse(&api_base)
            .map_err(|e| Error::Config(format!("api_base {api_base:?} is not a URL: {e}")))?;
        let token_url = Url::parse(&format!(
            "{}/oauth/token",
            config.oauth_base.trim_end_matches('/')
        ))
        .map_err(|e| {
            Error::Config(format!(
                "oauth_base {:?} is not a URL: {e}",
                config.oauth_base
            ))
        })?;
        for (name, value) in [
            ("account_id", config.account_id.as_str()),
            ("client_id", config.client_id.as_str()),
        ] {
            if value.is_empty() {
                return Err(Error::Config(format!("{name} is empty")));
            }
        }
        if config.client_secret.is_empty() {
            return Err(Error::Config("client_secret is empty".into()));
        }
        if config.page_size == 0 {
            return Err(Error::Config("page_size must be at least 1".into()));
        }
        if config.retry.max_attempts == 0 {
            return Err(Error::Config(
                "retry.max_attempts must be at least 1".into(),
            ));
        }

        // Redirects are followed by `download` itself, hop by hop, so it can
        // decide per hop whether the bearer token may go along (see the
        // `download` module). The REST API does not redirect.
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;

        Ok(Self {
            inner: Arc::new(Inner {
                http,
                api_base,
                token_url,
                account_id: config.account_id,
                client_id: config.client_id,
                client_secret: config.client_secret,
                retry: config.retry,
                request_timeout: config.request_timeout,
                token_refresh_margin: config.token_refresh_margin,
                page_size: config.page_size,
                download_hosts: config.download_hosts.with_host_of(&api_url),
                tokens: TokenCache::default(),
            }),
        })
    }

    /// `GET /past_meetings/{meetingUUID}`: the instance's times, host and
    /// participant count.
    pub async fn past_meeting(&self, meeting_uuid: &str) -> Result<PastMeeting> {
        let path = format!("past_meetings/{}", encode_meeting_id(meeting_uuid));
        self.get_json("past meeting", &path, &[]).await
    }

    /// `GET /past_meetings/{meetingId}/instances`: every ended instance of
    /// a meeting number (a recurring meeting has many), in Zoom's order.
    pub async fn past_meeting_instances(&self, meeting_id: u64) -> Result<Vec<MeetingInstance>> {
        let path = format!("past_meetings/{meeting_id}/instances");
        let instances: crate::types::MeetingInstances =
            self.get_json("past meeting instances", &path, &[]).await?;
        Ok(instances.meetings)
    }

    /// `GET /past_meetings/{meetingUUID}/participants`, every page.
    pub async fn past_meeting_participants(&self, meeting_uuid: &str) -> Result<Vec<Participant>> {
        let path = format!(
            "past_meetings/{}/participants",
            encode_meeting_id(meeting_uuid)
        );
        self.get_all_pages(
            "past meeting participants",
            &path,
            Vec::new(),
            |f: ParticipantsField| f.participants,
        )
        .await
    }

    /// `GET /meetings/{meetingId}/recordings`: one instance's recording when
    /// given its UUID, the latest instance's when given the meeting number.
    pub async fn meeting_recordings(&self, meeting_uuid_or_id: &str) -> Result<MeetingRecording> {
        let path = format!(
            "meetings/{}/recordings",
            encode_meeting_id(meeting_uuid_or_id)
        );
        self.get_json("meeting recordings", &path, &[]).await
    }

    /// `DELETE /meetings/{meetingUUID}/recordings?action=trash`: moves every
    /// file of the instance to Zoom's trash (recoverable for 30 days). A
    /// repeated call answers `Error::NotFound`, which an idempotent caller
    /// treats as already done.
    pub async fn trash_meeting_recordings(&self, meeting_uuid: &str) -> Result<()> {
        let path = format!("meetings/{}/recordings", encode_meeting_id(meeting_uuid));
        self.send_expecting_success(
            "trash meeting recordings",
            &path,
            |request| request.query(&[("action", "trash")]),
            Method::DELETE,
        )
        .await
    }

    /// `PUT /meetings/{meetingUUID}/recordings/status` with
    /// `{"action": "recover"}`: takes the instance's files out of Zoom's
    /// trash, so they can be fetched again (a forced re-ingest of a
    /// recording already archived and trashed).
    pub async fn recover_meeting_recordings(&self, meeting_uuid: &str) -> Result<()> {
        let path = format!(
            "meetings/{}/recordings/status",
            encode_meeting_id(meeting_uuid)
        );
        self.send_expecting_success(
            "recover meeting recordings",
            &path,
            |request| request.json(&serde_json::json!({ "action": "recover" })),
            Method::PUT,
        )
        .await
    }

    /// A `method` request to `path` with OAuth, shaped by `shape`, whose
    /// answer is only a success status (Zoom's 204s).
    async fn send_expecting_success(
        &self,
        what: &str,
        path: &str,
        shape: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        method: Method,
    ) -> Result<()> {
        let url = self.api_url(path)?;
        let response = self
            .execute(what, RequestAuth::OAuth, || {
                shape(
                    self.inner
                        .http
                        .request(method.clone(), url.clone())
                        .timeout(self.inner.request_timeout),
                )
            })
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(api_error(what, response).await)
        }
    }

    /// `GET /users/{userId}/recordings` for every day in `from..=to` (UTC
    /// dates): the range is split into windows of at most
    /// [`MAX_RECORDINGS_WINDOW_DAYS`] and each window's pages are followed.
    /// An empty range (`from` after `to`) lists nothing.
    pub async fn list_user_recordings(
        &self,
        user_id: &str,
        from: Date,
        to: Date,
    ) -> Result<Vec<MeetingRecording>> {
        let path = format!("users/{}/recordings", encode_segment(user_id));
        let mut recordings: Vec<MeetingRecording> = Vec::new();
        // Windows do not overlap, but Zoom's idea of a meeting's date need
        // not be UTC's; a meeting listed in two windows is kept once.
        let mut seen = std::collections::HashSet::new();
        for (window_from, window_to) in date_windows(from, to, MAX_RECORDINGS_WINDOW_DAYS) {
            let query = vec![
                ("from", format_date(window_from)),
                ("to", format_date(window_to)),
            ];
            let window = self
                .get_all_pages("user recordings", &path, query, |f: MeetingsField| {
                    f.meetings
                })
                .await?;
            recordings.extend(window.into_iter().filter(|r| seen.insert(r.uuid.clone())));
        }
        Ok(recordings)
    }

    /// `GET /users`, every page (active users, Zoom's default).
    pub async fn list_users(&self) -> Result<Vec<User>> {
        self.get_all_pages("users", "users", Vec::new(), |f: UsersField| f.users)
            .await
    }

    /// A fresh (possibly cached) Server-to-Server access token.
    pub(crate) async fn access_token(&self) -> Result<AccessToken> {
        self.inner
            .tokens
            .get_or_fetch(self.inner.token_refresh_margin, || self.fetch_token())
            .await
    }

    async fn fetch_token(&self) -> Result<TokenResponse> {
        let what = "OAuth token";
        let inner = &self.inner;
        let response = self
            .send_retrying(what, || {
                inner
                    .http
                    .post(inner.token_url.clone())
                    .query(&[
                        ("grant_type", "account_credentials"),
                        ("account_id", inner.account_id.as_str()),
                    ])
                    .basic_auth(&inner.client_id, Some(inner.client_secret.expose()))
                    .timeout(inner.request_timeout)
            })
            .await?;
        let status = response.status();
        if status.is_success() {
            let body = response
                .bytes()
                .await
                .map_err(|e| Error::transport(what, e))?;
            return serde_json::from_slice(&body).map_err(|e| Error::BadResponse {
                what: what.into(),
                message: e.to_string(),
            });
        }
        let body = read_capped(response, ERROR_BODY_LIMIT).await;
        let message = OAuthErrorBody::describe(&body);
        Err(match status {
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Error::Unauthorized {
                    status: status.as_u16(),
                    code: None,
                    message,
                }
            }
            _ => Error::Api {
                status: status.as_u16(),
                code: None,
                message,
            },
        })
    }

    fn api_url(&self, path: &str) -> Result<Url> {
        let text = format!("{}/{}", self.inner.api_base, path);
        Url::parse(&text).map_err(|e| Error::Config(format!("cannot build URL for {path}: {e}")))
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let url = self.api_url(path)?;
        let response = self
            .execute(what, RequestAuth::OAuth, || {
                self.inner
                    .http
                    .get(url.clone())
                    .query(query)
                    .timeout(self.inner.request_timeout)
            })
            .await?;
        if !response.status().is_success() {
            return Err(api_error(what, response).await);
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::transport(what, e))?;
        serde_json::from_slice(&body).map_err(|e| Error::BadResponse {
            what: what.into(),
            message: e.to_string(),
        })
    }

    /// Follows `next_page_token` until Zoom gives none, with the same query
    /// on every page as Zoom requires.
    async fn get_all_pages<F, T>(
        &self,
        what: &str,
        path: &str,
        base_query: Vec<(&str, String)>,
        items: impl Fn(F) -> Vec<T>,
    ) -> Result<Vec<T>>
    where
        F: DeserializeOwned,
    {
        let mut all = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let mut query = base_query.clone();
            query.push(("page_size", self.inner.page_size.to_string()));
            if let Some(token) = &next_token {
                query.push(("next_page_token", token.clone()));
            }
            let page: Page<F> = self.get_json(what, path, &query).await?;
            let following = page.next_token().map(str::to_owned);
            all.extend(items(page.items));
            match following {
                // A server that hands back the token it was given would loop
                // forever; refuse instead.
                Some(token) if next_token.as_deref() == Some(token.as_str()) => {
                    return Err(Error::BadResponse {
                        what: what.into(),
                        message: "next_page_token did not advance".into(),
                    });
                }
                Some(token) => next_token = Some(token),
                None => return Ok(all),
            }
        }
    }

    /// Sends the request `build` makes with the given credential. With
    /// OAuth, a 401 invalidates the token and the request is sent once more
    /// with a new one (Zoom answers an expired token with 401, code 124).
    /// Retries are [`ZoomClient::send_retrying`]'s.
    pub(crate) async fn execute(
        &self,
        what: &str,
        auth: RequestAuth<'_>,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response> {
        let mut refreshed = false;
        loop {
            let response = match auth {
                RequestAuth::OAuth => {
                    let token = self.access_token().await?;
                    let response = self
                        .send_retrying(what, || build().bearer_auth(token.secret.expose()))
                        .await?;
                    if response.status() == StatusCode::UNAUTHORIZED && !refreshed {
                        refreshed = true;
                        self.inner.tokens.invalidate(&token).await;
                        tracing::info!(what, "Zoom rejected the access token; fetching a new one");
                        continue;
                    }
                    response
                }
                RequestAuth::Bearer(secret) => {
                    self.send_retrying(what, || build().bearer_auth(secret.expose()))
                        .await?
                }
                RequestAuth::None => self.send_retrying(what, &build).await?,
            };
            return Ok(response);
        }
    }

    /// Sends the request `build` makes, retrying per the policy:
    /// - 429 and 5xx: wait for `Retry-After` if given (seconds or HTTP date),
    ///   else exponential backoff with jitter, up to `max_attempts`; a
    ///   `Retry-After` longer than `max_retry_after` ends the retries at once.
    /// - connect/timeout/other transport failures: backoff and retry. Every
    ///   request this crate makes is idempotent, so a retry is safe.
    ///
    /// Any other response (success, 3xx, 4xx) is returned for the caller to
    /// interpret.
    async fn send_retrying(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response> {
        let policy = &self.inner.retry;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let request = build().build().map_err(|e| {
                Error::InvalidRequest(format!("cannot build {what} request: {}", e.without_url()))
            })?;
            let method = request.method().clone();
            let path = request.url().path().to_owned();

            let response = match self.inner.http.execute(request).await {
                Ok(response) => response,
                Err(error) => {
                    let error = error.without_url();
                    if attempt < policy.max_attempts {
                        let wait = policy.backoff(attempt);
                        tracing::warn!(what, %method, path, attempt, wait_ms = millis(wait), error = %error, "Zoom request failed; retrying");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(Error::transport(what, error));
                }
            };
            let status = response.status();
            tracing::debug!(what, %method, path, attempt, status = status.as_u16(), "Zoom response");

            let throttled = status == StatusCode::TOO_MANY_REQUESTS;
            if throttled || status.is_server_error() {
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, OffsetDateTime::now_utc()));
                let wait = retry_after.unwrap_or_else(|| policy.backoff(attempt));
                if attempt < policy.max_attempts && wait <= policy.max_retry_after {
                    tracing::warn!(what, %method, path, attempt, status = status.as_u16(), wait_ms = millis(wait), "Zoom asked us to back off; retrying");
                    drop(response);
                    tokio::time::sleep(wait).await;
                    continue;
                }
                if throttled {
                    return Err(Error::RateLimited {
                        attempts: attempt,
                        retry_after,
                    });
                }
                let body = read_capped(response, ERROR_BODY_LIMIT).await;
                return Err(Error::Server {
                    status: status.as_u16(),
                    attempts: attempt,
                    message: ZoomErrorBody::from_bytes(&body).message(),
                });
            }
            return Ok(response);
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Maps a non-success API response to an error, with Zoom's code and message.
pub(crate) async fn api_error(what: &str, response: Response) -> Error {
    let status = response.status();
    let body = read_capped(response, ERROR_BODY_LIMIT).await;
    let parsed = ZoomErrorBody::from_bytes(&body);
    match status {
        StatusCode::NOT_FOUND => Error::NotFound {
            what: what.into(),
            code: parsed.code,
            message: parsed.message(),
        },
        StatusCode::UNAUTHORIZED => Error::Unauthorized {
            status: status.as_u16(),
            code: parsed.code,
            message: parsed.message(),
        },
        _ => Error::Api {
            status: status.as_u16(),
            code: parsed.code,
            message: parsed.message(),
        },
    }
}

/// Reads at most `limit` bytes of a body; errors end the read early because
/// the body only feeds an error message.
pub(crate) async fn read_capped(mut response: Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    body
}

/// The same day of the next month, or that month's last day when it is
/// shorter (January 31st -> February 28th or 29th).
fn one_month_after(date: Date) -> Date {
    let (year, month) = match date.month() {
        time::Month::December => (date.year() + 1, time::Month::January),
        month => (date.year(), month.next()),
    };
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(date)
}

/// `YYYY-MM-DD`, Zoom's date parameter format.
pub(crate) fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Splits `from..=to` into consecutive inclusive windows of at most
/// `max_days` days each, and never past one calendar month after their
/// start: Zoom refuses a range longer than "a month" ("The maximum range
/// can be a month."), and 30 days from January 31st of a common year is
/// past February's end.
pub fn date_windows(from: Date, to: Date, max_days: i64) -> Vec<(Date, Date)> {
    let span = time::Duration::days(max_days.max(1) - 1);
    let mut windows = Vec::new();
    let mut start = from;
    while start <= to {
        let end = match start.checked_add(span) {
            Some(end) if end < to => end.min(one_month_after(start)),
            _ => to.min(one_month_after(start)),
        };
        windows.push((start, end));
        match end.next_day() {
            Some(next) => start = next,
            None => break,
        }
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn windows_cover_the_range_without_gaps_or_overlap() {
        let shown = |from, to| {
            date_windows(from, to, 30)
                .into_iter()
                .map(|(a, b)| format!("{}..{}", format_date(a), format_date(b)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            shown(date!(2024 - 01 - 01), date!(2024 - 03 - 16)),
            "2024-01-01..2024-01-30 2024-01-31..2024-02-29 2024-03-01..2024-03-16"
        );
        assert_eq!(
            shown(date!(2024 - 01 - 01), date!(2024 - 01 - 30)),
            "2024-01-01..2024-01-30"
        );
        assert_eq!(
            shown(date!(2024 - 01 - 05), date!(2024 - 01 - 05)),
            "2024-01-05..2024-01-05"
        );
        assert_eq!(shown(date!(2024 - 01 - 05), date!(2024 - 01 - 04)), "");
        // A common year's February: 30 days from January 31st would be
        // March 1st, more than the month Zoom allows.
        assert_eq!(
            shown(date!(2026 - 01 - 31), date!(2026 - 03 - 31)),
            "2026-01-31..2026-02-28 2026-03-01..2026-03-30 2026-03-31..2026-03-31"
        );
    }

    /// Callers spawn these calls onto multi-threaded runtimes, so every
    /// public future must be `Send`; this fails to compile otherwise.
    #[allow(dead_code)]
    fn public_futures_are_send(client: &ZoomClient) {
        fn send<T: Send>(_: T) {}
        let day = date!(2024 - 01 - 01);
        send(client.list_users());
        send(client.list_user_recordings("me", day, day));
        send(client.meeting_recordings("1"));
        send(client.past_meeting("1"));
        send(client.past_meeting_participants("1"));
        send(client.past_meeting_instances(1));
        send(client.recover_meeting_recordings("1"));
        send(client.trash_meeting_recordings("1"));
        send(client.download("", &crate::DownloadAuth::OAuth, None));
        send(client.probe_range("", &crate::DownloadAuth::OAuth));
    }

    #[test]
    fn config_debug_redacts_the_secret() {
        let config = ZoomConfig::new("acc", "cid", "very-secret-value");
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret-value"), "{shown}");
        assert!(shown.contains("cid"));
    }

    #[test]
    fn bad_configuration_is_refused() {
        let mut config = ZoomConfig::new("acc", "cid", "secret");
        config.api_base = "not a url".into();
        assert_eq!(
            ZoomClient::new(config)
                .map(|_| ())
                .map_err(|e| e.error_name()),
            Err("Zoom.Config")
        );
        let config = ZoomConfig::new("acc", "cid", "");
        assert!(ZoomClient::new(config).is_err());
    }
}
