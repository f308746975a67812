//! Offline messages (B4) and platform support requests (M5):
//! `POST /api/v1/sites/{site_key}/tickets` (public, from the widget: origin-checked and
//! rate-limited per IP), `GET /api/v1/tickets`, `GET`/`PATCH /api/v1/tickets/{id}` and
//! `POST /api/v1/tickets/{id}/notes` (the tenant's operators), and
//! `POST /api/v1/support-requests` (public, rate-limited per IP; only the platform's CLI
//! reads them, no tenant route exists for them).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use livehelp_app::{MAX_TICKET_LIST, NewSupportRequest, NewTicket, SiteAccess};
use livehelp_domain::{Ticket, TicketId, TicketNote, TicketStatus};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::forms::{
    CreateSupportRequest, CreateTicketNoteRequest, CreateTicketRequest, CreatedDto,
    TicketDetailResponse, TicketDto, TicketListResponse, TicketNoteDto, UpdateTicketRequest,
};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::extract::{ApiJson, ClientInfo, OperatorSession, origin};
use crate::{ApiError, AppState};

/// A visitor leaves an offline message. 201 `{id}`; 422 `validation_failed` with
/// `fields` for bad input.
pub async fn create(
    State(state): State<AppState>,
    Path(site_key): Path<String>,
    headers: HeaderMap,
    client: ClientInfo,
    ApiJson(body): ApiJson<CreateTicketRequest>,
) -> Result<(StatusCode, Json<CreatedDto>), ApiError> {
    state
        .limits
        .public_form(client.browser.ip)
        .map_err(|retry| ApiError::rate_limited(retry.0))?;
    let ticket = state
        .app
        .create_ticket(
            &site_key,
            &SiteAccess {
                origin: origin(&headers).map(str::to_owned),
                secure: client.secure,
            },
            NewTicket {
                name: body.name,
                email: body.email,
                message: body.message,
            },
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedDto {
            id: ticket.id.as_uuid(),
        }),
    ))
}

/// Query string of the ticket list.
#[derive(Debug, Deserialize)]
pub struct TicketListQuery {
    /// `open` or `solved`; all when absent.
    pub status: Option<String>,
    /// At most this many (default and cap 200).
    pub limit: Option<u32>,
}

/// The tenant's tickets, newest first.
pub async fn list(
    State(state): State<AppState>,
    session: OperatorSession,
    Query(query): Query<TicketListQuery>,
) -> Result<Json<TicketListResponse>, ApiError> {
    let status = query.status.as_deref().map(status).transpose()?;
    let tickets = state
        .app
        .tickets(
            &session.operator,
            status,
            query.limit.unwrap_or(MAX_TICKET_LIST),
        )
        .await?;
    Ok(Json(TicketListResponse {
        tickets: tickets.iter().map(ticket_dto).collect(),
    }))
}

/// One ticket with its notes.
pub async fn get(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Result<Json<TicketDetailResponse>, ApiError> {
    let (ticket, notes) = state.app.ticket(&session.operator, ticket_id(&id)?).await?;
    Ok(Json(detail(&ticket, &notes)))
}

/// Marks a ticket solved or reopens it.
pub async fn update(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateTicketRequest>,
) -> Result<Json<TicketDetailResponse>, ApiError> {
    let id = ticket_id(&id)?;
    // Another tenant's ticket is "not found" whatever the body says.
    state.app.ticket(&session.operator, id).await?;
    let status = status(body.status.as_deref().unwrap_or(""))?;
    let (ticket, notes) = state
        .app
        .set_ticket_status(&session.operator, id, status, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(detail(&ticket, &notes)))
}

/// Adds an operator note.
pub async fn add_note(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateTicketNoteRequest>,
) -> Result<(StatusCode, Json<TicketDetailResponse>), ApiError> {
    let (ticket, notes) = state
        .app
        .add_ticket_note(
            &session.operator,
            ticket_id(&id)?,
            &body.text,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(detail(&ticket, &notes))))
}

/// Someone asks the platform for support. 201 `{id}`; 422 `validation_failed` with
/// `fields`.
pub async fn create_support_request(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<CreateSupportRequest>,
) -> Result<(StatusCode, Json<CreatedDto>), ApiError> {
    state
        .limits
        .support_request(client.browser.ip)
        .map_err(|retry| ApiError::rate_limited(retry.0))?;
    let request = state
        .app
        .create_support_request(
            NewSupportRequest {
                email: body.email,
                site_url: body.site_url,
                description: body.description,
            },
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedDto {
            id: request.id.as_uuid(),
        }),
    ))
}

fn ticket_id(id: &str) -> Result<TicketId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such ticket"))
}

fn status(name: &str) -> Result<TicketStatus, ApiError> {
    TicketStatus::from_name(name)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "status is open or solved"))
}

fn ticket_dto(ticket: &Ticket) -> TicketDto {
    TicketDto {
        id: ticket.id.as_uuid(),
        site_id: ticket.site_id.as_uuid(),
        name: ticket.name.clone(),
        email: ticket.email.clone(),
        message: ticket.message.clone(),
        status: ticket.status.as_str().to_owned(),
        created_at: ticket.created_at,
        updated_at: ticket.updated_at,
    }
}

fn detail(ticket: &Ticket, notes: &[TicketNote]) -> TicketDetailResponse {
    TicketDetailResponse {
        ticket: ticket_dto(ticket),
        notes: notes
            .iter()
            .map(|note| TicketNoteDto {
                id: note.id.as_uuid(),
                author_name: note.author_name.clone(),
                text: note.text.clone(),
                created_at: note.created_at,
            })
            .collect(),
    }
}
