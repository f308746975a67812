//! Operator tools over the real API (issue 10, item 7): canned responses with their role
//! checks and shortcut conflicts, internal notes that never reach the visitor, tags with
//! their limit and the tag filter of the transcript list with paging, and bad input with
//! stable error codes.

use livehelp_domain::Role;
use livehelp_protocol::{ClientFrame, ServerFrame};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

type Session = (String, String);

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    session: &Session,
    body: Option<Value>,
) -> (u16, Value) {
    let response = app.send_json(method, path, session, body).await;
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, body)
}

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn canned_responses_follow_roles_and_scopes() {
    let app = spawn_app().await;
    let tenant = app.tenant("canned").await;
    app.member(tenant.id, "admin@canned.test", "Ada", Role::Admin)
        .await;
    app.member(tenant.id, "sup@canned.test", "Sam", Role::Supervisor)
        .await;
    app.operator(tenant.id, "op2@canned.test", "Otto").await;
    let olga = app.login_with_csrf(&tenant.operator_email).await;
    let otto = app.login_with_csrf("op2@canned.test").await;
    let sam = app.login_with_csrf("sup@canned.test").await;
    let ada = app.login_with_csrf("admin@canned.test").await;
    let path = "/api/v1/canned-responses";

    // An operator cannot create a tenant-wide response; a supervisor can.
    let body = json!({ "scope": "tenant", "shortcut": "refund", "text": "Hi {visitor_name}, refunds take 5 days." });
    let (status, answer) = call(&app, Method::POST, path, &olga, Some(body.clone())).await;
    assert_eq!((status, code(&answer)), (403, "role_required"));
    let (status, shared) = call(&app, Method::POST, path, &sam, Some(body)).await;
    assert_eq!(status, 201, "{shared}");
    assert_eq!(shared["scope"], "tenant");
    assert_eq!(shared["shortcut"], "refund");
    // Same scope, same shortcut (any case): taken.
    let (status, answer) = call(
        &app,
        Method::POST,
        path,
        &ada,
        Some(json!({ "scope": "tenant", "shortcut": "/REFUND", "text": "x" })),
    )
    .await;
    assert_eq!((status, code(&answer)), (409, "shortcut_taken"));

    // Personal responses: Olga's shadows the tenant's; nobody else sees it.
    let secret = format!("Olga's own wording {}", Uuid::new_v4());
    let (status, personal) = call(
        &app,
        Method::POST,
        path,
        &olga,
        Some(json!({ "shortcut": "Refund", "text": secret })),
    )
    .await;
    assert_eq!(status, 201, "{personal}");
    assert_eq!(personal["scope"], "personal");
    let (status, answer) = call(
        &app,
        Method::POST,
        path,
        &olga,
        Some(json!({ "shortcut": "refund", "text": "again" })),
    )
    .await;
    assert_eq!((status, code(&answer)), (409, "shortcut_taken"));
    let (_, list) = call(&app, Method::GET, path, &olga, None).await;
    let list = list["canned_responses"].as_array().expect("list").clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], personal["id"]);
    assert_eq!(list[0]["shadowed"], false);
    assert_eq!(list[1]["id"], shared["id"]);
    assert_eq!(list[1]["shadowed"], true);
    for other in [&otto, &sam, &ada] {
        let response = app.get(path, &other.0).await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.expect("body");
        assert!(
            !text.contains(&secret),
            "another operator saw a personal response: {text}"
        );
        let list: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(list["canned_responses"].as_array().expect("list").len(), 1);
        assert_eq!(list["canned_responses"][0]["shadowed"], false);
    }
    let personal_path = format!("{path}/{}", personal["id"].as_str().expect("id"));
    for other in [&otto, &ada] {
        let (status, answer) = call(
            &app,
            Method::PATCH,
            &personal_path,
            other,
            Some(json!({ "text": "mine now" })),
        )
        .await;
        assert_eq!((status, code(&answer)), (404, "not_found"));
        let (status, answer) = call(&app, Method::DELETE, &personal_path, other, None).await;
        assert_eq!((status, code(&answer)), (404, "not_found"));
    }

    // Editing the tenant's response: supervisors and admins, not operators.
    let shared_path = format!("{path}/{}", shared["id"].as_str().expect("id"));
    let (status, answer) = call(
        &app,
        Method::PATCH,
        &shared_path,
        &olga,
        Some(json!({ "text": "nope" })),
    )
    .await;
    assert_eq!((status, code(&answer)), (403, "role_required"));
    let (status, answer) = call(&app, Method::DELETE, &shared_path, &otto, None).await;
    assert_eq!((status, code(&answer)), (403, "role_required"));
    let (status, edited) = call(
        &app,
        Method::PATCH,
        &shared_path,
        &ada,
        Some(json!({ "text": "Refunds: 5 days, {visitor_name}." })),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["text"], "Refunds: 5 days, {visitor_name}.");
    assert_eq!(edited["shortcut"], "refund");

    // Bad input, each with its stable code; nothing is stored.
    for (body, status, expected) in [
        (
            json!({ "shortcut": "re fund", "text": "x" }),
            422,
            "shortcut_invalid",
        ),
        (
            json!({ "shortcut": "", "text": "x" }),
            422,
            "shortcut_invalid",
        ),
        (
            json!({ "shortcut": "a".repeat(33), "text": "x" }),
            422,
            "shortcut_invalid",
        ),
        (
            json!({ "shortcut": "ok", "text": "   " }),
            422,
            "text_empty",
        ),
        (
            json!({ "shortcut": "ok", "text": "x".repeat(4_001) }),
            413,
            "text_too_long",
        ),
        (
            json!({ "shortcut": "ok", "text": "a\u{0}b" }),
            422,
            "text_invalid",
        ),
        (
            json!({ "scope": "global", "shortcut": "ok", "text": "x" }),
            400,
            "invalid_request",
        ),
        (json!({ "shortcut": "ok" }), 400, "invalid_request"),
    ] {
        let (got, answer) = call(&app, Method::POST, path, &olga, Some(body.clone())).await;
        assert_eq!((got, code(&answer)), (status, expected), "{body}");
    }
    let (status, answer) = call(
        &app,
        Method::PATCH,
        &personal_path,
        &olga,
        Some(json!({ "shortcut": "no way" })),
    )
    .await;
    assert_eq!((status, code(&answer)), (422, "shortcut_invalid"));
    let (status, answer) = call(
        &app,
        Method::PATCH,
        &format!("{path}/not-an-id"),
        &olga,
        Some(json!({})),
    )
    .await;
    assert_eq!((status, code(&answer)), (404, "not_found"));
    // CSRF: the existing extractor refuses a write without the token.
    let response = app
        .http
        .post(format!("{}{path}", app.base))
        .header("cookie", &olga.0)
        .json(&json!({ "shortcut": "csrf", "text": "x" }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 403);
    let (_, list) = call(&app, Method::GET, path, &olga, None).await;
    assert_eq!(list["canned_responses"].as_array().expect("list").len(), 2);

    // The owner deletes theirs; the tenant's one is no longer shadowed.
    let (status, _) = call(&app, Method::DELETE, &personal_path, &olga, None).await;
    assert_eq!(status, 204);
    let (status, answer) = call(&app, Method::DELETE, &personal_path, &olga, None).await;
    assert_eq!((status, code(&answer)), (404, "not_found"));
    let (_, list) = call(&app, Method::GET, path, &olga, None).await;
    assert_eq!(list["canned_responses"][0]["shadowed"], false);

    // Another tenant's admin finds nothing of this tenant's.
    let other = app.tenant("elsewhere").await;
    app.member(other.id, "admin@elsewhere.test", "Eve", Role::Admin)
        .await;
    let eve = app.login_with_csrf("admin@elsewhere.test").await;
    let (_, list) = call(&app, Method::GET, path, &eve, None).await;
    assert!(
        list["canned_responses"]
            .as_array()
            .expect("list")
            .is_empty()
    );
    let (status, answer) = call(
        &app,
        Method::PATCH,
        &shared_path,
        &eve,
        Some(json!({ "text": "x" })),
    )
    .await;
    assert_eq!((status, code(&answer)), (404, "not_found"));
}

#[tokio::test]
async fn notes_are_for_operators_only_and_never_reach_the_visitor() {
    let app = spawn_app().await;
    let tenant = app.tenant("notes").await;
    app.operator(tenant.id, "op2@notes.test", "Otto").await;
    app.member(tenant.id, "sup@notes.test", "Sam", Role::Supervisor)
        .await;
    let olga = app.login_with_csrf(&tenant.operator_email).await;
    let otto = app.login_with_csrf("op2@notes.test").await;
    let sam = app.login_with_csrf("sup@notes.test").await;
    let (_, mut owner) = app.operator_client(&tenant.operator_email).await;
    let (visitor_session, mut visitor) = app.visitor(&tenant.site_key, Some("Vera")).await;
    let conversation = visitor.start_chat().await;
    owner.accept(conversation).await;
    visitor
        .say(conversation, "Hello, I want my money back")
        .await;
    let notes = format!("/api/v1/conversations/{conversation}/notes");

    let secret = format!("NOTE-{}", Uuid::new_v4());
    let (status, note) = call(
        &app,
        Method::POST,
        &notes,
        &olga,
        Some(json!({ "text": format!("Angry customer. {secret}") })),
    )
    .await;
    assert_eq!(status, 201, "{note}");
    assert_eq!(note["author"]["kind"], "operator");
    assert_eq!(note["author"]["name"], "Operator");
    assert_eq!(note["conversation_id"], conversation.to_string());
    // Plain colleagues read notes (like the transcript) but may not write on a chat that is
    // not theirs; supervisors may.
    let (status, answer) = call(
        &app,
        Method::POST,
        &notes,
        &otto,
        Some(json!({ "text": "hm" })),
    )
    .await;
    assert_eq!((status, code(&answer)), (403, "role_required"));
    let (status, _) = call(
        &app,
        Method::POST,
        &notes,
        &sam,
        Some(json!({ "text": "Offer 10 % off." })),
    )
    .await;
    assert_eq!(status, 201);
    let (status, list) = call(&app, Method::GET, &notes, &otto, None).await;
    assert_eq!(status, 200);
    let list = list["notes"].as_array().expect("notes").clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], note["id"]);
    assert_eq!(list[1]["author"]["name"], "Sam");

    // Bad input.
    for (body, status, expected) in [
        (json!({ "text": "" }), 422, "text_empty"),
        (json!({}), 422, "text_empty"),
        (json!({ "text": "x".repeat(4_001) }), 413, "text_too_long"),
        (json!({ "text": 5 }), 400, "invalid_request"),
    ] {
        let (got, answer) = call(&app, Method::POST, &notes, &olga, Some(body.clone())).await;
        assert_eq!((got, code(&answer)), (status, expected), "{body}");
    }

    // The visitor's socket: nothing about the note arrives, live or on resume. A ping
    // answered with pong proves every earlier frame was read.
    visitor.send(&ClientFrame::Ping {}).await;
    loop {
        let frame = visitor.next().await.expect("socket open");
        let text = serde_json::to_string(&frame).expect("json");
        assert!(
            !text.contains(&secret),
            "a note reached the visitor: {text}"
        );
        if matches!(frame, ServerFrame::Pong {}) {
            break;
        }
    }
    visitor.resume(conversation, 0).await;
    visitor.send(&ClientFrame::Ping {}).await;
    loop {
        let frame = visitor.next().await.expect("socket open");
        let text = serde_json::to_string(&frame).expect("json");
        assert!(
            !text.contains(&secret),
            "a note reached the visitor on resume: {text}"
        );
        if matches!(frame, ServerFrame::Pong {}) {
            break;
        }
    }
    assert!(
        visitor
            .messages_of(conversation)
            .iter()
            .all(|m| !m.text.contains(&secret))
    );
    // Visitor-facing reads.
    let response = app
        .http
        .get(format!("{}/api/v1/visitor-session", app.base))
        .bearer_auth(&visitor_session.visitor_token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert!(!response.text().await.expect("body").contains(&secret));
    let response = app
        .http
        .get(format!(
            "{}/api/v1/sites/{}/widget-config",
            app.base, tenant.site_key
        ))
        .send()
        .await
        .expect("request");
    assert!(!response.text().await.expect("body").contains(&secret));
    // The visitor's token opens no note route.
    let response = app
        .http
        .get(format!("{}{notes}", app.base))
        .bearer_auth(&visitor_session.visitor_token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    assert!(!response.text().await.expect("body").contains(&secret));
    // Notes are not messages: the transcript and its text download do not hold them.
    let transcript = app.transcript(conversation, &olga.0).await;
    assert!(
        transcript
            .messages
            .iter()
            .all(|m| !m.text.contains(&secret))
    );
    let text = app
        .get(
            &format!("/api/v1/conversations/{conversation}/transcript?format=txt"),
            &olga.0,
        )
        .await
        .text()
        .await
        .expect("body");
    assert!(!text.contains(&secret));

    // After the end, the owner can still add a note; another tenant cannot see or add any.
    visitor
        .send(&ClientFrame::EndChat {
            client_msg_id: Uuid::new_v4(),
            conversation_id: conversation,
        })
        .await;
    owner
        .wait_for("ended", |frame| matches!(frame, ServerFrame::Conversation { conversation: c } if c.state == "ended"))
        .await;
    let (status, _) = call(
        &app,
        Method::POST,
        &notes,
        &olga,
        Some(json!({ "text": "Closed: refunded." })),
    )
    .await;
    assert_eq!(status, 201);
    let other = app.tenant("others").await;
    let eve = app.login_with_csrf(&other.operator_email).await;
    for method in [Method::GET, Method::POST] {
        let body = (method == Method::POST).then(|| json!({ "text": "x" }));
        let (status, answer) = call(&app, method, &notes, &eve, body).await;
        assert_eq!((status, code(&answer)), (404, "conversation_not_found"));
        assert!(!answer.to_string().contains(&secret));
    }
    let (status, answer) = call(
        &app,
        Method::GET,
        "/api/v1/conversations/nope/notes",
        &olga,
        None,
    )
    .await;
    assert_eq!((status, code(&answer)), (404, "conversation_not_found"));
}

#[tokio::test]
async fn tags_filter_the_transcript_list_with_paging() {
    let app = spawn_app().await;
    let tenant = app.tenant("tags").await;
    app.operator(tenant.id, "op2@tags.test", "Otto").await;
    let olga = app.login_with_csrf(&tenant.operator_email).await;
    let otto = app.login_with_csrf("op2@tags.test").await;
    let (_, mut owner) = app.operator_client(&tenant.operator_email).await;
    let mut conversations = Vec::new();
    for index in 0..5 {
        let (_, mut visitor) = app
            .visitor(&tenant.site_key, Some(&format!("Visitor {index}")))
            .await;
        let conversation = visitor.start_chat().await;
        owner.accept(conversation).await;
        conversations.push(conversation);
    }
    // Tag the 1st, 3rd and 5th; input is trimmed and lower-cased.
    for conversation in [conversations[0], conversations[2], conversations[4]] {
        let (status, answer) = call(
            &app,
            Method::POST,
            &format!("/api/v1/conversations/{conversation}/tags"),
            &olga,
            Some(json!({ "tag": "  VIP " })),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["tags"], json!(["vip"]));
    }
    let (_, answer) = call(
        &app,
        Method::POST,
        &format!("/api/v1/conversations/{}/tags", conversations[0]),
        &olga,
        Some(json!({ "tag": "Refund" })),
    )
    .await;
    assert_eq!(answer["tags"], json!(["refund", "vip"]));
    // Adding it again changes nothing.
    let (status, answer) = call(
        &app,
        Method::POST,
        &format!("/api/v1/conversations/{}/tags", conversations[0]),
        &olga,
        Some(json!({ "tag": "vip" })),
    )
    .await;
    assert_eq!(
        (status, answer["tags"].clone()),
        (200, json!(["refund", "vip"]))
    );

    // The filtered list, two per page, newest first, every tagged one exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/api/v1/conversations?tag=%20VIP&limit=2".to_owned();
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&before={cursor}"));
        }
        let (status, page) = call(&app, Method::GET, &path, &otto, None).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        for conversation in page["conversations"].as_array().expect("list") {
            let id: Uuid = conversation["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("uuid");
            assert!(
                page["tags"][id.to_string()]
                    .as_array()
                    .expect("tags")
                    .contains(&json!("vip"))
            );
            seen.push(id);
        }
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 5, "paging does not end");
    }
    assert_eq!(seen, [conversations[4], conversations[2], conversations[0]]);
    let (_, all) = call(&app, Method::GET, "/api/v1/conversations", &olga, None).await;
    assert_eq!(all["conversations"].as_array().expect("list").len(), 5);
    assert_eq!(
        all["tags"][conversations[0].to_string()],
        json!(["refund", "vip"])
    );
    assert!(all["tags"].get(conversations[1].to_string()).is_none());
    let (status, answer) = call(
        &app,
        Method::GET,
        "/api/v1/conversations?tag=%20",
        &olga,
        None,
    )
    .await;
    assert_eq!((status, code(&answer)), (422, "tag_invalid"));

    // Tag routes of one conversation.
    let tags = format!("/api/v1/conversations/{}/tags", conversations[1]);
    for (body, status, expected) in [
        (json!({ "tag": "" }), 422, "tag_invalid"),
        (json!({}), 422, "tag_invalid"),
        (json!({ "tag": "x".repeat(41) }), 422, "tag_invalid"),
        (json!({ "tag": "a\nb" }), 422, "tag_invalid"),
        (json!({ "tag": ["vip"] }), 400, "invalid_request"),
    ] {
        let (got, answer) = call(&app, Method::POST, &tags, &olga, Some(body.clone())).await;
        assert_eq!((got, code(&answer)), (status, expected), "{body}");
    }
    for index in 0..20 {
        let (status, _) = call(
            &app,
            Method::POST,
            &tags,
            &olga,
            Some(json!({ "tag": format!("t{index}") })),
        )
        .await;
        assert_eq!(status, 200);
    }
    let (status, answer) = call(
        &app,
        Method::POST,
        &tags,
        &olga,
        Some(json!({ "tag": "one-too-many" })),
    )
    .await;
    assert_eq!((status, code(&answer)), (409, "too_many_tags"));
    let (status, answer) = call(
        &app,
        Method::POST,
        &tags,
        &olga,
        Some(json!({ "tag": "T3" })),
    )
    .await;
    assert_eq!(
        (status, answer["tags"].as_array().expect("tags").len()),
        (200, 20)
    );
    let (status, answer) = call(&app, Method::DELETE, &format!("{tags}/T3"), &olga, None).await;
    assert_eq!(status, 200);
    assert_eq!(answer["tags"].as_array().expect("tags").len(), 19);
    assert!(
        !answer["tags"]
            .as_array()
            .expect("tags")
            .contains(&json!("t3"))
    );
    let (status, answer) = call(&app, Method::GET, &tags, &otto, None).await;
    assert_eq!(
        (status, answer["tags"].as_array().expect("tags").len()),
        (200, 19)
    );
    // A tag with a space, percent-encoded in the path.
    let (_, answer) = call(
        &app,
        Method::POST,
        &format!("/api/v1/conversations/{}/tags", conversations[3]),
        &olga,
        Some(json!({ "tag": "call back" })),
    )
    .await;
    assert_eq!(answer["tags"], json!(["call back"]));
    let (status, answer) = call(
        &app,
        Method::DELETE,
        &format!(
            "/api/v1/conversations/{}/tags/call%20back",
            conversations[3]
        ),
        &olga,
        None,
    )
    .await;
    assert_eq!((status, answer["tags"].clone()), (200, json!([])));

    // A plain colleague may not tag someone else's active chat; another tenant gets 404.
    let (status, answer) = call(
        &app,
        Method::POST,
        &tags,
        &otto,
        Some(json!({ "tag": "mine" })),
    )
    .await;
    assert_eq!((status, code(&answer)), (403, "role_required"));
    let (status, answer) = call(&app, Method::DELETE, &format!("{tags}/t1"), &otto, None).await;
    assert_eq!((status, code(&answer)), (403, "role_required"));
    let other = app.tenant("strangers").await;
    let eve = app.login_with_csrf(&other.operator_email).await;
    let (status, answer) = call(&app, Method::POST, &tags, &eve, Some(json!({ "tag": "x" }))).await;
    assert_eq!((status, code(&answer)), (404, "conversation_not_found"));
    let (status, answer) = call(&app, Method::GET, &tags, &eve, None).await;
    assert_eq!((status, code(&answer)), (404, "conversation_not_found"));
    let (_, theirs) = call(
        &app,
        Method::GET,
        "/api/v1/conversations?tag=vip",
        &eve,
        None,
    )
    .await;
    assert!(theirs["conversations"].as_array().expect("list").is_empty());
}
