//! `SiteFormStore`, `TicketStore` and `SupportRequestStore` for [`SqliteStore`]: site form
//! settings, the pre-chat answers stored on conversations, offline-message tickets with
//! their notes, and platform support requests. All on the pool (none is a conversation
//! append; the pre-chat answers themselves are written by the append that opens the
//! conversation, in `append.rs`).

use async_trait::async_trait;
use livehelp_domain::{
    ConversationId, OperatorId, SiteId, SupportRequest, SupportRequestId, TenantId, Ticket,
    TicketId, TicketNote, TicketNoteId, TicketStatus, Timestamp,
};
use livehelp_store::{
    SiteFormStore, SiteForms, StoreError, StoreResult, SupportRequestStore, TicketQuery,
    TicketStore,
};
use sqlx::FromRow;
use uuid::Uuid;

use crate::SqliteStore;
use crate::accounts::same_tenant;
use crate::error::store_error;
use crate::rows::{CorruptRow, from_micros, to_micros};

#[async_trait]
impl SiteFormStore for SqliteStore {
    async fn fetch_site_forms(&self, tenant: TenantId, site: SiteId) -> StoreResult<SiteForms> {
        let row: Option<(Option<Vec<u8>>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT s.id, f.prechat, f.business_hours FROM sites s \
             LEFT JOIN site_forms f ON f.tenant_id = s.tenant_id AND f.site_id = s.id \
             WHERE s.tenant_id = $1 AND s.id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(site.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        let (_, prechat, business_hours) = row.ok_or(StoreError::NotFound)?;
        Ok(SiteForms {
            prechat,
            business_hours,
        })
    }

    async fn update_site_forms(
        &self,
        tenant: TenantId,
        site: SiteId,
        forms: &SiteForms,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "INSERT INTO site_forms (tenant_id, site_id, prechat, business_hours) \
             SELECT tenant_id, id, $3, $4 FROM sites WHERE tenant_id = $1 AND id = $2 \
             ON CONFLICT (tenant_id, site_id) DO UPDATE \
             SET prechat = excluded.prechat, business_hours = excluded.business_hours",
        )
        .bind(tenant.as_uuid())
        .bind(site.as_uuid())
        .bind(&forms.prechat)
        .bind(&forms.business_hours)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn fetch_conversation_prechat(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT prechat FROM conversations WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_uuid())
                .bind(conversation.as_uuid())
                .fetch_optional(self.pool())
                .await
                .map_err(store_error)?;
        row.map(|(prechat,)| prechat).ok_or(StoreError::NotFound)
    }
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn insert_ticket(&self, tenant: TenantId, ticket: &Ticket) -> StoreResult<()> {
        same_tenant(tenant, ticket.tenant_id, "ticket")?;
        let done = sqlx::query(
            "INSERT INTO tickets \
             (id, tenant_id, site_id, name, email, message, status, created_at, updated_at) \
             SELECT $1, tenant_id, id, $4, $5, $6, $7, $8, $9 FROM sites \
             WHERE tenant_id = $2 AND id = $3",
        )
        .bind(ticket.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(ticket.site_id.as_uuid())
        .bind(&ticket.name)
        .bind(&ticket.email)
        .bind(&ticket.message)
        .bind(ticket.status.as_str())
        .bind(to_micros(ticket.created_at))
        .bind(to_micros(ticket.updated_at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn fetch_ticket(&self, tenant: TenantId, ticket: TicketId) -> StoreResult<Ticket> {
        sqlx::query_as::<_, TicketRow>("SELECT * FROM tickets WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(ticket.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?
            .try_into()
            .map_err(StoreError::from)
    }

    async fn list_tickets(
        &self,
        tenant: TenantId,
        query: &TicketQuery,
    ) -> StoreResult<Vec<Ticket>> {
        let rows = sqlx::query_as::<_, TicketRow>(
            "SELECT * FROM tickets WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2) \
             ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(tenant.as_uuid())
        .bind(query.status.map(TicketStatus::as_str))
        .bind(i64::from(query.limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| row.try_into().map_err(StoreError::from))
            .collect()
    }

    async fn update_ticket_status(
        &self,
        tenant: TenantId,
        ticket: TicketId,
        status: TicketStatus,
        now: Timestamp,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE tickets SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(ticket.as_uuid())
        .bind(status.as_str())
        .bind(to_micros(now))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn insert_ticket_note(&self, tenant: TenantId, note: &TicketNote) -> StoreResult<()> {
        let done = sqlx::query(
            "INSERT INTO ticket_notes \
             (id, tenant_id, ticket_id, operator_id, author_name, text, created_at) \
             SELECT $1, t.tenant_id, t.id, o.id, $5, $6, $7 FROM tickets t \
             JOIN operators o ON o.tenant_id = t.tenant_id AND o.id = $4 \
             WHERE t.tenant_id = $2 AND t.id = $3",
        )
        .bind(note.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(note.ticket_id.as_uuid())
        .bind(note.operator_id.as_uuid())
        .bind(&note.author_name)
        .bind(&note.text)
        .bind(to_micros(note.created_at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn list_ticket_notes(
        &self,
        tenant: TenantId,
        ticket: TicketId,
    ) -> StoreResult<Vec<TicketNote>> {
        let rows = sqlx::query_as::<_, TicketNoteRow>(
            "SELECT * FROM ticket_notes WHERE tenant_id = $1 AND ticket_id = $2 \
             ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .bind(ticket.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| row.try_into().map_err(StoreError::from))
            .collect()
    }
}

#[async_trait]
impl SupportRequestStore for SqliteStore {
    async fn insert_support_request(&self, request: &SupportRequest) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO support_requests \
             (id, email, site_url, description, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(request.id.as_uuid())
        .bind(&request.email)
        .bind(&request.site_url)
        .bind(&request.description)
        .bind(request.status.as_str())
        .bind(to_micros(request.created_at))
        .bind(to_micros(request.updated_at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn fetch_support_request(&self, id: SupportRequestId) -> StoreResult<SupportRequest> {
        sqlx::query_as::<_, SupportRequestRow>("SELECT * FROM support_requests WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?
            .try_into()
            .map_err(StoreError::from)
    }

    async fn list_support_requests(
        &self,
        status: Option<TicketStatus>,
        limit: u32,
    ) -> StoreResult<Vec<SupportRequest>> {
        let rows = sqlx::query_as::<_, SupportRequestRow>(
            "SELECT * FROM support_requests WHERE ($1 IS NULL OR status = $1) \
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(status.map(TicketStatus::as_str))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| row.try_into().map_err(StoreError::from))
            .collect()
    }

    async fn update_support_request_status(
        &self,
        id: SupportRequestId,
        status: TicketStatus,
        now: Timestamp,
    ) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE support_requests SET status = $2, updated_at = $3 WHERE id = $1")
                .bind(id.as_uuid())
                .bind(status.as_str())
                .bind(to_micros(now))
                .execute(self.pool())
                .await
                .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

fn status(name: &str) -> Result<TicketStatus, CorruptRow> {
    TicketStatus::from_name(name).ok_or_else(|| CorruptRow(format!("ticket status {name:?}")))
}

/// A row of `tickets`.
#[derive(FromRow)]
struct TicketRow {
    id: Uuid,
    tenant_id: Uuid,
    site_id: Uuid,
    name: Option<String>,
    email: String,
    message: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<TicketRow> for Ticket {
    type Error = CorruptRow;

    fn try_from(row: TicketRow) -> Result<Self, Self::Error> {
        Ok(Ticket {
            id: TicketId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            site_id: SiteId::from_uuid(row.site_id),
            name: row.name,
            email: row.email,
            message: row.message,
            status: status(&row.status)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}

/// A row of `ticket_notes`.
#[derive(FromRow)]
struct TicketNoteRow {
    id: Uuid,
    ticket_id: Uuid,
    operator_id: Uuid,
    author_name: String,
    text: String,
    created_at: i64,
}

impl TryFrom<TicketNoteRow> for TicketNote {
    type Error = CorruptRow;

    fn try_from(row: TicketNoteRow) -> Result<Self, Self::Error> {
        Ok(TicketNote {
            id: TicketNoteId::from_uuid(row.id),
            ticket_id: TicketId::from_uuid(row.ticket_id),
            operator_id: OperatorId::from_uuid(row.operator_id),
            author_name: row.author_name,
            text: row.text,
            created_at: from_micros(row.created_at)?,
        })
    }
}

/// A row of `support_requests`.
#[derive(FromRow)]
struct SupportRequestRow {
    id: Uuid,
    email: String,
    site_url: String,
    description: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<SupportRequestRow> for SupportRequest {
    type Error = CorruptRow;

    fn try_from(row: SupportRequestRow) -> Result<Self, Self::Error> {
        Ok(SupportRequest {
            id: SupportRequestId::from_uuid(row.id),
            email: row.email,
            site_url: row.site_url,
            description: row.description,
            status: status(&row.status)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }
}
