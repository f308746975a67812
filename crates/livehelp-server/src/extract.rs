//! Request extractors: JSON bodies with JSON errors, the operator session cookie, and the
//! client's browser information (IP and User-Agent, M6).

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use livehelp_app::OperatorPrincipal;
use livehelp_domain::{BrowserInfo, SessionId};
use livehelp_protocol::ErrorCode;
use serde::de::DeserializeOwned;

use crate::{ApiError, AppState};

/// Name of the operator session cookie.
pub const SESSION_COOKIE: &str = "lh_session";

/// A JSON body whose rejections are JSON `ApiError`s with stable codes.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonSyntaxError(error) => {
            ApiError::new(ErrorCode::InvalidJson, error.body_text())
        }
        JsonRejection::JsonDataError(error) => {
            ApiError::new(ErrorCode::InvalidRequest, error.body_text())
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::InvalidRequest,
            "expected Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(error)
            if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
        {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("body is over {} bytes", crate::MAX_BODY_BYTES),
            )
        }
        other => ApiError::new(ErrorCode::InvalidRequest, other.body_text()),
    }
}

/// An operator authenticated by the session cookie. For state-changing methods (anything
/// but GET, HEAD and OPTIONS) the request must also carry the session's anti-CSRF token in
/// `X-CSRF-Token` (OWASP CSRF Prevention Cheat Sheet: synchronizer token, on top of the
/// SameSite=Strict cookie).
pub struct OperatorSession {
    /// Who.
    pub operator: OperatorPrincipal,
    /// Which login session (for logout).
    pub session_id: SessionId,
    /// The session's anti-CSRF token.
    pub csrf_token: String,
}

/// Header carrying the anti-CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

impl FromRequestParts<AppState> for OperatorSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "log in first"))?;
        let authenticated = state
            .app
            .authenticate_operator(&token, time::OffsetDateTime::now_utc())
            .await?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), authenticated.csrf_token.as_bytes()) {
                return Err(ApiError::new(
                    ErrorCode::CsrfTokenInvalid,
                    "missing or wrong X-CSRF-Token header; use the token from login or /api/v1/auth/session",
                ));
            }
        }
        Ok(OperatorSession {
            operator: authenticated.operator,
            session_id: authenticated.session_id,
            csrf_token: authenticated.csrf_token,
        })
    }
}

/// An operator session whose role is `admin`; anyone else gets `403 role_required`
/// before the request body is even read.
pub struct AdminSession(pub OperatorSession);

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = OperatorSession::from_request_parts(parts, state).await?;
        livehelp_app::App::require_admin(&session.operator)?;
        Ok(AdminSession(session))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// IP and User-Agent of the client, and whether the request reached us over TLS. Behind
/// a trusted proxy (`--trust-proxy`), the IP is the rightmost `X-Forwarded-For` address
/// that is not itself a trusted proxy, and TLS is what `X-Forwarded-Proto` says; from
/// anyone else those headers are ignored, so a client cannot forge them.
pub struct ClientInfo {
    /// IP and User-Agent.
    pub browser: BrowserInfo,
    /// True when the client's connection is encrypted (to us or to the trusted proxy).
    pub secure: bool,
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let (ip, secure) = client_address(&parts.headers, peer, &state.options);
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Ok(ClientInfo {
            browser: BrowserInfo { ip, user_agent },
            secure,
        })
    }
}

/// The client's IP and whether its connection is encrypted; see [`ClientInfo`].
pub fn client_address(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    options: &crate::ServerOptions,
) -> (Option<IpAddr>, bool) {
    let trusted = |ip: &IpAddr| options.trusted_proxies.iter().any(|net| net.contains(ip));
    let Some(peer) = peer else {
        return (None, options.tls);
    };
    if !trusted(&peer) {
        return (Some(peer), options.tls);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    let ip = forwarded
        .iter()
        .rev()
        .find(|ip| !trusted(ip))
        .copied()
        .unwrap_or(peer);
    let proto_https = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    (Some(ip), options.tls || proto_https)
}

/// The `Origin` header, if any.
pub fn origin(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::ORIGIN)
        .and_then(|value| value.to_str().ok())
}
