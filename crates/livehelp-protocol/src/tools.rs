//! REST bodies of the operator tools (issue 10, item 7): canned responses, internal notes
//! and tags. Operator routes only; none of these is ever sent to a visitor.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AuthorDto;

/// A canned response as the console sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedResponseDto {
    /// Id.
    pub id: Uuid,
    /// `tenant` (everyone's; admins and supervisors manage it) or `personal` (yours).
    pub scope: String,
    /// Lower-case, without the `/`: typed as `/shortcut` in the message box.
    pub shortcut: String,
    /// The text; `{visitor_name}` and `{operator_name}` are filled in by the console.
    pub text: String,
    /// True for a tenant response hidden by a personal one with the same shortcut.
    pub shadowed: bool,
    /// When it was created, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was last changed, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// `GET /api/v1/canned-responses` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedResponseListResponse {
    /// The tenant's and the caller's own, by shortcut (personal first on a tie).
    pub canned_responses: Vec<CannedResponseDto>,
}

/// `POST /api/v1/canned-responses` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCannedResponseRequest {
    /// `personal` (default) or `tenant` (admins and supervisors).
    #[serde(default)]
    pub scope: Option<String>,
    /// 1 to 32 letters, digits, `-`, `_`; a leading `/` is dropped; stored lower-case.
    pub shortcut: String,
    /// 1 to 4,000 characters.
    pub text: String,
}

/// `PATCH /api/v1/canned-responses/{id}` body; absent fields are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCannedResponseRequest {
    /// A new shortcut.
    #[serde(default)]
    pub shortcut: Option<String>,
    /// A new text.
    #[serde(default)]
    pub text: Option<String>,
}

/// An internal note on a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteDto {
    /// Id.
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// Who wrote it (`kind` is `operator`; `name` as it was then).
    pub author: AuthorDto,
    /// The note.
    pub text: String,
    /// When, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// `GET /api/v1/conversations/{id}/notes` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteListResponse {
    /// Oldest first.
    pub notes: Vec<NoteDto>,
}

/// `POST /api/v1/conversations/{id}/notes` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateNoteRequest {
    /// 1 to 4,000 characters (missing counts as empty: `text_empty`).
    #[serde(default)]
    pub text: String,
}

/// `POST /api/v1/conversations/{id}/tags` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddTagRequest {
    /// 1 to 40 characters after trimming; stored lower-case (missing: `tag_invalid`).
    #[serde(default)]
    pub tag: String,
}

/// Answer of every tag route: the conversation's tags after the change, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagListResponse {
    /// Normalised tags.
    pub tags: Vec<String>,
}
