//! Several nodes on one database: three `PostgresStore`s (three writers, three pools) on
//! the same schema, as three `livehelp serve` processes would be, race each other. What
//! keeps them correct is the database (conditional updates, unique indexes), and these
//! checks prove it: one winner per accept race, one message per `client_msg_id`, one open
//! conversation per visitor, gapless `seq` under appends from every node, an operator's
//! chat limit under accepts and assignments from every node (case BR-04). Also checks the
//! explicit migration path (`migrate`, `migrate: false`).
//!
//! Needs `LIVEHELP_TEST_POSTGRES_URL` (see `common/mod.rs`).

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::TestSchema;
use livehelp_domain::{
    ConversationId, ConversationState, EndReason, Operator, OperatorId, RoutingSettings,
};
use livehelp_store::testing::{Fixture, accept, end, open_request, visitor_message};
use livehelp_store::{
    AppendEffect, ConversationStore, OperatorStore, RoutingStore, Store, StoreError,
};
use livehelp_store_postgres::{PostgresOptions, PostgresStore, known_migrations, migrate_with};
use tokio::task::JoinSet;
use uuid::Uuid;

const NODES: usize = 3;

async fn nodes(schema: &TestSchema) -> Vec<Arc<PostgresStore>> {
    let mut stores = Vec::new();
    for _ in 0..NODES {
        stores.push(schema.store().await);
    }
    stores
}

async fn close_all(stores: &[Arc<PostgresStore>]) {
    for store in stores {
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accept_races_across_nodes_have_one_winner_each() {
    let Some(schema) = TestSchema::create("accept_races_across_nodes").await else {
        return;
    };
    let stores = nodes(&schema).await;
    let fixture = Fixture::new(&*stores[0]).await;
    let tenant = fixture.tenant.id;
    let operators = [fixture.operator.id, fixture.other_operator.id];
    let mut conversations = Vec::new();
    for _ in 0..40 {
        let visitor = fixture.new_visitor(&*stores[0]).await;
        conversations.push(fixture.open(&*stores[1], visitor.id).await.id);
    }
    // Every conversation is accepted at once by both operators on every node.
    let mut tasks = JoinSet::new();
    for &conversation in &conversations {
        for (index, store) in stores.iter().enumerate() {
            for &operator in &operators {
                let store = store.clone();
                tasks.spawn(async move {
                    let outcome = store.append(tenant, accept(conversation, operator)).await;
                    (conversation, operator, index, outcome)
                });
            }
        }
    }
    let mut winners: HashMap<ConversationId, Vec<(OperatorId, usize)>> = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (conversation, operator, node, outcome) = joined.expect("task");
        match outcome {
            Ok(appended) => {
                assert!(!appended.duplicate);
                winners
                    .entry(conversation)
                    .or_default()
                    .push((operator, node));
            }
            Err(StoreError::WrongState { current }) => {
                assert_eq!(current.state, ConversationState::Active);
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    for conversation in conversations {
        let won = winners.remove(&conversation).unwrap_or_default();
        assert_eq!(won.len(), 1, "{conversation}: {won:?}");
        let stored = stores[2]
            .fetch_conversation(tenant, conversation)
            .await
            .expect("fetch");
        assert_eq!(stored.operator_id, Some(won[0].0));
        assert_eq!(stored.last_seq, 2);
    }
    close_all(&stores).await;
    schema.drop_schema().await;
}

/// One round of case BR-04 across nodes: every queued conversation is given, at once, on
/// every node, to each operator (assignments and accepts alternating). Returns how many
/// each operator won; every other attempt must be refused by the limit or find the
/// conversation taken, never fail otherwise (no deadlock, no limit exceeded).
async fn race_for_operators(
    stores: &[Arc<PostgresStore>],
    tenant: livehelp_domain::TenantId,
    conversations: &[ConversationId],
    operators: &[OperatorId],
) -> HashMap<OperatorId, usize> {
    let mut tasks = JoinSet::new();
    for (index, &conversation) in conversations.iter().enumerate() {
        for (node, store) in stores.iter().enumerate() {
            for &operator in operators {
                let store = store.clone();
                tasks.spawn(async move {
                    let mut request = accept(conversation, operator);
                    if (index + node) % 2 == 0 {
                        request.effect = AppendEffect::Assign { operator };
                    }
                    (operator, store.append(tenant, request).await)
                });
            }
        }
    }
    let mut won: HashMap<OperatorId, usize> = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (operator, outcome) = joined.expect("task");
        match outcome {
            Ok(appended) => {
                assert_eq!(appended.conversation.operator_id, Some(operator));
                *won.entry(operator).or_default() += 1;
            }
            Err(StoreError::Conflict {
                constraint: "operator_chat_limit",
            }) => {}
            Err(StoreError::WrongState { current }) => {
                assert_eq!(current.state, ConversationState::Active);
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    won
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chat_limit_holds_across_nodes() {
    let Some(schema) = TestSchema::create("chat_limit_across_nodes").await else {
        return;
    };
    let stores = nodes(&schema).await;
    let fixture = Fixture::new(&*stores[0]).await;
    let tenant = fixture.tenant.id;
    let (olga, omar) = (fixture.operator.id, fixture.other_operator.id);
    // Olga's own limit is 2; Omar has the tenant's, 3.
    let settings = RoutingSettings {
        max_chats_per_operator: Some(3),
        ..RoutingSettings::default()
    };
    stores[0]
        .update_routing_settings(tenant, &settings)
        .await
        .expect("settings");
    let olga_account = Operator {
        max_chats: Some(2),
        ..fixture.operator.clone()
    };
    stores[1]
        .update_operator(tenant, &olga_account)
        .await
        .expect("olga's limit");
    let mut conversations = Vec::new();
    for index in 0..30 {
        let visitor = fixture.new_visitor(&*stores[0]).await;
        conversations.push(fixture.open(&*stores[index % NODES], visitor.id).await.id);
    }

    let won = race_for_operators(&stores, tenant, &conversations, &[olga, omar]).await;
    assert_eq!(won.get(&olga), Some(&2), "{won:?}");
    assert_eq!(won.get(&omar), Some(&3), "{won:?}");
    let loads = stores[2].operator_loads(tenant).await.expect("loads");
    let active: Vec<(OperatorId, u32)> = loads
        .iter()
        .map(|load| (load.operator_id, load.active))
        .collect();
    assert_eq!(active, vec![(olga, 2), (omar, 3)]);

    // Olga closes one chat: the next race gives her exactly one more, Omar none.
    let olgas = stores[0]
        .list_active_conversations_for_operator(tenant, olga)
        .await
        .expect("olga's chats");
    stores[1]
        .append(
            tenant,
            end(olgas[0].id, EndReason::OperatorEnded(olga), Some(olga)),
        )
        .await
        .expect("end");
    let queued: Vec<ConversationId> = stores[2]
        .list_queued_conversations(tenant)
        .await
        .expect("queue")
        .into_iter()
        .map(|conversation| conversation.id)
        .collect();
    assert_eq!(queued.len(), 25);
    let won = race_for_operators(&stores, tenant, &queued, &[olga, omar]).await;
    assert_eq!(won.get(&olga), Some(&1), "{won:?}");
    assert_eq!(won.get(&omar), None, "{won:?}");
    for (operator, limit) in [(olga, 2), (omar, 3)] {
        let active = stores[0]
            .list_active_conversations_for_operator(tenant, operator)
            .await
            .expect("active");
        assert_eq!(active.len(), limit);
    }
    close_all(&stores).await;
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency_and_one_open_conversation_hold_across_nodes() {
    let Some(schema) = TestSchema::create("idempotency_across_nodes").await else {
        return;
    };
    let stores = nodes(&schema).await;
    let fixture = Fixture::new(&*stores[0]).await;
    let tenant = fixture.tenant.id;
    for round in 0..10 {
        // The same Open from every node at once: one conversation.
        let visitor = fixture.new_visitor(&*stores[0]).await;
        let mut tasks = JoinSet::new();
        for store in &stores {
            for _ in 0..3 {
                let store = store.clone();
                let request = open_request(&fixture, visitor.id);
                tasks.spawn(async move { store.append(tenant, request).await });
            }
        }
        let opened: Vec<_> = tasks
            .join_all()
            .await
            .into_iter()
            .map(|outcome| outcome.expect("open"))
            .collect();
        assert_eq!(
            opened.iter().filter(|o| !o.duplicate).count(),
            1,
            "round {round}"
        );
        let conversation = opened[0].conversation.id;
        assert!(opened.iter().all(|o| o.conversation.id == conversation));

        // The same client_msg_id from every node at once: one message.
        let key = Uuid::new_v4();
        let mut tasks = JoinSet::new();
        for store in &stores {
            for _ in 0..3 {
                let store = store.clone();
                let request = visitor_message(conversation, visitor.id, "once", Some(key));
                tasks.spawn(async move { store.append(tenant, request).await });
            }
        }
        let sent: Vec<_> = tasks
            .join_all()
            .await
            .into_iter()
            .map(|outcome| outcome.expect("send"))
            .collect();
        assert_eq!(
            sent.iter().filter(|o| !o.duplicate).count(),
            1,
            "round {round}"
        );
        assert!(sent.iter().all(|o| o.message == sent[0].message));
        let listed = stores[1]
            .list_messages(tenant, conversation, 0, 100)
            .await
            .expect("list");
        assert_eq!(listed.len(), 2, "round {round}: {listed:?}");
    }
    let retried: u64 = stores.iter().map(|s| s.writer_stats().retried).sum();
    eprintln!("requests re-run after losing a unique-index race to another node: {retried}");
    close_all(&stores).await;
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seq_is_gapless_with_every_node_appending() {
    let Some(schema) = TestSchema::create("seq_across_nodes").await else {
        return;
    };
    let stores = nodes(&schema).await;
    let fixture = Fixture::new(&*stores[0]).await;
    let tenant = fixture.tenant.id;
    let mut conversations = Vec::new();
    for _ in 0..4 {
        let visitor = fixture.new_visitor(&*stores[0]).await;
        let conversation = fixture.open(&*stores[0], visitor.id).await;
        conversations.push((conversation.id, visitor.id));
    }
    let mut tasks = JoinSet::new();
    for round in 0..50 {
        for (index, &(conversation, visitor)) in conversations.iter().enumerate() {
            let store = stores[(round + index) % NODES].clone();
            let request = visitor_message(conversation, visitor, &format!("{round}"), None);
            tasks.spawn(async move { store.append(tenant, request).await });
        }
    }
    for outcome in tasks.join_all().await {
        outcome.expect("append");
    }
    for (conversation, _) in conversations {
        let listed = stores[2]
            .list_messages(tenant, conversation, 0, 1_000)
            .await
            .expect("list");
        let seqs: Vec<i64> = listed.iter().map(|message| message.seq).collect();
        assert_eq!(seqs, (1..=51).collect::<Vec<_>>());
    }
    close_all(&stores).await;
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_explicitly_then_open_without_migrating() {
    let Some(schema) = TestSchema::create("migrate_explicitly").await else {
        return;
    };
    let without = PostgresOptions {
        migrate: false,
        ..PostgresOptions::default()
    };
    // A schema that was never migrated is refused, with the way out in the message.
    let refused = PostgresStore::open_with(schema.connect.clone(), without.clone()).await;
    match refused {
        Err(StoreError::Other(error)) => {
            assert!(error.to_string().contains("livehelp migrate"), "{error}");
        }
        Err(other) => panic!("expected a schema error, got {other:?}"),
        Ok(_) => panic!("an unmigrated schema was accepted"),
    }
    let applied = migrate_with(schema.connect.clone()).await.expect("migrate");
    assert_eq!(applied, known_migrations());
    assert!(
        migrate_with(schema.connect.clone())
            .await
            .expect("migrate again")
            .is_empty()
    );
    let store = schema.store_with(without).await;
    let fixture = Fixture::new(&*store as &dyn Store).await;
    fixture.open(&*store, fixture.visitor.id).await;
    store.close().await;
    schema.drop_schema().await;
}
