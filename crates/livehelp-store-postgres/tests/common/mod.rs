//! Test helpers shared by the PostgreSQL test binaries: the database comes from
//! `LIVEHELP_TEST_POSTGRES_URL`, and every test gets a schema of its own (a fresh,
//! randomly named one, selected through `search_path`), so runs and tests never see each
//! other's rows. Without the variable the tests print a note and pass, so plain
//! `cargo test` needs no services; with it, an unreachable server fails them.

#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;

use livehelp_store_postgres::{PostgresOptions, PostgresStore};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

/// The variable that names the test server.
pub const URL_VARIABLE: &str = "LIVEHELP_TEST_POSTGRES_URL";

/// A fresh schema in the test database, dropped (best effort) when this is dropped.
pub struct TestSchema {
    /// Connect options whose `search_path` is the schema.
    pub connect: PgConnectOptions,
    /// The schema's name.
    pub name: String,
    server: PgConnectOptions,
}

impl TestSchema {
    /// A new schema, or `None` (after printing why) when the variable is unset. Panics
    /// when the variable is set but the server does not answer: CI must never skip.
    pub async fn create(test: &str) -> Option<TestSchema> {
        let Ok(url) = std::env::var(URL_VARIABLE) else {
            eprintln!(
                "note: {URL_VARIABLE} is not set; skipping the PostgreSQL test `{test}` \
                 (set it, e.g. to postgres://postgres@127.0.0.1:5432/test, to run it)"
            );
            return None;
        };
        let server = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|error| panic!("{URL_VARIABLE}={url:?} is not a valid URL: {error}"));
        let name = format!("lh_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect_with(&server)
            .await
            .unwrap_or_else(|error| {
                panic!("{URL_VARIABLE} is set but PostgreSQL at {url} does not answer: {error}")
            });
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .await
            .expect("create the test schema");
        let _ = admin.close().await;
        let connect = server.clone().options([("search_path", name.as_str())]);
        Some(TestSchema {
            connect,
            name,
            server,
        })
    }

    /// Opens a store (a "node") on this schema, migrating it.
    pub async fn store(&self) -> Arc<PostgresStore> {
        self.store_with(PostgresOptions::default()).await
    }

    /// Opens a store on this schema with `options`.
    pub async fn store_with(&self, options: PostgresOptions) -> Arc<PostgresStore> {
        let store = PostgresStore::open_with(self.connect.clone(), options)
            .await
            .expect("the PostgreSQL store opens");
        Arc::new(store)
    }

    /// Drops the schema and everything in it.
    pub async fn drop_schema(&self) {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.server.clone())
            .await;
        if let Ok(pool) = pool {
            let _ = pool
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {} CASCADE",
                    self.name
                )))
                .await;
            pool.close().await;
        }
    }
}
