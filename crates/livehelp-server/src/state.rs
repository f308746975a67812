//! [`AppState`]: what every handler shares. Built once by the `livehelp` binary (or a
//! test); there is no global state.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use livehelp_app::App;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::sync::{Semaphore, watch};

/// Server settings that handlers need.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Most simultaneous WebSocket connections; more are refused with 503.
    pub max_connections: usize,
    /// Mark session cookies `Secure` (set when serving over TLS or behind a TLS proxy).
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` headers are believed
    /// (`--trust-proxy CIDR`); from anyone else those headers are ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// This server terminates TLS itself (`--tls-cert`/`--tls-key`): every request is
    /// secure, responses carry HSTS.
    pub tls: bool,
    /// Serve the demo shop page at `/demo/` (`serve --demo`).
    pub demo_page: bool,
    /// Rate limits and per-IP caps.
    pub rate_limits: crate::limits::RateLimits,
    /// How long a connection may take to send a request's headers, and may sit idle
    /// between keep-alive requests (slow-loris defence).
    pub header_read_timeout: std::time::Duration,
    /// How often WebSockets are pinged; each ping also re-checks an operator's session
    /// and closes sockets silent for three intervals.
    pub ping_interval: std::time::Duration,
    /// The scheduled backups' outcome, shown on `/metrics` (the binary's scheduler records
    /// into it; unused when no backup is scheduled).
    pub backup_metrics: BackupMetrics,
}

/// Scheduled backups as seen on `/metrics`: `livehelp_backup_last_success_timestamp_seconds`
/// (Unix seconds of the last complete backup, 0 before the first) and
/// `livehelp_backup_failures_total`. Clones share the same values.
#[derive(Debug, Clone, Default)]
pub struct BackupMetrics {
    last_success: Gauge<i64, AtomicI64>,
    failures: Counter,
}

impl BackupMetrics {
    /// A backup completed (written and, for an object store, uploaded) at `unix_seconds`.
    pub fn record_success(&self, unix_seconds: i64) {
        self.last_success.set(unix_seconds);
    }

    /// A backup failed after its retries.
    pub fn record_failure(&self) {
        self.failures.inc();
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            tls: false,
            demo_page: false,
            rate_limits: crate::limits::RateLimits::default(),
            header_read_timeout: std::time::Duration::from_secs(15),
            ping_interval: std::time::Duration::from_secs(25),
            backup_metrics: BackupMetrics::default(),
        }
    }
}

/// Shared state of all handlers. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub app: App,
    /// Settings.
    pub options: Arc<ServerOptions>,
    /// Rate-limit counters.
    pub limits: Arc<crate::limits::Limits>,
    /// Counters and gauges for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Flips to `true` when the server starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// One permit per open WebSocket.
    pub connection_permits: Arc<Semaphore>,
}

/// Labels: a list of name/value pairs.
pub type Labels = Vec<(&'static str, String)>;

/// Prometheus metrics of this node (own registry, not a global one).
pub struct Metrics {
    /// The registry rendered on `/metrics`.
    pub registry: Registry,
    /// Open WebSocket connections, by `role`.
    pub ws_connections: Family<Labels, Gauge<i64, AtomicI64>>,
    /// Client frames received.
    pub frames_received: Counter,
    /// Error frames sent, by `code`.
    pub frame_errors: Family<Labels, Counter>,
    /// Messages durably committed (acks sent for new messages).
    pub messages_committed: Counter,
    /// Messages delivered to clients (message frames sent).
    pub messages_delivered: Counter,
}

impl Metrics {
    /// A fresh registry with every metric registered under the `livehelp` prefix.
    pub fn new() -> Self {
        Self::with_backups(&BackupMetrics::default())
    }

    /// [`Metrics::new`] that also shows the scheduled backups' `backups`.
    pub fn with_backups(backups: &BackupMetrics) -> Self {
        let mut registry = Registry::with_prefix("livehelp");
        let metrics = Self {
            ws_connections: Family::default(),
            frames_received: Counter::default(),
            frame_errors: Family::default(),
            messages_committed: Counter::default(),
            messages_delivered: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "ws_connections",
            "Open WebSocket connections",
            metrics.ws_connections.clone(),
        );
        registry.register(
            "frames_received",
            "Client frames received",
            metrics.frames_received.clone(),
        );
        registry.register(
            "frame_errors",
            "Error frames sent, by code",
            metrics.frame_errors.clone(),
        );
        registry.register(
            "messages_committed",
            "Messages durably committed",
            metrics.messages_committed.clone(),
        );
        registry.register(
            "messages_delivered",
            "Message frames sent to clients",
            metrics.messages_delivered.clone(),
        );
        registry.register(
            "backup_last_success_timestamp_seconds",
            "Unix time of the last complete scheduled backup (0: none yet)",
            backups.last_success.clone(),
        );
        registry.register(
            "backup_failures",
            "Scheduled backups that failed after their retries",
            backups.failures.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
