//! `GET /api/v1/audit-log`: the tenant's audit log, newest first (admins only): who read
//! which transcript, who monitored which conversation, who changed which account.

use axum::Json;
use axum::extract::{Query, State};
use livehelp_domain::{AuditActor, AuditEntryId};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::rest::{AuditEntryDto, AuditLogResponse};
use serde::Deserialize;

use crate::extract::AdminSession;
use crate::{ApiError, AppState};

/// Query string of the audit log.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    /// Only entries older than this entry id (the `next` of a previous page).
    before: Option<String>,
    /// Page size, 1 to 500 (default 100).
    limit: Option<u32>,
}

/// The audit log.
pub async fn list(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditLogResponse>, ApiError> {
    let before: Option<AuditEntryId> = query
        .before
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|_| ApiError::new(ErrorCode::InvalidRequest, "before must be an entry id"))?;
    let limit = query.limit.unwrap_or(100);
    let entries = state
        .app
        .audit_log(&session.operator, before, limit)
        .await?;
    let next = (entries.len() == limit.clamp(1, 500) as usize)
        .then(|| entries.last().map(|entry| entry.id.to_string()))
        .flatten();
    Ok(Json(AuditLogResponse {
        entries: entries
            .into_iter()
            .map(|entry| {
                let (actor_kind, actor_id) = match entry.actor {
                    AuditActor::Operator(id) => ("operator", Some(id.as_uuid())),
                    AuditActor::PlatformAdmin(id) => ("platform_admin", Some(id.as_uuid())),
                    AuditActor::Cli => ("cli", None),
                };
                AuditEntryDto {
                    id: entry.id.as_uuid(),
                    at: entry.at,
                    actor_kind: actor_kind.to_owned(),
                    actor_id,
                    action: entry.action,
                    target: entry.target,
                }
            })
            .collect(),
        next,
    }))
}
