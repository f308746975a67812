//! Row types as PostgreSQL returns them (`FromRow` structs) and their conversion into
//! domain types, plus the instant encoding every table shares: `timestamptz`, which keeps
//! microseconds. Instants are truncated (towards the past) to the microsecond before they
//! are bound, so a value reads back exactly as [`stored_instant`] says, and the order of
//! instants is kept.
//!
//! A row that does not convert (an unknown state name, a malformed email) is reported as
//! [`CorruptRow`] inside `StoreError::Other`, never as `NotFound`.

use std::net::IpAddr;

use livehelp_domain::{
    AuditActor, AuditEntry, AuditEntryId, BrowserInfo, Conversation, ConversationId,
    ConversationState, DepartmentId, Email, EndReason, Message, MessageAuthor, MessageId,
    MessageKind, Operator, OperatorId, OperatorSession, OperatorStatus, PageRef, PasswordReset,
    PlatformAdmin, PlatformAdminId, Role, SessionId, Site, SiteId, SiteKey, SystemEvent, Tenant,
    TenantId, TenantStatus, Timestamp, Visitor, VisitorId, VisitorName, VisitorSession,
    VisitorSessionId,
};
use livehelp_store::StoreError;
use sqlx::FromRow;
use uuid::Uuid;

/// A stored value that does not convert back into its domain type.
#[derive(Debug, thiserror::Error)]
#[error("corrupt row: {0}")]
pub(crate) struct CorruptRow(pub String);

impl From<CorruptRow> for StoreError {
    fn from(error: CorruptRow) -> Self {
        StoreError::Other(Box::new(error))
    }
}

/// `instant` exactly as it will read back: UTC, truncated to the microsecond (towards the
/// past, so order is kept). Bind this, never the raw instant.
pub(crate) fn stored_instant(instant: Timestamp) -> Timestamp {
    let nanos = instant.unix_timestamp_nanos();
    let truncated = nanos - nanos.rem_euclid(1_000);
    Timestamp::from_unix_timestamp_nanos(truncated).unwrap_or(instant)
}

/// `stored_instant` of an optional instant.
pub(crate) fn stored_optional(instant: Option<Timestamp>) -> Option<Timestamp> {
    instant.map(stored_instant)
}

fn token_hash(bytes: Vec<u8>) -> Result<[u8; 32], CorruptRow> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| CorruptRow(format!("token hash of {} bytes", bytes.len())))
}

fn ip_address(ip: Option<String>) -> Result<Option<IpAddr>, CorruptRow> {
    ip.map(|ip| {
        ip.parse::<IpAddr>()
            .map_err(|error| CorruptRow(format!("ip address {ip:?}: {error}")))
    })
    .transpose()
}

/// A chat limit as stored (`integer`, at least 1 by a CHECK), `None` for no limit.
pub(crate) fn chat_limit(limit: Option<i32>) -> Result<Option<u32>, CorruptRow> {
    limit
        .map(|limit| u32::try_from(limit).map_err(|_| CorruptRow(format!("chat limit {limit}"))))
        .transpose()
}

/// A chat limit as bound (`integer`); `Other` when it does not fit.
pub(crate) fn stored_limit(limit: Option<u32>) -> Result<Option<i32>, StoreError> {
    limit
        .map(|limit| {
            i32::try_from(limit)
                .map_err(|_| StoreError::Other(format!("chat limit {limit} out of range").into()))
        })
        .transpose()
}

/// The stable name of a tenant status.
pub(crate) fn tenant_status_name(status: TenantStatus) -> &'static str {
    match status {
        TenantStatus::Active => "active",
        TenantStatus::Suspended => "suspended",
    }
}

/// A row of `tenants`.
#[derive(FromRow)]
pub(crate) struct TenantRow {
    id: Uuid,
    name: String,
    status: String,
    created_at: Timestamp,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = CorruptRow;

    fn try_from(row: TenantRow) -> Result<Self, Self::Error> {
        let status = match row.status.as_str() {
            "active" => TenantStatus::Active,
            "suspended" => TenantStatus::Suspended,
            other => return Err(CorruptRow(format!("tenant status {other:?}"))),
        };
        Ok(Tenant {
            id: TenantId::from_uuid(row.id),
            name: row.name,
            status,
            created_at: row.created_at,
        })
    }
}

/// A row of `platform_admins`.
#[derive(FromRow)]
pub(crate) struct PlatformAdminRow {
    id: Uuid,
    email: String,
    password_hash: String,
    created_at: Timestamp,
}

impl TryFrom<PlatformAdminRow> for PlatformAdmin {
    type Error = CorruptRow;

    fn try_from(row: PlatformAdminRow) -> Result<Self, Self::Error> {
        Ok(PlatformAdmin {
            id: PlatformAdminId::from_uuid(row.id),
            email: Email::parse(&row.email)
                .map_err(|error| CorruptRow(format!("platform admin email: {error}")))?,
            password_hash: row.password_hash,
            created_at: row.created_at,
        })
    }
}

/// A row of `sites`.
#[derive(FromRow)]
pub(crate) struct SiteRow {
    id: Uuid,
    tenant_id: Uuid,
    key: String,
    name: String,
    allowed_origins: Vec<String>,
    privacy_policy_url: Option<String>,
    require_tls: bool,
    created_at: Timestamp,
    default_department_id: Option<Uuid>,
}

impl TryFrom<SiteRow> for Site {
    type Error = CorruptRow;

    fn try_from(row: SiteRow) -> Result<Self, Self::Error> {
        Ok(Site {
            id: SiteId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            key: SiteKey::parse(&row.key)
                .map_err(|error| CorruptRow(format!("site key {:?}: {error}", row.key)))?,
            name: row.name,
            allowed_origins: row.allowed_origins,
            privacy_policy_url: row.privacy_policy_url,
            require_tls: row.require_tls,
            default_department_id: row.default_department_id.map(DepartmentId::from_uuid),
            created_at: row.created_at,
        })
    }
}

/// A row of `operators`.
#[derive(FromRow)]
pub(crate) struct OperatorRow {
    id: Uuid,
    tenant_id: Uuid,
    email: String,
    display_name: String,
    role: String,
    password_hash: String,
    disabled: bool,
    status: String,
    failed_logins: i32,
    locked_until: Option<Timestamp>,
    created_at: Timestamp,
    max_chats: Option<i32>,
}

impl TryFrom<OperatorRow> for Operator {
    type Error = CorruptRow;

    fn try_from(row: OperatorRow) -> Result<Self, Self::Error> {
        Ok(Operator {
            id: OperatorId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            email: Email::parse(&row.email)
                .map_err(|error| CorruptRow(format!("operator email: {error}")))?,
            display_name: row.display_name,
            role: Role::parse(&row.role)
                .ok_or_else(|| CorruptRow(format!("operator role {:?}", row.role)))?,
            password_hash: row.password_hash,
            disabled: row.disabled,
            status: OperatorStatus::parse(&row.status)
                .ok_or_else(|| CorruptRow(format!("operator status {:?}", row.status)))?,
            failed_logins: u32::try_from(row.failed_logins)
                .map_err(|_| CorruptRow(format!("failed_logins {}", row.failed_logins)))?,
            locked_until: row.locked_until,
            max_chats: chat_limit(row.max_chats)?,
            created_at: row.created_at,
        })
    }
}

/// A row of `operator_sessions`.
#[derive(FromRow)]
pub(crate) struct OperatorSessionRow {
    id: Uuid,
    tenant_id: Uuid,
    operator_id: Uuid,
    token_hash: Vec<u8>,
    csrf_token: String,
    ip: Option<String>,
    user_agent: Option<String>,
    created_at: Timestamp,
    expires_at: Timestamp,
}

impl TryFrom<OperatorSessionRow> for OperatorSession {
    type Error = CorruptRow;

    fn try_from(row: OperatorSessionRow) -> Result<Self, Self::Error> {
        Ok(OperatorSession {
            id: SessionId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            operator_id: OperatorId::from_uuid(row.operator_id),
            token_hash: token_hash(row.token_hash)?,
            csrf_token: row.csrf_token,
            ip: ip_address(row.ip)?,
            user_agent: row.user_agent,
            created_at: row.created_at,
            expires_at: row.expires_at,
        })
    }
}

/// A row of `password_resets`.
#[derive(FromRow)]
pub(crate) struct PasswordResetRow {
    token_hash: Vec<u8>,
    tenant_id: Uuid,
    operator_id: Uuid,
    created_at: Timestamp,
    expires_at: Timestamp,
}

impl TryFrom<PasswordResetRow> for PasswordReset {
    type Error = CorruptRow;

    fn try_from(row: PasswordResetRow) -> Result<Self, Self::Error> {
        Ok(PasswordReset {
            token_hash: token_hash(row.token_hash)?,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            operator_id: OperatorId::from_uuid(row.operator_id),
            created_at: row.created_at,
            expires_at: row.expires_at,
        })
    }
}

/// A row of `audit_log`.
#[derive(FromRow)]
pub(crate) struct AuditRow {
    id: Uuid,
    tenant_id: Uuid,
    at: Timestamp,
    actor_kind: String,
    actor_id: Option<Uuid>,
    action: String,
    target: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = CorruptRow;

    fn try_from(row: AuditRow) -> Result<Self, Self::Error> {
        let actor = match (row.actor_kind.as_str(), row.actor_id) {
            ("operator", Some(id)) => AuditActor::Operator(OperatorId::from_uuid(id)),
            ("platform_admin", Some(id)) => {
                AuditActor::PlatformAdmin(PlatformAdminId::from_uuid(id))
            }
            ("cli", None) => AuditActor::Cli,
            (kind, id) => return Err(CorruptRow(format!("audit actor {kind:?} with id {id:?}"))),
        };
        Ok(AuditEntry {
            id: AuditEntryId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            at: row.at,
            actor,
            action: row.action,
            target: row.target,
        })
    }
}

/// The stored `(actor_kind, actor_id)` of an audit actor.
pub(crate) fn audit_actor(actor: AuditActor) -> (&'static str, Option<Uuid>) {
    match actor {
        AuditActor::Operator(id) => ("operator", Some(id.as_uuid())),
        AuditActor::PlatformAdmin(id) => ("platform_admin", Some(id.as_uuid())),
        AuditActor::Cli => ("cli", None),
    }
}

/// A row of `visitors`.
#[derive(FromRow)]
pub(crate) struct VisitorRow {
    id: Uuid,
    tenant_id: Uuid,
    site_id: Uuid,
    name: Option<String>,
    created_at: Timestamp,
}

impl TryFrom<VisitorRow> for Visitor {
    type Error = CorruptRow;

    fn try_from(row: VisitorRow) -> Result<Self, Self::Error> {
        // Names were stored already parsed; parsing again is the identity for them and
        // catches anything written around this crate.
        let name = VisitorName::parse_optional(row.name)
            .map_err(|error| CorruptRow(format!("visitor name: {error}")))?;
        Ok(Visitor {
            id: VisitorId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            site_id: SiteId::from_uuid(row.site_id),
            name,
            created_at: row.created_at,
        })
    }
}

/// A row of `visitor_sessions`.
#[derive(FromRow)]
pub(crate) struct VisitorSessionRow {
    id: Uuid,
    tenant_id: Uuid,
    visitor_id: Uuid,
    site_id: Uuid,
    token_hash: Vec<u8>,
    ip: Option<String>,
    user_agent: Option<String>,
    page_url: Option<String>,
    page_title: Option<String>,
    created_at: Timestamp,
    last_seen_at: Timestamp,
}

impl TryFrom<VisitorSessionRow> for VisitorSession {
    type Error = CorruptRow;

    fn try_from(row: VisitorSessionRow) -> Result<Self, Self::Error> {
        let current_page = match (row.page_url, row.page_title) {
            (Some(url), title) => Some(PageRef { url, title }),
            (None, None) => None,
            (None, Some(title)) => {
                return Err(CorruptRow(format!(
                    "visitor session page title {title:?} without a URL"
                )));
            }
        };
        Ok(VisitorSession {
            id: VisitorSessionId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            visitor_id: VisitorId::from_uuid(row.visitor_id),
            site_id: SiteId::from_uuid(row.site_id),
            token_hash: token_hash(row.token_hash)?,
            browser: BrowserInfo {
                ip: ip_address(row.ip)?,
                user_agent: row.user_agent,
            },
            current_page,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
        })
    }
}

/// A row of `conversations`.
#[derive(FromRow)]
pub(crate) struct ConversationRow {
    id: Uuid,
    tenant_id: Uuid,
    site_id: Uuid,
    visitor_id: Uuid,
    state: String,
    operator_id: Option<Uuid>,
    last_seq: i64,
    created_at: Timestamp,
    accepted_at: Option<Timestamp>,
    ended_at: Option<Timestamp>,
    end_reason: Option<String>,
    ended_by_operator_id: Option<Uuid>,
    department_id: Option<Uuid>,
}

impl TryFrom<ConversationRow> for Conversation {
    type Error = CorruptRow;

    fn try_from(row: ConversationRow) -> Result<Self, Self::Error> {
        let end_reason = row
            .end_reason
            .map(|name| {
                EndReason::from_parts(&name, row.ended_by_operator_id.map(OperatorId::from_uuid))
                    .ok_or_else(|| CorruptRow(format!("conversation end_reason {name:?}")))
            })
            .transpose()?;
        Ok(Conversation {
            id: ConversationId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            site_id: SiteId::from_uuid(row.site_id),
            visitor_id: VisitorId::from_uuid(row.visitor_id),
            state: ConversationState::parse(&row.state)
                .ok_or_else(|| CorruptRow(format!("conversation state {:?}", row.state)))?,
            operator_id: row.operator_id.map(OperatorId::from_uuid),
            last_seq: row.last_seq,
            created_at: row.created_at,
            accepted_at: row.accepted_at,
            ended_at: row.ended_at,
            end_reason,
            department_id: row.department_id.map(DepartmentId::from_uuid),
        })
    }
}

/// The operator id stored in `conversations.ended_by_operator_id` for `reason`.
pub(crate) fn ended_by_operator(reason: EndReason) -> Option<Uuid> {
    reason.operator().map(|operator| operator.as_uuid())
}

/// A row of `messages`.
#[derive(FromRow)]
pub(crate) struct MessageRow {
    id: Uuid,
    tenant_id: Uuid,
    conversation_id: Uuid,
    seq: i64,
    kind: String,
    author_kind: String,
    author_id: Option<Uuid>,
    author_name: Option<String>,
    text: String,
    event: Option<String>,
    client_msg_id: Option<Uuid>,
    created_at: Timestamp,
}

impl TryFrom<MessageRow> for Message {
    type Error = CorruptRow;

    fn try_from(row: MessageRow) -> Result<Self, Self::Error> {
        let author =
            MessageAuthor::from_parts(&row.author_kind, row.author_id).ok_or_else(|| {
                CorruptRow(format!(
                    "message author {:?} with id {:?}",
                    row.author_kind, row.author_id
                ))
            })?;
        let event = row
            .event
            .map(|event| {
                SystemEvent::parse(&event)
                    .ok_or_else(|| CorruptRow(format!("message event {event:?}")))
            })
            .transpose()?;
        Ok(Message {
            id: MessageId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            conversation_id: ConversationId::from_uuid(row.conversation_id),
            seq: row.seq,
            kind: MessageKind::parse(&row.kind)
                .ok_or_else(|| CorruptRow(format!("message kind {:?}", row.kind)))?,
            author,
            author_name: row.author_name,
            text: row.text,
            event,
            client_msg_id: row.client_msg_id,
            created_at: row.created_at,
        })
    }
}

/// The stored `author_kind` of a message author.
pub(crate) fn author_kind(author: MessageAuthor) -> &'static str {
    author.kind_str()
}

/// The value of `coalesce(author_id, nil)` for `author`: the key the idempotency index
/// `messages_client_msg_id` uses (the nil UUID for the system author).
pub(crate) fn author_key(author: MessageAuthor) -> Uuid {
    author.uuid().unwrap_or(Uuid::nil())
}

/// Converts rows, failing on the first that does not convert.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = CorruptRow>,
{
    rows.into_iter()
        .map(|row| T::try_from(row).map_err(StoreError::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn instants_are_truncated_towards_the_past() {
        assert_eq!(
            stored_instant(datetime!(2026-11-29 19:07:01.123456789 UTC)),
            datetime!(2026-11-29 19:07:01.123456 UTC)
        );
        assert_eq!(
            stored_instant(datetime!(1969-12-31 23:59:59.999999999 UTC)),
            datetime!(1969-12-31 23:59:59.999999 UTC)
        );
        let whole = datetime!(2026-03-01 12:00:00.123456 UTC);
        assert_eq!(stored_instant(whole), whole);
        assert_eq!(
            stored_instant(datetime!(2026-11-29 21:07:01.5 +02:00)),
            datetime!(2026-11-29 19:07:01.5 UTC)
        );
    }
}
