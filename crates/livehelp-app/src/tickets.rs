//! Tickets: offline messages visitors leave when nobody can chat (B4), which the
//! tenant's operators list, read, solve, reopen and annotate; and the platform's own
//! support requests (M5), which no tenant role can reach: only the platform's CLI (run by
//! the platform's staff on the server) reads them.

use livehelp_domain::tickets::{
    MAX_NOTE_CHARS, MAX_TICKET_CHARS, check_email, check_long_text, check_site_url,
};
use livehelp_domain::{
    FieldError, SupportRequest, SupportRequestId, TenantStatus, Ticket, TicketId, TicketNote,
    TicketNoteId, TicketStatus, VisitorName,
};
use livehelp_store::TicketQuery;
use time::OffsetDateTime;

use crate::{App, AppError, FormKind, OperatorPrincipal, SiteAccess};

/// Most tickets or support requests one list returns.
pub const MAX_TICKET_LIST: u32 = 200;

/// What a visitor types into the offline form.
#[derive(Debug, Clone, Default)]
pub struct NewTicket {
    /// Name in any format, optional.
    pub name: Option<String>,
    /// Email to answer to.
    pub email: String,
    /// The message.
    pub message: String,
}

/// What a requester types into the platform's support form.
#[derive(Debug, Clone, Default)]
pub struct NewSupportRequest {
    /// Email.
    pub email: String,
    /// Their site's address.
    pub site_url: String,
    /// What is wrong.
    pub description: String,
}

impl App {
    /// A visitor leaves an offline message on the site with `site_key`. Same door rules as
    /// a visitor session (allowed origin, TLS when required, tenant not suspended); every
    /// field is checked and all refusals come back at once (`InvalidFields`).
    pub async fn create_ticket(
        &self,
        site_key: &str,
        access: &SiteAccess,
        input: NewTicket,
        now: OffsetDateTime,
    ) -> Result<Ticket, AppError> {
        let site = self
            .find_site(site_key)
            .await?
            .ok_or(AppError::SiteNotFound)?;
        access.check(&site)?;
        let tenant = self.store.fetch_tenant(site.tenant_id).await?;
        if tenant.status != TenantStatus::Active {
            return Err(AppError::TenantSuspended);
        }
        let mut errors = Vec::new();
        let name = match VisitorName::parse_optional(input.name) {
            Ok(name) => name.map(|name| name.as_str().to_owned()),
            Err(error) => {
                errors.push(FieldError::new("name", error.to_string()));
                None
            }
        };
        let email = check_email("email", &input.email).map_err(|e| errors.push(e));
        let message = check_long_text("message", &input.message, MAX_TICKET_CHARS)
            .map_err(|e| errors.push(e));
        let (Ok(email), Ok(message), true) = (email, message, errors.is_empty()) else {
            return Err(AppError::InvalidFields {
                form: FormKind::Ticket,
                fields: errors,
            });
        };
        let ticket = Ticket {
            id: TicketId::new(),
            tenant_id: site.tenant_id,
            site_id: site.id,
            name,
            email,
            message,
            status: TicketStatus::Open,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_ticket(site.tenant_id, &ticket).await?;
        Ok(ticket)
    }

    /// The tenant's tickets, newest first, optionally only `open` or `solved` (any
    /// operator of the tenant).
    pub async fn tickets(
        &self,
        operator: &OperatorPrincipal,
        status: Option<TicketStatus>,
        limit: u32,
    ) -> Result<Vec<Ticket>, AppError> {
        let query = TicketQuery {
            status,
            limit: limit.clamp(1, MAX_TICKET_LIST),
        };
        Ok(self.store.list_tickets(operator.tenant_id, &query).await?)
    }

    /// One ticket of the tenant with its notes; another tenant's is `NotFound`.
    pub async fn ticket(
        &self,
        operator: &OperatorPrincipal,
        ticket: TicketId,
    ) -> Result<(Ticket, Vec<TicketNote>), AppError> {
        let found = self.store.fetch_ticket(operator.tenant_id, ticket).await?;
        let notes = self
            .store
            .list_ticket_notes(operator.tenant_id, ticket)
            .await?;
        Ok((found, notes))
    }

    /// Marks a ticket solved or open again.
    pub async fn set_ticket_status(
        &self,
        operator: &OperatorPrincipal,
        ticket: TicketId,
        status: TicketStatus,
        now: OffsetDateTime,
    ) -> Result<(Ticket, Vec<TicketNote>), AppError> {
        self.store
            .update_ticket_status(operator.tenant_id, ticket, status, now)
            .await?;
        self.ticket(operator, ticket).await
    }

    /// Adds an operator note (seen only by operators) to a ticket.
    pub async fn add_ticket_note(
        &self,
        operator: &OperatorPrincipal,
        ticket: TicketId,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<(Ticket, Vec<TicketNote>), AppError> {
        // Another tenant's ticket is "not found" before the text is looked at.
        self.store.fetch_ticket(operator.tenant_id, ticket).await?;
        let text = check_long_text("text", text, MAX_NOTE_CHARS).map_err(|error| {
            AppError::InvalidFields {
                form: FormKind::Ticket,
                fields: vec![error],
            }
        })?;
        let note = TicketNote {
            id: TicketNoteId::new(),
            ticket_id: ticket,
            operator_id: operator.operator_id,
            author_name: operator.display_name.clone(),
            text,
            created_at: now,
        };
        self.store
            .insert_ticket_note(operator.tenant_id, &note)
            .await?;
        self.ticket(operator, ticket).await
    }

    /// Someone asks the platform for technical support (public form). Every field is
    /// checked and all refusals come back at once (`InvalidFields`).
    pub async fn create_support_request(
        &self,
        input: NewSupportRequest,
        now: OffsetDateTime,
    ) -> Result<SupportRequest, AppError> {
        let mut errors = Vec::new();
        let email = check_email("email", &input.email).map_err(|e| errors.push(e));
        let site_url = check_site_url("site_url", &input.site_url).map_err(|e| errors.push(e));
        let description = check_long_text("description", &input.description, MAX_TICKET_CHARS)
            .map_err(|e| errors.push(e));
        let (Ok(email), Ok(site_url), Ok(description)) = (email, site_url, description) else {
            return Err(AppError::InvalidFields {
                form: FormKind::SupportRequest,
                fields: errors,
            });
        };
        let request = SupportRequest {
            id: SupportRequestId::new(),
            email,
            site_url,
            description,
            status: TicketStatus::Open,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_support_request(&request).await?;
        Ok(request)
    }

    /// Support requests, newest first (platform scope: the CLI only).
    pub async fn support_requests(
        &self,
        status: Option<TicketStatus>,
        limit: u32,
    ) -> Result<Vec<SupportRequest>, AppError> {
        Ok(self
            .store
            .list_support_requests(status, limit.clamp(1, 10_000))
            .await?)
    }

    /// One support request (platform scope).
    pub async fn support_request(&self, id: SupportRequestId) -> Result<SupportRequest, AppError> {
        Ok(self.store.fetch_support_request(id).await?)
    }

    /// Marks a support request solved or open (platform scope).
    pub async fn set_support_request_status(
        &self,
        id: SupportRequestId,
        status: TicketStatus,
        now: OffsetDateTime,
    ) -> Result<SupportRequest, AppError> {
        self.store
            .update_support_request_status(id, status, now)
            .await?;
        self.support_request(id).await
    }
}
