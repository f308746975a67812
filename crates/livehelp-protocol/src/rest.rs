//! REST request and response bodies (JSON).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ConversationDto, ErrorCode, MessageDto};

/// `POST /api/v1/sites/{site_key}/visitor-sessions` body. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVisitorSessionRequest {
    /// The name the visitor chose to give, in any format, or none.
    #[serde(default)]
    pub name: Option<String>,
    /// The page the visitor is on (query string and fragment are dropped).
    #[serde(default)]
    pub page_url: Option<String>,
    /// That page's title.
    #[serde(default)]
    pub page_title: Option<String>,
}

/// Answer to a new visitor session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorSessionResponse {
    /// Secret bearer token for `GET /api/v1/ws/visitor?token=...` (256 random bits,
    /// base64url). The server keeps only its SHA-256.
    pub visitor_token: String,
    /// The visitor's id.
    pub visitor_id: Uuid,
    /// The name as stored (outer whitespace removed), if any.
    pub name: Option<String>,
    /// The tenant's privacy-policy address, if set (M19).
    pub privacy_policy_url: Option<String>,
}

/// `POST /api/v1/auth/login` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// Answer to a login (the session itself is in the `Set-Cookie` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// The operator's id.
    pub operator_id: Uuid,
    /// The operator's tenant.
    pub tenant_id: Uuid,
    /// Name shown to visitors.
    pub display_name: String,
    /// `admin`, `supervisor` or `operator`.
    pub role: String,
}

/// `GET /api/v1/conversations/{id}/transcript` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptResponse {
    /// The conversation.
    pub conversation: ConversationDto,
    /// Every message, in `seq` order.
    pub messages: Vec<MessageDto>,
}

/// Body of every REST error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code.
    pub code: ErrorCode,
    /// Human-readable detail.
    pub message: String,
}

/// `GET /api/v1/sites/{site_key}/widget-config` answer: public, non-identifying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetConfigResponse {
    /// The site's display name.
    pub site_name: String,
    /// The tenant's display name.
    pub tenant_name: String,
    /// The tenant's privacy-policy address, shown before any details are asked (M19).
    pub privacy_policy_url: Option<String>,
    /// False when the service is suspended: the widget shows "chat unavailable".
    pub available: bool,
}

/// `GET /api/v1/visitor-session` answer: the visitor's own session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorSelfResponse {
    /// The visitor's id.
    pub visitor_id: Uuid,
    /// The name they gave, if any.
    pub name: Option<String>,
    /// Whether they count as returning (earlier conversations, or first seen over 30 minutes ago).
    pub returning: bool,
    /// The site's privacy-policy address.
    pub privacy_policy_url: Option<String>,
}

/// `GET /api/v1/conversations` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationListResponse {
    /// Newest first.
    pub conversations: Vec<ConversationDto>,
    /// Cursor for the next (older) page, or null at the end.
    pub next: Option<String>,
}

/// A page of a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageDto {
    /// Address (no query string).
    pub url: String,
    /// Title.
    pub title: Option<String>,
}

/// `GET /api/v1/conversations/{id}/visitor` answer: the console's visitor panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorInfoResponse {
    /// The visitor's id.
    pub id: Uuid,
    /// The name they gave, if any.
    pub name: Option<String>,
    /// Returning or new.
    pub returning: bool,
    /// Conversations they have had, this one included.
    pub conversation_count: u64,
    /// First seen, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen_at: time::OffsetDateTime,
    /// Last seen, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: time::OffsetDateTime,
    /// IP address of their latest session.
    pub ip: Option<String>,
    /// Raw User-Agent.
    pub user_agent: Option<String>,
    /// Browser and version, e.g. "Chrome 131.0".
    pub browser: String,
    /// Operating system, e.g. "Windows 10".
    pub os: String,
    /// Device family, e.g. "iPhone" ("Other" for desktops).
    pub device: String,
    /// The page they were last seen on.
    pub current_page: Option<PageDto>,
}

/// `GET /api/v1/auth/session` answer: always 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionResponse {
    /// Whether the cookie names a valid session.
    pub authenticated: bool,
    /// The operator, when authenticated.
    pub operator: Option<LoginResponse>,
}
