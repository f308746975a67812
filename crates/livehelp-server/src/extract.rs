//! Request extractors: JSON bodies with JSON errors, the operator session cookie, and the
//! client's browser information (IP and User-Agent, M6).

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
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

/// An operator authenticated by the session cookie.
pub struct OperatorSession {
    /// Who.
    pub operator: OperatorPrincipal,
    /// Which login session (for logout).
    pub session_id: SessionId,
}

impl FromRequestParts<AppState> for OperatorSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "log in first"))?;
        let (operator, session_id) = state
            .app
            .authenticate_operator(&token, time::OffsetDateTime::now_utc())
            .await?;
        Ok(OperatorSession {
            operator,
            session_id,
        })
    }
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

/// IP and User-Agent of the client.
pub struct ClientInfo(pub BrowserInfo);

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
        let forwarded = if state.options.trust_forwarded_for {
            parts
                .headers
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(',').next())
                .and_then(|first| first.trim().parse::<IpAddr>().ok())
        } else {
            None
        };
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Ok(ClientInfo(BrowserInfo {
            ip: forwarded.or(peer),
            user_agent,
        }))
    }
}

/// The `Origin` header, if any.
pub fn origin(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::ORIGIN)
        .and_then(|value| value.to_str().ok())
}
