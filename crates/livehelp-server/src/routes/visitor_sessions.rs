//! `POST /api/v1/sites/{site_key}/visitor-sessions`: a visitor opens a session on a site
//! and gets a bearer token for the visitor WebSocket.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use livehelp_protocol::rest::{CreateVisitorSessionRequest, VisitorSessionResponse};

use crate::extract::{ApiJson, ClientInfo, origin};
use crate::{ApiError, AppState};

/// Creates a visitor session. The body may be `{}` or carry a name in any format.
pub async fn create(
    State(state): State<AppState>,
    Path(site_key): Path<String>,
    headers: HeaderMap,
    client: ClientInfo,
    ApiJson(body): ApiJson<CreateVisitorSessionRequest>,
) -> Result<(StatusCode, Json<VisitorSessionResponse>), ApiError> {
    state
        .limits
        .visitor_session(client.browser.ip)
        .map_err(|retry| ApiError::rate_limited(retry.0))?;
    let issued = state
        .app
        .create_visitor_session(
            &site_key,
            &livehelp_app::SiteAccess {
                origin: origin(&headers).map(str::to_owned),
                secure: client.secure,
            },
            livehelp_app::NewVisitorSession {
                name: body.name,
                page_url: body.page_url,
                page_title: body.page_title,
            },
            client.browser,
            time::OffsetDateTime::now_utc(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(VisitorSessionResponse {
            visitor_token: issued.token,
            visitor_id: issued.visitor.id.as_uuid(),
            name: issued.visitor.name.map(|name| name.as_str().to_owned()),
            privacy_policy_url: issued.site.privacy_policy_url,
        }),
    ))
}
