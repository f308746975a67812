//! Fixtures and request builders of the conformance suite: [`Fixture`] (a fresh tenant
//! with a site, two operators and a visitor), builders for every kind of append, and
//! generators of unique keys, emails and tokens. Backends' own tests and benchmarks use
//! them too.

use std::time::Duration;

use livehelp_domain::{
    BrowserInfo, Conversation, ConversationId, Email, EndReason, MessageAuthor, MessageId,
    MessageKind, NewMessage, Operator, OperatorId, OperatorSession, OperatorStatus, Role,
    SessionId, Site, SiteId, SiteKey, SystemEvent, Tenant, TenantId, TenantStatus, Timestamp,
    Visitor, VisitorId, VisitorSession, VisitorSessionId,
};
use uuid::Uuid;

use super::expect::ok;
use crate::{AppendEffect, AppendRequest, Store};

/// A tenant with a site, two operators and one visitor, all freshly inserted. Also useful
/// to backends' own tests and benchmarks.
pub struct Fixture {
    /// The tenant (active).
    pub tenant: Tenant,
    /// Its site.
    pub site: Site,
    /// An operator (role `operator`).
    pub operator: Operator,
    /// A second operator, created after the first.
    pub other_operator: Operator,
    /// A visitor of the site, without a conversation.
    pub visitor: Visitor,
    /// The visitor's session.
    pub visitor_session: VisitorSession,
}

impl Fixture {
    /// Inserts a new tenant with its site, operators and visitor.
    pub async fn new(store: &dyn Store) -> Fixture {
        let created_at = now();
        let tenant = Tenant {
            id: TenantId::new(),
            name: "Fixture Ltd".to_owned(),
            status: TenantStatus::Active,
            created_at,
        };
        ok(store.insert_tenant(&tenant).await);
        let site = Site {
            id: SiteId::new(),
            tenant_id: tenant.id,
            key: unique_site_key(),
            name: "fixture.example".to_owned(),
            allowed_origins: vec!["https://fixture.example".to_owned()],
            privacy_policy_url: None,
            require_tls: false,
            default_department_id: None,
            created_at,
        };
        ok(store.insert_site(tenant.id, &site).await);
        let mut operators = Vec::new();
        for (index, name) in ["Olga", "Omar"].into_iter().enumerate() {
            let operator = Operator {
                id: OperatorId::new(),
                tenant_id: tenant.id,
                email: unique_email(),
                display_name: name.to_owned(),
                role: Role::Operator,
                password_hash: "$argon2id$fixture".to_owned(),
                disabled: false,
                status: OperatorStatus::Online,
                failed_logins: 0,
                locked_until: None,
                max_chats: None,
                created_at: created_at + Duration::from_micros(index as u64),
            };
            ok(store.insert_operator(tenant.id, &operator).await);
            operators.push(operator);
        }
        let other_operator = operators.pop().expect("two operators");
        let operator = operators.pop().expect("two operators");
        let mut fixture = Fixture {
            tenant,
            site,
            operator,
            other_operator,
            visitor: placeholder_visitor(),
            visitor_session: placeholder_session(),
        };
        let (visitor, session) = fixture.insert_visitor(store).await;
        fixture.visitor = visitor;
        fixture.visitor_session = session;
        fixture
    }

    /// Inserts another visitor (with a session) of the fixture's site.
    pub async fn new_visitor(&self, store: &dyn Store) -> Visitor {
        self.insert_visitor(store).await.0
    }

    async fn insert_visitor(&self, store: &dyn Store) -> (Visitor, VisitorSession) {
        let visitor = Visitor {
            id: VisitorId::new(),
            tenant_id: self.tenant.id,
            site_id: self.site.id,
            name: None,
            created_at: now(),
        };
        let session = VisitorSession {
            id: VisitorSessionId::new(),
            tenant_id: self.tenant.id,
            visitor_id: visitor.id,
            site_id: self.site.id,
            token_hash: random_token(),
            browser: BrowserInfo::default(),
            current_page: None,
            created_at: visitor.created_at,
            last_seen_at: visitor.created_at,
        };
        ok(store
            .insert_visitor(self.tenant.id, &visitor, &session)
            .await);
        (visitor, session)
    }

    /// Inserts a login session of `operator` expiring at `expires_at`.
    pub async fn operator_session(
        &self,
        store: &dyn Store,
        expires_at: Timestamp,
    ) -> OperatorSession {
        self.session_of(store, self.operator.id, now(), expires_at)
            .await
    }

    /// Inserts a login session of `operator` (one of this tenant's), created at
    /// `created_at` and expiring at `expires_at`, without IP or User-Agent.
    pub async fn session_of(
        &self,
        store: &dyn Store,
        operator: OperatorId,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> OperatorSession {
        let session = OperatorSession {
            id: SessionId::new(),
            tenant_id: self.tenant.id,
            operator_id: operator,
            token_hash: random_token(),
            csrf_token: random_csrf_token(),
            ip: None,
            user_agent: None,
            created_at,
            expires_at,
        };
        ok(store
            .insert_operator_session(self.tenant.id, &session)
            .await);
        session
    }

    /// Opens a conversation for `visitor` and returns it (queued, `last_seq` 1).
    pub async fn open(&self, store: &dyn Store, visitor: VisitorId) -> Conversation {
        let appended = ok(store
            .append(self.tenant.id, open_request(self, visitor))
            .await);
        assert!(
            !appended.duplicate,
            "the visitor already had an open conversation"
        );
        appended.conversation
    }
}

fn placeholder_visitor() -> Visitor {
    Visitor {
        id: VisitorId::new(),
        tenant_id: TenantId::new(),
        site_id: SiteId::new(),
        name: None,
        created_at: now(),
    }
}

fn placeholder_session() -> VisitorSession {
    VisitorSession {
        id: VisitorSessionId::new(),
        tenant_id: TenantId::new(),
        visitor_id: VisitorId::new(),
        site_id: SiteId::new(),
        token_hash: [0; 32],
        browser: BrowserInfo::default(),
        current_page: None,
        created_at: now(),
        last_seen_at: now(),
    }
}

/// A message with a new id, no author name, event or key, created now.
pub fn new_message(
    conversation: ConversationId,
    kind: MessageKind,
    author: MessageAuthor,
    text: &str,
) -> NewMessage {
    NewMessage {
        id: MessageId::new(),
        conversation_id: conversation,
        kind,
        author,
        author_name: None,
        text: text.to_owned(),
        event: None,
        client_msg_id: None,
        created_at: now(),
    }
}

/// `Open` for `visitor` on the fixture's site, with a new conversation id.
pub fn open_request(fixture: &Fixture, visitor: VisitorId) -> AppendRequest {
    open_with_key(fixture, visitor, None)
}

/// `Open` with an idempotency key.
pub fn open_with_key(fixture: &Fixture, visitor: VisitorId, key: Option<Uuid>) -> AppendRequest {
    let message = new_message(
        ConversationId::new(),
        MessageKind::System,
        MessageAuthor::Visitor(visitor),
        "Chat requested",
    );
    AppendRequest {
        message: NewMessage {
            event: Some(SystemEvent::ChatRequested),
            client_msg_id: key,
            ..message
        },
        effect: AppendEffect::Open {
            site_id: fixture.site.id,
            visitor_id: visitor,
            department_id: None,
            prechat: None,
        },
    }
}

/// A visitor's message (effect `Message` without operator).
pub fn visitor_message(
    conversation: ConversationId,
    visitor: VisitorId,
    text: &str,
    key: Option<Uuid>,
) -> AppendRequest {
    let message = new_message(
        conversation,
        MessageKind::Visitor,
        MessageAuthor::Visitor(visitor),
        text,
    );
    AppendRequest {
        message: NewMessage {
            client_msg_id: key,
            ..message
        },
        effect: AppendEffect::Message { operator: None },
    }
}

/// An operator's message, which needs the conversation active and theirs.
pub fn operator_message(
    conversation: ConversationId,
    operator: OperatorId,
    text: &str,
) -> AppendRequest {
    AppendRequest {
        message: new_message(
            conversation,
            MessageKind::Operator,
            MessageAuthor::Operator(operator),
            text,
        ),
        effect: AppendEffect::Message {
            operator: Some(operator),
        },
    }
}

/// `Accept` by `operator`, with an `operator_joined` system message.
pub fn accept(conversation: ConversationId, operator: OperatorId) -> AppendRequest {
    let message = new_message(
        conversation,
        MessageKind::System,
        MessageAuthor::Operator(operator),
        "Joined",
    );
    AppendRequest {
        message: NewMessage {
            event: Some(SystemEvent::OperatorJoined),
            ..message
        },
        effect: AppendEffect::Accept { operator },
    }
}

/// `End` for `reason`, with a `chat_ended` system message; `operator` is the owner the
/// conversation must have, if any.
pub fn end(
    conversation: ConversationId,
    reason: EndReason,
    operator: Option<OperatorId>,
) -> AppendRequest {
    let author = match reason {
        EndReason::OperatorEnded(operator) => MessageAuthor::Operator(operator),
        EndReason::VisitorEnded | EndReason::VisitorAbandoned => MessageAuthor::System,
    };
    let message = new_message(conversation, MessageKind::System, author, "Chat ended");
    AppendRequest {
        message: NewMessage {
            event: Some(SystemEvent::ChatEnded),
            ..message
        },
        effect: AppendEffect::End { reason, operator },
    }
}

/// The current time at the precision every backend keeps (whole microseconds).
pub fn now() -> Timestamp {
    let now = Timestamp::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .expect("a whole number of microseconds is a valid nanosecond")
}

/// `hours` from now.
pub(super) fn hours_from_now(hours: u64) -> Timestamp {
    now() + Duration::from_secs(hours * 3_600)
}

/// A site key nobody has used.
pub fn unique_site_key() -> SiteKey {
    SiteKey::parse(&format!("site-{}", Uuid::new_v4().simple())).expect("a valid site key")
}

/// An email nobody has used.
pub fn unique_email() -> Email {
    Email::parse(&format!("op-{}@example.test", Uuid::new_v4().simple())).expect("a valid email")
}

/// A random 32-byte token hash.
pub fn random_token() -> [u8; 32] {
    let mut token = [0; 32];
    token[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    token[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    token
}

/// A random anti-CSRF token in the form the application issues: 64 lowercase hex digits.
pub fn random_csrf_token() -> String {
    random_token()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
