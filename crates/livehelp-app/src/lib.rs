//! livehelp's use cases. [`App`] coordinates the store and the bus: it authenticates
//! visitors and operators into a [`Principal`], checks that the principal may act on the
//! conversation named (same tenant, own conversation, owning operator), writes through the
//! store, and publishes what changed. Handlers in `livehelp-server` call these and nothing
//! below them.

mod accounts;
mod admin;
mod auth;
pub mod browser;
mod chat;
mod details;
mod error;
mod forms;
mod page_views;
mod reports;
mod routing;
mod surveys;
mod tickets;
mod tools;
mod visitors;

use std::sync::Arc;

use livehelp_bus::Bus;
use livehelp_domain::{OperatorId, Role, SiteId, TenantId, VisitorId, VisitorSessionId};
use livehelp_store::Store;

pub use accounts::{IssuedReset, OperatorChanges, SiteChanges, check_password_policy};
pub use admin::{NewOperator, NewSite, NewTenant};
pub use auth::{
    AuthenticatedOperator, IssuedVisitorSession, LOCK_AFTER_FAILURES, LOCK_DURATION, LoginOutcome,
    hash_password, random_token, token_hash,
};
pub use chat::{
    ConversationView, MAX_LIST_LIMIT, MessagePage, PAGE_LIMIT, QUEUE_SNAPSHOT_LIMIT, Transcript,
};
pub use details::{DetailsChange, MAX_VISITOR_MATCHES};
pub use error::{AppError, FormKind};
pub use forms::{PrechatRecord, WidgetMode, field_kind};
pub use page_views::{
    MAX_KEPT_QUERY_PARAMS, MAX_PAGE_VIEW_BATCH, PageViewError, PageViewInput, TRAIL_RETENTION_DAYS,
    anonymize_ip,
};
pub use reports::{
    Cell, CsatRow, DayCounts, DurationStats, MAX_REPORT_CONVERSATIONS, MAX_REPORT_DAYS,
    MAX_REPORT_PAGES, MIN_AGGREGATE_COUNT, OperatorCount, PageViews, PlatformDay, PlatformReport,
    REPORT_TABLES, Report, ReportError, ReportRange, report_csv,
};
pub use routing::{
    BargeMode, COLD_START_SECONDS_PER_POSITION, DepartmentChanges, DepartmentInput, MAX_CHAT_LIMIT,
    MIN_RATE_WINDOW_SECONDS, OperatorOverview, Overview, QueueStatus, RoutingOptions,
    TransferTarget, check_chat_limit, estimate_wait,
};
pub use surveys::{
    MAX_RESULT_RESPONSES, OfferedSurvey, QuestionInput, QuestionResult, ResultsQuery, SurveyError,
    SurveyResults, SurveySubmission, VersionResult, survey_csv,
};
pub use tickets::{MAX_TICKET_LIST, NewSupportRequest, NewTicket};
pub use tools::{CannedChanges, CannedScope, NewCannedResponse};
pub use visitors::{NewVisitorSession, SiteAccess, VisitorInfo, VisitorSelf, WidgetConfig};

/// The application: a store, a bus and the rules. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    options: AppOptions,
    user_agents: Arc<browser::UserAgentParser>,
    router: Arc<routing::RouterState>,
}

/// Tunables of the use cases.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// How long an operator login lasts, in seconds (default 12 hours: one long shift).
    pub operator_session_seconds: i64,
    /// Grace period, unanswered-chat rule and sweep interval of routing.
    pub routing: RoutingOptions,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            operator_session_seconds: 12 * 3600,
            routing: RoutingOptions::default(),
        }
    }
}

/// An authenticated visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorPrincipal {
    /// The tenant whose site they are on.
    pub tenant_id: TenantId,
    /// The visitor.
    pub visitor_id: VisitorId,
    /// The session their token belongs to.
    pub session_id: VisitorSessionId,
    /// The site.
    pub site_id: SiteId,
    /// The name they gave, if any.
    pub name: Option<String>,
}

/// An authenticated operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorPrincipal {
    /// Their tenant.
    pub tenant_id: TenantId,
    /// The operator.
    pub operator_id: OperatorId,
    /// Their role.
    pub role: Role,
    /// Name shown to visitors.
    pub display_name: String,
}

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A visitor with a valid token.
    Visitor(VisitorPrincipal),
    /// An operator with a valid session.
    Operator(OperatorPrincipal),
}

impl Principal {
    /// The principal's tenant: the scope of everything they may touch.
    pub fn tenant_id(&self) -> TenantId {
        match self {
            Principal::Visitor(visitor) => visitor.tenant_id,
            Principal::Operator(operator) => operator.tenant_id,
        }
    }
}

impl App {
    /// Builds the application over a store and a bus.
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, options: AppOptions) -> Self {
        Self {
            store,
            bus,
            options,
            user_agents: Arc::default(),
            router: Arc::default(),
        }
    }

    /// Builds the lazily-initialised parts (the User-Agent rules, ~1.7 s unoptimised,
    /// well under a second optimised) on a blocking thread, so the first visitor panel
    /// does not wait. Call once after the server is listening.
    pub fn warm_up(&self) {
        let parser = self.user_agents.clone();
        tokio::task::spawn_blocking(move || parser.summarize(""));
    }

    /// Stops the store's writer after committing what it accepted (graceful shutdown).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// The bus, for subscriptions.
    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }
}
