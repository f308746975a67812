//! `spawn_app()`: a real livehelp server on a free port over a SQLite store in a temp dir
//! and the in-process bus, plus typed helpers to provision tenants and log people in.

#![allow(dead_code)]

use std::sync::Arc;

use livehelp_app::{App, AppOptions, NewOperator, NewSite, NewTenant};
use livehelp_bus::InProcessBus;
use livehelp_domain::{OperatorId, Role, TenantId};
use livehelp_protocol::rest::VisitorSessionResponse;
use livehelp_server::{Server, ServerOptions};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::client::WsClient;

/// Password used for every test operator.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The application, for provisioning.
    pub app: App,
    /// HTTP client without a cookie jar.
    pub http: reqwest::Client,
    server: Option<Server>,
    _dir: TempDir,
}

/// A provisioned tenant with one site and one operator.
pub struct TestTenant {
    /// Tenant id.
    pub id: TenantId,
    /// Its site's key.
    pub site_key: String,
    /// Its first operator's email.
    pub operator_email: String,
}

/// Starts a server on a free port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(ServerOptions {
        demo_page: true,
        ..ServerOptions::default()
    })
    .await
}

/// Starts a server on a free port with these options.
pub async fn spawn_app_with(options: ServerOptions) -> TestApp {
    spawn_app_with_options(options, AppOptions::default()).await
}

/// Starts a server on a free port with these server and application options.
pub async fn spawn_app_with_options(options: ServerOptions, app_options: AppOptions) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("test.sqlite3"), SqliteOptions::default())
        .await
        .expect("store opens");
    let app = App::new(Arc::new(store), Arc::new(InProcessBus::new()), app_options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = Server::start(listener, app.clone(), options).expect("server starts");
    TestApp {
        base: format!("http://{}", server.local_addr),
        app,
        http: reqwest::Client::new(),
        server: Some(server),
        _dir: dir,
    }
}

impl TestApp {
    /// A `TestApp` for a server the test started itself (with its own store and
    /// options); the caller shuts that server down.
    pub fn from_parts(base: String, app: App) -> TestApp {
        TestApp {
            base,
            app,
            http: reqwest::Client::new(),
            server: None,
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Creates a tenant named `name` with a site and an operator `op@<name>.test`.
    pub async fn tenant(&self, name: &str) -> TestTenant {
        let now = time::OffsetDateTime::now_utc();
        let tenant = self
            .app
            .create_tenant(NewTenant { name: name.into() }, now)
            .await
            .expect("tenant");
        let site = self
            .app
            .create_site(
                tenant.id,
                NewSite {
                    name: format!("{name}.test"),
                    key: None,
                    allowed_origins: vec![format!("https://{name}.test")],
                    privacy_policy_url: Some(format!("https://{name}.test/privacy")),
                },
                now,
            )
            .await
            .expect("site");
        let email = format!("op@{name}.test");
        self.operator(tenant.id, &email, "Operator").await;
        TestTenant {
            id: tenant.id,
            site_key: site.key.as_str().to_owned(),
            operator_email: email,
        }
    }

    /// Adds an operator (role `operator`) to a tenant.
    pub async fn operator(&self, tenant: TenantId, email: &str, name: &str) -> OperatorId {
        self.member(tenant, email, name, Role::Operator).await
    }

    /// Adds an account with any role to a tenant.
    pub async fn member(
        &self,
        tenant: TenantId,
        email: &str,
        name: &str,
        role: Role,
    ) -> OperatorId {
        let input = NewOperator {
            email: email.into(),
            display_name: name.into(),
            role,
            password: PASSWORD.into(),
        };
        self.app
            .create_operator(tenant, input, time::OffsetDateTime::now_utc())
            .await
            .expect("operator")
            .id
    }

    /// Opens a visitor session; returns the response body.
    pub async fn visitor_session(&self, site_key: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!(
                "{}/api/v1/sites/{site_key}/visitor-sessions",
                self.base
            ))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// A visitor with an optional name, connected.
    pub async fn visitor(
        &self,
        site_key: &str,
        name: Option<&str>,
    ) -> (VisitorSessionResponse, WsClient) {
        let response = self
            .visitor_session(site_key, json!({ "name": name }))
            .await;
        assert_eq!(response.status(), 201);
        let session: VisitorSessionResponse = response.json().await.expect("json");
        let mut client = WsClient::visitor(&self.base, &session.visitor_token).await;
        client
            .wait_for("hello", |f| {
                matches!(f, livehelp_protocol::ServerFrame::Hello { .. })
            })
            .await;
        (session, client)
    }

    /// Logs an operator in; returns the `lh_session=...` cookie pair.
    pub async fn login(&self, email: &str) -> String {
        self.login_with_csrf(email).await.0
    }

    /// Logs an operator in; returns the cookie pair and the session's anti-CSRF token.
    pub async fn login_with_csrf(&self, email: &str) -> (String, String) {
        let response = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "login of {email}");
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .expect("cookie")
            .to_str()
            .expect("ascii")
            .to_owned();
        let body: Value = response.json().await.expect("json");
        let csrf = body["csrf_token"].as_str().expect("csrf token").to_owned();
        (set_cookie.split(';').next().expect("pair").to_owned(), csrf)
    }

    /// A state-changing request with the session cookie and its anti-CSRF token.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        session: &(String, String),
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &session.0)
            .header("x-csrf-token", &session.1);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    /// Logs in and connects an operator; returns the cookie and the client after `queue`.
    pub async fn operator_client(&self, email: &str) -> (String, WsClient) {
        let cookie = self.login(email).await;
        let mut client = WsClient::operator(&self.base, &cookie).await;
        client
            .wait_for("queue", |f| {
                matches!(f, livehelp_protocol::ServerFrame::Queue { .. })
            })
            .await;
        (cookie, client)
    }

    /// `GET` with a cookie.
    pub async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .expect("request")
    }

    /// The JSON transcript of a conversation, as the operator with `cookie` sees it.
    pub async fn transcript(
        &self,
        conversation: uuid::Uuid,
        cookie: &str,
    ) -> livehelp_protocol::rest::TranscriptResponse {
        let response = self
            .get(
                &format!("/api/v1/conversations/{conversation}/transcript"),
                cookie,
            )
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    /// Graceful shutdown.
    pub async fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("clean shutdown");
        }
    }
}
