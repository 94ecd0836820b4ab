//! One SQLite connection shared by an adapter's clones, used on tokio's
//! blocking threads so async callers never wait on disk in the runtime.
//!
//! This module opens and runs; it must not know any adapter's tables.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::Connection;

use super::Error;

#[derive(Debug, Clone)]
pub(crate) struct Database {
    connection: Arc<Mutex<Connection>>,
}

impl Database {
    /// Opens `path` in WAL mode and applies `schema` (idempotent DDL).
    ///
    /// `synchronous=NORMAL` in WAL mode: a committed transaction survives a
    /// process crash; only an OS crash or power loss can lose the last
    /// commits, never corrupt the file (the engine's journal makes the same
    /// trade).
    pub(crate) fn open(path: &Path, schema: &str) -> Result<Database, Error> {
        let open_error = |source| Error::Open {
            path: path.to_owned(),
            source,
        };
        let connection = Connection::open(path).map_err(open_error)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA busy_timeout = 5000;",
            )
            .map_err(open_error)?;
        connection.execute_batch(schema).map_err(open_error)?;
        Ok(Database {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let connection = self.connection.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves the connection usable:
            // SQLite rolls back any transaction the panic abandoned.
            let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut connection)
        })
        .await?
    }
}
