//! `ReportStore` and `VisitorDetailStore` for [`PostgresStore`]: the per-conversation facts
//! behind the tenant's reports, offline-message instants, and a visitor's name and email
//! (read, corrected, searched). Plain reads and one-row updates on the pool.
//!
//! The first operator message of each conversation is a correlated `min()` answered from
//! the partial index `messages_operator_by_conversation` (migration 0009); the range scan
//! uses `conversations_by_created`.

use async_trait::async_trait;
use livehelp_domain::{
    ConversationId, Email, OperatorId, SiteId, TenantId, Timestamp, VisitorId, VisitorName,
};
use livehelp_store::{
    ConversationFacts, ReportStore, StoreError, StoreResult, VisitorDetailStore, VisitorDetails,
    VisitorMatch, VisitorSearch,
};
use sqlx::FromRow;
use uuid::Uuid;

use crate::PostgresStore;
use crate::error::store_error;
use crate::rows::{CorruptRow, stored_instant};

#[async_trait]
impl ReportStore for PostgresStore {
    async fn list_conversation_facts(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<ConversationFacts>> {
        let rows = sqlx::query_as::<_, FactsRow>(
            "SELECT c.id, c.site_id, c.created_at, c.ended_at, c.operator_id, \
             (SELECT min(m.created_at) FROM messages m \
              WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id \
              AND m.kind = 'operator') AS first_operator_message_at \
             FROM conversations c \
             WHERE c.tenant_id = $1 AND c.created_at >= $2 AND c.created_at < $3 \
             ORDER BY c.created_at, c.id LIMIT $4",
        )
        .bind(tenant.as_uuid())
        .bind(stored_instant(from))
        .bind(stored_instant(to))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| ConversationFacts::try_from(row).map_err(StoreError::from))
            .collect()
    }

    async fn list_ticket_instants(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Timestamp>> {
        let rows: Vec<Timestamp> = sqlx::query_scalar(
            "SELECT created_at FROM tickets \
             WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 \
             ORDER BY created_at, id LIMIT $4",
        )
        .bind(tenant.as_uuid())
        .bind(stored_instant(from))
        .bind(stored_instant(to))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        Ok(rows)
    }
}

#[async_trait]
impl VisitorDetailStore for PostgresStore {
    async fn fetch_visitor_details(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
    ) -> StoreResult<VisitorDetails> {
        let row = sqlx::query_as::<_, DetailsRow>(
            "SELECT id, tenant_id, name, email, created_at FROM visitors \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(visitor.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        Ok(VisitorMatch::try_from(row)?.details)
    }

    async fn update_visitor_details(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
        details: &VisitorDetails,
    ) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE visitors SET name = $3, email = $4 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(visitor.as_uuid())
        .bind(details.name.as_ref().map(VisitorName::as_str))
        .bind(details.email.as_ref().map(Email::as_str))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        if result.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn find_visitors(
        &self,
        tenant: TenantId,
        search: &VisitorSearch,
        limit: u32,
    ) -> StoreResult<Vec<VisitorMatch>> {
        let query = match search {
            VisitorSearch::Email(email) => sqlx::query_as::<_, DetailsRow>(
                "SELECT id, tenant_id, name, email, created_at FROM visitors \
                 WHERE tenant_id = $1 AND email = $2 ORDER BY created_at, id LIMIT $3",
            )
            .bind(tenant.as_uuid())
            .bind(email.as_str()),
            VisitorSearch::Name(name) => sqlx::query_as::<_, DetailsRow>(
                "SELECT id, tenant_id, name, email, created_at FROM visitors \
                 WHERE tenant_id = $1 AND lower(name) = lower($2) \
                 ORDER BY created_at, id LIMIT $3",
            )
            .bind(tenant.as_uuid())
            .bind(name.as_str()),
        };
        let rows = query
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|row| VisitorMatch::try_from(row).map_err(StoreError::from))
            .collect()
    }
}

/// A conversation with its first operator message, as `list_conversation_facts` reads it.
#[derive(FromRow)]
struct FactsRow {
    id: Uuid,
    site_id: Uuid,
    created_at: Timestamp,
    ended_at: Option<Timestamp>,
    operator_id: Option<Uuid>,
    first_operator_message_at: Option<Timestamp>,
}

impl TryFrom<FactsRow> for ConversationFacts {
    type Error = CorruptRow;

    fn try_from(row: FactsRow) -> Result<Self, Self::Error> {
        Ok(ConversationFacts {
            id: ConversationId::from_uuid(row.id),
            site_id: SiteId::from_uuid(row.site_id),
            created_at: row.created_at,
            ended_at: row.ended_at,
            operator_id: row.operator_id.map(OperatorId::from_uuid),
            first_operator_message_at: row.first_operator_message_at,
        })
    }
}

/// A visitor's details row.
#[derive(FromRow)]
struct DetailsRow {
    id: Uuid,
    tenant_id: Uuid,
    name: Option<String>,
    email: Option<String>,
    created_at: Timestamp,
}

impl TryFrom<DetailsRow> for VisitorMatch {
    type Error = CorruptRow;

    fn try_from(row: DetailsRow) -> Result<Self, Self::Error> {
        let name = VisitorName::parse_optional(row.name)
            .map_err(|error| CorruptRow(format!("visitor name: {error}")))?;
        let email = row
            .email
            .map(|email| {
                Email::parse(&email).map_err(|error| CorruptRow(format!("visitor email: {error}")))
            })
            .transpose()?;
        Ok(VisitorMatch {
            id: VisitorId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            details: VisitorDetails { name, email },
            created_at: row.created_at,
        })
    }
}
