//! Storage traits for livehelp, one per aggregate, and the [`StoreError`] every backend
//! returns. Backends live in their own crates (`livehelp-store-sqlite`, later
//! `livehelp-store-postgres`) and all pass the conformance suite in the `testing` module (cargo feature `testing`).
//!
//! The rule that keeps tenants apart: every method that reads or writes tenant data takes
//! the [`TenantId`] as its first parameter and scopes its query by it. The only methods
//! that do not are in [`EntryStore`]: they turn a public site key, a secret token or a
//! login email into a tenant-scoped record, and are the doors through which a request
//! learns its tenant in the first place.

use async_trait::async_trait;
use livehelp_domain::{
    AuditEntry, AuditEntryId, Conversation, ConversationId, Department, DepartmentId, Email,
    EndReason, Message, MessageAuthor, NewMessage, Operator, OperatorId, OperatorLoad,
    OperatorSession, OperatorStatus, PageRef, PasswordReset, PlatformAdmin, RoutingSettings,
    SessionId, Site, SiteKey, Tenant, TenantId, TenantStatus, Timestamp, Visitor, VisitorId,
    VisitorSession, VisitorSessionId,
};
use thiserror::Error;

pub mod archive;
mod forms;
mod page_views;
mod reports;
pub mod survey_json;
mod surveys;
#[cfg(feature = "testing")]
pub mod testing;
mod tools;

pub use archive::ArchiveStore;
pub use tools::ToolStore;

pub use page_views::{
    PageTrailEvent, PageViewCount, PageViewStore, PageViewTally, TrackingSettings,
};
pub use reports::{
    ConversationFacts, ReportStore, VisitorDetailStore, VisitorDetails, VisitorMatch, VisitorSearch,
};

pub use surveys::{PlatformAnswer, PlatformQuestion, SurveyResponseQuery, SurveyStore};

pub use forms::{SiteFormStore, SiteForms, SupportRequestStore, TicketQuery, TicketStore};

/// What went wrong in a store call. Callers match on the variant; the message is for logs.
#[derive(Debug, Error)]
pub enum StoreError {
    /// No such row in this tenant (a row of another tenant is also "not found").
    #[error("not found")]
    NotFound,
    /// A uniqueness constraint refused the write; `constraint` names it (e.g. `operator_email`).
    #[error("conflict on {constraint}")]
    Conflict {
        /// Stable name of the violated constraint.
        constraint: &'static str,
    },
    /// The conversation is not in a state that allows the change. Carries the current
    /// conversation so the caller can say why (already assigned, ended, ...).
    #[error("conversation is {}", .current.state.as_str())]
    WrongState {
        /// The conversation as it is now.
        current: Box<Conversation>,
    },
    /// The same `client_msg_id` was already used by this author for a different
    /// conversation or a different kind of request.
    #[error("client_msg_id already used for another request")]
    ClientMsgIdReused,
    /// The database cannot be reached or is shutting down; the write did not happen and
    /// may be retried with the same `client_msg_id`.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the write did not happen.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Lookups that find the tenant from something a client presents. The only unscoped reads.
#[async_trait]
pub trait EntryStore: Send + Sync {
    /// The site with this public key (any tenant), or `NotFound`.
    async fn fetch_site_by_key(&self, key: &SiteKey) -> StoreResult<Site>;
    /// The visitor session whose token hashes to `token_hash`, or `NotFound`.
    async fn fetch_visitor_session_by_token(
        &self,
        token_hash: &[u8; 32],
    ) -> StoreResult<VisitorSession>;
    /// The operator session whose cookie hashes to `token_hash` and that has not expired at
    /// `now`, or `NotFound`.
    async fn fetch_operator_session_by_token(
        &self,
        token_hash: &[u8; 32],
        now: Timestamp,
    ) -> StoreResult<OperatorSession>;
    /// The operator account with this login email (any tenant), or `NotFound`.
    async fn fetch_operator_by_email(&self, email: &Email) -> StoreResult<Operator>;
    /// Uses up a password-reset link: if a reset with this token hash exists, is unused
    /// and has not expired at `now`, marks it used and returns it (one use only, also
    /// under concurrent attempts); otherwise `NotFound`.
    async fn consume_password_reset(
        &self,
        token_hash: &[u8; 32],
        now: Timestamp,
    ) -> StoreResult<PasswordReset>;
    /// The platform admin with this login email, or `NotFound`.
    async fn fetch_platform_admin_by_email(&self, email: &Email) -> StoreResult<PlatformAdmin>;
}

/// Tenants.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates a tenant.
    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
    /// The tenant, or `NotFound`.
    async fn fetch_tenant(&self, tenant: TenantId) -> StoreResult<Tenant>;
    /// Every tenant, oldest first (ties by id). Platform scope: only platform-admin paths
    /// call this.
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;
    /// Sets a tenant's status (suspend / reactivate); `NotFound` for an unknown tenant.
    async fn update_tenant_status(&self, tenant: TenantId, status: TenantStatus)
    -> StoreResult<()>;
    /// Creates a platform admin; `Conflict { constraint: "platform_admin_email" }` if taken.
    async fn insert_platform_admin(&self, admin: &PlatformAdmin) -> StoreResult<()>;
}

/// Sites.
#[async_trait]
pub trait SiteStore: Send + Sync {
    /// Creates a site; `Conflict { constraint: "site_key" }` if the key is taken.
    async fn insert_site(&self, tenant: TenantId, site: &Site) -> StoreResult<()>;
    /// The sites of a tenant, oldest first.
    async fn list_sites(&self, tenant: TenantId) -> StoreResult<Vec<Site>>;
    /// Replaces a site's name, allowed origins, privacy-policy URL, require-TLS switch and
    /// default department (the key and id never change); `NotFound` for an unknown site of
    /// this tenant, or when the default department is not one of this tenant's.
    async fn update_site(&self, tenant: TenantId, site: &Site) -> StoreResult<()>;
}

/// Operator accounts and their login sessions.
#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// Creates an operator; `Conflict { constraint: "operator_email" }` if the email is taken.
    async fn insert_operator(&self, tenant: TenantId, operator: &Operator) -> StoreResult<()>;
    /// The operator, or `NotFound`.
    async fn fetch_operator(&self, tenant: TenantId, operator: OperatorId)
    -> StoreResult<Operator>;
    /// The operators of a tenant, oldest first.
    async fn list_operators(&self, tenant: TenantId) -> StoreResult<Vec<Operator>>;
    /// Stores a new login session.
    async fn insert_operator_session(
        &self,
        tenant: TenantId,
        session: &OperatorSession,
    ) -> StoreResult<()>;
    /// Deletes a login session (logout). Deleting a missing one is not an error.
    async fn delete_operator_session(
        &self,
        tenant: TenantId,
        session: SessionId,
    ) -> StoreResult<()>;
    /// Replaces an operator's display name, role, password hash, disabled flag and chat
    /// limit; `NotFound` for an unknown operator of this tenant.
    async fn update_operator(&self, tenant: TenantId, operator: &Operator) -> StoreResult<()>;
    /// Records a failed login at `now`: increments the failure count and, when it reaches
    /// `lock_after`, sets `locked_until = now + lock_for` and resets the count. Atomic
    /// (one statement), so parallel guesses cannot slip past the limit. Returns the
    /// operator as updated; `NotFound` for an unknown operator of this tenant.
    async fn record_login_failure(
        &self,
        tenant: TenantId,
        operator: OperatorId,
        now: Timestamp,
        lock_after: u32,
        lock_for: time::Duration,
    ) -> StoreResult<Operator>;
    /// Clears the failure count and any lock after a successful login; `NotFound` for an
    /// unknown operator of this tenant.
    async fn reset_login_failures(&self, tenant: TenantId, operator: OperatorId)
    -> StoreResult<()>;
    /// The operator's unexpired login sessions at `now` (`expires_at > now`), newest
    /// first (by `created_at`, then id, both descending).
    async fn list_operator_sessions(
        &self,
        tenant: TenantId,
        operator: OperatorId,
        now: Timestamp,
    ) -> StoreResult<Vec<OperatorSession>>;
    /// Deletes every login session of the operator ("log out everywhere", disabling,
    /// password change); returns how many were deleted.
    async fn delete_operator_sessions(
        &self,
        tenant: TenantId,
        operator: OperatorId,
    ) -> StoreResult<u64>;
    /// Stores a password-reset link (its token hash); `NotFound` if the operator is not
    /// one of this tenant's.
    async fn insert_password_reset(
        &self,
        tenant: TenantId,
        reset: &PasswordReset,
    ) -> StoreResult<()>;
    /// Sets an operator's availability; `NotFound` for an unknown operator.
    async fn update_operator_status(
        &self,
        tenant: TenantId,
        operator: OperatorId,
        status: OperatorStatus,
    ) -> StoreResult<()>;
}

/// Visitors and their sessions.
#[async_trait]
pub trait VisitorStore: Send + Sync {
    /// Creates a visitor together with their first session, in one transaction.
    async fn insert_visitor(
        &self,
        tenant: TenantId,
        visitor: &Visitor,
        session: &VisitorSession,
    ) -> StoreResult<()>;
    /// The visitor, or `NotFound`.
    async fn fetch_visitor(&self, tenant: TenantId, visitor: VisitorId) -> StoreResult<Visitor>;
    /// The visitor's most recently active session (greatest `last_seen_at`), or `NotFound`.
    async fn fetch_latest_visitor_session(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
    ) -> StoreResult<VisitorSession>;
    /// Records the page a visitor session is on and marks it seen at `now`. `NotFound`
    /// for an unknown session.
    async fn update_visitor_session_page(
        &self,
        tenant: TenantId,
        session: VisitorSessionId,
        page: &PageRef,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Marks a visitor session seen at `now` (a reconnect); `NotFound` for an unknown one.
    async fn touch_visitor_session(
        &self,
        tenant: TenantId,
        session: VisitorSessionId,
        now: Timestamp,
    ) -> StoreResult<()>;
}

/// Which conversations [`ConversationStore::list_conversations`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationQuery {
    /// Only this state, or all.
    pub state: Option<livehelp_domain::ConversationState>,
    /// Only this visitor's, or everyone's.
    pub visitor: Option<VisitorId>,
    /// Only conversations carrying this tag (normalised: see `Tag::parse`), or all.
    pub tag: Option<livehelp_domain::Tag>,
    /// Keyset cursor: only conversations strictly older than this `(created_at, id)`.
    pub before: Option<(Timestamp, ConversationId)>,
    /// At most this many (the caller caps it, e.g. at 200).
    pub limit: u32,
}

/// The tenant's audit log: who read or changed what. Append-only.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an entry.
    async fn insert_audit_entry(&self, tenant: TenantId, entry: &AuditEntry) -> StoreResult<()>;
    /// Entries newest first, strictly older than `before` (an entry id, UUIDv7 so
    /// time-ordered) when given, at most `limit`.
    async fn list_audit_entries(
        &self,
        tenant: TenantId,
        before: Option<AuditEntryId>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;
}

/// What an append does to its conversation besides adding the message. The store applies
/// the effect and the message in one transaction, with the state check as a conditional
/// update, so two racing accepts cannot both win (case BR-03) and a visitor cannot hold
/// two open conversations (case BR-05).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendEffect {
    /// A plain message into a conversation that is `queued` or `active`. When `operator`
    /// is set, the conversation must be `active` and owned by that operator.
    Message {
        /// The operator who must own the conversation, for operator messages.
        operator: Option<OperatorId>,
    },
    /// Opens a new `queued` conversation (the message's `conversation_id` is its new id)
    /// for the visitor, unless the visitor already has an open one: then nothing is
    /// written and the outcome is that conversation's `chat_requested` message with
    /// `duplicate = true`.
    Open {
        /// Site the chat starts on.
        site_id: livehelp_domain::SiteId,
        /// Who asks.
        visitor_id: VisitorId,
        /// The department whose queue it joins; `None` for the general queue.
        department_id: Option<DepartmentId>,
        /// The visitor's valid pre-chat answers, a JSON document written by `livehelp-app`,
        /// stored with the new conversation in the same transaction (never for a
        /// duplicate); read back with [`SiteFormStore::fetch_conversation_prechat`].
        prechat: Option<String>,
    },
    /// `queued` → `active`, owned by `operator`, who picked it. Otherwise `WrongState`.
    /// Refused with `Conflict { constraint: "operator_chat_limit" }` when the operator
    /// already holds their limit of active chats (own limit, else the tenant's), checked
    /// atomically with the change, so racing accepts and assignments cannot exceed it
    /// (case BR-04). `NotFound` for an operator not of this tenant.
    Accept {
        /// The accepting operator.
        operator: OperatorId,
    },
    /// Like `Accept`, but the server's automatic routing chose `operator` (the chat then
    /// counts as unanswered until that operator writes to it; see
    /// [`RoutingStore::list_unanswered_conversations`]). A disabled operator is refused
    /// like a full one.
    Assign {
        /// The chosen operator.
        operator: OperatorId,
    },
    /// An `active` conversation owned by `from` moves to `to` (transfer, take-over,
    /// reassignment). Otherwise `WrongState`; `to` over its limit or disabled is
    /// `Conflict { constraint: "operator_chat_limit" }`.
    Transfer {
        /// The owner the caller saw.
        from: OperatorId,
        /// The new owner.
        to: OperatorId,
        /// Whether the server chose `to` (unanswered rule as for `Assign`).
        automatic: bool,
    },
    /// An `active` conversation owned by `from` goes back to `queued` (operator gone past
    /// the grace period, or transferred to a department), in `department_id`'s queue.
    /// Its place in the queue is by `created_at`, so it is ahead of every chat that
    /// arrived after it. Otherwise `WrongState`.
    Requeue {
        /// The owner the caller saw.
        from: OperatorId,
        /// The queue it goes back to.
        department_id: Option<DepartmentId>,
    },
    /// A supervisor joins an `active` conversation visibly without taking it over
    /// ("barge"): from now on they may write to it (see `ParticipantMessage`). Joining
    /// twice is allowed. Otherwise `WrongState`.
    Join {
        /// The joining operator.
        operator: OperatorId,
    },
    /// A message from an operator who joined an `active` conversation (`Join`) but does
    /// not own it. Otherwise `WrongState`.
    ParticipantMessage {
        /// The writing participant.
        operator: OperatorId,
    },
    /// `queued` or `active` → `ended`. When `operator` is set the conversation must be
    /// owned by that operator. Otherwise `WrongState`.
    End {
        /// Who ended it and why.
        reason: EndReason,
        /// The operator who must own the conversation, for operator ends.
        operator: Option<OperatorId>,
    },
}

/// Whether an `Accept`, `Assign` or `Transfer` that matched no row failed only because
/// of the operator's chat limit (or a disabled target): the conversation, read back after
/// the failed update, is still in the state the effect expects. Both backends use this to
/// answer `Conflict { constraint: "operator_chat_limit" }` instead of `WrongState`.
pub fn blocked_by_limit(effect: &AppendEffect, current: &Conversation) -> bool {
    use livehelp_domain::ConversationState::{Active, Queued};
    match effect {
        AppendEffect::Accept { .. } | AppendEffect::Assign { .. } => current.state == Queued,
        AppendEffect::Transfer { from, .. } => {
            current.state == Active && current.operator_id == Some(*from)
        }
        _ => false,
    }
}

/// One request to the message writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    /// The message to add; its `seq` is assigned by the store.
    pub message: NewMessage,
    /// What else changes.
    pub effect: AppendEffect,
}

impl AppendRequest {
    /// The visitor who wrote the message, if a visitor did. A visitor's message goes only
    /// into that visitor's own conversation: for any other the store answers `NotFound`,
    /// exactly as for a missing one (ARCHITECTURE.md invariant 7), checked in the same
    /// conditional update that takes the `seq`, so callers need no read first.
    pub fn visitor_author(&self) -> Option<VisitorId> {
        match self.message.author {
            MessageAuthor::Visitor(visitor) => Some(visitor),
            _ => None,
        }
    }

    /// Whether `conversation` is not the writing visitor's (see [`Self::visitor_author`]).
    pub fn foreign_to_visitor(&self, conversation: &Conversation) -> bool {
        self.visitor_author()
            .is_some_and(|visitor| visitor != conversation.visitor_id)
    }
}

/// The result of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The stored message (with its `seq`), or, for a duplicate, the one stored before.
    pub message: Message,
    /// The conversation after the change.
    pub conversation: Conversation,
    /// True when nothing new was written: the same `client_msg_id` had been stored by the
    /// same author before (or `Open` found an open conversation).
    pub duplicate: bool,
}

/// Conversations and their messages.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Appends one message and applies its effect, durably (committed, with the database's
    /// full-sync setting) before returning. Messages of one conversation get `seq` 1, 2,
    /// 3, ... with no gaps. Idempotent: a `client_msg_id` already stored for the same
    /// author returns the stored message with `duplicate = true` (for the same
    /// conversation) or `ClientMsgIdReused` (for another one). Backends batch concurrent
    /// appends into one transaction (group commit).
    async fn append(&self, tenant: TenantId, request: AppendRequest) -> StoreResult<Appended>;
    /// The conversation, or `NotFound`.
    async fn fetch_conversation(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Conversation>;
    /// The visitor's open (`queued` or `active`) conversation, if any.
    async fn fetch_open_conversation_for_visitor(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
    ) -> StoreResult<Option<Conversation>>;
    /// The tenant's queued conversations, oldest first (queue order).
    async fn list_queued_conversations(&self, tenant: TenantId) -> StoreResult<Vec<Conversation>>;
    /// The operator's active conversations, oldest first.
    async fn list_active_conversations_for_operator(
        &self,
        tenant: TenantId,
        operator: OperatorId,
    ) -> StoreResult<Vec<Conversation>>;
    /// Conversations of the tenant matching `query`, newest first (by `created_at`, then
    /// id, both descending).
    async fn list_conversations(
        &self,
        tenant: TenantId,
        query: &ConversationQuery,
    ) -> StoreResult<Vec<Conversation>>;
    /// How many conversations the visitor has had (any state).
    async fn count_conversations_for_visitor(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
    ) -> StoreResult<u64>;
    /// Messages of a conversation with `seq > after_seq`, in `seq` order, at most `limit`.
    /// An unknown conversation (or another tenant's) gives `NotFound`.
    async fn list_messages(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    /// Graceful shutdown: refuses new appends (`Unavailable`), commits and answers every
    /// append already accepted, then returns. Called once, after the server stops taking
    /// requests.
    async fn close(&self);
}

/// Departments, routing settings and what automatic routing reads.
#[async_trait]
pub trait RoutingStore: Send + Sync {
    /// Creates a department with its members; `Conflict { constraint: "department_name" }`
    /// if the tenant has one with this name, `NotFound` if a member is not an operator of
    /// this tenant.
    async fn insert_department(&self, tenant: TenantId, department: &Department)
    -> StoreResult<()>;
    /// Replaces a department's name, mode and members (same errors as insert, `NotFound`
    /// for an unknown department).
    async fn update_department(&self, tenant: TenantId, department: &Department)
    -> StoreResult<()>;
    /// Deletes a department: its open conversations move to the general queue and sites
    /// that defaulted to it default to none. `NotFound` for an unknown department.
    async fn delete_department(
        &self,
        tenant: TenantId,
        department: DepartmentId,
    ) -> StoreResult<()>;
    /// The tenant's departments with their members, by name.
    async fn list_departments(&self, tenant: TenantId) -> StoreResult<Vec<Department>>;
    /// The tenant's routing settings (defaults for a tenant that never set them).
    async fn fetch_routing_settings(&self, tenant: TenantId) -> StoreResult<RoutingSettings>;
    /// Replaces the tenant's routing settings; `NotFound` for an unknown tenant.
    async fn update_routing_settings(
        &self,
        tenant: TenantId,
        settings: &RoutingSettings,
    ) -> StoreResult<()>;
    /// Every enabled operator of the tenant with their active chats, limit in force and
    /// last assignment, oldest account first.
    async fn operator_loads(&self, tenant: TenantId) -> StoreResult<Vec<OperatorLoad>>;
    /// A queued conversation's place in its queue (1 = next), counting the queued
    /// conversations of the same department (or the general queue) created before it
    /// (ties by id). `None` when it is not queued; `NotFound` when unknown.
    async fn queue_position(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Option<u64>>;
    /// When conversations of one queue (`None`: the general queue) were last assigned
    /// (accepted, assigned or transferred), at or after `since`, newest first, at most
    /// 100.
    async fn recent_assignments(
        &self,
        tenant: TenantId,
        department: Option<DepartmentId>,
        since: Timestamp,
    ) -> StoreResult<Vec<Timestamp>>;
    /// The tenant's open (`queued` or `active`) conversations, oldest first, at most
    /// `limit`.
    async fn list_open_conversations(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> StoreResult<Vec<Conversation>>;
    /// Active conversations that the server assigned (`Assign`, automatic `Transfer`)
    /// between `assigned_after` (exclusive) and `assigned_before` (inclusive) and to which
    /// the owner has written nothing since, oldest assignment first.
    async fn list_unanswered_conversations(
        &self,
        tenant: TenantId,
        assigned_after: Timestamp,
        assigned_before: Timestamp,
    ) -> StoreResult<Vec<Conversation>>;
    /// Operators who joined the conversation without owning it (`Join`), in join order.
    async fn list_participants(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<OperatorId>>;
}

/// Everything a livehelp node needs from its database.
pub trait Store:
    EntryStore
    + TenantStore
    + SiteStore
    + OperatorStore
    + VisitorStore
    + ConversationStore
    + AuditStore
    + RoutingStore
    + ToolStore
    + SurveyStore
    + SiteFormStore
    + TicketStore
    + SupportRequestStore
    + PageViewStore
    + ReportStore
    + VisitorDetailStore
    + ArchiveStore
{
}

impl<T> Store for T where
    T: EntryStore
        + TenantStore
        + SiteStore
        + OperatorStore
        + VisitorStore
        + ConversationStore
        + AuditStore
        + RoutingStore
        + ToolStore
        + SurveyStore
        + SiteFormStore
        + TicketStore
        + SupportRequestStore
        + PageViewStore
        + ReportStore
        + VisitorDetailStore
        + ArchiveStore
{
}
