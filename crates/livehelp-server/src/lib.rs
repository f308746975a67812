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
mod routes;
pub mod state;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::routing::{get, post};
use livehelp_app::App;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::ApiError;
pub use state::{AppState, Metrics, ServerOptions};

/// Largest REST request body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Builds the router with every route of API v1 and the health endpoints.
pub fn router(state: AppState) -> Router {
    // Called by the widget from tenants' pages: CORS reflects the caller's origin (no
    // cookies are involved; the site's allowed-origins check happens in the handlers).
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(std::time::Duration::from_secs(600));
    let widget_api = Router::new()
        .route(
            "/api/v1/sites/{site_key}/widget-config",
            get(routes::widget::config),
        )
        .route(
            "/api/v1/sites/{site_key}/visitor-sessions",
            post(routes::visitor_sessions::create),
        )
        .route("/api/v1/visitor-session", get(routes::widget::visitor_self))
        .layer(cors);
    let mut assets = Router::new()
        .route("/", get(assets::root))
        .route("/favicon.ico", get(assets::favicon))
        .route("/widget.js", get(assets::widget_loader))
        .route("/widget/{*file}", get(assets::widget_file))
        .route("/console", get(assets::console_redirect))
        .route("/console/", get(assets::console_index))
        .route("/console/{*file}", get(assets::console_file));
    if state.options.demo_page {
        assets = assets
            .route("/demo", get(assets::demo_redirect))
            .route("/demo/", get(assets::demo_index))
            .route("/demo/{*file}", get(assets::demo_file));
    }
    let assets = assets.layer(CompressionLayer::new());
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(routes::health::metrics))
        .route("/api/v1/auth/login", post(routes::auth::login))
        .route("/api/v1/auth/logout", post(routes::auth::logout))
        .route("/api/v1/auth/me", get(routes::auth::me))
        .route("/api/v1/auth/session", get(routes::auth::session))
        .route("/api/v1/conversations", get(routes::conversations::list))
        .route(
            "/api/v1/conversations/{id}/transcript",
            get(routes::transcripts::get),
        )
        .route(
            "/api/v1/conversations/{id}/visitor",
            get(routes::conversations::visitor),
        )
        .route("/api/v1/ws/visitor", get(ws::visitor))
        .route("/api/v1/ws/operator", get(ws::operator))
        .merge(widget_api)
        .merge(assets)
        .fallback(routes::health::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(state)
}

/// A running server's handle for its owner.
pub struct Server {
    /// The address it listens on (useful with port 0).
    pub local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Starts serving on `listener` in a background task.
    pub fn start(
        listener: TcpListener,
        app: App,
        options: ServerOptions,
    ) -> std::io::Result<Server> {
        let local_addr = listener.local_addr()?;
        let (shutdown, signal) = watch::channel(false);
        let state = AppState {
            app: app.clone(),
            connection_permits: Arc::new(Semaphore::new(options.max_connections)),
            options: Arc::new(options),
            metrics: Arc::new(Metrics::new()),
            shutdown: signal.clone(),
        };
        app.warm_up();
        let task = tokio::spawn(serve(listener, state, wait_for(signal)));
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

/// How long shutdown waits for WebSocket connections to finish their current frame and
/// close, before flushing the store anyway.
const WEBSOCKET_DRAIN_SECONDS: u64 = 10;

/// Serves `state` on `listener` until `signal` resolves; then WebSockets close with 1001,
/// in-flight requests finish, and the store's writer is flushed before returning.
async fn serve(
    listener: TcpListener,
    state: AppState,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = state.app.clone();
    let permits = state.connection_permits.clone();
    let max_connections = u32::try_from(state.options.max_connections).unwrap_or(u32::MAX);
    let router = router(state);
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .await;
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
