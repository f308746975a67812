//! Schema upgrades: a database written by an earlier schema version, with data in it,
//! opens with the current `SqliteStore` and reads back as before, with the new columns
//! filled as their migration promises (`0002`: operators online, sessions last seen when
//! created, no page; `0003`: sites without required TLS, operators without failures or
//! lock, login sessions kept with a fresh anti-CSRF token each; `0004`: manual routing
//! without limits, no departments, old active chats counted as picked by their operators)
//! and every constraint and foreign key still holding.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use livehelp_domain::{
    BrowserInfo, ConversationId, ConversationState, Department, DepartmentId, Email, Operator,
    OperatorId, OperatorLoad, OperatorSession, OperatorStatus, Role, RoutingMode, RoutingSettings,
    SessionId, Site, SiteId, SiteKey, TenantId, Timestamp, VisitorId, VisitorSession,
    VisitorSessionId,
};
use livehelp_store::testing::{now, random_token};
use livehelp_store::{
    ConversationQuery, ConversationStore, EntryStore, OperatorStore, RoutingStore, SiteStore,
    VisitorStore,
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
        max_chats: None,
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
        default_department_id: None,
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
        max_chats: None,
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

/// The third schema version's migration, exactly as released.
const SCHEMA_V3: (&str, &str) = (
    "0003_accounts_and_audit.sql",
    include_str!("../migrations/0003_accounts_and_audit.sql"),
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_3_data_upgrades_to_version_4() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("livehelp.sqlite");
    let mut raw = connect(&path).await;
    migrate_to(dir.path(), &mut raw, &[SCHEMA_V1, SCHEMA_V2, SCHEMA_V3]).await;

    let tenant = TenantId::new();
    let site = SiteId::new();
    let operator = OperatorId::new();
    let visitor = VisitorId::new();
    let conversation = ConversationId::new();
    let created_at = now() - Duration::from_secs(3_600);
    let at = micros(created_at);
    for (statement, what) in [
        (
            "INSERT INTO tenants VALUES ($1, 'Old Ltd', 'active', $5)",
            "a tenant",
        ),
        (
            "INSERT INTO sites \
                 (id, tenant_id, key, name, allowed_origins, privacy_policy_url, created_at, \
                  require_tls) \
             VALUES ($2, $1, 'old-site-v3', 'old.example', '[]', NULL, $5, 1)",
            "a site",
        ),
        (
            "INSERT INTO operators \
                 (id, tenant_id, email, display_name, role, password_hash, disabled, \
                  created_at, status) \
             VALUES ($3, $1, 'olga@old.example', 'Olga', 'operator', '$argon2id$old', 0, $5, \
                     'online')",
            "an operator",
        ),
        (
            "INSERT INTO visitors (id, tenant_id, site_id, name, created_at) \
             VALUES ($4, $1, $2, NULL, $5)",
            "a visitor",
        ),
        (
            "INSERT INTO conversations \
                 (id, tenant_id, site_id, visitor_id, state, operator_id, last_seq, created_at, \
                  accepted_at) \
             VALUES ($6, $1, $2, $4, 'active', $3, 0, $5, $5)",
            "an active conversation",
        ),
    ] {
        sqlx::query(statement)
            .bind(tenant.as_uuid())
            .bind(site.as_uuid())
            .bind(operator.as_uuid())
            .bind(visitor.as_uuid())
            .bind(at)
            .bind(conversation.as_uuid())
            .execute(&mut raw)
            .await
            .expect(what);
    }
    raw.close().await.expect("closed");

    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .expect("the store opens and migrates");
    assert_eq!(
        store
            .fetch_routing_settings(tenant)
            .await
            .expect("settings"),
        RoutingSettings {
            routing: RoutingMode::Manual,
            max_chats_per_operator: None,
            show_monitoring: false,
        }
    );
    assert_eq!(
        store
            .fetch_operator(tenant, operator)
            .await
            .expect("operator")
            .max_chats,
        None
    );
    let sites = store.list_sites(tenant).await.expect("sites");
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].default_department_id, None);
    assert!(sites[0].require_tls);
    let old = store
        .fetch_conversation(tenant, conversation)
        .await
        .expect("conversation");
    assert_eq!(old.department_id, None);
    assert_eq!(old.state, ConversationState::Active);
    assert_eq!(old.operator_id, Some(operator));
    assert_eq!(
        store.operator_loads(tenant).await.expect("loads"),
        vec![OperatorLoad {
            operator_id: operator,
            active: 1,
            limit: None,
            last_assigned_at: None,
        }]
    );
    // Picked by the operator before routing existed: never "unanswered".
    assert_eq!(
        store
            .list_unanswered_conversations(
                tenant,
                created_at - Duration::from_secs(60),
                now() + Duration::from_secs(60),
            )
            .await
            .expect("unanswered"),
        Vec::new()
    );
    assert_eq!(
        store.list_departments(tenant).await.expect("departments"),
        Vec::new()
    );
    let support = Department {
        id: DepartmentId::new(),
        tenant_id: tenant,
        name: "Support".to_owned(),
        routing: RoutingMode::LeastBusy,
        operators: vec![operator],
        created_at: now(),
    };
    store
        .insert_department(tenant, &support)
        .await
        .expect("a department with an old operator");
    assert_eq!(
        store.list_departments(tenant).await.expect("departments"),
        vec![support]
    );
    store.close().await;

    // The new constraints hold on the upgraded file.
    let mut raw = connect(&path).await;
    for (statement, why) in [
        (
            "UPDATE tenants SET routing = 'random'",
            "routing is one of three modes",
        ),
        (
            "UPDATE tenants SET max_chats_per_operator = 0",
            "a limit is at least 1",
        ),
        (
            "UPDATE operators SET max_chats = 0",
            "a limit is at least 1",
        ),
        (
            "UPDATE tenants SET show_monitoring = 2",
            "show_monitoring is a flag",
        ),
        (
            "UPDATE conversations SET auto_assigned = 2",
            "auto_assigned is a flag",
        ),
        (
            "UPDATE conversations SET department_id = X'00'",
            "a department id is 16 bytes",
        ),
        (
            "INSERT INTO department_members VALUES (randomblob(16), randomblob(16), \
             randomblob(16))",
            "members reference a department and an operator",
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
