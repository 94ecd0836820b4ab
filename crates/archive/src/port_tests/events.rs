//! The event port's shared suite: one `pub async fn` per promise of
//! [`EventSink`] (each event kind arrives with its detail-type and detail;
//! events arrive in the order they were emitted), each taking the adapter
//! as `&dyn EventSink` and an [`EventProbe`], supplied by the test, that
//! reads back what arrived at the far end (the local queue; on AWS, an SQS
//! queue that EventBridge rules deliver to). Every check needs a sink and
//! probe of its own with nothing delivered yet.
//!
//! The checks use only the port and the probe; they must not know any
//! adapter.

use std::fmt;

use async_trait::async_trait;

use crate::ports::events::{ArchiveEvent, EventEntry, EventSink, RebuildReason};

/// Reads back the events a sink delivered, as entries (detail-type and
/// detail), oldest first.
#[async_trait]
pub trait EventProbe: Send + Sync + fmt::Debug {
    /// The next `count` events delivered since the last call, in delivery
    /// order; fewer only if they did not arrive within the probe's own
    /// patience (a remote probe waits a few seconds, a local one not at all).
    async fn receive(&self, count: usize) -> Vec<EventEntry>;
}

fn archived(uuid: &str) -> ArchiveEvent {
    ArchiveEvent::RecordingArchived {
        recording_uuid: uuid.to_owned(),
        meeting_id: 85746065432,
        document_key: format!("recordings/2024/03/05/85746065432/{uuid}/recording.json"),
    }
}

fn rebuild(reason: RebuildReason, uuid: Option<&str>) -> ArchiveEvent {
    ArchiveEvent::SiteRebuildRequested {
        reason,
        recording_uuid: uuid.map(str::to_owned),
    }
}

/// Emits `events` and checks the probe receives exactly their entries, in
/// order, each reading back as the event emitted.
async fn round_trip(sink: &dyn EventSink, probe: &dyn EventProbe, events: &[ArchiveEvent]) {
    for event in events {
        sink.emit(event.clone()).await.expect("emit");
    }
    let received = probe.receive(events.len()).await;
    let expected: Vec<EventEntry> = events
        .iter()
        .map(|event| event.to_entry().expect("encodes"))
        .collect();
    assert_eq!(received, expected);
    for (entry, event) in received.iter().zip(events) {
        assert_eq!(ArchiveEvent::from_entry(entry).ok().as_ref(), Some(event));
    }
}

/// `RecordingArchived` arrives with its detail-type and detail.
pub async fn recording_archived_arrives(sink: &dyn EventSink, probe: &dyn EventProbe) {
    let event = archived("aDYlohsHRtCd4ii1uC2+hA==");
    round_trip(sink, probe, std::slice::from_ref(&event)).await;
    let received = event.to_entry().expect("encodes");
    assert_eq!(received.detail_type, "RecordingArchived");
}

/// `SiteRebuildRequested` arrives with its detail-type and detail, with and
/// without a recording.
pub async fn site_rebuild_requested_arrives(sink: &dyn EventSink, probe: &dyn EventProbe) {
    let events = [
        rebuild(RebuildReason::RecordingArchived, Some("b/Z+9==")),
        rebuild(RebuildReason::IndexRebuilt, None),
    ];
    round_trip(sink, probe, &events).await;
    assert_eq!(
        events[0].to_entry().expect("encodes").detail_type,
        "SiteRebuildRequested"
    );
}

/// Events of both kinds arrive in the order they were emitted.
pub async fn events_arrive_in_emit_order(sink: &dyn EventSink, probe: &dyn EventProbe) {
    let events = [
        archived("one"),
        rebuild(RebuildReason::RecordingArchived, Some("one")),
        archived("two"),
        rebuild(RebuildReason::RecordingReindexed, Some("two")),
        rebuild(RebuildReason::RecordingPurged, None),
        rebuild(RebuildReason::Requested, None),
    ];
    round_trip(sink, probe, &events).await;
}
