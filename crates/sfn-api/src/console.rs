//! The console: a read-only web page over the Step Functions API, served at
//! `/console`. The page is hand-written files under `console/`: the HTML
//! shell, a stylesheet, and vanilla JavaScript as native ES modules (the
//! entry `console.js`, which imports the rest from `console/js/`), compiled
//! into the binary, so it needs no build step, no network beyond this
//! server and works offline. The page talks only to the same-origin API
//! (`POST /`), and signs its requests with SigV4 when the API demands it,
//! with a key typed into the page and kept in the tab's sessionStorage; the
//! server never hands the page a key. This module only serves the files,
//! with a Content-Security-Policy that lets nothing but them run.

use axum::http::header::{self, HeaderName};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const INDEX_HTML: &str = include_str!("../console/index.html");
const CONSOLE_CSS: &str = include_str!("../console/console.css");

/// The page's entry module, the one script `index.html` loads.
const ENTRY_MODULE: &str = include_str!("../console/console.js");

/// The modules the entry imports, directly or through each other, served at
/// `/console/js/<name>`. A name not listed here is not routed, so it is a
/// 404 like any other unknown path.
const MODULES: &[(&str, &str)] = &[
    ("api.js", include_str!("../console/js/api.js")),
    ("asl.js", include_str!("../console/js/asl.js")),
    ("components.js", include_str!("../console/js/components.js")),
    (
        "credentials.js",
        include_str!("../console/js/credentials.js"),
    ),
    ("dom.js", include_str!("../console/js/dom.js")),
    (
        "execution-view.js",
        include_str!("../console/js/execution-view.js"),
    ),
    (
        "executions-view.js",
        include_str!("../console/js/executions-view.js"),
    ),
    ("format.js", include_str!("../console/js/format.js")),
    ("graph.js", include_str!("../console/js/graph.js")),
    (
        "history-view.js",
        include_str!("../console/js/history-view.js"),
    ),
    ("history.js", include_str!("../console/js/history.js")),
    ("layout.js", include_str!("../console/js/layout.js")),
    ("links.js", include_str!("../console/js/links.js")),
    (
        "selftest-view.js",
        include_str!("../console/js/selftest-view.js"),
    ),
    (
        "signin-view.js",
        include_str!("../console/js/signin-view.js"),
    ),
    ("sigv4.js", include_str!("../console/js/sigv4.js")),
    (
        "state-machines-view.js",
        include_str!("../console/js/state-machines-view.js"),
    ),
];

/// Only this origin's files, no inline script or style, no framing. The page
/// inserts execution data as text only; the policy is the second line of
/// defence should that ever slip. `script-src 'self'` is what lets the entry
/// module import the others, and nothing from anywhere else. `data:` images
/// cover the empty favicon. `form-action 'none'` keeps the sign-in form from
/// ever submitting itself, so the key cannot end up in an address even if
/// the script fails.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `text/javascript` is what browsers require of a module script: one served
/// as anything else is refused, and `nosniff` leaves no guessing.
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// The console's routes: the page at `/console` and `/console/`, its
/// stylesheet, its entry module and each module under `/console/js/`.
/// Merged into the API's router by the caller.
pub fn routes() -> Router {
    let router = Router::new()
        .route("/console", get(page))
        .route("/console/", get(page))
        .route("/console/console.css", get(stylesheet))
        .route(
            "/console/console.js",
            get(|| async { asset(JAVASCRIPT, ENTRY_MODULE) }),
        );
    MODULES.iter().fold(router, |router, &(name, source)| {
        router.route(
            &format!("/console/js/{name}"),
            get(move || async move { asset(JAVASCRIPT, source) }),
        )
    })
}

async fn page() -> impl IntoResponse {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn stylesheet() -> impl IntoResponse {
    asset("text/css; charset=utf-8", CONSOLE_CSS)
}

/// `no-cache` makes browsers revalidate, so a new binary's page is never
/// mixed with an old cached script.
fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    let headers: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    (headers, body)
}
