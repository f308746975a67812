//! [`ToolStore`]: the operator tools' storage (issue 10, item 7): canned responses,
//! internal notes and tags of conversations. Kept apart from messages: nothing here is
//! part of a conversation's `seq`, and nothing here is ever read on a visitor's path.

use async_trait::async_trait;
use livehelp_domain::{
    CannedResponse, CannedResponseId, ConversationId, Note, OperatorId, Tag, TenantId, Timestamp,
};

use crate::StoreResult;

/// Canned responses, notes and tags. Every method is scoped by the tenant; another
/// tenant's ids answer `NotFound`, like missing ones.
#[async_trait]
pub trait ToolStore: Send + Sync {
    /// Creates a canned response; `Conflict { constraint: "canned_response_shortcut" }`
    /// when its scope (the tenant's, or its owner's) already has that shortcut.
    async fn insert_canned_response(
        &self,
        tenant: TenantId,
        response: &CannedResponse,
    ) -> StoreResult<()>;
    /// The canned response, or `NotFound`.
    async fn fetch_canned_response(
        &self,
        tenant: TenantId,
        response: CannedResponseId,
    ) -> StoreResult<CannedResponse>;
    /// The tenant-wide canned responses and `operator`'s own (never another operator's),
    /// ordered by shortcut, personal before tenant-wide for the same shortcut.
    async fn list_canned_responses(
        &self,
        tenant: TenantId,
        operator: OperatorId,
    ) -> StoreResult<Vec<CannedResponse>>;
    /// Replaces a canned response's shortcut, text and `updated_at` (id, owner and
    /// `created_at` never change); `NotFound` for an unknown one, `Conflict` as on insert.
    async fn update_canned_response(
        &self,
        tenant: TenantId,
        response: &CannedResponse,
    ) -> StoreResult<()>;
    /// Deletes a canned response; `NotFound` for an unknown one.
    async fn delete_canned_response(
        &self,
        tenant: TenantId,
        response: CannedResponseId,
    ) -> StoreResult<()>;
    /// Adds a note; `NotFound` when its conversation (or author) is not one of the tenant's.
    async fn insert_note(&self, tenant: TenantId, note: &Note) -> StoreResult<()>;
    /// The conversation's notes, oldest first (by `created_at`, then id). Empty for an
    /// unknown conversation.
    async fn list_notes(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<Note>>;
    /// Tags a conversation. Returns false when it already had the tag (nothing changes).
    /// `NotFound` for an unknown conversation; `Conflict { constraint:
    /// "conversation_tag_limit" }` when it already has `max` tags. The limit holds under
    /// concurrent calls.
    async fn insert_tag(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        tag: &Tag,
        max: u32,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Removes a tag; returns false when the conversation did not have it.
    async fn delete_tag(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        tag: &Tag,
    ) -> StoreResult<bool>;
    /// The tags of each of `conversations` (unknown ids contribute nothing), as
    /// `(conversation, tag)` pairs ordered by conversation, then tag.
    async fn list_tags(
        &self,
        tenant: TenantId,
        conversations: &[ConversationId],
    ) -> StoreResult<Vec<(ConversationId, Tag)>>;
}
