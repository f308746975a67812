//! [`ArchiveStore`] for SQLite: tables and columns from `sqlite_master` and
//! `pragma_table_info`, foreign-key order from `pragma_foreign_key_list`, the export in
//! one read transaction (a WAL snapshot: the writer keeps committing meanwhile), the
//! import in one `BEGIN IMMEDIATE` transaction with foreign keys deferred to the commit.
//!
//! Logical types from the STRICT schema (conventions of `0001_initial.sql`): a BLOB is a
//! UUID unless its name contains `hash` (then raw bytes); an INTEGER is a bool when the
//! table's SQL checks `name IN (0, 1)`, an instant when it is named `at`, `*_at` or
//! `*_until`, an int otherwise; a TEXT is JSON when the table's SQL checks
//! `json_valid(name)`.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use livehelp_store::StoreResult;
use livehelp_store::archive::{
    ArchiveColumn, ArchiveDataError, ArchiveScope, ArchiveSink, ArchiveSource, ArchiveStore,
    ArchiveTable, ColumnType, EXCLUDED_TABLES, ImportClashes, ImportMode, ImportSummary,
    foreign_key_order, parse_bool, parse_int, parse_text, parse_uuid, rows_per_insert, uuid_value,
};
use serde_json::Value;
use sqlx::sqlite::SqliteArguments;
use sqlx::{AssertSqlSafe, Row, SqliteConnection};

use crate::SqliteStore;
use crate::error::store_error;

/// A table with what the export and import need beyond [`ArchiveTable`].
struct Catalogued {
    table: ArchiveTable,
    primary_key: Vec<String>,
}

async fn catalog(conn: &mut SqliteConnection) -> StoreResult<Vec<Catalogued>> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, ifnull(sql, '') FROM sqlite_master WHERE type = 'table' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(store_error)?;
    let mut entries = Vec::new();
    for (name, sql) in tables {
        if EXCLUDED_TABLES.contains(&name.as_str()) || name.starts_with("sqlite_") {
            continue;
        }
        let columns: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT name, upper(type), pk FROM pragma_table_info(?1) ORDER BY cid")
                .bind(&name)
                .fetch_all(&mut *conn)
                .await
                .map_err(store_error)?;
        let references: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)")
                .bind(&name)
                .fetch_all(&mut *conn)
                .await
                .map_err(store_error)?;
        let mut primary: Vec<(i64, String)> = columns
            .iter()
            .filter(|(_, _, pk)| *pk > 0)
            .map(|(column, _, pk)| (*pk, column.clone()))
            .collect();
        primary.sort();
        let mut archive_columns = Vec::with_capacity(columns.len());
        for (column, declared, _) in &columns {
            archive_columns.push(ArchiveColumn {
                name: column.clone(),
                column_type: column_type(&name, &sql, column, declared)?,
            });
        }
        entries.push((
            Catalogued {
                table: ArchiveTable {
                    name,
                    columns: archive_columns,
                },
                primary_key: primary.into_iter().map(|(_, c)| c).collect(),
            },
            references.into_iter().map(|(r,)| r).collect::<Vec<_>>(),
        ));
    }
    // Sort the tables, then give each its primary key back.
    let mut keys: Vec<(String, Vec<String>)> = entries
        .iter()
        .map(|(c, _)| (c.table.name.clone(), c.primary_key.clone()))
        .collect();
    let ordered = foreign_key_order(entries.into_iter().map(|(c, r)| (c.table, r)).collect());
    Ok(ordered
        .into_iter()
        .map(|table| {
            let primary_key = keys
                .iter_mut()
                .find(|(name, _)| *name == table.name)
                .map(|(_, key)| std::mem::take(key))
                .unwrap_or_default();
            Catalogued { table, primary_key }
        })
        .collect())
}

fn column_type(table: &str, sql: &str, column: &str, declared: &str) -> StoreResult<ColumnType> {
    Ok(match declared {
        "BLOB" if column.contains("hash") => ColumnType::Bytes,
        "BLOB" => ColumnType::Uuid,
        "INTEGER" if sql.contains(&format!("{column} IN (0, 1)")) => ColumnType::Bool,
        "INTEGER" if column == "at" || column.ends_with("_at") || column.ends_with("_until") => {
            ColumnType::Instant
        }
        "INTEGER" => ColumnType::Int,
        "TEXT" if sql.contains(&format!("json_valid({column})")) => ColumnType::Json,
        "TEXT" => ColumnType::Text,
        other => {
            return Err(ArchiveDataError::store_error(format!(
                "{table}.{column}: column type {other:?} has no archive encoding"
            )));
        }
    })
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn select_sql(entry: &Catalogued, scope: ArchiveScope) -> String {
    let columns: Vec<String> = entry
        .table
        .columns
        .iter()
        .map(|c| quoted(&c.name))
        .collect();
    let mut sql = format!(
        "SELECT {} FROM {}",
        columns.join(", "),
        quoted(&entry.table.name)
    );
    if let ArchiveScope::Tenant(_) = scope {
        if entry.table.name == "tenants" {
            sql.push_str(" WHERE id = ?1");
        } else {
            sql.push_str(" WHERE tenant_id = ?1");
        }
    }
    if entry.primary_key.is_empty() {
        sql.push_str(" ORDER BY rowid");
    } else {
        let key: Vec<String> = entry.primary_key.iter().map(|c| quoted(c)).collect();
        sql.push_str(&format!(" ORDER BY {}", key.join(", ")));
    }
    sql
}

fn cell(row: &sqlx::sqlite::SqliteRow, index: usize, column: &ArchiveColumn) -> StoreResult<Value> {
    let value = match column.column_type {
        ColumnType::Uuid => match row.try_get::<Option<Vec<u8>>, _>(index) {
            Ok(Some(bytes)) => uuid_value(&bytes)?,
            Ok(None) => Value::Null,
            Err(e) => return Err(store_error(e)),
        },
        ColumnType::Bytes => row
            .try_get::<Option<Vec<u8>>, _>(index)
            .map_err(store_error)?
            .map_or(Value::Null, |bytes| {
                Value::String(livehelp_store::archive::base64_encode(&bytes))
            }),
        ColumnType::Text => row
            .try_get::<Option<String>, _>(index)
            .map_err(store_error)?
            .map_or(Value::Null, Value::String),
        ColumnType::Json => match row
            .try_get::<Option<String>, _>(index)
            .map_err(store_error)?
        {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                ArchiveDataError::store_error(format!(
                    "{}: stored JSON unreadable: {e}",
                    column.name
                ))
            })?,
            None => Value::Null,
        },
        ColumnType::Int | ColumnType::Instant => row
            .try_get::<Option<i64>, _>(index)
            .map_err(store_error)?
            .map_or(Value::Null, Value::from),
        ColumnType::Bool => row
            .try_get::<Option<i64>, _>(index)
            .map_err(store_error)?
            .map_or(Value::Null, |v| Value::Bool(v != 0)),
    };
    Ok(value)
}

async fn export(
    conn: &mut SqliteConnection,
    scope: ArchiveScope,
    sink: &mut dyn ArchiveSink,
) -> StoreResult<()> {
    let tables = catalog(conn).await?;
    for entry in &tables {
        if matches!(scope, ArchiveScope::Tenant(_)) && !entry.table.is_tenant_data() {
            continue;
        }
        sink.begin_table(&entry.table)?;
        let sql = select_sql(entry, scope);
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let ArchiveScope::Tenant(tenant) = scope {
            query = query.bind(tenant.as_uuid().as_bytes().to_vec());
        }
        let mut rows = query.fetch(&mut *conn);
        while let Some(row) = rows.try_next().await.map_err(store_error)? {
            let mut values = Vec::with_capacity(entry.table.columns.len());
            for (index, column) in entry.table.columns.iter().enumerate() {
                values.push(cell(&row, index, column)?);
            }
            sink.row(values)?;
        }
    }
    Ok(())
}

fn bind_value(
    args: &mut SqliteArguments,
    value: &Value,
    target: &ArchiveColumn,
    table: &str,
) -> StoreResult<()> {
    use sqlx::Arguments;
    let name = format!("{table}.{}", target.name);
    let result = if value.is_null() {
        args.add(None::<i64>)
    } else {
        match target.column_type {
            ColumnType::Uuid => args.add(parse_uuid(value, &name)?.as_bytes().to_vec()),
            ColumnType::Bytes => {
                let text = parse_text(value, &name)?;
                let bytes = livehelp_store::archive::base64_decode(text)
                    .ok_or_else(|| ArchiveDataError::store_error(format!("{name}: not base64")))?;
                args.add(bytes)
            }
            ColumnType::Text => args.add(parse_text(value, &name)?.to_owned()),
            ColumnType::Json => args.add(value.to_string()),
            ColumnType::Int | ColumnType::Instant => args.add(parse_int(value, &name)?),
            ColumnType::Bool => args.add(i64::from(parse_bool(value, &name)?)),
        }
    };
    result.map_err(|e| ArchiveDataError::store_error(format!("{name}: {e}")))
}

fn insert_sql(table: &str, columns: &[&ArchiveColumn], rows: usize) -> String {
    let names: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
    let placeholders = format!("({})", vec!["?"; columns.len()].join(", "));
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        quoted(table),
        names.join(", "),
        vec![placeholders; rows].join(", ")
    )
}

/// Why an insert failed: a data problem (refuses everything) or a database refusal.
enum InsertError {
    Data(livehelp_store::StoreError),
    Database(sqlx::Error),
}

async fn insert_rows(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[&ArchiveColumn],
    rows: &[Vec<Value>],
) -> Result<(), InsertError> {
    let mut args = SqliteArguments::default();
    for row in rows {
        for (value, column) in row.iter().zip(columns) {
            bind_value(&mut args, value, column, table).map_err(InsertError::Data)?;
        }
    }
    sqlx::query_with(AssertSqlSafe(insert_sql(table, columns, rows.len())), args)
        .execute(&mut *conn)
        .await
        .map_err(InsertError::Database)?;
    Ok(())
}

fn insert_error(table: &str, error: InsertError) -> livehelp_store::StoreError {
    match error {
        InsertError::Data(e) => e,
        InsertError::Database(e) => data_error(table, e),
    }
}

async fn import(
    conn: &mut SqliteConnection,
    mode: ImportMode,
    source: &mut dyn ArchiveSource,
) -> StoreResult<ImportSummary> {
    let targets = catalog(conn).await?;
    if mode == ImportMode::IntoEmpty {
        let mut filled = Vec::new();
        for entry in &targets {
            let sql = format!(
                "SELECT EXISTS (SELECT 1 FROM {})",
                quoted(&entry.table.name)
            );
            let (any,): (bool,) = sqlx::query_as(AssertSqlSafe(sql))
                .fetch_one(&mut *conn)
                .await
                .map_err(store_error)?;
            if any {
                filled.push(entry.table.name.clone());
            }
        }
        if !filled.is_empty() {
            return Err(ArchiveDataError::store_error(format!(
                "the target database is not empty (rows in {}); restore only into an empty data dir or database",
                filled.join(", ")
            )));
        }
    }
    let mut summary = ImportSummary::default();
    let mut clashes = Vec::new();
    while let Some(archived) = source.next_table()? {
        let target = targets
            .iter()
            .find(|t| t.table.name == archived.name)
            .ok_or_else(|| {
                ArchiveDataError::store_error(format!(
                    "the archive has table {} which this database does not have (archive from a newer livehelp?)",
                    archived.name
                ))
            })?;
        let mut columns = Vec::with_capacity(archived.columns.len());
        for column in &archived.columns {
            let found = target
                .table
                .columns
                .iter()
                .find(|c| c.name == column.name)
                .ok_or_else(|| {
                    ArchiveDataError::store_error(format!(
                        "the archive has column {}.{} which this database does not have",
                        archived.name, column.name
                    ))
                })?;
            columns.push(found);
        }
        let batch = rows_per_insert(columns.len());
        let mut count = 0u64;
        loop {
            let rows = source.next_rows(batch)?;
            if rows.is_empty() {
                break;
            }
            if let Some(bad) = rows.iter().find(|r| r.len() != columns.len()) {
                return Err(ArchiveDataError::store_error(format!(
                    "{}: a row has {} values for {} columns",
                    archived.name,
                    bad.len(),
                    columns.len()
                )));
            }
            count += rows.len() as u64;
            match mode {
                ImportMode::IntoEmpty => insert_rows(conn, &archived.name, &columns, &rows)
                    .await
                    .map_err(|e| insert_error(&archived.name, e))?,
                ImportMode::AddTenant => {
                    run(conn, "SAVEPOINT archive_batch").await?;
                    let whole = insert_rows(conn, &archived.name, &columns, &rows).await;
                    if let Err(InsertError::Data(e)) = whole {
                        return Err(e);
                    }
                    if whole.is_err() {
                        run(conn, "ROLLBACK TO archive_batch").await?;
                        // Row by row, to name every clash.
                        for row in &rows {
                            run(conn, "SAVEPOINT archive_row").await?;
                            match insert_rows(
                                conn,
                                &archived.name,
                                &columns,
                                std::slice::from_ref(row),
                            )
                            .await
                            {
                                Ok(()) => run(conn, "RELEASE archive_row").await?,
                                Err(InsertError::Data(e)) => return Err(e),
                                Err(InsertError::Database(e)) => {
                                    run(conn, "ROLLBACK TO archive_row").await?;
                                    run(conn, "RELEASE archive_row").await?;
                                    clashes.push(clash_line(&archived.name, row, &e));
                                }
                            }
                        }
                    }
                    run(conn, "RELEASE archive_batch").await?;
                }
            }
        }
        summary.rows.push((archived.name.clone(), count));
    }
    if !clashes.is_empty() {
        return Err(livehelp_store::StoreError::Other(Box::new(ImportClashes {
            clashes,
        })));
    }
    Ok(summary)
}

fn data_error(table: &str, error: sqlx::Error) -> livehelp_store::StoreError {
    match error {
        sqlx::Error::Database(database) => {
            ArchiveDataError::store_error(format!("{table}: {}", database.message()))
        }
        other => ArchiveDataError::store_error(format!("{table}: {other}")),
    }
}

fn clash_line(table: &str, row: &[Value], error: &sqlx::Error) -> String {
    let first = row.first().map(Value::to_string).unwrap_or_default();
    let reason = match error {
        sqlx::Error::Database(database) => database.message().to_owned(),
        other => other.to_string(),
    };
    format!("{table} row {first}: {reason}")
}

async fn run(conn: &mut SqliteConnection, sql: &'static str) -> StoreResult<()> {
    sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl ArchiveStore for SqliteStore {
    async fn archive_tables(&self) -> StoreResult<Vec<ArchiveTable>> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        Ok(catalog(&mut conn)
            .await?
            .into_iter()
            .map(|c| c.table)
            .collect())
    }

    async fn all_table_names(&self) -> StoreResult<Vec<String>> {
        let names: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .fetch_all(self.pool())
                .await
                .map_err(store_error)?;
        Ok(names.into_iter().map(|(n,)| n).collect())
    }

    async fn export_archive(
        &self,
        scope: ArchiveScope,
        sink: &mut dyn ArchiveSink,
    ) -> StoreResult<()> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        run(&mut conn, "BEGIN").await?;
        let result = export(&mut conn, scope, sink).await;
        // A read transaction: ending it either way changes nothing.
        let end = run(&mut conn, "ROLLBACK").await;
        result.and(end)
    }

    async fn import_archive(
        &self,
        mode: ImportMode,
        source: &mut dyn ArchiveSource,
    ) -> StoreResult<ImportSummary> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        run(&mut conn, "BEGIN IMMEDIATE").await?;
        run(&mut conn, "PRAGMA defer_foreign_keys = ON").await?;
        match import(&mut conn, mode, source).await {
            Ok(summary) => match sqlx::query("COMMIT").execute(&mut *conn).await {
                Ok(_) => Ok(summary),
                Err(e) => {
                    let _ = run(&mut conn, "ROLLBACK").await;
                    Err(data_error("commit", e))
                }
            },
            Err(e) => {
                run(&mut conn, "ROLLBACK").await?;
                Err(e)
            }
        }
    }
}
