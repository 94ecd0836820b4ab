//! The recording index port's shared suite: one `pub async fn` per promise
//! of [`RecordingIndex`] (conditional upsert, order, the access patterns,
//! paging, refusals, delete and clear), each taking the adapter as
//! `&dyn RecordingIndex`. Every check needs an empty index of its own; an
//! adapter's test binary calls each from its own `#[tokio::test]`, so a
//! failure names the broken promise.
//!
//! The checks use only the port; they must not know any adapter.

use futures_util::stream::{self, StreamExt, TryStreamExt};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::ports::index::{
    Cursor, Error, IndexEntry, ListFilter, ListPage, ListQuery, RecordingIndex, Upserted,
    MAX_LIST_LIMIT,
};

/// An entry of meeting 85746065432 hosted by `host@example.com`, ingested
/// at 2024-06-01 00:00 UTC.
pub fn entry(recording_uuid: &str, start_time: OffsetDateTime) -> IndexEntry {
    IndexEntry {
        recording_uuid: recording_uuid.to_owned(),
        meeting_id: 85746065432,
        topic: format!("topic of {recording_uuid}"),
        start_time,
        duration_minutes: 30,
        host_email: Some("host@example.com".to_owned()),
        file_count: 2,
        total_bytes: 1234,
        document_key: format!("recordings/x/{recording_uuid}/recording.json"),
        ingested_at: datetime!(2024-06-01 0:00 UTC),
    }
}

fn uuids(entries: &[IndexEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.recording_uuid.as_str()).collect()
}

/// Upserts every entry, a few at a time (a remote index is slow one by one).
async fn upsert_all(index: &dyn RecordingIndex, entries: &[IndexEntry]) {
    let outcomes: Vec<Upserted> = stream::iter(entries.iter().cloned())
        .map(|entry| index.upsert(entry))
        .buffer_unordered(16)
        .try_collect()
        .await
        .expect("upsert");
    assert!(outcomes.iter().all(|o| *o == Upserted::Written));
}

async fn list(index: &dyn RecordingIndex, query: ListQuery) -> ListPage {
    let description = format!("{query:?}");
    match index.list(query).await {
        Ok(page) => page,
        Err(error) => panic!("list {description}: {error}"),
    }
}

/// Every entry `query` matches, following `next` page by page; checks each
/// page is full unless it is the last.
async fn list_all(index: &dyn RecordingIndex, query: ListQuery) -> Vec<IndexEntry> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = list(
            index,
            ListQuery {
                after: after.take(),
                ..query.clone()
            },
        )
        .await;
        assert!(page.entries.len() <= query.limit, "page over its limit");
        if page.next.is_some() {
            assert_eq!(page.entries.len(), query.limit, "a short page has a next");
        }
        all.extend(page.entries);
        match page.next {
            Some(next) => after = Some(next),
            None => return all,
        }
    }
}

fn query(limit: usize, filter: ListFilter) -> ListQuery {
    ListQuery {
        limit,
        filter,
        ..ListQuery::default()
    }
}

/// `get` returns exactly what was upserted (offset and sub-second start
/// included), and nothing for an unknown UUID.
pub async fn upsert_then_get(index: &dyn RecordingIndex) {
    let stored = IndexEntry {
        start_time: datetime!(2024-03-05 14:00:00.25 +01:00),
        ..entry("aDYlohsHRtCd4ii1uC2+hA==", datetime!(2024-03-05 13:00 UTC))
    };
    let without_host = IndexEntry {
        host_email: None,
        topic: String::new(),
        ..entry("b/Z+9==", datetime!(2024-03-06 9:00 UTC))
    };
    for e in [&stored, &without_host] {
        assert_eq!(
            index.upsert(e.clone()).await.expect("upsert"),
            Upserted::Written
        );
        let got = index.get(&e.recording_uuid).await.expect("get");
        assert_eq!(got.as_ref(), Some(e));
    }
    assert_eq!(index.get("unknown==").await.expect("get"), None);
}

/// A stored entry ingested later is kept; one ingested earlier is replaced.
pub async fn upsert_keeps_a_later_ingested_entry(index: &dyn RecordingIndex) {
    let newer = IndexEntry {
        topic: "from the later ingest".to_owned(),
        ingested_at: datetime!(2024-06-02 0:00 UTC),
        ..entry("rec==", datetime!(2024-03-05 14:00 UTC))
    };
    assert_eq!(
        index.upsert(newer.clone()).await.expect("upsert"),
        Upserted::Written
    );
    let late = IndexEntry {
        topic: "from a late retry".to_owned(),
        ingested_at: datetime!(2024-06-01 23:59:59.999 UTC),
        ..newer.clone()
    };
    assert_eq!(
        index.upsert(late).await.expect("upsert"),
        Upserted::KeptNewer
    );
    assert_eq!(index.get("rec==").await.expect("get"), Some(newer.clone()));

    let newest = IndexEntry {
        topic: "from an even later ingest".to_owned(),
        ingested_at: datetime!(2024-06-02 0:00:00.001 UTC),
        ..newer
    };
    assert_eq!(
        index.upsert(newest.clone()).await.expect("upsert"),
        Upserted::Written
    );
    assert_eq!(index.get("rec==").await.expect("get"), Some(newest));
}

/// An entry with the same ingest time (a reindex of the same document, or a
/// retried write) rewrites the stored one, whatever else changed.
pub async fn upsert_with_an_equal_ingest_time_rewrites(index: &dyn RecordingIndex) {
    let first = entry("rec==", datetime!(2024-03-05 14:00 UTC));
    assert_eq!(
        index.upsert(first.clone()).await.expect("upsert"),
        Upserted::Written
    );
    let edited = IndexEntry {
        topic: "corrected topic".to_owned(),
        start_time: datetime!(2024-03-05 15:00 +01:00),
        host_email: None,
        meeting_id: 1,
        // The same instant in another offset.
        ingested_at: datetime!(2024-06-01 2:00 +02:00),
        ..first
    };
    assert_eq!(
        index.upsert(edited.clone()).await.expect("upsert"),
        Upserted::Written
    );
    assert_eq!(index.get("rec==").await.expect("get"), Some(edited));
    // The rewrite moved it out of the host's listing and into meeting 1's.
    let by_host = ListFilter::Host("host@example.com".to_owned());
    assert!(list(index, query(10, by_host)).await.entries.is_empty());
    let by_meeting = list(index, query(10, ListFilter::Meeting(1))).await;
    assert_eq!(uuids(&by_meeting.entries), ["rec=="]);
    assert_eq!(list(index, ListQuery::default()).await.entries.len(), 1);
}

/// Newest first by start second, ties by UUID descending, whatever the
/// offsets the times were written in.
pub async fn lists_newest_first_with_ties_broken_by_uuid(index: &dyn RecordingIndex) {
    upsert_all(
        index,
        &[
            entry("old", datetime!(2023-01-01 9:00 UTC)),
            entry("tie-b", datetime!(2024-02-01 9:00 UTC)),
            entry("newest", datetime!(2024-12-31 23:00 UTC)),
            entry("tie-a", datetime!(2024-02-01 10:00 +01:00)),
            entry("tie-c", datetime!(2024-02-01 4:00 -05:00)),
            entry("mid", datetime!(2024-01-15 9:00 UTC)),
        ],
    )
    .await;
    let page = list(index, query(10, ListFilter::All)).await;
    assert_eq!(
        uuids(&page.entries),
        ["newest", "tie-c", "tie-b", "tie-a", "mid", "old"]
    );
    assert_eq!(page.next, None);
}

/// 250 entries over 40 start times (many ties), walked with pages of 1
/// (the first few), 7, 249, 250 and the maximum: every entry once, in
/// order, full pages, and `next` exactly when more follow.
pub async fn pages_visit_every_entry_once(index: &dyn RecordingIndex) {
    let base = datetime!(2024-01-01 0:00 UTC);
    let entries: Vec<IndexEntry> = (0..250)
        .map(|i| {
            let start = base + Duration::hours(i % 40);
            entry(&format!("r{:03}+/{}==", (i * 37) % 250, i % 3), start)
        })
        .collect();
    upsert_all(index, &entries).await;
    let mut expected = entries.clone();
    expected
        .sort_by(|a, b| (b.start_time, &b.recording_uuid).cmp(&(a.start_time, &a.recording_uuid)));
    let expected = uuids(&expected);

    let paged = list_all(index, query(7, ListFilter::All)).await;
    assert_eq!(uuids(&paged), expected);

    // Pages of one, for a few pages.
    let mut after = None;
    for want in &expected[..5] {
        let page = list(
            index,
            ListQuery {
                after: after.take(),
                ..query(1, ListFilter::All)
            },
        )
        .await;
        assert_eq!(uuids(&page.entries), [*want]);
        after = Some(page.next.expect("more follow"));
    }

    for (limit, next) in [(249, true), (250, false), (MAX_LIST_LIMIT, false)] {
        let page = list(index, query(limit, ListFilter::All)).await;
        assert_eq!(uuids(&page.entries), expected[..limit.min(250)]);
        assert_eq!(page.next.is_some(), next, "limit {limit}");
    }
}

/// By meeting: every instance of one meeting id, newest first, paged.
pub async fn lists_by_meeting(index: &dyn RecordingIndex) {
    let base = datetime!(2024-01-01 9:00 UTC);
    let entries: Vec<IndexEntry> = (0..12)
        .map(|i| IndexEntry {
            meeting_id: if i % 3 == 0 { 111 } else { 85746065432 },
            ..entry(&format!("m{i:02}"), base + Duration::days(i))
        })
        .collect();
    upsert_all(index, &entries).await;
    let of_111 = list_all(index, query(2, ListFilter::Meeting(111))).await;
    assert_eq!(uuids(&of_111), ["m09", "m06", "m03", "m00"]);
    let other = list_all(index, query(3, ListFilter::Meeting(85746065432))).await;
    assert_eq!(other.len(), 8);
    assert_eq!(other[0].recording_uuid, "m11");
    let none = list(index, query(10, ListFilter::Meeting(u64::MAX))).await;
    assert!(none.entries.is_empty() && none.next.is_none());
}

/// By host email: exact match, newest first, paged; entries without a host
/// are in no host's listing (but in the date listing).
pub async fn lists_by_host(index: &dyn RecordingIndex) {
    let base = datetime!(2024-01-01 9:00 UTC);
    let entries: Vec<IndexEntry> = (0..10)
        .map(|i| IndexEntry {
            host_email: match i % 3 {
                0 => Some("alice@example.com".to_owned()),
                1 => Some("bob@example.com".to_owned()),
                _ => None,
            },
            ..entry(&format!("h{i:02}"), base + Duration::days(i))
        })
        .collect();
    upsert_all(index, &entries).await;
    let alice = ListFilter::Host("alice@example.com".to_owned());
    assert_eq!(
        uuids(&list_all(index, query(2, alice)).await),
        ["h09", "h06", "h03", "h00"]
    );
    let bob = ListFilter::Host("bob@example.com".to_owned());
    assert_eq!(
        uuids(&list_all(index, query(5, bob)).await),
        ["h07", "h04", "h01"]
    );
    let case = ListFilter::Host("Alice@example.com".to_owned());
    assert!(list(index, query(5, case)).await.entries.is_empty());
    assert_eq!(list_all(index, query(3, ListFilter::All)).await.len(), 10);
}

/// `started_before` keeps recordings whose start second is before the
/// instant, in every listing and across pages.
pub async fn started_before_is_a_strict_cut_off(index: &dyn RecordingIndex) {
    let entries = [
        entry("before", datetime!(2024-03-05 9:59:59 UTC)),
        entry("at", datetime!(2024-03-05 10:00:00 UTC)),
        entry("after", datetime!(2024-03-05 10:00:01 UTC)),
        entry("long-before", datetime!(2020-01-01 0:00 UTC)),
        IndexEntry {
            meeting_id: 7,
            host_email: None,
            ..entry("other-meeting", datetime!(2024-03-01 0:00 UTC))
        },
    ];
    upsert_all(index, &entries).await;
    let before = |limit, filter, instant| ListQuery {
        started_before: Some(instant),
        ..query(limit, filter)
    };
    let ten = datetime!(2024-03-05 10:00 UTC);
    let all = list_all(index, before(1, ListFilter::All, ten)).await;
    assert_eq!(uuids(&all), ["before", "other-meeting", "long-before"]);
    // The same instant in another offset.
    let all = list_all(
        index,
        before(2, ListFilter::All, datetime!(2024-03-05 11:00 +01:00)),
    )
    .await;
    assert_eq!(uuids(&all), ["before", "other-meeting", "long-before"]);
    // Whole seconds: a recording that started at 10:00:00 started before 10:00:00.5.
    let half = datetime!(2024-03-05 10:00:00.5 UTC);
    let all = list_all(index, before(10, ListFilter::All, half)).await;
    assert_eq!(
        uuids(&all),
        ["at", "before", "other-meeting", "long-before"]
    );
    let meeting = ListFilter::Meeting(85746065432);
    assert_eq!(
        uuids(&list_all(index, before(1, meeting, ten)).await),
        ["before", "long-before"]
    );
    let host = ListFilter::Host("host@example.com".to_owned());
    assert_eq!(
        uuids(&list_all(index, before(10, host, ten)).await),
        ["before", "long-before"]
    );
    let nothing = list(
        index,
        before(10, ListFilter::All, datetime!(2019-01-01 0:00 UTC)),
    )
    .await;
    assert!(nothing.entries.is_empty() && nothing.next.is_none());
}

/// A limit outside 1..=MAX_LIST_LIMIT is refused, in every listing.
pub async fn an_invalid_limit_is_refused(index: &dyn RecordingIndex) {
    for filter in [
        ListFilter::All,
        ListFilter::Meeting(1),
        ListFilter::Host("host@example.com".to_owned()),
    ] {
        for limit in [0, MAX_LIST_LIMIT + 1] {
            let result = index.list(query(limit, filter.clone())).await;
            assert!(
                matches!(result, Err(Error::InvalidLimit(l)) if l == limit),
                "{filter:?} {limit}: {result:?}"
            );
        }
    }
}

/// A cursor the index did not issue, or issued for another listing, is
/// refused.
pub async fn a_forged_or_foreign_cursor_is_refused(index: &dyn RecordingIndex) {
    let base = datetime!(2024-01-01 9:00 UTC);
    let entries: Vec<IndexEntry> = (0..3)
        .map(|i| entry(&format!("c{i}"), base + Duration::days(i)))
        .collect();
    upsert_all(index, &entries).await;
    let issued = list(index, query(1, ListFilter::All))
        .await
        .next
        .expect("a cursor");
    let refused = |filter: ListFilter, cursor: Cursor| ListQuery {
        after: Some(cursor),
        ..query(10, filter)
    };
    let mut attempts = vec![
        refused(ListFilter::All, Cursor::new("not a cursor")),
        refused(ListFilter::All, Cursor::new("")),
        refused(ListFilter::All, Cursor::new(format!("{issued}x"))),
        refused(ListFilter::Meeting(85746065432), issued.clone()),
        refused(
            ListFilter::Host("host@example.com".to_owned()),
            issued.clone(),
        ),
    ];
    let meeting_cursor = list(index, query(1, ListFilter::Meeting(85746065432)))
        .await
        .next
        .expect("a cursor");
    attempts.push(refused(ListFilter::Meeting(1), meeting_cursor.clone()));
    attempts.push(refused(ListFilter::All, meeting_cursor));
    for attempt in attempts {
        let description = format!("{attempt:?}");
        let result = index.list(attempt).await;
        assert!(
            matches!(result, Err(Error::InvalidCursor(_))),
            "{description}: {result:?}"
        );
    }
    // The issued cursor still works where it belongs.
    let rest = list(
        index,
        ListQuery {
            after: Some(issued),
            ..query(10, ListFilter::All)
        },
    )
    .await;
    assert_eq!(uuids(&rest.entries), ["c1", "c0"]);
}

/// Entries the index cannot keep (see [`IndexEntry::check`]) are refused
/// and nothing is stored.
pub async fn invalid_entries_are_refused(index: &dyn RecordingIndex) {
    let valid = entry("rec==", datetime!(2024-03-05 14:00 UTC));
    for invalid in [
        IndexEntry {
            recording_uuid: String::new(),
            ..valid.clone()
        },
        IndexEntry {
            host_email: Some(String::new()),
            ..valid.clone()
        },
    ] {
        let result = index.upsert(invalid).await;
        assert!(
            matches!(result, Err(Error::InvalidEntry { .. })),
            "{result:?}"
        );
    }
    assert_eq!(index.get("rec==").await.expect("get"), None);
    assert!(list(index, ListQuery::default()).await.entries.is_empty());
}

/// `delete` removes one entry from `get` and every listing, and says
/// whether there was one.
pub async fn delete_removes_one_entry(index: &dyn RecordingIndex) {
    upsert_all(
        index,
        &[
            entry("kept", datetime!(2024-03-05 14:00 UTC)),
            entry("gone", datetime!(2024-03-06 14:00 UTC)),
        ],
    )
    .await;
    assert!(index.delete("gone").await.expect("delete"));
    assert!(!index.delete("gone").await.expect("delete again"));
    assert_eq!(index.get("gone").await.expect("get"), None);
    assert!(index.get("kept").await.expect("get").is_some());
    for filter in [
        ListFilter::All,
        ListFilter::Meeting(85746065432),
        ListFilter::Host("host@example.com".to_owned()),
    ] {
        assert_eq!(
            uuids(&list(index, query(10, filter)).await.entries),
            ["kept"]
        );
    }
}

/// `clear` empties the index, however many entries it holds, and the index
/// takes entries again afterwards.
pub async fn clear_empties_the_index(index: &dyn RecordingIndex) {
    let base = datetime!(2024-01-01 9:00 UTC);
    let entries: Vec<IndexEntry> = (0..60)
        .map(|i| entry(&format!("x{i:02}"), base + Duration::minutes(i)))
        .collect();
    upsert_all(index, &entries).await;
    index.clear().await.expect("clear");
    let page = list(index, query(MAX_LIST_LIMIT, ListFilter::All)).await;
    assert!(page.entries.is_empty() && page.next.is_none());
    assert_eq!(index.get("x00").await.expect("get"), None);
    index.clear().await.expect("clear an empty index");
    upsert_all(index, &entries[..1]).await;
    assert_eq!(list(index, ListQuery::default()).await.entries.len(), 1);
}
