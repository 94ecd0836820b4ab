//! The WAL checkpointer: a thread with its own connection that copies the
//! write-ahead log into the database every 500 ms (`PASSIVE`), so no
//! commit of the engine thread or the admin connection pays for it.

use crate::engine::Result;
use crate::store::Store;
use std::sync::mpsc;
use std::time::Duration;

/// How often the checkpointer copies the WAL into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Checkpoints the WAL from its own connection and thread, so no commit of
/// the engine thread (or of the admin connection) pays for it.
pub(crate) fn spawn_checkpointer(db_path: &std::path::Path) -> Result<mpsc::Sender<()>> {
    let store = Store::open(db_path)?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("zoomvault-checkpoint".into())
        .spawn(move || loop {
            match stopped.recv_timeout(CHECKPOINT_EVERY) {
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Err(error) = store.checkpoint() {
                        tracing::warn!(%error, "WAL checkpoint failed; will retry");
                    }
                }
                // The engine is gone (or asked us to stop).
                _ => return,
            }
        })
        .expect("spawn the checkpoint thread");
    Ok(stop)
}
