//! Rebuilding the recording index from the documents in the object store:
//! the store is the truth, the index a summary of it that can always be
//! made again (after it was lost, restored from an old backup, or written
//! by a bug).
//!
//! The walk goes one day of the key tree at a time (`recordings/YYYY/MM/DD/`,
//! [`ObjectStore::list_prefixes`] down to the days, then one `list` per
//! day), so it holds one day's keys, never the whole archive's. Each
//! `recording.json` is read, validated against the schema and checked to
//! sit where its own keys say; its index entry is written unless the index
//! already holds exactly that entry (so a second run writes nothing) or a
//! later-ingested one (the index's conditional upsert). Documents that fail
//! are counted with their reason and left alone. When the walk is done,
//! index entries whose document is gone are removed.
//!
//! It is resumable: after each day a checkpoint (the last day done and the
//! counts so far) is stored at [`CHECKPOINT_KEY`], and a run that finds one
//! goes on after that day, unless asked to start afresh. A run stops
//! between days once its deadline has passed (a Lambda's 15 minutes) and
//! says it is not complete; the next run resumes. The checkpoint is removed
//! when a run completes.

use std::collections::BTreeSet;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::document::RecordingDocument;
use crate::keys;
use crate::ports::index::{self, IndexEntry, ListQuery, RecordingIndex, Upserted};
use crate::ports::object_store::{self, ObjectStore};
use crate::ports::{ArchiveEvent, EventSink, RebuildReason};

/// Where an unfinished rebuild keeps its place.
pub const CHECKPOINT_KEY: &str = keys::REBUILD_CHECKPOINT_KEY;

/// How many invalid documents a report names; the rest are only counted.
pub const MAX_NAMED_INVALID: usize = 1_000;

/// Documents read at once within a day.
const CONCURRENCY: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct RebuildOptions {
    /// Ignore (and replace) a checkpoint left by an unfinished run.
    pub fresh: bool,
    /// Stop between days once this instant has passed.
    pub deadline: Option<Instant>,
    /// Stop after this many days in this run (a batch at a time).
    pub max_days: Option<u64>,
}

/// What a rebuild found and did, over every run since the last complete
/// one (a resumed run carries the counts on).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebuildReport {
    /// `recording.json` objects found.
    pub found: u64,
    /// Index entries written (missing or different before).
    pub written: u64,
    /// Documents whose entry the index already held as it is.
    pub unchanged: u64,
    /// Documents whose entry the index holds from a later ingest, kept.
    pub kept_newer: u64,
    /// Documents that could not be indexed; the first
    /// [`MAX_NAMED_INVALID`] are named in `invalid`.
    pub invalid_count: u64,
    pub invalid: Vec<InvalidDocument>,
    /// Index entries removed because their document is gone.
    pub stale_removed: u64,
    /// Days of the key tree walked.
    pub days: u64,
    /// Whether the whole archive was walked; `false` when the deadline
    /// stopped the run (call again to resume).
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidDocument {
    pub key: String,
    pub reason: String,
}

/// Progress, after each day.
#[derive(Debug, Clone, Copy)]
pub struct RebuildProgress<'a> {
    pub days_done: u64,
    pub days_total: u64,
    pub report: &'a RebuildReport,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("index: {0}")]
    Index(#[from] index::Error),
    #[error("the rebuild checkpoint at {CHECKPOINT_KEY} is unreadable ({0}); run again afresh to replace it")]
    Checkpoint(String),
}

impl Error {
    /// Whether running again may succeed as it is.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Store(e) => e.is_transient(),
            Error::Index(e) => e.is_transient(),
            Error::Checkpoint(_) => false,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    /// Every day up to and including this one is done.
    after_day: String,
    report: RebuildReport,
}

/// Asks for a site rebuild when a rebuild changed the index (entries
/// written or removed), as the site lists what the index holds; a rebuild
/// that changed nothing asks for nothing. Its callers call it once a run
/// is over, whether or not the walk is complete.
pub async fn request_site_rebuild(
    events: &dyn EventSink,
    report: &RebuildReport,
) -> Result<bool, crate::ports::events::Error> {
    if report.written == 0 && report.stale_removed == 0 {
        return Ok(false);
    }
    events
        .emit(ArchiveEvent::SiteRebuildRequested {
            reason: RebuildReason::IndexRebuilt,
            recording_uuid: None,
        })
        .await?;
    Ok(true)
}

/// Rebuilds `index` from the documents in `store` (see the module's
/// documentation); `progress` is called after each day.
pub async fn rebuild_index(
    store: &dyn ObjectStore,
    index: &dyn RecordingIndex,
    options: &RebuildOptions,
    progress: &(dyn Fn(RebuildProgress<'_>) + Sync),
) -> Result<RebuildReport, Error> {
    let checkpoint = if options.fresh {
        None
    } else {
        read_checkpoint(store).await?
    };
    let (after_day, mut report) = match checkpoint {
        Some(c) => (Some(c.after_day), c.report),
        None => (None, RebuildReport::default()),
    };
    report.complete = false;
    let days = days(store).await?;
    let days_total = days.len() as u64;
    let mut this_run = 0;
    for (done_before, day) in days.iter().enumerate() {
        let days_done = done_before as u64 + 1;
        if after_day.as_ref().is_some_and(|after| day <= after) {
            continue;
        }
        if options.deadline.is_some_and(|at| Instant::now() >= at)
            || options.max_days.is_some_and(|max| this_run >= max)
        {
            return Ok(report);
        }
        this_run += 1;
        index_day(store, index, day, &mut report).await?;
        report.days += 1;
        write_checkpoint(
            store,
            &Checkpoint {
                after_day: day.clone(),
                report: report.clone(),
            },
        )
        .await?;
        progress(RebuildProgress {
            days_done,
            days_total,
            report: &report,
        });
    }
    report.stale_removed += remove_stale(store, index).await?;
    report.complete = true;
    store.delete(CHECKPOINT_KEY).await?;
    Ok(report)
}

/// Every day of the key tree (`recordings/YYYY/MM/DD/`), in key order.
async fn days(store: &dyn ObjectStore) -> Result<Vec<String>, object_store::Error> {
    let mut level = vec![keys::RECORDINGS_PREFIX.to_owned()];
    // Years, months, days.
    for _ in 0..3 {
        let mut next = Vec::new();
        for prefix in &level {
            next.extend(store.list_prefixes(prefix).await?);
        }
        level = next;
    }
    Ok(level)
}

async fn index_day(
    store: &dyn ObjectStore,
    index: &dyn RecordingIndex,
    day: &str,
    report: &mut RebuildReport,
) -> Result<(), Error> {
    let documents: Vec<String> = store
        .list(day)
        .await?
        .into_iter()
        .map(|meta| meta.key)
        .filter(|key| keys::is_document_key(key))
        .collect();
    let outcomes: Vec<Outcome> = futures_util::stream::iter(documents)
        .map(|key| index_document(store, index, key))
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    for outcome in outcomes {
        report.found += 1;
        match outcome {
            Outcome::Written => report.written += 1,
            Outcome::Unchanged => report.unchanged += 1,
            Outcome::KeptNewer => report.kept_newer += 1,
            Outcome::Invalid(invalid) => {
                report.invalid_count += 1;
                if report.invalid.len() < MAX_NAMED_INVALID {
                    report.invalid.push(invalid);
                }
            }
        }
    }
    Ok(())
}

enum Outcome {
    Written,
    Unchanged,
    KeptNewer,
    Invalid(InvalidDocument),
}

async fn index_document(
    store: &dyn ObjectStore,
    index: &dyn RecordingIndex,
    key: String,
) -> Result<Outcome, Error> {
    let bytes = match store.get(&key).await {
        Ok(bytes) => bytes,
        // Deleted since the listing (a purge): nothing to index.
        Err(object_store::Error::NotFound { .. }) => {
            return Ok(invalid(key, "deleted while the rebuild ran".into()))
        }
        Err(e) => return Err(e.into()),
    };
    let document = match RecordingDocument::from_json(&bytes) {
        Ok(document) => document,
        Err(e) => return Ok(invalid(key, e.to_string())),
    };
    let entry = match IndexEntry::from_document(&document) {
        Ok(entry) => entry,
        Err(e) => return Ok(invalid(key, e.to_string())),
    };
    if entry.document_key != key {
        let reason = format!(
            "the document belongs at {} by its own meeting, start time and UUID",
            entry.document_key
        );
        return Ok(invalid(key, reason));
    }
    if index.get(&entry.recording_uuid).await?.as_ref() == Some(&entry) {
        return Ok(Outcome::Unchanged);
    }
    match index.upsert(entry).await {
        Ok(Upserted::Written) => Ok(Outcome::Written),
        Ok(Upserted::KeptNewer) => Ok(Outcome::KeptNewer),
        Err(index::Error::InvalidEntry { reason, .. }) => Ok(invalid(key, reason)),
        Err(e) => Err(e.into()),
    }
}

fn invalid(key: String, reason: String) -> Outcome {
    Outcome::Invalid(InvalidDocument { key, reason })
}

/// Removes index entries whose document is gone; how many.
async fn remove_stale(store: &dyn ObjectStore, index: &dyn RecordingIndex) -> Result<u64, Error> {
    let mut stale = BTreeSet::new();
    let mut after = None;
    loop {
        let page = index
            .list(ListQuery {
                limit: index::MAX_LIST_LIMIT,
                after,
                ..ListQuery::default()
            })
            .await?;
        let missing: Vec<Option<String>> = futures_util::stream::iter(page.entries)
            .map(|entry| async move {
                let present = store.head(&entry.document_key).await?.is_some();
                Ok::<_, Error>((!present).then_some(entry.recording_uuid))
            })
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        stale.extend(missing.into_iter().flatten());
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut removed = 0;
    for uuid in stale {
        if index.delete(&uuid).await? {
            removed += 1;
        }
    }
    Ok(removed)
}

async fn read_checkpoint(store: &dyn ObjectStore) -> Result<Option<Checkpoint>, Error> {
    match store.get(CHECKPOINT_KEY).await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Checkpoint(e.to_string())),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn write_checkpoint(store: &dyn ObjectStore, checkpoint: &Checkpoint) -> Result<(), Error> {
    let body = serde_json::to_vec(checkpoint).expect("a checkpoint serialises");
    store
        .put(CHECKPOINT_KEY, Bytes::from(body), "application/json")
        .await?;
    Ok(())
}
