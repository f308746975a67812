//! Accounts, roles and sessions (issue 4): what each role may do, account management by
//! admins, password policy and reset links, login throttling and lock-out, the session
//! list and "log out everywhere", monitoring with its audit trail, suspended tenants.

use livehelp_domain::{Role, TenantStatus};
use livehelp_protocol::{ClientFrame, ServerFrame};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::client::WsClient;
use crate::helpers::{PASSWORD, spawn_app};

async fn code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn only_admins_manage_operators_and_sites_and_read_the_audit_log() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.member(tenant.id, "admin@acme.test", "Ada", Role::Admin)
        .await;
    app.member(tenant.id, "sup@acme.test", "Sam", Role::Supervisor)
        .await;
    for email in [tenant.operator_email.as_str(), "sup@acme.test"] {
        let session = app.login_with_csrf(email).await;
        for (method, path, body) in [
            (Method::GET, "/api/v1/operators", None),
            (
                Method::POST,
                "/api/v1/operators",
                Some(
                    json!({"email": "x@acme.test", "display_name": "X", "role": "admin", "password": PASSWORD}),
                ),
            ),
            (Method::GET, "/api/v1/sites", None),
            (Method::POST, "/api/v1/sites", Some(json!({"name": "x"}))),
            (Method::GET, "/api/v1/audit-log", None),
        ] {
            let response = app.send_json(method.clone(), path, &session, body).await;
            assert_eq!(
                code(response).await,
                (403, "role_required".to_owned()),
                "{email} {method} {path}"
            );
        }
    }
    let admin = app.login_with_csrf("admin@acme.test").await;
    let created = app
        .send_json(Method::POST, "/api/v1/operators", &admin, Some(json!({"email": "new@acme.test", "display_name": "Nia", "role": "operator", "password": PASSWORD})))
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    assert_eq!(created["role"], "operator");
    assert!(
        created.get("password_hash").is_none(),
        "hashes never leave the server"
    );
    let duplicate = app
        .send_json(Method::POST, "/api/v1/operators", &admin, Some(json!({"email": "new@acme.test", "display_name": "Nia", "role": "operator", "password": PASSWORD})))
        .await;
    assert_eq!(code(duplicate).await, (400, "invalid_request".to_owned()));
    let weak = app
        .send_json(Method::POST, "/api/v1/operators", &admin, Some(json!({"email": "weak@acme.test", "display_name": "W", "role": "operator", "password": "password1234"})))
        .await;
    assert_eq!(code(weak).await, (422, "weak_password".to_owned()));
    let id = created["id"].as_str().expect("id");
    let promoted = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/operators/{id}"),
            &admin,
            Some(json!({"role": "supervisor"})),
        )
        .await;
    assert_eq!(promoted.status(), 200);
    let list: Value = app
        .send_json(Method::GET, "/api/v1/operators", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["operators"].as_array().map(Vec::len), Some(4));
    let log: Value = app
        .send_json(Method::GET, "/api/v1/audit-log", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["operator_role_changed", "operator_created"]);
    // An admin cannot lock themselves out.
    let me: Value = app
        .send_json(Method::GET, "/api/v1/auth/me", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    let own = app
        .send_json(
            Method::PATCH,
            &format!(
                "/api/v1/operators/{}",
                me["operator_id"].as_str().expect("id")
            ),
            &admin,
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(code(own).await, (400, "invalid_request".to_owned()));
}

#[tokio::test]
async fn disabling_an_operator_ends_their_sessions_and_a_reset_link_works_once() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.member(tenant.id, "admin@acme.test", "Ada", Role::Admin)
        .await;
    let admin = app.login_with_csrf("admin@acme.test").await;
    let victim = app.login_with_csrf(&tenant.operator_email).await;
    let operators: Value = app
        .send_json(Method::GET, "/api/v1/operators", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    let id = operators["operators"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|o| o["email"] == tenant.operator_email.as_str())
        })
        .and_then(|o| o["id"].as_str())
        .expect("operator")
        .to_owned();

    let link = app
        .send_json(
            Method::POST,
            &format!("/api/v1/operators/{id}/password-reset"),
            &admin,
            None,
        )
        .await;
    assert_eq!(link.status(), 201);
    let link: Value = link.json().await.expect("json");
    let token = link["token"].as_str().expect("token").to_owned();
    assert_eq!(link["reset_path"], format!("/console/#reset={token}"));
    let reset = |password: &'static str| {
        app.http
            .post(format!("{}/api/v1/auth/password-reset", app.base))
            .json(&json!({"token": token, "password": password}))
            .send()
    };
    assert_eq!(
        code(reset("short").await.expect("request")).await,
        (422, "weak_password".to_owned()),
        "a weak password keeps the link usable"
    );
    assert_eq!(
        reset("a brand new passphrase 42")
            .await
            .expect("request")
            .status(),
        204
    );
    assert_eq!(
        code(reset("yet another passphrase 7").await.expect("request")).await,
        (400, "invalid_request".to_owned()),
        "links work once"
    );
    assert_eq!(
        app.get("/api/v1/auth/me", &victim.0).await.status(),
        401,
        "a reset ends existing sessions"
    );
    let old = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": tenant.operator_email, "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(old.status(), 401);
    let new = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": tenant.operator_email, "password": "a brand new passphrase 42"}))
        .send()
        .await
        .expect("request");
    assert_eq!(new.status(), 200);
    let cookie = new.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();

    let disabled = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/operators/{id}"),
            &admin,
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(disabled.status(), 200);
    assert_eq!(
        app.get("/api/v1/auth/me", &cookie).await.status(),
        401,
        "disabling ends sessions"
    );
    let refused = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": tenant.operator_email, "password": "a brand new passphrase 42"}))
        .send()
        .await
        .expect("request");
    assert_eq!(code(refused).await, (401, "invalid_credentials".to_owned()));
}

#[tokio::test]
async fn repeated_failures_lock_the_account_and_flooding_ips_are_throttled() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let login = |email: String, password: &'static str| {
        app.http
            .post(format!("{}/api/v1/auth/login", app.base))
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    for attempt in 1..=5 {
        let (status, code) = code(
            login(tenant.operator_email.clone(), "wrong password!!")
                .await
                .expect("request"),
        )
        .await;
        if attempt < 5 {
            assert_eq!(
                (status, code.as_str()),
                (401, "invalid_credentials"),
                "attempt {attempt}"
            );
        } else {
            assert_eq!(
                (status, code.as_str()),
                (429, "rate_limited"),
                "the fifth failure locks"
            );
        }
    }
    let locked = login(tenant.operator_email.clone(), PASSWORD)
        .await
        .expect("request");
    assert_eq!(
        locked.status(),
        429,
        "even the right password is refused while locked"
    );
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry > 800 && retry <= 900, "about 15 minutes, got {retry}");
    // Per IP: 10 attempts a minute, whatever the account.
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(
            login(format!("nobody{i}@acme.test"), "whatever password")
                .await
                .expect("request")
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // Others are unaffected: visitors still get sessions.
    let visitor = app.visitor_session(&tenant.site_key, json!({})).await;
    assert_eq!(visitor.status(), 201);
}

#[tokio::test]
async fn the_session_list_shows_each_login_and_logout_everywhere_ends_them_all() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let first = app.login_with_csrf(&tenant.operator_email).await;
    let second = app.login_with_csrf(&tenant.operator_email).await;
    let list: Value = app
        .send_json(Method::GET, "/api/v1/auth/sessions", &second, None)
        .await
        .json()
        .await
        .expect("json");
    let sessions = list["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(sessions[0]["ip"], "127.0.0.1");
    let other_id = sessions
        .iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["id"].as_str())
        .expect("id")
        .to_owned();
    assert_eq!(
        app.send_json(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{other_id}"),
            &second,
            None
        )
        .await
        .status(),
        204
    );
    assert_eq!(app.get("/api/v1/auth/me", &first.0).await.status(), 401);
    let third = app.login_with_csrf(&tenant.operator_email).await;
    assert_eq!(
        app.send_json(Method::POST, "/api/v1/auth/logout-everywhere", &third, None)
            .await
            .status(),
        204
    );
    assert_eq!(app.get("/api/v1/auth/me", &second.0).await.status(), 401);
    assert_eq!(app.get("/api/v1/auth/me", &third.0).await.status(), 401);
}

#[tokio::test]
async fn supervisors_monitor_silently_and_audited_operators_cannot() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.member(tenant.id, "sup@acme.test", "Sam", Role::Supervisor)
        .await;
    app.member(tenant.id, "op2@acme.test", "Olga", Role::Operator)
        .await;
    app.member(tenant.id, "admin@acme.test", "Ada", Role::Admin)
        .await;
    let (_, mut owner) = app.operator_client(&tenant.operator_email).await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, Some("Ann")).await;
    let conversation = visitor.start_chat().await;
    owner.accept(conversation).await;
    visitor.say(conversation, "private question").await;

    let (_, mut colleague) = app.operator_client("op2@acme.test").await;
    colleague
        .send(&ClientFrame::Resume {
            conversation_id: conversation,
            after_seq: 0,
        })
        .await;
    assert_eq!(colleague.error_code(None).await, "role_required");
    assert!(colleague.messages.is_empty());

    let (_, mut supervisor) = app.operator_client("sup@acme.test").await;
    supervisor.resume(conversation, 0).await;
    assert!(
        supervisor
            .messages
            .iter()
            .any(|m| m.text == "private question")
    );
    owner.say(conversation, "answer while watched").await;
    supervisor.wait_for_seq(conversation, 4).await;
    // The watcher cannot write or end the chat.
    let id = Uuid::new_v4();
    supervisor
        .send(&ClientFrame::SendMessage {
            client_msg_id: id,
            conversation_id: conversation,
            text: "hi".into(),
        })
        .await;
    assert_eq!(supervisor.error_code(Some(id)).await, "not_assigned_to_you");
    // The monitored parties received nothing about it.
    visitor.send(&ClientFrame::Ping {}).await;
    loop {
        match visitor.next().await.expect("open") {
            ServerFrame::Pong {} => break,
            ServerFrame::Message { message } => assert_ne!(
                message.kind, "system",
                "no notice of the watcher: {message:?}"
            ),
            _ => {}
        }
    }

    let admin = app.login_with_csrf("admin@acme.test").await;
    let transcript = app
        .get(
            &format!("/api/v1/conversations/{conversation}/transcript"),
            &admin.0,
        )
        .await;
    assert_eq!(transcript.status(), 200);
    let log: Value = app
        .send_json(Method::GET, "/api/v1/audit-log", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    let entries: Vec<(String, String)> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["target"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let target = format!("conversation:{conversation}");
    assert!(
        entries.contains(&("transcript_read".to_owned(), target.clone())),
        "{entries:?}"
    );
    assert!(
        entries.contains(&("monitor_started".to_owned(), target)),
        "{entries:?}"
    );
}

#[tokio::test]
async fn a_suspended_tenant_is_unavailable_to_visitors_and_operators() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let cookie = app.login(&tenant.operator_email).await;
    let (session, _visitor) = app.visitor(&tenant.site_key, None).await;
    app.app
        .set_tenant_status(
            tenant.id,
            TenantStatus::Suspended,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .expect("suspend");
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
    assert_eq!(config["available"], false);
    assert_eq!(
        code(app.visitor_session(&tenant.site_key, json!({})).await).await,
        (403, "tenant_suspended".to_owned())
    );
    assert_eq!(app.get("/api/v1/auth/me", &cookie).await.status(), 403);
    let login = app
        .http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": tenant.operator_email, "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(code(login).await, (403, "tenant_suspended".to_owned()));
    let socket = app
        .http
        .get(format!(
            "{}/api/v1/ws/visitor?token={}",
            app.base, session.visitor_token
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(socket.status(), 403);
    // Another tenant is unaffected.
    assert_eq!(
        app.visitor_session(&other.site_key, json!({}))
            .await
            .status(),
        201
    );
    let _ = WsClient::operator(&app.base, &app.login(&other.operator_email).await).await;
}
