//! livehelp's HTTP and WebSocket server. [`router`] builds the axum router over an
//! [`AppState`]; [`Server`] runs it until a shutdown signal, then closes every WebSocket
//! with "going away" (so clients reconnect and resume) and flushes the store's writer.
//!
//! Only this crate knows HTTP: handlers parse requests, call `livehelp-app`, and map the
//! answers with [`convert`] and [`ApiError`].

mod assets;
pub mod convert;
pub mod error;
mod extract;
pub mod limits;
mod routes;
pub mod state;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use livehelp_app::App;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::ApiError;
pub use limits::RateLimits;
pub use state::{AppState, BackupMetrics, Metrics, ServerOptions};

/// Largest REST request body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Who may call a route; the isolation matrix test checks every route against this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, metrics, widget config, new visitor sessions, login, web files).
    Public,
    /// A visitor with a token.
    Visitor,
    /// Any operator of the tenant with a session cookie.
    Operator,
    /// A tenant `admin` with a session cookie.
    Admin,
}

/// One route: method, path, who may call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Path pattern, axum syntax (`/api/v1/conversations/{id}/transcript`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
}

/// Every route the router serves with these options (the router is built from the same
/// table, so a route cannot exist without appearing here).
pub fn route_specs(options: &ServerOptions) -> Vec<RouteSpec> {
    route_table(options)
        .into_iter()
        .map(|(spec, _)| spec)
        .collect()
}

/// Builds the router from [`route_specs`]'s table, plus the JSON 404 fallback and the
/// security headers on every response.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (spec, handler) in route_table(&state.options) {
        router = router.route(spec.path, handler);
    }
    router
        .fallback(routes::health::not_found)
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // HSTS only where this server itself speaks TLS: one year, per OWASP's HSTS sheet.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            state
                .options
                .tls
                .then(|| HeaderValue::from_static("max-age=31536000")),
        ))
        .with_state(state)
}

fn route_table(options: &ServerOptions) -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::{Admin, Operator, Public, Visitor};
    use routes::{
        audit, auth, canned_responses, conversation_tools, conversations, forms, health, operators,
        page_views, reports, routing, sites, surveys, tickets, transcripts, visitor_details,
        visitor_sessions, widget,
    };
    // Called by the widget from tenants' pages: CORS reflects the caller's origin (no
    // cookies are involved; the site's allowed-origins check happens in the handlers).
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(std::time::Duration::from_secs(600));
    let gzip = CompressionLayer::new;
    let mut table: Vec<(Method, &'static str, Access, MethodRouter<AppState>)> = vec![
        (Method::GET, "/healthz", Public, get(health::healthz)),
        (Method::GET, "/readyz", Public, get(health::readyz)),
        (Method::GET, "/metrics", Public, get(health::metrics)),
        (
            Method::GET,
            "/api/v1/sites/{site_key}/widget-config",
            Public,
            get(widget::config).layer(cors.clone()),
        ),
        (
            Method::POST,
            "/api/v1/sites/{site_key}/visitor-sessions",
            Public,
            post(visitor_sessions::create).layer(cors.clone()),
        ),
        (
            Method::POST,
            "/api/v1/sites/{site_key}/page-views",
            Public,
            post(page_views::create).layer(cors.clone()),
        ),
        (
            Method::GET,
            "/api/v1/page-views",
            Operator,
            get(page_views::tallies),
        ),
        (
            Method::GET,
            "/api/v1/visitors/{id}/page-trail",
            Operator,
            get(page_views::trail),
        ),
        (
            Method::GET,
            "/api/v1/tracking-settings",
            Admin,
            get(page_views::settings),
        ),
        (
            Method::PUT,
            "/api/v1/tracking-settings",
            Admin,
            put(page_views::update_settings),
        ),
        (
            Method::GET,
            "/api/v1/sites/{id}/query-params",
            Admin,
            get(page_views::query_params),
        ),
        (
            Method::PUT,
            "/api/v1/sites/{id}/query-params",
            Admin,
            put(page_views::update_query_params),
        ),
        (
            Method::GET,
            "/api/v1/visitor-session",
            Visitor,
            get(widget::visitor_self).layer(cors.clone()),
        ),
        (
            Method::GET,
            "/api/v1/visitor/conversations/{id}/transcript",
            Visitor,
            get(transcripts::visitor).layer(cors.clone()),
        ),
        (
            Method::GET,
            "/api/v1/departments",
            Operator,
            get(routing::list),
        ),
        (
            Method::POST,
            "/api/v1/departments",
            Admin,
            post(routing::create),
        ),
        (
            Method::PATCH,
            "/api/v1/departments/{id}",
            Admin,
            patch(routing::update),
        ),
        (
            Method::DELETE,
            "/api/v1/departments/{id}",
            Admin,
            delete(routing::delete),
        ),
        (
            Method::GET,
            "/api/v1/routing-settings",
            Operator,
            get(routing::settings),
        ),
        (
            Method::PATCH,
            "/api/v1/routing-settings",
            Admin,
            patch(routing::update_settings),
        ),
        (
            Method::GET,
            "/api/v1/supervisor/overview",
            Operator,
            get(routing::overview),
        ),
        (
            Method::GET,
            "/api/v1/conversations/{id}/survey",
            Visitor,
            get(surveys::visitor_get).layer(cors.clone()),
        ),
        (
            Method::POST,
            "/api/v1/conversations/{id}/survey-response",
            Visitor,
            // A free-text answer may be pasted far over its 2,000-character limit: the
            // body limit here is higher than the default so that the visitor gets the
            // field's error rather than a bare "too large".
            post(surveys::visitor_submit)
                .layer::<_, std::convert::Infallible>(DefaultBodyLimit::max(
                    surveys::MAX_SUBMISSION_BYTES,
                ))
                .layer(cors.clone()),
        ),
        // A visitor's own details (issue 6 item 5, M16).
        (
            Method::GET,
            "/api/v1/visitor/details",
            Visitor,
            get(visitor_details::own).layer(cors.clone()),
        ),
        (
            Method::POST,
            "/api/v1/visitor/details",
            Visitor,
            post(visitor_details::correct_own).layer(cors.clone()),
        ),
        // Pre-chat forms, offline messages, support requests (issue 5 items 1, 5, 6).
        (
            Method::POST,
            "/api/v1/visitor/chats",
            Visitor,
            post(forms::start_chat).layer(cors.clone()),
        ),
        (
            Method::POST,
            "/api/v1/sites/{site_key}/tickets",
            Public,
            post(tickets::create).layer(cors),
        ),
        (
            Method::POST,
            "/api/v1/support-requests",
            Public,
            post(tickets::create_support_request),
        ),
        (Method::GET, "/api/v1/tickets", Operator, get(tickets::list)),
        (
            Method::GET,
            "/api/v1/tickets/{id}",
            Operator,
            get(tickets::get),
        ),
        (
            Method::PATCH,
            "/api/v1/tickets/{id}",
            Operator,
            patch(tickets::update),
        ),
        (
            Method::POST,
            "/api/v1/tickets/{id}/notes",
            Operator,
            post(tickets::add_note),
        ),
        (
            Method::GET,
            "/api/v1/conversations/{id}/prechat",
            Operator,
            get(forms::answers),
        ),
        (
            Method::GET,
            "/api/v1/sites/{id}/forms",
            Admin,
            get(forms::get),
        ),
        (
            Method::PUT,
            "/api/v1/sites/{id}/forms",
            Admin,
            put(forms::update),
        ),
        (
            Method::GET,
            "/support",
            Public,
            get(assets::support_index).layer(gzip()),
        ),
        (
            Method::GET,
            "/support/{*file}",
            Public,
            get(assets::support_file).layer(gzip()),
        ),
        (Method::GET, "/api/v1/ws/visitor", Visitor, get(ws::visitor)),
        (
            Method::POST,
            "/api/v1/auth/login",
            Public,
            post(auth::login),
        ),
        (
            Method::GET,
            "/api/v1/auth/session",
            Public,
            get(auth::session),
        ),
        (
            Method::POST,
            "/api/v1/auth/password-reset",
            Public,
            post(auth::reset_password),
        ),
        (
            Method::POST,
            "/api/v1/auth/logout",
            Operator,
            post(auth::logout),
        ),
        (Method::GET, "/api/v1/auth/me", Operator, get(auth::me)),
        (
            Method::GET,
            "/api/v1/auth/sessions",
            Operator,
            get(auth::sessions),
        ),
        (
            Method::DELETE,
            "/api/v1/auth/sessions/{id}",
            Operator,
            delete(auth::end_session),
        ),
        (
            Method::POST,
            "/api/v1/auth/logout-everywhere",
            Operator,
            post(auth::logout_everywhere),
        ),
        (
            Method::GET,
            "/api/v1/conversations",
            Operator,
            get(conversations::list),
        ),
        (
            Method::GET,
            "/api/v1/conversations/{id}/transcript",
            Operator,
            get(transcripts::get),
        ),
        (
            Method::GET,
            "/api/v1/conversations/{id}/visitor",
            Operator,
            get(conversations::visitor),
        ),
        // A visitor's details for the tenant's operators, reports for admins and
        // supervisors (issue 6 items 5 and 6); roles are checked in the app.
        (
            Method::GET,
            "/api/v1/visitors/{id}/details",
            Operator,
            get(visitor_details::get),
        ),
        (
            Method::PATCH,
            "/api/v1/visitors/{id}/details",
            Operator,
            patch(visitor_details::correct),
        ),
        (Method::GET, "/api/v1/reports", Operator, get(reports::get)),
        (
            Method::GET,
            "/api/v1/reports/{file}",
            Operator,
            get(reports::csv).layer(gzip()),
        ),
        // Operator tools (issue 10, item 7); roles are checked in the app.
        (
            Method::GET,
            "/api/v1/conversations/{id}/notes",
            Operator,
            get(conversation_tools::list_notes),
        ),
        (
            Method::POST,
            "/api/v1/conversations/{id}/notes",
            Operator,
            post(conversation_tools::create_note),
        ),
        (
            Method::GET,
            "/api/v1/conversations/{id}/tags",
            Operator,
            get(conversation_tools::list_tags),
        ),
        (
            Method::POST,
            "/api/v1/conversations/{id}/tags",
            Operator,
            post(conversation_tools::add_tag),
        ),
        (
            Method::DELETE,
            "/api/v1/conversations/{id}/tags/{tag}",
            Operator,
            delete(conversation_tools::remove_tag),
        ),
        (
            Method::GET,
            "/api/v1/canned-responses",
            Operator,
            get(canned_responses::list),
        ),
        (
            Method::POST,
            "/api/v1/canned-responses",
            Operator,
            post(canned_responses::create),
        ),
        (
            Method::PATCH,
            "/api/v1/canned-responses/{id}",
            Operator,
            patch(canned_responses::update),
        ),
        (
            Method::DELETE,
            "/api/v1/canned-responses/{id}",
            Operator,
            delete(canned_responses::delete),
        ),
        (
            Method::GET,
            "/api/v1/ws/operator",
            Operator,
            get(ws::operator),
        ),
        (
            Method::GET,
            "/api/v1/operators",
            Admin,
            get(operators::list),
        ),
        (
            Method::POST,
            "/api/v1/operators",
            Admin,
            post(operators::create),
        ),
        (
            Method::PATCH,
            "/api/v1/operators/{id}",
            Admin,
            patch(operators::update),
        ),
        (
            Method::POST,
            "/api/v1/operators/{id}/password-reset",
            Admin,
            post(operators::password_reset),
        ),
        (Method::GET, "/api/v1/sites", Admin, get(sites::list)),
        (Method::POST, "/api/v1/sites", Admin, post(sites::create)),
        (
            Method::PATCH,
            "/api/v1/sites/{id}",
            Admin,
            patch(sites::update),
        ),
        (Method::GET, "/api/v1/audit-log", Admin, get(audit::list)),
        (
            Method::GET,
            "/api/v1/tenant/export",
            Admin,
            get(routes::export::download),
        ),
        // Exit surveys: reading the design and results needs admin or supervisor
        // (checked in the app), saving needs admin.
        (
            Method::GET,
            "/api/v1/survey",
            Operator,
            get(surveys::get_design),
        ),
        (
            Method::POST,
            "/api/v1/survey",
            Admin,
            post(surveys::save_design),
        ),
        (
            Method::GET,
            "/api/v1/survey-results",
            Operator,
            get(surveys::results),
        ),
        (
            Method::GET,
            "/api/v1/survey-results.csv",
            Operator,
            get(surveys::results_csv),
        ),
        (
            Method::GET,
            "/api/v1/conversations/{id}/survey-answers",
            Operator,
            get(surveys::conversation_answers),
        ),
        (Method::GET, "/", Public, get(assets::root)),
        (Method::GET, "/favicon.ico", Public, get(assets::favicon)),
        (
            Method::GET,
            "/widget.js",
            Public,
            get(assets::widget_loader).layer(gzip()),
        ),
        (
            Method::GET,
            "/widget/{*file}",
            Public,
            get(assets::widget_file).layer(gzip()),
        ),
        (
            Method::GET,
            "/console",
            Public,
            get(assets::console_redirect),
        ),
        (
            Method::GET,
            "/console/",
            Public,
            get(assets::console_index).layer(gzip()),
        ),
        (
            Method::GET,
            "/console/{*file}",
            Public,
            get(assets::console_file).layer(gzip()),
        ),
    ];
    if options.demo_page {
        table.extend([
            (Method::GET, "/demo", Public, get(assets::demo_redirect)),
            (
                Method::GET,
                "/demo/",
                Public,
                get(assets::demo_index).layer(gzip()),
            ),
            (
                Method::GET,
                "/demo/{*file}",
                Public,
                get(assets::demo_file).layer(gzip()),
            ),
        ]);
    }
    table
        .into_iter()
        .map(|(method, path, access, handler)| {
            (
                RouteSpec {
                    method,
                    path,
                    access,
                },
                handler,
            )
        })
        .collect()
}

/// A running server's handle for its owner.
pub struct Server {
    /// The address it listens on (useful with port 0).
    pub local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// TLS for [`Server::start`]: a certificate chain and its private key, PEM.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: std::path::PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: std::path::PathBuf,
}

impl Server {
    /// Starts serving plain HTTP on `listener` in a background task.
    pub fn start(
        listener: TcpListener,
        app: App,
        options: ServerOptions,
    ) -> std::io::Result<Server> {
        Self::spawn(listener, app, options, None)
    }

    /// Starts serving HTTPS and WSS on `listener` with rustls (aws-lc-rs, TLS 1.2 and
    /// 1.3). Responses carry HSTS. Fails if the PEM files cannot be read or do not match.
    pub fn start_tls(
        listener: TcpListener,
        app: App,
        options: ServerOptions,
        tls: &TlsFiles,
    ) -> std::io::Result<Server> {
        let config = tls_config(tls)?;
        Self::spawn(
            listener,
            app,
            ServerOptions {
                tls: true,
                ..options
            },
            Some(config),
        )
    }

    fn spawn(
        listener: TcpListener,
        app: App,
        options: ServerOptions,
        tls: Option<axum_server::tls_rustls::RustlsConfig>,
    ) -> std::io::Result<Server> {
        let local_addr = listener.local_addr()?;
        let (shutdown, signal) = watch::channel(false);
        let metrics = Arc::new(Metrics::with_backups(&options.backup_metrics));
        let state = AppState {
            limits: Arc::new(limits::Limits::new(options.rate_limits.clone())),
            app: app.clone(),
            connection_permits: Arc::new(Semaphore::new(options.max_connections)),
            options: Arc::new(options),
            metrics,
            shutdown: signal.clone(),
        };
        app.warm_up();
        let limits = state.limits.clone();
        let mut stop = signal.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tokio::select! {
                    _ = tick.tick() => limits.forget_idle(),
                    _ = async { let _ = stop.wait_for(|stopping| *stopping).await; } => break,
                }
            }
        });
        // Routing's sweeper: orphaned and unanswered chats, automatic queues.
        tokio::spawn(app.clone().run_router(signal.clone()));
        let task = tokio::spawn(serve(listener, state, wait_for(signal), tls));
        Ok(Server {
            local_addr,
            shutdown,
            task,
        })
    }

    /// Graceful shutdown: stop accepting, close WebSockets with 1001, wait for open
    /// requests, flush the store's writer.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await.map_err(std::io::Error::other)?
    }

    /// Runs until `signal` resolves, then shuts down gracefully.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        signal.await;
        self.shutdown().await
    }
}

fn tls_config(files: &TlsFiles) -> std::io::Result<axum_server::tls_rustls::RustlsConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |what: &str, error: &dyn std::fmt::Display| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{what}: {error}"))
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|error| {
            invalid(
                &format!("cannot read certificates from {}", files.cert.display()),
                &error,
            )
        })?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            invalid(
                &format!("bad certificate in {}", files.cert.display()),
                &error,
            )
        })?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|error| {
        invalid(
            &format!("cannot read a private key from {}", files.key.display()),
            &error,
        )
    })?;
    // The one crypto provider of the whole binary (ECOSYSTEM.md), named explicitly so the
    // server works whether or not a process default was installed.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| invalid("TLS setup", &error))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|error| invalid("certificate and key do not match", &error))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(config),
    ))
}

/// HTTP/1.1 only (the WebSocket upgrade needs it; nothing here speaks HTTP/2), which
/// also skips the protocol sniffing that would wait for a first byte with no deadline,
/// and a deadline for request headers, also between keep-alive requests. A macro because
/// the two server types (plain, TLS) share no trait for their builder.
macro_rules! limit_http {
    ($server:expr, $timeout:expr) => {{
        let builder = $server.http_builder();
        *builder = builder.clone().http1_only();
        builder.http1().header_read_timeout($timeout);
    }};
}

/// Accepts connections wrapped with a read deadline: a connection that reads nothing for
/// this long is closed (tokio-io-timeout).
#[derive(Clone, Copy)]
struct IdleTimeout(std::time::Duration);

impl<I, S> axum_server::accept::Accept<I, S> for IdleTimeout
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    type Stream = std::pin::Pin<Box<tokio_io_timeout::TimeoutStream<I>>>;
    type Service = S;
    type Future = std::future::Ready<std::io::Result<(Self::Stream, S)>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
        stream.set_read_timeout(Some(self.0));
        std::future::ready(Ok((Box::pin(stream), service)))
    }
}

/// How long shutdown waits for WebSocket connections to finish their current frame and
/// close, before flushing the store anyway.
const WEBSOCKET_DRAIN_SECONDS: u64 = 10;

/// Serves `state` on `listener` (over TLS when `tls` is set) until `signal` resolves;
/// then WebSockets close with 1001, in-flight requests finish, and the store's writer is
/// flushed before returning.
async fn serve(
    listener: TcpListener,
    state: AppState,
    signal: impl Future<Output = ()> + Send + 'static,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
) -> std::io::Result<()> {
    let app = state.app.clone();
    let permits = state.connection_permits.clone();
    let max_connections = u32::try_from(state.options.max_connections).unwrap_or(u32::MAX);
    let header_timeout = state.options.header_read_timeout;
    let ping_interval = state.options.ping_interval;
    let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        signal.await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(
            WEBSOCKET_DRAIN_SECONDS,
        )));
    });
    let listener = listener.into_std()?;
    // A client that opens a connection and sends no (or half a) request line is dropped
    // after `header_timeout`, also between keep-alive requests: idle sockets cannot pile
    // up until the process runs out of file descriptors.
    // Every connection must read something within `idle_timeout` (WebSocket clients
    // answer our pings well within it); a silent socket is closed. That, and the header
    // deadline, keep idle or slow-loris connections from piling up.
    let idle = IdleTimeout(header_timeout.max(ping_interval * 3));
    let result = match tls {
        None => {
            let mut server = axum_server::from_tcp(listener)?
                .handle(handle)
                .acceptor(idle);
            limit_http!(server, header_timeout);
            server.serve(service).await
        }
        Some(config) => {
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config).acceptor(idle);
            let mut server = axum_server::from_tcp(listener)?
                .handle(handle)
                .acceptor(acceptor);
            limit_http!(server, header_timeout);
            server.serve(service).await
        }
    };
    // Upgraded WebSockets are not tracked by the HTTP server's graceful shutdown: each
    // holds a permit, so taking them all back means every socket has closed.
    let drained = tokio::time::timeout(
        std::time::Duration::from_secs(WEBSOCKET_DRAIN_SECONDS),
        permits.acquire_many(max_connections),
    )
    .await;
    if drained.is_err() {
        tracing::warn!("some WebSocket connections did not close in time");
    }
    app.close().await;
    result
}

async fn wait_for(mut signal: watch::Receiver<bool>) {
    let _ = signal.wait_for(|stopping| *stopping).await;
}
