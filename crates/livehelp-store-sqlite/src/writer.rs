//! The group-commit writer: the only code that writes to `conversations` and `messages`.
//!
//! One Tokio task owns a dedicated connection and a bounded queue of appends. It takes
//! whatever is queued (at least one, at most `max_batch`), runs all of it in ONE
//! `BEGIN IMMEDIATE` transaction in arrival order, commits once, and only then answers
//! every caller. A batch pays for one commit (one fsync with `synchronous=FULL`) however
//! many appends it carries; while a batch is being written the next one queues up, so
//! batches grow with the load by themselves, and an append never waits for a timer.
//!
//! Each request runs inside its own `SAVEPOINT`: a request that fails (not found, wrong
//! state, a constraint) is rolled back to its savepoint and answered with its error, and
//! the rest of the batch still commits. If the transaction as a whole fails (cannot begin,
//! a savepoint cannot be rolled back, the commit fails), nothing of the batch was written
//! and every request is answered `Unavailable`; the writer then reconnects before the next
//! batch.
//!
//! What bounds throughput is less SQLite's work than sqlx's cost per statement, a round
//! trip to its connection thread (40-55 µs on the 2-core test machine). So statements are
//! counted per batch, not per append: a run of plain messages (the bulk of the traffic)
//! is decided in memory and written with five statements whatever its length
//! (`batch.rs`); a lone append, and every open, accept and end, is two statements, the
//! conditional update and the insert, with the idempotency check and the savepoint
//! bookkeeping riding along (`append.rs`), and the batch's first savepoint with its
//! `BEGIN`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use livehelp_domain::TenantId;
use livehelp_store::{AppendRequest, Appended, StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::append::{BEGIN_BATCH, ROLLBACK_TO_SAVEPOINT, apply_append};
use crate::batch::{apply_run, is_bulk};
use crate::{SqliteOptions, WriterStats};

/// One queued append and where its answer goes.
struct AppendJob {
    tenant: TenantId,
    request: AppendRequest,
    reply: oneshot::Sender<StoreResult<Appended>>,
}

/// Counters shared between the writer task and [`Writer::stats`].
#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    requests: AtomicU64,
}

/// Owner of the writer task and the sending side of its queue.
pub(crate) struct Writer {
    /// `None` once closing has begun: new appends are refused.
    queue: Mutex<Option<mpsc::Sender<AppendJob>>>,
    /// The task, joined by `close`.
    task: Mutex<Option<JoinHandle<()>>>,
    counters: Arc<Counters>,
}

impl Writer {
    /// Spawns the writer on `connection`; `connect` is used to reconnect after a failed
    /// transaction.
    pub(crate) fn start(
        connection: SqliteConnection,
        connect: SqliteConnectOptions,
        options: &SqliteOptions,
    ) -> Writer {
        let (queue, jobs) = mpsc::channel(options.writer_queue.max(1));
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(run(
            connection,
            connect,
            jobs,
            options.max_batch.max(1),
            Arc::clone(&counters),
        ));
        Writer {
            queue: Mutex::new(Some(queue)),
            task: Mutex::new(Some(task)),
            counters,
        }
    }

    /// Queues one append and waits for its committed outcome.
    pub(crate) async fn append(
        &self,
        tenant: TenantId,
        request: AppendRequest,
    ) -> StoreResult<Appended> {
        let queue = lock(&self.queue).clone().ok_or_else(closed)?;
        let (reply, answer) = oneshot::channel();
        let job = AppendJob {
            tenant,
            request,
            reply,
        };
        queue.send(job).await.map_err(|_| closed())?;
        // Our clone of the sender must not outlive the send: `close` waits for the queue
        // to drain, which needs every sender gone.
        drop(queue);
        answer.await.map_err(|_| {
            StoreError::Unavailable("the writer stopped before answering".to_owned())
        })?
    }

    /// Refuses new appends, lets the task commit and answer everything already queued,
    /// and waits for it to end. Calling it again does nothing.
    pub(crate) async fn close(&self) {
        drop(lock(&self.queue).take());
        let task = lock(&self.task).take();
        if let Some(task) = task
            && let Err(error) = task.await
        {
            tracing::error!(%error, "the writer task failed");
        }
    }

    /// The counters so far.
    pub(crate) fn stats(&self) -> WriterStats {
        WriterStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            requests: self.counters.requests.load(Ordering::Relaxed),
        }
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the store is closed".to_owned())
}

/// The writer loop. Ends when every sender is gone (close or drop) and the queue is empty.
async fn run(
    connection: SqliteConnection,
    connect: SqliteConnectOptions,
    mut jobs: mpsc::Receiver<AppendJob>,
    max_batch: usize,
    counters: Arc<Counters>,
) {
    let mut connection = Some(connection);
    let mut batch = Vec::with_capacity(max_batch);
    while jobs.recv_many(&mut batch, max_batch).await > 0 {
        let outcomes = match connection.as_mut() {
            Some(open) => write_batch(open, &batch).await,
            None => Err(StoreError::Unavailable(
                "the writer has no database connection".to_owned(),
            )),
        };
        let outcomes = match outcomes {
            Ok(outcomes) => {
                counters.batches.fetch_add(1, Ordering::Relaxed);
                counters
                    .requests
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                outcomes
            }
            Err(error) => {
                tracing::error!(%error, requests = batch.len(), "append batch failed");
                let message = error.to_string();
                // Start the next batch on a fresh connection: this one may be broken, or
                // left inside a transaction.
                drop(connection.take());
                connection = match connect.connect().await {
                    Ok(fresh) => Some(fresh),
                    Err(error) => {
                        tracing::error!(%error, "the writer cannot reconnect");
                        None
                    }
                };
                batch
                    .iter()
                    .map(|_| Err(StoreError::Unavailable(message.clone())))
                    .collect()
            }
        };
        for (job, outcome) in batch.drain(..).zip(outcomes) {
            // A caller that stopped waiting (its request was cancelled) gets no answer;
            // its append is committed all the same, and a retry is a duplicate.
            let _ = job.reply.send(outcome);
        }
    }
    if let Some(connection) = connection
        && let Err(error) = connection.close().await
    {
        tracing::debug!(%error, "closing the writer connection");
    }
}

/// Runs `batch` in one transaction. `Ok` holds each request's own outcome (it committed,
/// including the requests that failed on their own); `Err` means nothing was committed.
///
/// Consecutive plain messages (at least [`MIN_BULK_RUN`] of them) go through the bulk
/// path of `batch.rs`, a handful of statements for the whole run; everything else, and a
/// run the bulk path hands back, goes request by request through `append.rs`. Both keep
/// arrival order, so the outcome is the same as running every request alone in turn.
async fn write_batch(
    connection: &mut SqliteConnection,
    batch: &[AppendJob],
) -> Result<Vec<StoreResult<Appended>>, StoreError> {
    let mut transaction = connection
        .begin_with(BEGIN_BATCH)
        .await
        .map_err(unavailable)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut start = 0;
    while start < batch.len() {
        let run_length = batch[start..]
            .iter()
            .take_while(|job| is_bulk(&job.request))
            .count();
        if run_length >= MIN_BULK_RUN {
            let run: Vec<(TenantId, &AppendRequest)> = batch[start..start + run_length]
                .iter()
                .map(|job| (job.tenant, &job.request))
                .collect();
            if let Some(run_outcomes) = apply_run(&mut transaction, &run)
                .await
                .map_err(unavailable)?
            {
                outcomes.extend(run_outcomes);
                start += run_length;
                continue;
            }
        }
        // One by one: a short run, a request of another kind, or a run handed back.
        let end = start + run_length.max(1);
        for job in &batch[start..end] {
            let outcome = apply_append(&mut transaction, job.tenant, &job.request).await;
            if outcome.is_err() {
                // Fails when SQLite rolled the whole transaction back by itself (I/O
                // error, disk full): then nothing of the batch can commit.
                sqlx::query(ROLLBACK_TO_SAVEPOINT)
                    .execute(&mut *transaction)
                    .await
                    .map_err(unavailable)?;
            }
            outcomes.push(outcome);
        }
        start = end;
    }
    transaction.commit().await.map_err(unavailable)?;
    Ok(outcomes)
}

/// The shortest run of plain messages worth the bulk path: it costs five statements,
/// one by one costs two per request.
const MIN_BULK_RUN: usize = 3;

/// A failure of the transaction itself: the whole batch is unavailable.
fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

/// Locks a mutex whose data stays valid even if a holder panicked (it only holds
/// `Option`s that are taken once).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
