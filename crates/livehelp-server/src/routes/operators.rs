//! Tenant admins manage their operators: `GET/POST /api/v1/operators`,
//! `PATCH /api/v1/operators/{id}` (role, disabled, display name) and
//! `POST /api/v1/operators/{id}/password-reset` (a one-time link). Admin role required;
//! every change is audited.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use livehelp_app::{NewOperator, OperatorChanges};
use livehelp_domain::{Operator, OperatorId, Role};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::rest::{
    CreateOperatorRequest, OperatorDto, OperatorListResponse, PasswordResetLinkResponse,
    UpdateOperatorRequest,
};
use time::OffsetDateTime;

use crate::extract::{AdminSession, ApiJson};
use crate::{ApiError, AppState};

/// The tenant's operators.
pub async fn list(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<Json<OperatorListResponse>, ApiError> {
    let operators = state.app.operators(&session.operator).await?;
    Ok(Json(OperatorListResponse {
        operators: operators.iter().map(dto).collect(),
    }))
}

/// Adds an operator.
pub async fn create(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiJson(body): ApiJson<CreateOperatorRequest>,
) -> Result<(StatusCode, Json<OperatorDto>), ApiError> {
    let input = NewOperator {
        email: body.email,
        display_name: body.display_name,
        role: role(&body.role)?,
        password: body.password,
    };
    let operator = state
        .app
        .add_operator(&session.operator, input, OffsetDateTime::now_utc())
        .await
        .map_err(conflict_is_taken)?;
    Ok((StatusCode::CREATED, Json(dto(&operator))))
}

/// Changes an operator's role, name or disabled flag.
pub async fn update(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateOperatorRequest>,
) -> Result<Json<OperatorDto>, ApiError> {
    let changes = OperatorChanges {
        display_name: body.display_name,
        role: body.role.as_deref().map(role).transpose()?,
        disabled: body.disabled,
        max_chats: body.max_chats,
    };
    let operator = state
        .app
        .change_operator(
            &session.operator,
            operator_id(&id)?,
            changes,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(Json(dto(&operator)))
}

/// Issues a one-time password-reset link, valid 24 hours. The token appears only in
/// this answer; hand the link to the operator out of band.
pub async fn password_reset(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<PasswordResetLinkResponse>), ApiError> {
    let issued = state
        .app
        .issue_password_reset(
            &session.operator,
            operator_id(&id)?,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PasswordResetLinkResponse {
            reset_path: format!("/console/#reset={}", issued.token),
            token: issued.token,
            expires_at: issued.expires_at,
        }),
    ))
}

fn operator_id(id: &str) -> Result<OperatorId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such operator"))
}

fn role(name: &str) -> Result<Role, ApiError> {
    Role::parse(name).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "role must be admin, supervisor or operator",
        )
    })
}

fn conflict_is_taken(error: livehelp_app::AppError) -> ApiError {
    match error {
        livehelp_app::AppError::Conflict(_) => ApiError::new(
            ErrorCode::InvalidRequest,
            "an account with this email already exists",
        ),
        other => other.into(),
    }
}

fn dto(operator: &Operator) -> OperatorDto {
    OperatorDto {
        id: operator.id.as_uuid(),
        email: operator.email.as_str().to_owned(),
        display_name: operator.display_name.clone(),
        role: operator.role.as_str().to_owned(),
        disabled: operator.disabled,
        status: operator.status.as_str().to_owned(),
        locked_until: operator.locked_until,
        max_chats: operator.max_chats,
        created_at: operator.created_at,
    }
}
