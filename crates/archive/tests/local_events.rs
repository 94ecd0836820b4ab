//! The local event queue: events are durable, delivered in order until
//! acknowledged, and wake a waiting consumer in the same process. Each test
//! opens its own queue file; none sleeps to wait for a wake-up.

mod common;

use common::TestDir;
use zoomvault_archive::local::{Error, EventSeq, LocalEventSink};
use zoomvault_archive::ports::events::{ArchiveEvent, EventSink, RebuildReason};

fn rebuild(uuid: &str) -> ArchiveEvent {
    ArchiveEvent::SiteRebuildRequested {
        reason: RebuildReason::RecordingArchived,
        recording_uuid: Some(uuid.to_owned()),
    }
}

fn open(dir: &TestDir) -> LocalEventSink {
    LocalEventSink::open(dir.path().join("zoomvault.db")).expect("open queue")
}

#[tokio::test]
async fn events_are_delivered_in_order_until_acknowledged() {
    let dir = TestDir::new("events-order");
    let sink = open(&dir);
    for uuid in ["a", "b", "c"] {
        sink.emit(rebuild(uuid)).await.expect("emit");
    }
    let batch = sink.pending(2).await.expect("pending");
    let events: Vec<_> = batch.iter().map(|queued| queued.event.clone()).collect();
    assert_eq!(events, [rebuild("a"), rebuild("b")]);

    // Not acknowledged yet: delivered again.
    assert_eq!(sink.pending(2).await.expect("pending"), batch);
    assert_eq!(sink.ack(batch[1].seq).await.expect("ack"), 2);
    let rest = sink.pending(10).await.expect("pending");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].event, rebuild("c"));
    assert!(rest[0].seq > batch[1].seq);
}

#[tokio::test]
async fn the_queue_survives_reopening() {
    let dir = TestDir::new("events-durable");
    {
        let sink = open(&dir);
        sink.emit(rebuild("a")).await.expect("emit");
        sink.emit(rebuild("b")).await.expect("emit");
        let first = sink.pending(1).await.expect("pending");
        sink.ack(first[0].seq).await.expect("ack");
    }
    let sink = open(&dir);
    let pending = sink.pending(10).await.expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].event, rebuild("b"));
}

#[tokio::test]
async fn a_waiting_consumer_wakes_on_emit() {
    let dir = TestDir::new("events-wake");
    let sink = open(&dir);
    let consumer = tokio::spawn({
        let sink = sink.clone();
        async move { sink.next_batch(10).await }
    });
    // Let the consumer start waiting on an empty queue first.
    tokio::task::yield_now().await;
    sink.emit(rebuild("a")).await.expect("emit");
    let batch = consumer.await.expect("consumer ran").expect("batch");
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].event, rebuild("a"));
}

#[tokio::test]
async fn an_unreadable_event_is_reported_and_can_be_skipped() {
    let dir = TestDir::new("events-unreadable");
    let sink = open(&dir);
    sink.emit(rebuild("a")).await.expect("emit");
    // An event written by some other version of zoomvault.
    rusqlite::Connection::open(dir.path().join("zoomvault.db"))
        .and_then(|db| {
            db.execute(
                "INSERT INTO archive_events (detail_type, detail) VALUES ('FromTheFuture', '{}')",
                [],
            )
        })
        .expect("insert");
    sink.emit(rebuild("b")).await.expect("emit");

    // The readable event before it is delivered on its own...
    let first = sink.pending(10).await.expect("pending");
    assert_eq!(first.len(), 1);
    sink.ack(first[0].seq).await.expect("ack");
    // ...then the unreadable one is reported by its sequence number...
    let seq = match sink.pending(10).await {
        Err(Error::UnreadableEvent { seq, .. }) => seq,
        other => panic!("expected an unreadable event, got {other:?}"),
    };
    assert_eq!(seq, EventSeq(first[0].seq.0 + 1));
    sink.ack(seq).await.expect("skip it");
    // ...and once skipped, the queue moves on.
    let rest = sink.pending(10).await.expect("pending");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].event, rebuild("b"));
}
