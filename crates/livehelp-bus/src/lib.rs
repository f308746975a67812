//! The event bus: how a change made by one connection reaches the others. A [`Bus`]
//! carries [`BusEvent`]s on [`Topic`]s; [`InProcessBus`] does it inside one process with
//! tokio broadcast channels, and `nats::NatsBus` (cargo feature `nats`) across the nodes
//! of a cluster, on subjects from [`Topic::subject`].
//!
//! The bus is only a wake-up. Ordering and completeness come from the store's per-
//! conversation `seq`: a subscriber that lags or misses an event is told so
//! ([`BusItem::Lagged`]) and catches up from the store.
//!
//! The bus also knows operator presence ([`Bus::present_operators`]): who has an operator
//! connection open, here or on another node (`presence.rs` explains how).

#[cfg(feature = "nats")]
pub mod nats;
pub mod presence;
#[cfg(feature = "nats")]
mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures_util::stream::{BoxStream, StreamExt};
use livehelp_domain::{Conversation, ConversationId, Message, MessageAuthor, OperatorId, TenantId};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

/// Where an event is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Everything about one conversation: messages, typing, state changes.
    Conversation(TenantId, ConversationId),
    /// A tenant's queue: conversations requested, accepted, ended.
    Queue(TenantId),
    /// One operator's own events, shared by all their connections (e.g. "you accepted
    /// this conversation in another tab").
    Operator(TenantId, OperatorId),
}

impl Topic {
    /// The subject name a broker would use: `lh.<tenant>.conv.<id>`, `lh.<tenant>.queue`,
    /// `lh.<tenant>.op.<id>`.
    pub fn subject(&self) -> String {
        match self {
            Topic::Conversation(tenant, conversation) => format!("lh.{tenant}.conv.{conversation}"),
            Topic::Queue(tenant) => format!("lh.{tenant}.queue"),
            Topic::Operator(tenant, operator) => format!("lh.{tenant}.op.{operator}"),
        }
    }
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusEvent {
    /// A message was committed.
    Message(Message),
    /// Someone started or stopped typing (never stored).
    Typing {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who.
        author: MessageAuthor,
        /// Their name, if known.
        author_name: Option<String>,
        /// Started (true) or stopped (false).
        is_typing: bool,
    },
    /// A conversation changed state; carries it as it is now.
    Conversation(Conversation),
    /// A supervisor started or stopped monitoring a conversation (published to its
    /// owner's operator topic when the tenant shows monitoring).
    Monitoring {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who watches.
        supervisor_id: OperatorId,
        /// Their display name.
        supervisor_name: String,
        /// Started (true) or stopped (false).
        watching: bool,
    },
}

/// One item of a subscription.
#[derive(Debug, Clone)]
pub enum BusItem {
    /// An event, shared between subscribers.
    Event(Arc<BusEvent>),
    /// The subscriber fell behind and events were dropped; it must catch up from the store.
    Lagged,
}

/// A stream of bus items for one subscription; dropping it unsubscribes.
pub type Subscription = BoxStream<'static, BusItem>;

/// Publish/subscribe of events by topic.
#[async_trait]
pub trait Bus: Send + Sync {
    /// Publishes `event` to every current subscriber of `topic`. Never blocks on slow
    /// subscribers (they lag instead).
    async fn publish(&self, topic: Topic, event: BusEvent);
    /// Subscribes to `topic` from now on: an event published after this returns reaches
    /// the subscription (unless it lags, which it is told).
    async fn subscribe(&self, topic: Topic) -> Subscription;
    /// The operators of `tenant` that have an operator connection open right now, on this
    /// node or on any other node of the cluster, sorted. Another node's operators drop out
    /// within the bus's presence time-to-live once that node dies.
    async fn present_operators(&self, tenant: TenantId) -> Vec<OperatorId>;
}

/// Events buffered per topic before a slow subscriber lags.
const CHANNEL_CAPACITY: usize = 256;

/// The single-node bus: one tokio broadcast channel per topic with subscribers. A topic's
/// channel is created on first subscribe and dropped once nobody listens.
#[derive(Default)]
pub struct InProcessBus {
    topics: Mutex<HashMap<Topic, broadcast::Sender<Arc<BusEvent>>>>,
    presence: Arc<presence::LocalPresence>,
}

impl InProcessBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of topics with a live channel (for metrics and tests).
    pub fn topic_count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Topic, broadcast::Sender<Arc<BusEvent>>>> {
        // A panic while holding this lock cannot leave the map inconsistent (every
        // operation is a single insert/remove), so a poisoned lock is safe to reuse.
        self.topics
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, topic: Topic, event: BusEvent) {
        let mut topics = self.lock();
        if let Some(sender) = topics.get(&topic)
            && sender.send(Arc::new(event)).is_err()
        {
            // Nobody listens any more: forget the channel.
            topics.remove(&topic);
        }
    }

    async fn subscribe(&self, topic: Topic) -> Subscription {
        let receiver = {
            let mut topics = self.lock();
            let sender = topics
                .entry(topic)
                .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0);
            sender.subscribe()
        };
        let guard = self.presence.track(topic);
        BroadcastStream::new(receiver)
            .map(move |item| {
                // The guard lives as long as the stream: dropping the subscription is
                // what ends an operator's presence.
                let _counted = &guard;
                match item {
                    Ok(event) => BusItem::Event(event),
                    Err(BroadcastStreamRecvError::Lagged(_)) => BusItem::Lagged,
                }
            })
            .boxed()
    }

    async fn present_operators(&self, tenant: TenantId) -> Vec<OperatorId> {
        self.presence.operators(tenant).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typing(conversation_id: ConversationId) -> BusEvent {
        BusEvent::Typing {
            conversation_id,
            author: MessageAuthor::System,
            author_name: None,
            is_typing: true,
        }
    }

    #[tokio::test]
    async fn subscribers_get_only_their_topic() {
        let bus = InProcessBus::new();
        let tenant = TenantId::new();
        let (one, two) = (ConversationId::new(), ConversationId::new());
        let mut first = bus.subscribe(Topic::Conversation(tenant, one)).await;
        let mut second = bus.subscribe(Topic::Conversation(tenant, two)).await;
        bus.publish(Topic::Conversation(tenant, one), typing(one))
            .await;
        bus.publish(Topic::Conversation(tenant, two), typing(two))
            .await;
        for (stream, id) in [(&mut first, one), (&mut second, two)] {
            match stream.next().await {
                Some(BusItem::Event(event)) => assert_eq!(*event, typing(id)),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn same_ids_in_another_tenant_are_another_topic() {
        let bus = InProcessBus::new();
        let conversation = ConversationId::new();
        let mut mine = bus
            .subscribe(Topic::Conversation(TenantId::new(), conversation))
            .await;
        bus.publish(
            Topic::Conversation(TenantId::new(), conversation),
            typing(conversation),
        )
        .await;
        let nothing = tokio::time::timeout(std::time::Duration::from_millis(50), mine.next()).await;
        assert!(nothing.is_err(), "another tenant's event leaked");
    }

    #[tokio::test]
    async fn operators_are_present_while_subscribed_to_their_topic() {
        let bus = InProcessBus::new();
        let tenant = TenantId::new();
        let operator = OperatorId::new();
        assert!(bus.present_operators(tenant).await.is_empty());
        let console = bus.subscribe(Topic::Operator(tenant, operator)).await;
        let _queue = bus.subscribe(Topic::Queue(tenant)).await;
        assert_eq!(bus.present_operators(tenant).await, vec![operator]);
        assert!(bus.present_operators(TenantId::new()).await.is_empty());
        drop(console);
        assert!(bus.present_operators(tenant).await.is_empty());
    }

    #[tokio::test]
    async fn slow_subscriber_is_told_it_lagged_and_channels_are_dropped() {
        let bus = InProcessBus::new();
        let tenant = TenantId::new();
        let conversation = ConversationId::new();
        let topic = Topic::Conversation(tenant, conversation);
        let mut slow = bus.subscribe(topic).await;
        for _ in 0..CHANNEL_CAPACITY + 10 {
            bus.publish(topic, typing(conversation)).await;
        }
        assert!(matches!(slow.next().await, Some(BusItem::Lagged)));
        drop(slow);
        bus.publish(topic, typing(conversation)).await;
        assert_eq!(bus.topic_count(), 0);
    }
}
