//! The storage side of backups, restores and tenant transfer ([`ArchiveStore`]): every
//! table of the database, found in the database's own catalog at run time, read in one
//! consistent snapshot and written back in one transaction.
//!
//! Rows travel as one [`serde_json::Value`] per column in a backend-neutral *logical*
//! encoding ([`ColumnType`]), so an archive taken from SQLite restores into PostgreSQL and
//! back. The archive file format itself (manifest, compression, checksums) is the
//! `livehelp-archive` crate's business; this module only moves rows.
//!
//! Scope: a platform archive holds every row of every table. A tenant archive holds the
//! `tenants` row of that tenant and, of every table with a `tenant_id` column, the rows
//! with that tenant id; tables without a `tenant_id` (platform admins, support requests,
//! the platform's own survey questions) are platform data and never in a tenant archive.

use async_trait::async_trait;
use livehelp_domain::TenantId;
use serde_json::Value;

use crate::{StoreError, StoreResult};

/// Tables that are never archived: bookkeeping of the database engine or of sqlx, not
/// livehelp data. Every other table is archived; the conformance suite fails when a
/// table is neither archived nor listed here.
pub const EXCLUDED_TABLES: &[&str] = &["_sqlx_migrations", "sqlite_sequence", "sqlite_stat1"];

/// The logical encoding of a column in an archive: the same JSON shape whichever backend
/// wrote it or reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// A UUID as lowercase hyphenated text (`"0190…-…"`). SQLite: 16-byte BLOB;
    /// PostgreSQL: `uuid`.
    Uuid,
    /// Raw bytes (SHA-256 token hashes) as standard base64 with padding. SQLite: BLOB;
    /// PostgreSQL: `bytea`.
    Bytes,
    /// Text, exactly as stored. SQLite: TEXT; PostgreSQL: `text`/`varchar`.
    Text,
    /// A JSON document embedded as JSON. SQLite: TEXT with `json_valid`; PostgreSQL:
    /// `jsonb`/`json`.
    Json,
    /// A 64-bit integer. SQLite: INTEGER; PostgreSQL: `smallint`/`integer`/`bigint`.
    Int,
    /// `true`/`false`. SQLite: INTEGER `CHECK (x IN (0, 1))`; PostgreSQL: `boolean`.
    Bool,
    /// An instant as integer microseconds since the Unix epoch, UTC. SQLite: INTEGER
    /// (named `at`, `*_at` or `*_until`); PostgreSQL: `timestamptz`.
    Instant,
}

impl ColumnType {
    /// The name used in an archive's manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Uuid => "uuid",
            ColumnType::Bytes => "bytes",
            ColumnType::Text => "text",
            ColumnType::Json => "json",
            ColumnType::Int => "int",
            ColumnType::Bool => "bool",
            ColumnType::Instant => "instant",
        }
    }

    /// The inverse of [`ColumnType::as_str`]; `None` for an unknown name.
    pub fn parse(name: &str) -> Option<ColumnType> {
        Some(match name {
            "uuid" => ColumnType::Uuid,
            "bytes" => ColumnType::Bytes,
            "text" => ColumnType::Text,
            "json" => ColumnType::Json,
            "int" => ColumnType::Int,
            "bool" => ColumnType::Bool,
            "instant" => ColumnType::Instant,
            _ => return None,
        })
    }
}

/// One column of an archived table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveColumn {
    /// Column name as in the database.
    pub name: String,
    /// Its logical encoding.
    pub column_type: ColumnType,
}

/// One archived table: its name and columns in the database's column order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveTable {
    /// Table name as in the database.
    pub name: String,
    /// Columns, in the database's order; every row has one value per column, in this order.
    pub columns: Vec<ArchiveColumn>,
}

impl ArchiveTable {
    /// Whether the table belongs in a tenant archive: the `tenants` table itself or a
    /// table with a `tenant_id` column, except [`PLATFORM_LINKED_TABLES`].
    pub fn is_tenant_data(&self) -> bool {
        !PLATFORM_LINKED_TABLES.contains(&self.name.as_str())
            && (self.name == "tenants" || self.columns.iter().any(|c| c.name == "tenant_id"))
    }

    /// The column that says whose a row is in a tenant archive: `id` for `tenants`,
    /// `tenant_id` elsewhere; `None` for platform data.
    pub fn owner_column(&self) -> Option<usize> {
        if !self.is_tenant_data() {
            return None;
        }
        let name = if self.name == "tenants" {
            "id"
        } else {
            "tenant_id"
        };
        self.columns.iter().position(|column| column.name == name)
    }
}

/// Tables that have a `tenant_id` but belong with the platform: answers to the platform's
/// own survey questions (never shown to a tenant, docs/surveys.md; they point at
/// `platform_survey_questions`, which no tenant archive carries). Platform archives only.
pub const PLATFORM_LINKED_TABLES: [&str; 1] = ["platform_survey_answers"];

/// Which rows an export takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveScope {
    /// Everything: a backup of the whole deployment.
    Platform,
    /// One tenant's rows only (see the module docs).
    Tenant(TenantId),
}

/// Where an import may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// A restore: every archived table of the target must be empty, or nothing is written.
    IntoEmpty,
    /// A tenant import into a deployment that may hold other tenants: any row whose
    /// primary key or other unique value already exists refuses the whole import, with
    /// every clash listed ([`ImportClashes`]).
    AddTenant,
}

/// Receives the rows of an export, table by table, in foreign-key order (a table comes
/// after every table it references). Called from inside the store's read transaction.
pub trait ArchiveSink: Send {
    /// A new table starts; the rows that follow are its.
    fn begin_table(&mut self, table: &ArchiveTable) -> StoreResult<()>;
    /// One row: one value per column of the current table, in column order, `Null` for
    /// SQL NULL.
    fn row(&mut self, values: Vec<Value>) -> StoreResult<()>;
}

/// Gives the rows of an import, table by table, in the order they were exported.
pub trait ArchiveSource: Send {
    /// The next table (its columns as archived), or `None` when the archive is done.
    fn next_table(&mut self) -> StoreResult<Option<ArchiveTable>>;
    /// Up to `max` further rows of the current table, one value per archived column;
    /// an empty vector when the table is done.
    fn next_rows(&mut self, max: usize) -> StoreResult<Vec<Vec<Value>>>;
}

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Rows written per table, in the order imported.
    pub rows: Vec<(String, u64)>,
}

/// Why an import refused to write: rows whose key or unique value already exists in the
/// target. Returned inside [`StoreError::Other`]; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportClashes {
    /// One line per clash, e.g. `operators: UNIQUE constraint failed: operators.email
    /// (row id 0190…)`.
    pub clashes: Vec<String>,
}

impl std::fmt::Display for ImportClashes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} row(s) clash with data already in the target, nothing was imported:",
            self.clashes.len()
        )?;
        for clash in &self.clashes {
            write!(f, "\n  {clash}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportClashes {}

/// An archive or target problem found while importing (unknown table or column, a value
/// of the wrong shape, a target that is not empty). Returned inside
/// [`StoreError::Other`]; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveDataError(pub String);

impl std::fmt::Display for ArchiveDataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArchiveDataError {}

impl ArchiveDataError {
    /// This message as a [`StoreError`].
    pub fn store_error(message: impl Into<String>) -> StoreError {
        StoreError::Other(Box::new(ArchiveDataError(message.into())))
    }
}

/// Export and import of whole tables, for backups, restores and tenant transfer.
#[async_trait]
pub trait ArchiveStore: Send + Sync {
    /// Every archived table (all tables except [`EXCLUDED_TABLES`]) in foreign-key order,
    /// read from the database's catalog.
    async fn archive_tables(&self) -> StoreResult<Vec<ArchiveTable>>;

    /// Every table name in the database, archived or not (for the completeness check).
    async fn all_table_names(&self) -> StoreResult<Vec<String>>;

    /// Streams the rows of `scope` into `sink`, all read in one transaction (a
    /// consistent snapshot while the server keeps writing). Rows of a table come in
    /// primary-key order.
    async fn export_archive(
        &self,
        scope: ArchiveScope,
        sink: &mut dyn ArchiveSink,
    ) -> StoreResult<()>;

    /// Writes every row `source` gives in one transaction: either all of it lands or
    /// nothing does. Columns the target has and the archive lacks take their defaults;
    /// a table or column the archive has and the target lacks is an error.
    async fn import_archive(
        &self,
        mode: ImportMode,
        source: &mut dyn ArchiveSource,
    ) -> StoreResult<ImportSummary>;
}

/// Sorts tables so that each comes after the tables it references (`references[i]` are
/// the names table `i` points to; self-references and unknown names are ignored). Ties
/// keep name order, so the order is stable across runs and backends.
pub fn foreign_key_order(mut tables: Vec<(ArchiveTable, Vec<String>)>) -> Vec<ArchiveTable> {
    tables.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let names: Vec<String> = tables.iter().map(|(t, _)| t.name.clone()).collect();
    let mut placed = vec![false; tables.len()];
    let mut order = Vec::with_capacity(tables.len());
    while order.len() < tables.len() {
        let before = order.len();
        for i in 0..tables.len() {
            if placed[i] {
                continue;
            }
            let ready = tables[i].1.iter().all(|reference| {
                reference == &tables[i].0.name
                    || names
                        .iter()
                        .position(|n| n == reference)
                        .is_none_or(|j| placed[j])
            });
            if ready {
                placed[i] = true;
                order.push(i);
            }
        }
        if order.len() == before {
            // A cycle: place the rest in name order (the import defers foreign keys).
            for (i, done) in placed.iter_mut().enumerate() {
                if !*done {
                    *done = true;
                    order.push(i);
                }
            }
        }
    }
    let mut slots: Vec<Option<ArchiveTable>> = tables.into_iter().map(|(t, _)| Some(t)).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The byte-exact text of a UUID value as archived, from its 16 bytes.
pub fn uuid_value(bytes: &[u8]) -> StoreResult<Value> {
    let id = uuid::Uuid::from_slice(bytes)
        .map_err(|e| ArchiveDataError::store_error(format!("not a 16-byte id: {e}")))?;
    Ok(Value::String(id.hyphenated().to_string()))
}

/// The UUID of an archived value (`"…-…"` text).
pub fn parse_uuid(value: &Value, column: &str) -> StoreResult<uuid::Uuid> {
    value
        .as_str()
        .and_then(|text| uuid::Uuid::parse_str(text).ok())
        .ok_or_else(|| ArchiveDataError::store_error(format!("{column}: {value} is not a uuid")))
}

/// The integer of an archived `int` or `instant` value (a bool counts as 0/1).
pub fn parse_int(value: &Value, column: &str) -> StoreResult<i64> {
    match value {
        Value::Bool(b) => Ok(i64::from(*b)),
        other => other.as_i64().ok_or_else(|| {
            ArchiveDataError::store_error(format!("{column}: {value} is not an integer"))
        }),
    }
}

/// The boolean of an archived `bool` value (0/1 accepted too).
pub fn parse_bool(value: &Value, column: &str) -> StoreResult<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        _ => Err(ArchiveDataError::store_error(format!(
            "{column}: {value} is not a boolean"
        ))),
    }
}

/// The text of an archived `text` value.
pub fn parse_text<'a>(value: &'a Value, column: &str) -> StoreResult<&'a str> {
    value
        .as_str()
        .ok_or_else(|| ArchiveDataError::store_error(format!("{column}: {value} is not text")))
}

/// How many rows go in one multi-row INSERT for a table of `columns` columns: at most
/// 500, and at most 30 000 bound parameters (below both backends' limits).
pub fn rows_per_insert(columns: usize) -> usize {
    (30_000 / columns.max(1)).clamp(1, 500)
}

/// Standard base64 with padding, the archive's encoding of `bytes` columns.
pub fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The bytes of an archived `bytes` value; `None` when it is not standard base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> ArchiveTable {
        ArchiveTable {
            name: name.to_owned(),
            columns: vec![],
        }
    }

    #[test]
    fn referenced_tables_come_first() {
        let order = foreign_key_order(vec![
            (table("messages"), vec!["conversations".into()]),
            (
                table("conversations"),
                vec!["tenants".into(), "sites".into()],
            ),
            (table("sites"), vec!["tenants".into()]),
            (table("tenants"), vec![]),
            (table("audit_log"), vec!["audit_log".into()]),
        ]);
        let names: Vec<&str> = order.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            ["audit_log", "tenants", "sites", "conversations", "messages"]
        );
    }

    #[test]
    fn column_type_names_round_trip() {
        for t in [
            ColumnType::Uuid,
            ColumnType::Bytes,
            ColumnType::Text,
            ColumnType::Json,
            ColumnType::Int,
            ColumnType::Bool,
            ColumnType::Instant,
        ] {
            assert_eq!(ColumnType::parse(t.as_str()), Some(t));
        }
        assert_eq!(ColumnType::parse("float"), None);
    }
}
