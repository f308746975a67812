//! `RoutingStore` for [`SqliteStore`]: departments and their members, a tenant's routing
//! settings, and the reads automatic routing and the queue estimate make. Writes that
//! touch several rows (a department and its members) are one transaction. Every query is
//! scoped by the tenant.

use async_trait::async_trait;
use livehelp_domain::{
    Conversation, ConversationId, Department, DepartmentId, OperatorId, OperatorLoad, RoutingMode,
    RoutingSettings, TenantId, Timestamp,
};
use livehelp_store::{RoutingStore, StoreError, StoreResult};
use sqlx::{FromRow, SqliteConnection};
use uuid::Uuid;

use crate::SqliteStore;
use crate::accounts::one_row_updated;
use crate::conversations::conversations;
use crate::error::store_error;
use crate::rows::{ConversationRow, CorruptRow, from_micros, optional_instant, to_micros};

#[derive(FromRow)]
struct DepartmentRow {
    id: Uuid,
    name: String,
    routing: String,
    created_at: i64,
}

#[derive(FromRow)]
struct LoadRow {
    id: Uuid,
    active: i64,
    max_chats: Option<i64>,
    tenant_max: Option<i64>,
    last_assigned_at: Option<i64>,
}

fn routing_mode(name: &str) -> Result<RoutingMode, CorruptRow> {
    RoutingMode::parse(name).ok_or_else(|| CorruptRow(format!("routing mode {name:?}")))
}

fn limit(value: Option<i64>) -> Result<Option<u32>, CorruptRow> {
    value
        .map(|limit| u32::try_from(limit).map_err(|_| CorruptRow(format!("chat limit {limit}"))))
        .transpose()
}

/// Replaces a department's members; `NotFound` if one is not an operator of the tenant.
async fn write_members(
    connection: &mut SqliteConnection,
    tenant: TenantId,
    department: &Department,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM department_members WHERE tenant_id = $1 AND department_id = $2")
        .bind(tenant.as_uuid())
        .bind(department.id.as_uuid())
        .execute(&mut *connection)
        .await
        .map_err(store_error)?;
    for operator in &department.operators {
        // INSERT ... SELECT: an operator of another tenant inserts nothing (NotFound)
        // instead of failing on the foreign key.
        let result = sqlx::query(
            "INSERT OR IGNORE INTO department_members (tenant_id, department_id, operator_id) \
             SELECT tenant_id, $2, id FROM operators WHERE tenant_id = $1 AND id = $3",
        )
        .bind(tenant.as_uuid())
        .bind(department.id.as_uuid())
        .bind(operator.as_uuid())
        .execute(&mut *connection)
        .await
        .map_err(store_error)?;
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM operators WHERE tenant_id = $1 AND id = $2)",
        )
        .bind(tenant.as_uuid())
        .bind(operator.as_uuid())
        .fetch_one(&mut *connection)
        .await
        .map_err(store_error)?;
        if result.rows_affected() == 0 && !known {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}

#[async_trait]
impl RoutingStore for SqliteStore {
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
        .bind(to_micros(department.created_at))
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
        for sql in [
            "UPDATE conversations SET department_id = NULL \
             WHERE tenant_id = $1 AND department_id = $2 AND state <> 'ended'",
            "UPDATE sites SET default_department_id = NULL \
             WHERE tenant_id = $1 AND default_department_id = $2",
            "DELETE FROM department_members WHERE tenant_id = $1 AND department_id = $2",
        ] {
            sqlx::query(sql)
                .bind(tenant.as_uuid())
                .bind(department.as_uuid())
                .execute(&mut *transaction)
                .await
                .map_err(store_error)?;
        }
        let result = sqlx::query("DELETE FROM departments WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(department.as_uuid())
            .execute(&mut *transaction)
            .await
            .map_err(store_error)?;
        one_row_updated(&result)?;
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
                    created_at: from_micros(row.created_at)?,
                })
            })
            .collect::<Result<_, CorruptRow>>()
            .map_err(StoreError::from)
    }

    async fn fetch_routing_settings(&self, tenant: TenantId) -> StoreResult<RoutingSettings> {
        let row: Option<(String, Option<i64>, bool)> = sqlx::query_as(
            "SELECT routing, max_chats_per_operator, show_monitoring FROM tenants WHERE id = $1",
        )
        .bind(tenant.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        let (routing, max_chats, show_monitoring) = row.ok_or(StoreError::NotFound)?;
        Ok(RoutingSettings {
            routing: routing_mode(&routing)?,
            max_chats_per_operator: limit(max_chats)?,
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
        .bind(settings.max_chats_per_operator.map(i64::from))
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
             WHERE o.tenant_id = $1 AND o.disabled = 0 \
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
                    limit: limit(row.max_chats.or(row.tenant_max))?,
                    last_assigned_at: optional_instant(row.last_assigned_at)?,
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
        let row: Option<(String, Option<i64>)> = sqlx::query_as(
            "SELECT c.state, \
                    (SELECT count(*) FROM conversations q \
                     WHERE q.tenant_id = c.tenant_id AND q.state = 'queued' \
                       AND q.department_id IS c.department_id \
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
            .then_some(position)
            .flatten()
            .and_then(|position| u64::try_from(position).ok()))
    }

    async fn recent_assignments(
        &self,
        tenant: TenantId,
        department: Option<DepartmentId>,
        since: Timestamp,
    ) -> StoreResult<Vec<Timestamp>> {
        let rows: Vec<i64> = sqlx::query_scalar(
            "SELECT assigned_at FROM conversations \
             WHERE tenant_id = $1 AND assigned_at >= $3 AND department_id IS $2 \
             ORDER BY assigned_at DESC LIMIT 100",
        )
        .bind(tenant.as_uuid())
        .bind(department.map(|id| id.as_uuid()))
        .bind(to_micros(since))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|at| from_micros(at).map_err(StoreError::from))
            .collect()
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
        conversations(rows)
    }

    async fn list_unanswered_conversations(
        &self,
        tenant: TenantId,
        assigned_after: Timestamp,
        assigned_before: Timestamp,
    ) -> StoreResult<Vec<Conversation>> {
        let rows = sqlx::query_as::<_, ConversationRow>(
            "SELECT * FROM conversations c \
             WHERE c.tenant_id = $1 AND c.state = 'active' AND c.auto_assigned = 1 \
               AND c.assigned_at > $2 AND c.assigned_at <= $3 \
               AND NOT EXISTS (SELECT 1 FROM messages m \
                   WHERE m.conversation_id = c.id AND m.seq > c.assigned_seq \
                     AND m.kind = 'operator' AND m.author_id = c.operator_id) \
             ORDER BY c.assigned_at, c.id",
        )
        .bind(tenant.as_uuid())
        .bind(to_micros(assigned_after))
        .bind(to_micros(assigned_before))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        conversations(rows)
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
