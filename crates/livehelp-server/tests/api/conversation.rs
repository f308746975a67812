//! A whole conversation, idempotency, resume, and graceful shutdown.

use livehelp_protocol::{ClientFrame, ServerFrame};
use uuid::Uuid;

use crate::client::WsClient;
use crate::helpers::spawn_app;

/// Texts in several scripts, emoji, and a 4,000-character message.
fn texts(side: &str, count: usize) -> Vec<String> {
    let samples = [
        "שלום, אני צריכה עזרה עם ההזמנה שלי",
        "你好，我的订单还没有到",
        "नमस्ते, मुझे मदद चाहिए",
        "👍🏽👨‍👩‍👧 ok 🎉",
        "plain ASCII, with \"quotes\" and <tags> & ampersands",
    ];
    (0..count)
        .map(|i| match i {
            7 => format!("{side}: {}", "長".repeat(4_000 - side.len() - 2)),
            _ => format!("{side} {i}: {}", samples[i % samples.len()]),
        })
        .collect()
}

#[tokio::test]
async fn a_whole_conversation_is_delivered_in_order_and_kept_byte_for_byte() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (cookie, mut operator) = app.operator_client(&tenant.operator_email).await;
    let (session, mut visitor) = app.visitor(&tenant.site_key, Some("דנה 王 अनीता 🌷")).await;

    let conversation = visitor.start_chat().await;
    let queued = operator
        .wait_for(
            "conversation queued",
            |f| matches!(f, ServerFrame::Conversation { conversation: c } if c.state == "queued"),
        )
        .await;
    let ServerFrame::Conversation {
        conversation: queued,
    } = queued
    else {
        unreachable!()
    };
    assert_eq!(queued.id, conversation);
    assert_eq!(queued.visitor.name.as_deref(), Some("דנה 王 अनीता 🌷"));

    operator.accept(conversation).await;
    let visitor_texts = texts("visitor", 20);
    let operator_texts = texts("operator", 20);
    for (mine, theirs) in visitor_texts.iter().zip(&operator_texts) {
        visitor.say(conversation, mine).await;
        operator.say(conversation, theirs).await;
    }
    let end = Uuid::new_v4();
    visitor
        .send(&ClientFrame::EndChat {
            client_msg_id: end,
            conversation_id: conversation,
        })
        .await;
    let (_, _, last_seq) = visitor.ack(end).await;
    // chat_requested + operator_joined + 40 messages + chat_ended
    assert_eq!(last_seq, 43);
    visitor.wait_for_seq(conversation, last_seq).await;
    operator.wait_for_seq(conversation, last_seq).await;

    let mut expected = vec![];
    for (mine, theirs) in visitor_texts.iter().zip(&operator_texts) {
        expected.push(("visitor", mine.clone()));
        expected.push(("operator", theirs.clone()));
    }
    for client in [&visitor, &operator] {
        let seqs: Vec<i64> = client
            .messages_of(conversation)
            .iter()
            .map(|m| m.seq)
            .collect();
        assert_eq!(
            seqs,
            (1..=43).collect::<Vec<_>>(),
            "every message once, in order"
        );
        let chat: Vec<(&str, String)> = client
            .messages_of(conversation)
            .iter()
            .filter(|m| m.kind != "system")
            .map(|m| (m.kind.as_str(), m.text.clone()))
            .collect();
        assert_eq!(chat, expected);
    }

    let transcript = app.transcript(conversation, &cookie).await;
    assert_eq!(transcript.conversation.state, "ended");
    assert_eq!(
        transcript.conversation.end_reason.as_deref(),
        Some("visitor_ended")
    );
    assert_eq!(transcript.conversation.visitor.name, session.name);
    let stored: Vec<(&str, String)> = transcript
        .messages
        .iter()
        .filter(|m| m.kind != "system")
        .map(|m| (m.kind.as_str(), m.text.clone()))
        .collect();
    assert_eq!(
        stored, expected,
        "transcript equals what was sent, byte for byte"
    );
    let events: Vec<_> = transcript
        .messages
        .iter()
        .filter_map(|m| m.event.as_deref())
        .collect();
    assert_eq!(events, ["chat_requested", "operator_joined", "chat_ended"]);
    assert!(
        transcript
            .messages
            .iter()
            .any(|m| m.text.chars().count() == 4_000)
    );
    let visitor_names: Vec<_> = transcript
        .messages
        .iter()
        .filter(|m| m.kind == "visitor")
        .map(|m| m.author.name.clone())
        .collect();
    assert!(
        visitor_names
            .iter()
            .all(|name| name.as_deref() == Some("דנה 王 अनीता 🌷"))
    );

    let text = app
        .get(
            &format!("/api/v1/conversations/{conversation}/transcript?format=txt"),
            &cookie,
        )
        .await;
    assert_eq!(text.status(), 200);
    assert!(
        text.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain")
    );
    let text = text.text().await.expect("body");
    assert_eq!(text.lines().count(), 43, "one line per message");
    assert!(text.contains(&format!("דנה 王 अनीता 🌷: {}", visitor_texts[0])));
    assert!(text.contains(&format!("Operator: {}", operator_texts[19])));
}

#[tokio::test]
async fn the_same_client_msg_id_three_times_stores_one_message_and_acks_identically() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
    let conversation = visitor.start_chat().await;
    let id = Uuid::new_v4();
    let frame = ClientFrame::SendMessage {
        client_msg_id: id,
        conversation_id: conversation,
        text: "only once".into(),
    };
    let mut acks = vec![];
    for _ in 0..3 {
        visitor.send(&frame).await;
        acks.push(visitor.ack(id).await);
    }
    assert_eq!(acks[0], acks[1]);
    assert_eq!(acks[1], acks[2]);
    let cookie = app.login(&tenant.operator_email).await;
    let transcript = app.transcript(conversation, &cookie).await;
    assert_eq!(
        transcript
            .messages
            .iter()
            .filter(|m| m.text == "only once")
            .count(),
        1
    );
    assert_eq!(transcript.messages.len(), 2);

    // The same key for another conversation is refused, not silently acked.
    visitor
        .send(&ClientFrame::EndChat {
            client_msg_id: Uuid::new_v4(),
            conversation_id: conversation,
        })
        .await;
    let other = visitor.start_chat().await;
    assert_ne!(other, conversation);
    visitor
        .send(&ClientFrame::SendMessage {
            client_msg_id: id,
            conversation_id: other,
            text: "only once".into(),
        })
        .await;
    assert_eq!(visitor.error_code(Some(id)).await, "client_msg_id_reused");
}

#[tokio::test]
async fn an_operator_who_reconnects_and_resumes_gets_exactly_the_missed_messages_then_live_ones() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (cookie, mut operator) = app.operator_client(&tenant.operator_email).await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, Some("Ann")).await;
    let conversation = visitor.start_chat().await;
    operator.accept(conversation).await;
    visitor.say(conversation, "before").await;
    operator.wait_for_seq(conversation, 3).await;
    let last_seen = operator
        .messages_of(conversation)
        .last()
        .map(|m| m.seq)
        .unwrap_or(0);
    operator.close().await;

    for i in 0..10 {
        visitor.say(conversation, &format!("missed {i}")).await;
    }
    let mut operator = WsClient::operator(&app.base, &cookie).await;
    let hello = operator
        .wait_for("hello", |f| matches!(f, ServerFrame::Hello { .. }))
        .await;
    let ServerFrame::Hello { conversations, .. } = hello else {
        unreachable!()
    };
    assert_eq!(
        conversations.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![conversation]
    );
    let resumed_to = operator.resume(conversation, last_seen).await;
    assert_eq!(resumed_to, last_seen + 10);
    let replayed: Vec<String> = operator
        .messages_of(conversation)
        .iter()
        .map(|m| m.text.clone())
        .collect();
    assert_eq!(
        replayed,
        (0..10).map(|i| format!("missed {i}")).collect::<Vec<_>>()
    );

    visitor.say(conversation, "live again").await;
    operator.wait_for_seq(conversation, last_seen + 11).await;
    let all: Vec<i64> = operator
        .messages_of(conversation)
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(all, (last_seen + 1..=last_seen + 11).collect::<Vec<_>>());
    assert_eq!(
        operator.messages.last().map(|m| m.text.as_str()),
        Some("live again")
    );
}

#[tokio::test]
async fn typing_reaches_the_other_side_and_is_never_stored() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (cookie, mut operator) = app.operator_client(&tenant.operator_email).await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, Some("Ann")).await;
    let conversation = visitor.start_chat().await;
    operator.accept(conversation).await;
    visitor
        .send(&ClientFrame::Typing {
            conversation_id: conversation,
            is_typing: true,
        })
        .await;
    let typing = operator
        .wait_for("typing", |f| matches!(f, ServerFrame::Typing { .. }))
        .await;
    let ServerFrame::Typing {
        author, is_typing, ..
    } = typing
    else {
        unreachable!()
    };
    assert!(is_typing);
    assert_eq!(
        (author.kind.as_str(), author.name.as_deref()),
        ("visitor", Some("Ann"))
    );
    operator
        .send(&ClientFrame::Typing {
            conversation_id: conversation,
            is_typing: true,
        })
        .await;
    visitor
        .wait_for(
            "operator typing",
            |f| matches!(f, ServerFrame::Typing { author, .. } if author.kind == "operator"),
        )
        .await;
    let transcript = app.transcript(conversation, &cookie).await;
    assert_eq!(
        transcript.messages.len(),
        2,
        "only chat_requested and operator_joined are stored"
    );
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away_after_committing_acked_messages() {
    let mut app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
    let conversation = visitor.start_chat().await;
    visitor.say(conversation, "acked before shutdown").await;
    app.shutdown().await;
    while visitor.next().await.is_some() {}
    let close = visitor.closed.clone().flatten().expect("a close frame");
    assert_eq!(u16::from(close.code), 1001);
}

/// Sends are pipelined (the reader does not wait for each commit), yet a client that
/// writes 15 messages and `end_chat` without waiting for any answer gets every `ack` in
/// the order it sent them, then the `end_chat` ack, and the transcript holds the 15
/// messages in that order before `chat_ended`. Meanwhile the operator, who also writes
/// without waiting, receives each visitor message once and in order.
#[tokio::test]
async fn pipelined_sends_are_answered_and_stored_in_order_before_a_following_end() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (cookie, mut operator) = app.operator_client(&tenant.operator_email).await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, Some("Pipe")).await;
    let conversation = visitor.start_chat().await;
    operator.accept(conversation).await;

    let visitor_keys: Vec<Uuid> = (0..15).map(|_| Uuid::new_v4()).collect();
    let operator_keys: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
    for (index, key) in visitor_keys.iter().enumerate() {
        visitor
            .send(&ClientFrame::SendMessage {
                client_msg_id: *key,
                conversation_id: conversation,
                text: format!("visitor line {index}"),
            })
            .await;
        if let Some(key) = operator_keys.get(index) {
            operator
                .send(&ClientFrame::SendMessage {
                    client_msg_id: *key,
                    conversation_id: conversation,
                    text: format!("operator line {index}"),
                })
                .await;
        }
    }
    let end_key = Uuid::new_v4();
    visitor
        .send(&ClientFrame::EndChat {
            client_msg_id: end_key,
            conversation_id: conversation,
        })
        .await;

    // The visitor's answers, in the order sent: 15 acks, then the end's.
    let mut answered = Vec::new();
    while answered.len() < visitor_keys.len() + 1 {
        match visitor.next().await.expect("the socket stays open") {
            ServerFrame::Ack { client_msg_id, .. } => answered.push(client_msg_id),
            ServerFrame::Error {
                client_msg_id: Some(key),
                code,
                ..
            } => panic!("{key} was refused: {}", code.as_str()),
            _ => {}
        }
    }
    let mut expected = visitor_keys.clone();
    expected.push(end_key);
    assert_eq!(
        answered, expected,
        "acks come in the order the frames were sent"
    );

    // The operator's own answers are in order too (the chat may have ended under the
    // last ones: those are refused, never dropped).
    let mut operator_answers = Vec::new();
    while operator_answers.len() < operator_keys.len() {
        match operator.next().await.expect("the socket stays open") {
            ServerFrame::Ack { client_msg_id, .. } => operator_answers.push(client_msg_id),
            ServerFrame::Error {
                client_msg_id: Some(key),
                ..
            } => operator_answers.push(key),
            _ => {}
        }
    }
    assert_eq!(operator_answers, operator_keys);

    let transcript = app.transcript(conversation, &cookie).await;
    let lines: Vec<&str> = transcript
        .messages
        .iter()
        .filter(|message| message.kind == "visitor")
        .map(|message| message.text.as_str())
        .collect();
    let sent: Vec<String> = (0..15)
        .map(|index| format!("visitor line {index}"))
        .collect();
    assert_eq!(
        lines, sent,
        "the visitor's lines are stored in the order sent"
    );
    let last = transcript.messages.last().expect("messages");
    assert_eq!(
        last.event.as_deref(),
        Some("chat_ended"),
        "the end comes last"
    );
    let seqs: Vec<i64> = transcript
        .messages
        .iter()
        .map(|message| message.seq)
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    operator.wait_for_seq(conversation, last.seq).await;
    let delivered: Vec<String> = operator
        .messages_of(conversation)
        .iter()
        .filter(|message| message.kind == "visitor")
        .map(|message| message.text.clone())
        .collect();
    assert_eq!(
        delivered, sent,
        "the operator got each visitor line once, in order"
    );
}
