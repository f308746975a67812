//! Benchmark of the PostgreSQL group-commit writer (`cargo bench -p
//! livehelp-store-postgres`, with `LIVEHELP_TEST_POSTGRES_URL` set): durable appends per
//! second through `PostgresStore::append` with 1, 10, 100 and 1000 concurrent appenders
//! (each message with a `client_msg_id`, as the app sends them), the mean number of
//! appends per committed transaction, and append latency; then the same load spread over
//! three stores on one database (three nodes); next to a baseline of single-row INSERTs
//! committed one by one on a plain connection (`synchronous_commit = on` throughout).
//!
//! Runs in a fresh schema, dropped at the end. Each row runs for `LIVEHELP_BENCH_SECONDS`
//! seconds (default 3). Prints a table and asserts nothing; without the variable it says
//! so and exits.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use livehelp_domain::{ConversationId, VisitorId};
use livehelp_store::ConversationStore;
use livehelp_store::testing::{Fixture, visitor_message};
use livehelp_store_postgres::{PostgresOptions, PostgresStore};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

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
    let Ok(url) = std::env::var("LIVEHELP_TEST_POSTGRES_URL") else {
        println!("set LIVEHELP_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test)");
        return;
    };
    let seconds = std::env::var("LIVEHELP_BENCH_SECONDS")
        .ok()
        .and_then(|value| value.parse::<f64>().ok())
        .unwrap_or(3.0);
    let duration = Duration::from_secs_f64(seconds);
    let server = PgConnectOptions::from_str(&url).expect("a valid URL");
    let schema = format!("lh_bench_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect_with(&server)
        .await
        .expect("PostgreSQL answers");
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .expect("a schema");
    let connect = server.clone().options([
        ("search_path", schema.as_str()),
        ("synchronous_commit", "on"),
    ]);
    println!("group commit benchmark (PostgreSQL): {seconds} s per row, schema {schema}");

    print_header();
    print_row(&baseline(&connect, duration).await);
    for appenders in [1, 10, 100, 1000] {
        print_row(&through_writers(&connect, 1, appenders, duration).await);
    }
    for appenders in [30, 300] {
        print_row(&through_writers(&connect, 3, appenders, duration).await);
    }

    admin
        .execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .await
        .expect("drop the schema");
}

async fn baseline(connect: &PgConnectOptions, duration: Duration) -> Row {
    let mut connection = PgConnection::connect_with(connect)
        .await
        .expect("a connection");
    connection
        .execute(
            "CREATE TABLE baseline_messages (id uuid PRIMARY KEY, conversation_id uuid NOT NULL, \
             seq bigint NOT NULL, text text NOT NULL)",
        )
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
            "INSERT INTO baseline_messages (id, conversation_id, seq, text) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(Uuid::now_v7())
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

/// `appenders` tasks appending visitor messages through `nodes` stores (round robin)
/// until the deadline, spread over up to 200 conversations.
async fn through_writers(
    connect: &PgConnectOptions,
    nodes: usize,
    appenders: usize,
    duration: Duration,
) -> Row {
    let mut stores = Vec::new();
    for _ in 0..nodes {
        stores.push(Arc::new(
            PostgresStore::open_with(connect.clone(), PostgresOptions::default())
                .await
                .expect("the store opens"),
        ));
    }
    let fixture = Fixture::new(&*stores[0]).await;
    let mut conversations: Vec<(ConversationId, VisitorId)> = Vec::new();
    for _ in 0..appenders.min(200) {
        let visitor = fixture.new_visitor(&*stores[0]).await;
        let conversation = fixture.open(&*stores[0], visitor.id).await;
        conversations.push((conversation.id, visitor.id));
    }
    let conversations = Arc::new(conversations);
    let tenant = fixture.tenant.id;

    let before: Vec<_> = stores.iter().map(|store| store.writer_stats()).collect();
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for appender in 0..appenders {
        let store = stores[appender % nodes].clone();
        let conversations = conversations.clone();
        tasks.spawn(async move {
            let (conversation, visitor) = conversations[appender % conversations.len()];
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let request = visitor_message(
                    conversation,
                    visitor,
                    "hello, I have a question about my order",
                    Some(Uuid::new_v4()),
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
    let mut batches = 0;
    let mut requests = 0;
    for (store, before) in stores.iter().zip(before) {
        let after = store.writer_stats();
        batches += after.batches - before.batches;
        requests += after.requests - before.requests;
        store.close().await;
    }
    Row {
        mode: if nodes == 1 {
            "PostgresStore::append, 1 node"
        } else {
            "PostgresStore::append, 3 nodes"
        },
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
        "| {:<31} | {:>9} | {:>9} | {:>10} | {:>10} | {:>8} | {:>8} |",
        "mode", "appenders", "messages", "msgs/s", "mean batch", "p50 ms", "p99 ms"
    );
    println!(
        "|{:-<33}|{:->11}|{:->11}|{:->12}|{:->12}|{:->10}|{:->10}|",
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
        "| {:<31} | {:>9} | {:>9} | {:>10.0} | {:>10} | {:>8.2} | {:>8.2} |",
        row.mode,
        row.appenders,
        row.messages,
        rate,
        mean_batch,
        percentile(0.50),
        percentile(0.99),
    );
}
