//! `events:putEvents` with an EventBridge endpoint configured: a real
//! engine sends a state machine's entries through aws-sdk-eventbridge to
//! moto's EventBridge (crates/aws/tests/support/moto.rs), where a rule on
//! the entries' source delivers them to an SQS queue the test reads. It
//! checks the task's result shape, the event as delivered (detail, and
//! the execution's and state machine's ARNs appended to `resources`, as
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html>
//! says), and that a refused entry fails the task with
//! `EventBridge.FailedEntry`.

#[path = "../../aws/tests/support/moto.rs"]
mod moto;
#[path = "../../aws/tests/support/rules_to_queue.rs"]
mod rules_to_queue;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use zoomvault_engine::{Engine, EngineConfig, Handlers, Status};
use zoomvault_integrations::events::{self, EventTarget, PUT_EVENTS};

/// A bus of its own whose one rule sends `source` `test.integration`
/// events to a new queue; the queue's URL.
async fn bus_to_queue(
    events: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
) -> (String, String) {
    let bus = moto::unique("bus");
    let queue_url = rules_to_queue::rules_to_queue(
        events,
        sqs,
        &bus,
        &[("integration", r#"{"source": ["test.integration"]}"#)],
    )
    .await;
    (bus, queue_url)
}

async fn receive_one(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let batch = sqs
            .receive_message()
            .queue_url(queue_url)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive_message");
        if let Some(message) = batch.messages().first() {
            return serde_json::from_str(message.body().expect("a body")).expect("JSON");
        }
    }
    panic!("no event reached the queue");
}

#[tokio::test]
async fn entries_go_to_eventbridge_with_the_execution_as_a_resource() {
    let config = moto::moto().sdk_config();
    let client = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let (bus, queue_url) = bus_to_queue(&client, &sqs).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut handlers = Handlers::new();
    events::register(&mut handlers, EventTarget::EventBridge(client));
    let engine =
        Engine::open(EngineConfig::new(dir.path().join("engine.db")), handlers).expect("engine");
    let definition = json!({
        "StartAt": "Send",
        "States": {
            "Send": {"Type": "Task", "Resource": PUT_EVENTS, "ResultPath": "$.sent", "Next": "Refused",
                     "Parameters": {"Entries": [{"Source": "test.integration", "DetailType": "Greeting",
                                                 "Detail": {"Message.$": "$.message"}, "EventBusName": bus}]}},
            "Refused": {"Type": "Task", "Resource": PUT_EVENTS, "ResultPath": "$.refused", "End": true,
                        "Parameters": {"Entries": [{"Source": "test.integration", "DetailType": "Greeting",
                                                    "Detail": "not JSON", "EventBusName": bus}]},
                        "Catch": [{"ErrorEquals": ["EventBridge.FailedEntry"], "ResultPath": "$.refused",
                                   "Next": "Done"}]},
            "Done": {"Type": "Succeed"}
        }
    });
    let machine = engine
        .create_state_machine("put-events", &definition.to_string(), None)
        .expect("valid")
        .arn;
    let started = engine
        .start_execution(&machine, Some("greet"), json!({"message": "hello"}))
        .await
        .expect("started");
    let row = engine.wait_for(&started.execution_arn).await.expect("ends");
    assert_eq!(row.status, Status::Succeeded, "{row:?}");
    let output: Value =
        serde_json::from_str(row.output.as_deref().unwrap_or("null")).expect("JSON");
    assert_eq!(output["sent"]["FailedEntryCount"], json!(0), "{output}");
    assert!(
        output["sent"]["Entries"][0]["EventId"].is_string(),
        "{output}"
    );
    assert_eq!(
        output["refused"]["Error"],
        json!("EventBridge.FailedEntry"),
        "{output}"
    );

    let event = receive_one(&sqs, &queue_url).await;
    assert_eq!(event["detail"], json!({"Message": "hello"}));
    assert_eq!(event["detail-type"], json!("Greeting"));
    assert_eq!(
        event["resources"],
        json!([started.execution_arn, machine]),
        "the execution's and its state machine's ARNs"
    );
    engine.shutdown();
}
