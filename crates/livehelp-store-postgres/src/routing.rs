//! `RoutingStore` for [`PostgresStore`]: departments and their members, a tenant's routing
//! settings, and the reads automatic routing and the queue estimate make. Writes that
//! touch several rows (a department and its members) are one transaction on the pool.
//! Every query is scoped by the tenant.
//!
//! Conversations themselves are only written by the group-commit writer; the one
//! exception is `delete_department`, which moves the department's open conversations to
//! the general queue. It locks the department row first, and the writer holds a key-share
//! lock on a department while it queues a chat in it (see `append.rs`), so the two
//! serialise and no chat is left waiting in a deleted department.

use async_trait::async_trait;
use livehelp_domain::{
    Conversation, ConversationId, Department, DepartmentId, OperatorId, OperatorLoad, RoutingMode,
    RoutingSettings, TenantId, Timestamp,
};
use livehelp_store::{RoutingStore, StoreError, StoreResult};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::PostgresStore;
use crate::accounts::one_row_updated;
use crate::error::store_error;
use crate::rows::{
    ConversationRow, CorruptRow, chat_limit, convert_all, stored_instant, stored_limit,
};

#[derive(FromRow)]
struct DepartmentRow {
    id: Uuid,
    name: String,
    routing: String,
    created_at: Timestamp,
}

#[derive(FromRow)]
struct LoadRow {
    id: Uuid,
    active: i64,
    max_chats: Option<i32>,
    tenant_max: Option<i32>,
    last_assigned_at: Option<Timestamp>,
}

fn routing_mode(name: &str) -> Result<RoutingMode, CorruptRow> {
    RoutingMode::parse(name).ok_or_else(|| CorruptRow(format!("routing mode {name:?}")))
}

/// Replaces a department's members; `NotFound` if one is not an operator of the tenant
/// (then the caller's transaction is rolled back).
async fn write_members(
    connection: &mut PgConnection,
    tenant: TenantId,
    department: &Department,
) -> StoreResult<()> {
    let members: Vec<Uuid> = department
        .operators
        .iter()
        .map(|operator| operator.as_uuid())
        .collect();
    let all_known: bool = sqlx::query_scalar(
        "SELECT count(*) = cardinality(array(SELECT DISTINCT unnest($2::uuid[]))) \
         FROM operators WHERE tenant_id = $1 AND id = ANY($2)",
    )
    .bind(tenant.as_uuid())
    .bind(&members)
    .fetch_one(&mut *connection)
    .await
    .map_err(store_error)?;
    if !all_known {
        return Err(StoreError::NotFound);
    }
    sqlx::query("DELETE FROM department_members WHERE tenant_id = $1 AND department_id = $2")
        .bind(tenant.as_uuid())
        .bind(department.id.as_uuid())
        .execute(&mut *connection)
        .await
        .map_err(store_error)?;
    sqlx::query(
        "INSERT INTO department_members (tenant_id, department_id, operator_id) \
         SELECT $1, $2, member FROM unnest($3::uuid[]) AS member \
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(department.id.as_uuid())
    .bind(&members)
    .execute(&mut *connection)
    .await
    .map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl RoutingStore for PostgresStore {
    async fn insert_department(
        &self,
        tenant: TenantId,
        department: &Department,
    ) -> StoreResult<()> {
        if department.tenant_id != tenant {
            return Err(StoreError::NotFound);
        }
        let mut transaction = self.pool().begin().await.map_err(store_error)?;
        sqlx::query(
            "INSERT INTO departments (id, tenant_id, name, routing, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(department.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(department.name.as_str())
        .bind(department.routing.as_str())
        .bind(stored_instant(department.created_at))
        .execute(&mut *transaction)
        .await
        .map_err(store_error)?;
        write_members(&mut transaction, tenant, department).await?;
        transaction.commit().await.map_err(store_error)
    }

    async fn update_department(
        &self,
        tenant: TenantId,
        department: &Department,
    ) -> StoreResult<()> {
        if department.tenant_id != tenant {
            return Err(StoreError::NotFound);
        }
        let mut transaction = self.pool().begin().await.map_err(store_error)?;
        let result = sqlx::query(
            "UPDATE departments SET name = $3, routing = $4 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(department.id.as_uuid())
        .bind(department.name.as_str())
        .bind(department.routing.as_str())
        .execute(&mut *transaction)
        .await
        .map_err(store_error)?;
        one_row_updated(&result)?;
        write_members(&mut transaction, tenant, department).await?;
        transaction.commit().await.map_err(store_error)
    }

    async fn delete_department(
        &self,
        tenant: TenantId,
        department: DepartmentId,
    ) -> StoreResult<()> {
        let mut transaction = self.pool().begin().await.map_err(store_error)?;
        // Lock it first: a writer queueing a chat in it right now finishes before the
        // conversations are moved below (or finds it gone).
        let locked: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM departments WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(tenant.as_uuid())
        .bind(department.as_uuid())
        .fetch_optional(&mut *transaction)
        .await
        .map_err(store_error)?;
        if locked.is_none() {
            return Err(StoreError::NotFound);
        }
        for sql in [
            "UPDATE conversations SET department_id = NULL \
             WHERE tenant_id = $1 AND department_id = $2 AND state <> 'ended'",
            "UPDATE sites SET default_department_id = NULL \
             WHERE tenant_id = $1 AND default_department_id = $2",
            "DELETE FROM departments WHERE tenant_id = $1 AND id = $2",
        ] {
            sqlx::query(sql)
                .bind(tenant.as_uuid())
                .bind(department.as_uuid())
                .execute(&mut *transaction)
                .await
                .map_err(store_error)?;
        }
        transaction.commit().await.map_err(store_error)
    }

    async fn list_departments(&self, tenant: TenantId) -> StoreResult<Vec<Department>> {
        let rows = sqlx::query_as::<_, DepartmentRow>(
            "SELECT id, name, routing, created_at FROM departments \
             WHERE tenant_id = $1 ORDER BY name, id",
        )
        .bind(tenant.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        let members: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT m.department_id, m.operator_id FROM department_members m \
             JOIN operators o ON o.tenant_id = m.tenant_id AND o.id = m.operator_id \
             WHERE m.tenant_id = $1 ORDER BY o.created_at, o.id",
        )
        .bind(tenant.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                Ok(Department {
                    id: DepartmentId::from_uuid(row.id),
                    tenant_id: tenant,
                    name: row.name,
                    routing: routing_mode(&row.routing)?,
                    operators: members
                        .iter()
                        .filter(|(department, _)| *department == row.id)
                        .map(|(_, operator)| OperatorId::from_uuid(*operator))
                        .collect(),
                    created_at: row.created_at,
                })
            })
            .collect::<Result<_, CorruptRow>>()
            .map_err(StoreError::from)
    }

    async fn fetch_routing_settings(&self, tenant: TenantId) -> StoreResult<RoutingSettings> {
        let row: Option<(String, Option<i32>, bool)> = sqlx::query_as(
            "SELECT routing, max_chats_per_operator, show_monitoring FROM tenants WHERE id = $1",
        )
        .bind(tenant.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        let (routing, max_chats, show_monitoring) = row.ok_or(StoreError::NotFound)?;
        Ok(RoutingSettings {
            routing: routing_mode(&routing)?,
            max_chats_per_operator: chat_limit(max_chats)?,
            show_monitoring,
        })
    }

    async fn update_routing_settings(
        &self,
        tenant: TenantId,
        settings: &RoutingSettings,
    ) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE tenants SET routing = $2, max_chats_per_operator = $3, show_monitoring = $4 \
             WHERE id = $1",
        )
        .bind(tenant.as_uuid())
        .bind(settings.routing.as_str())
        .bind(stored_limit(settings.max_chats_per_operator)?)
        .bind(settings.show_monitoring)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        one_row_updated(&result)
    }

    async fn operator_loads(&self, tenant: TenantId) -> StoreResult<Vec<OperatorLoad>> {
        let rows = sqlx::query_as::<_, LoadRow>(
            "SELECT o.id, o.max_chats, o.last_assigned_at, \
                    t.max_chats_per_operator AS tenant_max, \
                    (SELECT count(*) FROM conversations c WHERE c.tenant_id = o.tenant_id \
                       AND c.operator_id = o.id AND c.state = 'active') AS active \
             FROM operators o JOIN tenants t ON t.id = o.tenant_id \
             WHERE o.tenant_id = $1 AND NOT o.disabled \
             ORDER BY o.created_at, o.id",
        )
        .bind(tenant.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                Ok(OperatorLoad {
                    operator_id: OperatorId::from_uuid(row.id),
                    active: u32::try_from(row.active)
                        .map_err(|_| CorruptRow(format!("active count {}", row.active)))?,
                    limit: chat_limit(row.max_chats.or(row.tenant_max))?,
                    last_assigned_at: row.last_assigned_at,
                })
            })
            .collect::<Result<_, CorruptRow>>()
            .map_err(StoreError::from)
    }

    async fn queue_position(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Option<u64>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT c.state, \
                    (SELECT count(*) FROM conversations q \
                     WHERE q.tenant_id = c.tenant_id AND q.state = 'queued' \
                       AND q.department_id IS NOT DISTINCT FROM c.department_id \
                       AND (q.created_at, q.id) <= (c.created_at, c.id)) \
             FROM conversations c WHERE c.tenant_id = $1 AND c.id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        let (state, position) = row.ok_or(StoreError::NotFound)?;
        Ok((state == "queued")
            .then(|| u64::try_from(position).ok())
            .flatten())
    }

    async fn recent_assignments(
        &self,
        tenant: TenantId,
        department: Option<DepartmentId>,
        since: Timestamp,
    ) -> StoreResult<Vec<Timestamp>> {
        sqlx::query_scalar(
            "SELECT assigned_at FROM conversations \
             WHERE tenant_id = $1 AND assigned_at >= $3 \
               AND department_id IS NOT DISTINCT FROM $2 \
             ORDER BY assigned_at DESC LIMIT 100",
        )
        .bind(tenant.as_uuid())
        .bind(department.map(|id| id.as_uuid()))
        .bind(stored_instant(since))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)
    }

    async fn list_open_conversations(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> StoreResult<Vec<Conversation>> {
        let rows = sqlx::query_as::<_, ConversationRow>(
            "SELECT * FROM conversations \
             WHERE tenant_id = $1 AND state IN ('queued', 'active') \
             ORDER BY created_at, id LIMIT $2",
        )
        .bind(tenant.as_uuid())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        convert_all(rows)
    }

    async fn list_unanswered_conversations(
        &self,
        tenant: TenantId,
        assigned_after: Timestamp,
        assigned_before: Timestamp,
    ) -> StoreResult<Vec<Conversation>> {
        let rows = sqlx::query_as::<_, ConversationRow>(
            "SELECT * FROM conversations c \
             WHERE c.tenant_id = $1 AND c.state = 'active' AND c.auto_assigned \
               AND c.assigned_at > $2 AND c.assigned_at <= $3 \
               AND NOT EXISTS (SELECT 1 FROM messages m \
                   WHERE m.conversation_id = c.id AND m.seq > c.assigned_seq \
                     AND m.kind = 'operator' AND m.author_id = c.operator_id) \
             ORDER BY c.assigned_at, c.id",
        )
        .bind(tenant.as_uuid())
        .bind(stored_instant(assigned_after))
        .bind(stored_instant(assigned_before))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        convert_all(rows)
    }

    async fn list_participants(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<OperatorId>> {
        let rows: Vec<Uuid> = sqlx::query_scalar(
            "SELECT operator_id FROM conversation_participants \
             WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY joined_at, operator_id",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        Ok(rows.into_iter().map(OperatorId::from_uuid).collect())
    }
}
