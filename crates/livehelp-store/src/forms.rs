//! Storage for the per-site forms and for tickets: a site's pre-chat form and business
//! hours ([`SiteFormStore`]), the pre-chat answers stored with a conversation, a tenant's
//! offline-message tickets and their notes ([`TicketStore`]), and the platform's own
//! support requests ([`SupportRequestStore`], platform scope: no tenant).
//!
//! Form settings and pre-chat answers are JSON documents written and read by
//! `livehelp-app` (which owns their shape); the stores keep them as they are.

use async_trait::async_trait;
use livehelp_domain::{
    ConversationId, SiteId, SupportRequest, SupportRequestId, TenantId, Ticket, TicketId,
    TicketNote, TicketStatus, Timestamp,
};

use crate::StoreResult;

/// A site's form settings, each a JSON document owned by `livehelp-app`; `None` = unset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SiteForms {
    /// The pre-chat form.
    pub prechat: Option<String>,
    /// Weekly business hours and their time zone.
    pub business_hours: Option<String>,
}

/// Per-site form settings and the pre-chat answers of conversations.
#[async_trait]
pub trait SiteFormStore: Send + Sync {
    /// The site's form settings (all `None` when never set); `NotFound` for an unknown
    /// site of this tenant.
    async fn fetch_site_forms(&self, tenant: TenantId, site: SiteId) -> StoreResult<SiteForms>;
    /// Replaces the site's form settings; `NotFound` for an unknown site of this tenant.
    async fn update_site_forms(
        &self,
        tenant: TenantId,
        site: SiteId,
        forms: &SiteForms,
    ) -> StoreResult<()>;
    /// The pre-chat answers stored when the conversation opened (the JSON document given
    /// to `AppendEffect::Open`), `None` if there were none; `NotFound` for an unknown
    /// conversation of this tenant.
    async fn fetch_conversation_prechat(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Option<String>>;
}

/// Which tickets [`TicketStore::list_tickets`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketQuery {
    /// Only this status, or all.
    pub status: Option<TicketStatus>,
    /// At most this many (the caller caps it).
    pub limit: u32,
}

/// A tenant's offline-message tickets and their operator notes.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Stores a new ticket; `NotFound` if its site is not one of this tenant's.
    async fn insert_ticket(&self, tenant: TenantId, ticket: &Ticket) -> StoreResult<()>;
    /// The ticket, or `NotFound`.
    async fn fetch_ticket(&self, tenant: TenantId, ticket: TicketId) -> StoreResult<Ticket>;
    /// The tenant's tickets matching `query`, newest first (by `created_at`, then id).
    async fn list_tickets(&self, tenant: TenantId, query: &TicketQuery)
    -> StoreResult<Vec<Ticket>>;
    /// Sets a ticket's status and `updated_at`; `NotFound` for an unknown ticket.
    async fn update_ticket_status(
        &self,
        tenant: TenantId,
        ticket: TicketId,
        status: TicketStatus,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Adds a note; `NotFound` if the ticket (or the operator) is not this tenant's.
    async fn insert_ticket_note(&self, tenant: TenantId, note: &TicketNote) -> StoreResult<()>;
    /// The ticket's notes, oldest first; empty for an unknown ticket.
    async fn list_ticket_notes(
        &self,
        tenant: TenantId,
        ticket: TicketId,
    ) -> StoreResult<Vec<TicketNote>>;
}

/// Support requests to the platform (M5). Platform scope: only platform-admin paths
/// (the CLI) read them, and no tenant id can reach them.
#[async_trait]
pub trait SupportRequestStore: Send + Sync {
    /// Stores a new request.
    async fn insert_support_request(&self, request: &SupportRequest) -> StoreResult<()>;
    /// The request, or `NotFound`.
    async fn fetch_support_request(&self, id: SupportRequestId) -> StoreResult<SupportRequest>;
    /// Requests with this status (or all), newest first, at most `limit`.
    async fn list_support_requests(
        &self,
        status: Option<TicketStatus>,
        limit: u32,
    ) -> StoreResult<Vec<SupportRequest>>;
    /// Sets a request's status; `NotFound` for an unknown one.
    async fn update_support_request_status(
        &self,
        id: SupportRequestId,
        status: TicketStatus,
        now: Timestamp,
    ) -> StoreResult<()>;
}
