//! Configuration: one [`Config`], loaded from defaults, then an optional TOML file, then
//! `LIVEHELP_*` environment variables and command-line flags (clap reads both; a flag
//! beats its variable). `livehelp config default` prints the commented example file.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::Deserialize;

/// The commented example configuration, embedded so the binary can print it.
pub const EXAMPLE: &str = include_str!("../livehelp.example.toml");

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Effective settings of `livehelp serve`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// Data folder.
    pub data_dir: PathBuf,
    /// Database URL; the SQLite file in `data_dir` when absent.
    pub database_url: Option<String>,
    /// Apply pending database migrations when `serve` starts (PostgreSQL; SQLite always
    /// does). Off for operators who run `livehelp migrate` themselves.
    pub migrate_on_start: bool,
    /// NATS server(s) for the event bus across nodes; in-process bus when absent.
    pub nats_url: Option<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// WebSocket connection limit.
    pub max_connections: usize,
    /// `Secure` cookies.
    pub secure_cookies: bool,
    /// Proxies (CIDRs) whose `X-Forwarded-For`/`-Proto` headers are believed.
    pub trust_proxy: Vec<String>,
    /// PEM certificate chain: serve HTTPS and WSS with it (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Simultaneous WebSockets from one client IP.
    pub max_connections_per_ip: u32,
    /// Messages a visitor may send in a burst before the per-second rate applies.
    pub visitor_message_burst: u32,
    /// Messages a visitor may send per second after the burst.
    pub visitor_messages_per_second: u32,
    /// Seconds an operator may be disconnected before their chats go to another operator
    /// or back to the queue (case BR-06).
    pub operator_grace_seconds: u64,
    /// Seconds a chat the server assigned may go unanswered before it is reassigned; 0
    /// turns the rule off.
    pub reassign_unanswered_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            migrate_on_start: true,
            nats_url: None,
            log_format: LogFormat::Pretty,
            max_connections: 10_000,
            secure_cookies: false,
            trust_proxy: Vec::new(),
            tls_cert: None,
            tls_key: None,
            max_connections_per_ip: 1_000,
            visitor_message_burst: 20,
            visitor_messages_per_second: 2,
            operator_grace_seconds: 60,
            reassign_unanswered_seconds: 120,
        }
    }
}

/// Flags (and their environment variables) that override the file.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// TOML configuration file.
    #[arg(global = true, long, env = "LIVEHELP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address and port to listen on.
    #[arg(global = true, long, env = "LIVEHELP_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Folder for the SQLite database and demo credentials.
    #[arg(global = true, long, env = "LIVEHELP_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (`sqlite://PATH`).
    #[arg(global = true, long, env = "LIVEHELP_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Do not apply database migrations at start (run `livehelp migrate` instead); the
    /// server refuses to start on a schema that is behind.
    #[arg(global = true, long, env = "LIVEHELP_NO_MIGRATE")]
    pub no_migrate: bool,
    /// NATS server URL(s) (`nats://HOST:4222`, comma-separated) for several nodes.
    #[arg(global = true, long, env = "LIVEHELP_NATS_URL")]
    pub nats_url: Option<String>,
    /// Log format.
    #[arg(global = true, long, env = "LIVEHELP_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// WebSocket connection limit.
    #[arg(global = true, long, env = "LIVEHELP_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Mark session cookies Secure (HTTPS deployments).
    #[arg(global = true, long, env = "LIVEHELP_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// A proxy (CIDR, e.g. 10.0.0.5/32) whose X-Forwarded-For/-Proto headers are
    /// believed; repeat for several. From anyone else those headers are ignored.
    #[arg(
        long = "trust-proxy",
        env = "LIVEHELP_TRUST_PROXY",
        value_delimiter = ','
    )]
    pub trust_proxy: Vec<String>,
    /// PEM certificate chain: serve HTTPS/WSS (needs --tls-key).
    #[arg(global = true, long, env = "LIVEHELP_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(global = true, long, env = "LIVEHELP_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Simultaneous WebSockets from one client IP.
    #[arg(global = true, long, env = "LIVEHELP_MAX_CONNECTIONS_PER_IP")]
    pub max_connections_per_ip: Option<u32>,
    /// Messages a visitor may send in a burst (then the per-second rate applies).
    #[arg(global = true, long, env = "LIVEHELP_VISITOR_MESSAGE_BURST")]
    pub visitor_message_burst: Option<u32>,
    /// Messages a visitor may send per second after the burst.
    #[arg(global = true, long, env = "LIVEHELP_VISITOR_MESSAGES_PER_SECOND")]
    pub visitor_messages_per_second: Option<u32>,
    /// Seconds a disconnected operator keeps their chats (default 60).
    #[arg(global = true, long, env = "LIVEHELP_OPERATOR_GRACE_SECONDS")]
    pub operator_grace_seconds: Option<u64>,
    /// Seconds before an unanswered, automatically assigned chat is reassigned (0: never).
    #[arg(global = true, long, env = "LIVEHELP_REASSIGN_UNANSWERED_SECONDS")]
    pub reassign_unanswered_seconds: Option<u64>,
}

impl Config {
    /// Parses a TOML document (unknown keys are errors, so typos do not pass silently).
    pub fn from_toml(text: &str) -> anyhow::Result<Config> {
        toml::from_str(text).context("invalid configuration")
    }

    /// Defaults, then the file named by `args.config`, then every flag or variable set.
    pub fn load(args: &ConfigArgs) -> anyhow::Result<Config> {
        let mut config = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read configuration file {}", path.display())
                })?;
                Config::from_toml(&text).with_context(|| format!("in {}", path.display()))?
            }
            None => Config::default(),
        };
        if let Some(listen) = args.listen {
            config.listen = listen;
        }
        if let Some(data_dir) = &args.data_dir {
            config.data_dir = data_dir.clone();
        }
        if let Some(url) = &args.database_url {
            config.database_url = Some(url.clone());
        }
        if args.no_migrate {
            config.migrate_on_start = false;
        }
        if let Some(url) = &args.nats_url {
            config.nats_url = Some(url.clone());
        }
        if let Some(format) = args.log_format {
            config.log_format = format;
        }
        if let Some(max) = args.max_connections {
            config.max_connections = max;
        }
        if let Some(secure) = args.secure_cookies {
            config.secure_cookies = secure;
        }
        if !args.trust_proxy.is_empty() {
            config.trust_proxy = args.trust_proxy.clone();
        }
        if let Some(cert) = &args.tls_cert {
            config.tls_cert = Some(cert.clone());
        }
        if let Some(key) = &args.tls_key {
            config.tls_key = Some(key.clone());
        }
        if let Some(max) = args.max_connections_per_ip {
            config.max_connections_per_ip = max;
        }
        if let Some(burst) = args.visitor_message_burst {
            config.visitor_message_burst = burst;
        }
        if let Some(rate) = args.visitor_messages_per_second {
            config.visitor_messages_per_second = rate;
        }
        if let Some(seconds) = args.operator_grace_seconds {
            config.operator_grace_seconds = seconds;
        }
        if let Some(seconds) = args.reassign_unanswered_seconds {
            config.reassign_unanswered_seconds = seconds;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses_to_the_defaults() {
        assert_eq!(
            Config::from_toml(EXAMPLE).expect("example parses"),
            Config::default()
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(Config::from_toml("listne = \"127.0.0.1:1\"").is_err());
    }

    #[test]
    fn scale_out_settings_come_from_the_file_and_the_flags() {
        let file = Config::from_toml(
            "database_url = \"postgres://livehelp@db:5432/livehelp\"\n\
             nats_url = \"nats://a:4222,nats://b:4222\"\n\
             migrate_on_start = false\n",
        )
        .expect("parses");
        assert_eq!(
            file.database_url.as_deref(),
            Some("postgres://livehelp@db:5432/livehelp")
        );
        assert_eq!(
            file.nats_url.as_deref(),
            Some("nats://a:4222,nats://b:4222")
        );
        assert!(!file.migrate_on_start);
        assert!(Config::default().migrate_on_start);
        assert_eq!(Config::default().nats_url, None);

        let args = ConfigArgs {
            no_migrate: true,
            nats_url: Some("nats://127.0.0.1:4222".to_owned()),
            ..ConfigArgs::default()
        };
        let config = Config::load(&args).expect("loads");
        assert!(!config.migrate_on_start);
        assert_eq!(config.nats_url.as_deref(), Some("nats://127.0.0.1:4222"));
    }

    #[test]
    fn flags_beat_the_file() {
        let dir = std::env::temp_dir().join(format!("livehelp-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("livehelp.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nmax_connections = 5\n").expect("write");
        let args = ConfigArgs {
            config: Some(file),
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 9100))),
            ..ConfigArgs::default()
        };
        let config = Config::load(&args).expect("loads");
        assert_eq!(config.listen.port(), 9100);
        assert_eq!(config.max_connections, 5);
        let _ = std::fs::remove_dir_all(dir);
    }
}
