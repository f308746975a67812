//! `GET /api/v1/conversations/{id}/transcript`: the ordered record of one conversation of
//! the operator's tenant, as JSON or (`?format=txt`) plain text. Another tenant's id
//! answers 404, exactly like a missing one.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use livehelp_domain::{ConversationId, MessageKind};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::rest::TranscriptResponse;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;

use crate::extract::OperatorSession;
use crate::{ApiError, AppState, convert};
use livehelp_domain::Message;

/// Query string of the transcript route.
#[derive(Debug, Deserialize)]
pub struct TranscriptQuery {
    /// `json` (default) or `txt`.
    format: Option<String>,
}

/// The transcript.
pub async fn get(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
    Query(query): Query<TranscriptQuery>,
) -> Result<Response, ApiError> {
    let id: ConversationId = id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::ConversationNotFound, "conversation not found"))?;
    let transcript = state
        .app
        .transcript(&session.operator, id, time::OffsetDateTime::now_utc())
        .await?;
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(TranscriptResponse {
            conversation: convert::conversation(&transcript.conversation),
            messages: transcript.messages.iter().map(convert::message).collect(),
        })
        .into_response()),
        Some("txt") => Ok(text_response(&transcript.messages)),
        Some(other) => Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("unknown format {other:?}; use json or txt"),
        )),
    }
}

/// A visitor's own transcript as plain text (`GET /api/v1/visitor/conversations/{id}/
/// transcript`, bearer token): what the visitor saw, never whispers. The same rendering
/// is what a transcript sent to the visitor must use.
pub async fn visitor(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let token = crate::ws::bearer(&headers)
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "visitor token missing"))?;
    let visitor = state.app.authenticate_visitor(&token).await?;
    let id: ConversationId = id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::ConversationNotFound, "conversation not found"))?;
    let messages = state.app.visitor_transcript(&visitor, id).await?;
    Ok(text_response(&messages))
}

/// Renders messages as the plain-text transcript: `[time] author: text`, one entry per
/// message, continuation lines indented.
pub fn transcript_text(messages: &[Message]) -> String {
    let mut text = String::new();
    for message in messages {
        let when = message.created_at.format(&Rfc3339).unwrap_or_default();
        let who = match message.kind {
            MessageKind::System => "*".to_owned(),
            MessageKind::Whisper => format!(
                "{} (whisper)",
                message.author_name.as_deref().unwrap_or("operator")
            ),
            MessageKind::Visitor => message
                .author_name
                .clone()
                .unwrap_or_else(|| "Visitor".into()),
            MessageKind::Operator => message
                .author_name
                .clone()
                .unwrap_or_else(|| "Operator".into()),
        };
        // Names are validated on the way in, but old rows and visitor names may hold
        // anything printable: keep each author on one line.
        let who: String = who
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        // Continuation lines are indented, so a message containing newlines cannot
        // forge what looks like another entry of the transcript.
        let body = message
            .text
            .replace("\r\n", "\n")
            .replace(['\r', '\n'], "\n    ");
        text.push_str(&format!("[{when}] {who}: {body}\n"));
    }
    text
}

fn text_response(messages: &[Message]) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        transcript_text(messages),
    )
        .into_response()
}
