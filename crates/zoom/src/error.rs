//! The client's error type and the stable names that ASL `Retry`/`Catch`
//! clauses match on. It owns the mapping from HTTP outcomes to variants; it
//! must not carry tokens or URLs with query strings in any variant (every
//! message here can end up in a log or a Step Functions history).

use std::time::Duration;

/// Everything the Zoom client can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404: the meeting, recording or user does not exist (or was deleted).
    #[error("Zoom: not found ({what}): {message}")]
    NotFound {
        what: String,
        code: Option<i64>,
        message: String,
    },
    /// 401 from the API after one token refresh, or the OAuth token endpoint
    /// refused the app's credentials.
    #[error("Zoom: unauthorized (HTTP {status}, code {code:?}): {message}")]
    Unauthorized {
        status: u16,
        code: Option<i64>,
        message: String,
    },
    /// Still 429 after the retry policy's attempts, or Zoom asked to wait
    /// longer than the policy allows (a daily limit).
    #[error("Zoom: rate limited after {attempts} attempt(s){}", retry_after.map(|d| format!("; Zoom asked to retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        attempts: u32,
        retry_after: Option<Duration>,
    },
    /// 5xx after the retry policy's attempts.
    #[error("Zoom: server error HTTP {status} after {attempts} attempt(s): {message}")]
    Server {
        status: u16,
        attempts: u32,
        message: String,
    },
    /// Connect failure, timeout or broken stream, after retries where the
    /// request was retryable. The URL is stripped from the source error.
    #[error("Zoom: transport error on {what}: {source}")]
    Transport {
        what: String,
        #[source]
        source: reqwest::Error,
    },
    /// Any other non-success answer, with Zoom's error code and message.
    #[error("Zoom: API error HTTP {status}, code {code:?}: {message}")]
    Api {
        status: u16,
        code: Option<i64>,
        message: String,
    },
    /// A download was refused for its credential (401/403, or Zoom's
    /// invalid-token JSON instead of the file): the webhook's download token
    /// has expired, so retry with [`crate::DownloadAuth::OAuth`].
    #[error("Zoom: download token rejected or expired (HTTP {status}): {message}")]
    DownloadTokenExpired { status: u16, message: String },
    /// A download answered with something that is not the file (an HTML
    /// sign-in page, an error JSON). No bytes of it are handed out.
    #[error("Zoom: download returned something that is not the file (HTTP {status}, content-type {content_type:?}): {message}")]
    NotAFile {
        status: u16,
        content_type: Option<String>,
        message: String,
    },
    /// 416: the requested byte range lies outside the file.
    #[error("Zoom: requested range {requested} not satisfiable (file size {total_size:?})")]
    RangeNotSatisfiable {
        requested: String,
        total_size: Option<u64>,
    },
    /// A ranged download answer whose `Content-Length` contradicts its own
    /// `Content-Range`, so its body cannot be the range it claims: a broken
    /// response, as a failing proxy or CDN edge sends. None of it is handed
    /// out; asking again usually gets a sound one, so it is transient.
    #[error("Zoom: download response contradicts itself: Content-Range bytes {range}, Content-Length {content_length}")]
    ContradictoryLength { range: String, content_length: u64 },
    /// A success response whose body or headers do not have the documented
    /// shape.
    #[error("Zoom: unexpected response from {what}: {message}")]
    BadResponse { what: String, message: String },
    /// The configuration cannot work (bad base URL, empty credentials).
    #[error("Zoom client configuration: {0}")]
    Config(String),
    /// A download URL, or a redirect, to a host downloads may not reach
    /// (see [`crate::DownloadHosts`]); nothing was sent to it.
    #[error("Zoom: download refused: {url_host} is not an allowed download host ({reason})")]
    ForbiddenHost { url_host: String, reason: String },
    /// The caller's arguments cannot make a request (a download URL that is
    /// not a URL).
    #[error("Zoom: invalid request: {0}")]
    InvalidRequest(String),
}

/// Result with the client's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A stable name for ASL `Retry`/`Catch` `ErrorEquals` and for metrics.
    pub fn error_name(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "Zoom.NotFound",
            Error::Unauthorized { .. } => "Zoom.Unauthorized",
            Error::RateLimited { .. } => "Zoom.RateLimited",
            Error::Server { .. } | Error::Transport { .. } | Error::ContradictoryLength { .. } => {
                "Zoom.Transient"
            }
            Error::Api { .. } => "Zoom.ApiError",
            Error::DownloadTokenExpired { .. } => "Zoom.DownloadTokenExpired",
            Error::NotAFile { .. } => "Zoom.NotAFile",
            Error::RangeNotSatisfiable { .. } => "Zoom.RangeNotSatisfiable",
            Error::BadResponse { .. } => "Zoom.BadResponse",
            Error::Config(_) => "Zoom.Config",
            Error::InvalidRequest(_) => "Zoom.InvalidRequest",
            Error::ForbiddenHost { .. } => "Zoom.ForbiddenDownloadHost",
        }
    }

    /// Whether trying the same operation again later may succeed. The client
    /// has already retried within its policy; this is for the workflow's
    /// outer retry.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::Server { .. }
                | Error::Transport { .. }
                | Error::ContradictoryLength { .. }
        )
    }

    pub(crate) fn transport(what: impl Into<String>, source: reqwest::Error) -> Self {
        // reqwest puts the full URL, query string included, into its
        // Display; strip it so a signed CDN URL never reaches a log.
        Error::Transport {
            what: what.into(),
            source: source.without_url(),
        }
    }
}

/// Zoom's error body: `{"code": 124, "message": "Invalid access token."}`
/// from the API, `{"status": false, "errorCode": 124, "errorMessage": ...}`
/// from the download service.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ZoomErrorBody {
    #[serde(default, alias = "errorCode")]
    pub code: Option<i64>,
    #[serde(default, alias = "errorMessage")]
    pub message: Option<String>,
}

/// Zoom's code for an invalid or expired access token.
pub(crate) const CODE_INVALID_ACCESS_TOKEN: i64 = 124;

impl ZoomErrorBody {
    /// Parses an error body leniently: anything that is not Zoom's error JSON
    /// becomes a message made of its first characters.
    pub(crate) fn from_bytes(body: &[u8]) -> Self {
        match serde_json::from_slice::<ZoomErrorBody>(body) {
            Ok(parsed) if parsed.code.is_some() || parsed.message.is_some() => parsed,
            _ => ZoomErrorBody {
                code: None,
                message: Some(snippet(body)),
            },
        }
    }

    pub(crate) fn message(&self) -> String {
        self.message.clone().unwrap_or_default()
    }
}

/// The first characters of a body, for an error message.
pub(crate) fn snippet(body: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX)]);
    let mut text: String = text.chars().filter(|c| !c.is_control()).collect();
    if body.len() > MAX {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable() {
        let names: Vec<&str> = [
            Error::NotFound {
                what: "x".into(),
                code: None,
                message: String::new(),
            },
            Error::RateLimited {
                attempts: 3,
                retry_after: None,
            },
            Error::Server {
                status: 503,
                attempts: 3,
                message: String::new(),
            },
            Error::DownloadTokenExpired {
                status: 401,
                message: String::new(),
            },
            Error::NotAFile {
                status: 200,
                content_type: None,
                message: String::new(),
            },
        ]
        .iter()
        .map(Error::error_name)
        .collect();
        assert_eq!(
            names,
            [
                "Zoom.NotFound",
                "Zoom.RateLimited",
                "Zoom.Transient",
                "Zoom.DownloadTokenExpired",
                "Zoom.NotAFile"
            ]
        );
    }

    #[test]
    fn rate_limited_message_mentions_the_wait() {
        let error = Error::RateLimited {
            attempts: 2,
            retry_after: Some(Duration::from_secs(86_400)),
        };
        assert_eq!(
            error.to_string(),
            "Zoom: rate limited after 2 attempt(s); Zoom asked to retry after 86400 s"
        );
    }

    #[test]
    fn error_bodies_parse_leniently() {
        let body = ZoomErrorBody::from_bytes(br#"{"code":124,"message":"Invalid access token."}"#);
        assert_eq!(body.code, Some(124));
        let html = ZoomErrorBody::from_bytes(b"<html>\n<body>sign in</body></html>");
        assert_eq!(html.code, None);
        assert_eq!(html.message(), "<html><body>sign in</body></html>");
    }
}
