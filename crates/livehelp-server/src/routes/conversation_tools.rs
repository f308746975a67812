//! Internal notes and tags of a conversation (issue 10, item 7):
//! `GET/POST /api/v1/conversations/{id}/notes`, `GET/POST /api/v1/conversations/{id}/tags`
//! and `DELETE /api/v1/conversations/{id}/tags/{tag}`. Operator session required; reading
//! is open to every operator of the tenant, writing to those who may follow the
//! conversation (checked in the app). Another tenant's id answers 404 like a missing one.
//! No visitor route or frame ever carries these.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use livehelp_domain::{ConversationId, Note, Tag};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::tools::{
    AddTagRequest, CreateNoteRequest, NoteDto, NoteListResponse, TagListResponse,
};
use time::OffsetDateTime;

use crate::extract::{ApiJson, OperatorSession};
use crate::{ApiError, AppState, convert};

/// The conversation's notes, oldest first.
pub async fn list_notes(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Result<Json<NoteListResponse>, ApiError> {
    let notes = state.app.notes(&session.operator, parse_id(&id)?).await?;
    Ok(Json(NoteListResponse {
        notes: notes.iter().map(note_dto).collect(),
    }))
}

/// Adds a note by the calling operator.
pub async fn create_note(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateNoteRequest>,
) -> Result<(StatusCode, Json<NoteDto>), ApiError> {
    let note = state
        .app
        .add_note(
            &session.operator,
            parse_id(&id)?,
            body.text,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(note_dto(&note))))
}

/// The conversation's tags.
pub async fn list_tags(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Result<Json<TagListResponse>, ApiError> {
    let tags = state.app.tags(&session.operator, parse_id(&id)?).await?;
    Ok(Json(tag_list(&tags)))
}

/// Adds a tag (adding one it has already changes nothing).
pub async fn add_tag(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddTagRequest>,
) -> Result<Json<TagListResponse>, ApiError> {
    let tags = state
        .app
        .add_tag(
            &session.operator,
            parse_id(&id)?,
            &body.tag,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(Json(tag_list(&tags)))
}

/// Removes a tag (percent-encoded in the path).
pub async fn remove_tag(
    State(state): State<AppState>,
    session: OperatorSession,
    Path((id, tag)): Path<(String, String)>,
) -> Result<Json<TagListResponse>, ApiError> {
    let tags = state
        .app
        .remove_tag(&session.operator, parse_id(&id)?, &tag)
        .await?;
    Ok(Json(tag_list(&tags)))
}

fn parse_id(id: &str) -> Result<ConversationId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::new(ErrorCode::ConversationNotFound, "conversation not found"))
}

fn note_dto(note: &Note) -> NoteDto {
    NoteDto {
        id: note.id.as_uuid(),
        conversation_id: note.conversation_id.as_uuid(),
        author: convert::author(
            livehelp_domain::MessageAuthor::Operator(note.author_id),
            Some(note.author_name.clone()),
        ),
        text: note.text.as_str().to_owned(),
        created_at: note.created_at,
    }
}

fn tag_list(tags: &[Tag]) -> TagListResponse {
    TagListResponse {
        tags: tags.iter().map(|tag| tag.as_str().to_owned()).collect(),
    }
}
