//! Conformance of [`ArchiveStore`]: a tenant export holds that tenant's rows and nothing
//! of another tenant, and a tenant import that clashes with existing rows is refused
//! whole, listing the clashes, with nothing written.

use std::sync::Arc;

use serde_json::Value;

use super::fixtures::{Fixture, visitor_message};
use crate::archive::{
    ArchiveScope, ArchiveSink, ArchiveSource, ArchiveTable, ImportClashes, ImportMode,
};
use crate::{Store, StoreError, StoreResult};

/// Collects an export in memory.
#[derive(Default)]
struct Collected {
    tables: Vec<(ArchiveTable, Vec<Vec<Value>>)>,
}

impl ArchiveSink for Collected {
    fn begin_table(&mut self, table: &ArchiveTable) -> StoreResult<()> {
        self.tables.push((table.clone(), Vec::new()));
        Ok(())
    }

    fn row(&mut self, values: Vec<Value>) -> StoreResult<()> {
        if let Some((_, rows)) = self.tables.last_mut() {
            rows.push(values);
        }
        Ok(())
    }
}

/// Replays a collected export.
struct Replay {
    tables: std::vec::IntoIter<(ArchiveTable, Vec<Vec<Value>>)>,
    rows: std::vec::IntoIter<Vec<Value>>,
}

impl ArchiveSource for Replay {
    fn next_table(&mut self) -> StoreResult<Option<ArchiveTable>> {
        Ok(self.tables.next().map(|(table, rows)| {
            self.rows = rows.into_iter();
            table
        }))
    }

    fn next_rows(&mut self, max: usize) -> StoreResult<Vec<Vec<Value>>> {
        Ok(self.rows.by_ref().take(max).collect())
    }
}

async fn export(store: &dyn Store, scope: ArchiveScope) -> Vec<(ArchiveTable, Vec<Vec<Value>>)> {
    let mut collected = Collected::default();
    store
        .export_archive(scope, &mut collected)
        .await
        .expect("export");
    collected.tables
}

/// A tenant export holds the tenant's row, its rows of every table with `tenant_id`
/// (text byte for byte), no platform table and nothing of another tenant; importing it
/// again into the same store clashes on every key, is refused whole with the clashes
/// listed, and changes nothing.
pub async fn tenant_archive_is_whole_and_clashing_imports_change_nothing(store: Arc<dyn Store>) {
    let mine = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let text = "שלום 你好 🎉 e\u{301}";
    for fixture in [&mine, &other] {
        let conversation = fixture.open(&*store, fixture.visitor.id).await;
        store
            .append(
                fixture.tenant.id,
                visitor_message(conversation.id, fixture.visitor.id, text, None),
            )
            .await
            .expect("message");
    }
    let tables = export(&*store, ArchiveScope::Tenant(mine.tenant.id)).await;
    let mine_id = Value::String(mine.tenant.id.to_string());
    let other_id = other.tenant.id.to_string();
    for (table, rows) in &tables {
        assert!(table.is_tenant_data(), "{} is platform data", table.name);
        let key = if table.name == "tenants" {
            "id"
        } else {
            "tenant_id"
        };
        let index = table
            .columns
            .iter()
            .position(|c| c.name == key)
            .expect("tenant column");
        for row in rows {
            assert_eq!(
                row[index], mine_id,
                "a row of another tenant in {}",
                table.name
            );
            assert!(!Value::Array(row.clone()).to_string().contains(&other_id));
        }
    }
    let rows_of = |name: &str| {
        tables
            .iter()
            .find(|(t, _)| t.name == name)
            .map_or(0, |(_, rows)| rows.len())
    };
    assert_eq!(rows_of("tenants"), 1);
    assert_eq!(rows_of("sites"), 1);
    assert_eq!(rows_of("messages"), 2, "the open event and the message");
    let (messages, rows) = tables
        .iter()
        .find(|(t, _)| t.name == "messages")
        .expect("messages");
    let text_column = messages
        .columns
        .iter()
        .position(|c| c.name == "text")
        .expect("text");
    assert!(
        rows.iter()
            .any(|row| row[text_column] == Value::String(text.into()))
    );

    let mut replay = Replay {
        tables: tables.clone().into_iter(),
        rows: Vec::new().into_iter(),
    };
    match store
        .import_archive(ImportMode::AddTenant, &mut replay)
        .await
    {
        Err(StoreError::Other(error)) => {
            let clashes = error
                .downcast_ref::<ImportClashes>()
                .unwrap_or_else(|| panic!("clashes, not {error}"));
            let total: usize = tables.iter().map(|(_, rows)| rows.len()).sum();
            assert_eq!(clashes.clashes.len(), total, "every row clashes: {clashes}");
        }
        other => panic!("a clashing import is refused, got {other:?}"),
    }
    assert_eq!(
        export(&*store, ArchiveScope::Tenant(mine.tenant.id)).await,
        tables,
        "nothing written"
    );
}
