//! Tenant isolation: an operator of tenant B cannot see tenant A's queue, nor accept,
//! read, follow or write A's conversation, by any route that exists. Another tenant's id
//! answers exactly like a missing id.

use livehelp_protocol::{ClientFrame, ServerFrame};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_operator_of_another_tenant_cannot_see_or_touch_a_conversation() {
    let app = spawn_app().await;
    let a = app.tenant("alpha").await;
    let b = app.tenant("bravo").await;
    let (cookie_b, mut operator_b) = app.operator_client(&b.operator_email).await;
    let (_, mut visitor_a) = app.visitor(&a.site_key, Some("Alice of A")).await;
    let conversation = visitor_a.start_chat().await;
    visitor_a.say(conversation, "secret of tenant A").await;

    // B's queue never shows A's conversation, now or after reconnecting.
    let (_, mut fresh_b) = app.operator_client(&b.operator_email).await;
    fresh_b.send(&ClientFrame::Ping {}).await;
    fresh_b
        .wait_for("pong", |f| matches!(f, ServerFrame::Pong {}))
        .await;

    for client in [&mut operator_b, &mut fresh_b] {
        for frame in [
            ClientFrame::Accept {
                client_msg_id: Uuid::new_v4(),
                conversation_id: conversation,
            },
            ClientFrame::SendMessage {
                client_msg_id: Uuid::new_v4(),
                conversation_id: conversation,
                text: "hi".into(),
            },
            ClientFrame::EndChat {
                client_msg_id: Uuid::new_v4(),
                conversation_id: conversation,
            },
        ] {
            let id = frame.client_msg_id();
            client.send(&frame).await;
            assert_eq!(client.error_code(id).await, "conversation_not_found");
        }
        client
            .send(&ClientFrame::Typing {
                conversation_id: conversation,
                is_typing: true,
            })
            .await;
        assert_eq!(client.error_code(None).await, "conversation_not_found");
        client
            .send(&ClientFrame::Resume {
                conversation_id: conversation,
                after_seq: 0,
            })
            .await;
        assert_eq!(client.error_code(None).await, "conversation_not_found");
        client.send(&ClientFrame::Ping {}).await;
        client
            .wait_for("pong", |f| matches!(f, ServerFrame::Pong {}))
            .await;
        assert!(client.messages.is_empty(), "B received a message of A");
    }

    // Transcript: A's id answers exactly as a missing id.
    let theirs = app
        .get(
            &format!("/api/v1/conversations/{conversation}/transcript"),
            &cookie_b,
        )
        .await;
    let missing = app
        .get(
            &format!("/api/v1/conversations/{}/transcript", Uuid::new_v4()),
            &cookie_b,
        )
        .await;
    assert_eq!(theirs.status(), 404);
    assert_eq!(missing.status(), 404);
    let (theirs, missing): (Value, Value) = (
        theirs.json().await.expect("json"),
        missing.json().await.expect("json"),
    );
    assert_eq!(theirs, missing);
    assert_eq!(theirs["code"], "conversation_not_found");

    // Nothing B did reached A's conversation.
    let cookie_a = app.login(&a.operator_email).await;
    let transcript = app.transcript(conversation, &cookie_a).await;
    assert_eq!(transcript.messages.len(), 2);
    assert_eq!(transcript.conversation.state, "queued");
}

#[tokio::test]
async fn queue_snapshots_and_events_stay_within_the_tenant() {
    let app = spawn_app().await;
    let a = app.tenant("alpha").await;
    let b = app.tenant("bravo").await;
    let (_, mut visitor_a) = app.visitor(&a.site_key, None).await;
    let conversation_a = visitor_a.start_chat().await;
    let cookie_b = app.login(&b.operator_email).await;
    let mut operator_b = crate::client::WsClient::operator(&app.base, &cookie_b).await;
    let queue = operator_b
        .wait_for("queue", |f| matches!(f, ServerFrame::Queue { .. }))
        .await;
    let ServerFrame::Queue { conversations, .. } = queue else {
        unreachable!()
    };
    assert!(
        conversations.is_empty(),
        "B sees A's queue: {conversations:?}"
    );

    // A new chat in A and one in B: B is told only about its own.
    let (_, mut visitor_a2) = app.visitor(&a.site_key, None).await;
    visitor_a2.start_chat().await;
    let (_, mut visitor_b) = app.visitor(&b.site_key, None).await;
    let conversation_b = visitor_b.start_chat().await;
    let event = operator_b
        .wait_for("conversation", |f| {
            matches!(f, ServerFrame::Conversation { .. })
        })
        .await;
    let ServerFrame::Conversation { conversation } = event else {
        unreachable!()
    };
    assert_eq!(conversation.id, conversation_b);
    assert_ne!(conversation.id, conversation_a);
}

#[tokio::test]
async fn a_visitor_cannot_follow_or_write_another_visitors_conversation() {
    let app = spawn_app().await;
    let a = app.tenant("alpha").await;
    let (_, mut first) = app.visitor(&a.site_key, Some("First")).await;
    let (_, mut second) = app.visitor(&a.site_key, Some("Second")).await;
    let conversation = first.start_chat().await;
    first.say(conversation, "private to first").await;
    second
        .send(&ClientFrame::Resume {
            conversation_id: conversation,
            after_seq: 0,
        })
        .await;
    assert_eq!(second.error_code(None).await, "conversation_not_found");
    let id = Uuid::new_v4();
    second
        .send(&ClientFrame::SendMessage {
            client_msg_id: id,
            conversation_id: conversation,
            text: "hijack".into(),
        })
        .await;
    assert_eq!(second.error_code(Some(id)).await, "conversation_not_found");
    assert!(second.messages.is_empty());
}
