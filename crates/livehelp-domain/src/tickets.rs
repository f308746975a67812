//! Tickets: offline messages a visitor leaves when nobody can chat (B4), the notes
//! operators add to them, and the platform's own support requests (M5), which belong to
//! no tenant and only platform admins see.

use crate::ids::{OperatorId, SiteId, SupportRequestId, TenantId, TicketId, TicketNoteId};
use crate::text::Email;
use crate::{FieldError, Timestamp};

/// Whether a ticket still needs work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    /// Waiting for an operator.
    Open,
    /// Dealt with.
    Solved,
}

impl TicketStatus {
    /// `open` or `solved`.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Solved => "solved",
        }
    }

    /// The status named by [`TicketStatus::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "open" => Some(TicketStatus::Open),
            "solved" => Some(TicketStatus::Solved),
            _ => None,
        }
    }
}

/// Longest ticket message or support description, in chars.
pub const MAX_TICKET_CHARS: usize = 5000;
/// Longest operator note, in chars.
pub const MAX_NOTE_CHARS: usize = 5000;

/// An offline message left on a tenant's site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Id.
    pub id: TicketId,
    /// Owner.
    pub tenant_id: TenantId,
    /// Site it was left on.
    pub site_id: SiteId,
    /// Name given (any format), if any.
    pub name: Option<String>,
    /// Email to answer to.
    pub email: String,
    /// The message, 1 to [`MAX_TICKET_CHARS`] chars.
    pub message: String,
    /// Open or solved.
    pub status: TicketStatus,
    /// When it was left.
    pub created_at: Timestamp,
    /// Last status change (or creation).
    pub updated_at: Timestamp,
}

/// An operator's note on a ticket; only operators see notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketNote {
    /// Id.
    pub id: TicketNoteId,
    /// The ticket.
    pub ticket_id: TicketId,
    /// Who wrote it.
    pub operator_id: OperatorId,
    /// Their display name when writing.
    pub author_name: String,
    /// The note.
    pub text: String,
    /// When.
    pub created_at: Timestamp,
}

/// A support request to the platform itself (M5). Not a tenant's: no tenant id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportRequest {
    /// Id.
    pub id: SupportRequestId,
    /// Requester's email.
    pub email: String,
    /// Address of the requester's site (`http`/`https` with a host).
    pub site_url: String,
    /// What is wrong, 1 to [`MAX_TICKET_CHARS`] chars.
    pub description: String,
    /// Open or solved.
    pub status: TicketStatus,
    /// When it arrived.
    pub created_at: Timestamp,
    /// Last status change (or creation).
    pub updated_at: Timestamp,
}

/// Checks an email field: `Ok(normalised)` or a field error on `field`.
pub fn check_email(field: &str, email: &str) -> Result<String, FieldError> {
    Email::parse(email)
        .map(|email| email.as_str().to_owned())
        .map_err(|_| {
            FieldError::new(
                field,
                "an email address has an @ and a domain, like name@example.com",
            )
        })
}

/// Checks a long text field: 1 to `max` chars, not blank, no control characters other
/// than tab and line breaks. Kept as typed.
pub fn check_long_text(field: &str, text: &str, max: usize) -> Result<String, FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new(field, "this field is required"));
    }
    let length = text.chars().count();
    if length > max {
        return Err(FieldError::new(
            field,
            format!("at most {max} characters (this is {length})"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(FieldError::new(field, "contains a control character"));
    }
    Ok(text.to_owned())
}

/// Checks a site address: `http://` or `https://` with a host, at most 2,048 bytes, no
/// spaces or control characters.
pub fn check_site_url(field: &str, url: &str) -> Result<String, FieldError> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let host = rest
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .map(|authority| authority.rsplit('@').next().unwrap_or(""))
        .map(|host| host.split(':').next().unwrap_or(""))
        .unwrap_or("");
    let ok = !host.is_empty()
        && url.len() <= 2048
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(url.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "a site address starts with http:// or https:// and names a host, like https://shop.example.com",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked_with_field_errors() {
        assert!(check_email("email", "nobody").is_err());
        assert!(check_email("email", "a@b").is_err());
        assert!(check_email("email", "a@b.test").is_ok());
        assert!(check_site_url("site_url", "shop.example.com").is_err());
        assert!(check_site_url("site_url", "https://").is_err());
        assert!(check_site_url("site_url", "ftp://x.test").is_err());
        assert!(check_site_url("site_url", "https://shop.test/page").is_ok());
        assert!(check_long_text("message", " ", 10).is_err());
        assert!(check_long_text("message", &"x".repeat(11), 10).is_err());
        assert_eq!(
            check_long_text("message", "é".repeat(10).as_str(), 10).as_deref(),
            Ok("é".repeat(10).as_str())
        );
    }
}
