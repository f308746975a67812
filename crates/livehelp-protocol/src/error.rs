//! The stable error codes of the API and the WebSocket protocol. A code never changes
//! meaning once released; clients match on it. Each has an HTTP status for REST answers
//! (a WebSocket `error` frame carries the same code).

/// One stable error code. `as_str` is what goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The frame or body is not valid JSON.
    InvalidJson,
    /// The frame's `type` is missing or not one this server knows.
    UnknownFrameType,
    /// A field is missing or has the wrong type or format.
    InvalidFrame,
    /// Message text is empty or only whitespace.
    TextEmpty,
    /// Message text is over the length limit (10,000 characters).
    TextTooLong,
    /// Text contains NUL or another control character.
    TextInvalid,
    /// A frame over the soft size limit (128 KiB).
    FrameTooLarge,
    /// A request body over the size limit.
    PayloadTooLarge,
    /// No such conversation for this client (including one of another tenant or visitor).
    ConversationNotFound,
    /// Another operator already accepted the conversation.
    AlreadyAssigned,
    /// The conversation is still queued (accept it first) or owned by another operator.
    NotAssignedToYou,
    /// The conversation has ended.
    ConversationEnded,
    /// The operator already holds as many chats as their limit allows.
    ChatLimitReached,
    /// The operator to transfer to is not available (away, offline or disabled).
    OperatorUnavailable,
    /// The tenant already has a department with this name.
    DepartmentNameTaken,
    /// This `client_msg_id` was already used for a different request.
    ClientMsgIdReused,
    /// The frame is not allowed for this kind of client (e.g. a visitor sending `accept`).
    Forbidden,
    /// No valid session or token.
    Unauthorized,
    /// Wrong email or password.
    InvalidCredentials,
    /// The tenant is suspended.
    TenantSuspended,
    /// No site with this key.
    SiteNotFound,
    /// The request's `Origin` is not one of the site's allowed origins.
    OriginNotAllowed,
    /// A REST body field is invalid; the message says which.
    InvalidRequest,
    /// No such resource for this client.
    NotFound,
    /// The route exists but not with this HTTP method.
    MethodNotAllowed,
    /// Too many requests or attempts; retry after `retry_after` seconds.
    RateLimited,
    /// The caller's role does not allow this (e.g. an operator managing accounts).
    RoleRequired,
    /// A new password does not meet the policy; the message says why.
    WeakPassword,
    /// A state-changing console request without the session's `X-CSRF-Token`.
    CsrfTokenInvalid,
    /// The site requires TLS and the request came over plain HTTP.
    TlsRequired,
    /// A canned response's shortcut is not 1 to 32 letters, digits, `-` or `_`.
    ShortcutInvalid,
    /// The shortcut is already used in that scope (the tenant's, or your own).
    ShortcutTaken,
    /// A tag is empty, over 40 characters or holds a control character.
    TagInvalid,
    /// The conversation already has 20 tags.
    TooManyTags,
    /// No exit survey is set up for this conversation's site.
    SurveyNotFound,
    /// The conversation's exit survey was already submitted (the first answers are kept).
    SurveyAlreadySubmitted,
    /// The conversation has not ended: its survey opens when it ends.
    SurveyConversationOpen,
    /// The submission names another conversation or survey than the one it was sent to.
    SurveyConversationMismatch,
    /// A stated age under 18: the whole submission was refused and nothing of it kept.
    SurveyRefusedUnder18,
    /// Some answers do not fit their questions; `fields` maps question id to message.
    SurveyInvalid,
    /// The pre-chat answers are missing or invalid (under the minimum age, consent not
    /// given, ...); `fields` says which. Nothing was created.
    PrechatInvalid,
    /// Some fields of a form (offline message, support request, settings) are invalid;
    /// `fields` says which. Nothing was stored.
    ValidationFailed,
    /// A page-view batch holds no views or more than the limit (20); nothing of it was
    /// counted.
    PageViewBatchTooLarge,
    /// A view of a page-view batch is not a page of the site (not http/https, too long,
    /// not on an allowed origin); the message names it. Nothing of the batch was counted.
    PageViewInvalid,
    /// The server is shutting down or its database is unavailable; retry later.
    Unavailable,
    /// An unexpected server error; details are in the server log.
    Internal,
    /// A report's `from` or `to` is not a date like `2026-01-31`.
    InvalidDate,
    /// A report's `to` is before its `from`, or the range is longer than 366 days.
    InvalidDateRange,
    /// A report's range holds more conversations than one report reads (100,000).
    ReportTooLarge,
}

impl ErrorCode {
    /// Every code, for documentation checks.
    pub const ALL: [ErrorCode; 49] = [
        ErrorCode::InvalidJson,
        ErrorCode::UnknownFrameType,
        ErrorCode::InvalidFrame,
        ErrorCode::TextEmpty,
        ErrorCode::TextTooLong,
        ErrorCode::TextInvalid,
        ErrorCode::FrameTooLarge,
        ErrorCode::PayloadTooLarge,
        ErrorCode::ConversationNotFound,
        ErrorCode::AlreadyAssigned,
        ErrorCode::NotAssignedToYou,
        ErrorCode::ConversationEnded,
        ErrorCode::ChatLimitReached,
        ErrorCode::OperatorUnavailable,
        ErrorCode::DepartmentNameTaken,
        ErrorCode::ClientMsgIdReused,
        ErrorCode::Forbidden,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidCredentials,
        ErrorCode::TenantSuspended,
        ErrorCode::SiteNotFound,
        ErrorCode::OriginNotAllowed,
        ErrorCode::InvalidRequest,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::RateLimited,
        ErrorCode::RoleRequired,
        ErrorCode::WeakPassword,
        ErrorCode::CsrfTokenInvalid,
        ErrorCode::TlsRequired,
        ErrorCode::ShortcutInvalid,
        ErrorCode::ShortcutTaken,
        ErrorCode::TagInvalid,
        ErrorCode::TooManyTags,
        ErrorCode::SurveyNotFound,
        ErrorCode::SurveyAlreadySubmitted,
        ErrorCode::SurveyConversationOpen,
        ErrorCode::SurveyConversationMismatch,
        ErrorCode::SurveyRefusedUnder18,
        ErrorCode::SurveyInvalid,
        ErrorCode::PrechatInvalid,
        ErrorCode::ValidationFailed,
        ErrorCode::PageViewBatchTooLarge,
        ErrorCode::PageViewInvalid,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
        ErrorCode::InvalidDate,
        ErrorCode::InvalidDateRange,
        ErrorCode::ReportTooLarge,
    ];

    /// The snake_case code sent to clients.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::UnknownFrameType => "unknown_frame_type",
            ErrorCode::InvalidFrame => "invalid_frame",
            ErrorCode::TextEmpty => "text_empty",
            ErrorCode::TextTooLong => "text_too_long",
            ErrorCode::TextInvalid => "text_invalid",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::ConversationNotFound => "conversation_not_found",
            ErrorCode::AlreadyAssigned => "already_assigned",
            ErrorCode::NotAssignedToYou => "not_assigned_to_you",
            ErrorCode::ConversationEnded => "conversation_ended",
            ErrorCode::ChatLimitReached => "chat_limit_reached",
            ErrorCode::OperatorUnavailable => "operator_unavailable",
            ErrorCode::DepartmentNameTaken => "department_name_taken",
            ErrorCode::ClientMsgIdReused => "client_msg_id_reused",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::TenantSuspended => "tenant_suspended",
            ErrorCode::SiteNotFound => "site_not_found",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::RoleRequired => "role_required",
            ErrorCode::WeakPassword => "weak_password",
            ErrorCode::CsrfTokenInvalid => "csrf_token_invalid",
            ErrorCode::TlsRequired => "tls_required",
            ErrorCode::ShortcutInvalid => "shortcut_invalid",
            ErrorCode::ShortcutTaken => "shortcut_taken",
            ErrorCode::TagInvalid => "tag_invalid",
            ErrorCode::TooManyTags => "too_many_tags",
            ErrorCode::SurveyNotFound => "survey_not_found",
            ErrorCode::SurveyAlreadySubmitted => "survey_already_submitted",
            ErrorCode::SurveyConversationOpen => "survey_conversation_open",
            ErrorCode::SurveyConversationMismatch => "survey_conversation_mismatch",
            ErrorCode::SurveyRefusedUnder18 => "survey_refused_under_18",
            ErrorCode::SurveyInvalid => "survey_invalid",
            ErrorCode::PrechatInvalid => "prechat_invalid",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::PageViewBatchTooLarge => "page_view_batch_too_large",
            ErrorCode::PageViewInvalid => "page_view_invalid",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::InvalidDate => "invalid_date",
            ErrorCode::InvalidDateRange => "invalid_date_range",
            ErrorCode::ReportTooLarge => "report_too_large",
        }
    }

    /// The HTTP status for a REST answer with this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidJson
            | ErrorCode::UnknownFrameType
            | ErrorCode::InvalidFrame
            | ErrorCode::InvalidRequest => 400,
            ErrorCode::TextEmpty | ErrorCode::TextInvalid => 422,
            ErrorCode::TextTooLong | ErrorCode::FrameTooLarge | ErrorCode::PayloadTooLarge => 413,
            ErrorCode::Unauthorized | ErrorCode::InvalidCredentials => 401,
            ErrorCode::Forbidden | ErrorCode::OriginNotAllowed | ErrorCode::TenantSuspended => 403,
            ErrorCode::ConversationNotFound | ErrorCode::SiteNotFound | ErrorCode::NotFound => 404,
            ErrorCode::AlreadyAssigned
            | ErrorCode::NotAssignedToYou
            | ErrorCode::ConversationEnded
            | ErrorCode::ChatLimitReached
            | ErrorCode::OperatorUnavailable
            | ErrorCode::DepartmentNameTaken
            | ErrorCode::ClientMsgIdReused => 409,
            ErrorCode::RateLimited => 429,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RoleRequired | ErrorCode::CsrfTokenInvalid | ErrorCode::TlsRequired => 403,
            ErrorCode::ShortcutInvalid | ErrorCode::TagInvalid => 422,
            ErrorCode::ShortcutTaken | ErrorCode::TooManyTags => 409,
            ErrorCode::SurveyNotFound => 404,
            ErrorCode::SurveyAlreadySubmitted | ErrorCode::SurveyConversationOpen => 409,
            ErrorCode::SurveyConversationMismatch
            | ErrorCode::SurveyRefusedUnder18
            | ErrorCode::SurveyInvalid => 422,
            ErrorCode::WeakPassword | ErrorCode::PrechatInvalid | ErrorCode::ValidationFailed => {
                422
            }
            ErrorCode::PageViewBatchTooLarge => 413,
            ErrorCode::PageViewInvalid => 422,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
            ErrorCode::InvalidDate | ErrorCode::InvalidDateRange => 400,
            ErrorCode::ReportTooLarge => 422,
        }
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            );
        }
    }
}
