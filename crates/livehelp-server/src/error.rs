//! [`ApiError`]: the one error type of the HTTP API. One exhaustive `match` maps every
//! application error to a stable code (from `livehelp-protocol`), an HTTP status and a
//! message; internal failures answer an opaque 500 and log their full cause.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use livehelp_app::{AppError, FormKind};
use livehelp_domain::{TextError, ToolError};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::rest::ErrorBody;

/// An error answer: a code and a message safe to show to the client.
#[derive(Debug)]
pub struct ApiError {
    /// Stable code.
    pub code: ErrorCode,
    /// Message for the client.
    pub message: String,
    /// For `rate_limited`: seconds until a retry can succeed.
    pub retry_after: Option<u64>,
    /// Per-field errors (field → message), for `survey_invalid`.
    /// For `prechat_invalid` and `validation_failed`: field key → what is wrong.
    pub fields: Option<std::collections::BTreeMap<String, String>>,
}

impl ApiError {
    /// An error with an explicit code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
            fields: None,
        }
    }

    /// A `rate_limited` error.
    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            code: ErrorCode::RateLimited,
            message: format!("too many requests; retry in {retry_after} s"),
            retry_after: Some(retry_after),
            fields: None,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let code = match &error {
            AppError::ConversationNotFound => ErrorCode::ConversationNotFound,
            AppError::NotFound => ErrorCode::NotFound,
            AppError::SiteNotFound => ErrorCode::SiteNotFound,
            AppError::OriginNotAllowed => ErrorCode::OriginNotAllowed,
            AppError::Unauthorized => ErrorCode::Unauthorized,
            AppError::InvalidCredentials => ErrorCode::InvalidCredentials,
            AppError::TenantSuspended => ErrorCode::TenantSuspended,
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::Text(TextError::Empty) => ErrorCode::TextEmpty,
            AppError::Text(TextError::TooLong { .. }) => ErrorCode::TextTooLong,
            AppError::Text(TextError::ControlCharacter(_) | TextError::InvalidEmail) => {
                ErrorCode::TextInvalid
            }
            AppError::Tool(tool) => match tool {
                ToolError::ShortcutInvalid => ErrorCode::ShortcutInvalid,
                ToolError::ShortcutTaken => ErrorCode::ShortcutTaken,
                ToolError::TagInvalid => ErrorCode::TagInvalid,
                ToolError::TooManyTags => ErrorCode::TooManyTags,
            },
            AppError::InvalidRequest(_) => ErrorCode::InvalidRequest,
            AppError::InvalidFields {
                form: FormKind::Prechat,
                ..
            } => ErrorCode::PrechatInvalid,
            AppError::InvalidFields { .. } => ErrorCode::ValidationFailed,
            AppError::AlreadyAssigned => ErrorCode::AlreadyAssigned,
            AppError::NotAssignedToYou(_) => ErrorCode::NotAssignedToYou,
            AppError::ConversationEnded => ErrorCode::ConversationEnded,
            AppError::ClientMsgIdReused => ErrorCode::ClientMsgIdReused,
            AppError::ChatLimitReached => ErrorCode::ChatLimitReached,
            AppError::OperatorUnavailable => ErrorCode::OperatorUnavailable,
            // A conflict on a unique constraint in a request a client made.
            AppError::Conflict(_) => ErrorCode::InvalidRequest,
            AppError::RateLimited { .. } => ErrorCode::RateLimited,
            AppError::RoleRequired => ErrorCode::RoleRequired,
            AppError::TlsRequired => ErrorCode::TlsRequired,
            AppError::WeakPassword(_) => ErrorCode::WeakPassword,
            AppError::Survey(survey) => crate::routes::surveys::error_code(survey),
            AppError::PageViews(livehelp_app::PageViewError::BatchSize { .. }) => {
                ErrorCode::PageViewBatchTooLarge
            }
            AppError::PageViews(livehelp_app::PageViewError::InvalidView { .. }) => {
                ErrorCode::PageViewInvalid
            }
            AppError::Report(report) => crate::routes::reports::error_code(report),
            AppError::Unavailable => ErrorCode::Unavailable,
            AppError::Internal(_) => ErrorCode::Internal,
        };
        let retry_after = match &error {
            AppError::RateLimited {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            _ => None,
        };
        let fields = match &error {
            AppError::Survey(livehelp_app::SurveyError::Invalid(fields)) => Some(fields.clone()),
            AppError::InvalidFields { fields, .. } => Some(
                fields
                    .iter()
                    .map(|error| (error.field.clone(), error.message.clone()))
                    .collect(),
            ),
            _ => None,
        };
        let message = match &error {
            AppError::Internal(source) => {
                tracing::error!(error = %error, cause = ?source, "internal error");
                "internal error; details are in the server log".to_owned()
            }
            other => other.to_string(),
        };
        ApiError {
            code,
            message,
            retry_after,
            fields,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let mut response = (
            status,
            Json(ErrorBody {
                code: self.code,
                message: self.message,
                retry_after,
                fields: self.fields,
            }),
        )
            .into_response();
        if let Some(seconds) = retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}

/// Middleware: every error answer is JSON with a stable code, including the ones axum
/// produces before a handler runs (405 wrong method, 400 undecodable path or query, 415).
/// Assets and successful answers pass through untouched.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let code = match status.as_u16() {
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        413 => ErrorCode::PayloadTooLarge,
        429 => ErrorCode::RateLimited,
        503 => ErrorCode::Unavailable,
        500..=599 => ErrorCode::Internal,
        _ => ErrorCode::InvalidRequest,
    };
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_owned();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let mut answer = ApiError::new(code, message).into_response();
    *answer.status_mut() = status;
    answer
}
