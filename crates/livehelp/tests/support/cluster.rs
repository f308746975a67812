//! What the cluster tests (`multinode.rs`, `nginx.rs`) share: `livehelp serve` child
//! processes on one PostgreSQL database and one NATS server, a fresh database per run,
//! and a tenant with operators seeded straight into the store.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use livehelp_app::{App, AppOptions, NewOperator, NewSite, NewTenant, random_token, token_hash};
use livehelp_bus::InProcessBus;
use livehelp_domain::{OperatorId, OperatorSession, Role, SessionId, SiteId, TenantId};
use livehelp_store::Store;
use serde_json::Value;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

/// The variable naming the PostgreSQL server the cluster tests use.
pub const POSTGRES_VARIABLE: &str = "LIVEHELP_TEST_POSTGRES_URL";
/// The variable naming the NATS server the cluster tests use.
pub const NATS_VARIABLE: &str = "LIVEHELP_TEST_NATS_URL";
/// The seeded site's public key.
pub const SITE_KEY: &str = "multinode-site";

/// A `livehelp serve` child process, killed when dropped (also when the test fails).
pub struct Node {
    /// The process (SIGKILL it with `child.kill()`).
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    _data_dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a node and waits (reading its log, never sleeping) until it says it is ready.
pub fn start_node(database_url: &str, nats_url: &str, extra: &[&str]) -> Node {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_livehelp"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--database-url", database_url, "--nats-url", nats_url])
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("livehelp starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("livehelp exited before it was ready")
            .expect("log line");
        let Ok(entry) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if entry["fields"]["message"] == "livehelp is ready" {
            break entry["fields"]["address"]
                .as_str()
                .expect("address")
                .to_owned();
        }
    };
    // Keep draining the log so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Node {
        child,
        base: format!("http://{address}"),
        _data_dir: data_dir,
    }
}

/// A fresh database on the test server, dropped (best effort) at the end.
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    name: String,
    server: PgConnectOptions,
}

impl TestDatabase {
    /// Creates `<prefix>_<uuid>` on the server of `server_url`.
    pub async fn create(server_url: &str, prefix: &str) -> TestDatabase {
        let server = PgConnectOptions::from_str(server_url)
            .unwrap_or_else(|error| panic!("{POSTGRES_VARIABLE} is not a valid URL: {error}"));
        let mut admin = PgConnection::connect_with(&server)
            .await
            .unwrap_or_else(|error| {
                panic!("{POSTGRES_VARIABLE} is set but PostgreSQL does not answer: {error}")
            });
        let name = format!("{prefix}_{}", Uuid::new_v4().simple());
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        TestDatabase {
            url: with_database(server_url, &name),
            name,
            server,
        }
    }

    /// Drops it (best effort, forcing other connections off).
    pub async fn drop_database(&self) {
        if let Ok(mut admin) = PgConnection::connect_with(&self.server).await {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                )))
                .await;
            let _ = admin.close().await;
        }
    }
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail.split_once('?').map(|(_, query)| query);
    match query {
        Some(query) => format!("{scheme}://{authority}/{database}?{query}"),
        None => format!("{scheme}://{authority}/{database}"),
    }
}

/// What the test seeds directly in the database before the nodes start.
pub struct Seed {
    /// The tenant.
    pub tenant: TenantId,
    /// Its site (key [`SITE_KEY`]).
    pub site: SiteId,
    /// `(operator, session cookie)`, the first one is the conversation's operator.
    pub operators: Vec<(OperatorId, String)>,
}

/// A tenant, its site and `operators` operators, each with a login session.
pub async fn seed(store: Arc<dyn Store>, operators: usize) -> Seed {
    let app = App::new(
        store.clone(),
        Arc::new(InProcessBus::new()),
        AppOptions::default(),
    );
    let now = time::OffsetDateTime::now_utc();
    let tenant = app
        .create_tenant(
            NewTenant {
                name: "Multinode Ltd".into(),
            },
            now,
        )
        .await
        .expect("tenant");
    let site = app
        .create_site(
            tenant.id,
            NewSite {
                name: "multinode.example".into(),
                key: Some(SITE_KEY.into()),
                allowed_origins: Vec::new(),
                privacy_policy_url: None,
            },
            now,
        )
        .await
        .expect("site");
    let mut seeded = Vec::new();
    for index in 0..operators {
        let operator = app
            .create_operator(
                tenant.id,
                NewOperator {
                    email: format!("op{index}@multinode.test"),
                    display_name: format!("Operator {index}"),
                    role: Role::Operator,
                    password: random_token(),
                },
                now,
            )
            .await
            .expect("operator");
        // A login session made directly (50 password logins from one address would only
        // test the login throttle).
        let token = random_token();
        let session = OperatorSession {
            id: SessionId::new(),
            tenant_id: tenant.id,
            operator_id: operator.id,
            token_hash: token_hash(&token),
            csrf_token: random_token(),
            ip: None,
            user_agent: None,
            created_at: now,
            expires_at: now + Duration::from_secs(3_600),
        };
        store
            .insert_operator_session(tenant.id, &session)
            .await
            .expect("session");
        seeded.push((operator.id, format!("lh_session={token}")));
    }
    Seed {
        tenant: tenant.id,
        site: site.id,
        operators: seeded,
    }
}
