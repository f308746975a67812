//! The WebSocket gateway: `GET /api/v1/ws/visitor` (visitor token in `?token=` or an
//! `Authorization: Bearer` header) and `GET /api/v1/ws/operator` (session cookie, same
//! origin only). Authentication happens before the upgrade, so a bad token is an HTTP 401
//! with a JSON body, not a socket that opens and closes.

mod connection;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::StreamExt;
use livehelp_app::Principal;
use livehelp_protocol::{ErrorCode, HARD_FRAME_LIMIT};
use serde::Deserialize;

use crate::extract::{ClientInfo, OperatorSession, origin};
use crate::{ApiError, AppState};
use livehelp_app::SiteAccess;

pub use connection::{Outgoing, run};

/// Socket buffers. The library's 128 KiB defaults cost about 130 KB of RSS per idle
/// connection against about 9 KB with 4 KiB (measured on this project's machines).
const BUFFER_BYTES: usize = 4 * 1024;

/// Largest message the WebSocket library accepts at all; frames between
/// [`HARD_FRAME_LIMIT`] and this are closed by us with 1008 (policy violation), larger
/// ones are dropped by the library.
const LIBRARY_MESSAGE_LIMIT: usize = 4 * HARD_FRAME_LIMIT;

/// Query string of the visitor socket.
#[derive(Debug, Deserialize)]
pub struct VisitorQuery {
    token: Option<String>,
}

/// Upgrades a visitor's connection.
pub async fn visitor(
    State(state): State<AppState>,
    Query(query): Query<VisitorQuery>,
    headers: HeaderMap,
    client: ClientInfo,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let token = query
        .token
        .or_else(|| bearer(&headers))
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "visitor token missing"))?;
    let visitor = state.app.authenticate_visitor(&token).await?;
    // A stolen token must not be usable from another site's pages, nor over plain HTTP
    // for a site that requires TLS.
    state
        .app
        .check_visitor_access(
            &visitor,
            &SiteAccess {
                origin: origin(&headers).map(str::to_owned),
                secure: client.secure,
            },
        )
        .await?;
    let slot = state
        .limits
        .websocket(client.browser.ip)
        .ok_or_else(too_many_sockets)?;
    upgrade_with(state, upgrade, Principal::Visitor(visitor), None, slot)
}

/// Upgrades an operator's connection. Browsers send cookies with cross-site WebSocket
/// handshakes unless SameSite stops them, so the `Origin`, when present, must name this
/// host (cross-site WebSocket hijacking).
pub async fn operator(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientInfo,
    session: OperatorSession,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    if let Some(origin) = origin(&headers) {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|value| value.to_str().ok());
        let origin_host = origin.split_once("://").map(|(_, rest)| rest);
        if host.is_none() || origin_host != host {
            return Err(ApiError::new(
                ErrorCode::OriginNotAllowed,
                "operator sockets must come from this server's own pages",
            ));
        }
    }
    let slot = state
        .limits
        .websocket(client.browser.ip)
        .ok_or_else(too_many_sockets)?;
    upgrade_with(
        state,
        upgrade,
        Principal::Operator(session.operator),
        Some(session.session_id),
        slot,
    )
}

/// Checks are done in this order: credentials, then the upgrade request itself, so a
/// client with a bad token learns that first.
fn upgrade_with(
    state: AppState,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    principal: Principal,
    session: Option<livehelp_domain::SessionId>,
    slot: crate::limits::SocketSlot,
) -> Result<Response, ApiError> {
    let upgrade = upgrade
        .map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))?;
    if *state.shutdown.borrow() {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            "server is shutting down",
        ));
    }
    let permit = state
        .connection_permits
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::new(ErrorCode::Unavailable, "too many connections"))?;
    Ok(upgrade
        .read_buffer_size(BUFFER_BYTES)
        .write_buffer_size(BUFFER_BYTES)
        .max_write_buffer_size(LIBRARY_MESSAGE_LIMIT)
        .max_message_size(LIBRARY_MESSAGE_LIMIT)
        .max_frame_size(LIBRARY_MESSAGE_LIMIT)
        .on_upgrade(move |socket| async move {
            let (sink, stream) = socket.split();
            run(state, principal, session, sink, stream).await;
            drop(permit);
            drop(slot);
        }))
}

fn too_many_sockets() -> ApiError {
    ApiError {
        retry_after: Some(10),
        ..ApiError::new(
            ErrorCode::RateLimited,
            "too many connections from your address",
        )
    }
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned)
}
