//! Findings of the first fresh-user test, each pinned by a test: a huge queue cannot lock
//! operators out, a resume cursor past the end is clamped, logging out closes open
//! sockets, idle connections are dropped, every error is JSON, text transcripts cannot be
//! forged with newlines, a busy client still gets 1001 at shutdown, emails are
//! case-insensitive at login.

use std::time::Duration;

use livehelp_app::{NewVisitorSession, SiteAccess};
use livehelp_domain::BrowserInfo;
use livehelp_protocol::{ClientFrame, ServerFrame};
use livehelp_server::ServerOptions;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use crate::client::WsClient;
use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_flood_of_queued_chats_cannot_lock_operators_out() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let now = time::OffsetDateTime::now_utc();
    for _ in 0..230 {
        let issued = app
            .app
            .create_visitor_session(
                &tenant.site_key,
                &SiteAccess::default(),
                NewVisitorSession::default(),
                BrowserInfo::default(),
                now,
            )
            .await
            .expect("session");
        let visitor = app
            .app
            .authenticate_visitor(&issued.token)
            .await
            .expect("visitor");
        app.app
            .start_chat(&visitor, Uuid::new_v4(), None, None, now)
            .await
            .expect("chat");
    }
    let (_, mut operator) = app.operator_client(&tenant.operator_email).await;
    operator.send(&ClientFrame::Ping {}).await;
    operator
        .wait_for("pong", |f| matches!(f, ServerFrame::Pong {}))
        .await;
    let cookie = app.login(&tenant.operator_email).await;
    let mut again = WsClient::operator(&app.base, &cookie).await;
    let queue = again
        .wait_for("queue", |f| matches!(f, ServerFrame::Queue { .. }))
        .await;
    let ServerFrame::Queue {
        conversations,
        total,
    } = queue
    else {
        unreachable!()
    };
    assert_eq!((conversations.len(), total), (200, 230));
}

#[tokio::test]
async fn a_resume_cursor_past_the_end_is_clamped_and_live_messages_still_arrive() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (session, mut visitor) = app.visitor(&tenant.site_key, None).await;
    let conversation = visitor.start_chat().await;
    let mut other_tab = WsClient::visitor(&app.base, &session.visitor_token).await;
    assert_eq!(other_tab.resume(conversation, i64::MAX).await, 1);
    visitor.say(conversation, "after the clamp").await;
    other_tab.wait_for_seq(conversation, 2).await;
    assert_eq!(
        other_tab.messages.last().map(|m| m.text.as_str()),
        Some("after the clamp")
    );
}

#[tokio::test]
async fn logging_out_closes_the_operators_open_sockets() {
    let app = spawn_app_with(ServerOptions {
        ping_interval: Duration::from_millis(300),
        ..ServerOptions::default()
    })
    .await;
    let tenant = app.tenant("acme").await;
    let session = app.login_with_csrf(&tenant.operator_email).await;
    let mut socket = WsClient::operator(&app.base, &session.0).await;
    socket
        .wait_for("queue", |f| matches!(f, ServerFrame::Queue { .. }))
        .await;
    assert_eq!(
        app.send_json(Method::POST, "/api/v1/auth/logout", &session, None)
            .await
            .status(),
        204
    );
    let code = socket.error_code(None).await;
    assert_eq!(code, "unauthorized");
    while socket.next().await.is_some() {}
    assert_eq!(
        socket
            .closed
            .clone()
            .flatten()
            .map(|close| u16::from(close.code)),
        Some(4001)
    );
}

#[tokio::test]
async fn a_connection_that_never_sends_a_request_is_dropped() {
    let app = spawn_app_with(ServerOptions {
        header_read_timeout: Duration::from_millis(500),
        ping_interval: Duration::from_millis(300),
        ..ServerOptions::default()
    })
    .await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut idle = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut buffer))
        .await
        .expect("closed in time");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the server should close the idle socket"
    );
    // Normal requests still work.
    assert_eq!(
        app.http
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .expect("request")
            .status(),
        200
    );
}

#[tokio::test]
async fn every_error_is_json_even_before_a_handler_runs() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    for (method, path, status, code) in [
        (
            Method::GET,
            format!("/api/v1/sites/{}/visitor-sessions", tenant.site_key),
            405,
            "method_not_allowed",
        ),
        (
            Method::POST,
            "/metrics".to_owned(),
            405,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/api/v1/ws/visitor?token=a&token=b".to_owned(),
            400,
            "invalid_request",
        ),
        (
            Method::GET,
            "/api/v1/sites/%ff%fe/widget-config".to_owned(),
            400,
            "invalid_request",
        ),
    ] {
        let response = app
            .http
            .request(method.clone(), format!("{}{path}", app.base))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON"));
        assert_eq!(body["code"], code, "{method} {path}");
    }
}

#[tokio::test]
async fn a_message_with_newlines_cannot_forge_a_transcript_line() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, Some("Operator")).await;
    let conversation = visitor.start_chat().await;
    visitor
        .say(
            conversation,
            "hi\n[2026-11-29T19:00:00Z] Operator: refund approved\r\nreally",
        )
        .await;
    let cookie = app.login(&tenant.operator_email).await;
    let text = app
        .get(
            &format!("/api/v1/conversations/{conversation}/transcript?format=txt"),
            &cookie,
        )
        .await
        .text()
        .await
        .expect("body");
    assert!(
        text.contains("\n    [2026-11-29T19:00:00Z] Operator: refund approved\n    really\n"),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|line| line.starts_with('[')).count(),
        2,
        "{text}"
    );
}

#[tokio::test]
async fn a_busy_client_still_gets_going_away_and_its_acks_at_shutdown() {
    let mut app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
    let conversation = visitor.start_chat().await;
    let ids: Vec<Uuid> = (0..200).map(|_| Uuid::new_v4()).collect();
    for (i, id) in ids.iter().take(100).enumerate() {
        visitor
            .send(&ClientFrame::SendMessage {
                client_msg_id: *id,
                conversation_id: conversation,
                text: format!("m{i}"),
            })
            .await;
    }
    // The server is busy with the pipeline when shutdown starts.
    let (first, _, _) = visitor.ack(ids[0]).await;
    assert_eq!(first, conversation);
    let stop = tokio::spawn(async move {
        app.shutdown().await;
        app
    });
    for (i, id) in ids.iter().enumerate().filter(|(i, _)| *i >= 100) {
        // The server may already have closed; keep going like a real busy client would.
        let frame = ClientFrame::SendMessage {
            client_msg_id: *id,
            conversation_id: conversation,
            text: format!("m{i}"),
        };
        if tokio::time::timeout(Duration::from_millis(50), visitor.send(&frame))
            .await
            .is_err()
        {
            break;
        }
    }
    let mut acked = vec![ids[0]];
    while let Some(frame) = visitor.next().await {
        if let ServerFrame::Ack { client_msg_id, .. } = frame {
            acked.push(client_msg_id);
        }
    }
    let close = visitor
        .closed
        .clone()
        .flatten()
        .expect("a close frame, not a reset");
    assert_eq!(u16::from(close.code), 1001);
    let _app = stop.await.expect("shutdown task");
    assert!(!acked.is_empty());
}

#[tokio::test]
async fn login_emails_are_case_insensitive() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let response = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": tenant.operator_email.to_uppercase(), "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_demoted_supervisor_and_a_suspended_tenants_visitor_lose_their_open_sockets() {
    let app = spawn_app_with(ServerOptions {
        ping_interval: Duration::from_millis(300),
        ..ServerOptions::default()
    })
    .await;
    let tenant = app.tenant("acme").await;
    app.member(
        tenant.id,
        "boss@acme.test",
        "Boss",
        livehelp_domain::Role::Admin,
    )
    .await;
    app.member(
        tenant.id,
        "sue@acme.test",
        "Sue",
        livehelp_domain::Role::Supervisor,
    )
    .await;
    let (_, mut sue) = app.operator_client("sue@acme.test").await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
    let boss = app.login_with_csrf("boss@acme.test").await;
    let operators: Value = app
        .send_json(Method::GET, "/api/v1/operators", &boss, None)
        .await
        .json()
        .await
        .expect("json");
    let sue_id = operators["operators"]
        .as_array()
        .and_then(|all| all.iter().find(|o| o["email"] == "sue@acme.test"))
        .and_then(|o| o["id"].as_str())
        .expect("sue")
        .to_owned();
    let demoted = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/operators/{sue_id}"),
            &boss,
            Some(json!({"role": "operator"})),
        )
        .await;
    assert_eq!(demoted.status(), 200);
    assert_eq!(sue.error_code(None).await, "unauthorized");
    while sue.next().await.is_some() {}
    assert_eq!(
        sue.closed
            .clone()
            .flatten()
            .map(|close| u16::from(close.code)),
        Some(4001)
    );

    app.app
        .set_tenant_status(
            tenant.id,
            livehelp_domain::TenantStatus::Suspended,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .expect("suspend");
    assert_eq!(visitor.error_code(None).await, "unauthorized");
    while visitor.next().await.is_some() {}
    assert!(
        visitor.closed.is_some(),
        "the visitor socket closes when the tenant is suspended"
    );
}

#[tokio::test]
async fn staff_chosen_names_refuse_control_and_direction_characters() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.member(
        tenant.id,
        "boss@acme.test",
        "Boss",
        livehelp_domain::Role::Admin,
    )
    .await;
    let boss = app.login_with_csrf("boss@acme.test").await;
    for name in [
        "Nina\n[2026-11-29T20:00:00Z] *: paid",
        "\u{202E}ecnerefer",
        "ctl\u{7}name",
        "",
        &"n".repeat(201),
    ] {
        let operator = app
            .send_json(Method::POST, "/api/v1/operators", &boss, Some(json!({"email": "nina@acme.test", "display_name": name, "role": "operator", "password": PASSWORD})))
            .await;
        assert_eq!(operator.status(), 400, "operator name {name:?}");
        let site = app
            .send_json(
                Method::POST,
                "/api/v1/sites",
                &boss,
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(site.status(), 400, "site name {name:?}");
    }
    let fine = app
        .send_json(Method::POST, "/api/v1/operators", &boss, Some(json!({"email": "nina@acme.test", "display_name": "Nina Ó'Brien-李", "role": "operator", "password": PASSWORD})))
        .await;
    assert_eq!(fine.status(), 201);
}
