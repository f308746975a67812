//! Benchmark of the group-commit writer (`cargo bench -p livehelp-store-sqlite`): durable
//! appends per second through `SqliteStore::append` with 1, 10, 100 and 1000 concurrent
//! appenders (each message with a `client_msg_id`, as the app sends them), the mean
//! number of appends per committed transaction, and append latency;
//! next to a baseline of single-row INSERTs committed one by one on a plain connection
//! with the same `journal_mode=WAL`, `synchronous=FULL` settings.
//!
//! Everything runs on a file in Cargo's target temp dir (a real disk, unlike a tmpfs
//! `/tmp`, so the fsyncs are real). Each row runs for `LIVEHELP_BENCH_SECONDS` seconds
//! (default 3). Not a timed test: it prints a table and asserts nothing.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use livehelp_domain::{ConversationId, VisitorId};
use livehelp_store::ConversationStore;
use livehelp_store::testing::{Fixture, visitor_message};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

/// One row of the result table.
struct Row {
    mode: &'static str,
    appenders: usize,
    messages: usize,
    elapsed: Duration,
    mean_batch: Option<f64>,
    latencies: Vec<Duration>,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let seconds = std::env::var("LIVEHELP_BENCH_SECONDS")
        .ok()
        .and_then(|value| value.parse::<f64>().ok())
        .unwrap_or(3.0);
    let duration = Duration::from_secs_f64(seconds);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a temp dir");
    println!(
        "group commit benchmark: {seconds} s per row, database in {}",
        dir.path().display()
    );

    let round_trip = statement_round_trip(&dir.path().join("round-trip.sqlite")).await;
    println!(
        "one statement round trip through sqlx (SELECT 1 on an open connection): {:.1} µs",
        round_trip.as_secs_f64() * 1e6
    );
    print_header();
    print_row(&baseline(&dir.path().join("baseline.sqlite"), duration).await);
    for appenders in [1, 10, 100, 1000] {
        let path = dir.path().join(format!("writer-{appenders}.sqlite"));
        print_row(&through_writer(&path, appenders, duration).await);
    }
}

/// The mean time of a trivial statement on an open connection: sqlx's cost of one round
/// trip to its connection thread, paid by every statement the writer runs.
async fn statement_round_trip(path: &Path) -> Duration {
    let mut connection = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .expect("a connection");
    let rounds = 20_000;
    let start = Instant::now();
    for _ in 0..rounds {
        let _: i64 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut connection)
            .await
            .expect("selected");
    }
    let elapsed = start.elapsed();
    connection.close().await.expect("closed");
    elapsed / rounds
}

/// Single-row INSERTs, each its own committed transaction, on one plain connection.
async fn baseline(path: &Path, duration: Duration) -> Row {
    let mut connection = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await
        .expect("a connection");
    sqlx::query(
        "CREATE TABLE messages (id BLOB PRIMARY KEY, conversation_id BLOB NOT NULL, \
         seq INTEGER NOT NULL, text TEXT NOT NULL)",
    )
    .execute(&mut connection)
    .await
    .expect("a table");
    let conversation = ConversationId::new().as_uuid();
    let mut latencies = Vec::new();
    let start = Instant::now();
    let mut seq: i64 = 0;
    while start.elapsed() < duration {
        seq += 1;
        let began = Instant::now();
        sqlx::query(
            "INSERT INTO messages (id, conversation_id, seq, text) VALUES ($1, $2, $3, $4)",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(conversation)
        .bind(seq)
        .bind("hello, I have a question about my order")
        .execute(&mut connection)
        .await
        .expect("inserted");
        latencies.push(began.elapsed());
    }
    let elapsed = start.elapsed();
    connection.close().await.expect("closed");
    Row {
        mode: "baseline: 1 INSERT per commit",
        appenders: 1,
        messages: latencies.len(),
        elapsed,
        mean_batch: Some(1.0),
        latencies,
    }
}

/// `appenders` tasks appending visitor messages through the store's writer until the
/// deadline, spread over up to 200 conversations.
async fn through_writer(path: &Path, appenders: usize, duration: Duration) -> Row {
    let store = Arc::new(
        SqliteStore::open(path, SqliteOptions::default())
            .await
            .expect("the store opens"),
    );
    let fixture = Fixture::new(&*store).await;
    let mut conversations: Vec<(ConversationId, VisitorId)> = Vec::new();
    for _ in 0..appenders.min(200) {
        let visitor = fixture.new_visitor(&*store).await;
        let conversation = fixture.open(&*store, visitor.id).await;
        conversations.push((conversation.id, visitor.id));
    }
    let conversations = Arc::new(conversations);
    let tenant = fixture.tenant.id;

    let before = store.writer_stats();
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for appender in 0..appenders {
        let store = store.clone();
        let conversations = conversations.clone();
        tasks.spawn(async move {
            let (conversation, visitor) = conversations[appender % conversations.len()];
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let request = visitor_message(
                    conversation,
                    visitor,
                    "hello, I have a question about my order",
                    None,
                );
                let began = Instant::now();
                store.append(tenant, request).await.expect("appended");
                latencies.push(began.elapsed());
            }
            latencies
        });
    }
    let mut latencies = Vec::new();
    for task_latencies in tasks.join_all().await {
        latencies.extend(task_latencies);
    }
    let elapsed = start.elapsed();
    let after = store.writer_stats();
    store.close().await;

    let batches = after.batches - before.batches;
    let requests = after.requests - before.requests;
    Row {
        mode: "SqliteStore::append",
        appenders,
        messages: latencies.len(),
        elapsed,
        mean_batch: (batches > 0).then(|| requests as f64 / batches as f64),
        latencies,
    }
}

fn print_header() {
    println!();
    println!(
        "| {:<30} | {:>9} | {:>9} | {:>10} | {:>10} | {:>8} | {:>8} |",
        "mode", "appenders", "messages", "msgs/s", "mean batch", "p50 ms", "p99 ms"
    );
    println!(
        "|{:-<32}|{:->11}|{:->11}|{:->12}|{:->12}|{:->10}|{:->10}|",
        "", "", "", "", "", "", ""
    );
}

fn print_row(row: &Row) {
    let mut latencies = row.latencies.clone();
    latencies.sort_unstable();
    let percentile = |fraction: f64| {
        if latencies.is_empty() {
            return 0.0;
        }
        let index =
            ((latencies.len() as f64 * fraction).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1_000.0
    };
    let rate = row.messages as f64 / row.elapsed.as_secs_f64();
    let mean_batch = row
        .mean_batch
        .map_or_else(|| "-".to_owned(), |mean| format!("{mean:.1}"));
    println!(
        "| {:<30} | {:>9} | {:>9} | {:>10.0} | {:>10} | {:>8.2} | {:>8.2} |",
        row.mode,
        row.appenders,
        row.messages,
        rate,
        mean_batch,
        percentile(0.50),
        percentile(0.99),
    );
}
