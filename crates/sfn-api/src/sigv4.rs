//! AWS Signature Version 4 verification of incoming requests: it decides
//! whether a buffered request was signed by one of the configured access
//! keys, and names the AWS error a JSON 1.0 service (Step Functions,
//! DynamoDB: the Coral stack) answers when it was not. It owns the canonical
//! request, the string to sign, the signing key and the checks around them;
//! it does no I/O, reads no clock (the caller passes `now`) and builds no
//! HTTP response (the endpoint maps [`Error::aws_type`], [`Error::status`]
//! and [`Error::message`] to AWS's JSON error shape).
//!
//! What is accepted, and why so little:
//! - Only the `Authorization` header form (`AWS4-HMAC-SHA256 Credential=...,
//!   SignedHeaders=..., Signature=...`) with an `X-Amz-Date` header. The AWS
//!   SDKs and the CLI sign JSON 1.0 calls that way; the presigned-URL form
//!   (`X-Amz-Signature` in the query string) is for handing out links, which
//!   this API never does, so such a request is answered as unsigned. A bare
//!   `Date` header is not accepted in place of `X-Amz-Date`.
//! - The body must be buffered: its SHA-256 is part of the signature, and an
//!   `X-Amz-Content-Sha256` header (signed or not) must equal it, so
//!   `UNSIGNED-PAYLOAD` and chunked streaming signatures are refused.
//! - Paths are canonicalised the non-S3 way, as aws-sdk-rust signs every
//!   service but S3: dot segments and empty segments are removed, then each
//!   segment of the path *as sent* is percent-encoded once more (so the
//!   signer's path is in effect encoded twice).
//! - `Host` (or `:authority`) must be signed, and so must every other
//!   `x-amz-*` header but `X-Amz-Security-Token`: AWS's signing guide says a
//!   signer must include them, and an unsigned `X-Amz-Target` would let a
//!   captured `DescribeExecution` be replayed as `StopExecution` with the
//!   same body.
//!
//! The `uri` given to [`Verifier::verify`] must be the one the client sent:
//! behind axum's `nest` that is `OriginalUri`, not the stripped `Uri`.

use axum::http::{header, HeaderMap, Method, Uri};
use hmac::digest::CtOutput;
use hmac::{Hmac, Mac};
use percent_encoding::{
    percent_decode, percent_encode, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC,
};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;
use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset};

/// The only signing algorithm accepted.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The last element of every SigV4 credential scope.
const TERMINATOR: &str = "aws4_request";
const X_AMZ_DATE: &str = "x-amz-date";
const X_AMZ_SECURITY_TOKEN: &str = "x-amz-security-token";
const X_AMZ_CONTENT_SHA256: &str = "x-amz-content-sha256";

/// RFC 3986 unreserved characters are the only ones SigV4 leaves unencoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// In the canonical path the segment separators stay as they are.
const PATH_UNRESERVED: &AsciiSet = &UNRESERVED.remove(b'/');

type HmacSha256 = Hmac<Sha256>;

/// One access key the endpoint accepts. `Debug` never shows the secret
/// access key or the session token.
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl Credentials {
    /// A long-term key: requests must not carry `X-Amz-Security-Token`.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Credentials {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }

    /// Temporary credentials: requests must carry exactly this
    /// `X-Amz-Security-Token`, as AWS refuses a temporary key without its
    /// token.
    pub fn with_session_token(mut self, session_token: impl Into<String>) -> Credentials {
        self.session_token = Some(session_token.into());
        self
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Who signed a request that verified: the access key and the credential
/// scope it signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub access_key_id: String,
    pub region: String,
    pub service: String,
}

/// A SigV4 `Authorization` header taken apart, without any key having been
/// checked: what [`parse_authorization`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub access_key_id: String,
    /// The `YYYYMMDD` of the credential scope.
    pub scope_date: String,
    pub region: String,
    pub service: String,
    /// As listed in `SignedHeaders`, in the client's order.
    pub signed_headers: Vec<String>,
    /// Lowercase hex, as the client sent it.
    pub signature: String,
    /// The `X-Amz-Date` header.
    pub request_time: OffsetDateTime,
}

/// Why a request was refused. Each variant is one of the errors AWS's JSON
/// 1.0 services answer with; [`Error::aws_type`] gives its `__type` and the
/// `Display` text is AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No `Authorization` header, or one that is not SigV4 at all (it does
    /// not start with `AWS4-`).
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// A SigV4 header that lacks a part or has one in the wrong shape: a
    /// missing `Credential`, `SignedHeaders`, `Signature` or `X-Amz-Date`, a
    /// part without `=`, a date not in ISO-8601 basic format, another
    /// algorithm, a credential without five elements.
    #[error("{0}")]
    IncompleteSignature(String),
    /// `X-Amz-Date` is earlier than the server's clock less the allowed skew.
    #[error("{0}")]
    SignatureExpired(String),
    /// `X-Amz-Date` is later than the server's clock plus the allowed skew.
    #[error("{0}")]
    SignatureNotYetCurrent(String),
    /// The credential scope does not fit the request: another region or
    /// service than the endpoint's, a wrong terminator, or a date other
    /// than `X-Amz-Date`'s.
    #[error("{0}")]
    CredentialScope(String),
    #[error("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")]
    HostNotSigned,
    /// `x-amz-*` headers that are present but not in `SignedHeaders`. The
    /// JSON 1.0 services document no message for this; the wording is S3's
    /// (`AccessDenied`, "There were headers present in the request which
    /// were not signed"), under the name JSON services use for signature
    /// faults.
    #[error("There were headers present in the request which were not signed: {}.", .0.join(", "))]
    HeadersNotSigned(Vec<String>),
    /// `X-Amz-Content-Sha256` is not the SHA-256 of the body received.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,
    /// The signature is not the one the secret access key gives. The
    /// canonical request and string to sign are the server's, as AWS
    /// returns them, so a client can find where its own differ.
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\
         \n\nThe Canonical String for this request should have been\n'{canonical_request}'\
         \n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
    )]
    SignatureMismatch {
        canonical_request: String,
        string_to_sign: String,
    },
    /// The access key ID is not one of the configured keys.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    /// The signature verified but `X-Amz-Security-Token` is not the key's
    /// session token (or the key has none). AWS's message for this case has
    /// no final full stop, unlike the unknown-key one.
    #[error("The security token included in the request is invalid")]
    InvalidSecurityToken,
}

impl Error {
    /// The AWS error name, as JSON 1.0 services put it in `__type` (without
    /// the `com.amazon.coral.service#` prefix, which the SDKs strip).
    pub fn aws_type(&self) -> &'static str {
        match self {
            Error::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Error::IncompleteSignature(_) => "IncompleteSignatureException",
            Error::SignatureExpired(_)
            | Error::SignatureNotYetCurrent(_)
            | Error::CredentialScope(_)
            | Error::HostNotSigned
            | Error::HeadersNotSigned(_)
            | Error::ContentSha256Mismatch
            | Error::SignatureMismatch { .. } => "InvalidSignatureException",
            Error::UnrecognizedClient | Error::InvalidSecurityToken => {
                "UnrecognizedClientException"
            }
        }
    }

    /// The HTTP status. JSON 1.0 services answer every authentication
    /// failure with 400 (not the 403 of the REST and query protocols).
    pub fn status(&self) -> u16 {
        400
    }

    /// AWS's message for this error.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Checks requests against a fixed set of access keys.
#[derive(Debug, Clone)]
pub struct Verifier {
    credentials: Vec<Credentials>,
    max_skew: Duration,
    region: Option<String>,
    service: Option<String>,
}

impl Verifier {
    /// How far `X-Amz-Date` may be from the server's clock, either way, as
    /// Step Functions allows ("Signature expired: ... (... - 5 min.)").
    pub const DEFAULT_MAX_SKEW: Duration = Duration::minutes(5);

    /// Accepts the given keys, signed for any region and service, within
    /// [`Verifier::DEFAULT_MAX_SKEW`].
    pub fn new(credentials: Vec<Credentials>) -> Verifier {
        Verifier {
            credentials,
            max_skew: Verifier::DEFAULT_MAX_SKEW,
            region: None,
            service: None,
        }
    }

    /// Allows `X-Amz-Date` to be `max_skew` away from `now`, either way.
    pub fn with_max_skew(mut self, max_skew: Duration) -> Verifier {
        self.max_skew = max_skew.abs();
        self
    }

    /// Requires the credential scope's region to be `region`.
    pub fn with_region(mut self, region: impl Into<String>) -> Verifier {
        self.region = Some(region.into());
        self
    }

    /// Requires the credential scope's service to be `service` (`states`
    /// for Step Functions).
    pub fn with_service(mut self, service: impl Into<String>) -> Verifier {
        self.service = Some(service.into());
        self
    }

    /// Verifies a buffered request. `now` is the server's clock, passed in
    /// so that tests control it.
    ///
    /// The checks run in the order AWS runs them, so that a request with
    /// several faults gets the error AWS would give: the header's shape,
    /// the date's format, the clock skew, `Host` signed, the algorithm, the
    /// credential's shape, the scope, the access key, the signature, and
    /// last the session token.
    pub fn verify(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<Identity, Error> {
        let authorization = read_authorization(headers)?;
        self.check_clock(&authorization, now)?;
        let signed_headers: Vec<&str> = authorization.signed_headers.split(';').collect();
        check_host_signed(&signed_headers)?;
        check_signed_headers_distinct(&signed_headers)?;
        check_amz_headers_signed(headers, &signed_headers)?;
        let scope = authorization.scope()?;
        self.check_scope(&scope, authorization.amz_date)?;

        let credentials = self
            .credentials
            .iter()
            .find(|credentials| credentials.access_key_id == scope.access_key_id)
            .ok_or(Error::UnrecognizedClient)?;

        let body_sha256 = hex::encode(Sha256::digest(body));
        let payload_hash = payload_hash(headers, &signed_headers, &body_sha256)?;
        let canonical_request = canonical_request(
            method,
            uri,
            headers,
            authorization.signed_headers,
            &payload_hash,
        );
        let string_to_sign = format!(
            "{ALGORITHM}\n{}\n{}/{}/{}/{TERMINATOR}\n{}",
            authorization.amz_date,
            scope.date,
            scope.region,
            scope.service,
            hex::encode(Sha256::digest(&canonical_request)),
        );
        let signing_key = signing_key(
            &credentials.secret_access_key,
            scope.date,
            scope.region,
            scope.service,
        );
        // A signature that is not hex is simply one that does not match; the
        // comparison itself is hmac's constant-time one, so response timing
        // tells a forger nothing about how many bytes were right.
        let provided = hex::decode(authorization.signature).unwrap_or_default();
        let mut mac = hmac_with_key(&signing_key);
        mac.update(string_to_sign.as_bytes());
        if mac.verify_slice(&provided).is_err() {
            return Err(Error::SignatureMismatch {
                canonical_request: redact_security_token(&canonical_request),
                string_to_sign,
            });
        }

        check_session_token(credentials, headers)?;
        Ok(Identity {
            access_key_id: scope.access_key_id.to_owned(),
            region: scope.region.to_owned(),
            service: scope.service.to_owned(),
        })
    }

    fn check_clock(
        &self,
        authorization: &AuthorizationHeader<'_>,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        // X-Amz-Date has whole seconds, so the server's clock is compared at
        // that precision too; otherwise the message could say a date is
        // earlier than itself.
        let now = now.to_offset(UtcOffset::UTC);
        let now = now - Duration::nanoseconds(i64::from(now.nanosecond()));
        let request_time = authorization.request_time;
        let skew = skew_text(self.max_skew);
        // At the ends of the calendar a bound does not exist, and then
        // nothing can be outside it.
        if let Some(earliest) = now.checked_sub(self.max_skew) {
            if request_time < earliest {
                return Err(Error::SignatureExpired(format!(
                    "Signature expired: {} is now earlier than {} ({} - {skew}.)",
                    authorization.amz_date,
                    amz_date_text(earliest),
                    amz_date_text(now),
                )));
            }
        }
        if let Some(latest) = now.checked_add(self.max_skew) {
            if request_time > latest {
                return Err(Error::SignatureNotYetCurrent(format!(
                    "Signature not yet current: {} is still later than {} ({} + {skew}.)",
                    authorization.amz_date,
                    amz_date_text(latest),
                    amz_date_text(now),
                )));
            }
        }
        Ok(())
    }

    /// Reports every scope fault at once, as AWS does, in AWS's order.
    fn check_scope(&self, scope: &Scope<'_>, amz_date: &str) -> Result<(), Error> {
        let mut faults = Vec::new();
        if let Some(region) = &self.region {
            if scope.region != region {
                faults.push(format!(
                    "Credential should be scoped to a valid region, not '{}'.",
                    scope.region
                ));
            }
        }
        if let Some(service) = &self.service {
            if scope.service != service {
                faults.push(format!(
                    "Credential should be scoped to correct service: '{service}'."
                ));
            }
        }
        if scope.terminator != TERMINATOR {
            faults.push(format!(
                "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'.",
                scope.terminator
            ));
        }
        // The date was checked to be 16 ASCII characters, so this slice is
        // on a character boundary.
        let request_day = &amz_date[..8];
        if scope.date != request_day {
            faults.push(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
                 '{}' != '{request_day}', from '{amz_date}'.",
                scope.date
            ));
        }
        if faults.is_empty() {
            Ok(())
        } else {
            Err(Error::CredentialScope(faults.join(" ")))
        }
    }
}

/// Takes a request's SigV4 `Authorization` header apart and checks its
/// shape, accepting any access key. This is for an endpoint that wants
/// clients to sign (so that a misconfigured client fails as it would against
/// AWS) but has no keys to check them against, such as one on loopback.
pub fn parse_authorization(headers: &HeaderMap) -> Result<ParsedAuthorization, Error> {
    let authorization = read_authorization(headers)?;
    let scope = authorization.scope()?;
    Ok(ParsedAuthorization {
        access_key_id: scope.access_key_id.to_owned(),
        scope_date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        signed_headers: authorization
            .signed_headers
            .split(';')
            .map(str::to_owned)
            .collect(),
        signature: authorization.signature.to_owned(),
        request_time: authorization.request_time,
    })
}

/// The `Authorization` and `X-Amz-Date` headers, checked for presence and
/// format only.
struct AuthorizationHeader<'a> {
    algorithm: &'a str,
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
    amz_date: &'a str,
    request_time: OffsetDateTime,
}

/// The credential split into its five elements.
struct Scope<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
}

impl<'a> AuthorizationHeader<'a> {
    /// Checks the algorithm and splits the credential, which AWS does after
    /// the clock and `Host` checks.
    fn scope(&self) -> Result<Scope<'a>, Error> {
        if self.algorithm != ALGORITHM {
            // AWS's message ends with a space.
            return Err(Error::IncompleteSignature(format!(
                "Unsupported AWS 'algorithm': '{}' (only {ALGORITHM} for now). ",
                self.algorithm
            )));
        }
        // AWS ignores trailing slashes before counting the elements.
        let elements: Vec<&str> = self.credential.trim_end_matches('/').split('/').collect();
        match elements[..] {
            [access_key_id, date, region, service, terminator] => Ok(Scope {
                access_key_id,
                date,
                region,
                service,
                terminator,
            }),
            _ => Err(Error::IncompleteSignature(format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
                self.credential
            ))),
        }
    }
}

fn read_authorization(headers: &HeaderMap) -> Result<AuthorizationHeader<'_>, Error> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(Error::MissingAuthenticationToken)?;
    // Anything that is not SigV4 (Basic, Bearer, SigV2's `AWS key:sig`) is
    // treated as no authentication at all, as AWS does.
    if !value.as_bytes().trim_ascii_start().starts_with(b"AWS4-") {
        return Err(Error::MissingAuthenticationToken);
    }
    let header = value.to_str().map_err(|_| {
        Error::IncompleteSignature("Authorization header must be printable ASCII.".to_owned())
    })?;

    let trimmed = header.trim();
    let (algorithm, parameters) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    // AWS splits the parameters on commas and spaces alike, which is why an
    // access key pasted with a stray space yields "'/20200128/...' not a
    // valid key=value pair".
    for part in parameters.split([',', ' ']).filter(|part| !part.is_empty()) {
        let (key, value) = part.split_once('=').ok_or_else(|| {
            Error::IncompleteSignature(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            ))
        })?;
        match key {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let amz_date = headers.get(X_AMZ_DATE);

    let mut missing = String::new();
    if credential.is_none_or(str::is_empty) {
        missing.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if signature.is_none_or(str::is_empty) {
        missing.push_str("Authorization header requires 'Signature' parameter. ");
    }
    // AWS lets an empty SignedHeaders through here; the `Host` check
    // refuses it later.
    if signed_headers.is_none() {
        missing.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if amz_date.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(amz_date), true) = (
        credential,
        signed_headers,
        signature,
        amz_date,
        missing.is_empty(),
    ) else {
        return Err(Error::IncompleteSignature(format!(
            "{missing}Authorization={header}"
        )));
    };

    let not_basic_format = || {
        Error::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            String::from_utf8_lossy(amz_date.as_bytes())
        ))
    };
    let amz_date = amz_date.to_str().map_err(|_| not_basic_format())?;
    let request_time = parse_amz_date(amz_date).ok_or_else(not_basic_format)?;

    Ok(AuthorizationHeader {
        algorithm,
        credential,
        signed_headers,
        signature,
        amz_date,
        request_time,
    })
}

/// Parses `YYYYMMDDTHHMMSSZ`, and nothing else: exactly the 16 characters,
/// so that the scope date can be compared with its first eight.
fn parse_amz_date(text: &str) -> Option<OffsetDateTime> {
    let bytes = text.as_bytes();
    let digits_at = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = bytes.get(range)?;
        digits.iter().try_fold(0u32, |value, byte| {
            byte.is_ascii_digit()
                .then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let year = i32::try_from(digits_at(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits_at(4..6)?).ok()?).ok()?;
    let day = u8::try_from(digits_at(6..8)?).ok()?;
    let hour = u8::try_from(digits_at(9..11)?).ok()?;
    let minute = u8::try_from(digits_at(11..13)?).ok()?;
    let second = u8::try_from(digits_at(13..15)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(date.with_time(time).assume_utc())
}

fn amz_date_text(moment: OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        moment.year(),
        u8::from(moment.month()),
        moment.day(),
        moment.hour(),
        moment.minute(),
        moment.second()
    )
}

/// AWS writes the allowed skew as "5 min" (or "15 min" for DynamoDB).
fn skew_text(skew: Duration) -> String {
    let seconds = skew.whole_seconds();
    if seconds % 60 == 0 {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} sec")
    }
}

fn check_host_signed(signed_headers: &[&str]) -> Result<(), Error> {
    let signed = signed_headers
        .iter()
        .any(|name| name.eq_ignore_ascii_case("host") || name.eq_ignore_ascii_case(":authority"));
    if signed {
        Ok(())
    } else {
        Err(Error::HostNotSigned)
    }
}

/// Each header may be named once. The canonical request repeats a named
/// header's values once per naming, so without this a request could name
/// a long `Host` thousands of times and have the server build (and send
/// back in the mismatch message) a canonical request of gigabytes from a
/// few hundred KiB of headers. No signer names a header twice.
fn check_signed_headers_distinct(signed_headers: &[&str]) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::with_capacity(signed_headers.len());
    for name in signed_headers {
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(Error::IncompleteSignature(format!(
                "'SignedHeaders' names the header '{name}' more than once."
            )));
        }
    }
    Ok(())
}

/// `X-Amz-Security-Token` may go unsigned, as some AWS services ask of their
/// clients; it is compared with the key's own token anyway.
fn check_amz_headers_signed(headers: &HeaderMap, signed_headers: &[&str]) -> Result<(), Error> {
    let mut unsigned: Vec<String> = headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("x-amz-") && *name != X_AMZ_SECURITY_TOKEN)
        .filter(|name| {
            !signed_headers
                .iter()
                .any(|signed| signed.eq_ignore_ascii_case(name))
        })
        .map(str::to_owned)
        .collect();
    if unsigned.is_empty() {
        Ok(())
    } else {
        unsigned.sort();
        Err(Error::HeadersNotSigned(unsigned))
    }
}

/// The last line of the canonical request. A signed `X-Amz-Content-Sha256`
/// is used as written, since that is what the client hashed; any
/// `X-Amz-Content-Sha256` must match the body actually received, or the
/// signature would cover a body that was never checked.
fn payload_hash(
    headers: &HeaderMap,
    signed_headers: &[&str],
    body_sha256: &str,
) -> Result<String, Error> {
    let Some(claimed) = headers.get(X_AMZ_CONTENT_SHA256) else {
        return Ok(body_sha256.to_owned());
    };
    let claimed = claimed.as_bytes().trim_ascii();
    if !claimed.eq_ignore_ascii_case(body_sha256.as_bytes()) {
        return Err(Error::ContentSha256Mismatch);
    }
    let signed = signed_headers
        .iter()
        .any(|name| name.eq_ignore_ascii_case(X_AMZ_CONTENT_SHA256));
    if signed {
        // It equals the hex digest ignoring case, so it is ASCII.
        Ok(String::from_utf8_lossy(claimed).into_owned())
    } else {
        Ok(body_sha256.to_owned())
    }
}

/// The canonical request, as bytes because a header value need not be
/// UTF-8.
fn canonical_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    signed_headers: &str,
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_path(uri.path()).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(uri.query()).as_bytes());
    out.push(b'\n');
    for name in signed_headers.split(';') {
        let name = name.to_ascii_lowercase();
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (index, value) in header_values(uri, headers, &name).iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&trim_all(value));
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// A header's values in the order received. Over HTTP/2 there is no `Host`
/// header; the authority is in the URI instead.
fn header_values<'a>(uri: &'a Uri, headers: &'a HeaderMap, name: &str) -> Vec<&'a [u8]> {
    let authority = || {
        uri.authority()
            .map(|authority| authority.as_str().as_bytes())
    };
    let lookup = if name == ":authority" { "host" } else { name };
    let values: Vec<&[u8]> = headers
        .get_all(lookup)
        .iter()
        .map(|value| value.as_bytes())
        .collect();
    if values.is_empty() && lookup == "host" {
        authority().into_iter().collect()
    } else {
        values
    }
}

/// Trims spaces at both ends and collapses runs of spaces to one; other
/// whitespace is left alone, as the AWS signers leave it.
fn trim_all(value: &[u8]) -> Cow<'_, [u8]> {
    let start = value
        .iter()
        .position(|&byte| byte != b' ')
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|&byte| byte != b' ')
        .map_or(start, |last| last + 1);
    let value = &value[start..end];
    if !value.windows(2).any(|pair| pair == b"  ") {
        return Cow::Borrowed(value);
    }
    let mut collapsed = Vec::with_capacity(value.len());
    for &byte in value {
        if !(byte == b' ' && collapsed.last() == Some(&b' ')) {
            collapsed.push(byte);
        }
    }
    Cow::Owned(collapsed)
}

/// The non-S3 canonical path: the path as sent, with empty and dot segments
/// removed (RFC 3986 section 5.2.4), then percent-encoded once more.
fn canonical_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    let mut normalized = String::with_capacity(path.len() + 1);
    normalized.push('/');
    normalized.push_str(&segments.join("/"));
    // A path that ended in a directory still does after dot segments go.
    let ends_in_directory = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if ends_in_directory && !normalized.ends_with('/') {
        normalized.push('/');
    }
    utf8_percent_encode(&normalized, PATH_UNRESERVED).to_string()
}

/// The canonical query string: every parameter decoded (`+` as a space, as
/// aws-sdk-rust reads it) and re-encoded the SigV4 way, then sorted by name
/// and value.
fn canonical_query(query: Option<&str>) -> String {
    let decode_and_encode = |text: &str| {
        let spaced = text.replace('+', " ");
        let decoded: Cow<'_, [u8]> = percent_decode(spaced.as_bytes()).into();
        percent_encode(&decoded, UNRESERVED).to_string()
    };
    let mut parameters: Vec<(String, String)> = query
        .unwrap_or_default()
        .split('&')
        .filter(|parameter| !parameter.is_empty())
        .map(|parameter| {
            let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
            (decode_and_encode(name), decode_and_encode(value))
        })
        .collect();
    parameters.sort();
    parameters
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hmac_with_key(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed first), so this
    // cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

fn hmac_sha256(key: &[u8], data: &str) -> [u8; 32] {
    let mut mac = hmac_with_key(key);
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().into()
}

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
fn signing_key(secret_access_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret_access_key}").as_bytes(), date);
    let k_region = hmac_sha256(&k_date, region);
    let k_service = hmac_sha256(&k_region, service);
    hmac_sha256(&k_service, TERMINATOR)
}

fn check_session_token(credentials: &Credentials, headers: &HeaderMap) -> Result<(), Error> {
    let presented = headers
        .get(X_AMZ_SECURITY_TOKEN)
        .map(|token| token.as_bytes());
    match (&credentials.session_token, presented) {
        (None, None) => Ok(()),
        // Comparing digests in constant time keeps the token's length and
        // content out of the response timing.
        (Some(expected), Some(presented))
            if CtOutput::<Sha256>::new(Sha256::digest(expected.as_bytes()))
                == CtOutput::new(Sha256::digest(presented)) =>
        {
            Ok(())
        }
        _ => Err(Error::InvalidSecurityToken),
    }
}

/// The canonical request for a mismatch message, with any session token
/// blanked: the message tends to end up in logs, and the token is a
/// credential.
fn redact_security_token(canonical_request: &[u8]) -> String {
    String::from_utf8_lossy(canonical_request)
        .split('\n')
        .map(|line| {
            if line.starts_with("x-amz-security-token:") {
                "x-amz-security-token:<redacted>"
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    //! Canonical requests from AWS's SigV4 test suite (the CRT suite that
    //! aws-sigv4 ships), compared line for line.

    use super::*;

    fn creq(
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        signed_headers: &str,
        body: &[u8],
    ) -> String {
        let method = Method::from_bytes(method.as_bytes()).expect("test method");
        let uri: Uri = uri.parse().expect("test uri");
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("test header name"),
                value.parse().expect("test header value"),
            );
        }
        let payload = hex::encode(Sha256::digest(body));
        String::from_utf8(canonical_request(
            &method,
            &uri,
            &map,
            signed_headers,
            &payload,
        ))
        .expect("utf-8")
    }

    #[test]
    fn path_as_sent_is_encoded_once_more_like_the_non_s3_signers() {
        // AWS suite "double-url-encode".
        let actual = creq(
            "POST",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-west-2%3A892717189312%3Afunction%3Amy-rusty-fun/invocations",
            &[("host", "lambda.us-east-2.amazonaws.com"), ("x-amz-date", "20210511T154045Z")],
            "host;x-amz-date",
            b"",
        );
        let expected = "POST\n\
            /2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-west-2%253A892717189312%253Afunction%253Amy-rusty-fun/invocations\n\
            \n\
            host:lambda.us-east-2.amazonaws.com\n\
            x-amz-date:20210511T154045Z\n\
            \n\
            host;x-amz-date\n\
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(actual, expected);
    }

    #[test]
    fn reserved_characters_in_the_path_are_encoded() {
        // AWS suite "double-encode-path": `@` is encoded, `%3D` becomes `%253D`.
        let actual = creq(
            "POST",
            "/test/@connections/JBDvjfGEIAMCERw%3D",
            &[
                ("host", "tj9n5r0m12.execute-api.us-east-1.amazonaws.com"),
                ("x-amz-date", "20210511T154045Z"),
            ],
            "host;x-amz-date",
            b"",
        );
        assert_eq!(
            actual.lines().nth(1),
            Some("/test/%40connections/JBDvjfGEIAMCERw%253D")
        );
    }

    #[test]
    fn dot_and_empty_segments_are_removed() {
        for (path, expected) in [
            ("", "/"),
            ("/", "/"),
            ("/example1/example2/../..", "/"),
            ("//example//", "/example/"),
            ("/example/./", "/example/"),
            ("/a/b/..", "/a/"),
            ("/a/./b/../c", "/a/c"),
            ("/../a", "/a"),
            ("/a.b/c.", "/a.b/c."),
            ("/%2E%2E/x", "/%252E%252E/x"),
        ] {
            assert_eq!(canonical_path(path), expected, "{path:?}");
        }
    }

    #[test]
    fn query_parameters_are_reencoded_and_sorted() {
        for (query, expected) in [
            (None, ""),
            (
                Some("Param2=value2&Param1=value1"),
                "Param1=value1&Param2=value2",
            ),
            (Some("Param1"), "Param1="),
            (Some("%E1%88%B4=bar"), "%E1%88%B4=bar"),
            (Some("a=b&a=a&&A=c"), "A=c&a=a&a=b"),
            (Some("k=a+b%20c%2B~%7E*"), "k=a%20b%20c%2B~~%2A"),
            (
                Some("-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=x"),
                "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=x",
            ),
        ] {
            assert_eq!(canonical_query(query), expected, "{query:?}");
        }
    }

    #[test]
    fn header_values_are_trimmed_collapsed_and_joined_in_order() {
        // AWS suites "get-header-value-trim" and "get-header-key-duplicate".
        let actual = creq(
            "GET",
            "/",
            &[
                ("host", "example.amazonaws.com"),
                ("my-header1", "value2"),
                ("my-header1", "value2"),
                ("my-header1", "  value1  "),
                ("my-header2", "\"a   b   c\""),
                ("x-amz-date", "20150830T123600Z"),
            ],
            "host;my-header1;my-header2;x-amz-date",
            b"",
        );
        let headers: Vec<&str> = actual.lines().skip(3).take(4).collect();
        assert_eq!(
            headers,
            [
                "host:example.amazonaws.com",
                "my-header1:value2,value2,value1",
                "my-header2:\"a b c\"",
                "x-amz-date:20150830T123600Z",
            ]
        );
    }

    #[test]
    fn host_comes_from_the_uri_when_there_is_no_host_header() {
        let actual = creq(
            "GET",
            "https://example.amazonaws.com:8443/",
            &[("x-amz-date", "20150830T123600Z")],
            "host;x-amz-date",
            b"",
        );
        assert_eq!(
            actual.lines().nth(3),
            Some("host:example.amazonaws.com:8443")
        );
    }

    #[test]
    fn amz_date_must_be_exactly_basic_format() {
        assert_eq!(
            parse_amz_date("20150830T123600Z")
                .map(amz_date_text)
                .as_deref(),
            Some("20150830T123600Z")
        );
        for bad in [
            "",
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20150830T123600Z ",
            "20151330T123600Z",
            "20150230T123600Z",
            "20150830T246000Z",
            "2015083OT123600Z",
            "+0150830T123600Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn signing_key_matches_aws_published_derivation() {
        // AWS's example: secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
        // 20120215/us-east-1/iam gives this kSigning.
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn trim_all_only_touches_spaces() {
        assert_eq!(&*trim_all(b"  a  b  "), b"a b");
        assert_eq!(&*trim_all(b"a\t\tb"), b"a\t\tb");
        assert_eq!(&*trim_all(b"    "), b"");
        assert_eq!(&*trim_all(b""), b"");
    }

    #[test]
    fn mismatch_message_hides_the_session_token() {
        let redacted = redact_security_token(
            b"GET\n/\n\nhost:h\nx-amz-security-token:SECRET\n\nhost;x-amz-security-token\nabc",
        );
        assert!(!redacted.contains("SECRET"), "{redacted}");
        assert!(
            redacted.contains("x-amz-security-token:<redacted>\n"),
            "{redacted}"
        );
    }
}

#[cfg(test)]
mod fuzz;
