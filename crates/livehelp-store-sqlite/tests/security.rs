//! SQLite-specific behaviour of the account-security tables (`0003`) beyond the
//! conformance suite: the session and audit listings are answered from their indexes in
//! index order, and the writes that use `RETURNING` (using up a reset link, counting a
//! failed login) are committed when they return, visible to another connection at once.

use std::path::Path;
use std::time::Duration;

use livehelp_domain::PasswordReset;
use livehelp_store::testing::{Fixture, now, random_token};
use livehelp_store::{ConversationStore, EntryStore, OperatorStore};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, SqliteConnection};

/// A plain connection to the same file, outside the store.
async fn raw_connection(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("a raw connection")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_queries_use_their_indexes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("livehelp.sqlite");
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .expect("the store opens");
    store.close().await;
    let mut raw = raw_connection(&path).await;
    // The statements of operators.rs and audit.rs.
    for (statement, index) in [
        (
            "SELECT * FROM operator_sessions \
             WHERE tenant_id = $1 AND operator_id = $2 AND expires_at > $3 \
             ORDER BY created_at DESC, id DESC",
            "operator_sessions_by_operator",
        ),
        (
            "SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
            "audit_log_by_tenant",
        ),
        (
            "SELECT * FROM audit_log WHERE tenant_id = $1 AND id < $3 \
             ORDER BY id DESC LIMIT $2",
            "audit_log_by_tenant",
        ),
    ] {
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {statement}")))
                .bind(vec![0u8; 16])
                .bind(vec![0u8; 16])
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returning_writes_are_committed_when_they_return() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("livehelp.sqlite");
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .expect("the store opens");
    let fixture = Fixture::new(&store).await;
    let current = now();
    let reset = PasswordReset {
        token_hash: random_token(),
        tenant_id: fixture.tenant.id,
        operator_id: fixture.operator.id,
        created_at: current,
        expires_at: current + Duration::from_secs(3_600),
    };
    store
        .insert_password_reset(fixture.tenant.id, &reset)
        .await
        .expect("inserted");
    store
        .consume_password_reset(&reset.token_hash, current)
        .await
        .expect("used");
    store
        .record_login_failure(
            fixture.tenant.id,
            fixture.operator.id,
            current,
            5,
            time::Duration::minutes(15),
        )
        .await
        .expect("recorded");

    // While the store is still open: another connection already sees both writes, and
    // can write itself (no transaction was left open holding the write lock).
    let mut raw = raw_connection(&path).await;
    let used_at: Option<i64> =
        sqlx::query_scalar("SELECT used_at FROM password_resets WHERE token_hash = $1")
            .bind(&reset.token_hash[..])
            .fetch_one(&mut raw)
            .await
            .expect("the reset");
    assert!(used_at.is_some());
    let failed_logins: i64 =
        sqlx::query_scalar("SELECT failed_logins FROM operators WHERE id = $1")
            .bind(fixture.operator.id.as_uuid())
            .fetch_one(&mut raw)
            .await
            .expect("the operator");
    assert_eq!(failed_logins, 1);
    sqlx::query("UPDATE operators SET display_name = display_name WHERE id = $1")
        .bind(fixture.operator.id.as_uuid())
        .execute(&mut raw)
        .await
        .expect("the write lock is free");
    store.close().await;
}
