//! The `zoomvault-retrieve-parts` Lambda: the ingest state machine's RetrieveParts step (one batch of a fanned-out file's parts). Wiring only: the
//! step is `zoomvault_archive::steps::retrieve_parts`, and `zoomvault_aws::lambda::run_step`
//! builds its clients from the environment once per cold start and returns
//! a step's error with its ASL error name as `errorType`.

use zoomvault_archive::steps;
use zoomvault_aws::function::ZoomAccess;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    zoomvault_aws::lambda::run_step(ZoomAccess::Credentials, |context, payload| async move {
        steps::retrieve_parts(&context, payload).await
    })
    .await
}
