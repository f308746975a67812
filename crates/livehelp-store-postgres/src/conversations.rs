//! `ConversationStore` for [`PostgresStore`]: appends are handed to the group-commit
//! writer (`writer.rs`, which runs `append.rs`), reads go to the pool. Every query is
//! scoped by the tenant.
//!
//! `list_conversations` pages by keyset, `(created_at, id) < (cursor)` as one row-value
//! comparison, which PostgreSQL answers from the `conversations_by_created` (or, with a
//! visitor filter, `conversations_by_visitor`) index without an `OFFSET` scan.

use async_trait::async_trait;
use livehelp_domain::{
    Conversation, ConversationId, Message, OperatorId, TenantId, Timestamp, VisitorId,
};
use livehelp_store::{
    AppendRequest, Appended, ConversationQuery, ConversationStore, StoreError, StoreResult,
};
use sqlx::{Executor, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::PostgresStore;
use crate::error::store_error;
use crate::rows::{ConversationRow, MessageRow, convert_all, stored_instant};

#[async_trait]
impl ConversationStore for PostgresStore {
    async fn append(&self, tenant: TenantId, request: AppendRequest) -> StoreResult<Appended> {
        self.writer.append(tenant, request).await
    }

    async fn fetch_conversation(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Conversation> {
        fetch_conversation(self.pool(), tenant, conversation)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn fetch_open_conversation_for_visitor(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
    ) -> StoreResult<Option<Conversation>> {
        fetch_open_conversation(self.pool(), tenant, visitor).await
    }

    async fn list_queued_conversations(&self, tenant: TenantId) -> StoreResult<Vec<Conversation>> {
        let rows = sqlx::query_as::<_, ConversationRow>(
            "SELECT * FROM conversations \
             WHERE tenant_id = $1 AND state = 'queued' \
             ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        convert_all(rows)
    }

    async fn list_active_conversations_for_operator(
        &self,
        tenant: TenantId,
        operator: OperatorId,
    ) -> StoreResult<Vec<Conversation>> {
        let rows = sqlx::query_as::<_, ConversationRow>(
            "SELECT * FROM conversations \
             WHERE tenant_id = $1 AND operator_id = $2 AND state = 'active' \
             ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .bind(operator.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        convert_all(rows)
    }

    async fn list_conversations(
        &self,
        tenant: TenantId,
        query: &ConversationQuery,
    ) -> StoreResult<Vec<Conversation>> {
        // Filters are left out of the SQL when not asked for, so each shape gets the plan
        // that fits it.
        let mut sql =
            QueryBuilder::<Postgres>::new("SELECT * FROM conversations WHERE tenant_id = ");
        sql.push_bind(tenant.as_uuid());
        if let Some(state) = query.state {
            sql.push(" AND state = ").push_bind(state.as_str());
        }
        if let Some(visitor) = query.visitor {
            sql.push(" AND visitor_id = ").push_bind(visitor.as_uuid());
        }
        if let Some(tag) = &query.tag {
            // A semi-join on the tag index; the ordering and the keyset cursor stay those
            // of the conversations themselves, so paging is unchanged.
            sql.push(
                " AND EXISTS (SELECT 1 FROM conversation_tags AS t \
                 WHERE t.tenant_id = conversations.tenant_id \
                 AND t.conversation_id = conversations.id AND t.tag = ",
            )
            .push_bind(tag.as_str().to_owned())
            .push(")");
        }
        if let Some((created_at, id)) = query.before {
            let (created_at, id) = keyset_cursor(created_at, id);
            sql.push(" AND (created_at, id) < (")
                .push_bind(created_at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(query.limit));
        let rows = sql
            .build_query_as::<ConversationRow>()
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        convert_all(rows)
    }

    async fn count_conversations_for_visitor(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
    ) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM conversations WHERE tenant_id = $1 AND visitor_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(visitor.as_uuid())
        .fetch_one(self.pool())
        .await
        .map_err(store_error)?;
        // count(*) is never negative; the fallback only satisfies the type.
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn list_messages(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        // Conversations are never deleted, so checking first and reading after is safe
        // without a shared snapshot.
        if fetch_conversation(self.pool(), tenant, conversation)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        let rows = sqlx::query_as::<_, MessageRow>(
            "SELECT * FROM messages \
             WHERE tenant_id = $1 AND conversation_id = $2 AND seq > $3 \
             ORDER BY seq \
             LIMIT $4",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        convert_all(rows)
    }

    async fn close(&self) {
        self.writer.close().await;
        self.pool().close().await;
    }
}

/// The conversation if it exists in `tenant`. Used by the pool readers and by the writer
/// inside its transaction.
pub(crate) async fn fetch_conversation<'e, E>(
    executor: E,
    tenant: TenantId,
    conversation: ConversationId,
) -> StoreResult<Option<Conversation>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query_as::<_, ConversationRow>(
        "SELECT * FROM conversations WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(conversation.as_uuid())
    .fetch_optional(executor)
    .await
    .map_err(store_error)?;
    Ok(row.map(Conversation::try_from).transpose()?)
}

/// The visitor's open conversation, if any (at most one, by the partial unique index).
pub(crate) async fn fetch_open_conversation<'e, E>(
    executor: E,
    tenant: TenantId,
    visitor: VisitorId,
) -> StoreResult<Option<Conversation>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query_as::<_, ConversationRow>(
        "SELECT * FROM conversations \
         WHERE tenant_id = $1 AND visitor_id = $2 AND state <> 'ended'",
    )
    .bind(tenant.as_uuid())
    .bind(visitor.as_uuid())
    .fetch_optional(executor)
    .await
    .map_err(store_error)?;
    Ok(row.map(Conversation::try_from).transpose()?)
}

/// The stored form of a "strictly older than `(created_at, id)`" cursor. A cursor taken
/// from a stored conversation is a whole microsecond and is used as it is. One with a
/// sub-microsecond part lies between two stored instants: every row at or before the
/// microsecond below it is older whatever its id, which is the comparison against the next
/// microsecond up and the smallest possible id.
fn keyset_cursor(created_at: Timestamp, id: ConversationId) -> (Timestamp, Uuid) {
    let below = stored_instant(created_at);
    if below == created_at {
        (created_at, id.as_uuid())
    } else {
        (below + time::Duration::microseconds(1), Uuid::nil())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn whole_microsecond_cursors_are_used_as_they_are() {
        let id = ConversationId::new();
        let instant = datetime!(2026-11-29 19:07:01.123456 UTC);
        assert_eq!(keyset_cursor(instant, id), (instant, id.as_uuid()));
    }

    #[test]
    fn finer_cursors_keep_every_row_of_the_microsecond_below() {
        let id = ConversationId::new();
        let instant = datetime!(2026-11-29 19:07:01.123456789 UTC);
        assert_eq!(
            keyset_cursor(instant, id),
            (datetime!(2026-11-29 19:07:01.123457 UTC), Uuid::nil())
        );
    }
}
