//! The chat use cases: start a chat, send a message, accept, end, typing, and reading a
//! conversation's messages (for resume and transcripts). Each write goes through the
//! store's append (one durable transaction with its state check), then publishes what
//! changed on the bus. Authorisation is here: a visitor acts only on their own
//! conversation, an operator only within their tenant, and only the owning operator
//! writes into an active conversation.

use livehelp_bus::{BusEvent, Topic};
use livehelp_domain::{
    Conversation, ConversationId, ConversationState, DepartmentId, EndReason, Message,
    MessageAuthor, MessageId, MessageKind, MessageText, NewMessage, SystemEvent, Visitor,
    conversation::visitor_end_reason,
};
use livehelp_store::{AppendEffect, AppendRequest, Appended, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{App, AppError, OperatorPrincipal, Principal, VisitorPrincipal};

/// Most messages returned by one read (resume replays page through larger gaps).
pub const PAGE_LIMIT: u32 = 500;

/// Most queued conversations in one `queue` snapshot (the oldest ones, served first).
pub const QUEUE_SNAPSHOT_LIMIT: usize = 200;

/// Most conversations one list request returns.
pub const MAX_LIST_LIMIT: u32 = 200;

/// A conversation with what a client needs to show it: the visitor's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationView {
    /// The conversation.
    pub conversation: Conversation,
    /// The visitor's name, if they gave one.
    pub visitor_name: Option<String>,
    /// The owning operator's display name, once accepted.
    pub operator_name: Option<String>,
}

/// One page of messages for a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePage {
    /// The messages the reader may see, in `seq` order.
    pub messages: Vec<Message>,
    /// The highest `seq` read from the store (including skipped whispers); the next page
    /// starts after it.
    pub scanned_to: i64,
    /// Whether more messages may follow.
    pub more: bool,
}

/// A whole conversation: the record and every message in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The conversation.
    pub conversation: ConversationView,
    /// Every message, `seq` 1..n.
    pub messages: Vec<Message>,
}

impl App {
    /// Visitor asks for a chat. Opens a queued conversation, or returns their open one
    /// (one open conversation per visitor, also under concurrent requests: case BR-05).
    /// It waits in `department`'s queue (one of the tenant's, else `InvalidRequest`), or
    /// the site's default department's, or the general queue; automatic queues are
    /// dispatched at once.
    /// When the site has a pre-chat form, `prechat` (an object, field key → answer) must
    /// pass it first (case BR-14): otherwise `InvalidFields` and nothing is written or
    /// published. Valid answers are stored with the new conversation, in the same
    /// transaction.
    pub async fn start_chat(
        &self,
        visitor: &VisitorPrincipal,
        client_msg_id: Uuid,
        department: Option<DepartmentId>,
        prechat: Option<&serde_json::Value>,
        now: OffsetDateTime,
    ) -> Result<Appended, AppError> {
        let prechat = self.check_prechat(visitor, prechat).await?;
        let department_id = match department {
            Some(department) => {
                let known = self
                    .store
                    .list_departments(visitor.tenant_id)
                    .await?
                    .iter()
                    .any(|found| found.id == department);
                if !known {
                    return Err(AppError::InvalidRequest("unknown department".into()));
                }
                Some(department)
            }
            None => self
                .store
                .list_sites(visitor.tenant_id)
                .await?
                .into_iter()
                .find(|site| site.id == visitor.site_id)
                .and_then(|site| site.default_department_id),
        };
        let conversation_id = ConversationId::new();
        let message = NewMessage {
            id: MessageId::new(),
            conversation_id,
            kind: MessageKind::System,
            author: MessageAuthor::Visitor(visitor.visitor_id),
            author_name: visitor.name.clone(),
            text: "Chat requested".into(),
            event: Some(SystemEvent::ChatRequested),
            client_msg_id: Some(client_msg_id),
            created_at: now,
        };
        let remembered = prechat.clone();
        let effect = AppendEffect::Open {
            site_id: visitor.site_id,
            visitor_id: visitor.visitor_id,
            department_id,
            prechat,
        };
        let appended = self.append(visitor.tenant_id, message, effect).await?;
        if !appended.duplicate {
            self.request_dispatch(visitor.tenant_id);
            // The chat is open whatever happens here: a failure to remember the form's
            // name and email is logged, not turned into a failed chat.
            if let Some(prechat) = remembered
                && let Err(error) = self.remember_prechat_details(visitor, &prechat).await
            {
                tracing::warn!(%error, "could not remember the pre-chat name and email");
            }
        }
        Ok(appended)
    }

    /// Sends a message. A visitor writes only into their own open conversation; an
    /// operator only into an active conversation they own.
    pub async fn send_message(
        &self,
        principal: &Principal,
        conversation_id: ConversationId,
        client_msg_id: Uuid,
        text: String,
        now: OffsetDateTime,
    ) -> Result<Appended, AppError> {
        let text = MessageText::parse(text)?;
        let (kind, author, author_name, operator) = match principal {
            // The store refuses a visitor's message into anyone else's conversation
            // (`NotFound`, in the same update that takes the `seq`): no read first.
            Principal::Visitor(visitor) => (
                MessageKind::Visitor,
                MessageAuthor::Visitor(visitor.visitor_id),
                visitor.name.clone(),
                None,
            ),
            Principal::Operator(operator) => (
                MessageKind::Operator,
                MessageAuthor::Operator(operator.operator_id),
                Some(operator.display_name.clone()),
                Some(operator.operator_id),
            ),
        };
        let message = NewMessage {
            id: MessageId::new(),
            conversation_id,
            kind,
            author,
            author_name,
            text: text.into_inner(),
            event: None,
            client_msg_id: Some(client_msg_id),
            created_at: now,
        };
        let tenant = principal.tenant_id();
        let result = self
            .append(tenant, message.clone(), AppendEffect::Message { operator })
            .await
            .map_err(|error| owner_error(error, operator.is_some()));
        match (result, operator) {
            // Not the owner: an operator who joined the conversation (barge) may write.
            (Err(AppError::NotAssignedToYou(ConversationState::Active)), Some(operator)) => self
                .append(
                    tenant,
                    message,
                    AppendEffect::ParticipantMessage { operator },
                )
                .await
                .map_err(|error| owner_error(error, true)),
            (result, _) => result,
        }
    }

    /// An operator takes a queued conversation of their tenant. Exactly one of several
    /// racing operators wins; the others get `AlreadyAssigned` (case BR-03).
    pub async fn accept(
        &self,
        operator: &OperatorPrincipal,
        conversation_id: ConversationId,
        client_msg_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<Appended, AppError> {
        let message = NewMessage {
            id: MessageId::new(),
            conversation_id,
            kind: MessageKind::System,
            author: MessageAuthor::Operator(operator.operator_id),
            author_name: Some(operator.display_name.clone()),
            text: format!("{} joined the chat", operator.display_name),
            event: Some(SystemEvent::OperatorJoined),
            client_msg_id: Some(client_msg_id),
            created_at: now,
        };
        let effect = AppendEffect::Accept {
            operator: operator.operator_id,
        };
        self.append(operator.tenant_id, message, effect).await
    }

    /// Ends a conversation: the visitor ends their own, an operator one they own.
    pub async fn end_chat(
        &self,
        principal: &Principal,
        conversation_id: ConversationId,
        client_msg_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<Appended, AppError> {
        let (author, author_name, reason, operator, text) = match principal {
            Principal::Visitor(visitor) => {
                let conversation = self.visitor_conversation(visitor, conversation_id).await?;
                let reason = visitor_end_reason(conversation.state);
                (
                    MessageAuthor::Visitor(visitor.visitor_id),
                    visitor.name.clone(),
                    reason,
                    None,
                    "The visitor ended the chat".to_owned(),
                )
            }
            Principal::Operator(operator) => (
                MessageAuthor::Operator(operator.operator_id),
                Some(operator.display_name.clone()),
                EndReason::OperatorEnded(operator.operator_id),
                Some(operator.operator_id),
                format!("{} ended the chat", operator.display_name),
            ),
        };
        let message = NewMessage {
            id: MessageId::new(),
            conversation_id,
            kind: MessageKind::System,
            author,
            author_name,
            text,
            event: Some(SystemEvent::ChatEnded),
            client_msg_id: Some(client_msg_id),
            created_at: now,
        };
        let appended = self
            .append(
                principal.tenant_id(),
                message,
                AppendEffect::End { reason, operator },
            )
            .await
            .map_err(|error| owner_error(error, operator.is_some()))?;
        if !appended.duplicate {
            // An operator's capacity was freed (or a queue shortened).
            self.request_dispatch(principal.tenant_id());
        }
        Ok(appended)
    }

    /// Relays a typing indicator to the conversation's other party. Never stored.
    pub async fn typing(
        &self,
        principal: &Principal,
        conversation_id: ConversationId,
        is_typing: bool,
    ) -> Result<(), AppError> {
        let conversation = self.follow(principal, conversation_id).await?;
        if conversation.state == ConversationState::Ended {
            return Err(AppError::ConversationEnded);
        }
        let (author, author_name) = match principal {
            Principal::Visitor(visitor) => (
                MessageAuthor::Visitor(visitor.visitor_id),
                visitor.name.clone(),
            ),
            Principal::Operator(operator) => {
                if conversation.operator_id != Some(operator.operator_id) {
                    return Err(AppError::NotAssignedToYou(conversation.state));
                }
                (
                    MessageAuthor::Operator(operator.operator_id),
                    Some(operator.display_name.clone()),
                )
            }
        };
        let event = BusEvent::Typing {
            conversation_id,
            author,
            author_name,
            is_typing,
        };
        self.bus
            .publish(
                Topic::Conversation(conversation.tenant_id, conversation_id),
                event,
            )
            .await;
        Ok(())
    }

    /// The conversation if `principal` may follow it: a visitor their own; an operator a
    /// queued conversation of their tenant or one they own; a supervisor or admin any of
    /// their tenant (monitoring, M8). Another tenant's or visitor's id is
    /// `ConversationNotFound`, exactly like a missing one; a plain operator asking for a
    /// colleague's conversation gets `RoleRequired`.
    pub async fn follow(
        &self,
        principal: &Principal,
        conversation_id: ConversationId,
    ) -> Result<Conversation, AppError> {
        match principal {
            Principal::Visitor(visitor) => {
                self.visitor_conversation(visitor, conversation_id).await
            }
            Principal::Operator(operator) => {
                let conversation = self
                    .fetch_conversation(operator.tenant_id, conversation_id)
                    .await?;
                let own = conversation.operator_id == Some(operator.operator_id);
                let queued = conversation.state == ConversationState::Queued;
                if own || queued || Self::may_monitor(operator.role) {
                    Ok(conversation)
                } else {
                    Err(AppError::RoleRequired)
                }
            }
        }
    }

    /// Records that a supervisor or admin started watching a conversation they do not
    /// own (M8), and tells the owner when the tenant shows monitoring. Nothing is
    /// recorded for one's own or a queued conversation. Returns whether it counted as
    /// monitoring (the caller then calls [`App::stop_monitoring`] when it stops).
    pub async fn record_monitoring(
        &self,
        operator: &OperatorPrincipal,
        conversation: &Conversation,
        now: OffsetDateTime,
    ) -> Result<bool, AppError> {
        if conversation.operator_id == Some(operator.operator_id)
            || conversation.state == ConversationState::Queued
        {
            return Ok(false);
        }
        self.audit(
            operator.tenant_id,
            livehelp_domain::AuditActor::Operator(operator.operator_id),
            "monitor_started",
            format!("conversation:{}", conversation.id),
            now,
        )
        .await?;
        self.announce_monitoring(operator, conversation, true)
            .await?;
        Ok(true)
    }

    /// The supervisor stopped watching (their socket closed): tells the owner when the
    /// tenant shows monitoring.
    pub async fn stop_monitoring(
        &self,
        operator: &OperatorPrincipal,
        conversation: &Conversation,
    ) -> Result<(), AppError> {
        self.announce_monitoring(operator, conversation, false)
            .await
    }

    async fn announce_monitoring(
        &self,
        operator: &OperatorPrincipal,
        conversation: &Conversation,
        watching: bool,
    ) -> Result<(), AppError> {
        let Some(owner) = conversation.operator_id else {
            return Ok(());
        };
        if !self
            .store
            .fetch_routing_settings(operator.tenant_id)
            .await?
            .show_monitoring
        {
            return Ok(());
        }
        self.bus
            .publish(
                Topic::Operator(operator.tenant_id, owner),
                BusEvent::Monitoring {
                    conversation_id: conversation.id,
                    supervisor_id: operator.operator_id,
                    supervisor_name: operator.display_name.clone(),
                    watching,
                },
            )
            .await;
        Ok(())
    }

    /// Messages with `seq > after_seq` that `principal` may see, in order, one page of at
    /// most [`PAGE_LIMIT`] stored messages. Visitors never see whispers: those are
    /// skipped, but `scanned_to` still moves past them. The caller must have authorised
    /// the principal for the conversation with [`App::follow`].
    pub async fn messages_after(
        &self,
        principal: &Principal,
        conversation_id: ConversationId,
        after_seq: i64,
    ) -> Result<MessagePage, AppError> {
        let messages = self
            .store
            .list_messages(
                principal.tenant_id(),
                conversation_id,
                after_seq,
                PAGE_LIMIT,
            )
            .await
            .map_err(not_found_is_conversation)?;
        let more = messages.len() == PAGE_LIMIT as usize;
        let scanned_to = messages.last().map_or(after_seq, |message| message.seq);
        let messages = match principal {
            Principal::Visitor(_) => messages
                .into_iter()
                .filter(|message| message.kind.visible_to_visitor())
                .collect(),
            Principal::Operator(_) => messages,
        };
        Ok(MessagePage {
            messages,
            scanned_to,
            more,
        })
    }

    /// Whether `principal` may see `message` (visitors never see whispers).
    pub fn may_see(principal: &Principal, message: &Message) -> bool {
        match principal {
            Principal::Visitor(_) => message.kind.visible_to_visitor(),
            Principal::Operator(_) => true,
        }
    }

    /// The whole transcript of a conversation of the operator's tenant (M2).
    pub async fn transcript(
        &self,
        operator: &OperatorPrincipal,
        conversation_id: ConversationId,
        now: OffsetDateTime,
    ) -> Result<Transcript, AppError> {
        let conversation = self
            .fetch_conversation(operator.tenant_id, conversation_id)
            .await?;
        // Every read of a transcript is audited (M8): who, which, when.
        self.audit(
            operator.tenant_id,
            livehelp_domain::AuditActor::Operator(operator.operator_id),
            "transcript_read",
            format!("conversation:{conversation_id}"),
            now,
        )
        .await?;
        let mut messages = Vec::with_capacity(usize::try_from(conversation.last_seq).unwrap_or(0));
        let mut after_seq = 0;
        loop {
            let page = self
                .store
                .list_messages(operator.tenant_id, conversation_id, after_seq, PAGE_LIMIT)
                .await
                .map_err(not_found_is_conversation)?;
            let Some(last) = page.last() else { break };
            after_seq = last.seq;
            let full = page.len() == PAGE_LIMIT as usize;
            messages.extend(page);
            if !full {
                break;
            }
        }
        let conversation = self.view(conversation).await?;
        Ok(Transcript {
            conversation,
            messages,
        })
    }

    /// Every message of the visitor's own conversation that the visitor may see (never
    /// whispers), in order: their transcript download.
    pub async fn visitor_transcript(
        &self,
        visitor: &VisitorPrincipal,
        conversation_id: ConversationId,
    ) -> Result<Vec<Message>, AppError> {
        self.visitor_conversation(visitor, conversation_id).await?;
        let principal = Principal::Visitor(visitor.clone());
        let mut messages = Vec::new();
        let mut after_seq = 0;
        loop {
            let page = self
                .messages_after(&principal, conversation_id, after_seq)
                .await?;
            messages.extend(page.messages);
            after_seq = page.scanned_to;
            if !page.more {
                return Ok(messages);
            }
        }
    }

    /// The tenant's conversations, newest first, at most `limit` (capped at
    /// [`MAX_LIST_LIMIT`]), optionally of one state, with one tag and older than a cursor. Returns the
    /// page and the cursor of the next one (when the page is full).
    pub async fn list_conversations(
        &self,
        operator: &OperatorPrincipal,
        state: Option<ConversationState>,
        tag: Option<livehelp_domain::Tag>,
        before: Option<(OffsetDateTime, ConversationId)>,
        limit: u32,
    ) -> Result<
        (
            Vec<ConversationView>,
            Option<(OffsetDateTime, ConversationId)>,
        ),
        AppError,
    > {
        let limit = limit.clamp(1, MAX_LIST_LIMIT);
        let query = livehelp_store::ConversationQuery {
            tag,
            state,
            visitor: None,
            before,
            limit,
        };
        let conversations = self
            .store
            .list_conversations(operator.tenant_id, &query)
            .await?;
        let next = (conversations.len() == limit as usize)
            .then(|| conversations.last().map(|last| (last.created_at, last.id)))
            .flatten();
        Ok((self.views(conversations).await?, next))
    }

    /// The tenant's queue, oldest first, at most [`QUEUE_SNAPSHOT_LIMIT`] of them, with
    /// the total number waiting.
    pub async fn queue(
        &self,
        operator: &OperatorPrincipal,
    ) -> Result<(Vec<ConversationView>, u64), AppError> {
        let mut conversations = self
            .store
            .list_queued_conversations(operator.tenant_id)
            .await?;
        let total = conversations.len() as u64;
        // A snapshot of thousands of waiting chats helps nobody and must not make the
        // frame too big to send (a flood of chat requests would lock operators out).
        conversations.truncate(QUEUE_SNAPSHOT_LIMIT);
        Ok((self.views(conversations).await?, total))
    }

    /// The operator's active conversations.
    pub async fn active_conversations(
        &self,
        operator: &OperatorPrincipal,
    ) -> Result<Vec<ConversationView>, AppError> {
        let conversations = self
            .store
            .list_active_conversations_for_operator(operator.tenant_id, operator.operator_id)
            .await?;
        self.views(conversations).await
    }

    /// The visitor's open conversation, if any.
    pub async fn open_conversation(
        &self,
        visitor: &VisitorPrincipal,
    ) -> Result<Option<ConversationView>, AppError> {
        match self
            .store
            .fetch_open_conversation_for_visitor(visitor.tenant_id, visitor.visitor_id)
            .await?
        {
            Some(conversation) => Ok(Some(self.view(conversation).await?)),
            None => Ok(None),
        }
    }

    /// Adds the visitor's name to a conversation.
    pub async fn view(&self, conversation: Conversation) -> Result<ConversationView, AppError> {
        let visitor: Visitor = self
            .store
            .fetch_visitor(conversation.tenant_id, conversation.visitor_id)
            .await?;
        let operator_name = match conversation.operator_id {
            Some(operator) => Some(
                self.store
                    .fetch_operator(conversation.tenant_id, operator)
                    .await?
                    .display_name,
            ),
            None => None,
        };
        Ok(ConversationView {
            conversation,
            visitor_name: visitor.name.map(|name| name.as_str().to_owned()),
            operator_name,
        })
    }

    pub(crate) async fn views(
        &self,
        conversations: Vec<Conversation>,
    ) -> Result<Vec<ConversationView>, AppError> {
        let mut views = Vec::with_capacity(conversations.len());
        for conversation in conversations {
            views.push(self.view(conversation).await?);
        }
        Ok(views)
    }

    pub(crate) async fn fetch_conversation(
        &self,
        tenant: livehelp_domain::TenantId,
        id: ConversationId,
    ) -> Result<Conversation, AppError> {
        self.store
            .fetch_conversation(tenant, id)
            .await
            .map_err(not_found_is_conversation)
    }

    pub(crate) async fn visitor_conversation(
        &self,
        visitor: &VisitorPrincipal,
        id: ConversationId,
    ) -> Result<Conversation, AppError> {
        let conversation = self.fetch_conversation(visitor.tenant_id, id).await?;
        if conversation.visitor_id != visitor.visitor_id {
            return Err(AppError::ConversationNotFound);
        }
        Ok(conversation)
    }

    /// Appends, then publishes the message and any state change. A duplicate (a retried
    /// `client_msg_id`) publishes nothing: everyone saw it the first time.
    pub(crate) async fn append(
        &self,
        tenant: livehelp_domain::TenantId,
        message: NewMessage,
        effect: AppendEffect,
    ) -> Result<Appended, AppError> {
        let changes_state = !matches!(effect, AppendEffect::Message { .. });
        let appended = self
            .store
            .append(tenant, AppendRequest { message, effect })
            .await
            .map_err(not_found_is_conversation)?;
        if !appended.duplicate {
            let conversation = &appended.conversation;
            let topic = Topic::Conversation(tenant, conversation.id);
            self.bus
                .publish(topic, BusEvent::Message(appended.message.clone()))
                .await;
            if changes_state {
                self.bus
                    .publish(topic, BusEvent::Conversation(conversation.clone()))
                    .await;
                self.bus
                    .publish(
                        Topic::Queue(tenant),
                        BusEvent::Conversation(conversation.clone()),
                    )
                    .await;
                if let Some(operator) = conversation.operator_id {
                    self.bus
                        .publish(
                            Topic::Operator(tenant, operator),
                            BusEvent::Conversation(conversation.clone()),
                        )
                        .await;
                }
            }
        }
        Ok(appended)
    }
}

fn not_found_is_conversation(error: StoreError) -> AppError {
    match error {
        StoreError::NotFound => AppError::ConversationNotFound,
        other => other.into(),
    }
}

/// For writes that require ownership: an active conversation owned by someone else is
/// "not assigned to you", not "already assigned".
fn owner_error(error: AppError, by_operator: bool) -> AppError {
    match error {
        AppError::AlreadyAssigned if by_operator => {
            AppError::NotAssignedToYou(ConversationState::Active)
        }
        other => other,
    }
}
