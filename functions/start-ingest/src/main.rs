//! The `zoomvault-start-ingest` Lambda: starts an ingest by hand
//! (`sls invoke -f start-ingest --path events/start-ingest/...`) from a
//! saved webhook body, `{"recording_uuid": ...}`, `{"meeting_id": ...}`
//! or `{"share_url": ...}`, named as the webhook names it (or, with
//! `"force": true`, afresh). Wiring only: the request is read and started
//! by `zoomvault_archive::start::start_ingest` through aws-sdk-sfn, with a
//! Zoom client (credentials from SSM) for the forms that need the API.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    zoomvault_aws::lambda::init_logging();
    let env = zoomvault_aws::function::FunctionEnv::from_env()?;
    let sdk = zoomvault_aws::function::sdk_config().await;
    let starter = zoomvault_aws::function::workflow_starter(&env, &sdk)?;
    let zoom = zoomvault_aws::function::zoom_client(&env, &sdk).await?;
    let (starter, zoom) = (&starter, &zoom);
    zoomvault_aws::lambda::serve_step(move |payload| async move {
        zoomvault_archive::start::start_ingest(starter, Some(zoom), &payload).await
    })
    .await
}
