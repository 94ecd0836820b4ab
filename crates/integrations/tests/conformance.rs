//! The service integrations' data-driven conformance suite: every JSON
//! file under `crates/integrations/tests/conformance/<integration>/` is one
//! case in the engine's case format (`crates/engine/tests/conformance/runner.rs`,
//! included here, documents it), run by the same runner on an engine whose
//! handlers also include every integration, wired to the local adapters as
//! `serve` wires them (`tools/zoomvault/src/embedded.rs`):
//!
//! - `events:putEvents` goes to archive's local event queue
//!   (`LocalEventSink`, in the case's directory), or, for a case with an
//!   `eventbridge_rule` (an event pattern), to moto's EventBridge, where
//!   that rule on the default bus sends what it matches to a new SQS
//!   queue of the case's own (so what EventBridge delivered, `resources`
//!   included, can be checked);
//! - `aws-sdk:s3:*` has one bucket, `archive-bucket`, a directory object
//!   store (`DirObjectStore`) rooted at the runner's directory for that
//!   bucket, so a case's `objects` and `expect_objects` name its objects
//!   as `objects/<key>` (the store's own layout, as on disk);
//! - `states:startExecution` starts executions on the case's own engine
//!   (a case creates the child's state machine with `state_machines`);
//! - `dynamodb:*` goes to moto's DynamoDB (started once per run, on first
//!   use) for a case that lists the tables it needs, each created empty
//!   before the run:
//!   `"dynamodb_tables": [{"name": "t1", "key": "pk"}]` (a string hash key
//!   of that name); without that key the integration has no endpoint.
//!
//! Every case here must name the AWS page it follows in `source`. What
//! the integrations' adapters hold after the run is checked by two keys
//! only this suite reads: `expect_events`, the archive events left on the
//! local queue, in order, each as `{"detail-type": ..., "detail": ...}`;
//! `expect_delivered`, the events the `eventbridge_rule` delivered, in
//! order, each a partial event (as the runner's `history_events`: every
//! member given must be there, equal; `id`, `time` and the like are left
//! out); and `expect_items`, each listed table's items (in DynamoDB's
//! JSON, sorted by key) after the run.

#[path = "../../engine/tests/conformance/runner.rs"]
mod runner;

#[path = "../../aws/tests/support/moto.rs"]
mod moto;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use runner::{CaseExtension, CaseSetup, Extension};
use serde_json::Value;
use zoomvault_archive::local::{DirObjectStore, LocalEventSink};
use zoomvault_archive::ports::ObjectStore;
use zoomvault_engine::{Engine, Handlers};
use zoomvault_integrations::dynamodb::TableTarget;
use zoomvault_integrations::events::EventTarget;
use zoomvault_integrations::s3::Buckets;
use zoomvault_integrations::states::NestedExecutions;
use zoomvault_integrations::{register, Services};

/// The one bucket `aws-sdk:s3` tasks may name.
const BUCKET: &str = "archive-bucket";

/// Every integration, on adapters in the case's own directory.
struct Integrations;

/// One case's adapters.
struct CaseAdapters {
    events: Arc<LocalEventSink>,
    /// The queue the case's `eventbridge_rule` delivers to.
    delivered: Option<(aws_sdk_sqs::Client, String)>,
    executions: NestedExecutions,
    dynamodb: Option<aws_sdk_dynamodb::Client>,
}

impl Extension for Integrations {
    fn prepare(
        &self,
        setup: &CaseSetup<'_>,
        handlers: &mut Handlers,
    ) -> Result<Box<dyn CaseExtension>, String> {
        let events = Arc::new(
            LocalEventSink::open(setup.dir.join("events.db"))
                .map_err(|e| format!("the event queue did not open: {e}"))?,
        );
        let store: Arc<dyn ObjectStore> = Arc::new(
            DirObjectStore::open(setup.buckets.join(BUCKET))
                .map_err(|e| format!("the object store did not open: {e}"))?,
        );
        let dynamodb = match setup.case.get("dynamodb_tables") {
            None => None,
            Some(tables) => Some(dynamodb_with_tables(tables)?),
        };
        let (target, delivered) = match setup.case.get("eventbridge_rule") {
            None => (EventTarget::Local(events.clone()), None),
            Some(pattern) => {
                let (client, sqs, queue) = eventbridge_rule_to_queue(pattern)?;
                (EventTarget::EventBridge(client), Some((sqs, queue)))
            }
        };
        let executions = NestedExecutions::new();
        register(
            handlers,
            &Services {
                events: target,
                // No tables: no endpoint, as `engine serve` without one
                // (the local index table has its own tests, local_table.rs).
                dynamodb: match &dynamodb {
                    Some(client) => TableTarget::Endpoint(client.clone()),
                    None => TableTarget::None,
                },
                buckets: Buckets::new([(BUCKET.to_owned(), store)]),
                executions: executions.clone(),
            },
        );
        Ok(Box::new(CaseAdapters {
            events,
            delivered,
            executions,
            dynamodb,
        }))
    }
}

impl CaseExtension for CaseAdapters {
    fn opened(&mut self, engine: &Engine) {
        self.executions.attach(engine);
    }

    fn check<'a>(
        &'a self,
        case: &'a Value,
    ) -> Pin<Box<dyn Future<Output = Vec<String>> + Send + 'a>> {
        Box::pin(async move {
            let mut diff = Vec::new();
            if let Some(want) = case.get("expect_events") {
                diff.extend(self.check_events(want).await);
            }
            if let Some(want) = case.get("expect_delivered").and_then(Value::as_array) {
                diff.extend(self.check_delivered(want).await);
            }
            if let Some(want) = case.get("expect_items") {
                diff.extend(self.check_items(want).await);
            }
            diff
        })
    }
}

impl CaseAdapters {
    async fn check_events(&self, want: &Value) -> Vec<String> {
        let queued = match self.events.pending(1000).await {
            Ok(q) => q,
            Err(e) => return vec![format!("the event queue could not be read: {e}")],
        };
        let got: Vec<Value> = queued
            .iter()
            .map(|q| serde_json::to_value(&q.event).unwrap_or(Value::Null))
            .collect();
        let got = Value::Array(got);
        if &got == want {
            Vec::new()
        } else {
            vec![format!(
                "archive events differ:\n  expected: {want}\n  got:      {got}"
            )]
        }
    }

    /// Reads the case's queue once, then on until it has as many events as
    /// `want` (or a few seconds passed), and compares them in order.
    async fn check_delivered(&self, want: &[Value]) -> Vec<String> {
        let Some((sqs, queue)) = &self.delivered else {
            return vec!["expect_delivered needs eventbridge_rule".into()];
        };
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        // At least one read, so that "nothing delivered" is looked at too.
        let mut first = true;
        while first || (got.len() < want.len() && Instant::now() < deadline) {
            first = false;
            let batch = match sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
            {
                Ok(b) => b,
                Err(e) => return vec![format!("the queue could not be read: {e}")],
            };
            for message in batch.messages() {
                let body = message.body().unwrap_or_default();
                got.push(serde_json::from_str(body).unwrap_or(Value::String(body.into())));
            }
        }
        let matched = got.len() == want.len()
            && got
                .iter()
                .zip(want)
                .all(|(g, w)| runner::matches_partially(&runner::redact_uuids(g.clone()), w));
        if matched {
            Vec::new()
        } else {
            vec![format!(
                "delivered events differ:\n  expected: {}\n  got:      {}",
                Value::Array(want.to_vec()),
                Value::Array(got)
            )]
        }
    }

    async fn check_items(&self, want: &Value) -> Vec<String> {
        let Some(client) = &self.dynamodb else {
            return vec!["expect_items needs dynamodb_tables".into()];
        };
        let mut diff = Vec::new();
        for (table, want) in want.as_object().into_iter().flatten() {
            let scanned = match client.scan().table_name(table).send().await {
                Ok(s) => s,
                Err(e) => {
                    diff.push(format!("table {table} could not be scanned: {e}"));
                    continue;
                }
            };
            let mut items: Vec<Value> = scanned
                .items()
                .iter()
                .map(zoomvault_integrations::dynamodb::item_to_json)
                .collect();
            items.sort_by_key(|item| item.to_string());
            let got = Value::Array(items);
            if &got != want {
                diff.push(format!(
                    "items of {table} differ:\n  expected: {want}\n  got:      {got}"
                ));
            }
        }
        diff
    }
}

/// A client of moto's EventBridge whose default bus has a rule of its own
/// with `pattern`, delivering to a new queue; that queue's client and URL.
fn eventbridge_rule_to_queue(
    pattern: &Value,
) -> Result<(aws_sdk_eventbridge::Client, aws_sdk_sqs::Client, String), String> {
    let config = moto::moto().sdk_config();
    let events = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let (rule_events, rule_sqs) = (events.clone(), sqs.clone());
    let pattern = pattern.to_string();
    // The runner prepares a case inside its runtime, synchronously.
    let queue = tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(async move {
            let name = moto::unique("conformance");
            let queue = rule_sqs
                .create_queue()
                .queue_name(&name)
                .send()
                .await
                .map_err(|e| format!("create_queue: {e}"))?
                .queue_url
                .ok_or("a queue without a URL")?;
            let arn = rule_sqs
                .get_queue_attributes()
                .queue_url(&queue)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .send()
                .await
                .map_err(|e| format!("get_queue_attributes: {e}"))?
                .attributes
                .and_then(|mut a| a.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
                .ok_or("a queue without an ARN")?;
            rule_events
                .put_rule()
                .name(&name)
                .event_pattern(pattern)
                .send()
                .await
                .map_err(|e| format!("put_rule: {e}"))?;
            let target = aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(arn)
                .build()
                .map_err(|e| e.to_string())?;
            rule_events
                .put_targets()
                .rule(&name)
                .targets(target)
                .send()
                .await
                .map_err(|e| format!("put_targets: {e}"))?;
            Ok::<_, String>(queue)
        })
    })?;
    Ok((events, sqs, queue))
}

/// A client of moto's DynamoDB in which each of `tables` exists, empty.
fn dynamodb_with_tables(tables: &Value) -> Result<aws_sdk_dynamodb::Client, String> {
    let client = aws_sdk_dynamodb::Client::new(&moto::moto().sdk_config());
    let tables: Vec<(String, String)> = tables
        .as_array()
        .ok_or("dynamodb_tables is a list")?
        .iter()
        .map(|t| match (t["name"].as_str(), t["key"].as_str()) {
            (Some(name), Some(key)) => Ok((name.to_owned(), key.to_owned())),
            _ => Err(format!("a table needs a name and a key: {t}")),
        })
        .collect::<Result<_, _>>()?;
    let created = client.clone();
    // The runner prepares a case inside its runtime, synchronously.
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(async move {
            for (name, key) in tables {
                // A table an earlier case of this run left is dropped first.
                let _ = created.delete_table().table_name(&name).send().await;
                created
                    .create_table()
                    .table_name(&name)
                    .attribute_definitions(
                        AttributeDefinition::builder()
                            .attribute_name(&key)
                            .attribute_type(ScalarAttributeType::S)
                            .build()
                            .map_err(|e| e.to_string())?,
                    )
                    .key_schema(
                        KeySchemaElement::builder()
                            .attribute_name(&key)
                            .key_type(KeyType::Hash)
                            .build()
                            .map_err(|e| e.to_string())?,
                    )
                    .billing_mode(BillingMode::PayPerRequest)
                    .send()
                    .await
                    .map_err(|e| format!("table {name} was not created: {e}"))?;
            }
            Ok::<_, String>(())
        })
    })?;
    Ok(client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance() {
    runner::run(&runner::Suite {
        root: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance"),
        sources_required_under: &[""],
        extension: &Integrations,
    })
    .await;
}
