//! Offline messages (B4) and platform support requests (M5): the widget's mode follows
//! operator availability and business hours; a ticket left with no operator online is
//! listed, read, solved, reopened and annotated by the tenant's operators only; a
//! support request is refused field by field when wrong, and no tenant role ever sees it.

use livehelp_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

async fn widget_mode(app: &TestApp, site_key: &str) -> String {
    let config: Value = app
        .http
        .get(format!(
            "{}/api/v1/sites/{site_key}/widget-config",
            app.base
        ))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    config["mode"].as_str().expect("mode").to_owned()
}

async fn post_ticket(app: &TestApp, site_key: &str, body: Value) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}/api/v1/sites/{site_key}/tickets", app.base))
        .json(&body)
        .send()
        .await
        .expect("request");
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn offline_message_with_no_operator_online_becomes_a_ticket_operators_handle() {
    let app = spawn_app().await;
    let tenant = app.tenant("shop").await;
    let other = app.tenant("rival").await;
    // Nobody connected: the widget shows the message form.
    assert_eq!(widget_mode(&app, &tenant.site_key).await, "offline");

    // Bad input: every bad field named at once; nothing stored.
    let (status, error) = post_ticket(
        &app,
        &tenant.site_key,
        json!({"name": "Zoë", "email": "zoe-at-example", "message": "  "}),
    )
    .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["code"], "validation_failed");
    assert!(error["fields"]["email"].is_string());
    assert!(error["fields"]["message"].is_string());
    let (status, error) = post_ticket(
        &app,
        &tenant.site_key,
        json!({"email": "zoe@example.com", "message": "x".repeat(5001)}),
    )
    .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (422, Some("validation_failed"))
    );
    assert!(error["fields"]["message"].is_string());
    let (status, _) = post_ticket(&app, &tenant.site_key, json!({"email": "a@b.test"})).await;
    assert_eq!(status, 400, "message missing");

    let message = format!("My order never arrived ✓ {}", Uuid::new_v4());
    let (status, created) = post_ticket(
        &app,
        &tenant.site_key,
        json!({"name": "Zoë", "email": "zoe@example.com", "message": message}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();

    let operator = app.login_with_csrf(&tenant.operator_email).await;
    let list: Value = app
        .send_json(Method::GET, "/api/v1/tickets?status=open", &operator, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["tickets"][0]["id"], id.as_str());
    assert_eq!(list["tickets"][0]["message"], message.as_str());
    assert_eq!(list["tickets"][0]["email"], "zoe@example.com");
    assert_eq!(list["tickets"][0]["name"], "Zoë");

    // Solve with a note, then reopen.
    let noted = app
        .send_json(
            Method::POST,
            &format!("/api/v1/tickets/{id}/notes"),
            &operator,
            Some(json!({"text": "Refund sent"})),
        )
        .await;
    assert_eq!(noted.status(), 201);
    let solved: Value = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/tickets/{id}"),
            &operator,
            Some(json!({"status": "solved"})),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(solved["ticket"]["status"], "solved");
    assert_eq!(solved["notes"][0]["text"], "Refund sent");
    assert_eq!(solved["notes"][0]["author_name"], "Operator");
    let open: Value = app
        .send_json(Method::GET, "/api/v1/tickets?status=open", &operator, None)
        .await
        .json()
        .await
        .expect("json");
    assert!(open["tickets"].as_array().expect("list").is_empty());
    let reopened = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/tickets/{id}"),
            &operator,
            Some(json!({"status": "open"})),
        )
        .await;
    assert_eq!(reopened.status(), 200);
    let empty_note = app
        .send_json(
            Method::POST,
            &format!("/api/v1/tickets/{id}/notes"),
            &operator,
            Some(json!({"text": ""})),
        )
        .await;
    assert_eq!(empty_note.status(), 422);
    // A state change needs the CSRF token.
    let forged = app
        .http
        .patch(format!("{}/api/v1/tickets/{id}", app.base))
        .header("cookie", &operator.0)
        .json(&json!({"status": "solved"}))
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), 403);

    // Another tenant's operator finds nothing.
    let rival = app.login_with_csrf(&other.operator_email).await;
    let response = app
        .send_json(Method::GET, &format!("/api/v1/tickets/{id}"), &rival, None)
        .await;
    assert_eq!(response.status(), 404);
    let list: Value = app
        .send_json(Method::GET, "/api/v1/tickets", &rival, None)
        .await
        .json()
        .await
        .expect("json");
    assert!(list["tickets"].as_array().expect("list").is_empty());

    // An operator online and connected: the widget offers the chat again.
    let (_, _socket) = app.operator_client(&tenant.operator_email).await;
    assert_eq!(widget_mode(&app, &tenant.site_key).await, "chat");
}

#[tokio::test]
async fn outside_business_hours_the_widget_is_offline() {
    let app = spawn_app().await;
    let tenant = app.tenant("hours").await;
    let (_, _socket) = app.operator_client(&tenant.operator_email).await;
    assert_eq!(widget_mode(&app, &tenant.site_key).await, "chat");
    app.member(tenant.id, "boss@hours.test", "Boss", Role::Admin)
        .await;
    let admin = app.login_with_csrf("boss@hours.test").await;
    let sites: Value = app
        .send_json(Method::GET, "/api/v1/sites", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    let site = sites["sites"][0]["id"].as_str().expect("site").to_owned();
    let path = format!("/api/v1/sites/{site}/forms");
    let set = |days: Value| {
        app.send_json(
            Method::PUT,
            &path,
            &admin,
            Some(json!({"prechat": {}, "business_hours": {"time_zone": "Pacific/Auckland", "days": days}})),
        )
    };
    // Closed every day.
    assert_eq!(set(json!([[], [], [], [], [], [], []])).await.status(), 200);
    assert_eq!(widget_mode(&app, &tenant.site_key).await, "offline");
    // Open all day, every day.
    let all_day = json!([
        [[0, 1440]],
        [[0, 1440]],
        [[0, 1440]],
        [[0, 1440]],
        [[0, 1440]],
        [[0, 1440]],
        [[0, 1440]]
    ]);
    assert_eq!(set(all_day).await.status(), 200);
    assert_eq!(widget_mode(&app, &tenant.site_key).await, "chat");
    // Spans are checked.
    assert_eq!(
        set(json!([[[600, 500]], [], [], [], [], [], []]))
            .await
            .status(),
        422
    );
}

#[tokio::test]
async fn offline_messages_check_the_origin_and_are_rate_limited() {
    let app = spawn_app().await;
    let tenant = app.tenant("guard").await;
    let response = app
        .http
        .post(format!(
            "{}/api/v1/sites/{}/tickets",
            app.base, tenant.site_key
        ))
        .header("origin", "https://evil.test")
        .json(&json!({"email": "a@b.test", "message": "hi"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 403);
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = app
            .http
            .post(format!(
                "{}/api/v1/sites/{}/tickets",
                app.base, tenant.site_key
            ))
            .header("origin", "https://guard.test")
            .json(&json!({"email": "a@b.test", "message": "hi"}))
            .send()
            .await
            .expect("request");
        statuses.push(response.status().as_u16());
    }
    assert!(statuses.contains(&201));
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // The platform's support form has its own budget: offline messages from the same
    // address do not block it.
    let support = app
        .http
        .post(format!("{}/api/v1/support-requests", app.base))
        .json(
            &json!({"email": "a@b.test", "site_url": "https://guard.test", "description": "help"}),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(support.status(), 201);
}

#[tokio::test]
async fn support_requests_are_checked_and_invisible_to_every_tenant_role() {
    let app = spawn_app().await;
    let tenant = app.tenant("owner").await;
    app.member(tenant.id, "admin@owner.test", "Admin", Role::Admin)
        .await;
    app.member(tenant.id, "sup@owner.test", "Sup", Role::Supervisor)
        .await;
    let post = |body: Value| {
        app.http
            .post(format!("{}/api/v1/support-requests", app.base))
            .json(&body)
            .send()
    };
    let response =
        post(json!({"email": "no-at-sign", "site_url": "shop.example.com", "description": "help"}))
            .await
            .expect("request");
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["code"], "validation_failed");
    assert!(error["fields"]["email"].is_string());
    assert!(error["fields"]["site_url"].is_string());
    assert!(error["fields"].get("description").is_none());
    let response = post(
        json!({"email": "a@b.test", "site_url": "https://b.test", "description": "x".repeat(5001)}),
    )
    .await
    .expect("request");
    assert_eq!(response.status(), 422);

    let secret = format!("SUPPORT-{}", Uuid::new_v4());
    let response = post(json!({
        "email": "owner@owner.test",
        "site_url": "https://owner.test/shop",
        "description": secret,
    }))
    .await
    .expect("request");
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    // The platform (CLI) sees it.
    let listed = app.app.support_requests(None, 100).await.expect("list");
    assert!(listed.iter().any(|request| request.description == secret));

    // Every GET route, as every role of the tenant: never the request.
    let specs = livehelp_server::route_specs(&livehelp_server::ServerOptions::default());
    for email in [
        "admin@owner.test",
        "sup@owner.test",
        tenant.operator_email.as_str(),
    ] {
        let session = app.login_with_csrf(email).await;
        for spec in specs.iter().filter(|spec| spec.method == Method::GET) {
            let path = spec
                .path
                .replace("{id}", &id)
                .replace("{site_key}", &tenant.site_key)
                .replace("{*file}", "index.html");
            let response = app.send_json(Method::GET, &path, &session, None).await;
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert!(status < 500, "{email} {path}: {status}");
            assert!(
                !body.contains(&secret),
                "{email} GET {path} shows the request"
            );
            assert!(
                !body.contains("https://owner.test/shop"),
                "{email} GET {path}"
            );
        }
        let tickets: Value = app
            .send_json(Method::GET, "/api/v1/tickets", &session, None)
            .await
            .json()
            .await
            .expect("json");
        assert!(tickets["tickets"].as_array().expect("list").is_empty());
        let direct = app
            .send_json(
                Method::GET,
                &format!("/api/v1/tickets/{id}"),
                &session,
                None,
            )
            .await;
        assert_eq!(direct.status(), 404);
    }
}

#[tokio::test]
async fn the_support_page_is_served_with_its_script_and_a_strict_policy() {
    let app = spawn_app().await;
    let page = app
        .http
        .get(format!("{}/support", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), 200);
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("script-src 'self'"));
    let html = page.text().await.expect("text");
    assert!(html.contains("/support/support.js"));
    assert!(!html.contains("<script>"), "no inline script");
    let script = app
        .http
        .get(format!("{}/support/support.js", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(script.status(), 200);
}
