//! `serve`'s HTTP interface: [`app`] builds the router (the Zoom webhook,
//! the site under `/site/`, stored files under `/files/`, `/status`,
//! health), merged
//! with `sfn-api`'s Step Functions API and console; and [`Error`], the one
//! place these routes turn a refusal into a status code and body. It only
//! answers requests: it must not bind, start background work, or know how
//! an ingest is started (the [`AppState::starter`] it is given decides).

use crate::embedded::Embedded;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use std::path::{Component, Path};
use std::sync::Arc;
use zoomvault_archive::keys::{self, validate_key};
use zoomvault_archive::ports::{object_store, WorkflowStarter};
use zoomvault_archive::webhook::WebhookReply;
use zoomvault_sfn_api::ApiConfig;
use zoomvault_zoom::WebhookVerifier;

/// What the HTTP handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub embedded: Embedded,
    pub verifier: Arc<WebhookVerifier>,
    /// How the webhook starts ingests: aws-sdk-sfn against the engine's own
    /// Step Functions endpoint, the code path that talks to AWS.
    pub starter: Arc<dyn WorkflowStarter>,
    pub api: ApiConfig,
}

/// The HTTP interface: the Step Functions API (`POST /`), webhook, site,
/// stored files.
pub fn app(state: AppState) -> Router {
    let api = zoomvault_sfn_api::app(state.embedded.engine.clone(), state.api.clone());
    Router::new()
        .route("/", get(|| async { Redirect::to("/site/index.html") }))
        .route("/health", get(|| async { "ok" }))
        // axum stops reading a body past the limit (its default is 2 MB);
        // `webhook::handle` refuses the same limit for the Lambda.
        .route(
            "/zoom/webhook",
            post(webhook).layer(axum::extract::DefaultBodyLimit::max(
                zoomvault_archive::webhook::MAX_BODY_BYTES,
            )),
        )
        .route("/site/", get(|| async { Redirect::to("/site/index.html") }))
        .route("/site/{*path}", get(site_file))
        .route("/files/{*key}", get(stored_file))
        .route("/status", get(status))
        .with_state(state)
        .merge(api)
}

/// Why a webhook, site or file request got no success answer. Its
/// `IntoResponse` is where these routes pick their status codes and
/// bodies; a handler only says which of these happened.
#[derive(Debug)]
enum Error {
    /// The webhook refused the delivery: a bad signature or stale
    /// timestamp (401), a body that is no Zoom event (400), or an engine
    /// that could not start the ingest (503, so Zoom delivers again). The
    /// status and JSON body are `zoomvault_archive::webhook::handle`'s,
    /// shared with the Lambda behind API Gateway, and go out unchanged.
    Webhook(WebhookReply),
    /// A site path that leaves the site directory.
    OutsideSite,
    /// A file key the store refuses: one that would escape it, an absolute
    /// one, an empty segment, ...
    UnsafeKey(keys::Error),
    /// No readable site file, or no stored object, at that path.
    NotFound,
    /// The store failed to open an object that may exist.
    Store(object_store::Error),
    /// A status query that names nothing it can answer.
    BadQuery(String),
    /// The index or the journal could not be read.
    Status(anyhow::Error),
    /// A path served only to clients on this machine, asked from another.
    NotLocal(&'static str),
}

impl From<keys::Error> for Error {
    fn from(e: keys::Error) -> Error {
        Error::UnsafeKey(e)
    }
}

impl From<object_store::Error> for Error {
    fn from(e: object_store::Error) -> Error {
        match e {
            object_store::Error::NotFound { .. } => Error::NotFound,
            e => Error::Store(e),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Webhook(reply) => (
                StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                Json(reply.body),
            )
                .into_response(),
            Error::OutsideSite => (StatusCode::BAD_REQUEST, "bad path").into_response(),
            Error::UnsafeKey(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
            Error::NotFound => (StatusCode::NOT_FOUND, "not found").into_response(),
            Error::Store(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
            Error::BadQuery(why) => (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({ "error": why })),
            )
                .into_response(),
            Error::Status(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({ "error": format!("{e:#}") })),
            )
                .into_response(),
            Error::NotLocal(why) => (StatusCode::FORBIDDEN, why).into_response(),
        }
    }
}

/// Why a path is served only to clients on this machine (a loopback peer,
/// which includes a reverse proxy on the same host), or `None` for the
/// paths anyone may ask: the webhook (signed), the Step Functions API
/// (signed with the API key off loopback) and `/health`.
fn local_only(path: &str) -> Option<&'static str> {
    if path.starts_with("/console") {
        Some(
            "the console is served only to clients on this machine: its key would be typed \
             into a page that crossed plain HTTP. Reach it through an SSH tunnel or an HTTPS \
             reverse proxy on this host.\n",
        )
    } else if path.starts_with("/site") || path.starts_with("/files/") || path == "/status" {
        Some(
            "the site, stored files and /status are served only to clients on this machine: \
             they have no authentication of their own. Put an HTTPS reverse proxy with \
             authentication on this host in front of them.\n",
        )
    } else {
        None
    }
}

/// Guards a router: [`local_only`] paths answer 403 to any peer that is not
/// loopback, and to a request whose peer is unknown (served without
/// `ConnectInfo`). `serve_until_shutdown` applies it to every app it serves.
pub fn guard(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(
        |request: axum::extract::Request, next: axum::middleware::Next| async move {
            use axum::extract::{ConnectInfo, FromRequestParts};
            let Some(why) = local_only(request.uri().path()) else {
                return next.run(request).await;
            };
            let (mut parts, body) = request.into_parts();
            let peer = ConnectInfo::<std::net::SocketAddr>::from_request_parts(&mut parts, &())
                .await
                .ok()
                .map(|info| info.0.ip().to_canonical());
            if !peer.is_some_and(|ip| ip.is_loopback()) {
                return Error::NotLocal(why).into_response();
            }
            next.run(axum::extract::Request::from_parts(parts, body))
                .await
        },
    ))
}

async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), Error> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let reply = zoomvault_archive::webhook::handle(
        &state.verifier,
        state.starter.as_ref(),
        header(zoomvault_zoom::webhook::TIMESTAMP_HEADER),
        header(zoomvault_zoom::webhook::SIGNATURE_HEADER),
        &body,
        time::OffsetDateTime::now_utc(),
    )
    .await;
    match StatusCode::from_u16(reply.status) {
        Ok(status) if status.is_success() => Ok((status, Json(reply.body))),
        _ => Err(Error::Webhook(reply)),
    }
}

/// `GET /status?recording=UUID`, `?meeting=ID` or `?since=24h` (the
/// default): where recordings stand, as JSON ([`crate::status`]).
async fn status(
    State(state): State<AppState>,
    axum::extract::Query(params): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Json<crate::status::StatusReport>, Error> {
    let query = crate::status::StatusQuery::from_params(&params, time::OffsetDateTime::now_utc())
        .map_err(Error::BadQuery)?;
    let report = crate::status::status(
        &state.embedded.engine,
        crate::embedded::INGEST_STATE_MACHINE,
        state.embedded.index.as_ref(),
        &query,
    )
    .await
    .map_err(Error::Status)?;
    Ok(Json(report))
}

async fn site_file(
    State(state): State<AppState>,
    UrlPath(path): UrlPath<String>,
) -> Result<impl IntoResponse, Error> {
    let root = state.embedded.site_dir();
    let full = root.join(Path::new(&path));
    if !is_within(&root, &full) {
        return Err(Error::OutsideSite);
    }
    // Whatever keeps the file from being read (absent, a directory) is
    // answered as not found.
    let bytes = tokio::fs::read(&full).await.map_err(|_| Error::NotFound)?;
    Ok(([(header::CONTENT_TYPE, content_type(&path))], bytes))
}

async fn stored_file(
    State(state): State<AppState>,
    UrlPath(key): UrlPath<String>,
) -> Result<impl IntoResponse, Error> {
    validate_key(&key)?;
    let object = state.embedded.store.get_stream(&key).await?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type(&key).to_string()),
            (header::CONTENT_LENGTH, object.size.to_string()),
        ],
        Body::from_stream(object.stream),
    ))
}

/// Whether `path` stays inside `root`: no `..` component, and under it.
fn is_within(root: &Path, path: &Path) -> bool {
    path.components()
        .all(|c| !matches!(c, Component::ParentDir))
        && path.starts_with(root)
}

fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit('.').next().unwrap_or("");
    match extension {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css",
        "js" => "text/javascript",
        other => zoomvault_archive::steps::content_type_for(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::EmbeddedConfig;
    use crate::serve::ApiKey;
    use axum::http::Request;
    use tower::ServiceExt;
    use zoomvault_archive::ports::workflow::Error as StartError;
    use zoomvault_archive::ports::{StartOutcome, StartedExecution};
    use zoomvault_archive::steps::IngestConfig;
    use zoomvault_zoom::ZoomConfig;

    const SECRET: &str = "fixture-webhook-secret";

    /// A real `recording.completed` delivery, as Zoom documents it.
    const RECORDING_COMPLETED: &str =
        include_str!("../../../../crates/zoom/tests/fixtures/recording_completed.json");

    /// Answers every start one way, so the webhook's replies need no engine
    /// endpoint.
    #[derive(Debug)]
    enum Starter {
        Starts,
        Unavailable,
    }

    #[async_trait::async_trait]
    impl WorkflowStarter for Starter {
        async fn start(&self, name: &str, _input: Value) -> Result<StartedExecution, StartError> {
            match self {
                Starter::Starts => Ok(StartedExecution {
                    execution_arn: format!("arn:fixture:{name}"),
                    outcome: StartOutcome::Started,
                }),
                Starter::Unavailable => Err(StartError::Unavailable("the engine is down".into())),
            }
        }

        async fn describe(
            &self,
            _name: &str,
        ) -> Result<Option<zoomvault_archive::ports::ExecutionState>, StartError> {
            Ok(None)
        }
    }

    struct Served {
        app: Router,
        embedded: Embedded,
        _dir: tempfile::TempDir,
    }

    async fn served(starter: Starter) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let embedded = Embedded::open(EmbeddedConfig {
            store: None,
            data_dir: dir.path().to_path_buf(),
            zoom: ZoomConfig::new("account", "client", "client-secret"),
            ingest: IngestConfig::default(),
            site_title: "Recordings".into(),
            max_concurrent_tasks: 1,
            journal_retention: Some(zoomvault_engine::DEFAULT_RETENTION),
            journal_sync: zoomvault_engine::Durability::Full,
            map_buckets: None,
            integrations: Default::default(),
        })
        .unwrap();
        let state = AppState {
            embedded: embedded.clone(),
            verifier: Arc::new(WebhookVerifier::new(SECRET.to_string())),
            starter: Arc::new(starter),
            api: ApiKey::api_config(None),
        };
        Served {
            app: app(state),
            embedded,
            _dir: dir,
        }
    }

    /// The whole answer as text: status, every header in order, a blank
    /// line, the body.
    async fn answer(app: &Router, request: Request<Body>) -> String {
        let response = app.clone().oneshot(request).await.unwrap();
        let mut text = format!("{}\n", response.status());
        for (name, value) in response.headers() {
            text += &format!("{name}: {}\n", value.to_str().unwrap());
        }
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        text + "\n" + &String::from_utf8_lossy(&body)
    }

    fn get(uri: &str) -> Request<Body> {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    fn unsigned_webhook(body: &str) -> Request<Body> {
        Request::post("/zoom/webhook")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    fn signed_webhook(body: &str) -> Request<Body> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let secret = zoomvault_zoom::SecretString::new(SECRET.to_string());
        Request::post("/zoom/webhook")
            .header(zoomvault_zoom::webhook::TIMESTAMP_HEADER, now.to_string())
            .header(
                zoomvault_zoom::webhook::SIGNATURE_HEADER,
                zoomvault_zoom::webhook::sign(&secret, now, body.as_bytes()),
            )
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    #[tokio::test]
    async fn an_oversized_webhook_is_refused_and_an_unknown_event_acknowledged() {
        let starts = served(Starter::Starts).await;
        let huge = format!(
            "{{\"event\":\"recording.completed\",\"pad\":\"{}\"}}",
            "x".repeat(zoomvault_archive::webhook::MAX_BODY_BYTES)
        );
        let response = starts
            .app
            .clone()
            .oneshot(signed_webhook(&huge))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

        let other = answer(
            &starts.app,
            signed_webhook(r#"{"event":"meeting.started","payload":{"object":{}}}"#),
        )
        .await;
        assert!(
            other.starts_with("200 OK") && other.ends_with(r#"{"ignored":"meeting.started"}"#),
            "{other}"
        );
        assert!(
            starts
                .embedded
                .engine
                .list_executions(None, None, None, 10)
                .unwrap()
                .is_empty(),
            "nothing started"
        );
    }

    #[tokio::test]
    async fn webhook_answers_with_the_status_and_json_the_webhook_handler_chose() {
        let starts = served(Starter::Starts).await;
        let unavailable = served(Starter::Unavailable).await;
        let cases = [
            (
                &starts,
                unsigned_webhook(RECORDING_COMPLETED),
                "401 Unauthorized\n\
                 content-type: application/json\n\
                 content-length: 68\n\
                 \n\
                 {\"error\":\"webhook refused: missing `x-zm-request-timestamp` header\"}",
            ),
            (
                &starts,
                signed_webhook("{not json"),
                "400 Bad Request\n\
                 content-type: application/json\n\
                 content-length: 85\n\
                 \n\
                 {\"error\":\"webhook body is not a Zoom event: key must be a string at line 1 column 2\"}",
            ),
            (
                &unavailable,
                signed_webhook(RECORDING_COMPLETED),
                "503 Service Unavailable\n\
                 content-type: application/json\n\
                 content-length: 96\n\
                 \n\
                 {\"error\":\"could not start the ingest workflow: workflow engine unavailable: the engine is down\"}",
            ),
            (
                &starts,
                signed_webhook(RECORDING_COMPLETED),
                "200 OK\n\
                 content-type: application/json\n\
                 content-length: 75\n\
                 \n\
                 {\"execution_arn\":\"arn:fixture:_ajXp112QmuoKj4854875==\",\"outcome\":\"started\"}",
            ),
        ];
        let mut wrong = Vec::new();
        for (served, request, expected) in cases {
            let what = format!("{} {}", request.method(), request.uri());
            let actual = answer(&served.app, request).await;
            if actual != expected {
                wrong.push(format!("{what} answered:\n{actual}\n"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// What a peer on another machine gets, and what one on this machine
    /// gets, from the guarded app as `serve` serves it.
    #[tokio::test]
    async fn console_site_files_and_status_answer_only_loopback_peers() {
        use axum::extract::connect_info::MockConnectInfo;
        use std::net::SocketAddr;
        let served = served(Starter::Starts).await;
        served.embedded.rebuild_site().await.unwrap();
        let status = |app: &Router, uri: &'static str| {
            let app = app.clone();
            async move { app.oneshot(get(uri)).await.unwrap().status().as_u16() }
        };
        let local_only = [
            "/console",
            "/console/js/sigv4.js",
            "/site/index.html",
            "/files/recordings/x.mp4",
            "/status",
        ];
        let remote = guard(served.app.clone())
            .layer(MockConnectInfo(SocketAddr::from(([203, 0, 113, 7], 40000))));
        for uri in local_only {
            assert_eq!(status(&remote, uri).await, 403, "{uri} from another host");
        }
        let body = remote.clone().oneshot(get("/console")).await.unwrap();
        let body = axum::body::to_bytes(body.into_body(), 4096).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("plain HTTP"));
        assert_eq!(status(&remote, "/health").await, 200);
        let webhook = remote
            .clone()
            .oneshot(signed_webhook(RECORDING_COMPLETED))
            .await
            .unwrap();
        assert_eq!(webhook.status(), 200, "Zoom reaches the webhook");

        // Without ConnectInfo the peer is unknown: refused as well.
        let unknown = guard(served.app.clone());
        assert_eq!(status(&unknown, "/site/index.html").await, 403);

        let mapped: SocketAddr = "[::ffff:127.0.0.1]:40000".parse().unwrap();
        for peer in [SocketAddr::from(([127, 0, 0, 1], 40000)), mapped] {
            let local = guard(served.app.clone()).layer(MockConnectInfo(peer));
            assert_eq!(status(&local, "/console").await, 200, "{peer}");
            assert_eq!(status(&local, "/site/index.html").await, 200, "{peer}");
            assert_eq!(status(&local, "/status").await, 200, "{peer}");
        }
    }

    #[tokio::test]
    async fn site_and_file_routes_refuse_escapes_and_absences_in_plain_text() {
        let served = served(Starter::Starts).await;
        served.embedded.rebuild_site().await.unwrap();
        let index = std::fs::read_to_string(served.embedded.site_dir().join("index.html")).unwrap();
        served
            .embedded
            .store
            .put(
                "recordings/fixture/audio.m4a",
                Bytes::from_static(b"fixture audio"),
                "audio/mp4",
            )
            .await
            .unwrap();
        // A link to itself: opening it fails, and not because it is absent.
        let looping = served.embedded.object_path("recordings/loop.mp4").unwrap();
        std::os::unix::fs::symlink("loop.mp4", &looping).unwrap();
        let cases = [
            (
                "/site/index.html",
                format!(
                    "200 OK\n\
                     content-type: text/html; charset=utf-8\n\
                     content-length: {}\n\
                     \n\
                     {index}",
                    index.len()
                ),
            ),
            (
                "/site/../engine.db",
                "400 Bad Request\n\
                 content-type: text/plain; charset=utf-8\n\
                 content-length: 8\n\
                 \n\
                 bad path"
                    .to_string(),
            ),
            (
                "/site/nothing-here.html",
                "404 Not Found\n\
                 content-type: text/plain; charset=utf-8\n\
                 content-length: 9\n\
                 \n\
                 not found"
                    .to_string(),
            ),
            (
                "/files/../engine.db",
                "400 Bad Request\n\
                 content-type: text/plain; charset=utf-8\n\
                 content-length: 62\n\
                 \n\
                 unsafe object key \"../engine.db\": it has a '.' or '..' segment"
                    .to_string(),
            ),
            (
                "/files/recordings/nothing-here.mp4",
                "404 Not Found\n\
                 content-type: text/plain; charset=utf-8\n\
                 content-length: 9\n\
                 \n\
                 not found"
                    .to_string(),
            ),
            (
                "/files/recordings/fixture/audio.m4a",
                "200 OK\n\
                 content-type: audio/mp4\n\
                 content-length: 13\n\
                 \n\
                 fixture audio"
                    .to_string(),
            ),
            (
                "/files/recordings/loop.mp4",
                "500 Internal Server Error\n\
                 content-type: text/plain; charset=utf-8\n\
                 content-length: 78\n\
                 \n\
                 opening \"recordings/loop.mp4\": Too many levels of symbolic links (os error 40)"
                    .to_string(),
            ),
        ];
        let mut wrong = Vec::new();
        for (uri, expected) in cases {
            let actual = answer(&served.app, get(uri)).await;
            if actual != expected {
                wrong.push(format!("GET {uri} answered:\n{actual}\n"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
