//! A visitor's name and email (issue 6 item 5, M16): the visitor's own (`GET`/`POST
//! /api/v1/visitor/details`, visitor token, CORS) and any visitor of the tenant for its
//! operators (`GET`/`PATCH /api/v1/visitors/{id}/details`, session cookie; corrections
//! are audited with the old values redacted).

use axum::Json;
use axum::extract::{Path, State};
use livehelp_app::DetailsChange;
use livehelp_domain::VisitorId;
use livehelp_protocol::ErrorCode;
use livehelp_protocol::reports::{UpdateVisitorDetailsRequest, VisitorDetailsDto};
use livehelp_store::VisitorDetails;
use time::OffsetDateTime;

use crate::extract::{ApiJson, OperatorSession};
use crate::routes::surveys::VisitorAuth;
use crate::{ApiError, AppState};

/// The visitor's own details.
pub async fn own(
    State(state): State<AppState>,
    VisitorAuth(visitor): VisitorAuth,
) -> Result<Json<VisitorDetailsDto>, ApiError> {
    let details = state.app.own_details(&visitor).await?;
    Ok(Json(dto(visitor.visitor_id, &details)))
}

/// The visitor corrects their own details.
pub async fn correct_own(
    State(state): State<AppState>,
    VisitorAuth(visitor): VisitorAuth,
    ApiJson(body): ApiJson<UpdateVisitorDetailsRequest>,
) -> Result<Json<VisitorDetailsDto>, ApiError> {
    let details = state
        .app
        .correct_own_details(&visitor, change(body))
        .await?;
    Ok(Json(dto(visitor.visitor_id, &details)))
}

/// A visitor's details, for any operator of their tenant.
pub async fn get(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Result<Json<VisitorDetailsDto>, ApiError> {
    let visitor = parse_visitor(&id)?;
    let details = state
        .app
        .visitor_details(&session.operator, visitor)
        .await
        .map_err(not_found)?;
    Ok(Json(dto(visitor, &details)))
}

/// An operator corrects a visitor's details (audited).
pub async fn correct(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateVisitorDetailsRequest>,
) -> Result<Json<VisitorDetailsDto>, ApiError> {
    let visitor = parse_visitor(&id)?;
    let details = state
        .app
        .correct_visitor_details(
            &session.operator,
            visitor,
            change(body),
            OffsetDateTime::now_utc(),
        )
        .await
        .map_err(not_found)?;
    Ok(Json(dto(visitor, &details)))
}

fn change(body: UpdateVisitorDetailsRequest) -> DetailsChange {
    DetailsChange {
        name: body.name,
        email: body.email,
    }
}

fn dto(visitor: VisitorId, details: &VisitorDetails) -> VisitorDetailsDto {
    VisitorDetailsDto {
        visitor_id: visitor.as_uuid(),
        name: details.name.as_ref().map(|name| name.as_str().to_owned()),
        email: details
            .email
            .as_ref()
            .map(|email| email.as_str().to_owned()),
    }
}

fn parse_visitor(id: &str) -> Result<VisitorId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "visitor not found"))
}

fn not_found(error: livehelp_app::AppError) -> ApiError {
    match error {
        livehelp_app::AppError::NotFound => ApiError::new(ErrorCode::NotFound, "visitor not found"),
        other => other.into(),
    }
}
