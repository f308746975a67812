//! Routing: who is available, how queued chats reach operators, and what happens to
//! chats whose operator went away.
//!
//! * An operator is *available* when their account is enabled, their chosen status is
//!   `online` and they have an operator connection open on some node right now (the
//!   bus's presence). `away` operators and operators whose every tab is closed get no
//!   new chats.
//! * A queue (a department's, or the tenant's general queue for chats without one) is
//!   served `manual`ly (operators pick), `least_busy` or `round_robin` (see
//!   [`RoutingMode`]). [`App::dispatch`] assigns what the automatic queues hold, oldest
//!   chat first; the store refuses any assignment that would take an operator past their
//!   chat limit, so racing dispatchers on several nodes cannot exceed it (case BR-04).
//! * No orphaned chats (case BR-06): the sweeper ([`App::run_router`]) notices an owner
//!   who has no connection open; after [`RoutingOptions::grace`] their active chats go
//!   to another available operator (automatic queues) or back to their queue, ahead of
//!   every chat that arrived later, with a system message telling the visitor. A chat the
//!   server assigned that its operator leaves unanswered for
//!   [`RoutingOptions::unanswered`] goes to another available operator.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livehelp_domain::{
    AuditActor, Conversation, ConversationId, ConversationState, Department, DepartmentId,
    MessageAuthor, MessageId, MessageKind, NewMessage, Operator, OperatorId, OperatorLoad,
    OperatorStatus, RoutingMode, RoutingSettings, SystemEvent, TenantId, TenantStatus,
};
use livehelp_store::{AppendEffect, Appended};
use time::OffsetDateTime;
use tokio::time::Instant;
use uuid::Uuid;

use crate::{App, AppError, OperatorPrincipal, VisitorPrincipal};

/// Routing tunables of a node.
#[derive(Debug, Clone, Copy)]
pub struct RoutingOptions {
    /// How long an owner may be without any connection before their chats are handed on
    /// (default 60 s, case BR-06).
    pub grace: Duration,
    /// How long a chat the server assigned may stay without an answer from its operator
    /// before it goes to another available operator; `None` turns the rule off
    /// (default 120 s).
    pub unanswered: Option<Duration>,
    /// How often the sweeper looks at every tenant (default 5 s; the grace period is
    /// honoured to within this).
    pub sweep_every: Duration,
}

impl Default for RoutingOptions {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(60),
            unanswered: Some(Duration::from_secs(120)),
            sweep_every: Duration::from_secs(5),
        }
    }
}

/// Seconds of waiting assumed per place in the queue while a queue has too few recent
/// assignments (fewer than two in the last hour) to measure its rate.
pub const COLD_START_SECONDS_PER_POSITION: u64 = 60;

/// How often the sweeper deletes page-trail events past their tenant's retention period.
pub const TRAIL_EXPIRY_EVERY: Duration = Duration::from_secs(600);

/// Most open conversations one sweep looks at per tenant.
const SWEEP_LIMIT: u32 = 10_000;

/// Node-local routing state: one dispatcher per tenant at a time, and since when each
/// owner has been seen without a connection.
#[derive(Default)]
pub(crate) struct RouterState {
    dispatching: Mutex<HashMap<TenantId, Arc<DispatchSlot>>>,
    absent_since: Mutex<HashMap<(TenantId, OperatorId), Instant>>,
}

#[derive(Default)]
struct DispatchSlot {
    running: AtomicBool,
    again: AtomicBool,
}

impl RouterState {
    fn slot(&self, tenant: TenantId) -> Arc<DispatchSlot> {
        let mut slots = self
            .dispatching
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.entry(tenant).or_default().clone()
    }

    fn absent(&self) -> std::sync::MutexGuard<'_, HashMap<(TenantId, OperatorId), Instant>> {
        // Every operation on the map is a single insert/remove/read: a panic elsewhere
        // cannot leave it inconsistent, so a poisoned lock is safe to reuse.
        self.absent_since
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Where a transfer sends a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTarget {
    /// To this operator, who must be available and under their limit.
    Operator(OperatorId),
    /// Back to this department's queue.
    Department(DepartmentId),
}

/// How a supervisor barges in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BargeMode {
    /// Write in the conversation beside its owner.
    Join,
    /// Become its owner.
    TakeOver,
}

/// A visitor's place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStatus {
    /// 1 = next.
    pub position: u64,
    /// Estimated wait in seconds.
    pub estimated_wait_seconds: u64,
}

/// The supervisor's live view of the tenant.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Open conversations (queued and active), oldest first.
    pub conversations: Vec<crate::ConversationView>,
    /// Every enabled operator with their load and whether they are available.
    pub operators: Vec<OperatorOverview>,
    /// The tenant's departments.
    pub departments: Vec<Department>,
}

/// One operator in the [`Overview`].
#[derive(Debug, Clone)]
pub struct OperatorOverview {
    /// The operator.
    pub operator: Operator,
    /// Whether any connection of theirs is open.
    pub connected: bool,
    /// Their active chats and limit.
    pub load: Option<OperatorLoad>,
}

impl App {
    /// The tenant's available operators (enabled, `online`, connected), oldest account
    /// first. One store read and one presence lookup.
    pub async fn available_operators(&self, tenant: TenantId) -> Result<Vec<Operator>, AppError> {
        let present = self.bus.present_operators(tenant).await;
        let operators = self.store.list_operators(tenant).await?;
        Ok(operators
            .into_iter()
            .filter(|operator| {
                !operator.disabled
                    && operator.status == OperatorStatus::Online
                    && present.binary_search(&operator.id).is_ok()
            })
            .collect())
    }

    /// Runs [`App::dispatch`] for the tenant in the background (after a chat is
    /// requested, ends, returns to a queue, or an operator comes online).
    pub fn request_dispatch(&self, tenant: TenantId) {
        let app = self.clone();
        tokio::spawn(async move {
            if let Err(error) = app.dispatch(tenant).await {
                tracing::warn!(%error, %tenant, "dispatch failed");
            }
        });
    }

    /// Assigns the tenant's queued chats of automatic queues to available operators,
    /// oldest chat first, and returns how many it assigned. One dispatcher per tenant
    /// runs at a time on this node; a call made while one runs makes it go round again.
    pub async fn dispatch(&self, tenant: TenantId) -> Result<u32, AppError> {
        let slot = self.router.slot(tenant);
        if slot.running.swap(true, Ordering::AcqRel) {
            slot.again.store(true, Ordering::Release);
            return Ok(0);
        }
        let mut assigned = 0;
        loop {
            slot.again.store(false, Ordering::Release);
            let round = self.dispatch_once(tenant).await;
            match round {
                Ok(count) => assigned += count,
                Err(error) => {
                    slot.running.store(false, Ordering::Release);
                    return Err(error);
                }
            }
            if slot.again.load(Ordering::Acquire) {
                continue;
            }
            slot.running.store(false, Ordering::Release);
            // A request that arrived between the check and the release found `running`
            // still set and left it to us: take it if nobody else has.
            if slot.again.swap(false, Ordering::AcqRel)
                && !slot.running.swap(true, Ordering::AcqRel)
            {
                continue;
            }
            return Ok(assigned);
        }
    }

    async fn dispatch_once(&self, tenant: TenantId) -> Result<u32, AppError> {
        let settings = self.store.fetch_routing_settings(tenant).await?;
        let departments = self.store.list_departments(tenant).await?;
        if !settings.routing.is_automatic()
            && !departments
                .iter()
                .any(|department| department.routing.is_automatic())
        {
            return Ok(0);
        }
        let queued = self.store.list_queued_conversations(tenant).await?;
        if queued.is_empty() {
            return Ok(0);
        }
        let mut pool = CandidatePool::load(self, tenant).await?;
        let mut assigned = 0;
        for conversation in queued {
            let (mode, members) = queue_of(&conversation, &settings, &departments);
            if !mode.is_automatic() {
                continue;
            }
            while let Some(candidate) = pool.pick(mode, members, None) {
                let name = pool.name(candidate);
                let message = self.system_message(
                    conversation.id,
                    MessageAuthor::Operator(candidate),
                    Some(name.clone()),
                    format!("{name} joined the chat"),
                    Some(SystemEvent::OperatorJoined),
                );
                let effect = AppendEffect::Assign {
                    operator: candidate,
                };
                match self.append(tenant, message, effect).await {
                    Ok(_) => {
                        pool.assigned(candidate);
                        assigned += 1;
                        break;
                    }
                    // Full (another node assigned meanwhile) or disabled: not a candidate.
                    Err(AppError::ChatLimitReached) => pool.remove(candidate),
                    // Taken or ended meanwhile: next conversation.
                    Err(
                        AppError::AlreadyAssigned
                        | AppError::ConversationEnded
                        | AppError::NotAssignedToYou(_)
                        | AppError::ConversationNotFound,
                    ) => break,
                    Err(other) => return Err(other),
                }
            }
        }
        Ok(assigned)
    }

    /// One pass of the sweeper over one tenant: hands on the chats of owners gone past
    /// the grace period and chats left unanswered, then dispatches.
    pub async fn sweep(&self, tenant: TenantId) -> Result<(), AppError> {
        self.release_orphans(tenant).await?;
        self.reassign_unanswered(tenant).await?;
        self.dispatch(tenant).await?;
        Ok(())
    }

    /// Sweeps every active tenant every [`RoutingOptions::sweep_every`] until `stop`
    /// turns true, and deletes expired page trails ([`App::expire_page_trails`]) at start
    /// and then every `TRAIL_EXPIRY_EVERY`. Errors are logged and the next round tries
    /// again.
    pub async fn run_router(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.options.routing.sweep_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut trails_expired_at: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                _ = stop.wait_for(|stopping| *stopping) => return,
                _ = tick.tick() => {}
            }
            if trails_expired_at.is_none_or(|at| at.elapsed() >= TRAIL_EXPIRY_EVERY) {
                trails_expired_at = Some(tokio::time::Instant::now());
                if let Err(error) = self.expire_page_trails(OffsetDateTime::now_utc()).await {
                    tracing::warn!(%error, "page trail expiry failed");
                }
            }
            let tenants = match self.store.list_tenants().await {
                Ok(tenants) => tenants,
                Err(error) => {
                    tracing::warn!(%error, "router could not list tenants");
                    continue;
                }
            };
            for tenant in tenants {
                if tenant.status != TenantStatus::Active {
                    continue;
                }
                if let Err(error) = self.sweep(tenant.id).await {
                    tracing::warn!(%error, tenant = %tenant.id, "routing sweep failed");
                }
            }
        }
    }

    async fn release_orphans(&self, tenant: TenantId) -> Result<(), AppError> {
        let open = self
            .store
            .list_open_conversations(tenant, SWEEP_LIMIT)
            .await?;
        let owners: HashSet<OperatorId> = open
            .iter()
            .filter(|conversation| conversation.state == ConversationState::Active)
            .filter_map(|conversation| conversation.operator_id)
            .collect();
        let present: HashSet<OperatorId> = self
            .bus
            .present_operators(tenant)
            .await
            .into_iter()
            .collect();
        let now = Instant::now();
        let gone: HashSet<OperatorId> = {
            let mut absent = self.router.absent();
            absent.retain(|(owner_tenant, operator), _| {
                *owner_tenant != tenant
                    || (owners.contains(operator) && !present.contains(operator))
            });
            owners
                .iter()
                .filter(|operator| !present.contains(operator))
                .filter(|operator| {
                    let since = *absent.entry((tenant, **operator)).or_insert(now);
                    now.duration_since(since) >= self.options.routing.grace
                })
                .copied()
                .collect()
        };
        if gone.is_empty() {
            return Ok(());
        }
        let settings = self.store.fetch_routing_settings(tenant).await?;
        let departments = self.store.list_departments(tenant).await?;
        let names = self.operator_names(tenant).await?;
        let mut pool = CandidatePool::load(self, tenant).await?;
        let mut requeued = false;
        for conversation in open {
            let Some(owner) = conversation.operator_id else {
                continue;
            };
            if conversation.state != ConversationState::Active || !gone.contains(&owner) {
                continue;
            }
            let owner_name = names.get(&owner).cloned().unwrap_or_default();
            let (mode, members) = queue_of(&conversation, &settings, &departments);
            let handed = if mode.is_automatic() {
                self.hand_on(&mut pool, &conversation, owner, members, mode)
                    .await?
            } else {
                false
            };
            if !handed {
                let message = self.system_message(
                    conversation.id,
                    MessageAuthor::System,
                    None,
                    format!(
                        "{owner_name} is no longer available. You are back in the queue; \
                         the next operator will answer."
                    ),
                    None,
                );
                let effect = AppendEffect::Requeue {
                    from: owner,
                    department_id: conversation.department_id,
                };
                match self.append(tenant, message, effect).await {
                    Ok(_) => requeued = true,
                    // Handed on by another node, or ended meanwhile.
                    Err(
                        AppError::AlreadyAssigned
                        | AppError::ConversationEnded
                        | AppError::NotAssignedToYou(_),
                    ) => {}
                    Err(other) => return Err(other),
                }
            }
            tracing::info!(conversation = %conversation.id, operator = %owner, handed, "released an orphaned chat");
        }
        if requeued {
            self.request_dispatch(tenant);
        }
        Ok(())
    }

    async fn reassign_unanswered(&self, tenant: TenantId) -> Result<(), AppError> {
        let Some(unanswered) = self.options.routing.unanswered else {
            return Ok(());
        };
        let now = OffsetDateTime::now_utc();
        let deadline = now - unanswered;
        // Chats that crossed the deadline within the last hour: older ones have had
        // their chance at reassignment already.
        let chats = self
            .store
            .list_unanswered_conversations(tenant, deadline - time::Duration::HOUR, deadline)
            .await?;
        if chats.is_empty() {
            return Ok(());
        }
        let settings = self.store.fetch_routing_settings(tenant).await?;
        let departments = self.store.list_departments(tenant).await?;
        let mut pool = CandidatePool::load(self, tenant).await?;
        for conversation in chats {
            let Some(owner) = conversation.operator_id else {
                continue;
            };
            let (mode, members) = queue_of(&conversation, &settings, &departments);
            // Reassigned within an automatic queue; a queue switched to manual since
            // keeps the chat where it is.
            if mode.is_automatic() {
                self.hand_on(&mut pool, &conversation, owner, members, mode)
                    .await?;
            }
        }
        Ok(())
    }

    /// Transfers `conversation` from `owner` to the best other candidate; `false` when
    /// there is none (or every one refused).
    async fn hand_on(
        &self,
        pool: &mut CandidatePool,
        conversation: &Conversation,
        owner: OperatorId,
        members: Option<&[OperatorId]>,
        mode: RoutingMode,
    ) -> Result<bool, AppError> {
        while let Some(candidate) = pool.pick(mode, members, Some(owner)) {
            let name = pool.name(candidate);
            // Written as the new owner joining, so widgets show who they now talk to.
            let message = self.system_message(
                conversation.id,
                MessageAuthor::Operator(candidate),
                Some(name.clone()),
                format!("You are now chatting with {name}"),
                Some(SystemEvent::OperatorJoined),
            );
            let effect = AppendEffect::Transfer {
                from: owner,
                to: candidate,
                automatic: true,
            };
            match self.append(conversation.tenant_id, message, effect).await {
                Ok(_) => {
                    pool.assigned(candidate);
                    return Ok(true);
                }
                Err(AppError::ChatLimitReached) => pool.remove(candidate),
                Err(
                    AppError::AlreadyAssigned
                    | AppError::ConversationEnded
                    | AppError::NotAssignedToYou(_),
                ) => return Ok(true),
                Err(other) => return Err(other),
            }
        }
        Ok(false)
    }

    /// Hands an active conversation to another operator or back to a department's queue
    /// (the owner, or a supervisor/admin). `note` is whispered to operators only. A
    /// target that is not available is `OperatorUnavailable`.
    #[allow(clippy::too_many_arguments)]
    pub async fn transfer(
        &self,
        operator: &OperatorPrincipal,
        conversation_id: ConversationId,
        client_msg_id: Uuid,
        target: TransferTarget,
        note: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Appended, AppError> {
        let tenant = operator.tenant_id;
        let note = note
            .filter(|note| !note.trim().is_empty())
            .map(livehelp_domain::MessageText::parse)
            .transpose()?;
        let conversation = self.fetch_conversation(tenant, conversation_id).await?;
        let owner = self.owner_for_change(operator, &conversation)?;
        // The visitor sees the new owner join; a transfer to a department is a notice.
        let mut author = (
            MessageAuthor::Operator(operator.operator_id),
            Some(operator.display_name.clone()),
        );
        let (text, effect, target_name) = match target {
            TransferTarget::Operator(to) => {
                if to == owner {
                    return Err(AppError::InvalidRequest(
                        "the conversation is already theirs".into(),
                    ));
                }
                let available = self.available_operators(tenant).await?;
                let Some(target) = available.iter().find(|candidate| candidate.id == to) else {
                    return Err(AppError::OperatorUnavailable);
                };
                author = (
                    MessageAuthor::Operator(to),
                    Some(target.display_name.clone()),
                );
                (
                    format!("You are now chatting with {}", target.display_name),
                    AppendEffect::Transfer {
                        from: owner,
                        to,
                        automatic: false,
                    },
                    format!("operator:{to}"),
                )
            }
            TransferTarget::Department(department) => {
                let departments = self.store.list_departments(tenant).await?;
                let Some(found) = departments.iter().find(|found| found.id == department) else {
                    return Err(AppError::InvalidRequest("unknown department".into()));
                };
                (
                    format!(
                        "Transferring you to {}; the next available operator will answer.",
                        found.name
                    ),
                    AppendEffect::Requeue {
                        from: owner,
                        department_id: Some(department),
                    },
                    format!("department:{department}"),
                )
            }
        };
        let event =
            matches!(target, TransferTarget::Operator(_)).then_some(SystemEvent::OperatorJoined);
        let mut message = self.system_message(conversation_id, author.0, author.1, text, event);
        message.client_msg_id = Some(client_msg_id);
        message.created_at = now;
        let appended = self
            .append(tenant, message, effect)
            .await
            .map_err(|error| match error {
                AppError::ChatLimitReached => AppError::OperatorUnavailable,
                other => other,
            })?;
        if !appended.duplicate {
            if let Some(note) = note {
                let whisper = NewMessage {
                    id: MessageId::new(),
                    conversation_id,
                    kind: MessageKind::Whisper,
                    author: MessageAuthor::Operator(operator.operator_id),
                    author_name: Some(operator.display_name.clone()),
                    text: note.into_inner(),
                    event: None,
                    client_msg_id: Some(Uuid::new_v4()),
                    created_at: now,
                };
                self.append(tenant, whisper, AppendEffect::Message { operator: None })
                    .await?;
            }
            self.audit(
                tenant,
                AuditActor::Operator(operator.operator_id),
                "conversation_transferred",
                format!("conversation:{conversation_id} to {target_name}"),
                now,
            )
            .await?;
            if matches!(target, TransferTarget::Department(_)) {
                self.request_dispatch(tenant);
            }
        }
        Ok(appended)
    }

    /// A supervisor or admin enters an active conversation visibly (audited).
    pub async fn barge(
        &self,
        supervisor: &OperatorPrincipal,
        conversation_id: ConversationId,
        client_msg_id: Uuid,
        mode: BargeMode,
        now: OffsetDateTime,
    ) -> Result<Appended, AppError> {
        if !Self::may_monitor(supervisor.role) {
            return Err(AppError::RoleRequired);
        }
        let tenant = supervisor.tenant_id;
        let conversation = self.fetch_conversation(tenant, conversation_id).await?;
        let owner = self.owner_for_change(supervisor, &conversation)?;
        if owner == supervisor.operator_id {
            return Err(AppError::InvalidRequest(
                "the conversation is already yours".into(),
            ));
        }
        if mode == BargeMode::Join
            && self
                .store
                .list_participants(tenant, conversation_id)
                .await?
                .contains(&supervisor.operator_id)
        {
            return Err(AppError::InvalidRequest(
                "you already joined this chat".into(),
            ));
        }
        let name = supervisor.display_name.clone();
        let (text, effect, action) = match mode {
            BargeMode::Join => (
                format!("{name} joined the chat"),
                AppendEffect::Join {
                    operator: supervisor.operator_id,
                },
                "barge_joined",
            ),
            BargeMode::TakeOver => (
                format!("You are now chatting with {name}"),
                AppendEffect::Transfer {
                    from: owner,
                    to: supervisor.operator_id,
                    automatic: false,
                },
                "barge_took_over",
            ),
        };
        let mut message = self.system_message(
            conversation_id,
            MessageAuthor::Operator(supervisor.operator_id),
            Some(name),
            text,
            Some(SystemEvent::OperatorJoined),
        );
        message.client_msg_id = Some(client_msg_id);
        message.created_at = now;
        let appended = self.append(tenant, message, effect).await?;
        if !appended.duplicate {
            self.audit(
                tenant,
                AuditActor::Operator(supervisor.operator_id),
                action,
                format!("conversation:{conversation_id}"),
                now,
            )
            .await?;
        }
        Ok(appended)
    }

    /// A message only operators see: by the owner, an operator who joined, or a
    /// supervisor/admin of the tenant (audited). Never delivered to the visitor.
    pub async fn whisper(
        &self,
        operator: &OperatorPrincipal,
        conversation_id: ConversationId,
        client_msg_id: Uuid,
        text: String,
        now: OffsetDateTime,
    ) -> Result<Appended, AppError> {
        let text = livehelp_domain::MessageText::parse(text)?;
        let tenant = operator.tenant_id;
        let conversation = self.fetch_conversation(tenant, conversation_id).await?;
        if conversation.state == ConversationState::Ended {
            return Err(AppError::ConversationEnded);
        }
        let allowed = conversation.operator_id == Some(operator.operator_id)
            || Self::may_monitor(operator.role)
            || self
                .store
                .list_participants(tenant, conversation_id)
                .await?
                .contains(&operator.operator_id);
        if !allowed {
            return Err(AppError::RoleRequired);
        }
        let message = NewMessage {
            id: MessageId::new(),
            conversation_id,
            kind: MessageKind::Whisper,
            author: MessageAuthor::Operator(operator.operator_id),
            author_name: Some(operator.display_name.clone()),
            text: text.into_inner(),
            event: None,
            client_msg_id: Some(client_msg_id),
            created_at: now,
        };
        let appended = self
            .append(tenant, message, AppendEffect::Message { operator: None })
            .await?;
        if !appended.duplicate {
            self.audit(
                tenant,
                AuditActor::Operator(operator.operator_id),
                "whisper_sent",
                format!("conversation:{conversation_id}"),
                now,
            )
            .await?;
        }
        Ok(appended)
    }

    /// Where the visitor's conversation stands in its queue, or `None` once it is not
    /// queued. The estimate divides the position by the queue's assignment rate over the
    /// last hour (at least two assignments), else assumes
    /// [`COLD_START_SECONDS_PER_POSITION`] per place.
    pub async fn queue_status(
        &self,
        visitor: &VisitorPrincipal,
        conversation_id: ConversationId,
        now: OffsetDateTime,
    ) -> Result<Option<QueueStatus>, AppError> {
        let conversation = self.visitor_conversation(visitor, conversation_id).await?;
        let Some(position) = self
            .store
            .queue_position(visitor.tenant_id, conversation_id)
            .await?
        else {
            return Ok(None);
        };
        let recent = self
            .store
            .recent_assignments(
                visitor.tenant_id,
                conversation.department_id,
                now - time::Duration::HOUR,
            )
            .await?;
        let estimated_wait_seconds = estimate_wait(position, &recent, now);
        Ok(Some(QueueStatus {
            position,
            estimated_wait_seconds,
        }))
    }

    /// The supervisor's live view: open conversations, operators with load and presence,
    /// departments. Supervisors and admins only.
    pub async fn overview(&self, supervisor: &OperatorPrincipal) -> Result<Overview, AppError> {
        if !Self::may_monitor(supervisor.role) {
            return Err(AppError::RoleRequired);
        }
        let tenant = supervisor.tenant_id;
        let open = self
            .store
            .list_open_conversations(tenant, crate::chat::MAX_LIST_LIMIT)
            .await?;
        let present = self.bus.present_operators(tenant).await;
        let loads = self.store.operator_loads(tenant).await?;
        let operators = self
            .store
            .list_operators(tenant)
            .await?
            .into_iter()
            .filter(|operator| !operator.disabled)
            .map(|operator| OperatorOverview {
                connected: present.binary_search(&operator.id).is_ok(),
                load: loads
                    .iter()
                    .find(|load| load.operator_id == operator.id)
                    .copied(),
                operator,
            })
            .collect();
        Ok(Overview {
            conversations: self.views(open).await?,
            operators,
            departments: self.store.list_departments(tenant).await?,
        })
    }

    /// The owner of an active conversation, if `operator` may change its ownership (the
    /// owner themself, or a supervisor/admin).
    fn owner_for_change(
        &self,
        operator: &OperatorPrincipal,
        conversation: &Conversation,
    ) -> Result<OperatorId, AppError> {
        match (conversation.state, conversation.operator_id) {
            (ConversationState::Ended, _) => Err(AppError::ConversationEnded),
            (ConversationState::Active, Some(owner))
                if owner == operator.operator_id || Self::may_monitor(operator.role) =>
            {
                Ok(owner)
            }
            (state, _) => Err(AppError::NotAssignedToYou(state)),
        }
    }

    async fn operator_names(
        &self,
        tenant: TenantId,
    ) -> Result<HashMap<OperatorId, String>, AppError> {
        Ok(self
            .store
            .list_operators(tenant)
            .await?
            .into_iter()
            .map(|operator| (operator.id, operator.display_name))
            .collect())
    }

    fn system_message(
        &self,
        conversation_id: ConversationId,
        author: MessageAuthor,
        author_name: Option<String>,
        text: String,
        event: Option<SystemEvent>,
    ) -> NewMessage {
        NewMessage {
            id: MessageId::new(),
            conversation_id,
            kind: MessageKind::System,
            author,
            author_name,
            text,
            event,
            client_msg_id: Some(Uuid::new_v4()),
            created_at: OffsetDateTime::now_utc(),
        }
    }
}

/// What an admin gives to create or change a department.
#[derive(Debug, Clone)]
pub struct DepartmentInput {
    /// 1–80 characters, unique within the tenant.
    pub name: String,
    /// How its queue is served.
    pub routing: RoutingMode,
    /// Its members (operators of the tenant).
    pub operators: Vec<OperatorId>,
}

/// Changes to a department; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct DepartmentChanges {
    /// New name.
    pub name: Option<String>,
    /// New mode.
    pub routing: Option<RoutingMode>,
    /// New members.
    pub operators: Option<Vec<OperatorId>>,
}

/// Most chats a limit may allow (a sanity bound on input, not a product rule).
pub const MAX_CHAT_LIMIT: u32 = 100;

/// A chat limit as given by an admin: `None` (no own limit) or 1..=[`MAX_CHAT_LIMIT`].
pub fn check_chat_limit(limit: Option<u32>) -> Result<Option<u32>, AppError> {
    match limit {
        Some(limit) if !(1..=MAX_CHAT_LIMIT).contains(&limit) => Err(AppError::InvalidRequest(
            format!("a chat limit is 1 to {MAX_CHAT_LIMIT}"),
        )),
        other => Ok(other),
    }
}

impl App {
    /// The tenant's departments (any operator of the tenant: the console shows them).
    pub async fn departments(
        &self,
        operator: &OperatorPrincipal,
    ) -> Result<Vec<Department>, AppError> {
        Ok(self.store.list_departments(operator.tenant_id).await?)
    }

    /// Creates a department (admins; audited). A taken name is
    /// `Conflict("department_name")`.
    pub async fn create_department(
        &self,
        admin: &OperatorPrincipal,
        input: DepartmentInput,
        now: OffsetDateTime,
    ) -> Result<Department, AppError> {
        Self::require_admin(admin)?;
        let name = crate::admin::display_text(&input.name, 80, "department name")?;
        self.refuse_taken_name(admin.tenant_id, &name, None).await?;
        let department = Department {
            id: DepartmentId::new(),
            tenant_id: admin.tenant_id,
            name,
            routing: input.routing,
            operators: input.operators,
            created_at: now,
        };
        self.store
            .insert_department(admin.tenant_id, &department)
            .await
            .map_err(unknown_member)?;
        self.audit(
            admin.tenant_id,
            AuditActor::Operator(admin.operator_id),
            "department_created",
            format!("department:{}", department.id),
            now,
        )
        .await?;
        self.request_dispatch(admin.tenant_id);
        Ok(department)
    }

    /// Changes a department's name, mode or members (admins; audited); absent fields
    /// stay as they are.
    pub async fn update_department(
        &self,
        admin: &OperatorPrincipal,
        id: DepartmentId,
        changes: DepartmentChanges,
        now: OffsetDateTime,
    ) -> Result<Department, AppError> {
        Self::require_admin(admin)?;
        let current = self
            .store
            .list_departments(admin.tenant_id)
            .await?
            .into_iter()
            .find(|department| department.id == id)
            .ok_or(AppError::NotFound)?;
        let name = match changes.name {
            Some(name) => crate::admin::display_text(&name, 80, "department name")?,
            None => current.name.clone(),
        };
        self.refuse_taken_name(admin.tenant_id, &name, Some(id))
            .await?;
        let department = Department {
            name,
            routing: changes.routing.unwrap_or(current.routing),
            operators: changes
                .operators
                .unwrap_or_else(|| current.operators.clone()),
            ..current
        };
        self.store
            .update_department(admin.tenant_id, &department)
            .await
            .map_err(unknown_member)?;
        self.audit(
            admin.tenant_id,
            AuditActor::Operator(admin.operator_id),
            "department_updated",
            format!("department:{id}"),
            now,
        )
        .await?;
        self.request_dispatch(admin.tenant_id);
        Ok(department)
    }

    /// Deletes a department (admins; audited): its waiting chats join the general queue.
    pub async fn delete_department(
        &self,
        admin: &OperatorPrincipal,
        id: DepartmentId,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        Self::require_admin(admin)?;
        self.store.delete_department(admin.tenant_id, id).await?;
        self.audit(
            admin.tenant_id,
            AuditActor::Operator(admin.operator_id),
            "department_deleted",
            format!("department:{id}"),
            now,
        )
        .await?;
        self.request_dispatch(admin.tenant_id);
        Ok(())
    }

    /// `Conflict("department_name")` when another department of the tenant has this name
    /// ignoring case ("Sales" and "sales" would look the same to visitors). The store's
    /// unique constraint still catches a race with the exact same spelling.
    async fn refuse_taken_name(
        &self,
        tenant: TenantId,
        name: &str,
        except: Option<DepartmentId>,
    ) -> Result<(), AppError> {
        let wanted = name.to_lowercase();
        let taken = self
            .store
            .list_departments(tenant)
            .await?
            .iter()
            .any(|other| Some(other.id) != except && other.name.to_lowercase() == wanted);
        if taken {
            return Err(AppError::Conflict("department_name"));
        }
        Ok(())
    }

    /// The tenant's routing settings (any operator of the tenant).
    pub async fn routing_settings(
        &self,
        operator: &OperatorPrincipal,
    ) -> Result<RoutingSettings, AppError> {
        Ok(self
            .store
            .fetch_routing_settings(operator.tenant_id)
            .await?)
    }

    /// Replaces the tenant's routing settings (admins; audited).
    pub async fn update_routing_settings(
        &self,
        admin: &OperatorPrincipal,
        settings: RoutingSettings,
        now: OffsetDateTime,
    ) -> Result<RoutingSettings, AppError> {
        Self::require_admin(admin)?;
        check_chat_limit(settings.max_chats_per_operator)?;
        self.store
            .update_routing_settings(admin.tenant_id, &settings)
            .await?;
        self.audit(
            admin.tenant_id,
            AuditActor::Operator(admin.operator_id),
            "routing_settings_updated",
            format!(
                "routing={} max_chats={}",
                settings.routing.as_str(),
                settings
                    .max_chats_per_operator
                    .map_or("none".to_owned(), |limit| limit.to_string())
            ),
            now,
        )
        .await?;
        self.request_dispatch(admin.tenant_id);
        Ok(settings)
    }
}

/// A department member that is not an operator of the tenant is the caller's mistake.
fn unknown_member(error: livehelp_store::StoreError) -> AppError {
    match error {
        livehelp_store::StoreError::NotFound => {
            AppError::InvalidRequest("a member is not an operator of this tenant".into())
        }
        other => other.into(),
    }
}

/// The routing mode and members of the queue `conversation` waits in. A department that
/// no longer exists counts as the general queue.
fn queue_of<'a>(
    conversation: &Conversation,
    settings: &RoutingSettings,
    departments: &'a [Department],
) -> (RoutingMode, Option<&'a [OperatorId]>) {
    conversation
        .department_id
        .and_then(|id| departments.iter().find(|department| department.id == id))
        .map_or((settings.routing, None), |department| {
            (department.routing, Some(department.operators.as_slice()))
        })
}

/// The shortest window an assignment rate is measured over. A burst of instant
/// assignments (free operators taking a backlog at once) says nothing about how fast
/// places free up afterwards; spreading it over at least this long keeps the estimate
/// from promising seconds while every operator is busy.
pub const MIN_RATE_WINDOW_SECONDS: f64 = 900.0;

/// Seconds to wait at `position` given a queue's recent assignment times (newest first):
/// `position` divided by the assignment rate, measured from the oldest assignment until
/// now (a queue that stalled since must not look fast) and over at least
/// [`MIN_RATE_WINDOW_SECONDS`]; [`COLD_START_SECONDS_PER_POSITION`] per place while there
/// are fewer than two assignments to measure.
pub fn estimate_wait(position: u64, recent: &[OffsetDateTime], now: OffsetDateTime) -> u64 {
    if let (Some(newest), Some(oldest)) = (recent.first(), recent.last())
        && recent.len() >= 2
    {
        let span = (now.max(*newest) - *oldest)
            .as_seconds_f64()
            .max(MIN_RATE_WINDOW_SECONDS);
        let per_second = recent.len() as f64 / span;
        return (position as f64 / per_second).ceil() as u64;
    }
    position.saturating_mul(COLD_START_SECONDS_PER_POSITION)
}

/// The available operators a dispatcher may still give chats to, with their loads.
struct CandidatePool {
    loads: Vec<OperatorLoad>,
    names: HashMap<OperatorId, String>,
}

impl CandidatePool {
    async fn load(app: &App, tenant: TenantId) -> Result<Self, AppError> {
        let available = app.available_operators(tenant).await?;
        let ids: HashSet<OperatorId> = available.iter().map(|operator| operator.id).collect();
        let loads = app
            .store
            .operator_loads(tenant)
            .await?
            .into_iter()
            .filter(|load| ids.contains(&load.operator_id))
            .collect();
        let names = available
            .into_iter()
            .map(|operator| (operator.id, operator.display_name))
            .collect();
        Ok(Self { loads, names })
    }

    /// The next operator for a chat of a queue in `mode` (members `None`: everyone),
    /// other than `except`, under their limit.
    fn pick(
        &self,
        mode: RoutingMode,
        members: Option<&[OperatorId]>,
        except: Option<OperatorId>,
    ) -> Option<OperatorId> {
        let candidates = self.loads.iter().filter(|load| {
            Some(load.operator_id) != except
                && members.is_none_or(|members| members.contains(&load.operator_id))
                && load.limit.is_none_or(|limit| load.active < limit)
        });
        // `None` sorts before any instant: never assigned counts as idle longest.
        let chosen = match mode {
            RoutingMode::Manual => None,
            RoutingMode::LeastBusy => {
                candidates.min_by_key(|load| (load.active, load.last_assigned_at, load.operator_id))
            }
            RoutingMode::RoundRobin => {
                candidates.min_by_key(|load| (load.last_assigned_at, load.operator_id))
            }
        };
        chosen.map(|load| load.operator_id)
    }

    fn name(&self, operator: OperatorId) -> String {
        self.names.get(&operator).cloned().unwrap_or_default()
    }

    fn assigned(&mut self, operator: OperatorId) {
        if let Some(load) = self
            .loads
            .iter_mut()
            .find(|load| load.operator_id == operator)
        {
            load.active += 1;
            load.last_assigned_at = Some(OffsetDateTime::now_utc());
        }
    }

    fn remove(&mut self, operator: OperatorId) {
        self.loads.retain(|load| load.operator_id != operator);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(active: u32, limit: Option<u32>, last: Option<i64>) -> OperatorLoad {
        OperatorLoad {
            operator_id: OperatorId::new(),
            active,
            limit,
            last_assigned_at: last
                .map(|seconds| OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(seconds)),
        }
    }

    fn pool(loads: Vec<OperatorLoad>) -> CandidatePool {
        CandidatePool {
            loads,
            names: HashMap::new(),
        }
    }

    #[test]
    fn least_busy_prefers_fewest_chats_then_longest_idle() {
        let (a, b, c) = (
            load(2, None, Some(1)),
            load(1, None, Some(9)),
            load(1, None, Some(5)),
        );
        let ids = (a.operator_id, b.operator_id, c.operator_id);
        let pool = pool(vec![a, b, c]);
        assert_eq!(pool.pick(RoutingMode::LeastBusy, None, None), Some(ids.2));
        assert_eq!(
            pool.pick(RoutingMode::LeastBusy, None, Some(ids.2)),
            Some(ids.1)
        );
        assert_eq!(pool.pick(RoutingMode::Manual, None, None), None);
    }

    #[test]
    fn round_robin_takes_the_least_recently_assigned_and_respects_limits_and_members() {
        let (a, b, c) = (
            load(0, None, None),
            load(0, None, Some(3)),
            load(3, Some(3), Some(1)),
        );
        let ids = [a.operator_id, b.operator_id, c.operator_id];
        let mut pool = pool(vec![a, b, c]);
        assert_eq!(pool.pick(RoutingMode::RoundRobin, None, None), Some(ids[0]));
        pool.assigned(ids[0]);
        // c is full, a was just assigned: b is next.
        assert_eq!(pool.pick(RoutingMode::RoundRobin, None, None), Some(ids[1]));
        assert_eq!(
            pool.pick(RoutingMode::RoundRobin, Some(&[ids[2]]), None),
            None,
            "the only member is at their limit"
        );
    }

    #[test]
    fn estimate_uses_the_recent_rate_or_the_cold_start_figure() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(10_000);
        assert_eq!(
            estimate_wait(3, &[], now),
            3 * COLD_START_SECONDS_PER_POSITION
        );
        // 30 assignments over the last 3,000 s: one per 100 s.
        let steady: Vec<_> = (0..30)
            .map(|i| now - time::Duration::seconds(i * 100 + 100))
            .collect();
        assert_eq!(estimate_wait(2, &steady, now), 200);
        // The same thirty, but the last one 20 minutes ago: slower now.
        let stalled: Vec<_> = steady
            .iter()
            .map(|at| *at - time::Duration::seconds(1_200))
            .collect();
        assert_eq!(estimate_wait(2, &stalled, now), 280);
        // Four instant assignments a second ago (a backlog taken at once): measured over
        // the minimum window, not as one place per second.
        let burst = vec![now - time::Duration::seconds(1); 4];
        assert_eq!(estimate_wait(1, &burst, now), 225);
    }
}
