//! `GET /api/v1/conversations` (the tenant's conversations, newest first, keyset-paged,
//! optionally with one tag, with the listed conversations' tags)
//! and `GET /api/v1/conversations/{id}/visitor` (the console's visitor panel). Operator
//! session required; everything is scoped to the operator's tenant.

use axum::Json;
use axum::extract::{Path, Query, State};
use livehelp_domain::{ConversationId, ConversationState};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::rest::{ConversationListResponse, PageDto, VisitorInfoResponse};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::extract::OperatorSession;
use crate::{ApiError, AppState, convert};

/// Query string of the list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// `queued`, `active` or `ended`; all when absent.
    state: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// Cursor from a previous page's `next`.
    before: Option<String>,
    /// Only conversations with this tag (trimmed, compared lower-case).
    tag: Option<String>,
}

/// Lists the tenant's conversations.
pub async fn list(
    State(state): State<AppState>,
    session: OperatorSession,
    Query(query): Query<ListQuery>,
) -> Result<Json<ConversationListResponse>, ApiError> {
    let filter = match query.state.as_deref() {
        None => None,
        Some(name) => Some(ConversationState::parse(name).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                "state must be queued, active or ended",
            )
        })?),
    };
    let before = query.before.as_deref().map(parse_cursor).transpose()?;
    let tag = query
        .tag
        .as_deref()
        .map(livehelp_domain::Tag::parse)
        .transpose()
        .map_err(livehelp_app::AppError::from)?;
    let (views, next) = state
        .app
        .list_conversations(
            &session.operator,
            filter,
            tag,
            before,
            query.limit.unwrap_or(50),
        )
        .await?;
    let ids: Vec<ConversationId> = views.iter().map(|view| view.conversation.id).collect();
    let tags = state.app.tags_of(&session.operator, &ids).await?;
    Ok(Json(ConversationListResponse {
        conversations: views.iter().map(convert::conversation).collect(),
        next: next.map(|(at, id)| format!("{}_{id}", at.unix_timestamp_nanos() / 1_000)),
        tags: tags
            .into_iter()
            .map(|(id, tags)| {
                let tags = tags.iter().map(|tag| tag.as_str().to_owned()).collect();
                (id.as_uuid(), tags)
            })
            .collect(),
    }))
}

/// The visitor panel of a conversation.
pub async fn visitor(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Result<Json<VisitorInfoResponse>, ApiError> {
    let id: ConversationId = id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::ConversationNotFound, "conversation not found"))?;
    let info = state
        .app
        .visitor_info(&session.operator, id, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(VisitorInfoResponse {
        id: info.visitor.id.as_uuid(),
        name: info.visitor.name.map(|name| name.as_str().to_owned()),
        returning: info.returning,
        conversation_count: info.conversation_count,
        first_seen_at: info.visitor.created_at,
        last_seen_at: info.session.last_seen_at,
        ip: info.session.browser.ip.map(|ip| ip.to_string()),
        user_agent: info.session.browser.user_agent,
        browser: info.browser.browser,
        os: info.browser.os,
        device: info.browser.device,
        current_page: info.session.current_page.map(|page| PageDto {
            url: page.url,
            title: page.title,
        }),
    }))
}

fn parse_cursor(cursor: &str) -> Result<(OffsetDateTime, ConversationId), ApiError> {
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "before must be a cursor from a previous page",
        )
    };
    let (micros, id) = cursor.split_once('_').ok_or_else(invalid)?;
    let micros: i128 = micros.parse().map_err(|_| invalid())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).map_err(|_| invalid())?;
    let id = id.parse().map_err(|_| invalid())?;
    Ok((at, id))
}
