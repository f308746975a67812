//! The pre-chat form (issue 5 item 1): admins set it per site, the server enforces it on
//! every way a chat starts (the `start_chat` frame and `POST /api/v1/visitor/chats`),
//! refused starts create nothing and notify nobody, and valid answers are stored once
//! with the conversation for operators to read. Cases BR-14 and BR-05.

use livehelp_domain::Role;
use livehelp_protocol::ServerFrame;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::client::WsClient;
use crate::helpers::{TestApp, spawn_app};

/// The BR-14 form: optional name and email, a required whole-number age of 18 or more,
/// a required consent box, and a select.
fn br14_form() -> Value {
    json!({
        "prechat": {
            "name": "optional",
            "email": "optional",
            "fields": [
                {"key": "age", "label": "Your age", "kind": "number", "required": true},
                {"key": "consent", "label": "I agree to the privacy policy", "kind": "checkbox", "required": true},
                {"key": "topic", "label": "Topic", "kind": "select", "options": ["Billing", "Orders"]}
            ],
            "min_age": 18
        },
        "business_hours": null
    })
}

/// Sets `forms` on the tenant's only site as its admin; returns the admin session.
async fn set_forms(
    app: &TestApp,
    tenant: livehelp_domain::TenantId,
    forms: Value,
) -> (String, String) {
    let email = format!("admin-{}@forms.test", Uuid::new_v4());
    app.member(tenant, &email, "Admin", Role::Admin).await;
    let admin = app.login_with_csrf(&email).await;
    let sites: Value = app
        .send_json(Method::GET, "/api/v1/sites", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    let site = sites["sites"][0]["id"].as_str().expect("site").to_owned();
    let response = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/sites/{site}/forms"),
            &admin,
            Some(forms),
        )
        .await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    admin
}

/// `POST /api/v1/visitor/chats` with a raw JSON body.
async fn rest_start(app: &TestApp, token: &str, raw_body: &str) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}/api/v1/visitor/chats", app.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(raw_body.to_owned())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn conversation_count(app: &TestApp, admin: &(String, String)) -> usize {
    let list: Value = app
        .send_json(Method::GET, "/api/v1/conversations", admin, None)
        .await
        .json()
        .await
        .expect("json");
    list["conversations"].as_array().expect("list").len()
}

/// BR-14: a required age (≥ 18) and consent box cannot be bypassed through the raw API,
/// over REST or WebSocket: every bad answer is a 422-style `prechat_invalid` naming the
/// field, and creates no conversation, no message and no operator notification. Age 18
/// with consent is accepted and its answers are stored with the chat.
#[tokio::test]
async fn br14_required_prechat_fields_are_enforced_on_the_server() {
    let app = spawn_app().await;
    let tenant = app.tenant("gate").await;
    let admin = set_forms(&app, tenant.id, br14_form()).await;
    let (cookie, mut operator) = app.operator_client(&tenant.operator_email).await;
    let (session, mut visitor) = app.visitor(&tenant.site_key, None).await;
    let token = session.visitor_token.clone();

    // The widget learns the form.
    let config: Value = app
        .http
        .get(format!(
            "{}/api/v1/sites/{}/widget-config",
            app.base, tenant.site_key
        ))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(config["prechat"]["min_age"], 18);
    assert_eq!(config["prechat"]["fields"][1]["key"], "consent");

    // (answers as raw JSON, the field that must be named)
    let refused: &[(&str, &str)] = &[
        (r#"{"consent":true}"#, "age"),
        (r#"{"age":"17","consent":true}"#, "age"),
        (r#"{"age":17,"consent":true}"#, "age"),
        (r#"{"age":-1,"consent":true}"#, "age"),
        (r#"{"age":17.9,"consent":true}"#, "age"),
        (r#"{"age":"18abc","consent":true}"#, "age"),
        (r#"{"age":99999999999999999999,"consent":true}"#, "age"),
        (r#"{"age":250,"consent":true}"#, "age"),
        (r#"{"age":"","consent":true}"#, "age"),
        (r#"{"age":18,"consent":false}"#, "consent"),
        (r#"{"age":18}"#, "consent"),
        (r#"{"age":18,"consent":"yes"}"#, "consent"),
        (r#"{"age":18,"consent":true,"topic":"Other"}"#, "topic"),
        (
            r#"{"age":18,"consent":true,"email":"not-an-email"}"#,
            "email",
        ),
    ];
    for (answers, field) in refused {
        let body = format!(
            r#"{{"client_msg_id":"{}","prechat":{answers}}}"#,
            Uuid::new_v4()
        );
        let (status, error) = rest_start(&app, &token, &body).await;
        assert_eq!(status, 422, "REST {answers}: {error}");
        assert_eq!(error["code"], "prechat_invalid", "REST {answers}");
        assert!(
            error["fields"][field].is_string(),
            "REST {answers} names {field}: {error}"
        );

        let id = Uuid::new_v4();
        visitor
            .send_text(&format!(
                r#"{{"type":"start_chat","client_msg_id":"{id}","prechat":{answers}}}"#
            ))
            .await;
        let frame = visitor
            .wait_for("refusal", |frame| {
                matches!(frame, ServerFrame::Error { client_msg_id: Some(c), .. } | ServerFrame::Ack { client_msg_id: c, .. } if *c == id)
            })
            .await;
        match frame {
            ServerFrame::Error { code, fields, .. } => {
                assert_eq!(code.as_str(), "prechat_invalid", "WS {answers}");
                assert!(
                    fields.is_some_and(|fields| fields.contains_key(*field)),
                    "WS {answers} names {field}"
                );
            }
            other => panic!("WS {answers} was accepted: {other:?}"),
        }
    }
    // No answers at all, both ways.
    let (status, error) = rest_start(
        &app,
        &token,
        &format!(r#"{{"client_msg_id":"{}"}}"#, Uuid::new_v4()),
    )
    .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (422, Some("prechat_invalid"))
    );
    let id = Uuid::new_v4();
    visitor
        .send_text(&format!(
            r#"{{"type":"start_chat","client_msg_id":"{id}"}}"#
        ))
        .await;
    assert_eq!(visitor.error_code(Some(id)).await, "prechat_invalid");
    // Skipping the form and writing straight away: there is no conversation to write to.
    let id = Uuid::new_v4();
    visitor
        .send_text(&format!(
            r#"{{"type":"send_message","client_msg_id":"{id}","conversation_id":"{}","text":"hello"}}"#,
            Uuid::new_v4()
        ))
        .await;
    assert_eq!(visitor.error_code(Some(id)).await, "conversation_not_found");

    // Nothing was created and no operator heard of anything.
    assert_eq!(conversation_count(&app, &admin).await, 0);
    operator
        .send(&livehelp_protocol::ClientFrame::Ping {})
        .await;
    loop {
        match operator.next().await.expect("operator socket open") {
            ServerFrame::Pong {} => break,
            ServerFrame::Queue { conversations, .. } => assert!(conversations.is_empty()),
            ServerFrame::Conversation { conversation } => {
                panic!("operator notified of {conversation:?}")
            }
            _ => {}
        }
    }

    // Age 18 with consent: accepted, and the answers are stored with the chat.
    let id = Uuid::new_v4();
    visitor
        .send_text(&format!(
            r#"{{"type":"start_chat","client_msg_id":"{id}","prechat":{{"age":"18","consent":true,"topic":"Orders","name":"Zoë","email":"zoe@example.com"}}}}"#
        ))
        .await;
    let (conversation, _, seq) = visitor.ack(id).await;
    assert_eq!(seq, 1);
    assert_eq!(conversation_count(&app, &admin).await, 1);
    let answers: Value = app
        .get(
            &format!("/api/v1/conversations/{conversation}/prechat"),
            &cookie,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(answers["answered"], true);
    assert_eq!(answers["name"], "Zoë");
    assert_eq!(answers["email"], "zoe@example.com");
    assert_eq!(
        answers["answers"],
        json!([
            {"key": "age", "label": "Your age", "value": 18},
            {"key": "consent", "label": "I agree to the privacy policy", "value": true},
            {"key": "topic", "label": "Topic", "value": "Orders"}
        ])
    );
}

/// BR-05 with a pre-chat form: five concurrent starts with valid answers from one
/// visitor give one conversation, and its answers are stored once.
#[tokio::test]
async fn br05_concurrent_starts_store_prechat_answers_once() {
    let app = spawn_app().await;
    let tenant = app.tenant("race").await;
    let admin = set_forms(&app, tenant.id, br14_form()).await;
    let (session, _visitor) = app.visitor(&tenant.site_key, None).await;
    let token = session.visitor_token.clone();
    let starts = (0..5).map(|index| {
        let app = &app;
        let token = token.clone();
        async move {
            let body = format!(
                r#"{{"client_msg_id":"{}","prechat":{{"age":{},"consent":true}}}}"#,
                Uuid::new_v4(),
                30 + index
            );
            rest_start(app, &token, &body).await
        }
    });
    let answers = futures_util::future::join_all(starts).await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 201, "{body}");
            body["conversation_id"].as_str().expect("id").to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one conversation");
    assert_eq!(conversation_count(&app, &admin).await, 1);
    let conversation = ids.into_iter().next().expect("one");
    let stored: Value = app
        .get(
            &format!("/api/v1/conversations/{conversation}/prechat"),
            &admin.0,
        )
        .await
        .json()
        .await
        .expect("json");
    let stored = stored["answers"].as_array().expect("answers");
    assert_eq!(stored.len(), 2, "one set of answers: {stored:?}");
    assert!((30..35).contains(&stored[0]["value"].as_i64().expect("age")));
}

/// A site without a form starts chats as before; settings are checked field by field.
#[tokio::test]
async fn forms_settings_are_validated_and_optional() {
    let app = spawn_app().await;
    let tenant = app.tenant("plain").await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
    visitor.start_chat().await;
    let admin = set_forms(
        &app,
        tenant.id,
        json!({"prechat": {}, "business_hours": null}),
    )
    .await;
    let sites: Value = app
        .send_json(Method::GET, "/api/v1/sites", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    let site = sites["sites"][0]["id"].as_str().expect("site").to_owned();
    let bad = json!({
        "prechat": {
            "name": "required",
            "fields": [{"key": "Bad Key", "label": "x", "kind": "text"}],
            "min_age": 18
        },
        "business_hours": {"time_zone": "Mars/Olympus", "days": [[], [], [], [], [], [], []]}
    });
    let response = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/sites/{site}/forms"),
            &admin,
            Some(bad),
        )
        .await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["code"], "validation_failed");
    for field in ["Bad Key", "min_age", "time_zone"] {
        assert!(error["fields"][field].is_string(), "{field}: {error}");
    }
    // An operator (not admin) cannot read or change forms.
    let operator = app.login_with_csrf(&tenant.operator_email).await;
    let response = app
        .send_json(
            Method::GET,
            &format!("/api/v1/sites/{site}/forms"),
            &operator,
            None,
        )
        .await;
    assert_eq!(response.status(), 403);
}

/// The operator's socket sees the new conversation only once it passes the form.
#[tokio::test]
async fn operators_are_notified_only_of_accepted_starts() {
    let app = spawn_app().await;
    let tenant = app.tenant("notify").await;
    set_forms(&app, tenant.id, br14_form()).await;
    let (_, mut operator) = app.operator_client(&tenant.operator_email).await;
    let (session, _visitor) = app.visitor(&tenant.site_key, None).await;
    let (status, _) = rest_start(
        &app,
        &session.visitor_token,
        &format!(
            r#"{{"client_msg_id":"{}","prechat":{{"age":17,"consent":true}}}}"#,
            Uuid::new_v4()
        ),
    )
    .await;
    assert_eq!(status, 422);
    let (status, body) = rest_start(
        &app,
        &session.visitor_token,
        &format!(
            r#"{{"client_msg_id":"{}","prechat":{{"age":18,"consent":true}}}}"#,
            Uuid::new_v4()
        ),
    )
    .await;
    assert_eq!(status, 201);
    let id = body["conversation_id"].as_str().expect("id").to_owned();
    let frame = operator
        .wait_for("queue update", |frame| match frame {
            ServerFrame::Queue { conversations, .. } => !conversations.is_empty(),
            ServerFrame::Conversation { .. } => true,
            _ => false,
        })
        .await;
    let text = serde_json::to_string(&frame).expect("json");
    assert!(text.contains(&id), "the accepted chat: {text}");
    let _ = WsClient::visitor;
}
