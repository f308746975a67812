//! Conformance checks of conversation and message reads: a conversation's whole life
//! round-trips, message text is kept byte for byte, messages page by `seq`, and the queue
//! and an operator's active list keep their order.

use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{
    Conversation, ConversationId, ConversationState, EndReason, Message, MessageAuthor,
    MessageKind, NewMessage, SystemEvent,
};
use time::macros::datetime;
use uuid::Uuid;

use super::expect::ok;
use super::fixtures::{Fixture, accept, end, new_message, now, open_request, visitor_message};
use crate::{AppendEffect, AppendRequest, Store};

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
                department_id: None,
                prechat: None,
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
        department_id: None,
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
