//! The background WAL checkpoint task.
//!
//! Every connection runs with `wal_autocheckpoint=0`, so no commit ever pays for a
//! checkpoint; instead this task, on its own connection, runs
//! `PRAGMA wal_checkpoint(PASSIVE)` every `checkpoint_interval` (it copies what it can
//! without waiting for or blocking anyone) and, every `truncate_every` ticks, a
//! `TRUNCATE` checkpoint that also shrinks the WAL file back to zero bytes. The latter
//! holds the writer back while it runs, so its connection has a short busy timeout: when
//! readers are in the way it gives up and the next round tries again.
//!
//! The task stops when [`Checkpointer::stop`] is called (after a last `TRUNCATE`, so a
//! cleanly closed database is a single file) or when the `Checkpointer` is dropped.

use std::sync::Mutex;

use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, Sqlite};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::SqliteOptions;

/// Owner of the checkpoint task.
pub(crate) struct Checkpointer {
    /// Sending (or dropping) stops the task.
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    /// The task, joined by `stop`.
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Spawns the task on `connection`.
    pub(crate) fn start(connection: SqliteConnection, options: &SqliteOptions) -> Checkpointer {
        let (shutdown, shutdown_requested) = oneshot::channel();
        let task = tokio::spawn(run(
            connection,
            options.checkpoint_interval,
            options.truncate_every,
            shutdown_requested,
        ));
        Checkpointer {
            shutdown: Mutex::new(Some(shutdown)),
            task: Mutex::new(Some(task)),
        }
    }

    /// Stops the task after a final `TRUNCATE` checkpoint and waits for it. Calling it
    /// again does nothing.
    pub(crate) async fn stop(&self) {
        let shutdown = lock(&self.shutdown).take();
        if let Some(shutdown) = shutdown {
            // The task may have ended already (it never does on its own); nothing to do then.
            let _ = shutdown.send(());
        }
        let task = lock(&self.task).take();
        if let Some(task) = task
            && let Err(error) = task.await
        {
            tracing::error!(%error, "the WAL checkpoint task failed");
        }
    }
}

async fn run(
    mut connection: SqliteConnection,
    interval: std::time::Duration,
    truncate_every: u32,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The first tick of an interval is immediate; there is nothing to checkpoint yet.
    ticker.tick().await;
    let mut ticks: u64 = 0;
    let closing = loop {
        tokio::select! {
            stop = &mut shutdown => break stop.is_ok(),
            _ = ticker.tick() => {}
        }
        ticks += 1;
        let truncate = truncate_every > 0 && ticks.is_multiple_of(u64::from(truncate_every));
        checkpoint(&mut connection, truncate).await;
    };
    if closing {
        checkpoint(&mut connection, true).await;
    }
    if let Err(error) = connection.close().await {
        tracing::debug!(%error, "closing the checkpoint connection");
    }
}

/// Runs one checkpoint. Failures are logged and otherwise ignored: the next round retries,
/// and the WAL only grows in the meantime.
async fn checkpoint(connection: &mut SqliteConnection, truncate: bool) {
    let statement = if truncate {
        "PRAGMA wal_checkpoint(TRUNCATE)"
    } else {
        "PRAGMA wal_checkpoint(PASSIVE)"
    };
    match sqlx::query_as::<Sqlite, (i64, i64, i64)>(statement)
        .fetch_one(&mut *connection)
        .await
    {
        // busy = 1 means a TRUNCATE could not finish because of a reader or writer.
        Ok((busy, log_frames, checkpointed_frames)) => tracing::trace!(
            truncate,
            busy,
            log_frames,
            checkpointed_frames,
            "WAL checkpoint"
        ),
        Err(error) => tracing::warn!(%error, truncate, "WAL checkpoint failed"),
    }
}

/// Locks a mutex whose data stays valid even if a holder panicked (it only holds
/// `Option`s that are taken once).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
