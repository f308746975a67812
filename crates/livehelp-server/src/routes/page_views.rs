//! Page views (issue 6, item 1): `POST /api/v1/sites/{site_key}/page-views` (public,
//! CORS, anonymous: the widget's batches, sent with `sendBeacon`), `GET
//! /api/v1/page-views` (operators: the tenant's tallies), `GET
//! /api/v1/visitors/{id}/page-trail` (operators: one visitor's pages), and the admins' tracking
//! settings (`/api/v1/tracking-settings`) and kept query parameters
//! (`/api/v1/sites/{id}/query-params`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use livehelp_app::{PageViewInput, SiteAccess};
use livehelp_domain::SiteId;
use livehelp_protocol::ErrorCode;
use livehelp_protocol::visitors::{
    PageTrailEventDto, PageTrailResponse, PageViewBatch, PageViewBatchResponse, PageViewTallyDto,
    PageViewTallyResponse, QueryParamsDto, TrackingSettingsDto,
};
use livehelp_store::TrackingSettings;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::extract::{AdminSession, ApiJson, ClientInfo, OperatorSession, origin};
use crate::{ApiError, AppState};

/// Counts a batch of page views. Read as JSON whatever the `Content-Type` (sendBeacon
/// sends `text/plain` so that no preflight is needed). All or nothing.
pub async fn create(
    State(state): State<AppState>,
    Path(site_key): Path<String>,
    headers: HeaderMap,
    client: ClientInfo,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<PageViewBatchResponse>), ApiError> {
    state
        .limits
        .page_views(client.browser.ip)
        .map_err(|retry| ApiError::rate_limited(retry.0))?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("body is over {} bytes", crate::MAX_BODY_BYTES),
            )
        } else {
            ApiError::new(ErrorCode::InvalidRequest, rejection.body_text())
        }
    })?;
    let batch: PageViewBatch = serde_json::from_slice(&body).map_err(|error| {
        let code = match error.classify() {
            serde_json::error::Category::Data => ErrorCode::InvalidRequest,
            _ => ErrorCode::InvalidJson,
        };
        ApiError::new(code, format!("page-view batch: {error}"))
    })?;
    let views: Vec<PageViewInput> = batch
        .views
        .into_iter()
        .map(|view| PageViewInput {
            url: view.url,
            title: view.title,
            referrer: view.referrer,
        })
        .collect();
    let counted = state
        .app
        .count_page_views(
            &site_key,
            &SiteAccess {
                origin: origin(&headers).map(str::to_owned),
                secure: client.secure,
            },
            &views,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PageViewBatchResponse {
            counted: u32::try_from(counted).unwrap_or(u32::MAX),
        }),
    ))
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD` (UTC days, inclusive).
#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    from: String,
    to: String,
}

/// The tenant's page-view tallies of a range of days (any operator).
pub async fn tallies(
    State(state): State<AppState>,
    session: OperatorSession,
    Query(range): Query<RangeQuery>,
) -> Result<Json<PageViewTallyResponse>, ApiError> {
    let from = parse_day(&range.from)?;
    let to = parse_day(&range.to)?;
    let tallies = state
        .app
        .page_view_tallies(&session.operator, from, to)
        .await?;
    Ok(Json(PageViewTallyResponse {
        tallies: tallies
            .into_iter()
            .map(|tally| PageViewTallyDto {
                site_id: tally.site_id.as_uuid(),
                day: day_text(tally.day),
                url: tally.url,
                views: tally.views,
            })
            .collect(),
    }))
}

/// A visitor's page trail (operators of the visitor's tenant).
pub async fn trail(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(visitor): Path<String>,
) -> Result<Json<PageTrailResponse>, ApiError> {
    let visitor: livehelp_domain::VisitorId = visitor
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such visitor"))?;
    let events = state.app.page_trail(&session.operator, visitor).await?;
    Ok(Json(PageTrailResponse {
        pages: events
            .into_iter()
            .map(|event| PageTrailEventDto {
                url: event.url,
                title: event.title,
                referrer: event.referrer,
                at: event.at,
            })
            .collect(),
    }))
}

/// The tenant's tracking settings (admins).
pub async fn settings(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<Json<TrackingSettingsDto>, ApiError> {
    let settings = state.app.tracking_settings(&session.operator).await?;
    Ok(Json(settings_dto(settings)))
}

/// Replaces the tenant's tracking settings (admins).
pub async fn update_settings(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiJson(body): ApiJson<TrackingSettingsDto>,
) -> Result<Json<TrackingSettingsDto>, ApiError> {
    let settings = state
        .app
        .update_tracking_settings(
            &session.operator,
            TrackingSettings {
                anonymize_ips: body.anonymize_ips,
                trail_retention_days: body.trail_retention_days,
            },
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(Json(settings_dto(settings)))
}

/// A site's kept query parameters (admins).
pub async fn query_params(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Path(site): Path<String>,
) -> Result<Json<QueryParamsDto>, ApiError> {
    let params = state
        .app
        .site_query_params(&session.operator, site_id(&site)?)
        .await?;
    Ok(Json(QueryParamsDto { params }))
}

/// Replaces a site's kept query parameters (admins).
pub async fn update_query_params(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Path(site): Path<String>,
    ApiJson(body): ApiJson<QueryParamsDto>,
) -> Result<Json<QueryParamsDto>, ApiError> {
    let params = state
        .app
        .update_site_query_params(&session.operator, site_id(&site)?, body.params)
        .await?;
    Ok(Json(QueryParamsDto { params }))
}

fn site_id(id: &str) -> Result<SiteId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such site"))
}

fn settings_dto(settings: TrackingSettings) -> TrackingSettingsDto {
    TrackingSettingsDto {
        anonymize_ips: settings.anonymize_ips,
        trail_retention_days: settings.trail_retention_days,
    }
}

fn parse_day(text: &str) -> Result<time::Date, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "from and to must be days written YYYY-MM-DD",
        )
    })
}

fn day_text(day: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}
