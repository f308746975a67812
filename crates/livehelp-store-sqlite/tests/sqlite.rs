//! SQLite-specific behaviour beyond the conformance suite: durability across close/drop
//! and reopen, group commit (many appends in one transaction, a failing request not
//! failing its batch), the WAL and pragma setup, index use, instant truncation, and the
//! choice among several sessions of one visitor (which the traits cannot insert).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{
    ConversationId, MessageId, PageRef, TenantId, Timestamp, VisitorSession, VisitorSessionId,
};
use livehelp_store::testing::{
    Fixture, accept, now, open_request, operator_message, random_token, visitor_message,
};
use livehelp_store::{
    AppendRequest, Appended, ConversationStore, StoreError, StoreResult, TenantStore, VisitorStore,
};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore, WriterStats};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, SqliteConnection};
use tempfile::TempDir;
use time::macros::datetime;
use tokio::task::JoinSet;

fn database_in(dir: &TempDir) -> PathBuf {
    dir.path().join("livehelp.sqlite")
}

async fn open(path: &Path) -> Arc<SqliteStore> {
    Arc::new(
        SqliteStore::open(path, SqliteOptions::default())
            .await
            .expect("the store opens"),
    )
}

/// A plain connection to the same file, outside the store.
async fn raw_connection(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("a raw connection")
}

/// An instant as the schema stores it: microseconds since the Unix epoch.
fn micros(instant: Timestamp) -> i64 {
    (instant.unix_timestamp_nanos() / 1_000) as i64
}

/// Appends all `requests` concurrently; the outcomes in request order.
async fn append_all(
    store: &Arc<SqliteStore>,
    tenant: TenantId,
    requests: Vec<AppendRequest>,
) -> Vec<StoreResult<Appended>> {
    let mut tasks = JoinSet::new();
    for (index, request) in requests.into_iter().enumerate() {
        let store = store.clone();
        tasks.spawn(async move { (index, store.append(tenant, request).await) });
    }
    let mut outcomes: Vec<(usize, StoreResult<Appended>)> = tasks.join_all().await;
    outcomes.sort_by_key(|(index, _)| *index);
    outcomes.into_iter().map(|(_, outcome)| outcome).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_survive_close_and_reopen() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = database_in(&dir);
    let store = open(&path).await;
    let fixture = Fixture::new(&*store).await;
    let conversation = fixture.open(&*store, fixture.visitor.id).await;
    let requests = (0..100)
        .map(|index| {
            visitor_message(
                conversation.id,
                fixture.visitor.id,
                &format!("{index} ✓"),
                None,
            )
        })
        .collect();
    for outcome in append_all(&store, fixture.tenant.id, requests).await {
        outcome.expect("committed");
    }
    let before = store
        .list_messages(fixture.tenant.id, conversation.id, 0, 1_000)
        .await
        .expect("listed");
    store.close().await;
    drop(store);

    let reopened = open(&path).await;
    let after = reopened
        .list_messages(fixture.tenant.id, conversation.id, 0, 1_000)
        .await
        .expect("listed");
    assert_eq!(after, before);
    assert_eq!(after.len(), 101);
    assert_eq!(
        reopened
            .fetch_tenant(fixture.tenant.id)
            .await
            .expect("the tenant"),
        fixture.tenant
    );
    let current = reopened
        .fetch_conversation(fixture.tenant.id, conversation.id)
        .await
        .expect("found");
    assert_eq!(current.last_seq, 101);
    // The reopened store keeps numbering where the file left off.
    let next = reopened
        .append(
            fixture.tenant.id,
            visitor_message(conversation.id, fixture.visitor.id, "again", None),
        )
        .await
        .expect("appended");
    assert_eq!(next.message.seq, 102);
    reopened.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_survive_drop_without_close() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = database_in(&dir);
    let store = open(&path).await;
    let fixture = Fixture::new(&*store).await;
    let conversation = fixture.open(&*store, fixture.visitor.id).await;
    let mut answered = Vec::new();
    for index in 0..20 {
        let request = visitor_message(
            conversation.id,
            fixture.visitor.id,
            &format!("{index}"),
            None,
        );
        answered.push(
            store
                .append(fixture.tenant.id, request)
                .await
                .expect("appended")
                .message,
        );
    }
    // Every append answered Ok is committed with synchronous=FULL: dropping the store
    // (its writer and checkpointer stop on their own) loses nothing.
    drop(store);

    let reopened = open(&path).await;
    let listed = reopened
        .list_messages(fixture.tenant.id, conversation.id, 1, 1_000)
        .await
        .expect("listed");
    assert_eq!(listed, answered);
    reopened.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_batch_commits_many_appends_and_failures_stay_their_own() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = database_in(&dir);
    let store = open(&path).await;
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let active = fixture.open(&*store, fixture.visitor.id).await;
    store
        .append(tenant, accept(active.id, fixture.operator.id))
        .await
        .expect("accepted");
    let queued_visitor = fixture.new_visitor(&*store).await;
    let queued = fixture.open(&*store, queued_visitor.id).await;

    // Hold the database's write lock from outside, so the writer blocks on its first
    // batch while everything else piles up in its queue.
    let mut blocker = raw_connection(&path).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .expect("locked");
    let stats_before = store.writer_stats();
    let first = {
        let store = store.clone();
        let request = visitor_message(active.id, fixture.visitor.id, "first", None);
        tokio::spawn(async move { store.append(tenant, request).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;

    let reused_id = MessageId::new();
    let mut requests = Vec::new();
    for index in 0..40 {
        let request = match index % 5 {
            // Unknown conversation.
            1 => visitor_message(ConversationId::new(), fixture.visitor.id, "lost", None),
            // Operator message into a queued conversation.
            2 => operator_message(queued.id, fixture.operator.id, "too early"),
            // A message id already used earlier in the same batch.
            3 => {
                let mut request = visitor_message(queued.id, queued_visitor.id, "same id", None);
                request.message.id = reused_id;
                request
            }
            _ => visitor_message(active.id, fixture.visitor.id, &format!("{index}"), None),
        };
        requests.push(request);
    }
    let batch = {
        let store = store.clone();
        tokio::spawn(async move { append_all(&store, tenant, requests).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("COMMIT")
        .execute(&mut blocker)
        .await
        .expect("unlocked");

    first
        .await
        .expect("joined")
        .expect("the first append committed");
    let outcomes = batch.await.expect("joined");
    let stats_after = store.writer_stats();
    assert_eq!(
        WriterStats {
            batches: stats_after.batches - stats_before.batches,
            requests: stats_after.requests - stats_before.requests,
        },
        WriterStats {
            batches: 2,
            requests: 41
        },
        "the blocked append alone, then the 40 queued ones in one transaction"
    );

    let mut active_seqs = Vec::new();
    let mut reused_stored = 0;
    for (index, outcome) in outcomes.into_iter().enumerate() {
        match (index % 5, outcome) {
            (1, Err(StoreError::NotFound)) => {}
            (2, Err(StoreError::WrongState { current })) => assert_eq!(current.id, queued.id),
            (3, Ok(appended)) => {
                assert_eq!(appended.message.id, reused_id);
                reused_stored += 1;
            }
            (3, Err(StoreError::Conflict { constraint })) => assert_eq!(constraint, "message_id"),
            (0 | 4, Ok(appended)) => active_seqs.push(appended.message.seq),
            (kind, outcome) => panic!("request {index} (kind {kind}) got {outcome:?}"),
        }
    }
    assert_eq!(
        reused_stored, 1,
        "exactly one request with the reused id is stored"
    );
    // seq 1 open, 2 accept, 3 "first", then the 16 good ones with no gap from the failures.
    active_seqs.sort_unstable();
    assert_eq!(active_seqs, (4..=19).collect::<Vec<_>>());
    let active_now = store
        .fetch_conversation(tenant, active.id)
        .await
        .expect("found");
    assert_eq!(active_now.last_seq, 19);
    let queued_now = store
        .fetch_conversation(tenant, queued.id)
        .await
        .expect("found");
    assert_eq!(
        queued_now.last_seq, 2,
        "open + the one message with the reused id"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_is_idempotent_and_reads_still_work() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = database_in(&dir);
    let store = open(&path).await;
    let fixture = Fixture::new(&*store).await;
    let conversation = fixture.open(&*store, fixture.visitor.id).await;
    store.close().await;
    store.close().await;
    let refused = store
        .append(
            fixture.tenant.id,
            open_request(&fixture, fixture.visitor.id),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "{refused:?}"
    );
    let read = store
        .fetch_conversation(fixture.tenant.id, conversation.id)
        .await
        .expect("readable");
    assert_eq!(read, conversation);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_is_wal_and_close_truncates_the_wal() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = database_in(&dir);
    let options = SqliteOptions {
        checkpoint_interval: Duration::from_millis(20),
        truncate_every: 3,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open(&path, options).await.expect("opens");
    let fixture = Fixture::new(&store).await;
    let conversation = fixture.open(&store, fixture.visitor.id).await;
    for index in 0..50 {
        let request = visitor_message(
            conversation.id,
            fixture.visitor.id,
            &format!("{index}"),
            None,
        );
        store
            .append(fixture.tenant.id, request)
            .await
            .expect("appended");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut raw = raw_connection(&path).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut raw)
        .await
        .expect("mode");
    assert_eq!(mode, "wal");
    raw.close().await.expect("closed");

    store.close().await;
    let wal = dir.path().join("livehelp.sqlite-wal");
    let wal_size = std::fs::metadata(&wal)
        .map(|metadata| metadata.len())
        .unwrap_or(0);
    assert_eq!(wal_size, 0, "close ends with a TRUNCATE checkpoint");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_url_creates_the_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = database_in(&dir);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = SqliteStore::open_url(&url, SqliteOptions::default())
        .await
        .expect("opens");
    let fixture = Fixture::new(&store).await;
    fixture.open(&store, fixture.visitor.id).await;
    store.close().await;
    assert!(path.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_checks_use_their_index() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = database_in(&dir);
    let store = open(&path).await;
    store.close().await;
    let mut raw = raw_connection(&path).await;
    // The same texts as the writer's lookup and its folded check (append.rs).
    for statement in [
        "EXPLAIN QUERY PLAN SELECT * FROM messages \
         WHERE tenant_id = $1 AND author_kind = $2 AND ifnull(author_id, X'') = $3 \
           AND client_msg_id = $4",
        "EXPLAIN QUERY PLAN UPDATE conversations SET last_seq = last_seq + 1 \
         WHERE tenant_id = $1 AND id = $2 AND state IN ('queued', 'active') \
           AND NOT EXISTS (SELECT 1 FROM messages WHERE tenant_id = $1 \
               AND author_kind = $3 AND ifnull(author_id, X'') = $4 \
               AND client_msg_id = $5) \
         RETURNING *",
    ] {
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(statement)
            .bind(vec![0u8; 16])
            .bind(vec![0u8; 16])
            .bind("visitor")
            .bind(vec![0u8; 16])
            .bind(vec![0u8; 16])
            .fetch_all(&mut raw)
            .await
            .expect("a plan");
        let details: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
        assert!(
            details
                .iter()
                .any(|detail| detail.contains("INDEX messages_client_msg_id (")),
            "{statement}: {details:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instants_are_kept_to_the_microsecond() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = open(&database_in(&dir)).await;
    let fixture = Fixture::new(&*store).await;
    let mut request = open_request(&fixture, fixture.visitor.id);
    request.message.created_at = datetime!(2026-11-29 19:07:01.123456789 UTC);
    let appended = store
        .append(fixture.tenant.id, request)
        .await
        .expect("opened");
    let kept = datetime!(2026-11-29 19:07:01.123456 UTC);
    assert_eq!(appended.message.created_at, kept);
    assert_eq!(appended.conversation.created_at, kept);
    let listed = store
        .list_messages(fixture.tenant.id, appended.conversation.id, 0, 10)
        .await
        .expect("listed");
    assert_eq!(listed, vec![appended.message]);
    assert!(now() > kept);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_visitor_session_is_the_last_seen_one() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = database_in(&dir);
    let store = open(&path).await;
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let first = fixture.visitor_session.clone();
    // The traits only insert a visitor together with their first session; later sessions
    // of the same visitor are written here directly.
    let mut raw = raw_connection(&path).await;
    let created_later = first.created_at + Duration::from_secs(60);
    let mut sessions = vec![first.clone()];
    for _ in 0..2 {
        let session = VisitorSession {
            id: VisitorSessionId::new(),
            token_hash: random_token(),
            created_at: created_later,
            last_seen_at: created_later,
            ..first.clone()
        };
        sqlx::query(
            "INSERT INTO visitor_sessions \
                 (id, tenant_id, visitor_id, site_id, token_hash, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(session.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(session.visitor_id.as_uuid())
        .bind(session.site_id.as_uuid())
        .bind(&session.token_hash[..])
        .bind(micros(session.created_at))
        .bind(micros(session.last_seen_at))
        .execute(&mut raw)
        .await
        .expect("inserted");
        sessions.push(session);
    }
    raw.close().await.expect("closed");
    let latest = || async {
        store
            .fetch_latest_visitor_session(tenant, fixture.visitor.id)
            .await
            .expect("a session")
    };

    // Two sessions seen at the same instant: the greater id (the later UUIDv7) wins.
    assert_eq!(latest().await, sessions[2]);
    // The oldest session, touched last, is the latest again.
    let touched_at = created_later + Duration::from_secs(1);
    store
        .touch_visitor_session(tenant, first.id, touched_at)
        .await
        .expect("touched");
    assert_eq!(latest().await.id, first.id);
    let page = PageRef {
        url: "https://fixture.example/checkout".to_owned(),
        title: None,
    };
    let viewed_at = touched_at + Duration::from_secs(1);
    store
        .update_visitor_session_page(tenant, sessions[1].id, &page, viewed_at)
        .await
        .expect("updated");
    assert_eq!(
        latest().await,
        VisitorSession {
            current_page: Some(page),
            last_seen_at: viewed_at,
            ..sessions[1].clone()
        }
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_queries_use_their_indexes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = database_in(&dir);
    let store = open(&path).await;
    store.close().await;
    let mut raw = raw_connection(&path).await;
    // The statements list_conversations and count_conversations_for_visitor build
    // (conversations.rs), with and without their optional parts.
    let cursor = " AND (created_at, id) < ($9, $10)";
    let order = " ORDER BY created_at DESC, id DESC LIMIT $11";
    let list = "SELECT * FROM conversations WHERE tenant_id = $1";
    for (statement, index) in [
        (format!("{list}{order}"), "conversations_by_created"),
        (format!("{list}{cursor}{order}"), "conversations_by_created"),
        (
            format!("{list} AND state = $2{cursor}{order}"),
            "conversations_by_created",
        ),
        (
            format!("{list} AND visitor_id = $3{cursor}{order}"),
            "conversations_by_visitor",
        ),
        (
            format!("{list} AND state = $2 AND visitor_id = $3{order}"),
            "conversations_by_visitor",
        ),
        (
            "SELECT count(*) FROM conversations WHERE tenant_id = $1 AND visitor_id = $3"
                .to_owned(),
            "conversations_by_visitor",
        ),
        (
            "SELECT * FROM visitor_sessions WHERE tenant_id = $1 AND visitor_id = $3 \
             ORDER BY last_seen_at DESC, id DESC LIMIT 1"
                .to_owned(),
            "visitor_sessions_by_visitor",
        ),
    ] {
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {statement}")))
                .bind(vec![0u8; 16])
                .fetch_all(&mut raw)
                .await
                .expect("a plan");
        let details: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
        assert!(
            details
                .iter()
                .any(|detail| detail.contains(&format!("INDEX {index} ("))),
            "{statement}: {details:?}"
        );
        // The order comes from the index: no sort step.
        assert!(
            !details.iter().any(|detail| detail.contains("TEMP B-TREE")),
            "{statement}: {details:?}"
        );
    }
}
