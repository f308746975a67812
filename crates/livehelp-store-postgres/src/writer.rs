//! The group-commit writer: the only code of this node that writes to `conversations`
//! and `messages`.
//!
//! One Tokio task owns a dedicated connection and a bounded queue of appends. It takes
//! whatever is queued (at least one, at most `max_batch`), runs it in ONE transaction,
//! commits once, and only then answers every caller, so a batch pays for one WAL flush
//! however many appends it carries. While a batch is being written the next one queues
//! up; batches grow with the load by themselves and an append never waits for a timer.
//!
//! Each request runs in its own `SAVEPOINT`, because PostgreSQL aborts the whole
//! transaction on any error: a request that fails (not found, wrong state, a deadlock
//! victim) is rolled back to its savepoint and answered with its error, and the rest of
//! the batch still commits. A request that lost a race on a unique index to another node
//! is rolled back and run once more (`append::is_lost_race`). If the transaction as a
//! whole fails (cannot begin, the connection drops, the commit fails), every request of
//! the batch is answered `Unavailable` (the client retries with the same `client_msg_id`,
//! which is idempotent even if the commit did land), and the writer reconnects before the
//! next batch.
//!
//! Several nodes run a writer each. Their batches lock conversation rows; to keep two
//! batches from locking the same rows in opposite orders (a deadlock PostgreSQL would
//! break after `deadlock_timeout`), a batch runs its requests ordered by conversation id.
//! The sort is stable, so the requests of one conversation keep their arrival order.
//! Requests that give a chat to an operator (`Accept`, `Assign`, `Transfer`) also lock
//! that operator's row (the chat limit, see `append.rs`); a batch that holds such requests
//! locks all those operators first, in id order, in one statement before any conversation,
//! so batches of different nodes take operator locks in one global order and then
//! conversation locks in one global order, and cannot deadlock on them.
//!
//! Round trips per request: the savepoint bookkeeping (one simple query that releases the
//! previous request's savepoint and opens the next), the conditional update, the insert;
//! plus, per batch that gives chats to operators, the statement that locks them, and per
//! such request, the (then uncontended) lock of its operator in `append.rs`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use livehelp_domain::TenantId;
use livehelp_store::{AppendEffect, AppendRequest, Appended, StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Executor};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::append::{apply_append, is_lost_race};
use crate::{PostgresOptions, WriterStats};

/// Starts a batch: the transaction and the first request's savepoint, in one round trip.
const BEGIN_BATCH: &str = "BEGIN; SAVEPOINT append_request";
/// Opens the first request's savepoint after the batch's operator locks. The locks are
/// taken outside every savepoint: rolling a request back must not release them.
const FIRST_SAVEPOINT: &str = "SAVEPOINT append_request";
/// Locks the operators the batch gives chats to, in id order (`$1` tenants, `$2`
/// operators, pairwise). Unknown pairs lock nothing; their requests fail on their own.
const LOCK_OPERATORS: &str = "SELECT o.id FROM operators o \
     JOIN unnest($1::uuid[], $2::uuid[]) AS wanted (tenant_id, id) \
       ON o.tenant_id = wanted.tenant_id AND o.id = wanted.id \
     ORDER BY o.id FOR NO KEY UPDATE OF o";
/// Ends a request that succeeded and opens the next one's savepoint.
const NEXT_SAVEPOINT: &str = "RELEASE SAVEPOINT append_request; SAVEPOINT append_request";
/// Undoes what the current request wrote; the savepoint stays, clean, for the next one.
const ROLLBACK_TO_SAVEPOINT: &str = "ROLLBACK TO SAVEPOINT append_request";

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
    retried: AtomicU64,
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
    /// Spawns the writer; it connects with `connect` (and reconnects after a failure).
    pub(crate) fn start(connect: PgConnectOptions, options: &PostgresOptions) -> Writer {
        let (queue, jobs) = mpsc::channel(options.writer_queue.max(1));
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(run(
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
            retried: self.counters.retried.load(Ordering::Relaxed),
        }
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the store is closed".to_owned())
}

/// The writer loop. Ends when every sender is gone (close or drop) and the queue is empty.
async fn run(
    connect: PgConnectOptions,
    mut jobs: mpsc::Receiver<AppendJob>,
    max_batch: usize,
    counters: Arc<Counters>,
) {
    let mut connection: Option<PgConnection> = None;
    let mut batch = Vec::with_capacity(max_batch);
    while jobs.recv_many(&mut batch, max_batch).await > 0 {
        if connection.is_none() {
            match connect.connect().await {
                Ok(fresh) => connection = Some(fresh),
                Err(error) => tracing::error!(%error, "the writer cannot connect"),
            }
        }
        // Lock order across nodes: by conversation id, arrival order within one.
        batch.sort_by_key(|job: &AppendJob| job.request.message.conversation_id);
        let outcomes = match connection.as_mut() {
            Some(open) => write_batch(open, &batch, &counters).await,
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
                if let Some(broken) = connection.take() {
                    let _ = broken.close_hard().await;
                }
                batch
                    .iter()
                    .map(|_| Err(StoreError::Unavailable(message.clone())))
                    .collect()
            }
        };
        for (job, outcome) in batch.drain(..).zip(outcomes) {
            // A caller that stopped waiting gets no answer; its append is committed all
            // the same, and a retry is a duplicate.
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
async fn write_batch(
    connection: &mut PgConnection,
    batch: &[AppendJob],
    counters: &Counters,
) -> Result<Vec<StoreResult<Appended>>, StoreError> {
    let (tenants, operators) = assigned_operators(batch);
    let mut transaction = if operators.is_empty() {
        connection
            .begin_with(BEGIN_BATCH)
            .await
            .map_err(unavailable)?
    } else {
        let mut transaction = connection.begin().await.map_err(unavailable)?;
        sqlx::query(LOCK_OPERATORS)
            .bind(&tenants)
            .bind(&operators)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
        (&mut *transaction)
            .execute(FIRST_SAVEPOINT)
            .await
            .map_err(unavailable)?;
        transaction
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    // Whether the open savepoint holds a committed-to-be request (then the next one needs
    // a fresh savepoint) or is clean (just opened, or just rolled back to).
    let mut savepoint_used = false;
    for job in batch {
        let mut retried = false;
        let outcome = loop {
            if savepoint_used {
                (&mut *transaction)
                    .execute(NEXT_SAVEPOINT)
                    .await
                    .map_err(unavailable)?;
            }
            let outcome = apply_append(&mut transaction, job.tenant, &job.request).await;
            match outcome {
                Ok(appended) => {
                    savepoint_used = true;
                    break Ok(appended);
                }
                Err(error) => {
                    // Fails when the connection is gone: then nothing can commit.
                    (&mut *transaction)
                        .execute(ROLLBACK_TO_SAVEPOINT)
                        .await
                        .map_err(unavailable)?;
                    savepoint_used = false;
                    if !retried && is_lost_race(&error) {
                        retried = true;
                        counters.retried.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    break Err(error);
                }
            }
        };
        outcomes.push(outcome);
    }
    transaction.commit().await.map_err(unavailable)?;
    Ok(outcomes)
}

/// The operators the batch's requests give chats to, as parallel `(tenants, operators)`
/// arrays, without repeats.
fn assigned_operators(batch: &[AppendJob]) -> (Vec<Uuid>, Vec<Uuid>) {
    let mut pairs: Vec<(Uuid, Uuid)> = batch
        .iter()
        .filter_map(|job| match &job.request.effect {
            AppendEffect::Accept { operator }
            | AppendEffect::Assign { operator }
            | AppendEffect::Transfer { to: operator, .. } => {
                Some((job.tenant.as_uuid(), operator.as_uuid()))
            }
            _ => None,
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs.into_iter().unzip()
}

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
