//! Picks and opens the backends from the configuration: the store (SQLite file, or
//! PostgreSQL for several nodes) and the bus (in-process, or NATS across nodes), and runs
//! `livehelp migrate`. The only place that knows which backends exist; everything else
//! sees `Arc<dyn Store>` and `Arc<dyn Bus>`.

use std::sync::Arc;

use anyhow::{Context, bail};
use livehelp_bus::nats::{NatsBus, NatsOptions};
use livehelp_bus::{Bus, InProcessBus};
use livehelp_store::{ConversationStore, Store};
use livehelp_store_postgres::{PostgresOptions, PostgresStore};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};

use crate::config::Config;

/// Installs aws-lc-rs as the process's rustls crypto provider, once, before anything
/// opens a TLS connection (PostgreSQL over TLS, NATS over TLS). Every TLS-capable crate
/// here is built for aws-lc-rs only (ECOSYSTEM.md), so this is the one provider; a second
/// call (another part of the program got there first) is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Which database a URL names.
enum Database<'a> {
    /// The default file in the data dir.
    DefaultSqlite,
    /// A `sqlite:` URL.
    Sqlite(&'a str),
    /// A `postgres:` or `postgresql:` URL.
    Postgres(&'a str),
}

fn database(config: &Config) -> anyhow::Result<Database<'_>> {
    match config.database_url.as_deref() {
        None => Ok(Database::DefaultSqlite),
        Some(url) if url.starts_with("sqlite:") => Ok(Database::Sqlite(url)),
        Some(url) if url.starts_with("postgres:") || url.starts_with("postgresql:") => {
            Ok(Database::Postgres(url))
        }
        Some(url) => bail!(
            "unsupported database URL {:?}; use sqlite://PATH or postgres://USER@HOST/DB",
            redact(url)
        ),
    }
}

/// Opens the configured store. PostgreSQL migrates at start unless
/// `migrate_on_start = false`, and then refuses a schema that is behind.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    match database(config)? {
        Database::DefaultSqlite => {
            let store = open_default_sqlite(config).await?;
            Ok(Arc::new(store))
        }
        Database::Sqlite(url) => {
            warn_sqlite_always_migrates(config);
            let store = open_sqlite_url(url).await?;
            Ok(Arc::new(store))
        }
        Database::Postgres(url) => {
            let options = PostgresOptions {
                migrate: config.migrate_on_start,
                ..PostgresOptions::default()
            };
            let store = PostgresStore::open(url, options)
                .await
                .with_context(|| format!("cannot open database {}", redact(url)))?;
            tracing::info!(database = %redact(url), "PostgreSQL store open");
            Ok(Arc::new(store))
        }
    }
}

/// Refuses a deployment whose embedded database does not exist yet: a backup of a
/// mistyped `--data-dir` would otherwise create an empty database there and write an
/// empty archive that looks like a success.
pub fn require_existing_database(config: &Config) -> anyhow::Result<()> {
    if matches!(database(config)?, Database::DefaultSqlite) {
        let path = sqlite_path(config);
        if !path.is_file() {
            anyhow::bail!(
                "there is no livehelp database at {} (check --data-dir); nothing was backed up",
                path.display()
            );
        }
    }
    Ok(())
}

/// `livehelp migrate`: applies pending migrations and says what it did.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    match database(config)? {
        Database::Postgres(url) => {
            let applied = livehelp_store_postgres::migrate(url)
                .await
                .with_context(|| format!("cannot migrate database {}", redact(url)))?;
            if applied.is_empty() {
                println!("database {} is up to date", redact(url));
            } else {
                println!("database {}: applied migrations {applied:?}", redact(url));
            }
        }
        Database::DefaultSqlite => {
            // Opening a SQLite store applies its migrations.
            open_default_sqlite(config).await?.close().await;
            println!("database {} is up to date", sqlite_path(config).display());
        }
        Database::Sqlite(url) => {
            open_sqlite_url(url).await?.close().await;
            println!("database {url} is up to date");
        }
    }
    Ok(())
}

/// The bus of this node.
pub enum NodeBus {
    /// One node: events stay in the process.
    InProcess(Arc<InProcessBus>),
    /// Several nodes: events and presence go through NATS.
    Nats(Arc<NatsBus>),
}

impl NodeBus {
    /// The bus for the application.
    pub fn shared(&self) -> Arc<dyn Bus> {
        match self {
            NodeBus::InProcess(bus) => bus.clone(),
            NodeBus::Nats(bus) => bus.clone(),
        }
    }

    /// At a clean shutdown, after the server stopped: tell the other nodes at once that
    /// this node's operators are gone.
    pub async fn leave(&self) {
        if let NodeBus::Nats(bus) = self {
            bus.leave().await;
        }
    }
}

/// Opens the configured bus: NATS when `nats_url` is set, in-process otherwise.
pub async fn open_bus(config: &Config) -> anyhow::Result<NodeBus> {
    let Some(url) = &config.nats_url else {
        return Ok(NodeBus::InProcess(Arc::new(InProcessBus::new())));
    };
    let options = NatsOptions {
        name: format!("livehelp {}", config.listen),
        ..NatsOptions::default()
    };
    let bus = NatsBus::connect(url, options).await?;
    tracing::info!(nats = %url, node = bus.node_id(), "NATS bus connected");
    Ok(NodeBus::Nats(Arc::new(bus)))
}

fn sqlite_path(config: &Config) -> std::path::PathBuf {
    config.data_dir.join("livehelp.sqlite3")
}

async fn open_default_sqlite(config: &Config) -> anyhow::Result<SqliteStore> {
    warn_sqlite_always_migrates(config);
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    let path = sqlite_path(config);
    SqliteStore::open(&path, SqliteOptions::default())
        .await
        .with_context(|| format!("cannot open database {}", path.display()))
}

async fn open_sqlite_url(url: &str) -> anyhow::Result<SqliteStore> {
    // `mode=rwc` creates the file when missing, like the default path does.
    let url = if url.contains('?') {
        url.to_owned()
    } else {
        format!("{url}?mode=rwc")
    };
    SqliteStore::open_url(&url, SqliteOptions::default())
        .await
        .with_context(|| format!("cannot open database {url}"))
}

fn warn_sqlite_always_migrates(config: &Config) {
    if !config.migrate_on_start {
        tracing::warn!(
            "migrate_on_start = false (--no-migrate) only applies to PostgreSQL; \
             the SQLite database is migrated when it opens"
        );
    }
}

/// A database URL without its password, for messages and logs.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => format!("{scheme}://{credentials}@{host}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_kept_out_of_messages() {
        assert_eq!(
            redact("postgres://livehelp:s3cret@db:5432/livehelp"),
            "postgres://livehelp:***@db:5432/livehelp"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn urls_pick_the_backend() {
        let with = |url: &str| Config {
            database_url: Some(url.to_owned()),
            ..Config::default()
        };
        assert!(matches!(
            database(&Config::default()),
            Ok(Database::DefaultSqlite)
        ));
        assert!(matches!(
            database(&with("sqlite://a.db")),
            Ok(Database::Sqlite(_))
        ));
        assert!(matches!(
            database(&with("postgres://h/db")),
            Ok(Database::Postgres(_))
        ));
        assert!(matches!(
            database(&with("postgresql://h/db")),
            Ok(Database::Postgres(_))
        ));
        assert!(database(&with("mysql://h/db")).is_err());
    }
}
