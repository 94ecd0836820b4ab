//! `zoomvault engine serve` as a user runs it: the binary, its own journal,
//! the Step Functions API on loopback, driven by aws-sdk-sfn; and its
//! refusal to serve the API beyond loopback without an access key.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[path = "../benches/support/mod.rs"]
mod support;

use support::{free_port, Server};

#[tokio::test]
async fn engine_serve_runs_the_examples_through_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args(["engine", "serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--db")
        .arg(dir.path().join("journal/engine.db"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting zoomvault engine serve");
    let stderr = child.stderr.take().unwrap();
    let _running = Server(child);
    // It says where it serves once it listens. The rest of what it says is
    // drained, or its next line would fail to print and stop it.
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.contains(&format!("http://127.0.0.1:{port}")),
        "{first}"
    );
    std::thread::spawn(move || lines.for_each(drop));

    let url = format!("http://127.0.0.1:{port}");
    let sfn = zoomvault_aws::step_functions::client_for_endpoint(&url, "AKIDANY", "any");
    let definition = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello.asl.json"),
    )
    .unwrap();
    let machine = sfn
        .create_state_machine()
        .name("hello")
        .definition(definition)
        .role_arn("arn:aws:iam::123456789012:role/any")
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    let execution = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .input(r#"{"name":"engine serve"}"#)
        .send()
        .await
        .unwrap()
        .execution_arn;
    // The example retries a flaky task after a second and has a short
    // Wait, so it takes a few seconds of real time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        let described = sfn
            .describe_execution()
            .execution_arn(&execution)
            .send()
            .await
            .unwrap();
        if described.status().as_str() != "RUNNING" {
            break described;
        }
        assert!(std::time::Instant::now() < deadline, "still running");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        status.status().as_str(),
        "SUCCEEDED",
        "{:?}",
        status.cause()
    );
    assert!(dir.path().join("journal/engine.db").exists());
}

#[test]
fn engine_serve_refuses_a_public_listener_without_a_key() {
    let output = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args(["engine", "serve", "--listen", "0.0.0.0:0", "--db"])
        .arg(std::env::temp_dir().join("zoomvault-never-created.db"))
        .env_remove("ZOOMVAULT_API_ACCESS_KEY_ID")
        .env_remove("ZOOMVAULT_API_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not loopback"), "{stderr}");
    assert!(stderr.contains("ZOOMVAULT_API_ACCESS_KEY_ID"), "{stderr}");
}
