//! Operator tools (issue 10, item 7): canned responses, internal notes and tags, and who
//! may use them.
//!
//! * Canned responses: every operator uses the tenant's and their own. Tenant-wide ones
//!   are created, edited and deleted by admins and supervisors (`RoleRequired` for
//!   operators); personal ones by their owner only: another operator's personal response
//!   is `NotFound` to everyone else, admins included, exactly like a missing one.
//! * Notes and tags: added (and tags removed) by whoever may follow the conversation
//!   ([`App::follow`]: its owner, anyone while it is queued, supervisors and admins);
//!   read by every operator of the tenant, like the transcript they belong with (M2).
//!   Visitors never reach them: they are not messages and no visitor path reads them.

use std::collections::BTreeMap;

use livehelp_domain::{
    CannedResponse, CannedResponseId, CannedText, ConversationId, Note, NoteId, NoteText, Shortcut,
    Tag, TenantId, Timestamp, ToolError,
};
use livehelp_store::StoreError;

use crate::{App, AppError, OperatorPrincipal, Principal};

/// Who a new canned response is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CannedScope {
    /// Every operator of the tenant (admins and supervisors manage these).
    Tenant,
    /// The creating operator only.
    Personal,
}

/// A canned response to create: raw input, checked by [`App::create_canned_response`].
#[derive(Debug, Clone)]
pub struct NewCannedResponse {
    /// Tenant-wide or personal.
    pub scope: CannedScope,
    /// The shortcut as typed (`refund` or `/refund`).
    pub shortcut: String,
    /// The text, with `{visitor_name}` / `{operator_name}` placeholders if wanted.
    pub text: String,
}

/// Changes to a canned response; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct CannedChanges {
    /// A new shortcut.
    pub shortcut: Option<String>,
    /// A new text.
    pub text: Option<String>,
}

impl App {
    /// The canned responses `operator` may use: the tenant's and their own, ordered by
    /// shortcut, a personal one before a tenant-wide one with the same shortcut (which it
    /// shadows).
    pub async fn canned_responses(
        &self,
        operator: &OperatorPrincipal,
    ) -> Result<Vec<CannedResponse>, AppError> {
        Ok(self
            .store
            .list_canned_responses(operator.tenant_id, operator.operator_id)
            .await?)
    }

    /// Creates a canned response. Errors: `RoleRequired` (a tenant-wide one by an
    /// operator), `ShortcutInvalid`, `ShortcutTaken` (same shortcut in the same scope),
    /// text errors.
    pub async fn create_canned_response(
        &self,
        operator: &OperatorPrincipal,
        input: NewCannedResponse,
        now: Timestamp,
    ) -> Result<CannedResponse, AppError> {
        let owner = match input.scope {
            CannedScope::Tenant => {
                require_supervisor(operator)?;
                None
            }
            CannedScope::Personal => Some(operator.operator_id),
        };
        let response = CannedResponse {
            id: CannedResponseId::new(),
            tenant_id: operator.tenant_id,
            owner,
            shortcut: Shortcut::parse(&input.shortcut)?,
            text: CannedText::parse(input.text)?,
            created_at: now,
            updated_at: now,
        };
        self.store
            .insert_canned_response(operator.tenant_id, &response)
            .await
            .map_err(shortcut_conflict)?;
        Ok(response)
    }

    /// Edits a canned response the operator may manage. Errors as for creation, plus
    /// `NotFound` (missing, another tenant's or another operator's personal one).
    pub async fn update_canned_response(
        &self,
        operator: &OperatorPrincipal,
        id: CannedResponseId,
        changes: CannedChanges,
        now: Timestamp,
    ) -> Result<CannedResponse, AppError> {
        let mut response = self.manageable_canned(operator, id).await?;
        if let Some(shortcut) = changes.shortcut {
            response.shortcut = Shortcut::parse(&shortcut)?;
        }
        if let Some(text) = changes.text {
            response.text = CannedText::parse(text)?;
        }
        response.updated_at = now;
        self.store
            .update_canned_response(operator.tenant_id, &response)
            .await
            .map_err(shortcut_conflict)?;
        Ok(response)
    }

    /// Deletes a canned response the operator may manage (see
    /// [`update_canned_response`](Self::update_canned_response)).
    pub async fn delete_canned_response(
        &self,
        operator: &OperatorPrincipal,
        id: CannedResponseId,
    ) -> Result<(), AppError> {
        self.manageable_canned(operator, id).await?;
        Ok(self
            .store
            .delete_canned_response(operator.tenant_id, id)
            .await?)
    }

    /// The conversation's notes, oldest first. Any operator of the tenant (like the
    /// transcript); `ConversationNotFound` for another tenant's or a missing one.
    pub async fn notes(
        &self,
        operator: &OperatorPrincipal,
        conversation_id: ConversationId,
    ) -> Result<Vec<Note>, AppError> {
        self.fetch_conversation(operator.tenant_id, conversation_id)
            .await?;
        Ok(self
            .store
            .list_notes(operator.tenant_id, conversation_id)
            .await?)
    }

    /// Adds a note, written by `operator`, who must be allowed to follow the conversation
    /// (`RoleRequired` otherwise). Ended conversations take notes too.
    pub async fn add_note(
        &self,
        operator: &OperatorPrincipal,
        conversation_id: ConversationId,
        text: String,
        now: Timestamp,
    ) -> Result<Note, AppError> {
        // Permission first: another tenant's id is "not found" whatever the body says.
        self.follow(&Principal::Operator(operator.clone()), conversation_id)
            .await?;
        let text = NoteText::parse(text)?;
        let note = Note {
            id: NoteId::new(),
            tenant_id: operator.tenant_id,
            conversation_id,
            author_id: operator.operator_id,
            author_name: operator.display_name.clone(),
            text,
            created_at: now,
        };
        self.store
            .insert_note(operator.tenant_id, &note)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => AppError::ConversationNotFound,
                other => other.into(),
            })?;
        Ok(note)
    }

    /// The conversation's tags, sorted. Any operator of the tenant.
    pub async fn tags(
        &self,
        operator: &OperatorPrincipal,
        conversation_id: ConversationId,
    ) -> Result<Vec<Tag>, AppError> {
        self.fetch_conversation(operator.tenant_id, conversation_id)
            .await?;
        self.current_tags(operator.tenant_id, conversation_id).await
    }

    /// Tags the conversation (idempotent) and returns its tags. Same permission as
    /// [`add_note`](Self::add_note); `TagInvalid`, `TooManyTags` (at most
    /// [`Tag::MAX_PER_CONVERSATION`]).
    pub async fn add_tag(
        &self,
        operator: &OperatorPrincipal,
        conversation_id: ConversationId,
        tag: &str,
        now: Timestamp,
    ) -> Result<Vec<Tag>, AppError> {
        self.follow(&Principal::Operator(operator.clone()), conversation_id)
            .await?;
        let tag = Tag::parse(tag)?;
        match self
            .store
            .insert_tag(
                operator.tenant_id,
                conversation_id,
                &tag,
                Tag::MAX_PER_CONVERSATION,
                now,
            )
            .await
        {
            Ok(_) => {}
            Err(StoreError::NotFound) => return Err(AppError::ConversationNotFound),
            Err(StoreError::Conflict {
                constraint: "conversation_tag_limit",
            }) => return Err(ToolError::TooManyTags.into()),
            Err(other) => return Err(other.into()),
        }
        self.current_tags(operator.tenant_id, conversation_id).await
    }

    /// Removes a tag (removing one it does not have is not an error) and returns the
    /// conversation's tags. Same permission as [`add_tag`](Self::add_tag).
    pub async fn remove_tag(
        &self,
        operator: &OperatorPrincipal,
        conversation_id: ConversationId,
        tag: &str,
    ) -> Result<Vec<Tag>, AppError> {
        self.follow(&Principal::Operator(operator.clone()), conversation_id)
            .await?;
        let tag = Tag::parse(tag)?;
        self.store
            .delete_tag(operator.tenant_id, conversation_id, &tag)
            .await?;
        self.current_tags(operator.tenant_id, conversation_id).await
    }

    /// The tags of several conversations of the operator's tenant at once (for lists);
    /// conversations without tags are absent from the map.
    pub async fn tags_of(
        &self,
        operator: &OperatorPrincipal,
        conversations: &[ConversationId],
    ) -> Result<BTreeMap<ConversationId, Vec<Tag>>, AppError> {
        let mut map: BTreeMap<ConversationId, Vec<Tag>> = BTreeMap::new();
        for (conversation, tag) in self
            .store
            .list_tags(operator.tenant_id, conversations)
            .await?
        {
            map.entry(conversation).or_default().push(tag);
        }
        Ok(map)
    }

    async fn current_tags(
        &self,
        tenant: TenantId,
        conversation_id: ConversationId,
    ) -> Result<Vec<Tag>, AppError> {
        Ok(self
            .store
            .list_tags(tenant, &[conversation_id])
            .await?
            .into_iter()
            .map(|(_, tag)| tag)
            .collect())
    }

    /// The canned response if `operator` may change it.
    async fn manageable_canned(
        &self,
        operator: &OperatorPrincipal,
        id: CannedResponseId,
    ) -> Result<CannedResponse, AppError> {
        let response = self
            .store
            .fetch_canned_response(operator.tenant_id, id)
            .await?;
        match response.owner {
            Some(owner) if owner == operator.operator_id => Ok(response),
            // Someone else's personal response does not exist for this operator.
            Some(_) => Err(AppError::NotFound),
            None => {
                require_supervisor(operator)?;
                Ok(response)
            }
        }
    }
}

fn require_supervisor(operator: &OperatorPrincipal) -> Result<(), AppError> {
    if App::may_monitor(operator.role) {
        Ok(())
    } else {
        Err(AppError::RoleRequired)
    }
}

fn shortcut_conflict(error: StoreError) -> AppError {
    match error {
        StoreError::Conflict {
            constraint: "canned_response_shortcut",
        } => ToolError::ShortcutTaken.into(),
        other => other.into(),
    }
}
