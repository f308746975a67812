//! `ConversationStore` for [`SqliteStore`]: appends are handed to the group-commit writer
//! (`writer.rs`, which runs `append.rs`), reads go to the pool. Every query is scoped by
//! the tenant.
//!
//! `list_conversations` pages by keyset, `(created_at, id) < (cursor)` as one row-value
//! comparison, which SQLite answers from the `conversations_by_created` (or, with a
//! visitor filter, `conversations_by_visitor`) index without an `OFFSET` scan.

use async_trait::async_trait;
use livehelp_domain::{
    Conversation, ConversationId, Message, OperatorId, TenantId, Timestamp, VisitorId,
};
use livehelp_store::{
    AppendRequest, Appended, ConversationQuery, ConversationStore, StoreError, StoreResult,
};
use sqlx::{Executor, QueryBuilder, Sqlite};
use uuid::Uuid;

use crate::SqliteStore;
use crate::error::store_error;
use crate::rows::{ConversationRow, MessageRow, to_micros};

#[async_trait]
impl ConversationStore for SqliteStore {
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
        let row = sqlx::query_as::<_, ConversationRow>(
            "SELECT * FROM conversations \
             WHERE tenant_id = $1 AND visitor_id = $2 AND state <> 'ended'",
        )
        .bind(tenant.as_uuid())
        .bind(visitor.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        Ok(row.map(Conversation::try_from).transpose()?)
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
        conversations(rows)
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
        conversations(rows)
    }

    async fn list_conversations(
        &self,
        tenant: TenantId,
        query: &ConversationQuery,
    ) -> StoreResult<Vec<Conversation>> {
        // The filters are left out of the SQL when not asked for, rather than written as
        // `($n IS NULL OR column = $n)`, which would keep SQLite from using the visitor
        // index.
        let mut sql = QueryBuilder::<Sqlite>::new("SELECT * FROM conversations WHERE tenant_id = ");
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
        conversations(rows)
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
        // One read transaction, so the existence check and the page see the same snapshot.
        let mut transaction = self.pool().begin().await.map_err(store_error)?;
        if fetch_conversation(&mut *transaction, tenant, conversation)
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
        .fetch_all(&mut *transaction)
        .await
        .map_err(store_error)?;
        transaction.commit().await.map_err(store_error)?;
        rows.into_iter()
            .map(|row| Message::try_from(row).map_err(StoreError::from))
            .collect()
    }

    async fn close(&self) {
        self.writer.close().await;
        self.checkpointer.stop().await;
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
    E: Executor<'e, Database = Sqlite>,
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

/// The stored form of a "strictly older than `(created_at, id)`" cursor. A cursor taken
/// from a stored conversation is a whole microsecond and is used as it is. One with a
/// sub-microsecond part lies between two stored instants: every row at or before the
/// microsecond below it is older whatever its id, which is the comparison against the next
/// microsecond up and the smallest possible id.
fn keyset_cursor(created_at: Timestamp, id: ConversationId) -> (i64, Uuid) {
    let micros = to_micros(created_at);
    if created_at.nanosecond().is_multiple_of(1_000) {
        (micros, id.as_uuid())
    } else {
        (micros.saturating_add(1), Uuid::nil())
    }
}

pub(crate) fn conversations(rows: Vec<ConversationRow>) -> StoreResult<Vec<Conversation>> {
    rows.into_iter()
        .map(|row| Conversation::try_from(row).map_err(StoreError::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn whole_microsecond_cursors_are_used_as_they_are() {
        let id = ConversationId::new();
        let instant = datetime!(2026-11-29 19:07:01.123456 UTC);
        assert_eq!(
            keyset_cursor(instant, id),
            (to_micros(instant), id.as_uuid())
        );
    }

    #[test]
    fn finer_cursors_keep_every_row_of_the_microsecond_below() {
        let id = ConversationId::new();
        let instant = datetime!(2026-11-29 19:07:01.123456789 UTC);
        let below = to_micros(datetime!(2026-11-29 19:07:01.123456 UTC));
        assert_eq!(keyset_cursor(instant, id), (below + 1, Uuid::nil()));
        // Before the epoch too: 500 ns before it lies between -1 µs and 0.
        let before_epoch = datetime!(1969-12-31 23:59:59.9999995 UTC);
        assert_eq!(keyset_cursor(before_epoch, id), (0, Uuid::nil()));
    }
}
