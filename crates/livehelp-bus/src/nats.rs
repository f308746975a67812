//! [`NatsBus`]: the bus across the nodes of a cluster, on NATS core publish/subscribe
//! (no JetStream: the bus is only a wake-up, the store is the record).
//!
//! * Events go to the subject [`Topic::subject`] names, as JSON (`wire.rs`). Every
//!   subscription is its own NATS subscription, and the node's own events come back
//!   through the broker like everyone else's, so there is one delivery path.
//! * `subscribe` flushes, so the server has the subscription before it returns: an event
//!   published after that, by any node, reaches it.
//! * Missed events are reported, never hidden: when NATS reports a slow consumer (its
//!   per-subscription buffer overflowed and it dropped messages) or the connection drops
//!   and comes back (events published meanwhile are gone), every subscription of this
//!   node yields [`BusItem::Lagged`] and its owner catches up from the store.
//! * Presence: every `heartbeat_interval` (and at once when this node's set changes) the
//!   node publishes its connected operators on `lh.presence`, valid for `presence_ttl`.
//!   Other nodes keep the latest announcement of each node until it expires, so a killed
//!   node's operators disappear everywhere within `presence_ttl`. [`NatsBus::leave`]
//!   announces an empty set at a clean shutdown.
//! * Publishing never blocks for long: a publish that cannot be queued to the client
//!   within a second (the broker has been unreachable long enough to fill its buffer) is
//!   dropped and logged; subscribers notice the gap by `seq`, or by `Lagged` on reconnect.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::{Client, ConnectOptions, Event};
use async_trait::async_trait;
use futures_util::stream::{self, StreamExt};
use livehelp_domain::{OperatorId, TenantId};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::BroadcastStream;
use uuid::Uuid;

use crate::presence::{LocalPresence, RemotePresence};
use crate::wire::{HeartbeatDto, decode_event, decode_heartbeat, encode_event, encode_heartbeat};
use crate::{Bus, BusEvent, BusItem, Subscription, Topic};

/// The subject of presence heartbeats (not tenant data: ids only).
pub const PRESENCE_SUBJECT: &str = "lh.presence";

/// How long a publish may wait for room in the client's outgoing buffer.
const PUBLISH_WAIT: Duration = Duration::from_secs(1);

/// Settings of a [`NatsBus`].
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// Connection name shown by the NATS server's monitoring.
    pub name: String,
    /// How often this node announces its connected operators.
    pub heartbeat_interval: Duration,
    /// How long an announcement counts: a node silent for this long is taken for dead.
    /// Three intervals, so one or two lost heartbeats do not flap presence.
    pub presence_ttl: Duration,
    /// Messages NATS buffers per subscription before it reports a slow consumer.
    pub subscription_capacity: usize,
}

impl Default for NatsOptions {
    fn default() -> Self {
        Self {
            name: "livehelp".to_owned(),
            heartbeat_interval: Duration::from_secs(10),
            presence_ttl: Duration::from_secs(30),
            subscription_capacity: 4096,
        }
    }
}

/// Why the bus could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to NATS at {url}: {message}")]
pub struct NatsError {
    url: String,
    message: String,
}

/// The bus on a NATS server (or cluster). Cheap to share behind an `Arc`; dropping it
/// stops its heartbeat tasks.
pub struct NatsBus {
    client: Client,
    /// Fires when this node may have missed events (slow consumer, reconnect).
    lagged: broadcast::Sender<()>,
    local: Arc<LocalPresence>,
    remote: Arc<RemotePresence>,
    node: String,
    options: NatsOptions,
    tasks: Vec<JoinHandle<()>>,
}

impl NatsBus {
    /// Connects to `url` (e.g. `nats://127.0.0.1:4222`; several comma-separated servers
    /// are fine) and starts the presence tasks. Fails if no server answers now; after
    /// that the client reconnects by itself for as long as it takes.
    pub async fn connect(url: &str, options: NatsOptions) -> Result<NatsBus, NatsError> {
        let (lagged, _) = broadcast::channel(16);
        let on_event = lagged.clone();
        let client = ConnectOptions::new()
            .name(&options.name)
            .subscription_capacity(options.subscription_capacity)
            .event_callback(move |event| {
                let on_event = on_event.clone();
                async move {
                    match event {
                        // Connected is also the event after a reconnect: whatever was
                        // published while we were away is gone.
                        Event::SlowConsumer(_) | Event::Connected => {
                            tracing::warn!(%event, "NATS: subscribers may have missed events");
                            let _ = on_event.send(());
                        }
                        Event::Disconnected | Event::LameDuckMode => {
                            tracing::warn!(%event, "NATS");
                        }
                        other => tracing::info!(event = %other, "NATS"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|error| NatsError {
                url: url.to_owned(),
                message: error.to_string(),
            })?;
        let mut bus = NatsBus {
            client,
            lagged,
            local: Arc::default(),
            remote: Arc::default(),
            node: Uuid::new_v4().simple().to_string(),
            options,
            tasks: Vec::new(),
        };
        bus.start_presence().await.map_err(|message| NatsError {
            url: url.to_owned(),
            message,
        })?;
        Ok(bus)
    }

    /// This node's id in presence heartbeats.
    pub fn node_id(&self) -> &str {
        &self.node
    }

    /// Clean shutdown: tells the other nodes at once that nobody is connected here any
    /// more (instead of letting them wait for the time-to-live), and flushes.
    pub async fn leave(&self) {
        for task in &self.tasks {
            task.abort();
        }
        let leaving = HeartbeatDto {
            node: self.node.clone(),
            ttl_ms: 0,
            operators: Vec::new(),
        };
        publish(&self.client, PRESENCE_SUBJECT, encode_heartbeat(&leaving)).await;
        if let Err(error) = self.client.flush().await {
            tracing::warn!(%error, "NATS: flush at shutdown");
        }
    }

    async fn start_presence(&mut self) -> Result<(), String> {
        let mut heartbeats = self
            .client
            .subscribe(PRESENCE_SUBJECT)
            .await
            .map_err(|error| error.to_string())?;
        let remote = Arc::clone(&self.remote);
        let me = self.node.clone();
        self.tasks.push(tokio::spawn(async move {
            while let Some(message) = heartbeats.next().await {
                match decode_heartbeat(&message.payload) {
                    Ok(heartbeat) if heartbeat.node != me => {
                        let expires_at = Instant::now() + Duration::from_millis(heartbeat.ttl_ms);
                        remote.announce(&heartbeat.node, expires_at, heartbeat.keys());
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "NATS: unreadable presence heartbeat"),
                }
            }
        }));
        let client = self.client.clone();
        let local = Arc::clone(&self.local);
        let node = self.node.clone();
        let interval = self.options.heartbeat_interval;
        let ttl = self.options.presence_ttl;
        self.tasks.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = local.changed() => {}
                }
                let heartbeat = HeartbeatDto {
                    node: node.clone(),
                    ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
                    operators: local
                        .snapshot()
                        .into_iter()
                        .map(|(tenant, operator)| (tenant.as_uuid(), operator.as_uuid()))
                        .collect(),
                };
                publish(&client, PRESENCE_SUBJECT, encode_heartbeat(&heartbeat)).await;
            }
        }));
        self.client.flush().await.map_err(|error| error.to_string())
    }
}

impl Drop for NatsBus {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, topic: Topic, event: BusEvent) {
        publish(&self.client, &topic.subject(), encode_event(&event)).await;
    }

    async fn subscribe(&self, topic: Topic) -> Subscription {
        let lags = BroadcastStream::new(self.lagged.subscribe()).map(|_| BusItem::Lagged);
        let guard = self.local.track(topic);
        let subject = topic.subject();
        let subscriber = match self.client.subscribe(subject.clone()).await {
            Ok(subscriber) => subscriber,
            Err(error) => {
                // The client is closed for good. Report a lag so the owner reads the store,
                // then only further lags.
                tracing::error!(%error, %subject, "NATS: cannot subscribe");
                let first = stream::once(async { BusItem::Lagged });
                return first
                    .chain(lags)
                    .map(move |item| {
                        let _counted = &guard;
                        item
                    })
                    .boxed();
            }
        };
        // Make sure the server has the subscription before returning.
        if let Err(error) = self.client.flush().await {
            tracing::warn!(%error, %subject, "NATS: flush after subscribe");
        }
        let events = subscriber.filter_map(move |message| {
            let subject = message.subject.to_string();
            async move {
                match decode_event(&message.payload) {
                    Ok(event) => Some(BusItem::Event(Arc::new(event))),
                    Err(error) => {
                        tracing::warn!(%error, %subject, "NATS: unreadable event dropped");
                        Some(BusItem::Lagged)
                    }
                }
            }
        });
        stream::select(events, lags)
            .map(move |item| {
                // The guard lives as long as the stream (presence.rs).
                let _counted = &guard;
                item
            })
            .boxed()
    }

    async fn present_operators(&self, tenant: TenantId) -> Vec<OperatorId> {
        let mut present = self.local.operators(tenant);
        present.extend(self.remote.operators(tenant, Instant::now()));
        present.into_iter().collect()
    }
}

/// Publishes, giving up (with a log line) when the client cannot take it in time.
async fn publish(client: &Client, subject: &str, payload: Vec<u8>) {
    let subject = subject.to_owned();
    match tokio::time::timeout(
        PUBLISH_WAIT,
        client.publish(subject.clone(), payload.into()),
    )
    .await
    {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, %subject, "NATS: publish failed"),
        Err(_) => tracing::warn!(%subject, "NATS: publish dropped, the client buffer is full"),
    }
}
