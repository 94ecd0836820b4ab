//! Streaming recording-file downloads: authentication, Zoom's redirect to its
//! CDN, byte ranges and telling a file from an error page. It owns the
//! decision "are these bytes the file?"; it must never buffer a file (only a
//! small prefix is held while sniffing for an error body) and never hand out
//! bytes of an error or sign-in page as file content.
//!
//! **Auth through the redirect.** Zoom's `download_url` answers with a 302 to
//! a pre-signed CDN URL. The credential goes in `Authorization: Bearer`
//! (Zoom has refused `?access_token=` for API tokens and download tokens since
//! February 2023). Redirects are followed here, hop by hop, rather than by
//! reqwest: the bearer token is sent to every hop on the same origin (scheme,
//! host, port) as the `download_url`, and never to another origin, whose URL
//! Zoom has already signed. That keeps the token off third-party hosts while
//! still working when the CDN hop stays on Zoom's own origin (as on the
//! simulator); the `Range` header goes to every hop.
//!
//! **Only allowed hosts.** The URL and every redirect are checked against
//! the client's [`crate::DownloadHosts`] before they are requested: https to
//! Zoom's domains by default. A URL from a forged webhook or step input is
//! refused without a request.

use std::pin::Pin;

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE};
use reqwest::{Response, StatusCode, Url};

use crate::client::{api_error, read_capped, RequestAuth, ZoomClient};
use crate::error::{snippet, Error, Result, ZoomErrorBody, CODE_INVALID_ACCESS_TOKEN};
use crate::secret::SecretString;

/// How many redirects one download follows before giving up.
const MAX_REDIRECTS: usize = 5;

/// A body at most this long that looks like JSON is read whole and checked
/// for Zoom's error shape before any of it is handed out.
const SNIFF_LIMIT: usize = 16 * 1024;

/// Which credential a download uses.
#[derive(Debug, Clone)]
pub enum DownloadAuth {
    /// The `download_token` from a `recording.completed` event (valid about
    /// 24 hours).
    DownloadToken(SecretString),
    /// The client's Server-to-Server access token: works for any recording
    /// the app may read, at any time, so it is the fallback once a
    /// download token has expired.
    OAuth,
}

/// An inclusive byte range, `bytes=first-last` in HTTP terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    first: u64,
    last: u64,
}

impl ByteRange {
    /// `first..=last`; `None` if `first > last`.
    pub fn new(first: u64, last: u64) -> Option<Self> {
        (first <= last).then_some(Self { first, last })
    }

    /// `len` bytes starting at `offset`; `None` if `len` is zero or the end
    /// overflows.
    pub fn from_offset_len(offset: u64, len: u64) -> Option<Self> {
        let last = offset.checked_add(len.checked_sub(1)?)?;
        Self::new(offset, last)
    }

    pub fn first(&self) -> u64 {
        self.first
    }

    pub fn last(&self) -> u64 {
        self.last
    }

    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Never true: a range holds at least one byte. Present for clippy's
    /// `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    fn header_value(&self) -> String {
        format!("bytes={}-{}", self.first, self.last)
    }
}

impl std::fmt::Display for ByteRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// Whether the server served the requested range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadStatus {
    /// 206 with a `Content-Range` matching the request: the stream holds
    /// exactly the range (clipped at the end of the file, as HTTP allows).
    RangeHonoured,
    /// 200: the stream holds the whole file, because no range was asked for
    /// or the server ignores `Range`. A caller that wanted parts falls back
    /// to this one stream and cuts it up itself.
    WholeFile,
}

/// A started download. Dropping `stream` closes the connection.
pub struct Download {
    pub status: DownloadStatus,
    /// The whole file's size, from `Content-Range` (206) or `Content-Length`
    /// (200), when the server said.
    pub total_size: Option<u64>,
    /// Bytes this response's stream will yield, when the server said.
    pub content_length: Option<u64>,
    pub content_type: Option<String>,
    /// The bytes, as they arrive. An error mid-stream is `Error::Transport`.
    pub stream: Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("status", &self.status)
            .field("total_size", &self.total_size)
            .field("content_length", &self.content_length)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// What one `bytes=0-0` request says about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeProbe {
    /// The server answers ranged GETs with 206, so parts can be fetched in
    /// parallel.
    pub range_supported: bool,
    pub total_size: Option<u64>,
    pub content_type: Option<String>,
}

impl ZoomClient {
    /// Starts downloading `url` (a recording file's `download_url`), the
    /// whole file or `range`. Retries 429/5xx/connect failures for the
    /// initial response per the client's policy; the body is streamed, never
    /// buffered.
    pub async fn download(
        &self,
        url: &str,
        auth: &DownloadAuth,
        range: Option<ByteRange>,
    ) -> Result<Download> {
        let mut current = Url::parse(url)
            .map_err(|e| Error::InvalidRequest(format!("download URL is not a URL: {e}")))?;
        let origin = current.origin();
        for hop in 0..=MAX_REDIRECTS {
            if !self.inner.download_hosts.allows(&current) {
                return Err(Error::ForbiddenHost {
                    url_host: format!(
                        "{}://{}",
                        current.scheme(),
                        current.host_str().unwrap_or("(no host)")
                    ),
                    reason: if hop == 0 {
                        "the download URL".into()
                    } else {
                        format!("redirect {hop}")
                    },
                });
            }
            let same_origin = current.origin() == origin;
            let request_auth = match (same_origin, auth) {
                (false, _) => RequestAuth::None,
                (true, DownloadAuth::DownloadToken(token)) => RequestAuth::Bearer(token),
                (true, DownloadAuth::OAuth) => RequestAuth::OAuth,
            };
            let response = self
                .execute("download", request_auth, || {
                    let request = self.inner.http.get(current.clone());
                    match range {
                        Some(range) => request.header(RANGE, range.header_value()),
                        None => request,
                    }
                })
                .await?;
            if response.status().is_redirection() {
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|location| current.join(location).ok())
                    .ok_or_else(|| Error::BadResponse {
                        what: "download".into(),
                        message: format!(
                            "HTTP {} without a usable Location",
                            response.status().as_u16()
                        ),
                    })?;
                // Host and path only: the query of a CDN URL is its signature.
                tracing::debug!(
                    from_path = current.path(),
                    to_host = next.host_str().unwrap_or(""),
                    to_path = next.path(),
                    carries_token = next.origin() == origin,
                    "following download redirect"
                );
                current = next;
                continue;
            }
            return interpret(response, auth, range).await;
        }
        Err(Error::BadResponse {
            what: "download".into(),
            message: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// Asks for the first byte only, to learn once per file whether ranged
    /// parts will work and how big the file is. An empty file (which no
    /// range can address) reports size 0.
    pub async fn probe_range(&self, url: &str, auth: &DownloadAuth) -> Result<RangeProbe> {
        let first_byte = ByteRange { first: 0, last: 0 };
        match self.download(url, auth, Some(first_byte)).await {
            Ok(download) => Ok(RangeProbe {
                range_supported: download.status == DownloadStatus::RangeHonoured,
                total_size: download.total_size,
                content_type: download.content_type,
            }),
            Err(Error::RangeNotSatisfiable {
                total_size: Some(0),
                ..
            }) => Ok(RangeProbe {
                range_supported: true,
                total_size: Some(0),
                content_type: None,
            }),
            Err(error) => Err(error),
        }
    }
}

/// Turns the final (non-redirect) response into a `Download` or an error.
async fn interpret(
    response: Response,
    auth: &DownloadAuth,
    range: Option<ByteRange>,
) -> Result<Download> {
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_length = response.content_length();
    let content_range = response
        .headers()
        .get(CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    match status {
        StatusCode::OK | StatusCode::PARTIAL_CONTENT => {}
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            let body = read_capped(response, SNIFF_LIMIT).await;
            let parsed = ZoomErrorBody::from_bytes(&body);
            return Err(credential_refused(
                auth,
                status,
                parsed.code,
                parsed.message(),
            ));
        }
        StatusCode::RANGE_NOT_SATISFIABLE => {
            return Err(Error::RangeNotSatisfiable {
                requested: range.map(|r| r.to_string()).unwrap_or_default(),
                total_size: content_range.as_deref().and_then(unsatisfied_total),
            });
        }
        _ if status.is_success() => {
            return Err(Error::NotAFile {
                status: status.as_u16(),
                content_type,
                message: "success status without a body".into(),
            });
        }
        _ => return Err(api_error("download", response).await),
    }

    let media_type = content_type.as_deref().map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    if media_type.as_deref() == Some("text/html") {
        // Zoom answers a download it will not serve with its sign-in page
        // and status 200. With a download token that means the token no
        // longer opens the file.
        let body = read_capped(response, SNIFF_LIMIT).await;
        let message = format!("HTML page instead of the file: {}", snippet(&body));
        return Err(match auth {
            DownloadAuth::DownloadToken(_) => Error::DownloadTokenExpired {
                status: status.as_u16(),
                message,
            },
            DownloadAuth::OAuth => Error::NotAFile {
                status: status.as_u16(),
                content_type,
                message,
            },
        });
    }
    let is_json = media_type
        .as_deref()
        .is_some_and(|mt| mt == "application/json" || mt.ends_with("+json"));

    let (download_status, total_size) = match (status, range) {
        (StatusCode::PARTIAL_CONTENT, Some(requested)) => {
            let served = content_range
                .as_deref()
                .and_then(parse_content_range)
                .ok_or_else(|| Error::BadResponse {
                    what: "download".into(),
                    message: format!("206 with unusable Content-Range {content_range:?}"),
                })?;
            check_served_range(requested, &served, content_length)?;
            (DownloadStatus::RangeHonoured, served.total)
        }
        (StatusCode::PARTIAL_CONTENT, None) => {
            return Err(Error::BadResponse {
                what: "download".into(),
                message: "206 for a request without Range".into(),
            });
        }
        _ => (DownloadStatus::WholeFile, content_length),
    };

    let mut body = response
        .bytes_stream()
        .map(|chunk| chunk.map_err(|e| Error::transport("download body", e)))
        .boxed();

    // A small body that may be JSON is read whole first: Zoom's error JSON
    // ("Invalid access token", "File does not exist") must not be handed out
    // as file bytes. A larger body, or one that does not start like JSON,
    // streams through untouched apart from the first chunk being peeked.
    let mut prefix: Vec<Bytes> = Vec::new();
    let small_enough = content_length.is_none_or(|n| n <= SNIFF_LIMIT as u64);
    if small_enough {
        let mut held = 0usize;
        let mut ended = false;
        while held <= SNIFF_LIMIT {
            match body.next().await {
                Some(chunk) => {
                    let chunk = chunk?;
                    held += chunk.len();
                    let first = prefix.is_empty();
                    let starts_like_json = first && starts_with_brace(&chunk);
                    prefix.push(chunk);
                    if first && !is_json && !starts_like_json {
                        break;
                    }
                }
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if ended {
            let whole: Vec<u8> = prefix.iter().flat_map(|c| c.iter().copied()).collect();
            if let Some(error) = zoom_error_instead_of_file(&whole, status, auth, &content_type) {
                return Err(error);
            }
        }
    }

    tracing::debug!(
        status = status.as_u16(),
        ranged = download_status == DownloadStatus::RangeHonoured,
        content_length,
        total_size,
        "download started"
    );
    let stream = stream::iter(prefix.into_iter().map(Ok)).chain(body).boxed();
    Ok(Download {
        status: download_status,
        total_size,
        content_length,
        content_type,
        stream,
    })
}

fn credential_refused(
    auth: &DownloadAuth,
    status: StatusCode,
    code: Option<i64>,
    message: String,
) -> Error {
    match auth {
        DownloadAuth::DownloadToken(_) => Error::DownloadTokenExpired {
            status: status.as_u16(),
            message,
        },
        DownloadAuth::OAuth => Error::Unauthorized {
            status: status.as_u16(),
            code,
            message,
        },
    }
}

fn starts_with_brace(chunk: &[u8]) -> bool {
    chunk
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// Recognises Zoom's error JSON, in either of the shapes its API and its
/// download service use: `{"code": 124, "message": "..."}` or
/// `{"status": false, "errorCode": 401, "errorMessage": "..."}`. A JSON file
/// (a TIMELINE) has other keys or nested values and is not mistaken for one.
fn zoom_error_instead_of_file(
    body: &[u8],
    status: StatusCode,
    auth: &DownloadAuth,
    content_type: &Option<String>,
) -> Option<Error> {
    const ERROR_KEYS: [&str; 7] = [
        "code",
        "message",
        "status",
        "errorCode",
        "errorMessage",
        "error",
        "reason",
    ];
    let serde_json::Value::Object(map) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    let shaped_like_error = !map.is_empty()
        && map.keys().all(|k| ERROR_KEYS.contains(&k.as_str()))
        && map.values().all(|v| !v.is_object() && !v.is_array())
        && ["code", "errorCode", "message", "errorMessage"]
            .iter()
            .any(|k| map.contains_key(*k));
    if !shaped_like_error {
        return None;
    }
    let code = map
        .get("code")
        .or_else(|| map.get("errorCode"))
        .and_then(serde_json::Value::as_i64);
    let message = map
        .get("message")
        .or_else(|| map.get("errorMessage"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let token_refused =
        code == Some(CODE_INVALID_ACCESS_TOKEN) || code == Some(401) || code == Some(403);
    Some(if token_refused {
        credential_refused(auth, status, code, message)
    } else {
        Error::NotAFile {
            status: status.as_u16(),
            content_type: content_type.clone(),
            message: format!("Zoom error JSON (code {code:?}): {message}"),
        }
    })
}

/// A `Content-Range: bytes first-last/total` header.
#[derive(Debug, PartialEq, Eq)]
struct ServedRange {
    first: u64,
    last: u64,
    total: Option<u64>,
}

fn parse_content_range(value: &str) -> Option<ServedRange> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        n => Some(n.parse().ok()?),
    };
    let served = ServedRange {
        first: first.trim().parse().ok()?,
        last: last.trim().parse().ok()?,
        total,
    };
    (served.first <= served.last).then_some(served)
}

/// `bytes */total`, the size a 416 reports.
fn unsatisfied_total(value: &str) -> Option<u64> {
    value.trim().strip_prefix("bytes */")?.trim().parse().ok()
}

/// The served range must be the requested one, except that its end may be
/// clipped to the last byte of the file; and its `Content-Length` must be
/// that range's length. A server that serves another range will do so
/// again (`BadResponse`); a response whose two headers contradict each
/// other is a broken response, as a failing proxy or CDN edge sends, which
/// asking again usually mends (`ContradictoryLength`, transient).
fn check_served_range(
    requested: ByteRange,
    served: &ServedRange,
    content_length: Option<u64>,
) -> Result<()> {
    let clipped_at_end =
        served.last < requested.last && served.total.is_some_and(|total| served.last + 1 == total);
    let matches =
        served.first == requested.first && (served.last == requested.last || clipped_at_end);
    if !matches {
        return Err(Error::BadResponse {
            what: "download".into(),
            message: format!(
                "asked for bytes {requested}, got {}-{} (Content-Length {content_length:?})",
                served.first, served.last
            ),
        });
    }
    match content_length {
        Some(n) if n != served.last - served.first + 1 => Err(Error::ContradictoryLength {
            range: format!("{}-{}", served.first, served.last),
            content_length: n,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_parses_and_must_match() {
        let served = parse_content_range("bytes 0-99/1000").expect("parses");
        assert_eq!(
            served,
            ServedRange {
                first: 0,
                last: 99,
                total: Some(1000)
            }
        );
        assert_eq!(
            parse_content_range("bytes 5-9/*").and_then(|r| r.total),
            None
        );
        assert_eq!(parse_content_range("bytes 9-5/10"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
        assert_eq!(unsatisfied_total("bytes */1234"), Some(1234));

        let requested = ByteRange::new(0, 99).expect("valid");
        assert!(check_served_range(requested, &served, Some(100)).is_ok());
        let name = |result: Result<()>| result.map_err(|e| e.error_name());
        // A length that contradicts the range is a broken response: retried.
        assert_eq!(
            name(check_served_range(requested, &served, Some(99))),
            Err("Zoom.Transient")
        );
        assert_eq!(
            name(check_served_range(requested, &served, Some(101))),
            Err("Zoom.Transient")
        );
        // Another range than the one asked for is the server's way: not.
        let shifted = parse_content_range("bytes 1-100/1000").expect("parses");
        assert_eq!(
            name(check_served_range(requested, &shifted, None)),
            Err("Zoom.BadResponse")
        );
        // Asking past the end gets the tail, which is still the range.
        let tail = ByteRange::new(900, 1999).expect("valid");
        let clipped = parse_content_range("bytes 900-999/1000").expect("parses");
        assert!(check_served_range(tail, &clipped, Some(100)).is_ok());
    }

    #[test]
    fn byte_ranges_are_inclusive() {
        let range = ByteRange::from_offset_len(10, 5).expect("valid");
        assert_eq!((range.first(), range.last(), range.len()), (10, 14, 5));
        assert_eq!(range.header_value(), "bytes=10-14");
        assert_eq!(ByteRange::from_offset_len(10, 0), None);
        assert_eq!(ByteRange::new(3, 2), None);
    }

    #[test]
    fn error_json_is_told_from_a_json_file() {
        let token = DownloadAuth::DownloadToken(SecretString::new("t"));
        let name = |body: &[u8], auth: &DownloadAuth| {
            zoom_error_instead_of_file(body, StatusCode::OK, auth, &None).map(|e| e.error_name())
        };
        assert_eq!(
            name(br#"{"code":124,"message":"Invalid access token."}"#, &token),
            Some("Zoom.DownloadTokenExpired")
        );
        assert_eq!(
            name(
                br#"{"code":124,"message":"Invalid access token."}"#,
                &DownloadAuth::OAuth
            ),
            Some("Zoom.Unauthorized")
        );
        assert_eq!(
            name(
                br#"{"status":false,"errorCode":3301,"errorMessage":"File does not exist"}"#,
                &token
            ),
            Some("Zoom.NotAFile")
        );
        assert_eq!(name(br#"{"timeline":[{"ts":"00:00:01"}]}"#, &token), None);
        assert_eq!(name(br#"{"code":"x","users":[]}"#, &token), None);
        assert_eq!(name(b"\x00\x01binary", &token), None);
    }
}
