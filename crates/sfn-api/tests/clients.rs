//! The endpoint driven by the clients Step Functions users already have:
//! the AWS CLI (`aws stepfunctions --endpoint-url`) and boto3, each running
//! a full cycle (create, start, describe, history, list, stop, task token
//! success and failure, errors) from a script in `crates/sfn-api/tests/clients/` that
//! checks every answer. `.ci/run` installs both (`pip install awscli boto3`).

use std::path::{Path, PathBuf};
use std::process::Command;
use zoomvault_engine::{Engine, EngineConfig, Handlers};

async fn serve() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(
        EngineConfig::new(dir.path().join("engine.db")),
        Handlers::new(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = zoomvault_sfn_api::app(engine, zoomvault_sfn_api::ApiConfig::default());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, dir)
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}

/// Runs a client script against `endpoint`; fails the test with its output.
async fn run(program: &'static str, script: PathBuf, endpoint: String) {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(program)
            .arg(&script)
            .env("SFN_ENDPOINT", &endpoint)
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{program} client cycle failed ({}):\n{stdout}\n{stderr}\n\
         (the AWS CLI and boto3 come from `pip install awscli boto3`, as .ci/run does)",
        output.status
    );
    assert!(stdout.contains("cycle: ok"), "{stdout}\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_runs_a_full_cycle() {
    let (url, _dir) = serve().await;
    run("bash", script("cli_cycle.sh"), url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_runs_a_full_cycle() {
    let (url, _dir) = serve().await;
    run("python3", script("boto3_cycle.py"), url).await;
}
