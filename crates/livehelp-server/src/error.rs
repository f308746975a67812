//! [`ApiError`]: the one error type of the HTTP API. One exhaustive `match` maps every
//! application error to a stable code (from `livehelp-protocol`), an HTTP status and a
//! message; internal failures answer an opaque 500 and log their full cause.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use livehelp_app::AppError;
use livehelp_domain::TextError;
use livehelp_protocol::ErrorCode;
use livehelp_protocol::rest::ErrorBody;

/// An error answer: a code and a message safe to show to the client.
#[derive(Debug)]
pub struct ApiError {
    /// Stable code.
    pub code: ErrorCode,
    /// Message for the client.
    pub message: String,
}

impl ApiError {
    /// An error with an explicit code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
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
            AppError::InvalidRequest(_) => ErrorCode::InvalidRequest,
            AppError::AlreadyAssigned => ErrorCode::AlreadyAssigned,
            AppError::NotAssignedToYou(_) => ErrorCode::NotAssignedToYou,
            AppError::ConversationEnded => ErrorCode::ConversationEnded,
            AppError::ClientMsgIdReused => ErrorCode::ClientMsgIdReused,
            // A conflict on a unique constraint in a request a client made.
            AppError::Conflict(_) => ErrorCode::InvalidRequest,
            AppError::Unavailable => ErrorCode::Unavailable,
            AppError::Internal(_) => ErrorCode::Internal,
        };
        let message = match &error {
            AppError::Internal(source) => {
                tracing::error!(error = %error, cause = ?source, "internal error");
                "internal error; details are in the server log".to_owned()
            }
            other => other.to_string(),
        };
        ApiError { code, message }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            Json(ErrorBody {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response()
    }
}
