//! Tenant admins manage their sites: `GET/POST /api/v1/sites` and
//! `PATCH /api/v1/sites/{id}` (name, allowed origins, privacy-policy URL, require TLS).
//! Admin role required; every change is audited.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use livehelp_app::{NewSite, SiteChanges};
use livehelp_domain::{Site, SiteId};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::rest::{CreateSiteRequest, SiteDto, SiteListResponse, UpdateSiteRequest};
use time::OffsetDateTime;

use crate::extract::{AdminSession, ApiJson};
use crate::{ApiError, AppState};

/// The tenant's sites.
pub async fn list(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<Json<SiteListResponse>, ApiError> {
    let sites = state.app.sites(&session.operator).await?;
    Ok(Json(SiteListResponse {
        sites: sites.iter().map(dto).collect(),
    }))
}

/// Adds a site (with a random key).
pub async fn create(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiJson(body): ApiJson<CreateSiteRequest>,
) -> Result<(StatusCode, Json<SiteDto>), ApiError> {
    let input = NewSite {
        name: body.name,
        key: None,
        allowed_origins: body.allowed_origins,
        privacy_policy_url: body.privacy_policy_url,
    };
    let mut site = state
        .app
        .add_site(&session.operator, input, OffsetDateTime::now_utc())
        .await?;
    if body.require_tls {
        let changes = SiteChanges {
            require_tls: Some(true),
            ..SiteChanges::default()
        };
        site = state
            .app
            .change_site(
                &session.operator,
                site.id,
                changes,
                OffsetDateTime::now_utc(),
            )
            .await?;
    }
    Ok((StatusCode::CREATED, Json(dto(&site))))
}

/// Changes a site.
pub async fn update(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateSiteRequest>,
) -> Result<Json<SiteDto>, ApiError> {
    let id: SiteId = id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such site"))?;
    let changes = SiteChanges {
        name: body.name,
        allowed_origins: body.allowed_origins,
        privacy_policy_url: body.privacy_policy_url,
        require_tls: body.require_tls,
        default_department_id: body
            .default_department_id
            .map(|id| id.map(livehelp_domain::DepartmentId::from_uuid)),
    };
    let site = state
        .app
        .change_site(&session.operator, id, changes, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(dto(&site)))
}

fn dto(site: &Site) -> SiteDto {
    SiteDto {
        id: site.id.as_uuid(),
        key: site.key.as_str().to_owned(),
        name: site.name.clone(),
        allowed_origins: site.allowed_origins.clone(),
        privacy_policy_url: site.privacy_policy_url.clone(),
        require_tls: site.require_tls,
        default_department_id: site.default_department_id.map(|id| id.as_uuid()),
        created_at: site.created_at,
    }
}
