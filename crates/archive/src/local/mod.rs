//! Local adapters of the ports, for the embedded mode: a directory for
//! objects, SQLite for the index and for the event queue. They may share one
//! SQLite file (each owns its own table) or use separate ones.
//!
//! These adapters must behave as the ports promise and as their AWS
//! counterparts will, so that what passes locally holds on AWS; they must
//! not add behaviour the ports do not state.

mod database;
pub mod dir_store;
pub mod event_queue;
pub mod sqlite_index;

pub use dir_store::{DirObjectStore, DirStoreConfig, SweepReport};
pub use event_queue::{EventSeq, LocalEventSink, QueuedEvent};
pub use sqlite_index::SqliteIndex;

/// Failures of the SQLite adapters outside the ports (opening, consuming
/// events); within a port they are that port's `Backend` or `Unavailable`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("local database {path}: {source}")]
    Open {
        path: std::path::PathBuf,
        source: rusqlite::Error,
    },
    #[error("local database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("local database holds an unreadable {what}: {source}")]
    Corrupt {
        what: String,
        source: serde_json::Error,
    },
    #[error("queued event {seq} cannot be read (acknowledge it to skip it): {source}")]
    UnreadableEvent {
        seq: EventSeq,
        source: serde_json::Error,
    },
    #[error("local database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl Error {
    /// Whether retrying may help: another connection holds the write lock.
    fn is_busy(&self) -> bool {
        matches!(
            self,
            Error::Sqlite(rusqlite::Error::SqliteFailure(failure, _))
                if matches!(
                    failure.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                )
        )
    }
}
