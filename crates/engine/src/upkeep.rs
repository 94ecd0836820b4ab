//! The journal's upkeep: a thread with its own connection that keeps the
//! journal's files bounded, so no commit of the engine thread or the admin
//! connection pays for it.
//!
//! Every 500 ms it copies the write-ahead log into the database (`PASSIVE`,
//! which holds nothing back). SQLite never shrinks the log file on its own,
//! so when a burst has left it larger than `store::WAL_SIZE_LIMIT`, the
//! thread truncates it once the engine has been quiet for a whole round
//! (`LogWatch`).
//!
//! A minute after start and then hourly by the engine's clock, and
//! whenever `Engine::delete_closed_executions` asks, it runs a retention
//! sweep. The sweep chooses the closed executions to remove on this
//! thread's connection; the engine thread deletes them, `SWEEP_BATCH` per
//! transaction, checking each is still closed (so a sweep never races a
//! redrive), and then gives the freed pages back to the file system,
//! `VACUUM_CHUNK` per transaction (`driver::Sweep`).
//!
//! This thread deletes nothing itself, never waits for the lock that
//! commits take, and takes it only to truncate the log of a quiet engine.

use crate::clock::Clock;
use crate::driver::{Msg, Sweep};
use crate::engine::{Error, Result};
use crate::store::{Store, WAL_SIZE_LIMIT};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How often the WAL is copied into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// When the first scheduled sweep runs, by the engine's clock: after start,
/// not at it, so it does not compete with recovery for the engine thread.
const FIRST_SWEEP_AFTER: Duration = Duration::from_secs(60);

/// How often, by the engine's clock, the scheduled sweep runs after the
/// first.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Executions deleted per transaction of the engine thread. 500 held it
/// for 30-65 ms on the bench machine, which StartExecution calls queued
/// behind it felt; 100 keep a batch near 10 ms.
const SWEEP_BATCH: usize = 100;

/// Free pages given back per transaction of the engine thread: 2 MiB of
/// 4 KiB pages. 2048 pages took 15-35 ms a chunk and put StartExecution's
/// p99 during a sweep at 40 ms; 512 keep it under 10 ms.
const VACUUM_CHUNK: u32 = 512;

/// What the upkeep thread is asked to do besides its schedule.
pub(crate) enum Request {
    /// Remove the closed executions that stopped before `closed_before_ms`;
    /// answered with how many were removed.
    Sweep {
        closed_before_ms: i64,
        reply: oneshot::Sender<Result<u64>>,
    },
}

/// Starts the upkeep thread on `store`, its own connection. `driver` is the
/// engine thread's mailbox; `retention` how long a closed execution is kept
/// by the scheduled sweeps (`None`: no scheduled sweeps), its age judged by
/// `clock`. The thread ends when the returned sender is dropped.
pub(crate) fn spawn(
    store: Store,
    driver: mpsc::Sender<Msg>,
    clock: Clock,
    retention: Option<Duration>,
) -> mpsc::Sender<Request> {
    let (requests, received) = mpsc::channel();
    std::thread::Builder::new()
        .name("zoomvault-upkeep".into())
        .spawn(move || {
            let mut log = LogWatch::default();
            // The schedule follows the engine's clock, as everything timed
            // in the engine does, so a virtual clock moved on by a test
            // brings the sweep with it.
            let mut next_sweep_ms = clock.now_ms().saturating_add(millis(FIRST_SWEEP_AFTER));
            loop {
                match received.recv_timeout(CHECKPOINT_EVERY) {
                    Ok(Request::Sweep {
                        closed_before_ms,
                        reply,
                    }) => {
                        let _ = reply.send(sweep(&store, &driver, closed_before_ms));
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if let Err(error) = log.checkpoint(&store) {
                            tracing::warn!(%error, "WAL checkpoint failed; will retry");
                        }
                        let Some(retention) = retention else { continue };
                        let now_ms = clock.now_ms();
                        if now_ms < next_sweep_ms {
                            continue;
                        }
                        next_sweep_ms = now_ms.saturating_add(millis(SWEEP_EVERY));
                        let closed_before_ms = now_ms.saturating_sub(millis(retention));
                        match sweep(&store, &driver, closed_before_ms) {
                            Ok(removed) => tracing::debug!(removed, "retention sweep done"),
                            Err(Error::Shutdown) => return,
                            Err(error) => {
                                tracing::warn!(%error, "retention sweep failed; will retry")
                            }
                        }
                    }
                    // The engine is gone.
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        })
        .expect("spawn the journal upkeep thread");
    requests
}

/// A duration in whole milliseconds, saturating (a retention of `u64`
/// seconds would overflow).
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What the last checkpoint saw of the log, to tell a quiet engine.
///
/// Truncating the log file takes the lock commits take, for as long as the
/// file system needs to free it: 100-240 ms for a burst's 150 MB on the
/// bench machine, and a commit arriving meanwhile waits that long. A log
/// that one round of checkpointing found fully copied and the next found
/// unchanged has seen no commit for 500 ms; that is when it is cut.
/// `PRAGMA journal_size_limit` would cut it instead in the first commit
/// after the log restarts, which cost that commit 20-110 ms.
#[derive(Debug, Default)]
struct LogWatch {
    /// The log's length in pages after the last checkpoint, when that
    /// checkpoint copied all of it.
    copied_pages: Option<i64>,
}

impl LogWatch {
    /// Copies the log into the database without holding anything back, and
    /// truncates a log file larger than `WAL_SIZE_LIMIT` once the engine has
    /// been quiet since the last round.
    fn checkpoint(&mut self, store: &Store) -> Result<()> {
        let (log_pages, copied) = store.checkpoint()?;
        let quiet = self.copied_pages == Some(log_pages);
        self.copied_pages = (copied == log_pages).then_some(log_pages);
        if quiet && store.wal_bytes() > WAL_SIZE_LIMIT && store.truncate_wal()? {
            self.copied_pages = Some(0);
        }
        Ok(())
    }
}

/// Removes the closed executions that stopped before `closed_before_ms`:
/// chosen here, deleted by the engine thread a batch at a time, their pages
/// given back a chunk at a time, with a passive checkpoint after each step.
/// On a quiet engine that copy finishes, and the next step writes the log
/// from its start again; while other commits keep coming it never does, and
/// the log grows by about 25 KB per execution removed (280 MB for 10,000
/// under 200 StartExecution calls a second), until `LogWatch` cuts it once
/// the engine is quiet. Forcing the log to start over meanwhile (`RESTART`)
/// kept it near 50 MB but held those calls back for up to 80 ms.
///
/// Pages are given back only once everything is deleted: vacuuming after
/// each batch moved pages of executions that later batches deleted, and
/// wrote the log several times over.
fn sweep(store: &Store, driver: &mpsc::Sender<Msg>, closed_before_ms: i64) -> Result<u64> {
    let began = Instant::now();
    let ids = store.closed_before(closed_before_ms)?;
    let mut removed = 0;
    for batch in ids.chunks(SWEEP_BATCH) {
        removed += ask(driver, |reply| Sweep::Forget {
            ids: batch.to_vec(),
            closed_before_ms,
            reply,
        })?;
        store.checkpoint()?;
    }
    if removed == 0 {
        return Ok(0);
    }
    let mut left = u64::MAX;
    loop {
        let before = left;
        left = ask(driver, |reply| Sweep::ReturnFreePages {
            max_pages: VACUUM_CHUNK,
            reply,
        })?;
        store.checkpoint()?;
        // Stops, too, if a chunk gave nothing back, rather than loop.
        if left == 0 || left >= before {
            break;
        }
    }
    tracing::info!(
        removed,
        elapsed_ms = began.elapsed().as_millis() as u64,
        "retention sweep removed closed executions"
    );
    Ok(removed)
}

/// Has the engine thread do `work` and waits for its answer.
fn ask(
    driver: &mpsc::Sender<Msg>,
    work: impl FnOnce(oneshot::Sender<Result<u64>>) -> Sweep,
) -> Result<u64> {
    let (reply, answer) = oneshot::channel();
    driver
        .send(Msg::Sweep(work(reply)))
        .map_err(|_| Error::Shutdown)?;
    answer.blocking_recv().map_err(|_| Error::Shutdown)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StateMachineRow;

    fn temp_path(name: &str) -> crate::scratch::ScratchJournal {
        crate::scratch::ScratchJournal::new(&format!("upkeep-{name}"))
    }

    /// Writes `mib` MiB through `store`, a MiB per commit.
    fn burst(store: &mut Store, first: usize, mib: usize) {
        for i in first..first + mib {
            let row = StateMachineRow {
                arn: format!("arn:m{i}"),
                name: format!("m{i}"),
                definition: "x".repeat(1 << 20),
                role_arn: "arn:r".into(),
                machine_type: crate::MachineType::Standard,
                created_ms: 0,
                updated_ms: 0,
                revision: 1,
            };
            store.put_state_machine(&row, &[]).unwrap();
        }
    }

    #[test]
    fn a_burst_s_log_is_cut_once_the_engine_is_quiet_and_not_before() {
        let path = temp_path("quiet");
        let mut writer = Store::open(&path).unwrap();
        writer.disable_auto_checkpoint().unwrap();
        let upkeep = Store::open(&path).unwrap();
        let mut log = LogWatch::default();
        let limit_mib = (WAL_SIZE_LIMIT >> 20) as usize;

        burst(&mut writer, 0, limit_mib + 4);
        log.checkpoint(&upkeep).unwrap();
        // A commit between two rounds: the engine is not quiet.
        burst(&mut writer, 100, 1);
        log.checkpoint(&upkeep).unwrap();
        assert!(
            upkeep.wal_bytes() > WAL_SIZE_LIMIT,
            "cut while commits came"
        );

        // A round with no commit since the last: quiet, so it is cut.
        log.checkpoint(&upkeep).unwrap();
        assert_eq!(upkeep.wal_bytes(), 0);
        burst(&mut writer, 200, 1);
        assert!(upkeep.wal_bytes() > 0, "the log grows again from its start");
    }
}
