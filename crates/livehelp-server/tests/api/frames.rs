//! Bad input over the WebSocket: every malformed frame gets its stable error code and the
//! connection stays usable; only a frame over the hard limit closes it (1008).

use livehelp_protocol::{ClientFrame, HARD_FRAME_LIMIT, SOFT_FRAME_LIMIT, ServerFrame};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::spawn_app;

#[tokio::test]
async fn each_malformed_frame_gets_its_error_code_and_the_connection_still_works() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
    let conversation = visitor.start_chat().await;
    let foreign = Uuid::new_v4();
    let cases: Vec<(String, &str)> = vec![
        ("this is not json".into(), "invalid_json"),
        ("{\"type\":\"send_message\"".into(), "invalid_json"),
        (json!({"type": "teleport"}).to_string(), "unknown_frame_type"),
        (json!({"no_type": 1}).to_string(), "unknown_frame_type"),
        (json!({"type": "send_message", "conversation_id": conversation, "text": "hi"}).to_string(), "invalid_frame"),
        (json!({"type": "send_message", "client_msg_id": "nope", "conversation_id": conversation, "text": "hi"}).to_string(), "invalid_frame"),
        (json!({"type": "send_message", "client_msg_id": Uuid::new_v4(), "conversation_id": conversation, "text": 5}).to_string(), "invalid_frame"),
        (json!({"type": "send_message", "client_msg_id": Uuid::new_v4(), "conversation_id": conversation, "text": "x".repeat(10_001)}).to_string(), "text_too_long"),
        (json!({"type": "send_message", "client_msg_id": Uuid::new_v4(), "conversation_id": conversation, "text": "   "}).to_string(), "text_empty"),
        (json!({"type": "send_message", "client_msg_id": Uuid::new_v4(), "conversation_id": conversation, "text": "a\u{0}b"}).to_string(), "text_invalid"),
        (json!({"type": "send_message", "client_msg_id": Uuid::new_v4(), "conversation_id": foreign, "text": "hi"}).to_string(), "conversation_not_found"),
        (json!({"type": "resume", "conversation_id": foreign, "after_seq": 0}).to_string(), "conversation_not_found"),
        (json!({"type": "accept", "client_msg_id": Uuid::new_v4(), "conversation_id": conversation}).to_string(), "forbidden"),
        (json!({"type": "ping", "extra": true}).to_string(), "invalid_frame"),
        ("x".repeat(SOFT_FRAME_LIMIT + 1), "frame_too_large"),
    ];
    for (frame, expected) in cases {
        visitor.send_text(&frame).await;
        assert_eq!(
            visitor.error_code(None).await,
            expected,
            "for frame {}",
            &frame[..frame.len().min(120)]
        );
        // Still usable: a ping is answered.
        visitor.send(&ClientFrame::Ping {}).await;
        visitor
            .wait_for("pong", |f| matches!(f, ServerFrame::Pong {}))
            .await;
    }
    let seq = visitor.say(conversation, "still here").await;
    assert_eq!(seq, 2, "no refused frame stored anything");
}

#[tokio::test]
async fn a_frame_over_the_hard_limit_closes_the_socket_with_policy_violation() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
    visitor.send_text(&"y".repeat(HARD_FRAME_LIMIT + 1)).await;
    while visitor.next().await.is_some() {}
    let close = visitor.closed.clone().flatten().expect("a close frame");
    assert_eq!(u16::from(close.code), 1008);
}

#[tokio::test]
async fn an_operator_cannot_write_into_a_queued_or_someone_elses_conversation() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.operator(tenant.id, "second@acme.test", "Second").await;
    let (_, mut first) = app.operator_client(&tenant.operator_email).await;
    let (_, mut second) = app.operator_client("second@acme.test").await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
    let conversation = visitor.start_chat().await;

    let id = Uuid::new_v4();
    first
        .send(&ClientFrame::SendMessage {
            client_msg_id: id,
            conversation_id: conversation,
            text: "too early".into(),
        })
        .await;
    assert_eq!(first.error_code(Some(id)).await, "not_assigned_to_you");

    first.accept(conversation).await;
    let id = Uuid::new_v4();
    second
        .send(&ClientFrame::Accept {
            client_msg_id: id,
            conversation_id: conversation,
        })
        .await;
    assert_eq!(second.error_code(Some(id)).await, "already_assigned");
    let id = Uuid::new_v4();
    second
        .send(&ClientFrame::SendMessage {
            client_msg_id: id,
            conversation_id: conversation,
            text: "intruder".into(),
        })
        .await;
    assert_eq!(second.error_code(Some(id)).await, "not_assigned_to_you");
    let id = Uuid::new_v4();
    second
        .send(&ClientFrame::EndChat {
            client_msg_id: id,
            conversation_id: conversation,
        })
        .await;
    assert_eq!(second.error_code(Some(id)).await, "not_assigned_to_you");

    let id = Uuid::new_v4();
    visitor
        .send(&ClientFrame::EndChat {
            client_msg_id: id,
            conversation_id: conversation,
        })
        .await;
    visitor.ack(id).await;
    let id = Uuid::new_v4();
    visitor
        .send(&ClientFrame::SendMessage {
            client_msg_id: id,
            conversation_id: conversation,
            text: "after the end".into(),
        })
        .await;
    assert_eq!(visitor.error_code(Some(id)).await, "conversation_ended");
}
