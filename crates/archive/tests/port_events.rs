//! The event port's shared suite ([`zoomvault_archive::port_tests::events`])
//! against `LocalEventSink`, one test per check, each on a queue file of
//! its own; the probe reads the queue and acknowledges what it read.

mod common;

use async_trait::async_trait;
use common::TestDir;
use zoomvault_archive::local::LocalEventSink;
use zoomvault_archive::port_tests::events::{self, EventProbe};
use zoomvault_archive::ports::EventEntry;

/// Reads the local queue as the site builder does: a batch, then an ack.
#[derive(Debug)]
struct QueueProbe(LocalEventSink);

#[async_trait]
impl EventProbe for QueueProbe {
    async fn receive(&self, count: usize) -> Vec<EventEntry> {
        let batch = self.0.pending(count).await.expect("pending");
        if let Some(last) = batch.last() {
            self.0.ack(last.seq).await.expect("ack");
        }
        batch
            .iter()
            .map(|queued| queued.event.to_entry().expect("encodes"))
            .collect()
    }
}

macro_rules! suite {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let dir = TestDir::new(stringify!($check));
                let sink = LocalEventSink::open(dir.path().join("zoomvault.db")).expect("open");
                events::$check(&sink, &QueueProbe(sink.clone())).await;
            }
        )*
    };
}

zoomvault_archive::event_checks!(suite);
