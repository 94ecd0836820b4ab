//! The demo handlers of `zoomvault workflow run` and `zoomvault engine
//! serve`: `echo` and `flaky`, which the bundled example
//! (`examples/hello.asl.json`) calls, and `fail`, for a workflow that needs
//! a failing task. Nothing of the archive uses them.

use zoomvault_asl::Failure;
use zoomvault_engine::Handlers;

/// Handlers the bundled example workflows call: `echo` returns its input;
/// `flaky` fails with `Demo.Transient` on its first call per execution and
/// task, so Retry shows; `fail` always fails with `Demo.Failed`.
pub fn handlers() -> Handlers {
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};
    let mut handlers = Handlers::new();
    handlers.register("echo", |req| async move { Ok(req.input) });
    let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
    handlers.register("flaky", move |req| {
        let first = seen
            .lock()
            .map(|mut s| s.insert(format!("{}:{}", req.execution_arn, req.input)))
            .unwrap_or(false);
        async move {
            if first {
                Err(Failure::new(
                    "Demo.Transient",
                    "the first call fails, as a flaky network would",
                ))
            } else {
                Ok(req.input)
            }
        }
    });
    handlers.register("fail", |req| async move {
        Err(Failure::new(
            "Demo.Failed",
            format!("asked to fail with input {}", req.input),
        ))
    });
    handlers
}
