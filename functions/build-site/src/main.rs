//! The `zoomvault-build-site` Lambda, the target of the EventBridge rule on
//! `SiteRebuildRequested` events: rebuilds the recordings site from the
//! DynamoDB index and the documents in S3 and publishes it under `site/`
//! in the bucket. Wiring only: the work is `zoomvault_site::publish`. The
//! event itself only says that something changed; every build is whole.

use zoomvault_archive::steps::StepError;
use zoomvault_aws::function::ZoomAccess;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    zoomvault_aws::lambda::run_step(ZoomAccess::None, |context, _event| async move {
        let title = std::env::var("ZOOMVAULT_SITE_TITLE").unwrap_or_else(|_| "Recordings".into());
        let recordings = zoomvault_site::publish::publish(
            context.index.as_ref(),
            context.store.as_ref(),
            &title,
        )
        .await
        .map_err(|e| {
            let name = if e.is_transient() {
                "Storage.Transient"
            } else {
                "Site.BuildFailed"
            };
            StepError::new(name, e.to_string())
        })?;
        Ok(serde_json::json!({ "recordings": recordings }))
    })
    .await
}
