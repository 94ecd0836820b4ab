//! The AWS deployment, tested as deployed but without an AWS account. The
//! real function binaries (`functions/`, built by this test with cargo) run
//! as Lambdas under `tools/lambda-emulator`, which speaks the Lambda Runtime
//! API to them and serves the Invoke API; zoomvault's engine runs
//! `state-machine/ingest.asl.json` behind its Step Functions API and sends
//! every `lambda:invoke` task to that Invoke endpoint through aws-sdk-lambda
//! (`engine serve --lambda-endpoint`); S3, DynamoDB, EventBridge (with an
//! SQS queue behind its rules) and SSM are moto's server; Zoom is the
//! simulator. The webhook function is handed an API Gateway HTTP API
//! event, as API Gateway would.

#[path = "../crates/aws/tests/support/moto.rs"]
mod moto;
#[path = "../crates/aws/tests/support/rules_to_queue.rs"]
mod rules_to_queue;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use zoomvault_archive::document;
use zoomvault_archive::keys::RecordingKeys;
use zoomvault_archive::ports::RecordingIndex;
use zoomvault_aws::dynamodb::DynamoDbIndex;
use zoomvault_lambda_emulator::{Config, Emulator, FunctionConfig};
use zoomvault_zoom_sim::{FileSpec, MeetingSpec, SimConfig, ZoomSim};

/// The functions the deployment defines, by the name each is deployed as.
const FUNCTIONS: [&str; 14] = [
    "webhook",
    "start-ingest",
    "ingest-metadata",
    "retrieve-file",
    "begin-file",
    "retrieve-parts",
    "complete-file",
    "finalize",
    "record-failure",
    "build-site",
    "rebuild-index",
    "reindex-recording",
    "scan-missed-meetings",
    "purge-recordings",
];

const MIB: u64 = 1024 * 1024;
const SSM_PREFIX: &str = "/zoomvault-e2e/";

/// Builds every function binary (a no-op when they are up to date) and
/// returns each one's path, by function name.
fn function_binaries() -> HashMap<String, PathBuf> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut command = std::process::Command::new(env!("CARGO"));
    command
        .current_dir(root)
        .args(["build", "--message-format=json-render-diagnostics"]);
    for name in FUNCTIONS {
        command.args(["-p", &format!("zoomvault-{name}")]);
    }
    let output = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "building the functions failed");
    let mut binaries = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let Some(path) = message["executable"].as_str() {
            let target = message["target"]["name"].as_str().unwrap_or_default();
            if let Some(name) = target.strip_prefix("zoomvault-") {
                binaries.insert(name.to_string(), PathBuf::from(path));
            }
        }
    }
    for name in FUNCTIONS {
        assert!(binaries.contains_key(name), "no binary for {name}");
    }
    binaries
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The AWS resources the stack would create, on moto.
struct Stack {
    bucket: String,
    table: String,
    bus: String,
    queue_url: String,
    s3: aws_sdk_s3::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
}

async fn stack(sim: &ZoomSim) -> Stack {
    let sdk = moto::moto().sdk_config();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let ssm = aws_sdk_ssm::Client::new(&sdk);

    let bucket = moto::unique("zv-e2e");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let table = moto::unique("zv-e2e");
    zoomvault_aws::dynamodb::create_table(&dynamodb, &table)
        .await
        .unwrap();
    // The bus the state machine's AnnounceArchived state names, as
    // serverless.yml deploys it (this binary's moto holds no other).
    // The bus the state machine's AnnounceArchived state names, as
    // serverless.yml deploys it (this binary's moto holds no other).
    let bus = "zoomvault".to_string();
    // The deployment's site-build rule, with a queue where the function
    // would be, so the test sees what the rule matched.
    let queue_url = rules_to_queue::rules_to_queue(
        &events,
        &sqs,
        &bus,
        &[(
            "site-rebuild",
            zoomvault_aws::eventbridge::SITE_REBUILD_PATTERN,
        )],
    )
    .await;
    let config = sim.config();
    for (name, value) in [
        ("zoom/account_id", config.account_id.as_str()),
        ("zoom/client_id", config.client_id.as_str()),
        ("zoom/client_secret", config.client_secret.as_str()),
        (
            "zoom/webhook_secret_token",
            config.webhook_secret_token.as_str(),
        ),
    ] {
        ssm.put_parameter()
            .name(format!("{SSM_PREFIX}{name}"))
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }
    Stack {
        bucket,
        table,
        bus,
        queue_url,
        s3,
        dynamodb,
        sqs,
    }
}

impl Stack {
    /// The object at `key` in the archive's bucket, whole.
    async fn object(&self, key: impl Into<String>) -> Vec<u8> {
        let key = key.into();
        self.s3
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"))
            .body
            .collect()
            .await
            .unwrap()
            .to_vec()
    }
}

/// An aws-sdk client configuration for a local endpoint (the engine's or
/// the emulator's), which checks no signature.
fn local_sdk(endpoint: &str) -> aws_config::SdkConfig {
    let mut sdk = moto::moto().sdk_config().into_builder();
    sdk.set_endpoint_url(Some(endpoint.to_string()));
    sdk.build()
}

/// The API Gateway HTTP API (payload 2.0) event for a POST of `body` to
/// the webhook route, as API Gateway hands it to the function.
fn http_api_event(body: &str, headers: &[(&str, String)]) -> Value {
    let mut header_map = serde_json::Map::new();
    header_map.insert("content-type".into(), json!("application/json"));
    header_map.insert("user-agent".into(), json!("Zoom Marketplace/1.1a"));
    for (name, value) in headers {
        header_map.insert((*name).to_string(), json!(value));
    }
    let now = time::OffsetDateTime::now_utc();
    json!({
        "version": "2.0",
        "routeKey": "POST /webhook",
        "rawPath": "/webhook",
        "rawQueryString": "",
        "headers": header_map,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "e2eapi",
            "domainName": "e2eapi.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "e2eapi",
            "http": {
                "method": "POST",
                "path": "/webhook",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "Zoom Marketplace/1.1a"
            },
            "requestId": "e2e-request",
            "routeKey": "POST /webhook",
            "stage": "$default",
            "time": "05/Dec/2026:00:00:00 +0000",
            "timeEpoch": now.unix_timestamp() * 1000
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// An input sample from `events/`, as `osls invoke --path` sends it.
fn sample(path: &str) -> Value {
    let path = format!("{}/../events/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

/// The execution `arn` once it is no longer running.
async fn finished(
    sfn: &aws_sdk_sfn::Client,
    arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let described = sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .unwrap();
        if described.status != aws_sdk_sfn::types::ExecutionStatus::Running {
            return described;
        }
        assert!(Instant::now() < deadline, "the ingest did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn invoke(lambda: &aws_sdk_lambda::Client, function: &str, payload: &Value) -> Value {
    let output = lambda
        .invoke()
        .function_name(format!("zoomvault-{function}"))
        .payload(Blob::new(serde_json::to_vec(payload).unwrap()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("invoking {function}: {e:?}"));
    let body = output.payload().map(|b| b.as_ref()).unwrap_or_default();
    assert_eq!(
        output.function_error(),
        None,
        "{function} failed: {}",
        String::from_utf8_lossy(body)
    );
    serde_json::from_slice(body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_through_the_lambdas_archives_the_recording_in_s3_dynamodb_and_eventbridge() {
    let binaries = function_binaries();
    let sim = ZoomSim::start(SimConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let stack = stack(&sim).await;

    // The engine, with every Lambda task sent to the emulator's endpoint.
    let (engine_port, emulator_port) = (free_port(), free_port());
    let engine_url = format!("http://127.0.0.1:{engine_port}");
    let emulator_url = format!("http://127.0.0.1:{emulator_port}");
    let journal = tempfile::tempdir().unwrap();
    let (stop_engine, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = tokio::spawn(zoomvault::serve::run_engine(
        SocketAddr::from(([127, 0, 0, 1], engine_port)),
        journal.path().join("engine.db"),
        None,
        Some(emulator_url.clone()),
        zoomvault::embedded::IntegrationEndpoints {
            eventbridge: Some(aws_sdk_eventbridge::Client::new(&moto::moto().sdk_config())),
            ..Default::default()
        },
        async move {
            let _ = stopped.await;
        },
    ));
    let sfn = aws_sdk_sfn::Client::new(&local_sdk(&engine_url));
    let deadline = Instant::now() + Duration::from_secs(30);
    let machine = loop {
        let created = sfn
            .create_state_machine()
            .name("zoomvault-ingest")
            .definition(include_str!("../state-machine/ingest.asl.json"))
            .role_arn("arn:aws:iam::123456789012:role/zoomvault-ingest")
            .send()
            .await;
        match created {
            Ok(created) => break created.state_machine_arn,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the engine did not take the state machine: {e:?}"),
        }
    };

    // Every function as the stack configures it: parts of 5 MiB and at
    // most one part per invocation, so the demo's 8 MiB video takes two.
    let environment = [
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ENDPOINT_URL", moto::moto().endpoint.clone()),
        ("AWS_ENDPOINT_URL_SFN", engine_url.clone()),
        ("ZOOMVAULT_BUCKET", stack.bucket.clone()),
        ("ZOOMVAULT_TABLE", stack.table.clone()),
        ("ZOOMVAULT_EVENT_BUS", stack.bus.clone()),
        ("ZOOMVAULT_STATE_MACHINE_ARN", machine.clone()),
        ("ZOOMVAULT_SSM_PREFIX", SSM_PREFIX.to_string()),
        ("ZOOMVAULT_S3_FORCE_PATH_STYLE", "true".to_string()),
        ("ZOOMVAULT_PART_SIZE", (5 * MIB).to_string()),
        ("ZOOMVAULT_INVOCATION_BYTES", (5 * MIB).to_string()),
        ("ZOOMVAULT_ZOOM_API_BASE", sim.api_base_url()),
        ("ZOOMVAULT_ZOOM_OAUTH_BASE", sim.base_url()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_string()),
        // purge-recordings: a year, and the test's old recording is due.
        ("ZOOMVAULT_RETENTION_DAYS", "365".to_string()),
        ("RUST_LOG", "info".to_string()),
    ];
    let mut config = Config::new();
    config.listen = SocketAddr::from(([127, 0, 0, 1], emulator_port));
    for name in FUNCTIONS {
        let mut function = FunctionConfig::new(&binaries[name]);
        for (key, value) in &environment {
            function = function.env(*key, value.clone());
        }
        config = config.function(format!("zoomvault-{name}"), function);
    }
    let emulator = Emulator::start(config).await.unwrap();
    assert_eq!(emulator.endpoint(), emulator_url);
    let lambda = aws_sdk_lambda::Client::new(&local_sdk(&emulator_url));

    // Zoom answers the first metadata request with 429 and a Retry-After
    // longer than the client waits in-process: the function must fail with
    // Zoom.RateLimited, and the state machine retry it.
    sim.fail_next("/v2/meetings/", 429, 1, Some(Duration::from_secs(3600)));
    let meeting = sim.demo_meeting();
    let event = sim.recording_completed_event(&meeting.uuid);
    let body = serde_json::to_string(&event).unwrap();
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let secret = zoomvault_zoom::SecretString::new(sim.config().webhook_secret_token.clone());
    let signature = zoomvault_zoom::webhook::sign(&secret, timestamp, body.as_bytes());
    let reply = invoke(
        &lambda,
        "webhook",
        &http_api_event(
            &body,
            &[
                ("x-zm-request-timestamp", timestamp.to_string()),
                ("x-zm-signature", signature),
            ],
        ),
    )
    .await;
    assert_eq!(reply["statusCode"], 200, "{reply}");
    let answer: Value = serde_json::from_str(reply["body"].as_str().unwrap()).unwrap();
    assert_eq!(answer["outcome"], "started", "{answer}");
    let execution = answer["execution_arn"].as_str().unwrap().to_string();

    // The execution ends.
    let described = finished(&sfn, &execution).await;
    assert_eq!(
        described.status,
        aws_sdk_sfn::types::ExecutionStatus::Succeeded,
        "{:?} {:?}",
        described.error,
        described.cause
    );

    // Every file is in S3, byte-identical; the document is in S3 and the
    // index; the Zoom copy is trashed.
    let keys = RecordingKeys::new(meeting.start_time, meeting.id, &meeting.uuid).unwrap();
    let bytes = stack.object(keys.document()).await;
    let doc = document::validate(&serde_json::from_slice(&bytes).unwrap()).unwrap();
    assert_eq!(doc.files.len(), meeting.files.len());
    for file in &meeting.files {
        let stored = doc
            .files
            .iter()
            .find(|f| f.zoom_file_id == file.id && f.file_type == file.file_type)
            .unwrap();
        let object = stack.object(&stored.storage_key).await;
        assert_eq!(
            hex::encode(Sha256::digest(&object)),
            sim.expected_sha256(&meeting.uuid, file.index),
            "{}",
            stored.storage_key
        );
        assert_eq!(
            stored.crc64nvme,
            zoomvault_archive::checksum::Crc64Nvme::of(&object)
        );
    }
    let index = DynamoDbIndex::new(stack.dynamodb.clone(), &stack.table);
    let entry = index.get(&meeting.uuid).await.unwrap().expect("indexed");
    assert_eq!(entry.document_key, keys.document());
    assert!(sim.is_trashed(&meeting.uuid));

    // The site-rebuild event went onto the bus and matched the rule.
    let deadline = Instant::now() + Duration::from_secs(20);
    let rebuild = loop {
        let received = stack
            .sqs
            .receive_message()
            .queue_url(&stack.queue_url)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if let Some(message) = received.messages().first() {
            break serde_json::from_str::<Value>(message.body().unwrap()).unwrap();
        }
        assert!(Instant::now() < deadline, "no site-rebuild event arrived");
    };
    assert_eq!(rebuild["source"], "zoomvault");
    assert_eq!(rebuild["detail-type"], "SiteRebuildRequested");
    assert_eq!(rebuild["detail"]["recording_uuid"], json!(meeting.uuid));
    // Sent by the state machine's putEvents task, which names the
    // execution among the event's resources, not by the finalize function.
    assert!(
        rebuild["resources"]
            .as_array()
            .is_some_and(|r| r.contains(&json!(execution))),
        "{rebuild}"
    );

    // The history shows the 429 surfacing as Zoom.RateLimited and retried,
    // and the video fanned out over two RetrieveParts invocations.
    let history = sfn
        .get_execution_history()
        .execution_arn(&execution)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    let rate_limited = history
        .events()
        .iter()
        .filter_map(|e| e.task_failed_event_details())
        .filter(|d| d.error() == Some("Zoom.RateLimited"))
        .count();
    assert_eq!(rate_limited, 1, "one Zoom.RateLimited, then a retry");
    let scheduled = |function: &str| {
        history
            .events()
            .iter()
            .filter_map(|e| e.task_scheduled_event_details())
            .filter(|d| {
                d.parameters()
                    .contains(&format!("\"FunctionName\":\"zoomvault-{function}\""))
            })
            .count()
    };
    // The first request under /v2/meetings/ is IngestMetadata's read of
    // the recording (the webhook's event only names it).
    assert_eq!(scheduled("ingest-metadata"), 2);
    assert_eq!(scheduled("finalize"), 1);
    let put_events = history
        .events()
        .iter()
        .filter_map(|e| e.task_scheduled_event_details())
        .filter(|d| d.resource_type() == "events" && d.resource() == "putEvents")
        .count();
    assert_eq!(put_events, 1, "AnnounceArchived sends the events once");
    assert_eq!(scheduled("begin-file"), 1);
    assert_eq!(scheduled("retrieve-parts"), 2);
    assert_eq!(scheduled("complete-file"), 1);
    assert_eq!(scheduled("retrieve-file"), meeting.files.len() - 1);
    let metrics = emulator.metrics("zoomvault-retrieve-parts").unwrap();
    assert_eq!(metrics.invocations, 2, "each batch is its own invocation");

    // The rule's target, invoked with the event: the site lands in S3.
    let built = invoke(&lambda, "build-site", &rebuild).await;
    assert_eq!(built["recordings"], 1, "{built}");
    let page = stack.object("site/index.html").await;
    let page = String::from_utf8_lossy(&page);
    assert!(
        page.contains(&zoomvault_site::escape(&meeting.topic)),
        "{page}"
    );

    // A manual start of the same recording names the same execution.
    let manual = invoke(
        &lambda,
        "start-ingest",
        &json!({ "recording_uuid": meeting.uuid }),
    )
    .await;
    assert_eq!(
        manual["executions"][0]["outcome"], "already_exists",
        "{manual}"
    );
    assert_eq!(manual["executions"][0]["execution_arn"], json!(execution));
    // By its meeting number (its latest instance, found through Zoom's
    // API with the credentials from SSM): the same execution.
    let by_number = invoke(
        &lambda,
        "start-ingest",
        &json!({ "meeting_id": meeting.id }),
    )
    .await;
    assert_eq!(
        by_number["executions"][0]["execution_arn"],
        json!(execution),
        "{by_number}"
    );

    // The index lost: rebuild-index restores the entry from the document
    // in S3, and a second run (resuming: nothing left) writes nothing.
    let before = index.get(&meeting.uuid).await.unwrap().expect("indexed");
    assert!(index.delete(&meeting.uuid).await.unwrap());
    let rebuilt = invoke(
        &lambda,
        "rebuild-index",
        &sample("rebuild-index/fresh.json"),
    )
    .await;
    assert_eq!(
        (&rebuilt["found"], &rebuilt["written"], &rebuilt["complete"]),
        (&json!(1), &json!(1), &json!(true)),
        "{rebuilt}"
    );
    assert_eq!(
        index.get(&meeting.uuid).await.unwrap(),
        Some(before.clone())
    );
    let again = invoke(
        &lambda,
        "rebuild-index",
        &sample("rebuild-index/resume.json"),
    )
    .await;
    assert_eq!(
        (&again["written"], &again["unchanged"]),
        (&json!(0), &json!(1)),
        "{again}"
    );

    // A corrected title: reindex-recording writes it to S3 and DynamoDB
    // and asks for a site rebuild; an invalid edit is refused by name.
    let mut document: Value =
        serde_json::from_slice(&stack.object(before.document_key.clone()).await).unwrap();
    document["meeting"]["topic"] = json!("Corrected on AWS");
    let reindexed = invoke(&lambda, "reindex-recording", &document).await;
    assert_eq!(reindexed["changed"], true, "{reindexed}");
    assert_eq!(reindexed["fields"], json!(["/meeting/topic"]));
    let entry = index.get(&meeting.uuid).await.unwrap().unwrap();
    assert_eq!(entry.topic, "Corrected on AWS");
    document["files"][0]["size_bytes"] = json!(1);
    let refused = lambda
        .invoke()
        .function_name("zoomvault-reindex-recording")
        .payload(aws_sdk_lambda::primitives::Blob::new(
            serde_json::to_vec(&document).unwrap(),
        ))
        .send()
        .await
        .unwrap();
    let error: Value = serde_json::from_slice(refused.payload().unwrap().as_ref()).unwrap();
    assert_eq!(error["errorType"], "Reindex.Refused", "{error}");

    // A meeting whose webhook never came: the daily scan (its scheduled
    // input) starts its ingest, which archives it; a dry run then finds
    // nothing left to start.
    let missed = sim.add_meeting(MeetingSpec {
        files: vec![FileSpec::audio(4096)],
        ..MeetingSpec::default()
    });
    let scanned = invoke(
        &lambda,
        "scan-missed-meetings",
        &sample("scan-missed-meetings/scheduled.json"),
    )
    .await;
    assert_eq!(scanned["started_count"], 1, "{scanned}");
    assert_eq!(scanned["started"][0]["recording_uuid"], json!(missed.uuid));
    let name = scanned["started"][0]["execution_name"].as_str().unwrap();
    let described = finished(&sfn, &zoomvault_arn::execution(&machine, name)).await;
    assert_eq!(
        described.status,
        aws_sdk_sfn::types::ExecutionStatus::Succeeded,
        "{:?} {:?}",
        described.error,
        described.cause
    );
    assert!(index.get(&missed.uuid).await.unwrap().is_some());
    let again = invoke(
        &lambda,
        "scan-missed-meetings",
        &sample("scan-missed-meetings/dry-run.json"),
    )
    .await;
    assert_eq!(
        (&again["started_count"], &again["dry_run"]),
        (&json!(0), &json!(true)),
        "{again}"
    );

    // A recording of two years ago, ingested by hand, is past the year
    // of retention: purge-recordings names it in a dry run, then deletes
    // its objects and its entry after writing its disposition record;
    // the recent ones stay, and a second run purges nothing.
    let old = sim.add_meeting(MeetingSpec {
        start_time: Some(time::OffsetDateTime::now_utc() - time::Duration::days(730)),
        files: vec![FileSpec::audio(2048)],
        ..MeetingSpec::default()
    });
    let started = invoke(
        &lambda,
        "start-ingest",
        &json!({ "recording_uuid": old.uuid }),
    )
    .await;
    let arn = started["executions"][0]["execution_arn"].as_str().unwrap();
    let described = finished(&sfn, arn).await;
    assert_eq!(
        described.status,
        aws_sdk_sfn::types::ExecutionStatus::Succeeded,
        "{:?} {:?}",
        described.cause,
        described.error
    );
    let old_entry = index.get(&old.uuid).await.unwrap().expect("archived");
    let dry = invoke(
        &lambda,
        "purge-recordings",
        &sample("purge-recordings/dry-run.json"),
    )
    .await;
    assert_eq!(dry["purged_count"], 1, "{dry}");
    assert!(
        index.get(&old.uuid).await.unwrap().is_some(),
        "a dry run deletes nothing"
    );
    let purged = invoke(
        &lambda,
        "purge-recordings",
        &sample("purge-recordings/scheduled.json"),
    )
    .await;
    assert_eq!(purged["purged_count"], 1, "{purged}");
    assert_eq!(purged["purged"][0]["recording_uuid"], json!(old.uuid));
    assert_eq!(index.get(&old.uuid).await.unwrap(), None);
    let prefix = old_entry.document_key.trim_end_matches("recording.json");
    let left = stack
        .s3
        .list_objects_v2()
        .bucket(&stack.bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    assert_eq!(
        left.key_count(),
        Some(0),
        "every object of the recording is gone"
    );
    let record = stack
        .object(purged["purged"][0]["disposition_key"].as_str().unwrap())
        .await;
    let record: Value = serde_json::from_slice(&record).unwrap();
    assert_eq!(record["recording_uuid"], json!(old.uuid));
    assert_eq!(record["rule"]["days"], 365);
    assert!(
        index.get(&meeting.uuid).await.unwrap().is_some(),
        "recent ones stay"
    );
    let again = invoke(
        &lambda,
        "purge-recordings",
        &sample("purge-recordings/scheduled.json"),
    )
    .await;
    assert_eq!(again["purged_count"], 0, "{again}");

    emulator.shutdown().await;
    let _ = stop_engine.send(());
    engine.await.unwrap().unwrap();
}
