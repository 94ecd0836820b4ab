//! The `zoomvault-start-ingest` Lambda: starts an ingest by hand
//! (`sls invoke -f start-ingest --path events/start-ingest/...`) from a
//! saved webhook body or `{"recording_uuid": ...}`, named as the webhook
//! names it. Wiring only: the request is read and started by
//! `zoomvault_archive::start::start_ingest` through aws-sdk-sfn.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    zoomvault_aws::lambda::init_logging();
    let env = zoomvault_aws::function::FunctionEnv::from_env()?;
    let sdk = zoomvault_aws::function::sdk_config().await;
    let starter = zoomvault_aws::function::workflow_starter(&env, &sdk)?;
    let starter = &starter;
    zoomvault_aws::lambda::serve_step(move |payload| async move {
        zoomvault_archive::start::start_ingest(starter, &payload).await
    })
    .await
}
