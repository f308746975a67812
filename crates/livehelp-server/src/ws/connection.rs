//! One WebSocket connection: a reader loop and a writer task fed by a bounded channel.
//! Generic over `Sink`/`Stream`, so tests can drive it over channels as well as sockets.
//!
//! Delivery rule: for every conversation the connection follows it remembers the last
//! `seq` delivered. A bus event with the next `seq` is sent at once; an older one is a
//! duplicate and dropped; a newer one means something was missed, and the gap is filled
//! from the store first. So a client sees each message exactly once, in order, however
//! the bus behaves (it is only a wake-up).
//!
//! Pipelining: `send_message` frames are handed, in the order read, to a task of the
//! connection's own ([`send_loop`]) that appends them one after another and sends each
//! `ack`, so the reader keeps delivering the other side's messages while a send commits
//! (an operator with several chats would otherwise deliver nothing during each of their
//! own commits). Sends are answered in the order read (refusals too); any other frame
//! waits until the sends read before it are answered, so frames still take effect, and
//! are answered, in the order the client sent them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use livehelp_app::{App, AppError, BargeMode, Principal, TransferTarget};
use livehelp_bus::{BusEvent, BusItem, Topic};
use livehelp_domain::{
    Conversation, ConversationId, ConversationState, Message, MessageAuthor, OperatorStatus,
    SessionId,
};
use livehelp_protocol::{
    ClientFrame, ErrorCode, HARD_FRAME_LIMIT, PROTOCOL_VERSION, ParticipantDto, SOFT_FRAME_LIMIT,
    ServerFrame,
};
use livehelp_store::Appended;
use tokio::sync::{mpsc, watch};
use tokio_stream::StreamMap;
use uuid::Uuid;

use crate::{ApiError, AppState, convert};

/// Frames queued for the writer before the reader waits (back-pressure on slow readers).
const OUTGOING_CAPACITY: usize = 256;
/// `send_message` frames read but not yet answered before the reader waits.
const SENDS_IN_FLIGHT: usize = 64;
/// Close code when an operator's login session ended (logout, revocation, disabling,
/// suspension): an application code, so clients do not confuse it with 1008 (frame too
/// large) and can go to the login page instead of reconnecting.
pub const SESSION_ENDED_CLOSE: u16 = 4001;
/// How long a closing connection keeps reading for the client's close answer.
const CLOSE_DRAIN: Duration = Duration::from_secs(2);

/// What the reader asks the writer to do.
#[derive(Debug)]
pub enum Outgoing {
    /// Send a frame, already encoded as JSON text.
    Frame(String),
    /// Send a WebSocket ping.
    Ping,
    /// Send a close frame with this code and reason, then stop.
    Close(u16, &'static str),
}

/// Serves one connection until the client leaves, the socket fails, or shutdown.
pub async fn run<S, R>(
    state: AppState,
    principal: Principal,
    session: Option<SessionId>,
    sink: S,
    stream: R,
) where
    S: Sink<WsMessage> + Send + Unpin + 'static,
    R: Stream<Item = Result<WsMessage, axum::Error>> + Send + Unpin,
{
    let role = match principal {
        Principal::Visitor(_) => "visitor",
        Principal::Operator(_) => "operator",
    };
    let gauge = state
        .metrics
        .ws_connections
        .get_or_create(&vec![("role", role.to_owned())])
        .clone();
    gauge.inc();
    let (out, outgoing) = mpsc::channel(OUTGOING_CAPACITY);
    let writer = tokio::spawn(write_loop(sink, outgoing));
    let (sends, jobs) = mpsc::channel(SENDS_IN_FLIGHT);
    let pending = Arc::new(watch::Sender::new(0usize));
    let sender = tokio::spawn(send_loop(
        state.clone(),
        principal.clone(),
        out.clone(),
        jobs,
        Arc::clone(&pending),
    ));
    let mut connection = Connection {
        sends,
        pending,
        app: state.app.clone(),
        state: state.clone(),
        principal,
        out,
        subscriptions: StreamMap::new(),
        followed: HashMap::new(),
        session,
        monitoring: Vec::new(),
        queue_dirty: false,
        queue_sent: None,
    };
    if let Err(error) = connection.serve(stream).await {
        tracing::debug!(%error, "connection ended with an error");
    }
    connection.stop_monitoring().await;
    drop(connection);
    let _ = sender.await;
    let _ = writer.await;
    gauge.dec();
}

struct Connection {
    /// `send_message` jobs for [`send_loop`], in the order read.
    sends: mpsc::Sender<SendJob>,
    /// How many jobs handed to [`send_loop`] are not answered yet.
    pending: Arc<watch::Sender<usize>>,
    app: App,
    state: AppState,
    principal: Principal,
    out: mpsc::Sender<Outgoing>,
    subscriptions: StreamMap<Topic, livehelp_bus::Subscription>,
    /// Conversation id → last `seq` delivered to this client.
    followed: HashMap<ConversationId, i64>,
    /// The operator's login session, re-checked on every ping so a logout, revocation,
    /// disabling or suspension also closes open sockets.
    session: Option<SessionId>,
    /// Conversations a supervisor monitors from this socket (their owners are told when
    /// it closes, if the tenant shows monitoring).
    monitoring: Vec<Conversation>,
    /// Visitor: the queue moved since the last `queue_position`.
    queue_dirty: bool,
    /// Visitor: the last `queue_position` sent (conversation, position, estimate).
    queue_sent: Option<(ConversationId, u64, u64)>,
}

/// How often a visitor's queue position is re-checked after the queue moved.
const QUEUE_POSITION_EVERY: Duration = Duration::from_secs(1);

/// Why the reader loop stopped early.
#[derive(Debug, thiserror::Error)]
enum Stop {
    /// The writer is gone (client disconnected).
    #[error("client disconnected")]
    WriterGone,
}

impl Connection {
    async fn serve<R>(&mut self, mut stream: R) -> Result<(), Stop>
    where
        R: Stream<Item = Result<WsMessage, axum::Error>> + Send + Unpin,
    {
        self.hello().await?;
        let mut shutdown = self.state.shutdown.clone();
        let ping_every = self.state.options.ping_interval;
        let mut ping = tokio::time::interval(ping_every);
        ping.tick().await;
        let mut last_heard = tokio::time::Instant::now();
        let mut queue_tick = tokio::time::interval(QUEUE_POSITION_EVERY);
        queue_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = async { let _ = shutdown.wait_for(|stopping| *stopping).await; } => {
                    self.send_raw(Outgoing::Close(1001, "server restarting; reconnect and resume")).await?;
                    // Keep reading (and ignoring) what the client still sends until it
                    // answers the close: dropping a socket with unread data makes the
                    // kernel reset it, and the client would lose its last acks and see
                    // 1006 instead of 1001. Frames read here were not processed, so the
                    // client resends them after reconnecting.
                    let _ = tokio::time::timeout(CLOSE_DRAIN, async {
                        while let Some(Ok(message)) = stream.next().await {
                            if matches!(message, WsMessage::Close(_)) {
                                break;
                            }
                        }
                    })
                    .await;
                    return Ok(());
                }
                incoming = stream.next() => {
                    last_heard = tokio::time::Instant::now();
                    match incoming {
                        None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => return Ok(()),
                        Some(Ok(WsMessage::Text(text))) => {
                            if !self.on_text(text.as_str()).await? {
                                return Ok(());
                            }
                        }
                        Some(Ok(WsMessage::Binary(_))) => {
                            self.error(ErrorCode::InvalidFrame, "send JSON text frames, not binary", None).await?;
                        }
                        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
                    }
                }
                Some((topic, item)) = self.subscriptions.next(), if !self.subscriptions.is_empty() => {
                    self.on_bus(topic, item).await?;
                }
                _ = queue_tick.tick(), if self.queue_dirty => {
                    self.queue_dirty = false;
                    if let Err(FrameFailure::Stop(stop)) = self.send_queue_position().await {
                        return Err(stop);
                    }
                }
                _ = ping.tick() => {
                    if !self.session_still_valid().await {
                        self.error(ErrorCode::Unauthorized, "your session has ended; log in again", None).await?;
                        self.send_raw(Outgoing::Close(SESSION_ENDED_CLOSE, "session ended")).await?;
                        return Ok(());
                    }
                    if last_heard.elapsed() > ping_every * 3 {
                        self.send_raw(Outgoing::Close(1001, "idle timeout")).await?;
                        return Ok(());
                    }
                    self.send_raw(Outgoing::Ping).await?;
                }
            }
        }
    }

    /// Operators: whether their login session still stands with the same role and an
    /// enabled account. Visitors: whether their tenant is still active. A database
    /// hiccup keeps the socket open (the next check decides).
    async fn session_still_valid(&mut self) -> bool {
        let check = match (&self.principal, self.session) {
            (Principal::Operator(operator), Some(session)) => {
                self.app
                    .operator_session_active(operator, session, time::OffsetDateTime::now_utc())
                    .await
            }
            // A visitor's socket closes when their tenant is suspended.
            (Principal::Visitor(visitor), _) => self.app.tenant_active(visitor.tenant_id).await,
            (Principal::Operator(_), None) => return true,
        };
        match check {
            Ok(active) => active,
            Err(error) => {
                tracing::warn!(%error, "could not re-check an operator session");
                true
            }
        }
    }

    /// Sends `hello`, subscribes to the operator's queue and own topic, sends the queue.
    async fn hello(&mut self) -> Result<(), Stop> {
        let (you, conversations) = match &self.principal {
            Principal::Visitor(visitor) => {
                let open = self.app.open_conversation(visitor).await;
                let you = ParticipantDto {
                    id: visitor.visitor_id.as_uuid(),
                    name: visitor.name.clone(),
                };
                (you, open.map(|open| open.into_iter().collect::<Vec<_>>()))
            }
            Principal::Operator(operator) => {
                let you = ParticipantDto {
                    id: operator.operator_id.as_uuid(),
                    name: Some(operator.display_name.clone()),
                };
                (you, self.app.active_conversations(operator).await)
            }
        };
        let conversations = match conversations {
            Ok(conversations) => conversations,
            Err(error) => {
                self.app_error(error, None).await?;
                return self
                    .send_raw(Outgoing::Close(1011, "could not load conversations"))
                    .await;
            }
        };
        let role = match self.principal {
            Principal::Visitor(_) => "visitor",
            Principal::Operator(_) => "operator",
        };
        let status = match &self.principal {
            Principal::Operator(operator) => match self.app.operator_status(operator).await {
                Ok(status) => Some(status.as_str().to_owned()),
                Err(error) => {
                    tracing::warn!(%error, "could not read operator status");
                    None
                }
            },
            Principal::Visitor(visitor) => {
                if let Err(error) = self
                    .app
                    .touch_visitor(visitor, time::OffsetDateTime::now_utc())
                    .await
                {
                    tracing::warn!(%error, "could not mark the visitor session seen");
                }
                None
            }
        };
        self.send(ServerFrame::Hello {
            protocol_version: PROTOCOL_VERSION,
            role: role.to_owned(),
            you,
            conversations: conversations.iter().map(convert::conversation).collect(),
            status,
        })
        .await?;
        if let Principal::Operator(operator) = &self.principal {
            let (tenant, id) = (operator.tenant_id, operator.operator_id);
            self.subscribe(Topic::Queue(tenant)).await;
            self.subscribe(Topic::Operator(tenant, id)).await;
            self.send_queue().await?;
            // A newly connected operator may take chats waiting in automatic queues.
            self.app.request_dispatch(tenant);
        }
        Ok(())
    }

    /// Visitor: sends where their queued conversation stands, if it changed; follows the
    /// tenant's queue while it waits and stops once it is served or over.
    async fn send_queue_position(&mut self) -> Result<(), FrameFailure> {
        let Principal::Visitor(visitor) = &self.principal else {
            return Ok(());
        };
        let visitor = visitor.clone();
        let Some(conversation_id) = self.followed.keys().next().copied() else {
            return Ok(());
        };
        let status = self
            .app
            .queue_status(&visitor, conversation_id, time::OffsetDateTime::now_utc())
            .await?;
        let queue = Topic::Queue(visitor.tenant_id);
        let Some(status) = status else {
            self.subscriptions.remove(&queue);
            self.queue_sent = None;
            return Ok(());
        };
        self.subscribe(queue).await;
        let current = (
            conversation_id,
            status.position,
            status.estimated_wait_seconds,
        );
        if self.queue_sent != Some(current) {
            self.queue_sent = Some(current);
            self.send(ServerFrame::QueuePosition {
                conversation_id: conversation_id.as_uuid(),
                position: status.position,
                estimated_wait_seconds: status.estimated_wait_seconds,
            })
            .await?;
        }
        Ok(())
    }

    /// Tells the owners of monitored conversations that this supervisor stopped watching.
    async fn stop_monitoring(&mut self) {
        let Principal::Operator(operator) = &self.principal else {
            return;
        };
        for conversation in std::mem::take(&mut self.monitoring) {
            if let Err(error) = self.app.stop_monitoring(operator, &conversation).await {
                tracing::debug!(%error, "could not announce the end of monitoring");
            }
        }
    }

    async fn send_queue(&mut self) -> Result<(), Stop> {
        let Principal::Operator(operator) = &self.principal else {
            return Ok(());
        };
        match self.app.queue(operator).await {
            Ok((queue, total)) => {
                self.send(ServerFrame::Queue {
                    conversations: queue.iter().map(convert::conversation).collect(),
                    total,
                })
                .await
            }
            Err(error) => self.app_error(error, None).await,
        }
    }

    /// Handles one text frame. Returns `false` when the connection must close.
    async fn on_text(&mut self, text: &str) -> Result<bool, Stop> {
        self.state.metrics.frames_received.inc();
        if text.len() > HARD_FRAME_LIMIT {
            self.error(
                ErrorCode::FrameTooLarge,
                "frame over the hard size limit; closing",
                None,
            )
            .await?;
            self.send_raw(Outgoing::Close(1008, "frame too large"))
                .await?;
            return Ok(false);
        }
        if text.len() > SOFT_FRAME_LIMIT {
            self.error(
                ErrorCode::FrameTooLarge,
                &format!("frame over {SOFT_FRAME_LIMIT} bytes"),
                None,
            )
            .await?;
            return Ok(true);
        }
        let frame = match ClientFrame::parse(text) {
            Ok(frame) => frame,
            Err(error) => {
                self.error(error.code, &error.message, None).await?;
                return Ok(true);
            }
        };
        let client_msg_id = frame.client_msg_id();
        if let Err(error) = self.on_frame(frame).await {
            match error {
                FrameFailure::App(error) => self.app_error(error, client_msg_id).await?,
                FrameFailure::Stop(stop) => return Err(stop),
            }
        }
        Ok(true)
    }

    async fn on_frame(&mut self, frame: ClientFrame) -> Result<(), FrameFailure> {
        if !matches!(
            frame,
            ClientFrame::SendMessage { .. } | ClientFrame::Typing { .. } | ClientFrame::Ping {}
        ) {
            // Earlier sends take effect first (an `end_chat` right after a message must
            // not overtake it).
            let mut pending = self.pending.subscribe();
            let _ = pending.wait_for(|pending| *pending == 0).await;
        }
        let now = time::OffsetDateTime::now_utc();
        match frame {
            ClientFrame::StartChat {
                client_msg_id,
                department_id,
                prechat,
            } => {
                let Principal::Visitor(visitor) = &self.principal else {
                    return Err(AppError::Forbidden("only visitors start chats").into());
                };
                // Only a start that would open a new conversation counts against the
                // visitor's limit; repeating a start returns the open one (BR-05).
                if self.app.open_conversation(visitor).await?.is_none() {
                    // A refused pre-chat form is answered before the limit is charged:
                    // correcting a typo must not lock the visitor out.
                    self.app.check_prechat(visitor, prechat.as_ref()).await?;
                    self.state
                        .limits
                        .chat_start(visitor.visitor_id)
                        .map_err(rate_limited)?;
                }
                let department = department_id.map(livehelp_domain::DepartmentId::from_uuid);
                let appended = self
                    .app
                    .start_chat(visitor, client_msg_id, department, prechat.as_ref(), now)
                    .await?;
                self.subscribe(Topic::Conversation(
                    appended.conversation.tenant_id,
                    appended.conversation.id,
                ))
                .await;
                self.ack(client_msg_id, &appended).await?;
                self.follow(appended.conversation.id, 0).await?;
            }
            ClientFrame::SendMessage {
                client_msg_id,
                conversation_id,
                text,
            } => {
                // A refusal goes through the send loop too, so every send is answered
                // in the order it was read.
                let refused = match &self.principal {
                    Principal::Visitor(visitor) => self
                        .state
                        .limits
                        .visitor_message(visitor.visitor_id)
                        .err()
                        .map(|retry| AppError::RateLimited {
                            retry_after_seconds: retry.0,
                        }),
                    Principal::Operator(_) => None,
                };
                self.pending.send_modify(|pending| *pending += 1);
                let job = SendJob {
                    conversation_id: ConversationId::from_uuid(conversation_id),
                    client_msg_id,
                    text,
                    now,
                    refused,
                };
                if self.sends.send(job).await.is_err() {
                    return Err(Stop::WriterGone.into());
                }
            }
            ClientFrame::Typing {
                conversation_id,
                is_typing,
            } => {
                self.app
                    .typing(
                        &self.principal,
                        ConversationId::from_uuid(conversation_id),
                        is_typing,
                    )
                    .await?;
            }
            ClientFrame::Accept {
                client_msg_id,
                conversation_id,
            } => {
                let Principal::Operator(operator) = &self.principal else {
                    return Err(AppError::Forbidden("only operators accept chats").into());
                };
                let appended = self
                    .app
                    .accept(
                        operator,
                        ConversationId::from_uuid(conversation_id),
                        client_msg_id,
                        now,
                    )
                    .await?;
                // Subscribe before the ack: once the client knows it owns the chat, what
                // is published there reaches it (typing is never stored, so it could not
                // be caught up later).
                self.subscribe(Topic::Conversation(
                    appended.conversation.tenant_id,
                    appended.conversation.id,
                ))
                .await;
                self.ack(client_msg_id, &appended).await?;
                let delivered = self
                    .followed
                    .get(&appended.conversation.id)
                    .copied()
                    .unwrap_or(0);
                self.follow(appended.conversation.id, delivered).await?;
            }
            ClientFrame::EndChat {
                client_msg_id,
                conversation_id,
            } => {
                let appended = self
                    .app
                    .end_chat(
                        &self.principal,
                        ConversationId::from_uuid(conversation_id),
                        client_msg_id,
                        now,
                    )
                    .await?;
                self.ack(client_msg_id, &appended).await?;
            }
            ClientFrame::Resume {
                conversation_id,
                after_seq,
            } => {
                if after_seq < 0 {
                    return Err(
                        AppError::InvalidRequest("after_seq must be 0 or more".into()).into(),
                    );
                }
                self.follow(ConversationId::from_uuid(conversation_id), after_seq)
                    .await?;
            }
            ClientFrame::Ping {} => self.send(ServerFrame::Pong {}).await?,
            ClientFrame::PageView {
                url,
                title,
                referrer,
                dnt,
            } => {
                let Principal::Visitor(visitor) = &self.principal else {
                    return Err(AppError::Forbidden("only visitors report page views").into());
                };
                let view = livehelp_app::PageViewInput {
                    url,
                    title,
                    referrer,
                };
                self.app.record_page_view(visitor, view, dnt, now).await?;
            }
            ClientFrame::SetStatus { status } => {
                let Principal::Operator(operator) = &self.principal else {
                    return Err(AppError::Forbidden("only operators have a status").into());
                };
                let status = OperatorStatus::parse(&status).ok_or_else(|| {
                    AppError::InvalidRequest("status must be online or away".into())
                })?;
                self.app.set_operator_status(operator, status).await?;
                if status == OperatorStatus::Online {
                    self.app.request_dispatch(operator.tenant_id);
                }
                self.send(ServerFrame::Status {
                    status: status.as_str().to_owned(),
                })
                .await?;
            }
            ClientFrame::Whisper {
                client_msg_id,
                conversation_id,
                text,
            } => {
                let operator = self.operator("only operators whisper")?;
                let appended = self
                    .app
                    .whisper(
                        &operator,
                        ConversationId::from_uuid(conversation_id),
                        client_msg_id,
                        text,
                        now,
                    )
                    .await?;
                self.ack(client_msg_id, &appended).await?;
            }
            ClientFrame::Transfer {
                client_msg_id,
                conversation_id,
                to_operator_id,
                to_department_id,
                note,
            } => {
                let operator = self.operator("only operators transfer chats")?;
                let target = match (to_operator_id, to_department_id) {
                    (Some(to), None) => {
                        TransferTarget::Operator(livehelp_domain::OperatorId::from_uuid(to))
                    }
                    (None, Some(to)) => {
                        TransferTarget::Department(livehelp_domain::DepartmentId::from_uuid(to))
                    }
                    _ => {
                        return Err(AppError::InvalidRequest(
                            "give exactly one of to_operator_id and to_department_id".into(),
                        )
                        .into());
                    }
                };
                let appended = self
                    .app
                    .transfer(
                        &operator,
                        ConversationId::from_uuid(conversation_id),
                        client_msg_id,
                        target,
                        note,
                        now,
                    )
                    .await?;
                self.ack(client_msg_id, &appended).await?;
            }
            ClientFrame::Barge {
                client_msg_id,
                conversation_id,
                mode,
            } => {
                let operator = self.operator("only supervisors barge in")?;
                let mode = match mode.as_str() {
                    "join" => BargeMode::Join,
                    "take_over" => BargeMode::TakeOver,
                    _ => {
                        return Err(AppError::InvalidRequest(
                            "mode must be join or take_over".into(),
                        )
                        .into());
                    }
                };
                let conversation_id = ConversationId::from_uuid(conversation_id);
                let appended = self
                    .app
                    .barge(&operator, conversation_id, client_msg_id, mode, now)
                    .await?;
                // Subscribe before the ack: once the client knows it owns the chat, what
                // is published there reaches it (typing is never stored, so it could not
                // be caught up later).
                self.subscribe(Topic::Conversation(
                    appended.conversation.tenant_id,
                    appended.conversation.id,
                ))
                .await;
                self.ack(client_msg_id, &appended).await?;
                let delivered = self.followed.get(&conversation_id).copied().unwrap_or(0);
                self.follow(conversation_id, delivered).await?;
            }
        }
        Ok(())
    }

    /// Starts (or restarts) following a conversation from `after_seq`: subscribe first,
    /// then replay from the store, so nothing committed in between is missed. Ends with
    /// `resumed`.
    async fn follow(
        &mut self,
        conversation_id: ConversationId,
        after_seq: i64,
    ) -> Result<(), FrameFailure> {
        let conversation = self.app.follow(&self.principal, conversation_id).await?;
        if let Principal::Operator(operator) = &self.principal
            && !self.followed.contains_key(&conversation.id)
            && self
                .app
                .record_monitoring(operator, &conversation, time::OffsetDateTime::now_utc())
                .await?
        {
            self.monitoring.push(conversation.clone());
        }
        self.subscribe(Topic::Conversation(conversation.tenant_id, conversation.id))
            .await;
        // A cursor past the end would make every later message look already delivered.
        let after_seq = after_seq.min(conversation.last_seq);
        self.followed.insert(conversation.id, after_seq);
        self.catch_up(conversation.id).await?;
        let last_seq = self
            .followed
            .get(&conversation.id)
            .copied()
            .unwrap_or(after_seq);
        self.send(ServerFrame::Resumed {
            conversation_id: conversation.id.as_uuid(),
            last_seq,
        })
        .await?;
        if matches!(self.principal, Principal::Visitor(_))
            && conversation.state == ConversationState::Queued
        {
            self.queue_sent = None;
            self.send_queue_position().await?;
        }
        Ok(())
    }

    /// The operator behind this socket, or `Forbidden(why)` for a visitor.
    fn operator(&self, why: &'static str) -> Result<livehelp_app::OperatorPrincipal, FrameFailure> {
        match &self.principal {
            Principal::Operator(operator) => Ok(operator.clone()),
            Principal::Visitor(_) => Err(AppError::Forbidden(why).into()),
        }
    }

    /// Sends every stored message after the last delivered one.
    async fn catch_up(&mut self, conversation_id: ConversationId) -> Result<(), FrameFailure> {
        loop {
            let Some(&delivered) = self.followed.get(&conversation_id) else {
                return Ok(());
            };
            let page = self
                .app
                .messages_after(&self.principal, conversation_id, delivered)
                .await?;
            for message in &page.messages {
                self.send_message(message).await?;
            }
            self.followed.insert(conversation_id, page.scanned_to);
            if !page.more {
                return Ok(());
            }
        }
    }

    async fn on_bus(&mut self, topic: Topic, item: BusItem) -> Result<(), Stop> {
        let event = match item {
            BusItem::Event(event) => event,
            BusItem::Lagged => return self.resync(topic).await,
        };
        let result = match (&*event, topic) {
            (BusEvent::Message(message), Topic::Conversation(..)) => self.on_message(message).await,
            (
                BusEvent::Typing {
                    conversation_id,
                    author,
                    author_name,
                    is_typing,
                },
                Topic::Conversation(..),
            ) => {
                if self.followed.contains_key(conversation_id) && !self.is_me(*author) {
                    self.send(ServerFrame::Typing {
                        conversation_id: conversation_id.as_uuid(),
                        author: convert::author(*author, author_name.clone()),
                        is_typing: *is_typing,
                    })
                    .await
                    .map_err(FrameFailure::Stop)
                } else {
                    Ok(())
                }
            }
            (BusEvent::Conversation(conversation), topic) => {
                self.on_conversation(conversation, topic).await
            }
            (
                BusEvent::Monitoring {
                    conversation_id,
                    supervisor_id,
                    supervisor_name,
                    watching,
                },
                Topic::Operator(..),
            ) => self
                .send(ServerFrame::Monitoring {
                    conversation_id: conversation_id.as_uuid(),
                    supervisor: ParticipantDto {
                        id: supervisor_id.as_uuid(),
                        name: Some(supervisor_name.clone()),
                    },
                    watching: *watching,
                })
                .await
                .map_err(FrameFailure::Stop),
            _ => Ok(()),
        };
        match result {
            Ok(()) => Ok(()),
            Err(FrameFailure::Stop(stop)) => Err(stop),
            Err(FrameFailure::App(error)) => self.app_error(error, None).await,
        }
    }

    async fn on_message(&mut self, message: &Message) -> Result<(), FrameFailure> {
        let Some(&delivered) = self.followed.get(&message.conversation_id) else {
            return Ok(());
        };
        if message.seq <= delivered {
            return Ok(());
        }
        if message.seq == delivered + 1 {
            self.followed.insert(message.conversation_id, message.seq);
            if App::may_see(&self.principal, message) {
                self.send_message(message).await?;
            }
            return Ok(());
        }
        self.catch_up(message.conversation_id).await
    }

    async fn on_conversation(
        &mut self,
        conversation: &Conversation,
        topic: Topic,
    ) -> Result<(), FrameFailure> {
        match (&self.principal, topic) {
            (Principal::Visitor(_), Topic::Conversation(..))
                if self.followed.contains_key(&conversation.id) =>
            {
                self.send_conversation(conversation).await?;
                // Served, requeued (transfer to a department) or over: the position
                // changes or stops.
                self.queue_dirty = true;
            }
            // The tenant's queue moved: re-check this visitor's place (only the position
            // is sent; other visitors' conversations never are).
            (Principal::Visitor(_), Topic::Queue(_)) => self.queue_dirty = true,
            (Principal::Operator(operator), Topic::Queue(_)) => {
                let handed_away = conversation.state == ConversationState::Active
                    && conversation.operator_id != Some(operator.operator_id)
                    && !App::may_monitor(operator.role)
                    && self.followed.contains_key(&conversation.id);
                self.send_conversation(conversation).await?;
                if handed_away {
                    // Transferred to someone else: a plain operator stops following it.
                    self.followed.remove(&conversation.id);
                    self.subscriptions.remove(&Topic::Conversation(
                        conversation.tenant_id,
                        conversation.id,
                    ));
                    return Ok(());
                }
                if conversation.state == ConversationState::Ended
                    && self.followed.contains_key(&conversation.id)
                {
                    // Deliver the final messages, then stop following.
                    self.catch_up(conversation.id).await?;
                    self.followed.remove(&conversation.id);
                    self.subscriptions.remove(&Topic::Conversation(
                        conversation.tenant_id,
                        conversation.id,
                    ));
                }
            }
            (Principal::Operator(operator), Topic::Operator(..)) => {
                // Accepted in another tab of the same operator: follow it here too.
                let mine = conversation.operator_id == Some(operator.operator_id);
                if mine
                    && conversation.state == ConversationState::Active
                    && !self.followed.contains_key(&conversation.id)
                {
                    self.follow(conversation.id, 0).await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The bus dropped events on `topic`: rebuild from the store.
    async fn resync(&mut self, topic: Topic) -> Result<(), Stop> {
        let result = match topic {
            Topic::Conversation(_, conversation_id) => self.catch_up(conversation_id).await,
            Topic::Queue(_) => self.send_queue().await.map_err(FrameFailure::Stop),
            Topic::Operator(..) => Ok(()),
        };
        match result {
            Ok(()) => Ok(()),
            Err(FrameFailure::Stop(stop)) => Err(stop),
            Err(FrameFailure::App(error)) => self.app_error(error, None).await,
        }
    }

    async fn subscribe(&mut self, topic: Topic) {
        if !self.subscriptions.contains_key(&topic) {
            let subscription = self.app.bus().subscribe(topic).await;
            self.subscriptions.insert(topic, subscription);
        }
    }

    fn is_me(&self, author: MessageAuthor) -> bool {
        match (&self.principal, author) {
            (Principal::Visitor(visitor), MessageAuthor::Visitor(id)) => visitor.visitor_id == id,
            (Principal::Operator(operator), MessageAuthor::Operator(id)) => {
                operator.operator_id == id
            }
            _ => false,
        }
    }

    async fn send_conversation(&mut self, conversation: &Conversation) -> Result<(), FrameFailure> {
        let view = self.app.view(conversation.clone()).await?;
        self.send(ServerFrame::Conversation {
            conversation: convert::conversation(&view),
        })
        .await?;
        Ok(())
    }

    async fn send_message(&mut self, message: &Message) -> Result<(), Stop> {
        self.state.metrics.messages_delivered.inc();
        self.send(ServerFrame::Message {
            message: convert::message(message),
        })
        .await
    }

    async fn ack(&mut self, client_msg_id: Uuid, appended: &Appended) -> Result<(), Stop> {
        let frame = ack_frame(&self.state, client_msg_id, appended);
        self.send(frame).await
    }

    async fn app_error(
        &mut self,
        error: AppError,
        client_msg_id: Option<Uuid>,
    ) -> Result<(), Stop> {
        self.api_error(ApiError::from(error), client_msg_id).await
    }

    async fn api_error(
        &mut self,
        error: ApiError,
        client_msg_id: Option<Uuid>,
    ) -> Result<(), Stop> {
        let frame = error_frame(&self.state, error, client_msg_id);
        self.send(frame).await
    }

    async fn error(
        &mut self,
        code: ErrorCode,
        message: &str,
        client_msg_id: Option<Uuid>,
    ) -> Result<(), Stop> {
        self.api_error(ApiError::new(code, message), client_msg_id)
            .await
    }

    async fn send(&mut self, frame: ServerFrame) -> Result<(), Stop> {
        self.send_raw(Outgoing::Frame(frame.to_json())).await
    }

    async fn send_raw(&mut self, outgoing: Outgoing) -> Result<(), Stop> {
        self.out.send(outgoing).await.map_err(|_| Stop::WriterGone)
    }
}

fn rate_limited(retry: crate::limits::RetryAfter) -> FrameFailure {
    FrameFailure::App(AppError::RateLimited {
        retry_after_seconds: retry.0,
    })
}

/// A frame's handling failed: either refuse the frame (error frame, keep going) or stop.
enum FrameFailure {
    App(AppError),
    Stop(Stop),
}

impl From<AppError> for FrameFailure {
    fn from(error: AppError) -> Self {
        FrameFailure::App(error)
    }
}

impl From<Stop> for FrameFailure {
    fn from(stop: Stop) -> Self {
        FrameFailure::Stop(stop)
    }
}

/// One `send_message` frame waiting for [`send_loop`].
struct SendJob {
    conversation_id: ConversationId,
    client_msg_id: Uuid,
    text: String,
    /// When the frame was read.
    now: time::OffsetDateTime,
    /// Refused before the store (rate limit): answer this error instead.
    refused: Option<AppError>,
}

/// Appends a connection's `send_message` frames one after another, in the order read,
/// and answers each with `ack` or `error`. Ends when the reader is gone and every job is
/// answered; once the client is gone the remaining jobs are dropped unanswered (the
/// client resends them with the same `client_msg_id`, which cannot double a message).
async fn send_loop(
    state: AppState,
    principal: Principal,
    out: mpsc::Sender<Outgoing>,
    mut jobs: mpsc::Receiver<SendJob>,
    pending: Arc<watch::Sender<usize>>,
) {
    let mut client_gone = false;
    while let Some(job) = jobs.recv().await {
        if !client_gone {
            let outcome = match job.refused {
                Some(error) => Err(error),
                None => {
                    state
                        .app
                        .send_message(
                            &principal,
                            job.conversation_id,
                            job.client_msg_id,
                            job.text,
                            job.now,
                        )
                        .await
                }
            };
            let frame = match outcome {
                Ok(appended) => ack_frame(&state, job.client_msg_id, &appended),
                Err(error) => error_frame(&state, ApiError::from(error), Some(job.client_msg_id)),
            };
            client_gone = out.send(Outgoing::Frame(frame.to_json())).await.is_err();
        }
        pending.send_modify(|pending| *pending = pending.saturating_sub(1));
    }
}

/// The `ack` for a committed request (counted in the metrics unless a repeat).
fn ack_frame(state: &AppState, client_msg_id: Uuid, appended: &Appended) -> ServerFrame {
    if !appended.duplicate {
        state.metrics.messages_committed.inc();
    }
    ServerFrame::Ack {
        client_msg_id,
        conversation_id: appended.conversation.id.as_uuid(),
        message_id: appended.message.id.as_uuid(),
        seq: appended.message.seq,
    }
}

/// The `error` frame for a refused request (counted in the metrics by code).
fn error_frame(state: &AppState, error: ApiError, client_msg_id: Option<Uuid>) -> ServerFrame {
    state
        .metrics
        .frame_errors
        .get_or_create(&vec![("code", error.code.as_str().to_owned())])
        .inc();
    ServerFrame::Error {
        code: error.code,
        message: error.message,
        client_msg_id,
        retry_after: error.retry_after,
        fields: error.fields,
    }
}

async fn write_loop<S>(mut sink: S, mut outgoing: mpsc::Receiver<Outgoing>)
where
    S: Sink<WsMessage> + Unpin,
{
    while let Some(item) = outgoing.recv().await {
        let result = match item {
            Outgoing::Frame(frame) => sink.send(WsMessage::Text(Utf8Bytes::from(frame))).await,
            Outgoing::Ping => sink.send(WsMessage::Ping(Default::default())).await,
            Outgoing::Close(code, reason) => {
                let close = CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                };
                let _ = sink.send(WsMessage::Close(Some(close))).await;
                break;
            }
        };
        if result.is_err() {
            break;
        }
    }
    let _ = sink.close().await;
}
