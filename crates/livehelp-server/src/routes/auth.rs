//! Operator login and sessions: login, logout, "who am I", the session check, the list of
//! one's own sessions with "end this one" and "log out everywhere", and setting a new
//! password from a one-time reset link. The session lives in an HttpOnly,
//! SameSite=Strict cookie (`Secure` when the request came over TLS); state-changing calls
//! also need the session's `X-CSRF-Token`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use livehelp_app::AuthenticatedOperator;
use livehelp_protocol::ErrorCode;
use livehelp_protocol::rest::{
    LoginRequest, LoginResponse, PasswordResetRequest, SessionDto, SessionListResponse,
    SessionResponse,
};
use time::OffsetDateTime;

use crate::extract::{ApiJson, ClientInfo, OperatorSession, SESSION_COOKIE};
use crate::{ApiError, AppState};

/// Checks email and password; on success sets the session cookie. Per-IP throttled and
/// per-account locked out after repeated failures (`rate_limited` with `Retry-After`).
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    state
        .limits
        .login(client.browser.ip)
        .map_err(|retry| ApiError::rate_limited(retry.0))?;
    let secure = state.options.secure_cookies || client.secure;
    let outcome = state
        .app
        .login(
            &body.email,
            &body.password,
            client.browser,
            OffsetDateTime::now_utc(),
        )
        .await?;
    let cookie = session_cookie(&outcome.token, outcome.max_age_seconds, secure);
    let authenticated = AuthenticatedOperator {
        operator: outcome.operator,
        session_id: livehelp_domain::SessionId::new(),
        csrf_token: outcome.csrf_token,
    };
    let mut response = Json(login_response(
        &authenticated.operator,
        &authenticated.csrf_token,
    ))
    .into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Ends the current session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    client: ClientInfo,
    session: OperatorSession,
) -> Result<Response, ApiError> {
    state
        .app
        .logout(&session.operator, session.session_id)
        .await?;
    Ok(cleared(
        StatusCode::NO_CONTENT,
        state.options.secure_cookies || client.secure,
    ))
}

/// Whether the request carries a valid session: always 200 (a page checking "am I logged
/// in?" on load is not an error), with the operator and CSRF token when there is one.
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
        .authenticate_operator(&token, OffsetDateTime::now_utc())
        .await
    {
        Ok(authenticated) => Ok(Json(SessionResponse {
            authenticated: true,
            operator: Some(login_response(
                &authenticated.operator,
                &authenticated.csrf_token,
            )),
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
    Json(login_response(&session.operator, &session.csrf_token))
}

/// The caller's own unexpired sessions, newest first; `current` marks this one.
pub async fn sessions(
    State(state): State<AppState>,
    session: OperatorSession,
) -> Result<Json<SessionListResponse>, ApiError> {
    let list = state
        .app
        .my_sessions(&session.operator, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(SessionListResponse {
        sessions: list
            .into_iter()
            .map(|item| SessionDto {
                id: item.id.as_uuid(),
                current: item.id == session.session_id,
                created_at: item.created_at,
                expires_at: item.expires_at,
                ip: item.ip.map(|ip| ip.to_string()),
                user_agent: item.user_agent,
            })
            .collect(),
    }))
}

/// Ends one of the caller's sessions (another operator's id is "not found").
pub async fn end_session(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such session"))?;
    state
        .app
        .end_my_session(&session.operator, id, OffsetDateTime::now_utc())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller, this one included, and clears the cookie.
pub async fn logout_everywhere(
    State(state): State<AppState>,
    client: ClientInfo,
    session: OperatorSession,
) -> Result<Response, ApiError> {
    state
        .app
        .end_all_my_sessions(&session.operator, OffsetDateTime::now_utc())
        .await?;
    Ok(cleared(
        StatusCode::NO_CONTENT,
        state.options.secure_cookies || client.secure,
    ))
}

/// Sets a new password with a one-time reset link's token. Throttled like logins.
pub async fn reset_password(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .limits
        .login(client.browser.ip)
        .map_err(|retry| ApiError::rate_limited(retry.0))?;
    state
        .app
        .reset_password(&body.token, &body.password, OffsetDateTime::now_utc())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn login_response(operator: &livehelp_app::OperatorPrincipal, csrf_token: &str) -> LoginResponse {
    LoginResponse {
        csrf_token: csrf_token.to_owned(),
        operator_id: operator.operator_id.as_uuid(),
        tenant_id: operator.tenant_id.as_uuid(),
        display_name: operator.display_name.clone(),
        role: operator.role.as_str().to_owned(),
    }
}

fn cleared(status: StatusCode, secure: bool) -> Response {
    let mut response = status.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", 0, secure));
    response
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
