//! Routing administration and the supervisor's live view:
//! `GET/POST /api/v1/departments`, `PATCH/DELETE /api/v1/departments/{id}` (admins
//! write, any operator of the tenant reads), `GET/PATCH /api/v1/routing-settings`, and
//! `GET /api/v1/supervisor/overview` (supervisors and admins).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use livehelp_app::{DepartmentChanges, DepartmentInput};
use livehelp_domain::{Department, DepartmentId, OperatorId, RoutingMode, RoutingSettings};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::rest::{
    DepartmentDto, DepartmentListResponse, DepartmentRequest, OverviewOperatorDto,
    OverviewResponse, RoutingSettingsDto, UpdateDepartmentRequest,
};
use time::OffsetDateTime;

use crate::extract::{AdminSession, ApiJson, OperatorSession};
use crate::{ApiError, AppState, convert};

/// The tenant's departments.
pub async fn list(
    State(state): State<AppState>,
    session: OperatorSession,
) -> Result<Json<DepartmentListResponse>, ApiError> {
    let departments = state.app.departments(&session.operator).await?;
    Ok(Json(DepartmentListResponse {
        departments: departments.iter().map(dto).collect(),
    }))
}

/// Creates a department; a taken name is 409 `department_name_taken`.
pub async fn create(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiJson(body): ApiJson<DepartmentRequest>,
) -> Result<(StatusCode, Json<DepartmentDto>), ApiError> {
    let department = state
        .app
        .create_department(&session.operator, input(body)?, OffsetDateTime::now_utc())
        .await
        .map_err(name_taken)?;
    Ok((StatusCode::CREATED, Json(dto(&department))))
}

/// Replaces a department's name, mode and members.
pub async fn update(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateDepartmentRequest>,
) -> Result<Json<DepartmentDto>, ApiError> {
    let changes = DepartmentChanges {
        name: body.name,
        routing: body
            .routing
            .as_deref()
            .map(|name| mode(Some(name)))
            .transpose()?,
        operators: body
            .operator_ids
            .map(|ids| ids.into_iter().map(OperatorId::from_uuid).collect()),
    };
    let department = state
        .app
        .update_department(
            &session.operator,
            department_id(&id)?,
            changes,
            OffsetDateTime::now_utc(),
        )
        .await
        .map_err(name_taken)?;
    Ok(Json(dto(&department)))
}

/// Deletes a department; its waiting chats join the general queue.
pub async fn delete(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .delete_department(
            &session.operator,
            department_id(&id)?,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's routing settings.
pub async fn settings(
    State(state): State<AppState>,
    session: OperatorSession,
) -> Result<Json<RoutingSettingsDto>, ApiError> {
    let settings = state.app.routing_settings(&session.operator).await?;
    Ok(Json(settings_dto(&settings)))
}

/// Replaces the tenant's routing settings.
pub async fn update_settings(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiJson(body): ApiJson<RoutingSettingsDto>,
) -> Result<Json<RoutingSettingsDto>, ApiError> {
    let settings = RoutingSettings {
        routing: mode(Some(&body.routing))?,
        max_chats_per_operator: body.max_chats_per_operator,
        show_monitoring: body.show_monitoring,
    };
    let settings = state
        .app
        .update_routing_settings(&session.operator, settings, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(settings_dto(&settings)))
}

/// The supervisor's live view of the tenant.
pub async fn overview(
    State(state): State<AppState>,
    session: OperatorSession,
) -> Result<Json<OverviewResponse>, ApiError> {
    let overview = state.app.overview(&session.operator).await?;
    Ok(Json(OverviewResponse {
        conversations: overview
            .conversations
            .iter()
            .map(convert::conversation)
            .collect(),
        operators: overview
            .operators
            .iter()
            .map(|entry| OverviewOperatorDto {
                id: entry.operator.id.as_uuid(),
                display_name: entry.operator.display_name.clone(),
                role: entry.operator.role.as_str().to_owned(),
                status: entry.operator.status.as_str().to_owned(),
                connected: entry.connected,
                active_chats: entry.load.map_or(0, |load| load.active),
                chat_limit: entry.load.and_then(|load| load.limit),
            })
            .collect(),
        departments: overview.departments.iter().map(dto).collect(),
    }))
}

fn input(body: DepartmentRequest) -> Result<DepartmentInput, ApiError> {
    Ok(DepartmentInput {
        name: body.name,
        routing: mode(body.routing.as_deref())?,
        operators: body
            .operator_ids
            .into_iter()
            .map(OperatorId::from_uuid)
            .collect(),
    })
}

fn mode(name: Option<&str>) -> Result<RoutingMode, ApiError> {
    match name {
        None => Ok(RoutingMode::Manual),
        Some(name) => RoutingMode::parse(name).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                "routing must be manual, least_busy or round_robin",
            )
        }),
    }
}

fn department_id(id: &str) -> Result<DepartmentId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such department"))
}

fn name_taken(error: livehelp_app::AppError) -> ApiError {
    match error {
        livehelp_app::AppError::Conflict("department_name") => ApiError::new(
            ErrorCode::DepartmentNameTaken,
            "a department with this name exists",
        ),
        other => other.into(),
    }
}

fn dto(department: &Department) -> DepartmentDto {
    DepartmentDto {
        id: department.id.as_uuid(),
        name: department.name.clone(),
        routing: department.routing.as_str().to_owned(),
        operator_ids: department
            .operators
            .iter()
            .map(|operator| operator.as_uuid())
            .collect(),
        created_at: department.created_at,
    }
}

fn settings_dto(settings: &RoutingSettings) -> RoutingSettingsDto {
    RoutingSettingsDto {
        routing: settings.routing.as_str().to_owned(),
        max_chats_per_operator: settings.max_chats_per_operator,
        show_monitoring: settings.show_monitoring,
    }
}
