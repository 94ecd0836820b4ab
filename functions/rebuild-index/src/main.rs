//! The `zoomvault-rebuild-index` Lambda: rebuilds the DynamoDB index from
//! the recording documents in S3 (`zoomvault rebuild` on the embedded
//! default). Wiring only: the work is
//! `zoomvault_archive::operations::rebuild`.
//!
//! Input: `{}` to go on where an unfinished run stopped (or start), or
//! `{"fresh": true}` to start from the beginning. A run stops between days
//! of the archive once `ZOOMVAULT_REBUILD_SECONDS` (default 780, inside
//! the function's 900 s timeout) have passed and answers with
//! `"complete": false`; invoking it again resumes from its checkpoint.
//! The answer is the report: counts, and the invalid documents with their
//! reasons. A run that wrote or removed entries asks for a site rebuild.

use std::time::{Duration, Instant};

use serde::Deserialize;
use zoomvault_archive::operations::rebuild::{self, rebuild_index, RebuildOptions};
use zoomvault_archive::steps::StepError;
use zoomvault_aws::function::ZoomAccess;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    #[serde(default)]
    fresh: bool,
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let budget = zoomvault_aws::function::seconds_setting(
        "ZOOMVAULT_REBUILD_SECONDS",
        Duration::from_secs(780),
    )?;
    zoomvault_aws::lambda::run_step(ZoomAccess::None, |context, event| async move {
        let started = Instant::now();
        let input: Input = serde_json::from_value(event).map_err(|e| {
            StepError::new(
                "Rebuild.InvalidInput",
                format!("rebuild-index takes {{}} or {{\"fresh\": true}}: {e}"),
            )
        })?;
        let options = RebuildOptions {
            fresh: input.fresh,
            deadline: Some(started + budget),
            ..RebuildOptions::default()
        };
        let report = rebuild_index(
            context.store.as_ref(),
            context.index.as_ref(),
            &options,
            &|_| {},
        )
        .await
        .map_err(|e| StepError::operation("Rebuild.Failed", e.is_transient(), &e))?;
        rebuild::request_site_rebuild(context.events.as_ref(), &report)
            .await
            .map_err(|e| StepError::new("Events.Failed", e.to_string()))?;
        Ok(serde_json::to_value(report).expect("a report serialises"))
    })
    .await
}
