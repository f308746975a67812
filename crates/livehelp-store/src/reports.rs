//! [`ReportStore`]: what the tenant's reports read (PRODUCT.md M18), and
//! [`VisitorDetailStore`]: the name and email a visitor gave, as they see and correct them
//! (M16).
//!
//! Reports read one bounded list of per-conversation facts for a range (creation, end,
//! owner, first operator message) and the instants of offline messages; `livehelp-app`
//! turns them into per-day counts, percentiles, hours and per-operator counts, so both
//! backends answer the same figures from the same arithmetic. Every method is scoped by
//! the tenant; the platform's cross-tenant figures are built by calling them per tenant.

use async_trait::async_trait;
use livehelp_domain::{
    ConversationId, Email, OperatorId, SiteId, TenantId, Timestamp, VisitorId, VisitorName,
};

use crate::StoreResult;

/// What a report needs to know about one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationFacts {
    /// The conversation.
    pub id: ConversationId,
    /// Its site.
    pub site_id: SiteId,
    /// When the visitor asked for it.
    pub created_at: Timestamp,
    /// When it ended, if it has.
    pub ended_at: Option<Timestamp>,
    /// Its owner now (the last operator it was assigned to), if any.
    pub operator_id: Option<OperatorId>,
    /// When the first message of kind `operator` (typed by an operator, seen by the
    /// visitor; not a system event or a whisper) was written, if any.
    pub first_operator_message_at: Option<Timestamp>,
}

/// The name and email a visitor gave (either may be absent).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VisitorDetails {
    /// The name, if any.
    pub name: Option<VisitorName>,
    /// The email, if any.
    pub email: Option<Email>,
}

/// One visitor found by [`VisitorDetailStore::find_visitors`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorMatch {
    /// The visitor.
    pub id: VisitorId,
    /// Their tenant.
    pub tenant_id: TenantId,
    /// Their details as stored.
    pub details: VisitorDetails,
    /// When they first came.
    pub created_at: Timestamp,
}

/// How [`VisitorDetailStore::find_visitors`] matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitorSearch {
    /// Visitors whose stored email is this one (emails are kept lower-case).
    Email(Email),
    /// Visitors whose name is this one, compared without regard to ASCII case (SQLite's
    /// `lower()` folds only ASCII; PostgreSQL's folds more, which finds a superset).
    Name(VisitorName),
}

/// Reads behind the tenant's reports.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// The tenant's conversations created in `[from, to)`, oldest first (by `created_at`,
    /// then id), at most `limit`, with the facts a report needs.
    async fn list_conversation_facts(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<ConversationFacts>>;
    /// When the tenant's offline messages (tickets) created in `[from, to)` were created,
    /// oldest first, at most `limit`.
    async fn list_ticket_instants(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Timestamp>>;
}

/// A visitor's name and email (M16).
#[async_trait]
pub trait VisitorDetailStore: Send + Sync {
    /// The visitor's name and email; `NotFound` for a visitor not of this tenant.
    async fn fetch_visitor_details(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
    ) -> StoreResult<VisitorDetails>;
    /// Replaces the visitor's name and email (both, `None` clears); `NotFound` for a
    /// visitor not of this tenant.
    async fn update_visitor_details(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
        details: &VisitorDetails,
    ) -> StoreResult<()>;
    /// The tenant's visitors matching `search`, oldest first (by `created_at`, then id),
    /// at most `limit`.
    async fn find_visitors(
        &self,
        tenant: TenantId,
        search: &VisitorSearch,
        limit: u32,
    ) -> StoreResult<Vec<VisitorMatch>>;
}
