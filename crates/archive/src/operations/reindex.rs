//! Reindexing a recording from an edited `recording.json`: a title was
//! wrong, a host's name missing. The edited document is validated against
//! the schema (every violation named by its JSON pointer), compared with
//! the archived one, and written to the store and the index, and the site
//! is asked to rebuild.
//!
//! What identifies the recording and what vouches for its files must not
//! change: the UUID (the recording itself), the meeting number and start
//! time (they place it in the key tree), and each file's storage key, size
//! and checksums. A change to the UUID or to where the document lives is
//! always refused (that would be another recording); a change to a file's
//! facts only with `force` (after a file was repaired by hand, say).
//! Nothing is written unless the whole document passes, and a document
//! equal to the archived one writes nothing.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::document::{self, RecordingDocument};
use crate::ports::{
    events, index, object_store, ArchiveEvent, EventSink, IndexEntry, ObjectStore, RebuildReason,
    RecordingIndex,
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(#[from] document::Error),
    #[error("no archived recording {uuid:?} at {key} (reindex edits an archived recording's document; ingest it first)")]
    NotArchived { uuid: String, key: String },
    #[error("{field} must not change ({before} -> {after}): it identifies the recording and where it is stored")]
    Identity {
        field: String,
        before: String,
        after: String,
    },
    #[error("fields that vouch for the archived files changed (use force if the files were repaired):{}", changed.iter().map(|c| format!("\n  {c}")).collect::<String>())]
    Protected { changed: Vec<String> },
    #[error("the archived document at {key} is unreadable: {reason}")]
    Archived { key: String, reason: String },
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("index: {0}")]
    Index(#[from] index::Error),
    #[error("events: {0}")]
    Events(#[from] events::Error),
}

impl Error {
    /// Whether running again as it is may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Store(e) => e.is_transient(),
            Error::Index(e) => e.is_transient(),
            Error::Events(e) => e.is_transient(),
            _ => false,
        }
    }
}

/// What a reindex did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReindexReport {
    pub recording_uuid: String,
    pub document_key: String,
    /// `false` when the edited document equals the archived one.
    pub changed: bool,
    /// The JSON pointers of what changed.
    pub fields: Vec<String>,
}

/// Validates `edited` (a `recording.json`'s bytes) and, if it may replace
/// the archived document, writes it to `store` and `index` and asks for a
/// site rebuild on `events`.
pub async fn reindex(
    store: &dyn ObjectStore,
    index: &dyn RecordingIndex,
    events: &dyn EventSink,
    edited: &[u8],
    force: bool,
) -> Result<ReindexReport, Error> {
    let value: Value = serde_json::from_slice(edited).map_err(document::Error::Json)?;
    let new = document::validate(&value)?;
    // The entry the index will hold, and with it where the document lives.
    let entry = IndexEntry::from_document(&new).map_err(|e| {
        document::Error::Invalid(vec![document::Violation {
            pointer: "/meeting".into(),
            message: e.to_string(),
        }])
    })?;
    let key = entry.document_key.clone();
    let uuid = new.meeting.uuid.clone();
    // The archived document: where the index says it is, else where the
    // edited one's own keys put it.
    let archived_key = match index.get(&uuid).await? {
        Some(entry) => entry.document_key,
        None => key.clone(),
    };
    let old_bytes = match store.get(&archived_key).await {
        Ok(bytes) => bytes,
        Err(object_store::Error::NotFound { .. }) => {
            return Err(Error::NotArchived {
                uuid,
                key: archived_key,
            })
        }
        Err(e) => return Err(e.into()),
    };
    let old = RecordingDocument::from_json(&old_bytes).map_err(|e| Error::Archived {
        key: archived_key.clone(),
        reason: e.to_string(),
    })?;
    for (field, before, after) in [
        (
            "/meeting/id",
            old.meeting.id.to_string(),
            new.meeting.id.to_string(),
        ),
        (
            "/meeting/start_time",
            old.meeting.start_time.to_string(),
            new.meeting.start_time.to_string(),
        ),
    ] {
        if before != after {
            return Err(Error::Identity {
                field: field.into(),
                before,
                after,
            });
        }
    }
    if archived_key != key {
        return Err(Error::Identity {
            field: "the document's key".into(),
            before: archived_key,
            after: key,
        });
    }
    let old_value = serde_json::to_value(&old).expect("a document serialises");
    let new_value = serde_json::to_value(&new).expect("a document serialises");
    let mut fields = Vec::new();
    diff("", &old_value, &new_value, &mut fields);
    let protected: Vec<String> = fields
        .iter()
        .filter(|pointer| is_protected(pointer))
        .cloned()
        .collect();
    if !protected.is_empty() && !force {
        return Err(Error::Protected { changed: protected });
    }
    if fields.is_empty() {
        return Ok(ReindexReport {
            recording_uuid: uuid,
            document_key: key,
            changed: false,
            fields,
        });
    }
    let json = new.to_json()?;
    store
        .put(&key, Bytes::from(json), "application/json")
        .await?;
    index.upsert(entry).await?;
    events
        .emit(ArchiveEvent::SiteRebuildRequested {
            reason: RebuildReason::RecordingReindexed,
            recording_uuid: Some(uuid.clone()),
        })
        .await?;
    tracing::info!(recording = %uuid, fields = ?fields, "reindexed");
    Ok(ReindexReport {
        recording_uuid: uuid,
        document_key: key,
        changed: true,
        fields,
    })
}

/// Whether a changed field vouches for an archived file: its storage key,
/// size, checksums, or the list of files itself.
fn is_protected(pointer: &str) -> bool {
    if pointer == "/files" {
        return true;
    }
    let Some(rest) = pointer.strip_prefix("/files/") else {
        return false;
    };
    let field = rest.split_once('/').map_or("", |(_, field)| field);
    field.is_empty() || ["storage_key", "size_bytes", "crc64nvme", "sha256"].contains(&field)
}

/// The JSON pointers at which `a` and `b` differ: the deepest object
/// member that differs; arrays of different lengths as a whole.
fn diff(pointer: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (x.get(key), y.get(key)) {
                    (Some(p), Some(q)) => diff(&child, p, q, out),
                    _ => out.push(child),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{pointer}/{i}"), p, q, out);
            }
        }
        _ if a != b => out.push(pointer.to_owned()),
        _ => {}
    }
}
