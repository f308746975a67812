//! livehelp's SQLite store: [`SqliteStore`] implements every storage trait of
//! `livehelp-store` on one SQLite file, through sqlx.
//!
//! Layout of the work:
//! * reads, and the rare writes outside conversations (tenants, sites, operators,
//!   visitors, sessions, password resets, the audit log), use a small connection pool;
//! * every conversation write (`append`) goes through one group-commit writer task that
//!   owns a dedicated connection and commits many appends per transaction
//!   (`src/writer.rs` explains how);
//! * WAL checkpoints run in a background task on a third connection, off the writer's
//!   path (`wal_autocheckpoint=0` everywhere else), because an inline checkpoint made the
//!   slowest appends an order of magnitude slower.
//!
//! Every connection runs with `journal_mode=WAL`, `synchronous=FULL` (an append is on
//! disk when it returns), `foreign_keys=ON` and a busy timeout. The schema is in
//! `migrations/` (append-only) and is applied when the store opens. Ids are stored as
//! 16-byte BLOBs and instants as integer microseconds since the Unix epoch, so an instant
//! reads back truncated to the microsecond.

mod accounts;
mod append;
mod archive;
mod audit;
mod batch;
mod checkpoint;
mod conversations;
mod error;
mod forms;
mod operators;
mod page_views;
mod reports;
mod routing;
mod rows;
mod surveys;
mod tools;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use livehelp_store::{StoreError, StoreResult};
use sqlx::ConnectOptions;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::checkpoint::Checkpointer;
use crate::error::store_error;
use crate::writer::Writer;

/// The embedded schema migrations (`crates/livehelp-store-sqlite/migrations/`).
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Tuning knobs of a [`SqliteStore`]. `SqliteOptions::default()` suits a single node.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Connections in the pool used for reads and for writes other than appends.
    pub pool_connections: u32,
    /// How long a connection waits for a lock held by another connection before it gives
    /// up with `Unavailable`.
    pub busy_timeout: Duration,
    /// Appends that may wait for the writer; a full queue makes callers wait (back
    /// pressure) rather than fail.
    pub writer_queue: usize,
    /// Most appends committed in one transaction.
    pub max_batch: usize,
    /// How often the background task runs a passive WAL checkpoint.
    pub checkpoint_interval: Duration,
    /// Every this many checkpoint ticks the checkpoint is a `TRUNCATE` one, which resets
    /// the WAL file to zero bytes (it briefly holds back the writer). 0 never truncates.
    pub truncate_every: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            pool_connections: 4,
            busy_timeout: Duration::from_secs(5),
            writer_queue: 4096,
            max_batch: 512,
            checkpoint_interval: Duration::from_secs(1),
            truncate_every: 60,
        }
    }
}

/// Counters of the group-commit writer since the store opened: how many transactions it
/// committed and how many appends they carried. `requests / batches` is the mean batch
/// size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    /// Transactions committed.
    pub batches: u64,
    /// Append requests answered from committed transactions (including those answered
    /// with an error such as `WrongState`, which still took part in the batch).
    pub requests: u64,
}

/// livehelp's store on one SQLite database file. Implements every trait of
/// `livehelp-store`; share it behind an `Arc`.
///
/// Call [`close`](livehelp_store::ConversationStore::close) for a graceful shutdown.
/// Dropping the store without closing it also stops its tasks: the writer commits and
/// answers what is already queued, then ends, and the checkpoint task ends at its next
/// tick.
pub struct SqliteStore {
    /// Reads and non-append writes.
    pool: SqlitePool,
    /// The group-commit writer that performs every append.
    writer: Writer,
    /// The background WAL checkpoint task.
    checkpointer: Checkpointer,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database file at `path`, applies pending
    /// migrations and starts the writer and checkpoint tasks. Must be called within a
    /// Tokio runtime.
    pub async fn open(path: &Path, options: SqliteOptions) -> StoreResult<SqliteStore> {
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::open_with(connect, options).await
    }

    /// Like [`open`](Self::open), from a `sqlite://path?mode=rwc`-style URL. Only file
    /// databases work: the writer, the pool and the checkpointer use separate
    /// connections, which would each see their own `:memory:` database.
    pub async fn open_url(url: &str, options: SqliteOptions) -> StoreResult<SqliteStore> {
        let connect = SqliteConnectOptions::from_str(url).map_err(store_error)?;
        Self::open_with(connect, options).await
    }

    /// What the group-commit writer has done so far. Cheap: two atomic loads.
    pub fn writer_stats(&self) -> WriterStats {
        self.writer.stats()
    }

    /// The connection pool, for crate-internal queries.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn open_with(
        connect: SqliteConnectOptions,
        options: SqliteOptions,
    ) -> StoreResult<SqliteStore> {
        let connect = connect
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            // Checkpoints are the background task's job; an automatic one would run inside
            // whichever commit crossed the threshold, usually the writer's.
            .pragma("wal_autocheckpoint", "0");

        let pool = SqlitePoolOptions::new()
            .max_connections(options.pool_connections.max(1))
            // A local file connection does not go stale like a network one; skip the ping.
            .test_before_acquire(false)
            .connect_with(connect.clone())
            .await
            .map_err(store_error)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|error| StoreError::Other(Box::new(error)))?;

        let writer_connection = connect.connect().await.map_err(store_error)?;
        let writer = Writer::start(writer_connection, connect.clone(), &options);

        // A short busy timeout: a TRUNCATE checkpoint that has to wait for readers holds
        // the writer back while it waits, so it should rather give up and try later.
        let checkpoint_connection = connect
            .clone()
            .busy_timeout(Duration::from_millis(100))
            .connect()
            .await
            .map_err(store_error)?;
        let checkpointer = Checkpointer::start(checkpoint_connection, &options);

        Ok(SqliteStore {
            pool,
            writer,
            checkpointer,
        })
    }
}
