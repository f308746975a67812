//! REST bodies of the per-site forms and tickets: the pre-chat form an admin designs and
//! a visitor answers, business hours, offline-message tickets (B4) and platform support
//! requests (M5). Error answers for refused fields carry `fields` (field key → message) in
//! [`crate::rest::ErrorBody`] and in the WebSocket `error` frame.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One custom question of the pre-chat form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrechatFieldDto {
    /// Key the answer is sent and stored under: 1 to 40 of `[a-z0-9_]`.
    pub key: String,
    /// Label shown to the visitor.
    pub label: String,
    /// `text`, `number` (whole number), `checkbox` or `select`.
    pub kind: String,
    /// Must be answered (a required checkbox must be ticked: a consent box).
    #[serde(default)]
    pub required: bool,
    /// For `select`: the options, in order. Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// A site's pre-chat form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrechatFormDto {
    /// The name field: `hidden`, `optional` or `required`.
    #[serde(default = "hidden")]
    pub name: String,
    /// The email field: `hidden`, `optional` or `required`.
    #[serde(default = "hidden")]
    pub email: String,
    /// Custom questions, in display order.
    #[serde(default)]
    pub fields: Vec<PrechatFieldDto>,
    /// Minimum age: needs a `number` field with key `age`, which is then required.
    #[serde(default)]
    pub min_age: Option<u8>,
}

impl Default for PrechatFormDto {
    fn default() -> Self {
        Self {
            name: hidden(),
            email: hidden(),
            fields: Vec::new(),
            min_age: None,
        }
    }
}

fn hidden() -> String {
    "hidden".to_owned()
}

/// A site's weekly business hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHoursDto {
    /// IANA time zone, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// Seven days, Monday first; each a list of `[open, close)` spans in minutes since
    /// local midnight (0..=1440). An empty day is closed.
    pub days: Vec<Vec<[u16; 2]>>,
}

/// `GET`/`PUT /api/v1/sites/{id}/forms` body and answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteFormsDto {
    /// The pre-chat form (an empty form asks nothing).
    #[serde(default)]
    pub prechat: PrechatFormDto,
    /// Business hours; `null` or absent means always open.
    #[serde(default)]
    pub business_hours: Option<BusinessHoursDto>,
}

/// One answered pre-chat question, as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrechatAnswerDto {
    /// The field's key.
    pub key: String,
    /// Its label when the visitor answered.
    pub label: String,
    /// The answer: a string, a whole number or a boolean.
    pub value: serde_json::Value,
}

/// `GET /api/v1/conversations/{id}/prechat` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrechatAnswersDto {
    /// Whether the visitor filled a pre-chat form for this conversation.
    pub answered: bool,
    /// The name given, if any.
    pub name: Option<String>,
    /// The email given, if any.
    pub email: Option<String>,
    /// Custom answers, in the form's order.
    pub answers: Vec<PrechatAnswerDto>,
}

/// `POST /api/v1/visitor/chats` body (the REST twin of the `start_chat` frame).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartChatRequest {
    /// Idempotency key.
    pub client_msg_id: Uuid,
    /// Pre-chat answers: an object, field key → value.
    #[serde(default)]
    pub prechat: Option<serde_json::Value>,
    /// The department chosen (as for `start_chat`).
    #[serde(default)]
    pub department_id: Option<Uuid>,
}

/// `POST /api/v1/visitor/chats` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartChatResponse {
    /// The (new or already open) conversation.
    pub conversation_id: Uuid,
    /// The `chat_requested` message.
    pub message_id: Uuid,
    /// Its `seq` (1).
    pub seq: i64,
}

/// `POST /api/v1/sites/{site_key}/tickets` body: an offline message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    /// Name in any format, optional.
    #[serde(default)]
    pub name: Option<String>,
    /// Email to answer to (must have `@` and a domain).
    pub email: String,
    /// The message, 1 to 5,000 characters.
    pub message: String,
}

/// `POST /api/v1/sites/{site_key}/tickets` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedDto {
    /// The new record's id.
    pub id: Uuid,
}

/// A ticket as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDto {
    /// Id.
    pub id: Uuid,
    /// Site it was left on.
    pub site_id: Uuid,
    /// Name given, if any.
    pub name: Option<String>,
    /// Email to answer to.
    pub email: String,
    /// The message.
    pub message: String,
    /// `open` or `solved`.
    pub status: String,
    /// Left at, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// Last status change, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

/// An operator's note on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketNoteDto {
    /// Id.
    pub id: Uuid,
    /// Author's display name.
    pub author_name: String,
    /// The note.
    pub text: String,
    /// Written at, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// `GET /api/v1/tickets` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketListResponse {
    /// Newest first.
    pub tickets: Vec<TicketDto>,
}

/// `GET /api/v1/tickets/{id}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDetailResponse {
    /// The ticket.
    pub ticket: TicketDto,
    /// Operator notes, oldest first.
    pub notes: Vec<TicketNoteDto>,
}

/// `PATCH /api/v1/tickets/{id}` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicketRequest {
    /// `open` or `solved` (required; a missing one is refused after the ticket is found).
    #[serde(default)]
    pub status: Option<String>,
}

/// `POST /api/v1/tickets/{id}/notes` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketNoteRequest {
    /// The note, 1 to 5,000 characters.
    #[serde(default)]
    pub text: String,
}

/// `POST /api/v1/support-requests` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSupportRequest {
    /// Requester's email.
    pub email: String,
    /// The requester's site, `http(s)://host...`.
    pub site_url: String,
    /// What is wrong, 1 to 5,000 characters.
    pub description: String,
}
