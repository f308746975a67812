//! livehelp's PostgreSQL store: [`PostgresStore`] implements every storage trait of
//! `livehelp-store` on a PostgreSQL database, through sqlx. Several livehelp nodes may
//! share one database and write at the same time.
//!
//! Correctness across nodes comes from the database, never from memory in one node:
//! * `seq`, state and owner of a conversation change in ONE conditional
//!   `UPDATE conversations ... WHERE state ... RETURNING` (the row lock orders appends from
//!   every node; the second of two racing accepts re-checks the state and loses);
//! * one open conversation per visitor is the partial unique index
//!   `conversations_one_open_per_visitor`;
//! * idempotency is the unique index `messages_client_msg_id`; a request that loses a
//!   race on either index is rolled back to its savepoint and re-run, and then finds the
//!   winner's row (a duplicate);
//! * an operator's chat limit (case BR-04): giving an operator a chat (`Accept`, `Assign`,
//!   `Transfer`) first locks the operator's row, so assignments to one operator from every
//!   node run one after another, and the conditional update then counts their active
//!   chats in a fresh snapshot (see `src/append.rs`).
//!
//! Layout of the work, as in the SQLite backend:
//! * reads, and the writes outside conversations, use a connection pool;
//! * appends go through one group-commit writer task per node (`src/writer.rs`), which
//!   commits a batch of appends per transaction, each in its own `SAVEPOINT`.
//!
//! The schema is in `migrations/` (append-only, numbered in step with the SQLite
//! backend's). [`PostgresStore::open`] applies pending migrations unless told not to
//! ([`PostgresOptions::migrate`]); [`migrate`] applies them explicitly (`livehelp
//! migrate`). Instants are `timestamptz` and read back truncated to the microsecond.

mod accounts;
mod append;
mod archive;
mod conversations;
mod error;
mod forms;
mod page_views;
mod reports;
mod routing;
mod rows;
mod surveys;
mod tools;
mod writer;

use std::str::FromStr;
use std::time::Duration;

use livehelp_store::{StoreError, StoreResult};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::error::store_error;
use crate::writer::Writer;

/// The embedded schema migrations (`crates/livehelp-store-postgres/migrations/`).
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Tuning knobs of a [`PostgresStore`]. The defaults suit one node of several.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections in the pool used for reads and for writes other than appends (the
    /// writer has one more of its own).
    pub pool_connections: u32,
    /// How long to wait for a pooled connection (or a first connection) before giving up
    /// with `Unavailable`.
    pub acquire_timeout: Duration,
    /// Appends that may wait for the writer; a full queue makes callers wait.
    pub writer_queue: usize,
    /// Most appends committed in one transaction. Each runs in a savepoint, i.e. a
    /// subtransaction with its own transaction id; PostgreSQL caches 64 of those per
    /// backend before every other session's visibility checks get slower
    /// ("subtransaction overflow"), so keep this under 64.
    pub max_batch: usize,
    /// Apply pending migrations when the store opens. Off for operators who run
    /// `livehelp migrate` themselves: then opening fails if the schema is behind.
    pub migrate: bool,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            pool_connections: 8,
            acquire_timeout: Duration::from_secs(5),
            writer_queue: 4096,
            max_batch: 60,
            migrate: true,
        }
    }
}

/// Counters of the group-commit writer since the store opened. `requests / batches` is
/// the mean batch size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    /// Transactions committed.
    pub batches: u64,
    /// Append requests answered from committed transactions.
    pub requests: u64,
    /// Requests re-run after losing a race on a unique index to another node (or
    /// connection), which then found the winner's row.
    pub retried: u64,
}

/// livehelp's store on a PostgreSQL database. Implements every trait of
/// `livehelp-store`; share it behind an `Arc`.
///
/// Call [`close`](livehelp_store::ConversationStore::close) for a graceful shutdown.
pub struct PostgresStore {
    /// Reads and non-append writes.
    pool: PgPool,
    /// The group-commit writer that performs every append of this node.
    writer: Writer,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db?...`), applies
    /// pending migrations when `options.migrate` (otherwise checks that none is pending),
    /// and starts the writer. Must be called within a Tokio runtime.
    pub async fn open(url: &str, options: PostgresOptions) -> StoreResult<PostgresStore> {
        let connect = PgConnectOptions::from_str(url).map_err(store_error)?;
        Self::open_with(connect, options).await
    }

    /// Like [`open`](Self::open), with connect options built by the caller (tests use
    /// this to put each run in its own schema through `search_path`).
    pub async fn open_with(
        connect: PgConnectOptions,
        options: PostgresOptions,
    ) -> StoreResult<PostgresStore> {
        let connect = session_settings(connect);
        let pool = PgPoolOptions::new()
            .max_connections(options.pool_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await
            .map_err(store_error)?;
        if options.migrate && !has_newer_migrations(&pool).await? {
            MIGRATOR.run(&pool).await.map_err(migrate_error)?;
        }
        check_schema(&pool).await?;
        let writer = Writer::start(connect, &options);
        Ok(PostgresStore { pool, writer })
    }

    /// What the group-commit writer has done so far. Cheap: a few atomic loads.
    pub fn writer_stats(&self) -> WriterStats {
        self.writer.stats()
    }

    /// The connection pool, for crate-internal queries.
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Applies every pending migration to the database at `url` and returns the versions it
/// applied (empty when the schema was already current). Safe to run from several nodes
/// at once: sqlx holds a PostgreSQL advisory lock while it migrates.
pub async fn migrate(url: &str) -> StoreResult<Vec<i64>> {
    let connect = PgConnectOptions::from_str(url).map_err(store_error)?;
    migrate_with(connect).await
}

/// [`migrate`] with connect options built by the caller.
pub async fn migrate_with(connect: PgConnectOptions) -> StoreResult<Vec<i64>> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(session_settings(connect))
        .await
        .map_err(store_error)?;
    let before = applied_versions(&pool).await?;
    MIGRATOR.run(&pool).await.map_err(migrate_error)?;
    let after = applied_versions(&pool).await?;
    pool.close().await;
    Ok(after
        .into_iter()
        .filter(|version| !before.contains(version))
        .collect())
}

/// The versions of the migrations embedded in this build, oldest first.
pub fn known_migrations() -> Vec<i64> {
    MIGRATOR
        .iter()
        .filter(|migration| migration.migration_type.is_up_migration())
        .map(|migration| migration.version)
        .collect()
}

/// Settings every connection gets: commits wait for the WAL flush (an append is durable
/// when it returns, whatever the server's default), and times are UTC.
fn session_settings(connect: PgConnectOptions) -> PgConnectOptions {
    connect.options([("synchronous_commit", "on"), ("TimeZone", "UTC")])
}

/// Refuses to run on a schema older than this build (pending migrations), for
/// `migrate = false`. A schema newer than this build (a rolling upgrade, where a newer
/// node has migrated already) is accepted with a warning: migrations only add.
async fn check_schema(pool: &PgPool) -> StoreResult<()> {
    let applied = applied_versions(pool).await?;
    let pending: Vec<i64> = known_migrations()
        .into_iter()
        .filter(|version| !applied.contains(version))
        .collect();
    if !pending.is_empty() {
        return Err(StoreError::Other(
            format!(
                "the database schema is missing migrations {pending:?}; run `livehelp migrate` \
                 (or start without --no-migrate)"
            )
            .into(),
        ));
    }
    let known = known_migrations();
    let newer: Vec<i64> = applied
        .into_iter()
        .filter(|version| !known.contains(version))
        .collect();
    if !newer.is_empty() {
        tracing::warn!(
            ?newer,
            "the database has migrations this build does not know"
        );
    }
    Ok(())
}

/// Whether the database has migrations this build does not know (a newer node migrated
/// it during a rolling upgrade). sqlx refuses to run then, and there is nothing this
/// build could apply anyway.
async fn has_newer_migrations(pool: &PgPool) -> StoreResult<bool> {
    let known = known_migrations();
    Ok(applied_versions(pool)
        .await?
        .iter()
        .any(|version| !known.contains(version)))
}

/// Versions recorded as applied (and successful) in `_sqlx_migrations`; empty when the
/// table does not exist yet.
async fn applied_versions(pool: &PgPool) -> StoreResult<Vec<i64>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(store_error)?;
    if !exists {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
        .map_err(store_error)
}

fn migrate_error(error: sqlx::migrate::MigrateError) -> StoreError {
    match error {
        sqlx::migrate::MigrateError::Execute(error) => store_error(error),
        other => StoreError::Other(Box::new(other)),
    }
}
