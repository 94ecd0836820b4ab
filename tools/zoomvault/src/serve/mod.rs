//! `zoomvault serve`, one process with the webhook endpoint, the engine,
//! storage and the static site, and `zoomvault engine serve`, the engine
//! alone behind its Step Functions API. `settings` resolves the config
//! file, environment and flags into validated settings; `http` is the axum
//! app and the one error type that picks its status codes; `runner` binds,
//! serves until shutdown and, with no Zoom credentials, runs a demo ingest
//! against the bundled simulator. This file only declares the modules and
//! names what the binary, tests and benches use; it must hold no logic.

mod http;
mod runner;
mod settings;

pub use http::{app, AppState};
pub use runner::{
    archive_store, integration_clients, integration_endpoints, run, run_engine, sdk_starter,
    self_url, serve_until_shutdown, sfn_client, shutdown_signal, Listener,
};
pub use settings::{
    api_key, interval, ApiKey, AwsEndpoint, ServeOptions, ServeSettings, StoreSetting,
    ZoomSettings, DEFAULT_MAX_CONCURRENT_TASKS,
};
