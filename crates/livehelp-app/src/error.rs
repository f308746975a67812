//! [`AppError`]: every way a use case can refuse or fail. `livehelp-server` maps each
//! variant to one stable error code.

use livehelp_domain::{ConversationState, FieldError, TextError, ToolError};
use livehelp_store::StoreError;
use thiserror::Error;

/// Why a use case did not happen. Nothing was written in any of these cases.
#[derive(Debug, Error)]
pub enum AppError {
    /// The conversation does not exist for this principal (missing, other tenant, other visitor).
    #[error("conversation not found")]
    ConversationNotFound,
    /// Some other resource does not exist for this principal.
    #[error("not found")]
    NotFound,
    /// No site with this key.
    #[error("no site with this key")]
    SiteNotFound,
    /// The browser's origin is not allowed for the site.
    #[error("origin not allowed for this site")]
    OriginNotAllowed,
    /// Missing, unknown or expired token or session.
    #[error("not authenticated")]
    Unauthorized,
    /// Wrong email or password (deliberately not saying which).
    #[error("wrong email or password")]
    InvalidCredentials,
    /// The tenant is suspended.
    #[error("this service is suspended")]
    TenantSuspended,
    /// The principal's kind may not do this (e.g. a visitor accepting a chat).
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// Invalid text.
    #[error(transparent)]
    Text(#[from] TextError),
    /// An operator-tool request refused (shortcut, tag, tag limit).
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// Invalid field in a request.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Some fields of a form are missing or invalid; nothing was written.
    #[error("{}", describe_fields(.fields))]
    InvalidFields {
        /// Which form (the pre-chat form has its own wire code).
        form: FormKind,
        /// One entry per refused field.
        fields: Vec<FieldError>,
    },
    /// Another operator holds the conversation.
    #[error("another operator already accepted this conversation")]
    AlreadyAssigned,
    /// The conversation is queued or owned by someone else.
    #[error("this conversation is {} and not assigned to you", .0.as_str())]
    NotAssignedToYou(ConversationState),
    /// The conversation is over.
    #[error("the conversation has ended")]
    ConversationEnded,
    /// The idempotency key was already used for another request.
    #[error("client_msg_id already used for another request")]
    ClientMsgIdReused,
    /// Something exists already (e.g. an operator email).
    #[error("already exists: {0}")]
    Conflict(&'static str),
    /// The operator already holds as many chats as their limit allows.
    #[error("you already have as many chats as your limit allows; end one first")]
    ChatLimitReached,
    /// The transfer target cannot take the chat now.
    #[error("that operator is not available (away, offline, disabled or at their chat limit)")]
    OperatorUnavailable,
    /// Too many attempts (rate limit or account lock-out); retry after this many seconds.
    #[error("too many attempts; retry in {retry_after_seconds} s")]
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after_seconds: u64,
    },
    /// The site requires TLS and the request came over plain HTTP.
    #[error("this site accepts chats over encrypted connections (https) only")]
    TlsRequired,
    /// The role of the caller does not allow this.
    #[error("your role does not allow this")]
    RoleRequired,
    /// A new password does not meet the policy; the message says why.
    #[error("{0}")]
    WeakPassword(String),
    /// An exit survey use case refused (see [`SurveyError`](crate::SurveyError)).
    #[error(transparent)]
    Survey(#[from] crate::SurveyError),
    /// A page-view batch was refused whole; nothing of it was counted.
    #[error(transparent)]
    PageViews(#[from] crate::PageViewError),
    /// A report's range was refused.
    #[error(transparent)]
    Report(#[from] crate::ReportError),
    /// The database is unavailable or shutting down; nothing was written, retry.
    #[error("service unavailable, retry")]
    Unavailable,
    /// A bug or an unexpected failure; the source goes to the log, not to the client.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The form an [`AppError::InvalidFields`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    /// A visitor's pre-chat answers (start of a chat).
    Prechat,
    /// An offline message or an operator's note on a ticket.
    Ticket,
    /// A support request to the platform.
    SupportRequest,
    /// An admin's form settings.
    Settings,
}

fn describe_fields(fields: &[FieldError]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|error| format!("{}: {}", error.field, error.message))
        .collect();
    format!("please check: {}", parts.join("; "))
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict {
                constraint: "operator_chat_limit",
            } => AppError::ChatLimitReached,
            StoreError::Conflict { constraint } => AppError::Conflict(constraint),
            StoreError::WrongState { current } => match current.state {
                ConversationState::Ended => AppError::ConversationEnded,
                ConversationState::Active => AppError::AlreadyAssigned,
                ConversationState::Queued => AppError::NotAssignedToYou(ConversationState::Queued),
            },
            StoreError::ClientMsgIdReused => AppError::ClientMsgIdReused,
            StoreError::Unavailable(_) => AppError::Unavailable,
            other @ StoreError::Other(_) => AppError::Internal(Box::new(other)),
        }
    }
}
