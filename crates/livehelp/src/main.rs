//! The `livehelp` binary: `serve` runs the chat server (optionally with a demo tenant),
//! `migrate` applies database migrations, `config default` prints the example
//! configuration. It picks the store and bus backends (`backends.rs`) and builds the
//! application; everything else lives in the library crates.

mod admin_cli;
mod archive_cli;
mod backends;
mod backup_schedule;
mod config;
mod demo;
mod offsite;
mod report_cli;
mod support_cli;
mod survey_cli;

use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use livehelp_app::{App, AppOptions};
use livehelp_server::{Server, ServerOptions};

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
        #[command(flatten)]
        backups: BackupArgs,
    },
    /// Apply pending database migrations and exit (for operators who start nodes with
    /// --no-migrate). Safe to run while nodes are serving: migrations only add.
    Migrate {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Manage tenants (platform staff).
    Tenant {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: admin_cli::TenantCommand,
    },
    /// Manage a tenant's operators (platform staff).
    Operator {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: admin_cli::OperatorCommand,
    },
    /// Manage platform admins.
    Admin {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: admin_cli::PlatformAdminCommand,
    },
    /// The platform's own exit survey questions and their answers (platform staff).
    Survey {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: survey_cli::SurveyCommand,
    },
    /// Read and solve the platform's support requests (platform staff).
    Support {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: support_cli::SupportCommand,
    },
    /// Find and correct a visitor's name and email (platform staff, M16).
    Visitor {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: report_cli::VisitorCommand,
    },
    /// The platform's report: every tenant's figures added together, small cells
    /// suppressed (platform staff, M9, M18).
    Report {
        #[command(flatten)]
        config: ConfigArgs,
        /// First day, YYYY-MM-DD (default: 29 days before --to).
        #[arg(long)]
        from: Option<String>,
        /// Last day, included, YYYY-MM-DD (default: today, UTC).
        #[arg(long)]
        to: Option<String>,
    },
    /// Take a backup: a consistent snapshot of the whole deployment, written while the
    /// server keeps serving (`docs/operations.md`). `backup verify ARCHIVE` checks one.
    #[command(args_conflicts_with_subcommands = true)]
    Backup {
        #[command(flatten)]
        config: ConfigArgs,
        /// Where to write: a folder (the archive gets a dated name), a `.tar.zst` file, or
        /// `s3://BUCKET/PREFIX` on Amazon S3 or any S3-compatible store (endpoint and
        /// credentials from the AWS_* environment variables, docs/operations.md).
        #[arg(long)]
        to: Option<String>,
        #[command(subcommand)]
        command: Option<archive_cli::BackupCommand>,
    },
    /// Restore a backup into an empty data dir or database. The archive is checked
    /// completely first; a damaged one is refused and nothing is written.
    Restore {
        #[command(flatten)]
        config: ConfigArgs,
        /// The archive: a file, or `s3://BUCKET/KEY` (downloaded to a temporary file first).
        #[arg(long)]
        from: String,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

/// Scheduled backups of `serve` (docs/operations.md).
#[derive(Debug, clap::Args)]
struct BackupArgs {
    /// Take a backup every day at this UTC time (HH:MM), into --backup-to.
    #[arg(long, env = "LIVEHELP_BACKUP_DAILY_AT", requires = "backup_to")]
    backup_daily_at: Option<String>,
    /// Where scheduled backups go: a folder, or `s3://BUCKET/PREFIX` on Amazon S3 or any
    /// S3-compatible store (endpoint and credentials from the AWS_* environment variables,
    /// docs/operations.md).
    #[arg(long, env = "LIVEHELP_BACKUP_TO")]
    backup_to: Option<String>,
    /// How many scheduled backups to keep; older ones are deleted.
    #[arg(long, env = "LIVEHELP_BACKUP_KEEP", default_value_t = 7)]
    backup_keep: usize,
    /// Take a backup every N seconds instead of daily (for restore drills and tests).
    #[arg(long, hide = true, requires = "backup_to")]
    backup_every_seconds: Option<u64>,
}

impl BackupArgs {
    fn schedule(&self) -> anyhow::Result<Option<backup_schedule::Schedule>> {
        let Some(dest) = &self.backup_to else {
            return Ok(None);
        };
        let when = match (&self.backup_daily_at, self.backup_every_seconds) {
            (_, Some(seconds)) => {
                backup_schedule::When::Every(std::time::Duration::from_secs(seconds.max(1)))
            }
            (Some(at), None) => {
                backup_schedule::When::DailyAt(backup_schedule::parse_time_of_day(at)?)
            }
            (None, None) => bail!("--backup-to needs --backup-daily-at HH:MM"),
        };
        Ok(Some(backup_schedule::Schedule {
            dest: offsite::Destination::parse(dest)?,
            when,
            keep: match self.backup_keep {
                0 => bail!("--backup-keep must be at least 1 (the newest backup is always kept)"),
                keep => keep,
            },
        }))
    }
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the commented example configuration file.
    Default,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    backends::install_crypto_provider();
    match cli.command {
        Command::Config {
            command: ConfigCommand::Default,
        } => {
            print!("{}", config::EXAMPLE);
            Ok(())
        }
        Command::Migrate { config } => {
            let config = Config::load(&config)?;
            init_logging(config.log_format);
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(backends::migrate(&config))
        }
        Command::Tenant { config, command } => run_cli(&config, |config| async move {
            admin_cli::tenant(&config, command).await
        }),
        Command::Operator { config, command } => run_cli(&config, |config| async move {
            admin_cli::operator(&config, command).await
        }),
        Command::Admin { config, command } => run_cli(&config, |config| async move {
            admin_cli::platform_admin(&config, command).await
        }),
        Command::Survey { config, command } => run_cli(&config, |config| async move {
            survey_cli::survey(&config, command).await
        }),
        Command::Support { config, command } => run_cli(&config, |config| async move {
            support_cli::support(&config, command).await
        }),
        Command::Visitor { config, command } => run_cli(&config, |config| async move {
            report_cli::visitor(&config, command).await
        }),
        Command::Report { config, from, to } => run_cli(&config, |config| async move {
            report_cli::report(&config, from, to).await
        }),
        Command::Backup {
            command: Some(archive_cli::BackupCommand::Verify { archive }),
            ..
        } => {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(archive_cli::verify_from(&archive))
        }
        Command::Backup {
            config,
            to,
            command: None,
        } => {
            let Some(to) = to else {
                bail!("say where the backup goes: `livehelp backup --to FOLDER`");
            };
            run_cli(&config, |config| async move {
                archive_cli::backup(&config, &to).await.map(|_| ())
            })
        }
        Command::Restore { config, from } => run_cli(&config, |config| async move {
            archive_cli::import_from(
                &config,
                &from,
                livehelp_store::archive::ImportMode::IntoEmpty,
            )
            .await
        }),
        Command::Serve {
            config,
            demo,
            backups,
        } => {
            let config = Config::load(&config)?;
            let schedule = backups.schedule()?;
            init_logging(config.log_format);
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(serve(config, demo, schedule))
        }
    }
}

/// Runs an account command with quiet logging.
fn run_cli<F, Fut>(args: &ConfigArgs, command: F) -> anyhow::Result<()>
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let config = Config::load(args)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(command(config))
}

async fn serve(
    config: Config,
    demo: bool,
    schedule: Option<backup_schedule::Schedule>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = backends::open_store(&config).await?;
    let backup_metrics = livehelp_server::BackupMetrics::default();
    if let Some(schedule) = schedule {
        tracing::info!(dest = %schedule.dest, keep = schedule.keep, when = ?schedule.when, "scheduled backups on");
        backup_schedule::spawn(store.clone(), schedule, backup_metrics.clone());
    }
    let bus = backends::open_bus(&config).await?;
    let app = App::new(store, bus.shared(), app_options(&config));
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
            visitor_message_burst: config.visitor_message_burst,
            visitor_messages_per_second: config.visitor_messages_per_second,
            ..livehelp_server::RateLimits::default()
        },
        demo_page: demo,
        backup_metrics,
        ..ServerOptions::default()
    };
    let server = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            let files = livehelp_server::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            };
            Server::start_tls(listener, app, options, &files)
                .context("cannot start the TLS server")?
        }
        (None, None) => Server::start(listener, app, options).context("cannot start the server")?,
        _ => bail!("--tls-cert and --tls-key go together: give both or neither"),
    };
    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let base = format!("{scheme}://{}", server.local_addr);
    tracing::info!(address = %server.local_addr, ready_ms = started.elapsed().as_millis() as u64, "livehelp is ready");
    if let Some(login) = demo_login {
        println!("{}", login.banner(&base));
    }
    server
        .run_until(shutdown_signal())
        .await
        .context("server failed")?;
    bus.leave().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// The use cases' tunables from the configuration. The sweeper looks four times per
/// grace period (at most every 5 s), so the grace is honoured to within a quarter of it.
fn app_options(config: &Config) -> AppOptions {
    let grace = std::time::Duration::from_secs(config.operator_grace_seconds);
    AppOptions {
        routing: livehelp_app::RoutingOptions {
            grace,
            unanswered: (config.reassign_unanswered_seconds > 0)
                .then(|| std::time::Duration::from_secs(config.reassign_unanswered_seconds)),
            sweep_every: (grace / 4).clamp(
                std::time::Duration::from_millis(250),
                std::time::Duration::from_secs(5),
            ),
        },
        ..AppOptions::default()
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
