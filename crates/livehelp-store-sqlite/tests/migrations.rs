//! Schema upgrades: a database written by an earlier schema version, with data in it,
//! opens with the current `SqliteStore` and reads back as before, with the new columns
//! filled as their migration promises (`0002`: operators online, sessions last seen when
//! created, no page) and every constraint and foreign key still holding.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use livehelp_domain::{
    BrowserInfo, ConversationState, Email, Operator, OperatorId, OperatorStatus, Role, SiteId,
    TenantId, Timestamp, VisitorId, VisitorSession, VisitorSessionId,
};
use livehelp_store::testing::{now, random_token};
use livehelp_store::{
    ConversationQuery, ConversationStore, EntryStore, OperatorStore, VisitorStore,
};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use uuid::Uuid;

/// The first schema version, exactly as released.
const SCHEMA_V1: &str = include_str!("../migrations/0001_initial.sql");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_1_data_upgrades_to_version_2() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("livehelp.sqlite");
    let mut raw = connect(&path).await;
    migrate_to_version_1(dir.path(), &mut raw).await;

    let tenant = TenantId::new();
    let site = SiteId::new();
    let operator = OperatorId::new();
    let visitor = VisitorId::new();
    let created_at = now() - Duration::from_secs(86_400);
    let earlier_session = VisitorSession {
        id: VisitorSessionId::new(),
        tenant_id: tenant,
        visitor_id: visitor,
        site_id: site,
        token_hash: random_token(),
        browser: BrowserInfo {
            ip: Some("2001:db8::7".parse::<IpAddr>().expect("an address")),
            user_agent: Some("Mozilla/5.0".to_owned()),
        },
        current_page: None,
        created_at,
        last_seen_at: created_at,
    };
    let later_session = VisitorSession {
        id: VisitorSessionId::new(),
        token_hash: random_token(),
        browser: BrowserInfo::default(),
        created_at: created_at + Duration::from_secs(60),
        last_seen_at: created_at + Duration::from_secs(60),
        ..earlier_session.clone()
    };
    let conversation = Uuid::now_v7();
    // Rows in the version 1 shape: no operators.status, no visitor_sessions.page_url,
    // page_title or last_seen_at.
    sqlx::query("INSERT INTO tenants VALUES ($1, 'Old Ltd', 'active', $2)")
        .bind(tenant.as_uuid())
        .bind(micros(created_at))
        .execute(&mut raw)
        .await
        .expect("a tenant");
    sqlx::query("INSERT INTO sites VALUES ($1, $2, 'old-site', 'old.example', '[]', NULL, $3)")
        .bind(site.as_uuid())
        .bind(tenant.as_uuid())
        .bind(micros(created_at))
        .execute(&mut raw)
        .await
        .expect("a site");
    sqlx::query(
        "INSERT INTO operators \
         VALUES ($1, $2, 'olga@old.example', 'Olga', 'operator', '$argon2id$old', 0, $3)",
    )
    .bind(operator.as_uuid())
    .bind(tenant.as_uuid())
    .bind(micros(created_at))
    .execute(&mut raw)
    .await
    .expect("an operator");
    sqlx::query("INSERT INTO visitors VALUES ($1, $2, $3, NULL, $4)")
        .bind(visitor.as_uuid())
        .bind(tenant.as_uuid())
        .bind(site.as_uuid())
        .bind(micros(created_at))
        .execute(&mut raw)
        .await
        .expect("a visitor");
    for session in [&earlier_session, &later_session] {
        sqlx::query("INSERT INTO visitor_sessions VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(session.id.as_uuid())
            .bind(session.tenant_id.as_uuid())
            .bind(session.visitor_id.as_uuid())
            .bind(session.site_id.as_uuid())
            .bind(&session.token_hash[..])
            .bind(session.browser.ip.map(|ip| ip.to_string()))
            .bind(session.browser.user_agent.as_deref())
            .bind(micros(session.created_at))
            .execute(&mut raw)
            .await
            .expect("a visitor session");
    }
    sqlx::query(
        "INSERT INTO conversations \
         VALUES ($1, $2, $3, $4, 'queued', NULL, 0, $5, NULL, NULL, NULL, NULL)",
    )
    .bind(conversation)
    .bind(tenant.as_uuid())
    .bind(site.as_uuid())
    .bind(visitor.as_uuid())
    .bind(micros(created_at))
    .execute(&mut raw)
    .await
    .expect("a conversation");
    raw.close().await.expect("closed");

    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .expect("the store opens and migrates");
    let expected_operator = Operator {
        id: operator,
        tenant_id: tenant,
        email: Email::parse("olga@old.example").expect("an email"),
        display_name: "Olga".to_owned(),
        role: Role::Operator,
        password_hash: "$argon2id$old".to_owned(),
        disabled: false,
        status: OperatorStatus::Online,
        created_at,
    };
    assert_eq!(
        store
            .fetch_operator(tenant, operator)
            .await
            .expect("the operator"),
        expected_operator
    );
    for session in [&earlier_session, &later_session] {
        let found = store
            .fetch_visitor_session_by_token(&session.token_hash)
            .await
            .expect("the session");
        assert_eq!(&found, session, "last_seen_at backfilled from created_at");
    }
    assert_eq!(
        store
            .fetch_latest_visitor_session(tenant, visitor)
            .await
            .expect("the latest session"),
        later_session
    );
    let listed = store
        .list_conversations(
            tenant,
            &ConversationQuery {
                state: None,
                visitor: None,
                before: None,
                limit: 10,
            },
        )
        .await
        .expect("listed");
    assert_eq!(
        listed.iter().map(|c| c.id.as_uuid()).collect::<Vec<_>>(),
        [conversation]
    );
    assert_eq!(listed[0].state, ConversationState::Queued);
    assert_eq!(
        store
            .count_conversations_for_visitor(tenant, visitor)
            .await
            .expect("counted"),
        1
    );
    // The new columns are written and read like the others.
    store
        .update_operator_status(tenant, operator, OperatorStatus::Away)
        .await
        .expect("updated");
    let seen = now();
    store
        .touch_visitor_session(tenant, earlier_session.id, seen)
        .await
        .expect("touched");
    assert_eq!(
        store
            .fetch_latest_visitor_session(tenant, visitor)
            .await
            .expect("the latest session")
            .id,
        earlier_session.id
    );
    store.close().await;

    let mut raw = connect(&path).await;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut raw)
        .await
        .expect("checked");
    assert_eq!(integrity, "ok");
    let broken_references: Vec<(String, i64, String, i64)> =
        sqlx::query_as("PRAGMA foreign_key_check")
            .fetch_all(&mut raw)
            .await
            .expect("checked");
    assert!(broken_references.is_empty(), "{broken_references:?}");
    let schema: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE name = 'visitor_sessions'")
            .fetch_one(&mut raw)
            .await
            .expect("the table");
    assert!(schema.trim_end().ends_with("STRICT"), "{schema}");
    assert!(
        schema.contains("CREATE TABLE \"visitor_sessions\"")
            || schema.contains("CREATE TABLE visitor_sessions"),
        "renamed in place: {schema}"
    );
    // The rebuilt table keeps 0001's rules and adds its own.
    for (statement, why) in [
        (
            "UPDATE visitor_sessions SET last_seen_at = NULL",
            "last_seen_at is NOT NULL",
        ),
        (
            "UPDATE visitor_sessions SET page_url = NULL, page_title = 'Title only'",
            "a title needs a URL",
        ),
        (
            "UPDATE visitor_sessions SET last_seen_at = 'yesterday'",
            "the table is STRICT",
        ),
        (
            "UPDATE visitor_sessions SET visitor_id = randomblob(16)",
            "the visitor must exist",
        ),
        (
            "UPDATE operators SET status = 'busy'",
            "status is online or away",
        ),
    ] {
        let refused = sqlx::query(statement).execute(&mut raw).await;
        assert!(refused.is_err(), "{why}: {statement}");
    }
    raw.close().await.expect("closed");
}

/// A plain connection with foreign keys on, as the store's are.
async fn connect(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true)
        .connect()
        .await
        .expect("a connection")
}

/// Applies only `0001_initial.sql`, recorded as sqlx records it, so that the store's
/// migrator later sees version 1 as applied and runs the rest.
async fn migrate_to_version_1(dir: &Path, connection: &mut SqliteConnection) {
    let source = dir.join("migrations-v1");
    std::fs::create_dir_all(&source).expect("a folder");
    std::fs::write(source.join("0001_initial.sql"), SCHEMA_V1).expect("written");
    Migrator::new(source.as_path())
        .await
        .expect("the version 1 migrations")
        .run(connection)
        .await
        .expect("migrated to version 1");
}

/// An instant as the schema stores it: microseconds since the Unix epoch.
fn micros(instant: Timestamp) -> i64 {
    (instant.unix_timestamp_nanos() / 1_000) as i64
}
