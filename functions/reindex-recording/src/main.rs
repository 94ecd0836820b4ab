//! The `zoomvault-reindex-recording` Lambda: a recording reindexed from
//! its edited `recording.json` (`zoomvault reindex` on the embedded
//! default). Wiring only: the work is
//! `zoomvault_archive::operations::reindex`.
//!
//! Input: the edited document itself, or `{"document": {...}, "force":
//! true}` to allow changes to the files' sizes and checksums. The answer
//! names the recording, its document's key, whether anything changed and
//! which fields; a refused document fails with `Reindex.Invalid` (the
//! schema's violations by JSON pointer) or `Reindex.Refused`.

use zoomvault_archive::operations::reindex::{reindex, Error};
use zoomvault_archive::steps::StepError;
use zoomvault_aws::function::ZoomAccess;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    zoomvault_aws::lambda::run_step(ZoomAccess::None, |context, event| async move {
        let (document, force) = match event.get("document") {
            Some(document) => {
                let force = match event.get("force") {
                    None => false,
                    Some(serde_json::Value::Bool(force)) => *force,
                    Some(other) => {
                        return Err(StepError::new(
                            "Reindex.InvalidInput",
                            format!("force must be true or false, not {other}"),
                        ))
                    }
                };
                (document.clone(), force)
            }
            None => (event, false),
        };
        let bytes = serde_json::to_vec(&document).expect("JSON re-encodes");
        let report = reindex(
            context.store.as_ref(),
            context.index.as_ref(),
            context.events.as_ref(),
            &bytes,
            force,
        )
        .await
        .map_err(|e| {
            let name = match &e {
                e if e.is_transient() => "Storage.Transient",
                Error::Invalid(_) => "Reindex.Invalid",
                _ => "Reindex.Refused",
            };
            StepError::new(name, e.to_string())
        })?;
        Ok(serde_json::to_value(report).expect("a report serialises"))
    })
    .await
}
