//! Routes the widget calls from a tenant's page (cross-origin, CORS-enabled):
//! `GET /api/v1/sites/{site_key}/widget-config` (public, nothing identifying: also the
//! pre-chat form and whether to show the chat or the offline message form) and
//! `GET /api/v1/visitor-session` (is my stored token still good?).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use livehelp_protocol::ErrorCode;
use livehelp_protocol::rest::{VisitorSelfResponse, WidgetConfigResponse};

use crate::{ApiError, AppState};

/// The widget's public configuration.
pub async fn config(
    State(state): State<AppState>,
    Path(site_key): Path<String>,
) -> Result<Json<WidgetConfigResponse>, ApiError> {
    let config = state.app.widget_config(&site_key).await?;
    let (form, mode) = state
        .app
        .widget_forms(&config.site, time::OffsetDateTime::now_utc())
        .await?;
    Ok(Json(WidgetConfigResponse {
        site_name: config.site.name,
        tenant_name: config.tenant_name,
        privacy_policy_url: config.site.privacy_policy_url,
        available: config.available,
        departments: config
            .departments
            .into_iter()
            .map(|(id, name)| livehelp_protocol::rest::DepartmentChoiceDto {
                id: id.as_uuid(),
                name,
            })
            .collect(),
        mode: match mode {
            livehelp_app::WidgetMode::Chat => "chat",
            livehelp_app::WidgetMode::NoOperator | livehelp_app::WidgetMode::Closed => "offline",
        }
        .to_owned(),
        prechat: super::forms::widget_form(&form),
    }))
}

/// The visitor's own session, for a widget holding a stored token.
pub async fn visitor_self(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<VisitorSelfResponse>, ApiError> {
    let token = crate::ws::bearer(&headers)
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "visitor token missing"))?;
    let visitor = state.app.authenticate_visitor(&token).await?;
    let me = state
        .app
        .visitor_self(&visitor, time::OffsetDateTime::now_utc())
        .await?;
    Ok(Json(VisitorSelfResponse {
        visitor_id: me.visitor.id.as_uuid(),
        name: me.visitor.name.map(|name| name.as_str().to_owned()),
        returning: me.returning,
        privacy_policy_url: me.privacy_policy_url,
    }))
}
