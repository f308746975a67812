//! [`ArchiveStore`] for PostgreSQL: tables and columns from `information_schema` of the
//! current schema, foreign-key order from `pg_constraint`, the export in one
//! `REPEATABLE READ, READ ONLY` transaction (one snapshot while every node keeps
//! writing), the import in one transaction. Foreign keys are checked per statement, so
//! tables are written in foreign-key order (the order the archive has them in).
//!
//! Logical types from the column types: `uuid`, `bytea` (bytes), `text`/`character
//! varying`/`date` (text), `jsonb`/`json` and `text[]` (json), `smallint`/`integer`/`bigint` (int), `boolean`,
//! `timestamp with time zone` (instant, as integer microseconds since the epoch).

use async_trait::async_trait;
use futures_util::TryStreamExt;
use livehelp_store::archive::{
    ArchiveColumn, ArchiveDataError, ArchiveScope, ArchiveSink, ArchiveSource, ArchiveStore,
    ArchiveTable, ColumnType, EXCLUDED_TABLES, ImportClashes, ImportMode, ImportSummary,
    base64_decode, base64_encode, foreign_key_order, parse_bool, parse_int, parse_text, parse_uuid,
    rows_per_insert,
};
use livehelp_store::{StoreError, StoreResult};
use serde_json::Value;
use sqlx::postgres::PgArguments;
use sqlx::{Arguments, AssertSqlSafe, PgConnection, Row};

use crate::PostgresStore;
use crate::error::store_error;

/// A table with what the export and import need beyond [`ArchiveTable`].
struct Catalogued {
    table: ArchiveTable,
    /// The PostgreSQL type of each column (`information_schema.columns.data_type`).
    pg_types: Vec<String>,
    primary_key: Vec<String>,
}

async fn catalog(conn: &mut PgConnection) -> StoreResult<Vec<Catalogued>> {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(store_error)?;
    let references: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT cl.relname::text, ref.relname::text \
         FROM pg_constraint k \
         JOIN pg_class cl ON cl.oid = k.conrelid \
         JOIN pg_class ref ON ref.oid = k.confrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         WHERE k.contype = 'f' AND n.nspname = current_schema()",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(store_error)?;
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT cl.relname::text, a.attname::text \
         FROM pg_constraint k \
         JOIN pg_class cl ON cl.oid = k.conrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS key(attnum, position) \
         JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum = key.attnum \
         WHERE k.contype = 'p' AND n.nspname = current_schema() \
         ORDER BY cl.relname, key.position",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(store_error)?;

    let mut entries: Vec<(ArchiveTable, Vec<String>)> = Vec::new();
    let mut pg_types: Vec<(String, Vec<String>)> = Vec::new();
    for (table, column, data_type) in columns {
        if EXCLUDED_TABLES.contains(&table.as_str()) {
            continue;
        }
        let column_type = column_type(&table, &column, &data_type)?;
        if entries.last().is_none_or(|(t, _)| t.name != table) {
            let refs = references
                .iter()
                .filter(|(from, _)| *from == table)
                .map(|(_, to)| to.clone())
                .collect();
            entries.push((
                ArchiveTable {
                    name: table.clone(),
                    columns: Vec::new(),
                },
                refs,
            ));
            pg_types.push((table.clone(), Vec::new()));
        }
        if let Some((t, _)) = entries.last_mut() {
            t.columns.push(ArchiveColumn {
                name: column,
                column_type,
            });
        }
        if let Some((_, types)) = pg_types.last_mut() {
            types.push(data_type);
        }
    }
    Ok(foreign_key_order(entries)
        .into_iter()
        .map(|table| {
            let types = pg_types
                .iter_mut()
                .find(|(name, _)| *name == table.name)
                .map(|(_, types)| std::mem::take(types))
                .unwrap_or_default();
            let primary_key = keys
                .iter()
                .filter(|(name, _)| *name == table.name)
                .map(|(_, column)| column.clone())
                .collect();
            Catalogued {
                table,
                pg_types: types,
                primary_key,
            }
        })
        .collect())
}

fn column_type(table: &str, column: &str, data_type: &str) -> StoreResult<ColumnType> {
    Ok(match data_type {
        "uuid" => ColumnType::Uuid,
        "bytea" => ColumnType::Bytes,
        // A `date` is its ISO text, `YYYY-MM-DD`, as SQLite keeps it.
        "text" | "character varying" | "date" => ColumnType::Text,
        // `text[]` (a site's allowed origins): a JSON array of strings in the archive,
        // as SQLite keeps it.
        "jsonb" | "json" | "ARRAY" => ColumnType::Json,
        "smallint" | "integer" | "bigint" => ColumnType::Int,
        "boolean" => ColumnType::Bool,
        "timestamp with time zone" => ColumnType::Instant,
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
        .zip(&entry.pg_types)
        .map(|(c, pg_type)| {
            let name = quoted(&c.name);
            match c.column_type {
                ColumnType::Json if pg_type == "ARRAY" => format!("to_jsonb({name})::text"),
                ColumnType::Instant => {
                    format!("(extract(epoch FROM {name}) * 1000000)::int8")
                }
                ColumnType::Json | ColumnType::Text => format!("{name}::text"),
                ColumnType::Int => format!("{name}::int8"),
                _ => name,
            }
        })
        .collect();
    let mut sql = format!(
        "SELECT {} FROM {}",
        columns.join(", "),
        quoted(&entry.table.name)
    );
    if let ArchiveScope::Tenant(_) = scope {
        if entry.table.name == "tenants" {
            sql.push_str(" WHERE id = $1");
        } else {
            sql.push_str(" WHERE tenant_id = $1");
        }
    }
    let key: Vec<String> = if entry.primary_key.is_empty() {
        (1..=entry.table.columns.len())
            .map(|i| i.to_string())
            .collect()
    } else {
        entry.primary_key.iter().map(|c| quoted(c)).collect()
    };
    sql.push_str(&format!(" ORDER BY {}", key.join(", ")));
    sql
}

fn cell(row: &sqlx::postgres::PgRow, index: usize, column: &ArchiveColumn) -> StoreResult<Value> {
    let value = match column.column_type {
        ColumnType::Uuid => row
            .try_get::<Option<uuid::Uuid>, _>(index)
            .map_err(store_error)?
            .map_or(Value::Null, |id| Value::String(id.hyphenated().to_string())),
        ColumnType::Bytes => row
            .try_get::<Option<Vec<u8>>, _>(index)
            .map_err(store_error)?
            .map_or(Value::Null, |bytes| Value::String(base64_encode(&bytes))),
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
            .try_get::<Option<bool>, _>(index)
            .map_err(store_error)?
            .map_or(Value::Null, Value::Bool),
    };
    Ok(value)
}

async fn export(
    conn: &mut PgConnection,
    scope: ArchiveScope,
    sink: &mut dyn ArchiveSink,
) -> StoreResult<()> {
    let tables = catalog(conn).await?;
    for entry in &tables {
        if matches!(scope, ArchiveScope::Tenant(_)) && !entry.table.is_tenant_data() {
            continue;
        }
        sink.begin_table(&entry.table)?;
        let mut query = sqlx::query(AssertSqlSafe(select_sql(entry, scope)));
        if let ArchiveScope::Tenant(tenant) = scope {
            query = query.bind(tenant.as_uuid());
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

/// The placeholder expression for parameter `n` of a column (casts make the parameter
/// types explicit; an instant is built from its microseconds exactly).
fn placeholder(n: usize, column: &ArchiveColumn, pg_type: &str) -> String {
    match column.column_type {
        ColumnType::Uuid => format!("${n}::uuid"),
        ColumnType::Bytes => format!("${n}::bytea"),
        ColumnType::Text if pg_type == "date" => format!("${n}::text::date"),
        ColumnType::Text => format!("${n}::text"),
        ColumnType::Json if pg_type == "ARRAY" => format!(
            "(CASE WHEN ${n}::text IS NULL THEN NULL \
             ELSE ARRAY(SELECT jsonb_array_elements_text(${n}::text::jsonb)) END)"
        ),
        ColumnType::Json => format!("${n}::text::{pg_type}"),
        ColumnType::Int => format!("${n}::int8"),
        ColumnType::Bool => format!("${n}::boolean"),
        ColumnType::Instant => {
            format!("('1970-01-01T00:00:00Z'::timestamptz + ${n}::int8 * interval '1 microsecond')")
        }
    }
}

fn bind_value(
    args: &mut PgArguments,
    value: &Value,
    target: &ArchiveColumn,
    table: &str,
) -> StoreResult<()> {
    let name = format!("{table}.{}", target.name);
    let null = value.is_null();
    let result = match target.column_type {
        ColumnType::Uuid if null => args.add(None::<uuid::Uuid>),
        ColumnType::Uuid => args.add(parse_uuid(value, &name)?),
        ColumnType::Bytes if null => args.add(None::<Vec<u8>>),
        ColumnType::Bytes => {
            let bytes = base64_decode(parse_text(value, &name)?)
                .ok_or_else(|| ArchiveDataError::store_error(format!("{name}: not base64")))?;
            args.add(bytes)
        }
        ColumnType::Text if null => args.add(None::<String>),
        ColumnType::Text => args.add(parse_text(value, &name)?.to_owned()),
        ColumnType::Json if null => args.add(None::<String>),
        ColumnType::Json => args.add(value.to_string()),
        ColumnType::Int | ColumnType::Instant if null => args.add(None::<i64>),
        ColumnType::Int | ColumnType::Instant => args.add(parse_int(value, &name)?),
        ColumnType::Bool if null => args.add(None::<bool>),
        ColumnType::Bool => args.add(parse_bool(value, &name)?),
    };
    result.map_err(|e| ArchiveDataError::store_error(format!("{name}: {e}")))
}

fn insert_sql(table: &str, columns: &[(&ArchiveColumn, &str)], rows: usize) -> String {
    let names: Vec<String> = columns.iter().map(|(c, _)| quoted(&c.name)).collect();
    let mut values = Vec::with_capacity(rows);
    let mut n = 0;
    for _ in 0..rows {
        let row: Vec<String> = columns
            .iter()
            .map(|(column, pg_type)| {
                n += 1;
                placeholder(n, column, pg_type)
            })
            .collect();
        values.push(format!("({})", row.join(", ")));
    }
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        quoted(table),
        names.join(", "),
        values.join(", ")
    )
}

/// Why an insert failed: a data problem (refuses everything) or a database refusal.
enum InsertError {
    Data(StoreError),
    Database(sqlx::Error),
}

async fn insert_rows(
    conn: &mut PgConnection,
    table: &str,
    columns: &[(&ArchiveColumn, &str)],
    rows: &[Vec<Value>],
) -> Result<(), InsertError> {
    let mut args = PgArguments::default();
    for row in rows {
        for (value, (column, _)) in row.iter().zip(columns) {
            bind_value(&mut args, value, column, table).map_err(InsertError::Data)?;
        }
    }
    sqlx::query_with(AssertSqlSafe(insert_sql(table, columns, rows.len())), args)
        .execute(&mut *conn)
        .await
        .map_err(InsertError::Database)?;
    Ok(())
}

fn database_reason(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(database) => {
            let detail = database
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|pg| pg.detail())
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            format!("{}{detail}", database.message())
        }
        other => other.to_string(),
    }
}

fn insert_error(table: &str, error: InsertError) -> StoreError {
    match error {
        InsertError::Data(e) => e,
        InsertError::Database(e) => {
            ArchiveDataError::store_error(format!("{table}: {}", database_reason(&e)))
        }
    }
}

async fn import(
    conn: &mut PgConnection,
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
                "the target database is not empty (rows in {}); restore only into an empty database",
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
            let position = target
                .table
                .columns
                .iter()
                .position(|c| c.name == column.name)
                .ok_or_else(|| {
                    ArchiveDataError::store_error(format!(
                        "the archive has column {}.{} which this database does not have",
                        archived.name, column.name
                    ))
                })?;
            columns.push((
                &target.table.columns[position],
                target.pg_types[position].as_str(),
            ));
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
                    match insert_rows(conn, &archived.name, &columns, &rows).await {
                        Ok(()) => {}
                        Err(InsertError::Data(e)) => return Err(e),
                        Err(InsertError::Database(_)) => {
                            run(conn, "ROLLBACK TO SAVEPOINT archive_batch").await?;
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
                                    Ok(()) => run(conn, "RELEASE SAVEPOINT archive_row").await?,
                                    Err(InsertError::Data(e)) => return Err(e),
                                    Err(InsertError::Database(e)) => {
                                        run(conn, "ROLLBACK TO SAVEPOINT archive_row").await?;
                                        run(conn, "RELEASE SAVEPOINT archive_row").await?;
                                        let first =
                                            row.first().map(Value::to_string).unwrap_or_default();
                                        clashes.push(format!(
                                            "{} row {first}: {}",
                                            archived.name,
                                            database_reason(&e)
                                        ));
                                    }
                                }
                            }
                        }
                    }
                    run(conn, "RELEASE SAVEPOINT archive_batch").await?;
                }
            }
        }
        summary.rows.push((archived.name.clone(), count));
    }
    if !clashes.is_empty() {
        return Err(StoreError::Other(Box::new(ImportClashes { clashes })));
    }
    Ok(summary)
}

async fn run(conn: &mut PgConnection, sql: &'static str) -> StoreResult<()> {
    sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl ArchiveStore for PostgresStore {
    async fn archive_tables(&self) -> StoreResult<Vec<ArchiveTable>> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        Ok(catalog(&mut conn)
            .await?
            .into_iter()
            .map(|c| c.table)
            .collect())
    }

    async fn all_table_names(&self) -> StoreResult<Vec<String>> {
        let names: Vec<(String,)> = sqlx::query_as(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             ORDER BY table_name",
        )
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
        run(
            &mut conn,
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        )
        .await?;
        let result = export(&mut conn, scope, sink).await;
        let end = run(&mut conn, "ROLLBACK").await;
        result.and(end)
    }

    async fn import_archive(
        &self,
        mode: ImportMode,
        source: &mut dyn ArchiveSource,
    ) -> StoreResult<ImportSummary> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        run(&mut conn, "BEGIN").await?;
        match import(&mut conn, mode, source).await {
            Ok(summary) => match sqlx::query("COMMIT").execute(&mut *conn).await {
                Ok(_) => Ok(summary),
                Err(e) => {
                    let _ = run(&mut conn, "ROLLBACK").await;
                    Err(ArchiveDataError::store_error(format!(
                        "commit: {}",
                        database_reason(&e)
                    )))
                }
            },
            Err(e) => {
                run(&mut conn, "ROLLBACK").await?;
                Err(e)
            }
        }
    }
}
