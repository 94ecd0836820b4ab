//! Bounded fuzzing of the SigV4 verifier (issue 14, point 6): requests
//! built from hostile and near-valid pieces (methods, paths with dot
//! segments and stray `%`, queries, `Authorization` headers with every
//! part mangled, dates in and out of format, repeated and unsigned
//! headers, bodies) must never panic, must hold heap in proportion to the
//! request, and a request refused only for its signature must verify once
//! it is signed with the key. Each property runs on a 2 MiB stack with its
//! heap measured (`zoomvault_fuzz::check`).

use super::*;
use axum::http::{HeaderName, HeaderValue};
use proptest::prelude::*;
use zoomvault_fuzz::{check, linear};

const ACCESS_KEY: &str = "AKIDFUZZ";
const SECRET: &str = "fuzz-secret";
const NOW: &str = "20240301T120000Z";

/// One hostile request, before it becomes an `http` request.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    uri: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Request {
    /// Its size in bytes, what its heap budget is proportional to.
    fn size(&self) -> usize {
        self.method.len()
            + self.uri.len()
            + self.body.len()
            + self
                .headers
                .iter()
                .map(|(name, value)| name.len() + value.len() + 4)
                .sum::<usize>()
    }

    /// The request as the verifier sees it; `None` when `http` itself
    /// would refuse it before any handler ran.
    fn build(&self) -> Option<(Method, Uri, HeaderMap)> {
        let method = Method::from_bytes(self.method.as_bytes()).ok()?;
        let uri: Uri = self.uri.parse().ok()?;
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
            let value = HeaderValue::from_bytes(value).ok()?;
            headers.append(name, value);
        }
        Some((method, uri, headers))
    }
}

fn verifier() -> Verifier {
    Verifier::new(vec![Credentials::new(ACCESS_KEY, SECRET)])
        .with_region("us-east-1")
        .with_service("states")
}

fn now() -> OffsetDateTime {
    parse_amz_date(NOW).expect("NOW is a valid X-Amz-Date")
}

/// Pieces of text that sit near the grammar's edges.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9-]{0,6}",
        1 => "\\PC{0,4}",
        1 => "[ -~]{0,6}",
        1 => Just(String::new()),
        1 => Just("..".to_owned()),
        1 => Just("%2e%2e".to_owned()),
        1 => Just("%".to_owned()),
        1 => Just("\u{202e}".to_owned()),
        1 => "[0-9]{1,400}",
    ]
}

fn amz_date() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(NOW.to_owned()),
        2 => "[0-9]{8}T[0-9]{6}Z",
        1 => "[0-9T Z:-]{0,20}",
        1 => "\\PC{0,17}",
        1 => Just("99991231T235959Z".to_owned()),
        1 => Just("00000101T000000Z".to_owned()),
        1 => Just("20240230T246060Z".to_owned()),
    ]
}

fn signed_headers() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("host"),
        Just("HOST"),
        Just(":authority"),
        Just("x-amz-date"),
        Just("x-amz-target"),
        Just("x-amz-content-sha256"),
        Just("x-amz-security-token"),
        Just("x-fuzz"),
        Just(""),
        Just("content-type"),
    ];
    prop::collection::vec(name, 0..300).prop_map(|names| names.join(";"))
}

fn authorization() -> impl Strategy<Value = Vec<u8>> {
    let algorithm = prop_oneof![
        6 => Just("AWS4-HMAC-SHA256".to_owned()),
        1 => Just("AWS4-".to_owned()),
        1 => "AWS4-[A-Z0-9-]{0,10}",
        1 => Just("Basic".to_owned()),
    ];
    let credential = (
        prop_oneof![3 => Just(ACCESS_KEY.to_owned()), 1 => piece()],
        prop_oneof![3 => Just(NOW[..8].to_owned()), 1 => piece()],
        prop_oneof![3 => Just("us-east-1".to_owned()), 1 => piece()],
        prop_oneof![3 => Just("states".to_owned()), 1 => piece()],
        prop_oneof![3 => Just("aws4_request".to_owned()), 1 => piece()],
        prop::collection::vec(piece(), 0..3),
    )
        .prop_map(|(key, date, region, service, terminator, extra)| {
            let mut parts = vec![key, date, region, service, terminator];
            parts.extend(extra);
            parts.join("/")
        });
    let signature = prop_oneof![
        3 => "[0-9a-f]{64}",
        1 => "[0-9a-fA-F]{0,70}",
        1 => piece(),
    ];
    let separator = prop_oneof![Just(", "), Just(","), Just(" "), Just(",,  ")];
    let parts = (credential, signed_headers(), signature).prop_map(|(c, s, g)| {
        vec![
            format!("Credential={c}"),
            format!("SignedHeaders={s}"),
            format!("Signature={g}"),
        ]
    });
    let parts = prop_oneof![
        6 => parts,
        1 => prop::collection::vec(piece(), 0..5),
    ];
    (
        algorithm,
        parts,
        separator,
        prop::collection::vec(any::<u8>(), 0..3),
    )
        .prop_map(|(algorithm, parts, separator, junk)| {
            let mut header = format!("{algorithm} {}", parts.join(separator)).into_bytes();
            header.extend(junk);
            header
        })
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("."),
            Just(".."),
            Just(""),
            Just("a"),
            Just("%2F"),
            Just("%2e%2e"),
            Just("%zz"),
            Just("~"),
            Just("@"),
        ],
        0..40,
    )
    .prop_map(|segments| format!("/{}", segments.join("/")))
}

fn query() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("a=1"),
            Just("a"),
            Just("="),
            Just("%"),
            Just("b=%2"),
            Just("+=+")
        ],
        0..20,
    )
    .prop_map(|parameters| {
        if parameters.is_empty() {
            String::new()
        } else {
            format!("?{}", parameters.join("&"))
        }
    })
}

fn request() -> impl Strategy<Value = Request> {
    let method = prop_oneof![8 => Just("POST".to_owned()), 1 => "[A-Z]{1,8}"];
    let host = prop_oneof![
        4 => Just("localhost:8080".to_owned()),
        1 => "[a-z.]{0,3000}",
        1 => "[ a]{0,40}",
    ];
    let extra = prop::collection::vec(
        (
            prop_oneof![
                Just("x-amz-target".to_owned()),
                Just("x-amz-content-sha256".to_owned()),
                Just("x-amz-security-token".to_owned()),
                Just("x-fuzz".to_owned()),
                Just("host".to_owned()),
                Just("content-type".to_owned()),
                "[a-z-]{1,10}",
            ],
            prop_oneof![
                Just(b"AWSStepFunctions.ListStateMachines".to_vec()),
                Just(hex::encode(Sha256::digest(b"")).into_bytes()),
                prop::collection::vec(any::<u8>(), 0..40),
            ],
        ),
        0..6,
    );
    (
        method,
        path(),
        query(),
        host,
        prop::option::weighted(0.95, amz_date()),
        prop::option::weighted(0.95, authorization()),
        extra,
        prop::collection::vec(any::<u8>(), 0..512),
    )
        .prop_map(
            |(method, path, query, host, date, authorization, extra, body)| {
                let mut headers = vec![("host".to_owned(), host.into_bytes())];
                headers.extend(date.map(|date| ("x-amz-date".to_owned(), date.into_bytes())));
                headers.extend(authorization.map(|value| ("authorization".to_owned(), value)));
                headers.extend(extra);
                Request {
                    method,
                    uri: format!("{path}{query}"),
                    headers,
                    body,
                }
            },
        )
}

/// Peak heap allowed for verifying `request`: a canonical request is the
/// request re-encoded (each byte at most three), and a mismatch carries it
/// twice (once redacted) with the string to sign.
fn budget(request: &Request) -> usize {
    linear(request.size(), 32, 64 * 1024)
}

/// The request with its `Signature=` replaced by the one the key gives for
/// `string_to_sign`, over the scope the header names.
fn signed(request: &Request, string_to_sign: &str) -> Option<Request> {
    let (_, _, headers) = request.build()?;
    let authorization = read_authorization(&headers).ok()?;
    let scope = authorization.scope().ok()?;
    let key = signing_key(SECRET, scope.date, scope.region, scope.service);
    let signature = hex::encode(hmac_sha256(&key, string_to_sign));
    let header = format!(
        "{ALGORITHM} Credential={}, SignedHeaders={}, Signature={signature}",
        authorization.credential, authorization.signed_headers
    );
    let mut request = request.clone();
    for (name, value) in &mut request.headers {
        if name == "authorization" {
            *value = header.clone().into_bytes();
        }
    }
    Some(request)
}

/// 1000 cases: a hostile request never panics the verifier or the header
/// parser, stays within its heap budget, and one refused only for its
/// signature verifies once correctly signed.
#[test]
fn fuzz_sigv4_verify_hostile_requests() {
    check(1000, request, budget, |request| {
        let Some((method, uri, headers)) = request.build() else {
            return Ok(());
        };
        let _ = parse_authorization(&headers);
        let outcome = verifier().verify(&method, &uri, &headers, &request.body, now());
        if let Err(Error::SignatureMismatch { string_to_sign, .. }) = outcome {
            let again = signed(&request, &string_to_sign).expect("a mismatch has a scope");
            let (method, uri, headers) = again.build().expect("the signed request builds");
            let identity = verifier().verify(&method, &uri, &headers, &again.body, now());
            // The session token is checked after the signature, as AWS does.
            prop_assert!(
                matches!(identity, Ok(_) | Err(Error::InvalidSecurityToken)),
                "{identity:?}"
            );
        }
        Ok(())
    });
}

/// 2000 cases: any bytes as the `Authorization` and `X-Amz-Date` headers.
#[test]
fn fuzz_sigv4_random_header_bytes() {
    check(
        2000,
        || {
            (
                prop::collection::vec(any::<u8>(), 0..300),
                prop::collection::vec(any::<u8>(), 0..24),
            )
        },
        |(authorization, date)| linear(authorization.len() + date.len(), 32, 64 * 1024),
        |(authorization, date)| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static("localhost"));
            if let Ok(value) = HeaderValue::from_bytes(&authorization) {
                headers.insert(header::AUTHORIZATION, value);
            }
            if let Ok(value) = HeaderValue::from_bytes(&date) {
                headers.insert(X_AMZ_DATE, value);
            }
            let _ = parse_authorization(&headers);
            let uri = Uri::from_static("/");
            let outcome = verifier().verify(&Method::POST, &uri, &headers, b"{}", now());
            prop_assert!(outcome.is_err());
            Ok(())
        },
    );
}

/// Found by `fuzz_sigv4_verify_hostile_requests`: naming `host` over and
/// over made the canonical request (and the mismatch message sent back)
/// the host's length times the namings, gigabytes from a request of a few
/// hundred KiB. A header named twice is now refused before that.
#[test]
fn a_header_signed_twice_is_refused_before_the_canonical_request_grows() {
    let names = vec!["host"; 2000].join(";");
    let request = Request {
        method: "POST".to_owned(),
        uri: "/".to_owned(),
        headers: vec![
            ("host".to_owned(), "h".repeat(8000).into_bytes()),
            ("x-amz-date".to_owned(), NOW.as_bytes().to_vec()),
            (
                "authorization".to_owned(),
                format!(
                    "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{}/us-east-1/states/aws4_request, \
                     SignedHeaders={names}, Signature={}",
                    &NOW[..8],
                    "0".repeat(64)
                )
                .into_bytes(),
            ),
        ],
        body: Vec::new(),
    };
    let (method, uri, headers) = request.build().expect("a valid http request");
    let (outcome, peak) = zoomvault_fuzz::measure(|| {
        verifier().verify(&method, &uri, &headers, &request.body, now())
    });
    let Err(error) = outcome else {
        panic!("verified a request that names host 2000 times");
    };
    assert_eq!(
        error.message(),
        "'SignedHeaders' names the header 'host' more than once."
    );
    assert!(peak < budget(&request), "{peak} bytes");
}
