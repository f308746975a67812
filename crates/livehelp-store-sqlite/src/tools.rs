//! `ToolStore` for [`SqliteStore`]: canned responses, notes and tags (issue 10, item 7),
//! on the pool. Each write is one statement, so it is atomic without a transaction: the
//! tag limit is checked inside the `INSERT ... SELECT` itself, and SQLite runs one write
//! at a time.

use async_trait::async_trait;
use livehelp_domain::{
    CannedResponse, CannedResponseId, CannedText, ConversationId, Note, NoteId, NoteText,
    OperatorId, Shortcut, Tag, TenantId, Timestamp,
};
use livehelp_store::{StoreError, StoreResult, ToolStore};
use sqlx::{FromRow, QueryBuilder, Sqlite};
use uuid::Uuid;

use crate::SqliteStore;
use crate::accounts::same_tenant;
use crate::conversations::fetch_conversation;
use crate::error::store_error;
use crate::rows::{CorruptRow, from_micros, to_micros};

#[async_trait]
impl ToolStore for SqliteStore {
    async fn insert_canned_response(
        &self,
        tenant: TenantId,
        response: &CannedResponse,
    ) -> StoreResult<()> {
        same_tenant(tenant, response.tenant_id, "canned response")?;
        sqlx::query(
            "INSERT INTO canned_responses \
             (id, tenant_id, owner_id, shortcut, text, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(response.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(response.owner.map(|owner| owner.as_uuid()))
        .bind(response.shortcut.as_str())
        .bind(response.text.as_str())
        .bind(to_micros(response.created_at))
        .bind(to_micros(response.updated_at))
        .execute(self.pool())
        .await
        .map_err(foreign_key_is_not_found)?;
        Ok(())
    }

    async fn fetch_canned_response(
        &self,
        tenant: TenantId,
        response: CannedResponseId,
    ) -> StoreResult<CannedResponse> {
        let row = sqlx::query_as::<_, CannedRow>(
            "SELECT * FROM canned_responses WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(response.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        Ok(row.try_into()?)
    }

    async fn list_canned_responses(
        &self,
        tenant: TenantId,
        operator: OperatorId,
    ) -> StoreResult<Vec<CannedResponse>> {
        // The two scopes as the unique index spells them, so both are index ranges.
        let rows = sqlx::query_as::<_, CannedRow>(
            "SELECT * FROM canned_responses \
             WHERE tenant_id = $1 AND ifnull(owner_id, X'') IN (X'', $2) \
             ORDER BY shortcut, owner_id IS NULL, id",
        )
        .bind(tenant.as_uuid())
        .bind(operator.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| CannedResponse::try_from(row).map_err(StoreError::from))
            .collect()
    }

    async fn update_canned_response(
        &self,
        tenant: TenantId,
        response: &CannedResponse,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE canned_responses SET shortcut = $3, text = $4, updated_at = $5 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(response.id.as_uuid())
        .bind(response.shortcut.as_str())
        .bind(response.text.as_str())
        .bind(to_micros(response.updated_at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_canned_response(
        &self,
        tenant: TenantId,
        response: CannedResponseId,
    ) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM canned_responses WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(response.as_uuid())
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn insert_note(&self, tenant: TenantId, note: &Note) -> StoreResult<()> {
        same_tenant(tenant, note.tenant_id, "note")?;
        sqlx::query(
            "INSERT INTO conversation_notes \
             (id, tenant_id, conversation_id, author_id, author_name, text, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(note.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(note.conversation_id.as_uuid())
        .bind(note.author_id.as_uuid())
        .bind(&note.author_name)
        .bind(note.text.as_str())
        .bind(to_micros(note.created_at))
        .execute(self.pool())
        .await
        .map_err(foreign_key_is_not_found)?;
        Ok(())
    }

    async fn list_notes(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<Note>> {
        let rows = sqlx::query_as::<_, NoteRow>(
            "SELECT * FROM conversation_notes \
             WHERE tenant_id = $1 AND conversation_id = $2 \
             ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| Note::try_from(row).map_err(StoreError::from))
            .collect()
    }

    async fn insert_tag(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        tag: &Tag,
        max: u32,
        now: Timestamp,
    ) -> StoreResult<bool> {
        // One statement: the conversation must exist in the tenant, the tag must be new
        // and the count below the limit, all read under the write lock of the insert.
        let done = sqlx::query(
            "INSERT INTO conversation_tags (tenant_id, conversation_id, tag, created_at) \
             SELECT $1, $2, $3, $4 \
             WHERE EXISTS (SELECT 1 FROM conversations WHERE tenant_id = $1 AND id = $2) \
               AND (SELECT count(*) FROM conversation_tags \
                    WHERE tenant_id = $1 AND conversation_id = $2) < $5 \
             ON CONFLICT (tenant_id, conversation_id, tag) DO NOTHING",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .bind(tag.as_str())
        .bind(to_micros(now))
        .bind(i64::from(max))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        // Nothing inserted: say why.
        if fetch_conversation(self.pool(), tenant, conversation)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        let has: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM conversation_tags \
             WHERE tenant_id = $1 AND conversation_id = $2 AND tag = $3)",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .bind(tag.as_str())
        .fetch_one(self.pool())
        .await
        .map_err(store_error)?;
        if has {
            Ok(false)
        } else {
            Err(StoreError::Conflict {
                constraint: "conversation_tag_limit",
            })
        }
    }

    async fn delete_tag(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        tag: &Tag,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM conversation_tags \
             WHERE tenant_id = $1 AND conversation_id = $2 AND tag = $3",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .bind(tag.as_str())
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_tags(
        &self,
        tenant: TenantId,
        conversations: &[ConversationId],
    ) -> StoreResult<Vec<(ConversationId, Tag)>> {
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = QueryBuilder::<Sqlite>::new(
            "SELECT conversation_id, tag FROM conversation_tags WHERE tenant_id = ",
        );
        sql.push_bind(tenant.as_uuid())
            .push(" AND conversation_id IN (");
        let mut ids = sql.separated(", ");
        for id in conversations {
            ids.push_bind(id.as_uuid());
        }
        sql.push(") ORDER BY conversation_id, tag");
        let rows: Vec<(Uuid, String)> = sql
            .build_query_as()
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(id, tag)| {
                let tag = Tag::parse(&tag).map_err(|_| CorruptRow(format!("tag {tag:?}")))?;
                Ok((ConversationId::from_uuid(id), tag))
            })
            .collect()
    }
}

/// A foreign key violation on insert means the conversation, author or owner is not one
/// of this tenant's: "not found", like any other id of another tenant.
fn foreign_key_is_not_found(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(database) = &error
        && database.kind() == sqlx::error::ErrorKind::ForeignKeyViolation
    {
        return StoreError::NotFound;
    }
    store_error(error)
}

#[derive(FromRow)]
struct CannedRow {
    id: Uuid,
    tenant_id: Uuid,
    owner_id: Option<Uuid>,
    shortcut: String,
    text: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<CannedRow> for CannedResponse {
    type Error = CorruptRow;

    fn try_from(row: CannedRow) -> Result<Self, Self::Error> {
        Ok(CannedResponse {
            id: CannedResponseId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            owner: row.owner_id.map(OperatorId::from_uuid),
            shortcut: Shortcut::parse(&row.shortcut)
                .map_err(|_| CorruptRow(format!("shortcut {:?}", row.shortcut)))?,
            text: CannedText::parse(row.text)
                .map_err(|error| CorruptRow(format!("canned text: {error}")))?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

#[derive(FromRow)]
struct NoteRow {
    id: Uuid,
    tenant_id: Uuid,
    conversation_id: Uuid,
    author_id: Uuid,
    author_name: String,
    text: String,
    created_at: i64,
}

impl TryFrom<NoteRow> for Note {
    type Error = CorruptRow;

    fn try_from(row: NoteRow) -> Result<Self, Self::Error> {
        Ok(Note {
            id: NoteId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            conversation_id: ConversationId::from_uuid(row.conversation_id),
            author_id: OperatorId::from_uuid(row.author_id),
            author_name: row.author_name,
            text: NoteText::parse(row.text)
                .map_err(|error| CorruptRow(format!("note text: {error}")))?,
            created_at: from_micros(row.created_at)?,
        })
    }
}
