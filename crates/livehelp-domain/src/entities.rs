//! The entities of the data model (PRODUCT.md "Words"): tenant, site, operator, visitor,
//! visitor session, conversation and message. Every tenant-owned entity carries its
//! `tenant_id`.

use std::net::IpAddr;

use uuid::Uuid;

use crate::Timestamp;
use crate::conversation::{ConversationState, EndReason};
use crate::ids::{
    ConversationId, MessageId, OperatorId, SessionId, SiteId, TenantId, VisitorId, VisitorSessionId,
};
use crate::text::{Email, SiteKey, VisitorName};

/// Whether a tenant may use the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantStatus {
    /// Normal operation.
    Active,
    /// Suspended by the platform: its widget shows "chat unavailable", operators cannot log in.
    Suspended,
}

/// One business on the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Id.
    pub id: TenantId,
    /// Display name of the business.
    pub name: String,
    /// Active or suspended.
    pub status: TenantStatus,
    /// When it was created.
    pub created_at: Timestamp,
}

/// One website of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Id.
    pub id: SiteId,
    /// Owner.
    pub tenant_id: TenantId,
    /// Public key used by the widget snippet.
    pub key: SiteKey,
    /// Display name, e.g. the site's domain.
    pub name: String,
    /// Origins (`scheme://host[:port]`) allowed to open visitor sessions. Empty means any
    /// origin (useful for demos; a production site lists its own).
    pub allowed_origins: Vec<String>,
    /// Address of the tenant's privacy policy, shown before any details are asked (M19).
    pub privacy_policy_url: Option<String>,
    /// Refuse visitor sessions and sockets that do not arrive over TLS (M10).
    pub require_tls: bool,
    /// Department a chat started on this site joins when the visitor picks none.
    pub default_department_id: Option<crate::DepartmentId>,
    /// When it was created.
    pub created_at: Timestamp,
}

impl Site {
    /// Whether a browser `Origin` header value may use this site. A request without an
    /// `Origin` header (a non-browser client) is not an origin check's business.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.is_empty()
            || self
                .allowed_origins
                .iter()
                .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }
}

/// An operator's role within their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Manages operators, sites and settings; everything a supervisor can do.
    Admin,
    /// Sees and monitors every conversation of the tenant.
    Supervisor,
    /// Answers chats.
    Operator,
}

impl Role {
    /// The stable name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Operator => "operator",
        }
    }

    /// Parses a stable name back.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "admin" => Some(Role::Admin),
            "supervisor" => Some(Role::Supervisor),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }
}

/// A tenant's staff member with their own account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// Id.
    pub id: OperatorId,
    /// Employer.
    pub tenant_id: TenantId,
    /// Login name; unique across the platform.
    pub email: Email,
    /// Name shown to visitors.
    pub display_name: String,
    /// Role within the tenant.
    pub role: Role,
    /// argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
    pub password_hash: String,
    /// A disabled operator cannot log in.
    pub disabled: bool,
    /// Availability chosen by the operator; kept across reconnects.
    pub status: OperatorStatus,
    /// Consecutive failed logins since the last success (for lock-out).
    pub failed_logins: u32,
    /// Logins are refused until this instant after too many failures.
    pub locked_until: Option<Timestamp>,
    /// Most chats this operator holds at once; `None` means the tenant's default
    /// ([`crate::RoutingSettings::max_chats_per_operator`]).
    pub max_chats: Option<u32>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// An operator's chosen availability. Whether they are connected at all is separate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OperatorStatus {
    /// Takes new chats.
    #[default]
    Online,
    /// Connected but takes no new chats.
    Away,
}

impl OperatorStatus {
    /// The stable name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorStatus::Online => "online",
            OperatorStatus::Away => "away",
        }
    }

    /// Parses a stable name back.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "online" => Some(OperatorStatus::Online),
            "away" => Some(OperatorStatus::Away),
            _ => None,
        }
    }
}

/// A page of a tenant's site, as reported by the widget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRef {
    /// Address, without query string or fragment unless the tenant allows them; at most
    /// 2,048 bytes.
    pub url: String,
    /// Document title, at most 512 bytes.
    pub title: Option<String>,
}

/// A person browsing a tenant's site. Anonymous unless they give details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    /// Id.
    pub id: VisitorId,
    /// Owner of the data.
    pub tenant_id: TenantId,
    /// Site the visitor first came through.
    pub site_id: SiteId,
    /// The name they gave, if any.
    pub name: Option<VisitorName>,
    /// When they first started a session.
    pub created_at: Timestamp,
}

/// Browser information logged per visitor session (PRODUCT.md M6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrowserInfo {
    /// Client IP as seen by the server (or by a trusted proxy).
    pub ip: Option<IpAddr>,
    /// `User-Agent` header, truncated to 512 bytes.
    pub user_agent: Option<String>,
}

/// A visitor session: a visitor token (stored only as its SHA-256) and the browser it was
/// issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorSession {
    /// Id.
    pub id: VisitorSessionId,
    /// Owner of the data.
    pub tenant_id: TenantId,
    /// Whose session.
    pub visitor_id: VisitorId,
    /// Which site it was opened on.
    pub site_id: SiteId,
    /// SHA-256 of the token handed to the visitor.
    pub token_hash: [u8; 32],
    /// IP and User-Agent at creation.
    pub browser: BrowserInfo,
    /// The page the visitor was last seen on, if the widget reported one.
    pub current_page: Option<PageRef>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When the visitor was last active in this session (creation, connect, page view).
    pub last_seen_at: Timestamp,
}

/// An operator's login session, behind an HttpOnly cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSession {
    /// Id.
    pub id: SessionId,
    /// Tenant of the operator.
    pub tenant_id: TenantId,
    /// Who is logged in.
    pub operator_id: OperatorId,
    /// SHA-256 of the cookie value.
    pub token_hash: [u8; 32],
    /// Anti-CSRF token for this session (random, 256 bits, hex). Not a credential by
    /// itself: it is compared with the `X-CSRF-Token` header of state-changing requests.
    pub csrf_token: String,
    /// IP address at login, for the session list.
    pub ip: Option<std::net::IpAddr>,
    /// User-Agent at login (truncated to 512 bytes), for the session list.
    pub user_agent: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops being valid.
    pub expires_at: Timestamp,
}

/// A platform admin: the hosting company's own staff (manages tenants). Not tied to a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformAdmin {
    /// Id.
    pub id: crate::ids::PlatformAdminId,
    /// Login email, unique among platform admins.
    pub email: Email,
    /// argon2id PHC string.
    pub password_hash: String,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A one-time password-reset link issued by a tenant admin (or the CLI) for an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    /// SHA-256 of the token in the link.
    pub token_hash: [u8; 32],
    /// Tenant of the operator.
    pub tenant_id: TenantId,
    /// Whose password.
    pub operator_id: OperatorId,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When the link stops working.
    pub expires_at: Timestamp,
}

/// Who did something recorded in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditActor {
    /// An operator of the tenant.
    Operator(OperatorId),
    /// A platform admin.
    PlatformAdmin(crate::ids::PlatformAdminId),
    /// The command line on the server.
    Cli,
}

/// One entry of a tenant's audit log: who read or changed what, and when (M8, B8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Id (UUIDv7, so ids sort by time).
    pub id: crate::ids::AuditEntryId,
    /// The tenant whose data was touched.
    pub tenant_id: TenantId,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: AuditActor,
    /// What, a stable snake_case name: `transcript_read`, `monitor_started`,
    /// `operator_created`, `operator_role_changed`, `operator_disabled`,
    /// `password_reset_issued`, `site_updated`, `sessions_revoked`, ...
    pub action: String,
    /// The object acted on, e.g. `conversation:0190...` or `operator:0190...`.
    pub target: String,
}

/// One chat between a visitor and operators, from request to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Id.
    pub id: ConversationId,
    /// Owner of the data.
    pub tenant_id: TenantId,
    /// Site the chat started on.
    pub site_id: SiteId,
    /// The visitor.
    pub visitor_id: VisitorId,
    /// `queued`, `active` or `ended`.
    pub state: ConversationState,
    /// The operator who owns the chat, once accepted.
    pub operator_id: Option<OperatorId>,
    /// Highest `seq` used by its messages (0 before the first).
    pub last_seq: i64,
    /// When the visitor asked for it.
    pub created_at: Timestamp,
    /// When an operator accepted it.
    pub accepted_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// Who ended it and why.
    pub end_reason: Option<EndReason>,
    /// The department whose queue it waits in (and whose routing mode assigns it);
    /// `None` is the tenant's general queue.
    pub department_id: Option<crate::DepartmentId>,
}

/// What kind of entry a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// Typed by the visitor.
    Visitor,
    /// Typed by an operator, seen by the visitor.
    Operator,
    /// A system event (chat requested, operator joined, chat ended).
    System,
    /// An operator-only note; never shown to the visitor.
    Whisper,
}

impl MessageKind {
    /// The stable name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Visitor => "visitor",
            MessageKind::Operator => "operator",
            MessageKind::System => "system",
            MessageKind::Whisper => "whisper",
        }
    }

    /// Parses a stable name back.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "visitor" => Some(MessageKind::Visitor),
            "operator" => Some(MessageKind::Operator),
            "system" => Some(MessageKind::System),
            "whisper" => Some(MessageKind::Whisper),
            _ => None,
        }
    }

    /// Whether the visitor may see messages of this kind.
    pub fn visible_to_visitor(self) -> bool {
        !matches!(self, MessageKind::Whisper)
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAuthor {
    /// The conversation's visitor.
    Visitor(VisitorId),
    /// An operator of the tenant.
    Operator(OperatorId),
    /// The server itself.
    System,
}

impl MessageAuthor {
    /// The stable name of the author's kind, as stored and sent: `visitor`, `operator`
    /// or `system`.
    pub fn kind_str(self) -> &'static str {
        match self {
            MessageAuthor::Visitor(_) => "visitor",
            MessageAuthor::Operator(_) => "operator",
            MessageAuthor::System => "system",
        }
    }

    /// Rebuilds an author from its kind name and id; `None` when they do not fit together
    /// (an unknown kind, a visitor or operator without id, a system author with one).
    pub fn from_parts(kind: &str, id: Option<Uuid>) -> Option<Self> {
        match (kind, id) {
            ("visitor", Some(id)) => Some(MessageAuthor::Visitor(VisitorId::from_uuid(id))),
            ("operator", Some(id)) => Some(MessageAuthor::Operator(OperatorId::from_uuid(id))),
            ("system", None) => Some(MessageAuthor::System),
            _ => None,
        }
    }

    /// The author's id as a UUID, `None` for the system.
    pub fn uuid(self) -> Option<Uuid> {
        match self {
            MessageAuthor::Visitor(id) => Some(id.as_uuid()),
            MessageAuthor::Operator(id) => Some(id.as_uuid()),
            MessageAuthor::System => None,
        }
    }
}

/// The event a system message records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemEvent {
    /// The visitor asked for a chat; the conversation is queued.
    ChatRequested,
    /// An operator accepted the chat.
    OperatorJoined,
    /// The chat ended.
    ChatEnded,
}

impl SystemEvent {
    /// The stable name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SystemEvent::ChatRequested => "chat_requested",
            SystemEvent::OperatorJoined => "operator_joined",
            SystemEvent::ChatEnded => "chat_ended",
        }
    }

    /// Parses a stable name back.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "chat_requested" => Some(SystemEvent::ChatRequested),
            "operator_joined" => Some(SystemEvent::OperatorJoined),
            "chat_ended" => Some(SystemEvent::ChatEnded),
            _ => None,
        }
    }
}

/// One stored entry of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Server id.
    pub id: MessageId,
    /// Owner of the data.
    pub tenant_id: TenantId,
    /// Conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Position in the conversation: 1, 2, 3, ... with no gaps.
    pub seq: i64,
    /// Visitor, operator, system or whisper.
    pub kind: MessageKind,
    /// Who wrote it.
    pub author: MessageAuthor,
    /// The author's name at the time of writing (a snapshot, so transcripts stay readable).
    pub author_name: Option<String>,
    /// The text exactly as typed; for system messages a short English description.
    pub text: String,
    /// The system event, for `System` messages.
    pub event: Option<SystemEvent>,
    /// The sender's idempotency key, if the message came from a client.
    pub client_msg_id: Option<Uuid>,
    /// When the server committed it (UTC).
    pub created_at: Timestamp,
}

/// A message before it is stored: everything but `seq`, which the store assigns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Server id, chosen by the caller.
    pub id: MessageId,
    /// Conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Kind.
    pub kind: MessageKind,
    /// Author.
    pub author: MessageAuthor,
    /// Author's name snapshot.
    pub author_name: Option<String>,
    /// Text.
    pub text: String,
    /// System event, for `System` messages.
    pub event: Option<SystemEvent>,
    /// Idempotency key from the client.
    pub client_msg_id: Option<Uuid>,
    /// Time of the request.
    pub created_at: Timestamp,
}
