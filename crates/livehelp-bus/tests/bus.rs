//! The bus suite: the same checks on [`InProcessBus`] (always) and on [`NatsBus`] (when
//! `LIVEHELP_TEST_NATS_URL` is set, e.g. `nats://127.0.0.1:4222`; set but unreachable
//! fails). On NATS the publisher and the subscriber are separate connections, as two
//! nodes would be, and one check runs the publisher in a separate process. Every check
//! uses fresh tenant ids, so runs sharing a server do not see each other.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use livehelp_bus::nats::{NatsBus, NatsOptions};
use livehelp_bus::{Bus, BusEvent, BusItem, InProcessBus, Subscription, Topic};
use livehelp_domain::{ConversationId, MessageAuthor, OperatorId, TenantId};

const NATS_VARIABLE: &str = "LIVEHELP_TEST_NATS_URL";
/// The child process of `events_cross_processes` reads its topic from these.
const CHILD_TENANT: &str = "LIVEHELP_BUS_CHILD_TENANT";
const CHILD_CONVERSATION: &str = "LIVEHELP_BUS_CHILD_CONVERSATION";

fn nats_url(test: &str) -> Option<String> {
    match std::env::var(NATS_VARIABLE) {
        Ok(url) => Some(url),
        Err(_) => {
            eprintln!(
                "note: {NATS_VARIABLE} is not set; skipping the NATS part of `{test}` \
                 (set it, e.g. to nats://127.0.0.1:4222, to run it)"
            );
            None
        }
    }
}

async fn nats(url: &str, options: NatsOptions) -> Arc<NatsBus> {
    match NatsBus::connect(url, options).await {
        Ok(bus) => Arc::new(bus),
        Err(error) => panic!("{NATS_VARIABLE} is set but NATS does not answer: {error}"),
    }
}

/// Two nodes: `(publisher, subscriber)`, the same bus in process, two connections on NATS.
async fn pairs(test: &str) -> Vec<(&'static str, Arc<dyn Bus>, Arc<dyn Bus>)> {
    let local: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let mut pairs = vec![("in-process", local.clone(), local)];
    if let Some(url) = nats_url(test) {
        let publisher: Arc<dyn Bus> = nats(&url, NatsOptions::default()).await;
        let subscriber: Arc<dyn Bus> = nats(&url, NatsOptions::default()).await;
        pairs.push(("nats", publisher, subscriber));
    }
    pairs
}

fn typing(conversation_id: ConversationId, n: u32) -> BusEvent {
    BusEvent::Typing {
        conversation_id,
        author: MessageAuthor::System,
        author_name: Some(format!("event {n}")),
        is_typing: n.is_multiple_of(2),
    }
}

async fn next_event(subscription: &mut Subscription, what: &str) -> BusEvent {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), subscription.next()).await {
            Ok(Some(BusItem::Event(event))) => return (*event).clone(),
            Ok(Some(BusItem::Lagged)) => continue,
            Ok(None) => panic!("{what}: the subscription ended"),
            Err(_) => panic!("{what}: nothing within 5 s"),
        }
    }
}

async fn nothing_within(subscription: &mut Subscription, millis: u64) -> bool {
    loop {
        match tokio::time::timeout(Duration::from_millis(millis), subscription.next()).await {
            Err(_) => return true,
            Ok(Some(BusItem::Lagged)) => continue,
            Ok(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_get_their_topic_in_order() {
    for (name, publisher, subscriber) in pairs("subscribers_get_their_topic_in_order").await {
        let tenant = TenantId::new();
        let (one, two) = (ConversationId::new(), ConversationId::new());
        let mut first = subscriber.subscribe(Topic::Conversation(tenant, one)).await;
        let mut second = subscriber.subscribe(Topic::Conversation(tenant, two)).await;
        let mut queue = subscriber.subscribe(Topic::Queue(tenant)).await;
        for n in 0..50 {
            publisher
                .publish(Topic::Conversation(tenant, one), typing(one, n))
                .await;
            publisher
                .publish(Topic::Conversation(tenant, two), typing(two, n))
                .await;
        }
        for n in 0..50 {
            assert_eq!(next_event(&mut first, name).await, typing(one, n), "{name}");
            assert_eq!(
                next_event(&mut second, name).await,
                typing(two, n),
                "{name}"
            );
        }
        assert!(
            nothing_within(&mut queue, 200).await,
            "{name}: queue got an event"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_separate_topics() {
    for (name, publisher, subscriber) in pairs("tenants_are_separate_topics").await {
        let conversation = ConversationId::new();
        let operator = OperatorId::new();
        let (mine, theirs) = (TenantId::new(), TenantId::new());
        let mut conversation_topic = subscriber
            .subscribe(Topic::Conversation(mine, conversation))
            .await;
        let mut queue = subscriber.subscribe(Topic::Queue(mine)).await;
        let mut operator_topic = subscriber.subscribe(Topic::Operator(mine, operator)).await;
        publisher
            .publish(
                Topic::Conversation(theirs, conversation),
                typing(conversation, 1),
            )
            .await;
        publisher
            .publish(Topic::Queue(theirs), typing(conversation, 2))
            .await;
        publisher
            .publish(Topic::Operator(theirs, operator), typing(conversation, 3))
            .await;
        for subscription in [&mut conversation_topic, &mut queue, &mut operator_topic] {
            assert!(
                nothing_within(subscription, 200).await,
                "{name}: another tenant's event leaked"
            );
        }
        // Presence is per tenant too.
        assert_eq!(subscriber.present_operators(mine).await, vec![operator]);
        assert!(subscriber.present_operators(theirs).await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_crosses_nodes_and_expires_when_a_node_dies() {
    let Some(url) = nats_url("presence_crosses_nodes_and_expires_when_a_node_dies") else {
        return;
    };
    let fast = NatsOptions {
        heartbeat_interval: Duration::from_millis(200),
        presence_ttl: Duration::from_millis(600),
        ..NatsOptions::default()
    };
    let observer = nats(&url, fast.clone()).await;
    let tenant = TenantId::new();
    let (alice, bob) = (OperatorId::new(), OperatorId::new());

    // Alice connects to node A; node B sees her at the announcement of the change.
    let node_a = nats(&url, fast.clone()).await;
    let alice_console = node_a.subscribe(Topic::Operator(tenant, alice)).await;
    wait_for_presence(&*observer, tenant, &[alice]).await;

    // She closes her console: gone at once, not after the time-to-live.
    drop(alice_console);
    wait_for_presence(&*observer, tenant, &[]).await;

    // Bob connects to node A, then node A dies without a word: gone within the TTL.
    let _bob_console = node_a.subscribe(Topic::Operator(tenant, bob)).await;
    wait_for_presence(&*observer, tenant, &[bob]).await;
    let died = std::time::Instant::now();
    drop(node_a);
    wait_for_presence(&*observer, tenant, &[]).await;
    assert!(
        died.elapsed() < Duration::from_secs(3),
        "{:?}",
        died.elapsed()
    );

    // A clean leave is announced at once.
    let node_c = nats(&url, fast).await;
    let _bob_again = node_c.subscribe(Topic::Operator(tenant, bob)).await;
    wait_for_presence(&*observer, tenant, &[bob]).await;
    node_c.leave().await;
    wait_for_presence(&*observer, tenant, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_is_told_it_lagged() {
    let Some(url) = nats_url("a_slow_subscriber_is_told_it_lagged") else {
        return;
    };
    let small = NatsOptions {
        subscription_capacity: 8,
        ..NatsOptions::default()
    };
    let subscriber = nats(&url, small).await;
    let publisher = nats(&url, NatsOptions::default()).await;
    let tenant = TenantId::new();
    let conversation = ConversationId::new();
    let topic = Topic::Conversation(tenant, conversation);
    let mut slow = subscriber.subscribe(topic).await;
    for n in 0..2_000 {
        publisher.publish(topic, typing(conversation, n)).await;
    }
    let mut lagged = false;
    let mut events = 0;
    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_secs(2), slow.next()).await {
        match item {
            BusItem::Lagged => {
                lagged = true;
                break;
            }
            BusItem::Event(_) => events += 1,
        }
    }
    assert!(lagged, "no Lagged after {events} of 2000 events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_processes() {
    let Some(url) = nats_url("events_cross_processes") else {
        return;
    };
    let bus = nats(&url, NatsOptions::default()).await;
    let tenant = TenantId::new();
    let conversation = ConversationId::new();
    let mut subscription = bus
        .subscribe(Topic::Conversation(tenant, conversation))
        .await;
    // This test binary again, running only the child below, which publishes and exits.
    let status = tokio::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "child_publishes", "--nocapture"])
        .env(NATS_VARIABLE, &url)
        .env(CHILD_TENANT, tenant.as_uuid().to_string())
        .env(CHILD_CONVERSATION, conversation.as_uuid().to_string())
        .status()
        .await
        .expect("the child process starts");
    assert!(status.success(), "the child process failed: {status}");
    for n in 0..20 {
        assert_eq!(
            next_event(&mut subscription, "cross-process").await,
            typing(conversation, n)
        );
    }
}

/// The publishing side of `events_cross_processes`, in its own process. Run directly
/// (without the child's variables) it has nothing to do and returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_publishes() {
    let (Ok(url), Ok(tenant), Ok(conversation)) = (
        std::env::var(NATS_VARIABLE),
        std::env::var(CHILD_TENANT),
        std::env::var(CHILD_CONVERSATION),
    ) else {
        return;
    };
    let tenant = TenantId::from_uuid(tenant.parse().expect("a tenant id"));
    let conversation = ConversationId::from_uuid(conversation.parse().expect("an id"));
    let bus = nats(&url, NatsOptions::default()).await;
    for n in 0..20 {
        bus.publish(
            Topic::Conversation(tenant, conversation),
            typing(conversation, n),
        )
        .await;
    }
    bus.leave().await;
}

async fn wait_for_presence(bus: &dyn Bus, tenant: TenantId, expected: &[OperatorId]) {
    let mut expected = expected.to_vec();
    expected.sort();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut present = bus.present_operators(tenant).await;
    while present != expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "presence is {present:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        present = bus.present_operators(tenant).await;
    }
}
