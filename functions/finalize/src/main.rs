//! The `zoomvault-finalize` Lambda: the ingest state machine's Finalize step (document, index, trash in Zoom, site-rebuild event). Wiring only: the
//! step is `zoomvault_archive::steps::finalize`, and `zoomvault_aws::lambda::run_step`
//! builds its clients from the environment once per cold start and returns
//! a step's error with its ASL error name as `errorType`.

use zoomvault_archive::steps;
use zoomvault_aws::function::ZoomAccess;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    zoomvault_aws::lambda::run_step(ZoomAccess::Credentials, |context, payload| async move {
        steps::finalize(&context, payload).await
    })
    .await
}
