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
    /// The session's anti-CSRF token: send it as `X-CSRF-Token` on every POST, PATCH and
    /// DELETE made with the session cookie.
    pub csrf_token: String,
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
    /// For `rate_limited`: seconds to wait (also in the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Per-field errors (field → message), for codes that have them (`survey_invalid`,
    /// `prechat_invalid`, `validation_failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<std::collections::BTreeMap<String, String>>,
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
    /// Departments the visitor may choose from when starting a chat, by name.
    #[serde(default)]
    pub departments: Vec<DepartmentChoiceDto>,
    /// `chat`, or `offline` when no operator is available or the site is outside its
    /// business hours: the widget then shows the message form (B4).
    #[serde(default = "chat_mode")]
    pub mode: String,
    /// The pre-chat form to fill before a chat; absent when the site asks nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prechat: Option<crate::forms::PrechatFormDto>,
}

/// A department as a visitor may choose it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentChoiceDto {
    /// Id, for `start_chat`'s `department_id`.
    pub id: Uuid,
    /// Display name.
    pub name: String,
}

/// A department as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentDto {
    /// Id.
    pub id: Uuid,
    /// Display name, unique within the tenant.
    pub name: String,
    /// `manual`, `least_busy` or `round_robin`.
    pub routing: String,
    /// Member operators.
    pub operator_ids: Vec<Uuid>,
    /// Creation time, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// `GET /api/v1/departments` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentListResponse {
    /// By name.
    pub departments: Vec<DepartmentDto>,
}

/// `POST /api/v1/departments` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentRequest {
    /// 1–80 characters.
    pub name: String,
    /// `manual` (default), `least_busy` or `round_robin`.
    #[serde(default)]
    pub routing: Option<String>,
    /// Member operators of the tenant.
    #[serde(default)]
    pub operator_ids: Vec<Uuid>,
}

/// `PATCH /api/v1/departments/{id}` body; absent fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateDepartmentRequest {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New mode.
    #[serde(default)]
    pub routing: Option<String>,
    /// New members (replaces the list).
    #[serde(default)]
    pub operator_ids: Option<Vec<Uuid>>,
}

/// `GET`/`PATCH /api/v1/routing-settings` body and answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettingsDto {
    /// Mode of the general queue: `manual`, `least_busy` or `round_robin`.
    pub routing: String,
    /// Default chat limit per operator, 1–100, or `null` for none.
    pub max_chats_per_operator: Option<u32>,
    /// Whether operators see who monitors their chats.
    pub show_monitoring: bool,
}

/// One operator in the supervisor overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewOperatorDto {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub display_name: String,
    /// `admin`, `supervisor` or `operator`.
    pub role: String,
    /// Chosen availability, `online` or `away`.
    pub status: String,
    /// Whether any connection of theirs is open now.
    pub connected: bool,
    /// Active chats now.
    pub active_chats: u32,
    /// Chat limit in force, `null` for none.
    pub chat_limit: Option<u32>,
}

/// `GET /api/v1/supervisor/overview` answer: the tenant's live state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewResponse {
    /// Open conversations (queued and active), oldest first, at most 200.
    pub conversations: Vec<crate::ConversationDto>,
    /// Enabled operators, oldest account first.
    pub operators: Vec<OverviewOperatorDto>,
    /// Departments by name.
    pub departments: Vec<DepartmentDto>,
}

fn chat_mode() -> String {
    "chat".to_owned()
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
    /// The tags of the listed conversations, by conversation id (untagged ones absent).
    #[serde(default)]
    pub tags: std::collections::BTreeMap<Uuid, Vec<String>>,
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

/// `POST /api/v1/auth/password-reset` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The token from the reset link.
    pub token: String,
    /// The new password (12 to 128 characters, not a common one).
    pub password: String,
}

/// One login session of the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDto {
    /// Session id.
    pub id: Uuid,
    /// True for the session making this request.
    pub current: bool,
    /// Login time, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// Expiry, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
    /// IP at login.
    pub ip: Option<String>,
    /// User-Agent at login.
    pub user_agent: Option<String>,
}

/// `GET /api/v1/auth/sessions` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionListResponse {
    /// Newest first.
    pub sessions: Vec<SessionDto>,
}

/// An operator account as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorDto {
    /// Id.
    pub id: Uuid,
    /// Login email.
    pub email: String,
    /// Name shown to visitors.
    pub display_name: String,
    /// `admin`, `supervisor` or `operator`.
    pub role: String,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// `online` or `away` (their chosen availability).
    pub status: String,
    /// Set while locked out after failed logins, RFC 3339 UTC.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub locked_until: Option<time::OffsetDateTime>,
    /// Own chat limit; `null`: the tenant's default.
    #[serde(default)]
    pub max_chats: Option<u32>,
    /// Creation time, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// `GET /api/v1/operators` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorListResponse {
    /// Oldest first.
    pub operators: Vec<OperatorDto>,
}

/// `POST /api/v1/operators` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOperatorRequest {
    /// Login email (unique on the platform).
    pub email: String,
    /// Name shown to visitors.
    pub display_name: String,
    /// `admin`, `supervisor` or `operator`.
    pub role: String,
    /// Initial password (12 to 128 characters, not a common one).
    pub password: String,
}

/// `PATCH /api/v1/operators/{id}` body; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateOperatorRequest {
    /// New name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// New role.
    #[serde(default)]
    pub role: Option<String>,
    /// Disable or re-enable (disabling ends every session).
    #[serde(default)]
    pub disabled: Option<bool>,
    /// Own chat limit 1–100; `null` returns to the tenant's default.
    #[serde(default, deserialize_with = "double_option")]
    pub max_chats: Option<Option<u32>>,
}

/// `POST /api/v1/operators/{id}/password-reset` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordResetLinkResponse {
    /// The one-time token.
    pub token: String,
    /// Path of the console page that uses it, e.g. `/console/#reset=TOKEN`.
    pub reset_path: String,
    /// When the link stops working, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}

/// A site as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteDto {
    /// Id.
    pub id: Uuid,
    /// Public key for the widget snippet.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Allowed origins; empty allows any.
    pub allowed_origins: Vec<String>,
    /// Privacy-policy address.
    pub privacy_policy_url: Option<String>,
    /// Visitors must connect over TLS.
    pub require_tls: bool,
    /// Department a chat started here joins when the visitor picks none.
    #[serde(default)]
    pub default_department_id: Option<Uuid>,
    /// Creation time, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// `GET /api/v1/sites` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteListResponse {
    /// Oldest first.
    pub sites: Vec<SiteDto>,
}

/// `POST /api/v1/sites` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSiteRequest {
    /// Display name.
    pub name: String,
    /// Allowed origins (`https://shop.example.com`); empty allows any.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Privacy-policy address.
    #[serde(default)]
    pub privacy_policy_url: Option<String>,
    /// Visitors must connect over TLS.
    #[serde(default)]
    pub require_tls: bool,
}

/// `PATCH /api/v1/sites/{id}` body; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSiteRequest {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New allowed origins.
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
    /// New privacy-policy address; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    pub privacy_policy_url: Option<Option<String>>,
    /// Require TLS.
    #[serde(default)]
    pub require_tls: Option<bool>,
    /// Default department; `null` for the general queue.
    #[serde(default, deserialize_with = "double_option")]
    pub default_department_id: Option<Option<Uuid>>,
}

/// Tells "absent" (outer `None`, via `default`) from `null` (`Some(None)`).
fn double_option<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryDto {
    /// Id.
    pub id: Uuid,
    /// When, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    /// `operator`, `platform_admin` or `cli`.
    pub actor_kind: String,
    /// The actor's id (operators, platform admins).
    pub actor_id: Option<Uuid>,
    /// What: `transcript_read`, `monitor_started`, `operator_created`, ...
    pub action: String,
    /// On what, e.g. `conversation:0190...`.
    pub target: String,
}

/// `GET /api/v1/audit-log` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogResponse {
    /// Newest first.
    pub entries: Vec<AuditEntryDto>,
    /// `before` for the next page, or null at the end.
    pub next: Option<String>,
}
