//! The console: a read-only web page over the Step Functions API, served at
//! `/console`. The page is three hand-written files under `console/` (HTML,
//! CSS, vanilla JS) compiled into the binary, so it needs no build step, no
//! network beyond this server and works offline. The page talks only to the
//! same-origin API (`POST /`), and signs its requests with SigV4 when the API
//! demands it, with a key typed into the page and kept in the tab's
//! sessionStorage; the server never hands the page a key. This module only
//! serves the files, with a Content-Security-Policy that lets nothing but
//! them run.

use axum::http::header::{self, HeaderName};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const INDEX_HTML: &str = include_str!("../console/index.html");
const CONSOLE_JS: &str = include_str!("../console/console.js");
const CONSOLE_CSS: &str = include_str!("../console/console.css");

/// Only this origin's files, no inline script or style, no framing. The page
/// inserts execution data as text only; the policy is the second line of
/// defence should that ever slip. `data:` images cover the empty favicon.
/// `form-action 'none'` keeps the sign-in form from ever submitting itself,
/// so the key cannot end up in an address even if the script fails.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The console's routes: the page at `/console` and `/console/`, its script
/// and its stylesheet. Merged into the API's router by the caller.
pub fn routes() -> Router {
    Router::new()
        .route("/console", get(page))
        .route("/console/", get(page))
        .route("/console/console.js", get(script))
        .route("/console/console.css", get(stylesheet))
}

async fn page() -> impl IntoResponse {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", CONSOLE_JS)
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
