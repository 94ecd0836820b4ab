//! An EventBridge bus on moto whose rules deliver what they match to an
//! SQS queue of its own, so a test reads the queue to see what a rule
//! matched. Shared by the tests that send events through a bus (the
//! EventBridge adapter's, the putEvents integration's, the AWS deployment's
//! end to end), each including this file and `moto.rs` beside it.

#![allow(dead_code)]

use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs::types::QueueAttributeName;

/// Creates the bus `bus`, a new queue, and each `(name, pattern)` rule on
/// the bus with that queue as its target; the queue's URL.
pub async fn rules_to_queue(
    events: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    bus: &str,
    rules: &[(&str, &str)],
) -> String {
    events
        .create_event_bus()
        .name(bus)
        .send()
        .await
        .expect("create_event_bus");
    let queue_url = sqs
        .create_queue()
        .queue_name(super::moto::unique("events"))
        .send()
        .await
        .expect("create_queue")
        .queue_url
        .expect("a queue url");
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("get_queue_attributes")
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .expect("a queue arn");
    for (rule, pattern) in rules {
        events
            .put_rule()
            .name(*rule)
            .event_bus_name(bus)
            .event_pattern(*pattern)
            .send()
            .await
            .expect("put_rule");
        events
            .put_targets()
            .rule(*rule)
            .event_bus_name(bus)
            .targets(
                Target::builder()
                    .id("queue")
                    .arn(&queue_arn)
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("put_targets");
    }
    queue_url
}
