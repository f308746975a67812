//! The `livehelp` binary: `serve` runs the chat server (optionally with a demo tenant),
//! `config default` prints the example configuration. It picks the store and bus
//! backends and builds the application; everything else lives in the library crates.

mod config;
mod demo;

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use livehelp_app::{App, AppOptions};
use livehelp_bus::InProcessBus;
use livehelp_server::{Server, ServerOptions};
use livehelp_store::Store;
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};

use crate::config::{Config, ConfigArgs, LogFormat};

/// livehelp: live-help chat for many businesses from one binary.
#[derive(Debug, Parser)]
#[command(name = "livehelp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the chat server.
    Serve {
        #[command(flatten)]
        config: ConfigArgs,
        /// Create (if absent) a demo tenant with a site and an operator, and print the login.
        #[arg(long, env = "LIVEHELP_DEMO")]
        demo: bool,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the commented example configuration file.
    Default,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Config {
            command: ConfigCommand::Default,
        } => {
            print!("{}", config::EXAMPLE);
            Ok(())
        }
        Command::Serve { config, demo } => {
            let config = Config::load(&config)?;
            init_logging(config.log_format);
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(serve(config, demo))
        }
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = open_store(&config).await?;
    let app = App::new(store, Arc::new(InProcessBus::new()), AppOptions::default());
    let demo_login = if demo {
        Some(demo::ensure(&app, &config.data_dir).await?)
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let options = ServerOptions {
        max_connections: config.max_connections,
        secure_cookies: config.secure_cookies,
        trusted_proxies: parse_proxies(&config.trust_proxy)?,
        tls: config.tls_cert.is_some(),
        rate_limits: livehelp_server::RateLimits {
            websockets_per_ip: config.max_connections_per_ip,
            ..livehelp_server::RateLimits::default()
        },
        demo_page: demo,
    };
    let server = Server::start(listener, app, options).context("cannot start the server")?;
    let base = format!("http://{}", server.local_addr);
    tracing::info!(address = %server.local_addr, ready_ms = started.elapsed().as_millis() as u64, "livehelp is ready");
    if let Some(login) = demo_login {
        println!("{}", login.banner(&base));
    }
    server
        .run_until(shutdown_signal())
        .await
        .context("server failed")?;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let Some(url) = &config.database_url else {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
        let path = config.data_dir.join("livehelp.sqlite3");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .with_context(|| format!("cannot open database {}", path.display()))?;
        return Ok(Arc::new(store));
    };
    if url.starts_with("sqlite:") {
        // `mode=rwc` creates the file when missing, like the default path does.
        let url = if url.contains('?') {
            url.clone()
        } else {
            format!("{url}?mode=rwc")
        };
        let store = SqliteStore::open_url(&url, SqliteOptions::default())
            .await
            .with_context(|| format!("cannot open database {url}"))?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        bail!(
            "PostgreSQL is not supported by this build yet; use sqlite://PATH or leave --database-url unset"
        )
    } else {
        bail!("unsupported database URL {url:?}; use sqlite://PATH")
    }
}

fn parse_proxies(cidrs: &[String]) -> anyhow::Result<Vec<ipnet::IpNet>> {
    cidrs
        .iter()
        .map(|cidr| {
            cidr.parse::<ipnet::IpNet>()
                .or_else(|_| cidr.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .with_context(|| format!("--trust-proxy {cidr:?} is not an IP address or CIDR"))
        })
        .collect()
}

fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder
            .with_ansi(std::io::stderr().is_terminal())
            .compact()
            .init(),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        _ = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
