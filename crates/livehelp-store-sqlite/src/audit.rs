//! `AuditStore` for [`SqliteStore`]: the tenant's append-only audit log, on the pool.
//!
//! Entry ids are UUIDv7, stored as 16-byte BLOBs whose byte order is their time order, so
//! the listing pages by id alone: newest first is `ORDER BY id DESC`, and the cursor is
//! `id < before`, both answered from the `audit_log_by_tenant (tenant_id, id DESC)` index
//! without a sort or an `OFFSET` scan.

use async_trait::async_trait;
use livehelp_domain::{AuditEntry, AuditEntryId, TenantId};
use livehelp_store::{AuditStore, StoreError, StoreResult};

use crate::SqliteStore;
use crate::accounts::same_tenant;
use crate::error::store_error;
use crate::rows::{AuditEntryRow, audit_actor, to_micros};

#[async_trait]
impl AuditStore for SqliteStore {
    async fn insert_audit_entry(&self, tenant: TenantId, entry: &AuditEntry) -> StoreResult<()> {
        same_tenant(tenant, entry.tenant_id, "audit entry")?;
        let (actor_kind, actor_id) = audit_actor(entry.actor);
        sqlx::query(
            "INSERT INTO audit_log (id, tenant_id, at, actor_kind, actor_id, action, target) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entry.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(to_micros(entry.at))
        .bind(actor_kind)
        .bind(actor_id)
        .bind(entry.action.as_str())
        .bind(entry.target.as_str())
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn list_audit_entries(
        &self,
        tenant: TenantId,
        before: Option<AuditEntryId>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        // Two fixed texts rather than `($2 IS NULL OR id < $2)`, which SQLite cannot use
        // as a range on the index and would answer by scanning from the newest entry.
        let query = match before {
            None => sqlx::query_as::<_, AuditEntryRow>(
                "SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(tenant.as_uuid())
            .bind(i64::from(limit)),
            Some(before) => sqlx::query_as::<_, AuditEntryRow>(
                "SELECT * FROM audit_log WHERE tenant_id = $1 AND id < $3 \
                 ORDER BY id DESC LIMIT $2",
            )
            .bind(tenant.as_uuid())
            .bind(i64::from(limit))
            .bind(before.as_uuid()),
        };
        let rows = query.fetch_all(self.pool()).await.map_err(store_error)?;
        rows.into_iter()
            .map(|row| AuditEntry::try_from(row).map_err(StoreError::from))
            .collect()
    }
}
