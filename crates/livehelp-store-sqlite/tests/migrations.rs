//! Schema upgrades: a database written by an earlier schema version, with data in it,
//! opens with the current `SqliteStore` and reads back as before, with the new columns
//! filled as their migration promises (`0002`: operators online, sessions last seen when
//! created, no page; `0003`: sites without required TLS, operators without failures or
//! lock, login sessions kept with a fresh anti-CSRF token each) and every constraint and
//! foreign key still holding.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use livehelp_domain::{
    BrowserInfo, ConversationState, Email, Operator, OperatorId, OperatorSession, OperatorStatus,
    Role, SessionId, Site, SiteId, SiteKey, TenantId, Timestamp, VisitorId, VisitorSession,
    VisitorSessionId,
};
use livehelp_store::testing::{now, random_token};
use livehelp_store::{
    ConversationQuery, ConversationStore, EntryStore, OperatorStore, SiteStore, VisitorStore,
};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use uuid::Uuid;

/// The first schema version, exactly as released.
const SCHEMA_V1: (&str, &str) = (
    "0001_initial.sql",
    include_str!("../migrations/0001_initial.sql"),
);
/// The second schema version's migration, exactly as released.
const SCHEMA_V2: (&str, &str) = (
    "0002_presence_and_history.sql",
    include_str!("../migrations/0002_presence_and_history.sql"),
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_1_data_upgrades_to_version_2() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("livehelp.sqlite");
    let mut raw = connect(&path).await;
    migrate_to(dir.path(), &mut raw, &[SCHEMA_V1]).await;

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
        failed_logins: 0,
        locked_until: None,
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
                tag: None,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_2_data_upgrades_to_version_3() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("livehelp.sqlite");
    let mut raw = connect(&path).await;
    migrate_to(dir.path(), &mut raw, &[SCHEMA_V1, SCHEMA_V2]).await;

    let tenant = TenantId::new();
    let operator = OperatorId::new();
    let created_at = now() - Duration::from_secs(3_600);
    let site = Site {
        id: SiteId::new(),
        tenant_id: tenant,
        key: SiteKey::parse("old-site-v2").expect("a key"),
        name: "old.example".to_owned(),
        allowed_origins: vec!["https://old.example".to_owned()],
        privacy_policy_url: Some("https://old.example/privacy".to_owned()),
        require_tls: false,
        created_at,
    };
    // Two login sessions in the version 2 shape: no csrf_token, ip or user_agent.
    let sessions: Vec<OperatorSession> = (0..2u64)
        .map(|index| OperatorSession {
            id: SessionId::new(),
            tenant_id: tenant,
            operator_id: operator,
            token_hash: random_token(),
            csrf_token: String::new(),
            ip: None,
            user_agent: None,
            created_at: created_at + Duration::from_secs(index),
            expires_at: now() + Duration::from_secs(86_400),
        })
        .collect();
    sqlx::query("INSERT INTO tenants VALUES ($1, 'Old Ltd', 'active', $2)")
        .bind(tenant.as_uuid())
        .bind(micros(created_at))
        .execute(&mut raw)
        .await
        .expect("a tenant");
    sqlx::query(
        "INSERT INTO sites \
             (id, tenant_id, key, name, allowed_origins, privacy_policy_url, created_at) \
         VALUES ($1, $2, 'old-site-v2', 'old.example', '[\"https://old.example\"]', \
                 'https://old.example/privacy', $3)",
    )
    .bind(site.id.as_uuid())
    .bind(tenant.as_uuid())
    .bind(micros(created_at))
    .execute(&mut raw)
    .await
    .expect("a site");
    sqlx::query(
        "INSERT INTO operators \
             (id, tenant_id, email, display_name, role, password_hash, disabled, created_at, \
              status) \
         VALUES ($1, $2, 'olga@old.example', 'Olga', 'admin', '$argon2id$old', 0, $3, 'away')",
    )
    .bind(operator.as_uuid())
    .bind(tenant.as_uuid())
    .bind(micros(created_at))
    .execute(&mut raw)
    .await
    .expect("an operator");
    for session in &sessions {
        sqlx::query(
            "INSERT INTO operator_sessions \
                 (id, tenant_id, operator_id, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(operator.as_uuid())
        .bind(&session.token_hash[..])
        .bind(micros(session.created_at))
        .bind(micros(session.expires_at))
        .execute(&mut raw)
        .await
        .expect("an operator session");
    }
    raw.close().await.expect("closed");

    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .expect("the store opens and migrates");
    assert_eq!(
        store.fetch_site_by_key(&site.key).await.expect("the site"),
        site,
        "require_tls off"
    );
    let expected_operator = Operator {
        id: operator,
        tenant_id: tenant,
        email: Email::parse("olga@old.example").expect("an email"),
        display_name: "Olga".to_owned(),
        role: Role::Admin,
        password_hash: "$argon2id$old".to_owned(),
        disabled: false,
        status: OperatorStatus::Away,
        failed_logins: 0,
        locked_until: None,
        created_at,
    };
    assert_eq!(
        store
            .fetch_operator(tenant, operator)
            .await
            .expect("the operator"),
        expected_operator
    );
    // The sessions are still logged in, each with its own fresh token.
    let mut csrf_tokens = Vec::new();
    for session in &sessions {
        let found = store
            .fetch_operator_session_by_token(&session.token_hash, now())
            .await
            .expect("the session survives the upgrade");
        let token = found.csrf_token.clone();
        assert_eq!(token.len(), 64, "{token:?}");
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{token:?}"
        );
        assert_eq!(
            found,
            OperatorSession {
                csrf_token: token.clone(),
                ..session.clone()
            }
        );
        csrf_tokens.push(token);
    }
    assert_ne!(csrf_tokens[0], csrf_tokens[1], "one token per session");
    let listed = store
        .list_operator_sessions(tenant, operator, now())
        .await
        .expect("listed");
    assert_eq!(
        listed.iter().map(|session| session.id).collect::<Vec<_>>(),
        [sessions[1].id, sessions[0].id]
    );
    // The new columns are written and read like the others.
    store
        .update_site(
            tenant,
            &Site {
                require_tls: true,
                ..site.clone()
            },
        )
        .await
        .expect("updated");
    assert!(
        store
            .fetch_site_by_key(&site.key)
            .await
            .expect("the site")
            .require_tls
    );
    let failed = store
        .record_login_failure(tenant, operator, now(), 5, time::Duration::minutes(15))
        .await
        .expect("recorded");
    assert_eq!(failed.failed_logins, 1);
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
    for table in [
        "operator_sessions",
        "platform_admins",
        "password_resets",
        "audit_log",
    ] {
        let schema: String = sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE name = $1")
            .bind(table)
            .fetch_one(&mut raw)
            .await
            .expect("the table");
        assert!(schema.trim_end().ends_with("STRICT"), "{schema}");
    }
    // The rebuilt table keeps 0001's rules and adds its own; so do the new tables.
    for (statement, why) in [
        (
            "UPDATE operator_sessions SET csrf_token = NULL",
            "csrf_token is NOT NULL",
        ),
        (
            "UPDATE operator_sessions SET csrf_token = 'short'",
            "csrf_token has at least 128 bits",
        ),
        (
            "UPDATE operator_sessions SET operator_id = randomblob(16)",
            "the operator must exist",
        ),
        (
            "UPDATE operator_sessions SET expires_at = 'tomorrow'",
            "the table is STRICT",
        ),
        ("UPDATE sites SET require_tls = 2", "require_tls is a flag"),
        (
            "UPDATE operators SET failed_logins = -1",
            "failed_logins is a count",
        ),
        (
            "INSERT INTO password_resets VALUES (randomblob(32), randomblob(16), \
             randomblob(16), 0, 1, NULL)",
            "a reset belongs to an operator of its tenant",
        ),
        (
            "INSERT INTO audit_log SELECT randomblob(16), id, 0, 'cli', randomblob(16), 'a', 'b' \
             FROM tenants",
            "the command line has no id",
        ),
        (
            "INSERT INTO audit_log SELECT randomblob(16), id, 0, 'operator', NULL, 'a', 'b' \
             FROM tenants",
            "an operator actor has an id",
        ),
        (
            "INSERT INTO audit_log VALUES (randomblob(16), randomblob(16), 0, 'cli', NULL, \
             'a', 'b')",
            "the tenant must exist",
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

/// Applies only the given migrations, recorded as sqlx records them, so that the store's
/// migrator later sees them as applied and runs the rest.
async fn migrate_to(dir: &Path, connection: &mut SqliteConnection, migrations: &[(&str, &str)]) {
    let source = dir.join(format!("migrations-v{}", migrations.len()));
    std::fs::create_dir_all(&source).expect("a folder");
    for (name, text) in migrations {
        std::fs::write(source.join(name), text).expect("written");
    }
    Migrator::new(source.as_path())
        .await
        .expect("the old migrations")
        .run(connection)
        .await
        .expect("migrated to the old version");
}

/// An instant as the schema stores it: microseconds since the Unix epoch.
fn micros(instant: Timestamp) -> i64 {
    (instant.unix_timestamp_nanos() / 1_000) as i64
}
