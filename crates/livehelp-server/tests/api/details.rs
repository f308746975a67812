//! Correcting a visitor's details (issue 6 item 5, M16): the visitor sees and corrects
//! their own name and email, a pre-chat form's answers are remembered, an operator of the
//! tenant corrects them with an audit entry whose old value is redacted, and another
//! tenant's staff can neither read nor change them.

use livehelp_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

async fn own(app: &TestApp, token: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/api/v1/visitor/details", app.base);
    let request = match body {
        Some(body) => app.http.post(url).json(&body),
        None => app.http.get(url),
    };
    let response = request.bearer_auth(token).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn visitor_and_operator_correct_details_and_the_audit_keeps_no_old_value() {
    let app = spawn_app().await;
    let tenant = app.tenant("details").await;
    let other = app.tenant("stranger").await;
    app.member(tenant.id, "admin@details.test", "Ada", Role::Admin)
        .await;
    let session: Value = app
        .visitor_session(&tenant.site_key, json!({"name": "Jon Smiht"}))
        .await
        .json()
        .await
        .expect("json");
    let token = session["visitor_token"].as_str().expect("token").to_owned();
    let visitor = session["visitor_id"].as_str().expect("id").to_owned();

    // The visitor sees what they gave and corrects it.
    let (status, details) = own(&app, &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        details,
        json!({"visitor_id": visitor, "name": "Jon Smiht", "email": null})
    );
    let (status, details) = own(
        &app,
        &token,
        Some(json!({"name": "  Jon Smith ", "email": "Jon.Smith@Example.com"})),
    )
    .await;
    assert_eq!(status, 200, "{details}");
    assert_eq!(details["name"], "Jon Smith");
    assert_eq!(details["email"], "jon.smith@example.com");
    // Invalid input is refused field by field and changes nothing.
    let (status, error) = own(
        &app,
        &token,
        Some(json!({"name": "ok", "email": "not an email"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(error["code"], "validation_failed");
    assert!(error["fields"]["email"].is_string(), "{error}");
    let (status, error) = own(&app, &token, Some(json!({"name": "x".repeat(201)}))).await;
    assert_eq!(status, 422, "{error}");
    assert!(error["fields"]["name"].is_string(), "{error}");
    let (_, details) = own(&app, &token, None).await;
    assert_eq!(details["name"], "Jon Smith");
    assert_eq!(details["email"], "jon.smith@example.com");
    // Without a token: nothing.
    let anonymous = app
        .http
        .get(format!("{}/api/v1/visitor/details", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);

    // The tenant's operator sees the correction and corrects the email again.
    let operator = app.login_with_csrf(&tenant.operator_email).await;
    let path = format!("/api/v1/visitors/{visitor}/details");
    let seen: Value = app
        .get(&path, &operator.0)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(seen["email"], "jon.smith@example.com");
    let corrected = app
        .send_json(
            Method::PATCH,
            &path,
            &operator,
            Some(json!({"email": "jsmith@example.org"})),
        )
        .await;
    assert_eq!(corrected.status(), 200);
    let corrected: Value = corrected.json().await.expect("json");
    assert_eq!(corrected["name"], "Jon Smith");
    assert_eq!(corrected["email"], "jsmith@example.org");
    let (_, details) = own(&app, &token, None).await;
    assert_eq!(details["email"], "jsmith@example.org");
    // Without the anti-CSRF token the change is refused.
    let forged = app
        .http
        .patch(format!("{}{path}", app.base))
        .header("cookie", &operator.0)
        .json(&json!({"email": "forged@example.org"}))
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), 403);

    // The audit log names the change and the field, with the old value redacted.
    let admin = app.login("admin@details.test").await;
    let log = app
        .get("/api/v1/audit-log", &admin)
        .await
        .text()
        .await
        .expect("text");
    let entries: Value = serde_json::from_str(&log).expect("json");
    let entry = entries["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|entry| entry["action"] == "visitor_details_corrected")
        .expect("audited")
        .clone();
    assert_eq!(
        entry["target"],
        format!("visitor:{visitor} email:[redacted]")
    );
    assert_eq!(entry["actor_kind"], "operator");
    assert!(!log.contains("jon.smith@example.com"), "{log}");
    assert!(!log.contains("jsmith@example.org"), "{log}");
    // The visitor's own corrections are not staff actions: one entry only.
    assert_eq!(
        entries["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|entry| entry["action"] == "visitor_details_corrected")
            .count(),
        1
    );

    // Another tenant's operator: not found, nothing changed.
    let stranger = app.login_with_csrf(&other.operator_email).await;
    assert_eq!(app.get(&path, &stranger.0).await.status(), 404);
    let refused = app
        .send_json(
            Method::PATCH,
            &path,
            &stranger,
            Some(json!({"name": "Hijacked"})),
        )
        .await;
    assert_eq!(refused.status(), 404);
    let (_, details) = own(&app, &token, None).await;
    assert_eq!(details["name"], "Jon Smith");
    let unknown = app
        .get(
            &format!("/api/v1/visitors/{}/details", Uuid::new_v4()),
            &operator.0,
        )
        .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_prechat_name_and_email_are_remembered_on_the_visitor() {
    let app = spawn_app().await;
    let tenant = app.tenant("remember").await;
    let email = "admin@remember.test";
    app.member(tenant.id, email, "Admin", Role::Admin).await;
    let admin = app.login_with_csrf(email).await;
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
            Some(json!({
                "prechat": {"name": "optional", "email": "required", "fields": []},
                "business_hours": null
            })),
        )
        .await;
    assert_eq!(response.status(), 200);
    let session: Value = app
        .visitor_session(&tenant.site_key, json!({}))
        .await
        .json()
        .await
        .expect("json");
    let token = session["visitor_token"].as_str().expect("token");
    let started = app
        .http
        .post(format!("{}/api/v1/visitor/chats", app.base))
        .bearer_auth(token)
        .json(&json!({
            "client_msg_id": Uuid::new_v4(),
            "prechat": {"name": "Zoë", "email": "Zoe@Example.com"}
        }))
        .send()
        .await
        .expect("request");
    assert!(started.status().is_success(), "{:?}", started.text().await);
    let (status, details) = own(&app, token, None).await;
    assert_eq!(status, 200);
    assert_eq!(details["name"], "Zoë");
    assert_eq!(details["email"], "zoe@example.com");
}
