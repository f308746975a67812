//! The conformance suite every store backend passes (feature `testing`).
//!
//! Each check is a plain `pub async fn name(store: Arc<dyn Store>)` that panics on
//! failure, so a backend's integration tests call them one by one (one `#[tokio::test]`
//! each, on a fresh store) and [`run_all`] runs them all on one shared store. The checks
//! create their own tenants with fresh ids and never look at data they did not create, so
//! they can share a store. Run them on a multi-threaded runtime: several spawn racing
//! tasks.
//!
//! Instants written by the suite are whole microseconds, the precision every backend
//! keeps, so values read back must equal the values written, field by field.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{
    BrowserInfo, Conversation, ConversationId, ConversationState, Email, EndReason, Message,
    MessageAuthor, MessageId, MessageKind, NewMessage, Operator, OperatorId, OperatorSession, Role,
    SessionId, Site, SiteId, SiteKey, SystemEvent, Tenant, TenantId, TenantStatus, Timestamp,
    Visitor, VisitorId, VisitorName, VisitorSession, VisitorSessionId,
};
use time::macros::datetime;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::{AppendEffect, AppendRequest, Appended, Store, StoreError, StoreResult};

/// Runs every check on `store`, [`close_answers_queued_appends_then_refuses`] last since it
/// closes the store.
pub async fn run_all(store: Arc<dyn Store>) {
    append_assigns_gapless_seq(store.clone()).await;
    append_is_idempotent(store.clone()).await;
    client_msg_id_reuse_is_refused(store.clone()).await;
    open_gives_one_conversation_per_visitor(store.clone()).await;
    accept_race_has_one_winner(store.clone()).await;
    ended_conversation_refuses_writes(store.clone()).await;
    operator_writes_need_the_owner(store.clone()).await;
    tenants_are_isolated(store.clone()).await;
    list_messages_pages(store.clone()).await;
    queue_and_operator_lists(store.clone()).await;
    entities_round_trip(store.clone()).await;
    conversation_and_messages_round_trip(store.clone()).await;
    message_text_round_trips_byte_for_byte(store.clone()).await;
    entry_lookups_and_conflicts(store.clone()).await;
    expired_operator_sessions_are_not_returned(store.clone()).await;
    close_answers_queued_appends_then_refuses(store).await;
}

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

/// Every read, list and append made with another tenant's id gives `NotFound` or nothing,
/// never the other tenant's data, and changes nothing there.
pub async fn tenants_are_isolated(store: Arc<dyn Store>) {
    let ours = Fixture::new(&*store).await;
    let theirs = Fixture::new(&*store).await;
    let (tenant, other) = (ours.tenant.id, theirs.tenant.id);
    let conversation = theirs.open(&*store, theirs.visitor.id).await;
    ok(store
        .append(other, accept(conversation.id, theirs.operator.id))
        .await);
    let before = ok(store.fetch_conversation(other, conversation.id).await);
    let session = theirs.operator_session(&*store, hours_from_now(1)).await;

    not_found(store.fetch_conversation(tenant, conversation.id).await);
    not_found(store.list_messages(tenant, conversation.id, 0, 100).await);
    not_found(store.fetch_visitor(tenant, theirs.visitor.id).await);
    not_found(store.fetch_operator(tenant, theirs.operator.id).await);
    not_found(store.fetch_tenant(TenantId::new()).await);
    assert_eq!(
        ok(store
            .fetch_open_conversation_for_visitor(tenant, theirs.visitor.id)
            .await),
        None
    );
    assert!(
        ok(store
            .list_active_conversations_for_operator(tenant, theirs.operator.id)
            .await)
        .is_empty()
    );
    assert!(ok(store.list_queued_conversations(tenant).await).is_empty());
    assert_eq!(ok(store.list_sites(tenant).await), vec![ours.site.clone()]);
    let operators = ok(store.list_operators(tenant).await);
    assert_eq!(
        operators,
        vec![ours.operator.clone(), ours.other_operator.clone()]
    );

    let foreign_writes = [
        visitor_message(conversation.id, theirs.visitor.id, "hi", None),
        operator_message(conversation.id, theirs.operator.id, "hi"),
        accept(conversation.id, ours.operator.id),
        end(conversation.id, EndReason::VisitorEnded, None),
        // Their visitor and site, opened under our tenant.
        open_request(&theirs, theirs.visitor.id),
    ];
    for request in foreign_writes {
        not_found(store.append(tenant, request).await);
    }
    let ours_open = ours.open(&*store, ours.visitor.id).await;
    not_found(
        store
            .append(tenant, accept(ours_open.id, theirs.operator.id))
            .await,
    );
    not_found(
        store
            .append(
                tenant,
                visitor_message(ConversationId::new(), ours.visitor.id, "?", None),
            )
            .await,
    );

    ok(store.delete_operator_session(tenant, session.id).await);
    assert_eq!(
        ok(store
            .fetch_operator_session_by_token(&session.token_hash, now())
            .await),
        session
    );
    assert_eq!(
        ok(store.fetch_conversation(other, conversation.id).await),
        before
    );
    assert_eq!(
        ok(store.list_messages(other, conversation.id, 0, 100).await).len(),
        2
    );
}

/// `list_messages` pages with `after_seq` and `limit`, in `seq` order.
pub async fn list_messages_pages(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let conversation = fixture.open(&*store, fixture.visitor.id).await;
    for index in 2..=25 {
        let request = visitor_message(
            conversation.id,
            fixture.visitor.id,
            &format!("#{index}"),
            None,
        );
        ok(store.append(tenant, request).await);
    }
    let page = |after_seq: i64, limit: u32| {
        let store = store.clone();
        async move {
            let messages = ok(store
                .list_messages(tenant, conversation.id, after_seq, limit)
                .await);
            messages
                .iter()
                .map(|message| message.seq)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(page(0, 10).await, (1..=10).collect::<Vec<_>>());
    assert_eq!(page(10, 10).await, (11..=20).collect::<Vec<_>>());
    assert_eq!(page(20, 10).await, (21..=25).collect::<Vec<_>>());
    assert_eq!(page(25, 10).await, Vec::<i64>::new());
    assert_eq!(page(3, 0).await, Vec::<i64>::new());
    assert_eq!(page(-5, 2).await, vec![1, 2]);
    assert_eq!(page(7, u32::MAX).await, (8..=25).collect::<Vec<_>>());
    let texts = ok(store.list_messages(tenant, conversation.id, 4, 1).await);
    assert_eq!(texts[0].text, "#5");
}

/// The queue lists queued conversations oldest first; accepted ones move to their
/// operator's active list; ended ones leave both.
pub async fn queue_and_operator_lists(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let base = now() - Duration::from_secs(60);
    let mut opened = Vec::new();
    // Not opened oldest first, so the order must come from created_at, not insertion.
    for age in [2u64, 3, 1] {
        let visitor = fixture.new_visitor(&*store).await;
        let mut request = open_request(&fixture, visitor.id);
        request.message.created_at = base - Duration::from_secs(age);
        opened.push((age, ok(store.append(tenant, request).await).conversation));
    }
    opened.sort_by_key(|(age, _)| std::cmp::Reverse(*age));
    let by_age: Vec<Conversation> = opened
        .into_iter()
        .map(|(_, conversation)| conversation)
        .collect();
    let queued = ok(store.list_queued_conversations(tenant).await);
    assert_eq!(
        queued,
        vec![by_age[0].clone(), by_age[1].clone(), by_age[2].clone()]
    );

    let operator = fixture.operator.id;
    let later = ok(store.append(tenant, accept(by_age[2].id, operator)).await).conversation;
    let earlier = ok(store.append(tenant, accept(by_age[0].id, operator)).await).conversation;
    let queued = ok(store.list_queued_conversations(tenant).await);
    assert_eq!(queued, vec![by_age[1].clone()]);
    let active = ok(store
        .list_active_conversations_for_operator(tenant, operator)
        .await);
    assert_eq!(active, vec![earlier.clone(), later.clone()]);
    assert!(
        ok(store
            .list_active_conversations_for_operator(tenant, fixture.other_operator.id)
            .await)
        .is_empty()
    );

    let ended = end(
        earlier.id,
        EndReason::OperatorEnded(operator),
        Some(operator),
    );
    ok(store.append(tenant, ended).await);
    let active = ok(store
        .list_active_conversations_for_operator(tenant, operator)
        .await);
    assert_eq!(active, vec![later]);
}

/// Tenants, sites, operators, operator sessions, visitors and visitor sessions read back
/// exactly as written, every field.
pub async fn entities_round_trip(store: Arc<dyn Store>) {
    let created_at = datetime!(2026-03-01 12:00:00.123456 UTC);
    let tenant = Tenant {
        id: TenantId::new(),
        name: "Café Ünïcødé בע\"מ 株式会社".to_owned(),
        status: TenantStatus::Suspended,
        created_at,
    };
    ok(store.insert_tenant(&tenant).await);
    assert_eq!(ok(store.fetch_tenant(tenant.id).await), tenant);

    let site = Site {
        id: SiteId::new(),
        tenant_id: tenant.id,
        key: unique_site_key(),
        name: "shop.example".to_owned(),
        allowed_origins: vec![
            "https://shop.example".to_owned(),
            "http://localhost:8080".to_owned(),
        ],
        privacy_policy_url: Some("https://shop.example/privacy?lang=he#מדיניות".to_owned()),
        created_at,
    };
    let bare_site = Site {
        id: SiteId::new(),
        key: unique_site_key(),
        name: String::new(),
        allowed_origins: Vec::new(),
        privacy_policy_url: None,
        created_at: created_at + Duration::from_micros(1),
        ..site.clone()
    };
    ok(store.insert_site(tenant.id, &site).await);
    ok(store.insert_site(tenant.id, &bare_site).await);
    assert_eq!(
        ok(store.list_sites(tenant.id).await),
        vec![site.clone(), bare_site.clone()]
    );
    assert_eq!(ok(store.fetch_site_by_key(&site.key).await), site);
    assert_eq!(ok(store.fetch_site_by_key(&bare_site.key).await), bare_site);

    let mut operators = Vec::new();
    for (index, (role, name, disabled)) in [
        (Role::Admin, "Dana דנה", false),
        (Role::Supervisor, "王小明", false),
        (Role::Operator, "अनीता 🦀", true),
    ]
    .into_iter()
    .enumerate()
    {
        let operator = Operator {
            id: OperatorId::new(),
            tenant_id: tenant.id,
            email: unique_email(),
            display_name: name.to_owned(),
            role,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
            disabled,
            created_at: created_at + Duration::from_millis(index as u64),
        };
        ok(store.insert_operator(tenant.id, &operator).await);
        assert_eq!(
            ok(store.fetch_operator(tenant.id, operator.id).await),
            operator
        );
        assert_eq!(
            ok(store.fetch_operator_by_email(&operator.email).await),
            operator
        );
        operators.push(operator);
    }
    assert_eq!(ok(store.list_operators(tenant.id).await), operators);

    let operator_session = OperatorSession {
        id: SessionId::new(),
        tenant_id: tenant.id,
        operator_id: operators[0].id,
        token_hash: random_token(),
        created_at,
        expires_at: datetime!(2999-01-01 00:00:00.000001 UTC),
    };
    ok(store
        .insert_operator_session(tenant.id, &operator_session)
        .await);
    let found = store
        .fetch_operator_session_by_token(&operator_session.token_hash, now())
        .await;
    assert_eq!(ok(found), operator_session);

    let named = Visitor {
        id: VisitorId::new(),
        tenant_id: tenant.id,
        site_id: site.id,
        name: VisitorName::parse_optional(Some("X Æ A-12 «אנה» 王".to_owned()))
            .expect("a valid name"),
        created_at,
    };
    let named_session = VisitorSession {
        id: VisitorSessionId::new(),
        tenant_id: tenant.id,
        visitor_id: named.id,
        site_id: site.id,
        token_hash: random_token(),
        browser: BrowserInfo {
            ip: Some("2001:db8::1".parse::<IpAddr>().expect("an address")),
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0".to_owned(),
            ),
        },
        created_at: created_at + Duration::from_micros(7),
    };
    let anonymous = Visitor {
        id: VisitorId::new(),
        site_id: bare_site.id,
        name: None,
        ..named.clone()
    };
    let anonymous_session = VisitorSession {
        id: VisitorSessionId::new(),
        visitor_id: anonymous.id,
        site_id: bare_site.id,
        token_hash: random_token(),
        browser: BrowserInfo::default(),
        ..named_session.clone()
    };
    let ipv4_session = VisitorSession {
        id: VisitorSessionId::new(),
        visitor_id: VisitorId::new(),
        token_hash: random_token(),
        browser: BrowserInfo {
            ip: Some("203.0.113.9".parse::<IpAddr>().expect("an address")),
            user_agent: None,
        },
        ..named_session.clone()
    };
    let ipv4_visitor = Visitor {
        id: ipv4_session.visitor_id,
        ..named.clone()
    };
    for (visitor, session) in [
        (&named, &named_session),
        (&anonymous, &anonymous_session),
        (&ipv4_visitor, &ipv4_session),
    ] {
        ok(store.insert_visitor(tenant.id, visitor, session).await);
        assert_eq!(
            &ok(store.fetch_visitor(tenant.id, visitor.id).await),
            visitor
        );
        let found = ok(store
            .fetch_visitor_session_by_token(&session.token_hash)
            .await);
        assert_eq!(&found, session);
    }
}

/// A conversation through its whole life, with a message of every kind and author, reads
/// back exactly as the appends returned it.
pub async fn conversation_and_messages_round_trip(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let operator = fixture.operator.id;
    let visitor = fixture.visitor.id;
    let conversation = ConversationId::new();
    let start = datetime!(2026-03-01 12:00:00.123456 UTC);
    let at = |step: u64| start + Duration::from_micros(step * 1_000_001);
    let message = |kind, author, text: &str, step| NewMessage {
        created_at: at(step),
        client_msg_id: Some(Uuid::new_v4()),
        author_name: Some(format!("name {step} דנה")),
        ..new_message(conversation, kind, author, text)
    };
    let requests = [
        AppendRequest {
            message: NewMessage {
                event: Some(SystemEvent::ChatRequested),
                ..message(
                    MessageKind::System,
                    MessageAuthor::Visitor(visitor),
                    "Chat requested",
                    0,
                )
            },
            effect: AppendEffect::Open {
                site_id: fixture.site.id,
                visitor_id: visitor,
            },
        },
        AppendRequest {
            message: NewMessage {
                author_name: None,
                client_msg_id: None,
                ..message(
                    MessageKind::Visitor,
                    MessageAuthor::Visitor(visitor),
                    "שלום, יש שאלה",
                    1,
                )
            },
            effect: AppendEffect::Message { operator: None },
        },
        AppendRequest {
            message: NewMessage {
                event: Some(SystemEvent::OperatorJoined),
                ..message(
                    MessageKind::System,
                    MessageAuthor::Operator(operator),
                    "Dana joined",
                    2,
                )
            },
            effect: AppendEffect::Accept { operator },
        },
        AppendRequest {
            message: message(
                MessageKind::Operator,
                MessageAuthor::Operator(operator),
                "नमस्ते 你好",
                3,
            ),
            effect: AppendEffect::Message {
                operator: Some(operator),
            },
        },
        AppendRequest {
            message: message(
                MessageKind::Whisper,
                MessageAuthor::Operator(operator),
                "VIP customer",
                4,
            ),
            effect: AppendEffect::Message {
                operator: Some(operator),
            },
        },
        AppendRequest {
            message: NewMessage {
                client_msg_id: None,
                author_name: None,
                ..message(
                    MessageKind::System,
                    MessageAuthor::System,
                    "Transcript sent",
                    5,
                )
            },
            effect: AppendEffect::Message { operator: None },
        },
        AppendRequest {
            message: NewMessage {
                event: Some(SystemEvent::ChatEnded),
                ..message(
                    MessageKind::System,
                    MessageAuthor::Operator(operator),
                    "Chat ended",
                    6,
                )
            },
            effect: AppendEffect::End {
                reason: EndReason::OperatorEnded(operator),
                operator: Some(operator),
            },
        },
    ];
    let mut answered = Vec::new();
    let mut last = None;
    for (index, request) in requests.iter().enumerate() {
        let appended = ok(store.append(tenant, request.clone()).await);
        assert!(!appended.duplicate);
        let sent = &request.message;
        let expected = Message {
            id: sent.id,
            tenant_id: tenant,
            conversation_id: conversation,
            seq: index as i64 + 1,
            kind: sent.kind,
            author: sent.author,
            author_name: sent.author_name.clone(),
            text: sent.text.clone(),
            event: sent.event,
            client_msg_id: sent.client_msg_id,
            created_at: sent.created_at,
        };
        assert_eq!(appended.message, expected);
        answered.push(appended.message);
        last = Some(appended.conversation);
    }
    let expected = Conversation {
        id: conversation,
        tenant_id: tenant,
        site_id: fixture.site.id,
        visitor_id: visitor,
        state: ConversationState::Ended,
        operator_id: Some(operator),
        last_seq: 7,
        created_at: at(0),
        accepted_at: Some(at(2)),
        ended_at: Some(at(6)),
        end_reason: Some(EndReason::OperatorEnded(operator)),
    };
    assert_eq!(last, Some(expected.clone()));
    assert_eq!(
        ok(store.fetch_conversation(tenant, conversation).await),
        expected
    );
    assert_eq!(
        ok(store.list_messages(tenant, conversation, 0, 100).await),
        answered
    );
}

/// Message text of any script, bidi controls, emoji sequences and the maximum length is
/// stored and read back byte for byte (case BR-13).
pub async fn message_text_round_trips_byte_for_byte(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let conversation = fixture.open(&*store, fixture.visitor.id).await;
    let texts = [
        "שלום! איך אפשר לעזור? (הזמנה #1234)".to_owned(),
        "你好，我的订单还没到。".to_owned(),
        "नमस्ते, मेरा ऑर्डर कहाँ है?".to_owned(),
        "👍🏽👨‍👩‍👧 ok 🏳️‍🌈".to_owned(),
        "\u{202E}gpj.exe and \u{200F}تم الشحن\u{200E} 123".to_owned(),
        "e\u{0301} vs é, ﬁ ligature, zero\u{200B}width".to_owned(),
        "line one\nline two\ttabbed\r\n  trailing spaces  ".to_owned(),
        "😀".repeat(10_000),
        "אב".repeat(5_000),
    ];
    let mut expected = Vec::new();
    for text in &texts {
        let request = visitor_message(conversation.id, fixture.visitor.id, text, None);
        let appended = ok(store.append(tenant, request).await);
        assert_eq!(appended.message.text.as_bytes(), text.as_bytes());
        expected.push(appended.message);
    }
    let listed = ok(store.list_messages(tenant, conversation.id, 1, 100).await);
    assert_eq!(listed, expected);
    for (listed, text) in listed.iter().zip(&texts) {
        assert_eq!(listed.text.as_bytes(), text.as_bytes());
    }
}

/// The entry lookups find records by site key, token hash and email across tenants;
/// unknown keys are `NotFound`; taken keys and emails are `Conflict`s.
pub async fn entry_lookups_and_conflicts(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    assert_eq!(
        ok(store.fetch_site_by_key(&fixture.site.key).await),
        fixture.site
    );
    assert_eq!(
        ok(store.fetch_site_by_key(&other.site.key).await),
        other.site
    );
    let session = ok(store
        .fetch_visitor_session_by_token(&fixture.visitor_session.token_hash)
        .await);
    assert_eq!(session, fixture.visitor_session);
    assert_eq!(
        ok(store.fetch_operator_by_email(&other.operator.email).await),
        other.operator
    );

    not_found(store.fetch_site_by_key(&unique_site_key()).await);
    not_found(store.fetch_visitor_session_by_token(&random_token()).await);
    not_found(
        store
            .fetch_operator_session_by_token(&random_token(), now())
            .await,
    );
    not_found(store.fetch_operator_by_email(&unique_email()).await);

    let same_key = Site {
        id: SiteId::new(),
        tenant_id: other.tenant.id,
        ..fixture.site.clone()
    };
    conflict(
        store.insert_site(other.tenant.id, &same_key).await,
        "site_key",
    );
    // Unique across the platform, not per tenant.
    let same_email = Operator {
        id: OperatorId::new(),
        tenant_id: other.tenant.id,
        ..fixture.operator.clone()
    };
    conflict(
        store.insert_operator(other.tenant.id, &same_email).await,
        "operator_email",
    );
    assert_eq!(ok(store.list_operators(other.tenant.id).await).len(), 2);
}

/// An operator session is found by its token only before `expires_at`; a deleted one is
/// gone.
pub async fn expired_operator_sessions_are_not_returned(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let current = now();
    let expired = fixture
        .operator_session(&*store, current - Duration::from_secs(1))
        .await;
    let valid = fixture
        .operator_session(&*store, current + Duration::from_secs(3_600))
        .await;
    not_found(
        store
            .fetch_operator_session_by_token(&expired.token_hash, current)
            .await,
    );
    assert_eq!(
        ok(store
            .fetch_operator_session_by_token(&valid.token_hash, current)
            .await),
        valid
    );
    // Valid strictly before expires_at.
    not_found(
        store
            .fetch_operator_session_by_token(&valid.token_hash, valid.expires_at)
            .await,
    );
    let just_before = valid.expires_at - Duration::from_micros(1);
    assert_eq!(
        ok(store
            .fetch_operator_session_by_token(&valid.token_hash, just_before)
            .await),
        valid
    );

    ok(store
        .delete_operator_session(fixture.tenant.id, valid.id)
        .await);
    not_found(
        store
            .fetch_operator_session_by_token(&valid.token_hash, current)
            .await,
    );
    // Deleting again is not an error.
    ok(store
        .delete_operator_session(fixture.tenant.id, valid.id)
        .await);
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

// ---------------------------------------------------------------------------------------
// Fixtures and helpers.

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
            created_at: visitor.created_at,
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
        let session = OperatorSession {
            id: SessionId::new(),
            tenant_id: self.tenant.id,
            operator_id: self.operator.id,
            token_hash: random_token(),
            created_at: now(),
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
        created_at: now(),
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

fn hours_from_now(hours: u64) -> Timestamp {
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

#[track_caller]
fn ok<T>(result: StoreResult<T>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("unexpected store error: {error:?}"),
    }
}

#[track_caller]
fn not_found<T: std::fmt::Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "expected NotFound, got {result:?}"
    );
}

#[track_caller]
fn conflict(result: StoreResult<()>, expected: &str) {
    match result {
        Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, expected),
        other => panic!("expected a conflict on {expected}, got {other:?}"),
    }
}

#[track_caller]
fn wrong_state(result: StoreResult<Appended>) -> Conversation {
    match result {
        Err(StoreError::WrongState { current }) => *current,
        other => panic!("expected WrongState, got {other:?}"),
    }
}

/// Awaits `future`, failing the test instead of hanging if a store never answers.
async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(60), future).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not finish within 60 s"),
    }
}

/// The outputs of every task, failing on a panic in any of them.
async fn join_all<T: 'static>(mut tasks: JoinSet<T>) -> Vec<T> {
    let mut outputs = Vec::with_capacity(tasks.len());
    within("the spawned appends", async {
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(output) => outputs.push(output),
                Err(error) => panic!("a spawned task failed: {error}"),
            }
        }
    })
    .await;
    outputs
}
