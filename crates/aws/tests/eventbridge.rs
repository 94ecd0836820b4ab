//! `EventBridgeSink` on moto's EventBridge: the event port's shared suite
//! ([`zoomvault_archive::port_tests::events`]), one test per check. Each
//! test makes its own bus with the deployment's two rules (the documented
//! patterns, from the adapter's constants) targeting its own SQS queue,
//! and reads that queue as the probe: an event arrives only if a rule
//! matched it, so arrival proves its source and detail-type.

#[path = "support/moto.rs"]
mod moto;
#[path = "support/rules_to_queue.rs"]
mod rules_to_queue;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use zoomvault_archive::port_tests::events::{self, EventProbe};
use zoomvault_archive::ports::events::{ArchiveEvent, EventSink, RebuildReason};
use zoomvault_archive::ports::EventEntry;
use zoomvault_aws::eventbridge::{
    EventBridgeSink, RECORDING_ARCHIVED_PATTERN, SITE_REBUILD_PATTERN, SOURCE,
};

/// Reads the SQS queue the rules deliver to, deleting what it read.
#[derive(Debug)]
struct QueueProbe {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

#[async_trait]
impl EventProbe for QueueProbe {
    async fn receive(&self, count: usize) -> Vec<EventEntry> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut received = Vec::new();
        while received.len() < count && Instant::now() < deadline {
            let batch = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(i32::try_from(count - received.len()).unwrap_or(10).min(10))
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive_message");
            for message in batch.messages() {
                let event: Value =
                    serde_json::from_str(message.body().expect("a body")).expect("JSON body");
                assert_eq!(event["source"], SOURCE, "{event}");
                received.push(EventEntry {
                    detail_type: event["detail-type"]
                        .as_str()
                        .expect("detail-type")
                        .to_owned(),
                    detail: event["detail"].clone(),
                });
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().expect("a receipt handle"))
                    .send()
                    .await
                    .expect("delete_message");
            }
        }
        received
    }
}

/// A bus of its own with the deployment's rules, both delivering to one
/// new queue.
async fn bus_with_rules() -> (EventBridgeSink, QueueProbe) {
    let config = moto::moto().sdk_config();
    let events = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let bus = moto::unique("bus");
    let queue_url = rules_to_queue::rules_to_queue(
        &events,
        &sqs,
        &bus,
        &[
            ("site-rebuild", SITE_REBUILD_PATTERN),
            ("recording-archived", RECORDING_ARCHIVED_PATTERN),
        ],
    )
    .await;
    (
        EventBridgeSink::new(events, bus),
        QueueProbe { sqs, queue_url },
    )
}

macro_rules! suite {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let (sink, probe) = bus_with_rules().await;
                events::$check(&sink, &probe).await;
            }
        )*
    };
}

zoomvault_archive::event_checks!(suite);

/// A bus that does not exist is an error, not a silently lost event.
#[tokio::test]
async fn emitting_to_a_missing_bus_fails() {
    let events = aws_sdk_eventbridge::Client::new(&moto::moto().sdk_config());
    let sink = EventBridgeSink::new(events, moto::unique("no-such-bus"));
    let result = sink
        .emit(ArchiveEvent::SiteRebuildRequested {
            reason: RebuildReason::Requested,
            recording_uuid: None,
        })
        .await;
    let error = result.expect_err("no bus");
    assert!(!error.is_transient(), "{error:?}");
}
