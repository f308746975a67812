//! livehelp's domain model: identifiers, entities, the conversation state machine and
//! validated newtypes (names, message text, emails, site keys).
//!
//! This crate does no IO. Its functions are deterministic and take the current time as a
//! parameter when they need it, so every rule here can be unit- and property-tested.

pub mod conversation;
pub mod entities;
pub mod ids;
pub mod survey;
pub mod text;

pub use conversation::{ConversationState, EndReason, Transition, TransitionError};
pub use entities::{
    AuditActor, AuditEntry, BrowserInfo, Conversation, Message, MessageAuthor, MessageKind,
    NewMessage, Operator, OperatorSession, OperatorStatus, PageRef, PasswordReset, PlatformAdmin,
    Role, Site, SystemEvent, Tenant, TenantStatus, Visitor, VisitorSession,
};
pub use ids::{
    AuditEntryId, ConversationId, MessageId, OperatorId, PlatformAdminId, QuestionId, SessionId,
    SiteId, SurveyId, SurveyResponseId, TenantId, VisitorId, VisitorSessionId,
};
pub use survey::{
    Answer, CheckedSubmission, Question, QuestionKind, RawAnswer, SubmissionError, Survey,
    SurveyResponse,
};
pub use text::{Email, MessageText, SiteKey, TextError, VisitorName};

/// A UTC instant. Stored and sent with microsecond precision or better.
pub type Timestamp = time::OffsetDateTime;
