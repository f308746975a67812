//! Real-world failure cases from `../shared/cases/README.md`, each a test named after it.

use std::collections::HashSet;

use livehelp_protocol::{ClientFrame, MessageDto, ServerFrame};
use uuid::Uuid;

use crate::client::WsClient;
use crate::helpers::spawn_app;

/// BR-01: a reconnect must neither lose nor double messages, however old the chat.
#[tokio::test]
async fn br_01_reconnect_neither_loses_nor_duplicates_messages() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    // OpB observes the chat: watching a colleague's chat is a supervisor's right (M8).
    app.member(
        tenant.id,
        "opb@acme.test",
        "OpB",
        livehelp_domain::Role::Supervisor,
    )
    .await;
    let (_, mut op_a) = app.operator_client(&tenant.operator_email).await;
    let (cookie_b, mut op_b) = app.operator_client("opb@acme.test").await;
    let (session, mut v1) = app.visitor(&tenant.site_key, Some("V1")).await;
    let c = v1.start_chat().await;
    op_a.accept(c).await;
    op_b.resume(c, 0).await; // OpB observes C.

    v1.say(c, "m1").await;
    op_a.wait_for_seq(c, 3).await;
    op_b.wait_for_seq(c, 3).await;
    let op_b_seen: Vec<MessageDto> = op_b.messages.clone();
    let last_seen_b = op_b_seen.last().map(|m| m.seq).expect("OpB saw m1");

    // Drop OpB at TCP level, without a close frame.
    op_b.drop_abruptly();
    op_a.say(c, "m2-during-outage").await;
    v1.say(c, "m3-during-outage").await;

    let mut op_b = WsClient::operator(&app.base, &cookie_b).await;
    op_b.resume(c, last_seen_b).await;
    let mut op_b_all = op_b_seen;
    op_b_all.append(&mut op_b.messages);

    // V1: three drop/reconnect cycles, sending v-after-k after each; the second cycle
    // also resends the previous frame's client_msg_id.
    let mut v1_all: Vec<MessageDto> = v1.messages.clone();
    let mut v1_client = Some(v1);
    let mut previous: Option<ClientFrame> = None;
    for k in 1..=3 {
        let last = v1_all
            .iter()
            .filter(|m| m.conversation_id == c)
            .map(|m| m.seq)
            .max()
            .unwrap_or(0);
        v1_client.take().expect("client").drop_abruptly();
        let mut v1 = WsClient::visitor(&app.base, &session.visitor_token).await;
        let hello = v1
            .wait_for("hello", |f| matches!(f, ServerFrame::Hello { .. }))
            .await;
        assert!(
            matches!(&hello, ServerFrame::Hello { conversations, .. } if conversations.iter().any(|x| x.id == c))
        );
        v1.resume(c, last).await;
        if k == 2 {
            let frame = previous.clone().expect("previous frame");
            let id = frame.client_msg_id().expect("id");
            v1.send(&frame).await;
            v1.ack(id).await;
        }
        let frame = ClientFrame::SendMessage {
            client_msg_id: Uuid::new_v4(),
            conversation_id: c,
            text: format!("v-after-{k}"),
        };
        v1.send(&frame).await;
        let (_, _, seq) = v1.ack(frame.client_msg_id().expect("id")).await;
        v1.wait_for_seq(c, seq).await;
        previous = Some(frame);
        v1_all.append(&mut v1.messages);
        v1_client = Some(v1);
    }
    // OpB gets the rest live.
    let cookie_a = app.login(&tenant.operator_email).await;
    let transcript = app.transcript(c, &cookie_a).await;
    let last_seq = transcript.conversation.last_seq;
    op_b.wait_for_seq(c, last_seq).await;
    op_b_all.append(&mut op_b.messages);

    let texts: Vec<&str> = transcript
        .messages
        .iter()
        .filter(|m| m.kind != "system")
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "m1",
            "m2-during-outage",
            "m3-during-outage",
            "v-after-1",
            "v-after-2",
            "v-after-3"
        ]
    );
    for (who, view) in [("OpB", &op_b_all), ("V1", &v1_all)] {
        let view: Vec<&MessageDto> = view.iter().filter(|m| m.conversation_id == c).collect();
        let ids: HashSet<Uuid> = view.iter().map(|m| m.id).collect();
        assert_eq!(ids.len(), view.len(), "{who} saw a message twice");
        let seqs: Vec<i64> = view.iter().map(|m| m.seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{who}: seq not strictly increasing: {seqs:?}"
        );
        let stored: Vec<Uuid> = transcript.messages.iter().map(|m| m.id).collect();
        let seen: Vec<Uuid> = view.iter().map(|m| m.id).collect();
        assert_eq!(seen, stored, "{who}'s view equals the transcript");
    }
}

/// BR-13: very long, emoji and right-to-left texts are stored and returned byte for byte;
/// over-long and NUL are refused with a clear error, never truncated.
#[tokio::test]
async fn br_13_long_emoji_and_rtl_text_round_trip_byte_for_byte() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (cookie, mut operator) = app.operator_client(&tenant.operator_email).await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, Some("مرحبا")).await;
    let c = visitor.start_chat().await;
    operator.accept(c).await;
    let accepted = [
        "A".repeat(5000),
        "👍🏽👨‍👩‍👧 ok".to_owned(),
        "مرحبا، كيف حالك؟ 123".to_owned(),
        "order #A-17 \u{200F}تم الشحن".to_owned(),
        "\u{202E}gpj.exe".to_owned(),
        "e\u{0301}".to_owned(),
        "😀".repeat(10_000),
    ];
    for text in &accepted {
        visitor.say(c, text).await;
    }
    for (text, code) in [
        ("x".repeat(10_001), "text_too_long"),
        ("before\u{0}after".to_owned(), "text_invalid"),
    ] {
        let id = Uuid::new_v4();
        visitor
            .send(&ClientFrame::SendMessage {
                client_msg_id: id,
                conversation_id: c,
                text,
            })
            .await;
        assert_eq!(visitor.error_code(Some(id)).await, code);
    }
    let last = 2 + accepted.len() as i64;
    operator.wait_for_seq(c, last).await;
    let live: Vec<String> = operator
        .messages_of(c)
        .iter()
        .filter(|m| m.kind == "visitor")
        .map(|m| m.text.clone())
        .collect();
    assert_eq!(live, accepted);
    let transcript = app.transcript(c, &cookie).await;
    let stored: Vec<String> = transcript
        .messages
        .iter()
        .filter(|m| m.kind == "visitor")
        .map(|m| m.text.clone())
        .collect();
    assert_eq!(stored, accepted, "no ????, no truncation");
    assert_eq!(
        transcript.conversation.last_seq, last,
        "refused texts stored nothing"
    );
    let text = app
        .get(
            &format!("/api/v1/conversations/{c}/transcript?format=txt"),
            &cookie,
        )
        .await
        .text()
        .await
        .expect("body");
    for sent in &accepted {
        assert!(text.contains(&format!("مرحبا: {sent}\n")));
    }
}

/// BR-03: two operators accepting the same queued chat at the same moment: exactly one
/// wins, every time.
#[tokio::test]
async fn br_03_two_operators_accept_same_chat() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.operator(tenant.id, "opb@acme.test", "OpB").await;
    let (_, mut op_a) = app.operator_client(&tenant.operator_email).await;
    let (_, mut op_b) = app.operator_client("opb@acme.test").await;
    let cookie = app.login(&tenant.operator_email).await;
    for _ in 0..50 {
        let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
        let c = visitor.start_chat().await;
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        // Both frames are on the wire before either answer is read.
        let (frame_a, frame_b) = (
            ClientFrame::Accept {
                client_msg_id: a,
                conversation_id: c,
            },
            ClientFrame::Accept {
                client_msg_id: b,
                conversation_id: c,
            },
        );
        tokio::join!(op_a.send(&frame_a), op_b.send(&frame_b));
        let answer = |frame: &ServerFrame, id: Uuid| match frame {
            ServerFrame::Ack { client_msg_id, .. } => {
                (*client_msg_id == id).then_some("ack".to_owned())
            }
            ServerFrame::Error {
                client_msg_id: Some(client_msg_id),
                code,
                ..
            } => (*client_msg_id == id).then(|| code.as_str().to_owned()),
            _ => None,
        };
        let result_a = answer(
            &op_a.wait_for("answer", |f| answer(f, a).is_some()).await,
            a,
        )
        .expect("answer");
        let result_b = answer(
            &op_b.wait_for("answer", |f| answer(f, b).is_some()).await,
            b,
        )
        .expect("answer");
        let mut results = [result_a.as_str(), result_b.as_str()];
        results.sort();
        assert_eq!(results, ["ack", "already_assigned"]);
        let transcript = app.transcript(c, &cookie).await;
        let joins = transcript
            .messages
            .iter()
            .filter(|m| m.event.as_deref() == Some("operator_joined"))
            .count();
        assert_eq!(joins, 1, "one assignment event");
    }
}

/// BR-05: a visitor who starts a chat several times at once (double click, parallel
/// tabs) gets one conversation.
#[tokio::test]
async fn br_05_one_visitor_gets_one_open_chat() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (session, _) = app.visitor(&tenant.site_key, Some("V1")).await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(WsClient::visitor(&app.base, &session.visitor_token).await);
    }
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    futures_util::future::join_all(clients.iter_mut().zip(&ids).map(|(client, id)| async move {
        client
            .send(&ClientFrame::StartChat {
                client_msg_id: *id,
                department_id: None,
                prechat: None,
            })
            .await
    }))
    .await;
    let mut conversations = HashSet::new();
    for (client, id) in clients.iter_mut().zip(&ids) {
        conversations.insert(client.ack(*id).await.0);
    }
    assert_eq!(
        conversations.len(),
        1,
        "every start answered with the same conversation"
    );
    // (c) Repeating after success returns the existing chat.
    let again = clients[0].start_chat().await;
    assert!(conversations.contains(&again));
    let (_, operator) = app.operator_client(&tenant.operator_email).await;
    drop(operator);
    let cookie = app.login(&tenant.operator_email).await;
    let mut operator = WsClient::operator(&app.base, &cookie).await;
    let queue = operator
        .wait_for("queue", |f| matches!(f, ServerFrame::Queue { .. }))
        .await;
    let ServerFrame::Queue {
        conversations: queued,
        total,
    } = queue
    else {
        unreachable!()
    };
    assert_eq!(queued.len(), 1, "the queue shows one entry");
    assert_eq!(total, 1);
}

/// BR-17: one visitor flooding is refused with `rate_limited` (never silently dropped),
/// while another visitor of the same tenant and a visitor of another tenant chat normally;
/// a visitor opening chat after chat is stopped after a few.
#[tokio::test]
async fn br_17_one_visitor_floods_others_unaffected() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let (_, mut operator) = app.operator_client(&tenant.operator_email).await;
    let (_, mut v1) = app.visitor(&tenant.site_key, Some("V1")).await;
    let (_, mut v2) = app.visitor(&tenant.site_key, Some("V2")).await;
    let (_, mut v3) = app.visitor(&tenant.site_key, Some("V3")).await;
    let (_, mut t2) = app.visitor(&other.site_key, Some("T2")).await;
    let c1 = v1.start_chat().await;
    let c2 = v2.start_chat().await;
    let ct = t2.start_chat().await;
    operator.accept(c2).await;

    // V1: 300 messages as fast as possible. Each gets an answer: an ack or rate_limited.
    let ids: Vec<Uuid> = (0..300).map(|_| Uuid::new_v4()).collect();
    for (i, id) in ids.iter().enumerate() {
        v1.send(&ClientFrame::SendMessage {
            client_msg_id: *id,
            conversation_id: c1,
            text: format!("flood {i}"),
        })
        .await;
    }
    let (mut acked, mut limited) = (0, 0);
    for id in &ids {
        let frame = v1
            .wait_for("answer", |f| {
                matches!(f, ServerFrame::Ack { client_msg_id, .. } if client_msg_id == id)
                    || matches!(f, ServerFrame::Error { client_msg_id: Some(c), .. } if c == id)
            })
            .await;
        match frame {
            ServerFrame::Ack { .. } => acked += 1,
            ServerFrame::Error {
                code, retry_after, ..
            } => {
                assert_eq!(code.as_str(), "rate_limited");
                assert!(retry_after.is_some_and(|s| s >= 1));
                limited += 1;
            }
            _ => unreachable!(),
        }
    }
    assert_eq!(
        acked + limited,
        300,
        "every message answered, none dropped silently"
    );
    assert!(
        limited > 250 && acked >= 20,
        "acked {acked}, limited {limited}"
    );

    // V2: one message a second for 5 s, each delivered promptly.
    for i in 0..5 {
        let sent = std::time::Instant::now();
        let seq = v2.say(c2, &format!("calm {i}")).await;
        operator.wait_for_seq(c2, seq).await;
        assert!(
            sent.elapsed() < std::time::Duration::from_secs(1),
            "V2's message {i} took {:?}",
            sent.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    }
    // T2 (another tenant) is unaffected.
    t2.say(ct, "hello from T2").await;

    // V3: chat after chat; refused after a few, and the refusal is explicit.
    let mut opened = 0;
    let mut refused = false;
    for _ in 0..20 {
        let id = Uuid::new_v4();
        v3.send(&ClientFrame::StartChat {
            client_msg_id: id,
            department_id: None,
            prechat: None,
        })
        .await;
        let frame = v3
            .wait_for("answer", |f| {
                matches!(f, ServerFrame::Ack { client_msg_id, .. } if *client_msg_id == id)
                    || matches!(f, ServerFrame::Error { client_msg_id: Some(c), .. } if *c == id)
            })
            .await;
        match frame {
            ServerFrame::Ack {
                conversation_id, ..
            } => {
                opened += 1;
                let end = Uuid::new_v4();
                v3.send(&ClientFrame::EndChat {
                    client_msg_id: end,
                    conversation_id,
                })
                .await;
                v3.ack(end).await;
            }
            ServerFrame::Error { code, .. } => {
                assert_eq!(code.as_str(), "rate_limited");
                refused = true;
                break;
            }
            _ => unreachable!(),
        }
    }
    assert!(
        refused && opened <= 5,
        "opened {opened} chats before a refusal"
    );
}
