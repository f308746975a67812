//! Conformance checks of `ConversationStore::append` and `close`: gapless `seq` under
//! concurrency, idempotency by `client_msg_id`, one open conversation per visitor, the
//! accept race, the state rules for ended conversations and operator ownership, and a
//! graceful close with appends still queued.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use livehelp_domain::{
    ConversationId, ConversationState, EndReason, Message, MessageAuthor, MessageKind, NewMessage,
    OperatorId, SystemEvent,
};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::expect::{join_all, ok, within, wrong_state};
use super::fixtures::{
    Fixture, accept, end, new_message, open_request, open_with_key, operator_message,
    visitor_message,
};
use crate::{AppendEffect, AppendRequest, Appended, Store, StoreError};

/// Many concurrent appends to several conversations: each conversation's messages get
/// `seq` 1, 2, 3, ... with no gap and no repeat, and `last_seq` follows.
pub async fn append_assigns_gapless_seq(store: Arc<dyn Store>) {
    const CONVERSATIONS: usize = 4;
    const MESSAGES_EACH: usize = 60;
    let fixture = Fixture::new(&*store).await;
    let mut conversations = Vec::new();
    for index in 0..CONVERSATIONS {
        let visitor = fixture.new_visitor(&*store).await;
        let conversation = fixture.open(&*store, visitor.id).await;
        // Half of them active, so operator messages race visitor messages.
        let operator = (index % 2 == 0).then_some(fixture.operator.id);
        if let Some(operator) = operator {
            ok(store
                .append(fixture.tenant.id, accept(conversation.id, operator))
                .await);
        }
        conversations.push((conversation.id, visitor.id, operator));
    }

    let mut tasks = JoinSet::new();
    for round in 0..MESSAGES_EACH {
        for &(conversation, visitor, operator) in &conversations {
            let store = store.clone();
            let tenant = fixture.tenant.id;
            let request = match operator {
                Some(operator) if round % 3 == 0 => {
                    operator_message(conversation, operator, &format!("op {round}"))
                }
                _ => visitor_message(conversation, visitor, &format!("msg {round}"), None),
            };
            tasks.spawn(async move { store.append(tenant, request).await });
        }
    }
    let mut stored: HashMap<ConversationId, Vec<Message>> = HashMap::new();
    for appended in join_all(tasks).await {
        let appended = ok(appended);
        assert!(!appended.duplicate);
        assert_eq!(appended.conversation.last_seq, appended.message.seq);
        stored
            .entry(appended.message.conversation_id)
            .or_default()
            .push(appended.message);
    }

    for (conversation, _, operator) in conversations {
        let first_seq = if operator.is_some() { 3 } else { 2 };
        let last_seq = first_seq + MESSAGES_EACH as i64 - 1;
        let mut answered = stored
            .remove(&conversation)
            .expect("answers for each conversation");
        answered.sort_by_key(|message| message.seq);
        let seqs: Vec<i64> = answered.iter().map(|message| message.seq).collect();
        assert_eq!(seqs, (first_seq..=last_seq).collect::<Vec<_>>());
        let current = ok(store
            .fetch_conversation(fixture.tenant.id, conversation)
            .await);
        assert_eq!(current.last_seq, last_seq);
        let listed = ok(store
            .list_messages(fixture.tenant.id, conversation, 0, 1_000)
            .await);
        let listed_seqs: Vec<i64> = listed.iter().map(|message| message.seq).collect();
        assert_eq!(listed_seqs, (1..=last_seq).collect::<Vec<_>>());
        assert_eq!(&listed[(first_seq - 1) as usize..], &answered[..]);
    }
}

/// The same `client_msg_id` from the same author stores one message: later attempts,
/// sequential or concurrent, get the stored message back with `duplicate = true`.
pub async fn append_is_idempotent(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let conversation = fixture.open(&*store, fixture.visitor.id).await;

    let key = Uuid::new_v4();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        // Every retry is a new request with a new message id, as a client would send.
        let request = visitor_message(conversation.id, fixture.visitor.id, "hello", Some(key));
        outcomes.push(ok(store.append(tenant, request).await));
    }
    let flags: Vec<bool> = outcomes.iter().map(|outcome| outcome.duplicate).collect();
    assert_eq!(flags, [false, true, true]);
    for outcome in &outcomes[1..] {
        assert_eq!(outcome.message, outcomes[0].message);
        assert_eq!(outcome.conversation.id, conversation.id);
        assert_eq!(outcome.conversation.last_seq, 2);
    }
    assert_eq!(outcomes[0].message.seq, 2);

    // Five at once.
    let key = Uuid::new_v4();
    let mut tasks = JoinSet::new();
    for _ in 0..5 {
        let store = store.clone();
        let request = visitor_message(conversation.id, fixture.visitor.id, "again", Some(key));
        tasks.spawn(async move { store.append(tenant, request).await });
    }
    let outcomes: Vec<Appended> = join_all(tasks).await.into_iter().map(ok).collect();
    assert_eq!(
        outcomes.iter().filter(|outcome| !outcome.duplicate).count(),
        1
    );
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.message == outcomes[0].message)
    );
    assert_eq!(outcomes[0].message.seq, 3);

    // The system author is one author too.
    let key = Uuid::new_v4();
    let system_note = || AppendRequest {
        message: NewMessage {
            client_msg_id: Some(key),
            ..new_message(
                conversation.id,
                MessageKind::System,
                MessageAuthor::System,
                "note",
            )
        },
        effect: AppendEffect::Message { operator: None },
    };
    assert!(!ok(store.append(tenant, system_note()).await).duplicate);
    assert!(ok(store.append(tenant, system_note()).await).duplicate);

    // An Open retried with the same key (and, as the server would, a new conversation id).
    let visitor = fixture.new_visitor(&*store).await;
    let key = Uuid::new_v4();
    let first = ok(store
        .append(tenant, open_with_key(&fixture, visitor.id, Some(key)))
        .await);
    let retry = ok(store
        .append(tenant, open_with_key(&fixture, visitor.id, Some(key)))
        .await);
    assert!(!first.duplicate && retry.duplicate);
    assert_eq!(retry.message, first.message);
    assert_eq!(retry.conversation.id, first.conversation.id);

    let listed = ok(store.list_messages(tenant, conversation.id, 0, 100).await);
    assert_eq!(listed.len(), 4, "open, hello, again, note: {listed:?}");
}

/// A `client_msg_id` used again by the same author for another conversation, or for a
/// different kind of message, is refused with `ClientMsgIdReused` and writes nothing.
/// Another author may use the same key.
pub async fn client_msg_id_reuse_is_refused(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let operator = fixture.operator.id;
    let first = fixture.open(&*store, fixture.visitor.id).await;
    let other_visitor = fixture.new_visitor(&*store).await;
    let second = fixture.open(&*store, other_visitor.id).await;
    ok(store.append(tenant, accept(first.id, operator)).await);
    ok(store.append(tenant, accept(second.id, operator)).await);

    let key = Uuid::new_v4();
    let with_key = |mut request: AppendRequest| {
        request.message.client_msg_id = Some(key);
        request
    };
    ok(store
        .append(tenant, with_key(operator_message(first.id, operator, "hi")))
        .await);
    let elsewhere = store
        .append(
            tenant,
            with_key(operator_message(second.id, operator, "hi")),
        )
        .await;
    assert!(
        matches!(elsewhere, Err(StoreError::ClientMsgIdReused)),
        "{elsewhere:?}"
    );
    let end = end(first.id, EndReason::OperatorEnded(operator), Some(operator));
    let other_kind = store.append(tenant, with_key(end)).await;
    assert!(
        matches!(other_kind, Err(StoreError::ClientMsgIdReused)),
        "{other_kind:?}"
    );

    // The visitor is another author: same key, new message.
    let visitor_request = visitor_message(first.id, fixture.visitor.id, "hi", Some(key));
    let by_visitor = ok(store.append(tenant, visitor_request).await);
    assert!(!by_visitor.duplicate);

    let first_now = ok(store.fetch_conversation(tenant, first.id).await);
    assert_eq!(
        (first_now.state, first_now.last_seq),
        (ConversationState::Active, 4)
    );
    assert_eq!(
        ok(store.fetch_conversation(tenant, second.id).await).last_seq,
        2
    );
}

/// `Open` for a visitor who already has an open conversation writes nothing and returns
/// that conversation's `chat_requested` message as a duplicate, also when five race.
/// Once it has ended, `Open` starts a new one.
pub async fn open_gives_one_conversation_per_visitor(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;

    let first = ok(store
        .append(tenant, open_request(&fixture, fixture.visitor.id))
        .await);
    assert!(!first.duplicate);
    assert_eq!(first.message.seq, 1);
    assert_eq!(first.message.event, Some(SystemEvent::ChatRequested));
    assert_eq!(first.conversation.state, ConversationState::Queued);
    assert_eq!(first.conversation.last_seq, 1);
    let again = ok(store
        .append(tenant, open_request(&fixture, fixture.visitor.id))
        .await);
    assert!(again.duplicate);
    assert_eq!(again.message, first.message);
    assert_eq!(again.conversation, first.conversation);

    let visitor = fixture.new_visitor(&*store).await;
    let mut tasks = JoinSet::new();
    for _ in 0..5 {
        let store = store.clone();
        let request = open_request(&fixture, visitor.id);
        tasks.spawn(async move { store.append(tenant, request).await });
    }
    let outcomes: Vec<Appended> = join_all(tasks).await.into_iter().map(ok).collect();
    assert_eq!(
        outcomes.iter().filter(|outcome| !outcome.duplicate).count(),
        1
    );
    let conversation = outcomes[0].conversation.id;
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.conversation.id == conversation
                && outcome.message.seq == 1
                && outcome.message == outcomes[0].message)
    );
    let open = ok(store
        .fetch_open_conversation_for_visitor(tenant, visitor.id)
        .await);
    assert_eq!(open.map(|open| open.id), Some(conversation));
    let queued = ok(store.list_queued_conversations(tenant).await);
    assert_eq!(
        queued
            .iter()
            .filter(|queued| queued.visitor_id == visitor.id)
            .count(),
        1
    );

    ok(store
        .append(tenant, end(conversation, EndReason::VisitorAbandoned, None))
        .await);
    assert_eq!(
        ok(store
            .fetch_open_conversation_for_visitor(tenant, visitor.id)
            .await),
        None
    );
    let next = ok(store
        .append(tenant, open_request(&fixture, visitor.id))
        .await);
    assert!(!next.duplicate);
    assert_ne!(next.conversation.id, conversation);
}

/// Two operators accept the same queued conversation at once: exactly one wins, the
/// other gets `WrongState` showing the winner (case BR-03).
pub async fn accept_race_has_one_winner(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    for _ in 0..5 {
        let visitor = fixture.new_visitor(&*store).await;
        let conversation = fixture.open(&*store, visitor.id).await;
        let mut tasks = JoinSet::new();
        for operator in [fixture.operator.id, fixture.other_operator.id] {
            let store = store.clone();
            tasks.spawn(async move {
                (
                    operator,
                    store
                        .append(tenant, accept(conversation.id, operator))
                        .await,
                )
            });
        }
        let outcomes = join_all(tasks).await;
        let winners: Vec<OperatorId> = outcomes
            .iter()
            .filter(|(_, outcome)| outcome.is_ok())
            .map(|(operator, _)| *operator)
            .collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        let winner = winners[0];
        for (operator, outcome) in outcomes {
            match outcome {
                Ok(appended) => {
                    assert_eq!(operator, winner);
                    assert!(!appended.duplicate);
                    assert_eq!(appended.conversation.state, ConversationState::Active);
                    assert_eq!(appended.conversation.operator_id, Some(winner));
                    assert_eq!(
                        appended.conversation.accepted_at,
                        Some(appended.message.created_at)
                    );
                }
                Err(error) => {
                    let current = wrong_state(Err(error));
                    assert_eq!(current.state, ConversationState::Active);
                    assert_eq!(current.operator_id, Some(winner));
                }
            }
        }
        assert_eq!(
            ok(store.fetch_conversation(tenant, conversation.id).await).last_seq,
            2
        );
    }
}

/// After `End`, messages, accepts and a second end are all `WrongState` and write nothing.
pub async fn ended_conversation_refuses_writes(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let conversation = fixture.open(&*store, fixture.visitor.id).await;
    let ended = ok(store
        .append(tenant, end(conversation.id, EndReason::VisitorEnded, None))
        .await);
    assert_eq!(ended.conversation.state, ConversationState::Ended);
    assert_eq!(ended.conversation.end_reason, Some(EndReason::VisitorEnded));
    assert_eq!(ended.conversation.ended_at, Some(ended.message.created_at));
    assert_eq!(ended.message.seq, 2);

    let refused = [
        visitor_message(conversation.id, fixture.visitor.id, "still there?", None),
        accept(conversation.id, fixture.operator.id),
        end(conversation.id, EndReason::VisitorEnded, None),
        end(
            conversation.id,
            EndReason::OperatorEnded(fixture.operator.id),
            None,
        ),
    ];
    for request in refused {
        let current = wrong_state(store.append(tenant, request).await);
        assert_eq!(current, ended.conversation);
    }
    assert_eq!(
        ok(store.list_messages(tenant, conversation.id, 0, 100).await).len(),
        2
    );
}

/// Operator messages and operator ends need the conversation to be active and owned by
/// that operator; otherwise `WrongState` carries the owner.
pub async fn operator_writes_need_the_owner(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let (owner, intruder) = (fixture.operator.id, fixture.other_operator.id);
    let conversation = fixture.open(&*store, fixture.visitor.id).await;

    let queued = wrong_state(
        store
            .append(tenant, operator_message(conversation.id, owner, "early"))
            .await,
    );
    assert_eq!(queued.state, ConversationState::Queued);
    ok(store.append(tenant, accept(conversation.id, owner)).await);

    let current = wrong_state(
        store
            .append(tenant, operator_message(conversation.id, intruder, "mine?"))
            .await,
    );
    assert_eq!(current.operator_id, Some(owner));
    let not_theirs = end(
        conversation.id,
        EndReason::OperatorEnded(intruder),
        Some(intruder),
    );
    let current = wrong_state(store.append(tenant, not_theirs).await);
    assert_eq!(
        (current.state, current.operator_id),
        (ConversationState::Active, Some(owner))
    );

    let reply = ok(store
        .append(tenant, operator_message(conversation.id, owner, "hello"))
        .await);
    assert_eq!(reply.message.seq, 3);
    let ended = ok(store
        .append(
            tenant,
            end(
                conversation.id,
                EndReason::OperatorEnded(owner),
                Some(owner),
            ),
        )
        .await);
    assert_eq!(
        ended.conversation.end_reason,
        Some(EndReason::OperatorEnded(owner))
    );
    assert_eq!(ended.conversation.last_seq, 4);
}

/// `close` while appends are queued: every append is answered, either committed (its
/// `seq` taken, gapless with the others) or `Unavailable`; appends after `close` returns
/// are `Unavailable`. Closes the store.
pub async fn close_answers_queued_appends_then_refuses(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let conversation = fixture.open(&*store, fixture.visitor.id).await;
    let (done, mut first_done) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = JoinSet::new();
    for index in 0..200 {
        let store = store.clone();
        let done = done.clone();
        let request = visitor_message(
            conversation.id,
            fixture.visitor.id,
            &format!("{index}"),
            None,
        );
        tasks.spawn(async move {
            let outcome = store.append(tenant, request).await;
            let _ = done.send(());
            outcome
        });
    }
    drop(done);
    // Close once the writer is demonstrably busy, so that some appends are still queued.
    within("the first append", first_done.recv()).await;
    within("close", store.close()).await;
    let refused = store
        .append(
            tenant,
            visitor_message(conversation.id, fixture.visitor.id, "late", None),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "{refused:?}"
    );

    let mut committed = BTreeSet::new();
    for outcome in join_all(tasks).await {
        match outcome {
            Ok(appended) => {
                assert!(!appended.duplicate);
                assert!(committed.insert(appended.message.seq));
            }
            Err(StoreError::Unavailable(_)) => {}
            Err(other) => panic!("an append during close failed with {other:?}"),
        }
    }
    assert!(!committed.is_empty());
    let count = committed.len() as i64;
    assert_eq!(
        committed.into_iter().collect::<Vec<_>>(),
        (2..=count + 1).collect::<Vec<_>>()
    );
}

/// A visitor's message into another visitor's conversation is `NotFound`, like a missing
/// conversation, alone and in a burst of concurrent appends (the SQLite writer's bulk
/// path), and takes no `seq`.
pub async fn visitors_write_only_their_own_conversation(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let owner = fixture.visitor.id;
    let stranger = fixture.new_visitor(&*store).await.id;
    let conversation = fixture.open(&*store, owner).await;

    let alone = store
        .append(
            tenant,
            visitor_message(conversation.id, stranger, "not mine", Some(Uuid::now_v7())),
        )
        .await;
    assert!(
        matches!(alone, Err(StoreError::NotFound)),
        "a stranger's message was not refused as NotFound: {alone:?}"
    );

    let mut tasks = JoinSet::new();
    for index in 0..20 {
        let store = store.clone();
        let author = if index % 2 == 0 { owner } else { stranger };
        tasks.spawn(async move {
            let text = format!("burst {index}");
            let request = visitor_message(conversation.id, author, &text, Some(Uuid::now_v7()));
            (author, store.append(tenant, request).await)
        });
    }
    let burst = join_all(tasks).await;
    let mut seqs = Vec::new();
    for (author, outcome) in burst {
        if author == owner {
            seqs.push(ok(outcome).message.seq);
        } else {
            assert!(
                matches!(outcome, Err(StoreError::NotFound)),
                "a stranger's message in a burst was not refused: {outcome:?}"
            );
        }
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (2..=11).collect::<Vec<i64>>(),
        "the owner's messages are gapless"
    );
    let stored = store
        .list_messages(tenant, conversation.id, 0, 100)
        .await
        .expect("list messages");
    assert!(
        stored
            .iter()
            .all(|message| message.author != MessageAuthor::Visitor(stranger)),
        "a stranger's message was stored"
    );
}
