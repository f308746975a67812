//! REST request and response bodies (JSON).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ConversationDto, ErrorCode, MessageDto};

/// `POST /api/v1/sites/{site_key}/visitor-sessions` body. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVisitorSessionRequest {
    /// The name the visitor chose to give, in any format, or none.
    #[serde(default)]
    pub name: Option<String>,
}

/// Answer to a new visitor session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorSessionResponse {
    /// Secret bearer token for `GET /api/v1/ws/visitor?token=...` (256 random bits,
    /// base64url). The server keeps only its SHA-256.
    pub visitor_token: String,
    /// The visitor's id.
    pub visitor_id: Uuid,
    /// The name as stored (outer whitespace removed), if any.
    pub name: Option<String>,
    /// The tenant's privacy-policy address, if set (M19).
    pub privacy_policy_url: Option<String>,
}

/// `POST /api/v1/auth/login` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// Answer to a login (the session itself is in the `Set-Cookie` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// The operator's id.
    pub operator_id: Uuid,
    /// The operator's tenant.
    pub tenant_id: Uuid,
    /// Name shown to visitors.
    pub display_name: String,
    /// `admin`, `supervisor` or `operator`.
    pub role: String,
}

/// `GET /api/v1/conversations/{id}/transcript` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptResponse {
    /// The conversation.
    pub conversation: ConversationDto,
    /// Every message, in `seq` order.
    pub messages: Vec<MessageDto>,
}

/// Body of every REST error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code.
    pub code: ErrorCode,
    /// Human-readable detail.
    pub message: String,
}
