//! The engine's data-driven conformance suite: every JSON file under
//! `crates/engine/tests/conformance/` is one case that pins one piece of
//! Step Functions behaviour, as AWS documents it, on the embedded engine
//! with only the runner's test functions as handlers. The runner and the
//! case format are `conformance/runner.rs`'s, shared with the service
//! integrations' suite; this file only points it at the cases.

#[path = "conformance/runner.rs"]
mod runner;

use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance() {
    runner::run(&runner::Suite {
        root: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance"),
        // The distributed Map's cases each follow one AWS page, and say which.
        sources_required_under: &["distributed_map"],
        extension: &runner::NoExtension,
    })
    .await;
}
