//! Operator login, logout and "who am I". The session lives in an HttpOnly,
//! SameSite=Strict cookie (`Secure` when the server is configured for TLS).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use livehelp_app::OperatorPrincipal;
use livehelp_protocol::rest::{LoginRequest, LoginResponse, SessionResponse};

use crate::extract::{ApiJson, OperatorSession, SESSION_COOKIE};
use crate::{ApiError, AppState};

/// Checks email and password; on success sets the session cookie.
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let outcome = state
        .app
        .login(&body.email, &body.password, time::OffsetDateTime::now_utc())
        .await?;
    let cookie = session_cookie(
        &outcome.token,
        outcome.max_age_seconds,
        state.options.secure_cookies,
    );
    let mut response = Json(login_response(&outcome.operator)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Ends the current session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    session: OperatorSession,
) -> Result<Response, ApiError> {
    state
        .app
        .logout(&session.operator, session.session_id)
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, state.options.secure_cookies),
    );
    Ok(response)
}

/// Whether the request carries a valid session: always 200 (a page checking "am I logged
/// in?" on load is not an error), with the operator when there is one.
pub async fn session(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Json<SessionResponse>, ApiError> {
    let Some(token) = crate::extract::cookie(&headers, SESSION_COOKIE) else {
        return Ok(Json(SessionResponse {
            authenticated: false,
            operator: None,
        }));
    };
    match state
        .app
        .authenticate_operator(&token, time::OffsetDateTime::now_utc())
        .await
    {
        Ok((operator, _)) => Ok(Json(SessionResponse {
            authenticated: true,
            operator: Some(login_response(&operator)),
        })),
        Err(livehelp_app::AppError::Unauthorized | livehelp_app::AppError::TenantSuspended) => {
            Ok(Json(SessionResponse {
                authenticated: false,
                operator: None,
            }))
        }
        Err(error) => Err(error.into()),
    }
}

/// The logged-in operator.
pub async fn me(session: OperatorSession) -> Json<LoginResponse> {
    Json(login_response(&session.operator))
}

fn login_response(operator: &OperatorPrincipal) -> LoginResponse {
    LoginResponse {
        operator_id: operator.operator_id.as_uuid(),
        tenant_id: operator.tenant_id.as_uuid(),
        display_name: operator.display_name.clone(),
        role: operator.role.as_str().to_owned(),
    }
}

fn session_cookie(token: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    // The token is hex and the rest is ASCII, so this is always a valid header value.
    HeaderValue::from_str(&value)
        .unwrap_or_else(|_| HeaderValue::from_static("lh_session=; Max-Age=0"))
}
