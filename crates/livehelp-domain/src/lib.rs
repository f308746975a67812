//! livehelp's domain model: identifiers, entities, the conversation state machine and
//! validated newtypes (names, message text, emails, site keys).
//!
//! This crate does no IO. Its functions are deterministic and take the current time as a
//! parameter when they need it, so every rule here can be unit- and property-tested.

pub mod conversation;
pub mod entities;
pub mod forms;
pub mod ids;
pub mod routing;
pub mod survey;
pub mod text;
pub mod tickets;
pub mod tools;

pub use conversation::{ConversationState, EndReason, Transition, TransitionError};
pub use entities::{
    AuditActor, AuditEntry, BrowserInfo, Conversation, Message, MessageAuthor, MessageKind,
    NewMessage, Operator, OperatorSession, OperatorStatus, PageRef, PasswordReset, PlatformAdmin,
    Role, Site, SystemEvent, Tenant, TenantStatus, Visitor, VisitorSession,
};
pub use forms::{
    AnswerValue, BusinessHours, CustomField, FieldError, FieldKind, FieldRule, OpenSpan,
    PrechatAnswers, PrechatForm, RawValue,
};
pub use ids::{
    AuditEntryId, CannedResponseId, ConversationId, DepartmentId, MessageId, NoteId, OperatorId,
    PlatformAdminId, QuestionId, SessionId, SiteId, SurveyId, SurveyResponseId, TenantId,
    VisitorId, VisitorSessionId,
};
pub use ids::{SupportRequestId, TicketId, TicketNoteId};
pub use routing::{Department, OperatorLoad, RoutingMode, RoutingSettings};
pub use survey::{
    Answer, CheckedSubmission, Question, QuestionKind, RawAnswer, SubmissionError, Survey,
    SurveyResponse,
};
pub use text::{Email, MessageText, SiteKey, TextError, VisitorName};
pub use tickets::{SupportRequest, Ticket, TicketNote, TicketStatus};
pub use tools::{CannedResponse, CannedText, Note, NoteText, Shortcut, Tag, ToolError};

/// A UTC instant. Stored and sent with microsecond precision or better.
pub type Timestamp = time::OffsetDateTime;
