//! Canned responses (issue 10, item 7): `GET/POST /api/v1/canned-responses` and
//! `PATCH/DELETE /api/v1/canned-responses/{id}`. Any operator session; the roles are
//! checked in the app (tenant-wide responses: admins and supervisors; personal ones: their
//! owner only, anyone else gets 404). The console expands them; the server only stores.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use livehelp_app::{CannedChanges, CannedScope, NewCannedResponse};
use livehelp_domain::{CannedResponse, CannedResponseId};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::tools::{
    CannedResponseDto, CannedResponseListResponse, CreateCannedResponseRequest,
    UpdateCannedResponseRequest,
};
use time::OffsetDateTime;

use crate::extract::{ApiJson, OperatorSession};
use crate::{ApiError, AppState};

/// The canned responses the operator may use: the tenant's and their own.
pub async fn list(
    State(state): State<AppState>,
    session: OperatorSession,
) -> Result<Json<CannedResponseListResponse>, ApiError> {
    let responses = state.app.canned_responses(&session.operator).await?;
    let personal: std::collections::HashSet<&str> = responses
        .iter()
        .filter(|response| response.owner.is_some())
        .map(|response| response.shortcut.as_str())
        .collect();
    Ok(Json(CannedResponseListResponse {
        canned_responses: responses
            .iter()
            .map(|response| {
                let shadowed =
                    response.owner.is_none() && personal.contains(response.shortcut.as_str());
                dto(response, shadowed)
            })
            .collect(),
    }))
}

/// Creates a canned response (personal unless `scope` is `tenant`).
pub async fn create(
    State(state): State<AppState>,
    session: OperatorSession,
    ApiJson(body): ApiJson<CreateCannedResponseRequest>,
) -> Result<(StatusCode, Json<CannedResponseDto>), ApiError> {
    let scope = match body.scope.as_deref() {
        None | Some("personal") => CannedScope::Personal,
        Some("tenant") => CannedScope::Tenant,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "scope must be personal or tenant",
            ));
        }
    };
    let input = NewCannedResponse {
        scope,
        shortcut: body.shortcut,
        text: body.text,
    };
    let response = state
        .app
        .create_canned_response(&session.operator, input, OffsetDateTime::now_utc())
        .await?;
    Ok((StatusCode::CREATED, Json(dto(&response, false))))
}

/// Changes a canned response's shortcut and/or text.
pub async fn update(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateCannedResponseRequest>,
) -> Result<Json<CannedResponseDto>, ApiError> {
    let changes = CannedChanges {
        shortcut: body.shortcut,
        text: body.text,
    };
    let response = state
        .app
        .update_canned_response(
            &session.operator,
            parse_id(&id)?,
            changes,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(Json(dto(&response, false)))
}

/// Deletes a canned response.
pub async fn delete(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .delete_canned_response(&session.operator, parse_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn parse_id(id: &str) -> Result<CannedResponseId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "canned response not found"))
}

fn dto(response: &CannedResponse, shadowed: bool) -> CannedResponseDto {
    CannedResponseDto {
        id: response.id.as_uuid(),
        scope: if response.owner.is_some() {
            "personal"
        } else {
            "tenant"
        }
        .to_owned(),
        shortcut: response.shortcut.as_str().to_owned(),
        text: response.text.as_str().to_owned(),
        shadowed,
        created_at: response.created_at,
        updated_at: response.updated_at,
    }
}
