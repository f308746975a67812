//! `ConversationStore` for [`SqliteStore`]: appends are handed to the group-commit writer
//! (`writer.rs`, which runs `append.rs`), reads go to the pool. Every query is scoped by
//! the tenant.

use async_trait::async_trait;
use livehelp_domain::{Conversation, ConversationId, Message, OperatorId, TenantId, VisitorId};
use livehelp_store::{AppendRequest, Appended, ConversationStore, StoreError, StoreResult};
use sqlx::{Executor, Sqlite};

use crate::SqliteStore;
use crate::error::store_error;
use crate::rows::{ConversationRow, MessageRow};

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

fn conversations(rows: Vec<ConversationRow>) -> StoreResult<Vec<Conversation>> {
    rows.into_iter()
        .map(|row| Conversation::try_from(row).map_err(StoreError::from))
        .collect()
}
