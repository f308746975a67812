//! The isolation matrix (issue 4): two tenants with every role and data of every kind.
//! Every route the server has (taken from the router's own table, so a new route cannot
//! escape) is called as each role of tenant B, as B's visitor and logged out, against
//! tenant A's objects; every WebSocket frame type is sent by B's operators and visitor at
//! A's conversation. Expected: refusals (401/403/404), never a 5xx, and not one byte of A's
//! private data in any answer.

use std::collections::BTreeSet;

use livehelp_domain::Role;
use livehelp_protocol::{ClientFrame, ServerFrame};
use livehelp_server::{Access, ServerOptions, route_specs};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::client::WsClient;
use crate::helpers::spawn_app;

/// Every route the matrix knows. A route added to the server without being added here
/// fails `every_route_is_in_the_matrix`, so nobody forgets to think about its isolation.
const KNOWN_ROUTES: &[&str] = &[
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /api/v1/sites/{site_key}/widget-config",
    "POST /api/v1/sites/{site_key}/visitor-sessions",
    "GET /api/v1/visitor-session",
    "POST /api/v1/sites/{site_key}/page-views",
    "GET /api/v1/page-views",
    "GET /api/v1/visitors/{id}/page-trail",
    "GET /api/v1/tracking-settings",
    "PUT /api/v1/tracking-settings",
    "GET /api/v1/sites/{id}/query-params",
    "PUT /api/v1/sites/{id}/query-params",
    "GET /api/v1/ws/visitor",
    "POST /api/v1/auth/login",
    "GET /api/v1/auth/session",
    "POST /api/v1/auth/password-reset",
    "POST /api/v1/auth/logout",
    "GET /api/v1/auth/me",
    "GET /api/v1/auth/sessions",
    "DELETE /api/v1/auth/sessions/{id}",
    "POST /api/v1/auth/logout-everywhere",
    "GET /api/v1/conversations",
    "GET /api/v1/conversations/{id}/transcript",
    "GET /api/v1/conversations/{id}/visitor",
    "GET /api/v1/conversations/{id}/notes",
    "POST /api/v1/conversations/{id}/notes",
    "GET /api/v1/conversations/{id}/tags",
    "POST /api/v1/conversations/{id}/tags",
    "DELETE /api/v1/conversations/{id}/tags/{tag}",
    "GET /api/v1/canned-responses",
    "POST /api/v1/canned-responses",
    "PATCH /api/v1/canned-responses/{id}",
    "DELETE /api/v1/canned-responses/{id}",
    "GET /api/v1/ws/operator",
    "GET /api/v1/operators",
    "POST /api/v1/operators",
    "PATCH /api/v1/operators/{id}",
    "POST /api/v1/operators/{id}/password-reset",
    "GET /api/v1/sites",
    "POST /api/v1/sites",
    "PATCH /api/v1/sites/{id}",
    "GET /api/v1/audit-log",
    // Admin only, the tenant from the session (tests/api/export.rs).
    "GET /api/v1/tenant/export",
    "GET /api/v1/visitor/conversations/{id}/transcript",
    "GET /api/v1/departments",
    "POST /api/v1/departments",
    "PATCH /api/v1/departments/{id}",
    "DELETE /api/v1/departments/{id}",
    "GET /api/v1/routing-settings",
    "PATCH /api/v1/routing-settings",
    "GET /api/v1/supervisor/overview",
    "GET /api/v1/survey",
    "POST /api/v1/survey",
    "GET /api/v1/survey-results",
    "GET /api/v1/survey-results.csv",
    "GET /api/v1/conversations/{id}/survey-answers",
    "GET /api/v1/conversations/{id}/survey",
    "POST /api/v1/conversations/{id}/survey-response",
    "POST /api/v1/visitor/chats",
    "GET /api/v1/visitor/details",
    "POST /api/v1/visitor/details",
    "GET /api/v1/visitors/{id}/details",
    "PATCH /api/v1/visitors/{id}/details",
    "GET /api/v1/reports",
    "GET /api/v1/reports/{file}",
    "POST /api/v1/sites/{site_key}/tickets",
    "POST /api/v1/support-requests",
    "GET /api/v1/tickets",
    "GET /api/v1/tickets/{id}",
    "PATCH /api/v1/tickets/{id}",
    "POST /api/v1/tickets/{id}/notes",
    "GET /api/v1/conversations/{id}/prechat",
    "GET /api/v1/sites/{id}/forms",
    "PUT /api/v1/sites/{id}/forms",
    "GET /support",
    "GET /support/{*file}",
    "GET /",
    "GET /favicon.ico",
    "GET /widget.js",
    "GET /widget/{*file}",
    "GET /console",
    "GET /console/",
    "GET /console/{*file}",
    "GET /demo",
    "GET /demo/",
    "GET /demo/{*file}",
];

#[test]
fn every_route_is_in_the_matrix() {
    let served: BTreeSet<String> = route_specs(&ServerOptions {
        demo_page: true,
        ..ServerOptions::default()
    })
    .iter()
    .map(|spec| format!("{} {}", spec.method, spec.path))
    .collect();
    let known: BTreeSet<String> = KNOWN_ROUTES
        .iter()
        .map(|route| (*route).to_owned())
        .collect();
    assert_eq!(
        served, known,
        "add new routes to KNOWN_ROUTES and think about who may call them"
    );
}

/// Who calls: a label, an operator session (cookie, CSRF token), a visitor token.
type Caller = (String, Option<(String, String)>, Option<String>);

struct TenantA {
    conversation: Uuid,
    department: Uuid,
    ticket: String,
    visitor: Uuid,
    operator_ids: Vec<String>,
    site_id: String,
    site_key: String,
    session_id: String,
    secret: String,
    emails: Vec<String>,
    /// A tenant-wide canned response, a note and a tag of A, each carrying a secret.
    canned_id: String,
    tools_secret: String,
}

impl TenantA {
    /// Strings that must never appear in an answer to tenant B or an outsider. (A's
    /// department ids are public on purpose: the widget-config of A's site offers them to
    /// visitors; that B cannot list or change them is checked separately.)
    fn markers(&self) -> Vec<String> {
        let mut markers = vec![
            self.conversation.to_string(),
            self.ticket.clone(),
            self.visitor.to_string(),
            self.site_id.clone(),
            self.session_id.clone(),
            self.secret.clone(),
            "secret-page".to_owned(),
        ];
        markers.extend(self.operator_ids.iter().cloned());
        markers.extend(self.emails.iter().cloned());
        markers.push(self.canned_id.clone());
        markers.push(self.tools_secret.clone());
        markers
    }

    fn path(&self, pattern: &str) -> String {
        let id = if pattern.starts_with("/api/v1/conversations/")
            || pattern.starts_with("/api/v1/visitor/conversations/")
        {
            self.conversation.to_string()
        } else if pattern.starts_with("/api/v1/departments/") {
            self.department.to_string()
        } else if pattern.starts_with("/api/v1/operators/") {
            self.operator_ids[0].clone()
        } else if pattern.starts_with("/api/v1/sites/{id}") {
            self.site_id.clone()
        } else if pattern.starts_with("/api/v1/canned-responses/") {
            self.canned_id.clone()
        } else if pattern.starts_with("/api/v1/tickets/") {
            self.ticket.clone()
        } else if pattern.starts_with("/api/v1/visitors/") {
            self.visitor.to_string()
        } else if pattern.starts_with("/api/v1/auth/sessions/") {
            self.session_id.clone()
        } else if pattern.starts_with("/api/v1/visitors/") {
            self.visitor.to_string()
        } else if pattern.contains("{id}") {
            panic!("the matrix does not know which of A's objects {pattern} takes");
        } else {
            String::new()
        };
        pattern
            .replace("{id}", &id)
            .replace("{site_key}", &self.site_key)
            .replace("{tag}", &self.tools_secret.to_lowercase())
            .replace("{file}", "operators.csv")
            .replace("{*file}", "index.html")
            .replace(
                "{*file}",
                if pattern.starts_with("/support") {
                    "support.js"
                } else {
                    "index.html"
                },
            )
    }
}

#[tokio::test]
async fn tenant_b_and_outsiders_get_nothing_of_tenant_a_from_any_route_or_frame() {
    let app = spawn_app().await;
    let a = app.tenant("alpha").await;
    let b = app.tenant("bravo").await;
    for (tenant, prefix) in [(a.id, "alpha"), (b.id, "bravo")] {
        app.member(
            tenant,
            &format!("admin@{prefix}.test"),
            "Admin",
            Role::Admin,
        )
        .await;
        app.member(
            tenant,
            &format!("sup@{prefix}.test"),
            "Sup",
            Role::Supervisor,
        )
        .await;
    }
    // Tenant A's data: an active conversation with a secret, an audit trail, sessions.
    let secret = format!("SECRET-A-{}", Uuid::new_v4());
    let (_, mut owner) = app.operator_client(&a.operator_email).await;
    let (visitor_session, mut visitor) = app.visitor(&a.site_key, Some("Alice of A")).await;
    let conversation = visitor.start_chat().await;
    owner.accept(conversation).await;
    visitor.say(conversation, &secret).await;
    let a_admin = app.login_with_csrf("admin@alpha.test").await;
    let _ = app
        .get(
            &format!("/api/v1/conversations/{conversation}/transcript"),
            &a_admin.0,
        )
        .await;
    let operators: Value = app
        .send_json(Method::GET, "/api/v1/operators", &a_admin, None)
        .await
        .json()
        .await
        .expect("json");
    let operator_ids: Vec<String> = operators["operators"]
        .as_array()
        .expect("list")
        .iter()
        .map(|o| o["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let sites: Value = app
        .send_json(Method::GET, "/api/v1/sites", &a_admin, None)
        .await
        .json()
        .await
        .expect("json");
    let site_id = sites["sites"][0]["id"].as_str().expect("site").to_owned();
    let sessions: Value = app
        .send_json(Method::GET, "/api/v1/auth/sessions", &a_admin, None)
        .await
        .json()
        .await
        .expect("json");
    let session_id = sessions["sessions"][0]["id"]
        .as_str()
        .expect("session")
        .to_owned();
    let department: Value = app
        .send_json(
            Method::POST,
            "/api/v1/departments",
            &a_admin,
            Some(json!({"name": "Alpha sales", "routing": "manual"})),
        )
        .await
        .json()
        .await
        .expect("json");
    // Operator tools of A: a tenant-wide canned response, a note and a tag, all secret.
    let tools_secret = format!("tools-a-{}", Uuid::new_v4().simple());
    let canned: Value = app
        .send_json(
            Method::POST,
            "/api/v1/canned-responses",
            &a_admin,
            Some(json!({ "scope": "tenant", "shortcut": "secret", "text": tools_secret })),
        )
        .await
        .json()
        .await
        .expect("json");
    let a_department: Uuid = department["id"]
        .as_str()
        .expect("department id")
        .parse()
        .expect("uuid");
    let canned_id = canned["id"].as_str().expect("canned id").to_owned();
    for (path, body) in [
        ("notes", json!({ "text": tools_secret })),
        ("tags", json!({ "tag": tools_secret })),
    ] {
        let response = app
            .send_json(
                Method::POST,
                &format!("/api/v1/conversations/{conversation}/{path}"),
                &a_admin,
                Some(body),
            )
            .await;
        assert!(response.status().is_success(), "A's own {path}");
    }
    // A's visitor corrected their details: a secret email only A's staff may read.
    let visitor_email = format!("alice-{}@alpha.test", Uuid::new_v4().simple());
    let corrected = app
        .http
        .post(format!("{}/api/v1/visitor/details", app.base))
        .bearer_auth(&visitor_session.visitor_token)
        .json(&json!({ "email": visitor_email }))
        .send()
        .await
        .expect("request");
    assert_eq!(corrected.status(), 200);
    // An offline message left on A's site, with a secret only A's operators may read.
    let ticket_secret = format!("TICKET-A-{}", Uuid::new_v4());
    let ticket: Value = app
        .http
        .post(format!("{}/api/v1/sites/{}/tickets", app.base, a.site_key))
        .json(&json!({"email": "ticket-writer@alpha.test", "message": ticket_secret}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let ticket = ticket["id"].as_str().expect("ticket id").to_owned();
    // Page views of A's site, tallied under A's site id (a marker) and trailed for A's
    // visitor.
    let counted = app
        .http
        .post(format!(
            "{}/api/v1/sites/{}/page-views",
            app.base, a.site_key
        ))
        .header("origin", "https://alpha.test")
        .body(r#"{"views":[{"url":"https://alpha.test/secret-page"}]}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(counted.status(), 202);
    visitor
        .send(&ClientFrame::PageView {
            url: "https://alpha.test/secret-page".into(),
            title: None,
            referrer: None,
            dnt: false,
        })
        .await;
    let tenant_a = TenantA {
        department: a_department,
        conversation,
        ticket: ticket.clone(),
        visitor: visitor_session.visitor_id,
        operator_ids,
        site_id,
        site_key: a.site_key.clone(),
        session_id,
        secret: secret.clone(),
        emails: vec![
            ticket_secret.clone(),
            "ticket-writer@alpha.test".into(),
            a.operator_email.clone(),
            "admin@alpha.test".into(),
            "sup@alpha.test".into(),
            visitor_email.clone(),
        ],
        canned_id,
        tools_secret: tools_secret.clone(),
    };

    // Tenant B's callers.
    let mut callers: Vec<Caller> = vec![("logged out".into(), None, None)];
    for email in [
        "admin@bravo.test",
        "sup@bravo.test",
        b.operator_email.as_str(),
    ] {
        callers.push((
            email.to_owned(),
            Some(app.login_with_csrf(email).await),
            None,
        ));
    }
    let (b_visitor, _b_socket) = app.visitor(&b.site_key, Some("Bob of B")).await;
    callers.push((
        "B's visitor".into(),
        None,
        Some(b_visitor.visitor_token.clone()),
    ));

    let markers = tenant_a.markers();
    let mut specs = route_specs(&ServerOptions {
        demo_page: true,
        ..ServerOptions::default()
    });
    // The logout routes end B's own sessions: call them last.
    specs.sort_by_key(|spec| spec.path.contains("logout"));
    let mut calls = 0;
    for spec in &specs {
        let path = tenant_a.path(spec.path);
        for (who, session, token) in &callers {
            let mut request = app
                .http
                .request(spec.method.clone(), format!("{}{path}", app.base));
            if let Some((cookie, csrf)) = session {
                request = request
                    .header("cookie", cookie)
                    .header("x-csrf-token", csrf);
            }
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if matches!(spec.method, Method::POST | Method::PATCH | Method::PUT) {
                request = request.json(&json!({}));
            }
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            calls += 1;
            assert!(
                status < 500,
                "{who} {} {path}: {status} {body}",
                spec.method
            );
            for marker in &markers {
                assert!(
                    !body.contains(marker.as_str()),
                    "{who} {} {path} leaked {marker}: {body}",
                    spec.method
                );
            }
            let must_refuse = match spec.access {
                Access::Public => false,
                Access::Visitor => token.is_none(),
                Access::Operator | Access::Admin => session.is_none(),
            };
            if must_refuse {
                assert!(
                    matches!(status, 401 | 403 | 404),
                    "{who} {} {path}: expected a refusal, got {status} {body}",
                    spec.method
                );
            }
            if spec.access == Access::Admin && (who.starts_with("sup@") || who == &b.operator_email)
            {
                assert_eq!(status, 403, "{who} {} {path}: {body}", spec.method);
            }
            // A caller holding the credential the route takes (a session for operator
            // routes, a visitor token for visitor routes) must not find A's object.
            let has_credential = match spec.access {
                Access::Public => false,
                Access::Visitor => token.is_some(),
                Access::Operator | Access::Admin => session.is_some(),
            };
            if spec.path.contains("{id}") && has_credential {
                assert!(
                    matches!(status, 403 | 404),
                    "{who} {} {path} must not find A's object: {status} {body}",
                    spec.method
                );
            }
        }
    }
    assert!(calls >= specs.len() * callers.len());
    // B's staff never see A's departments in their own lists or views.
    for (who, session, _) in &callers {
        let Some((cookie, _)) = session else { continue };
        for path in ["/api/v1/departments", "/api/v1/supervisor/overview"] {
            let body = app.get(path, cookie).await.text().await.unwrap_or_default();
            assert!(
                !body.contains(&tenant_a.department.to_string()),
                "{who} GET {path} lists A's department: {body}"
            );
        }
    }

    // Every frame type, from B's admin, supervisor, operator and visitor, at A's conversation.
    let frames = |conversation_id: Uuid| -> Vec<ClientFrame> {
        let all = vec![
            ClientFrame::StartChat {
                client_msg_id: Uuid::new_v4(),
                department_id: Some(a_department),
                prechat: None,
            },
            ClientFrame::SendMessage {
                client_msg_id: Uuid::new_v4(),
                conversation_id,
                text: "intrusion".into(),
            },
            ClientFrame::Typing {
                conversation_id,
                is_typing: true,
            },
            ClientFrame::Accept {
                client_msg_id: Uuid::new_v4(),
                conversation_id,
            },
            ClientFrame::EndChat {
                client_msg_id: Uuid::new_v4(),
                conversation_id,
            },
            ClientFrame::Resume {
                conversation_id,
                after_seq: 0,
            },
            ClientFrame::Ping {},
            ClientFrame::PageView {
                url: "https://bravo.test/".into(),
                title: None,
                referrer: None,
                dnt: false,
            },
            ClientFrame::SetStatus {
                status: "away".into(),
            },
            ClientFrame::Whisper {
                client_msg_id: Uuid::new_v4(),
                conversation_id,
                text: "intrusion".into(),
            },
            ClientFrame::Transfer {
                client_msg_id: Uuid::new_v4(),
                conversation_id,
                to_operator_id: None,
                to_department_id: Some(a_department),
                note: Some("intrusion".into()),
            },
            ClientFrame::Barge {
                client_msg_id: Uuid::new_v4(),
                conversation_id,
                mode: "take_over".into(),
            },
        ];
        // Adding a frame type without listing it above breaks this match.
        for frame in &all {
            match frame {
                ClientFrame::StartChat { .. }
                | ClientFrame::SendMessage { .. }
                | ClientFrame::Typing { .. }
                | ClientFrame::Accept { .. }
                | ClientFrame::EndChat { .. }
                | ClientFrame::Resume { .. }
                | ClientFrame::Ping {}
                | ClientFrame::PageView { .. }
                | ClientFrame::SetStatus { .. }
                | ClientFrame::Whisper { .. }
                | ClientFrame::Transfer { .. }
                | ClientFrame::Barge { .. } => {}
            }
        }
        assert_eq!(all.len(), ClientFrame::TYPES.len());
        all
    };
    let mut sockets = Vec::new();
    for email in [
        "admin@bravo.test",
        "sup@bravo.test",
        b.operator_email.as_str(),
    ] {
        sockets.push(app.operator_client(email).await.1);
    }
    sockets.push(WsClient::visitor(&app.base, &b_visitor.visitor_token).await);
    for socket in &mut sockets {
        for frame in frames(conversation) {
            socket.send(&frame).await;
        }
        socket.send(&ClientFrame::Ping {}).await;
        // Read until two pongs (the listed ping and the last one) to drain every answer.
        let mut pongs = 0;
        while pongs < 2 {
            let frame = socket.next().await.expect("socket stays open");
            let text = serde_json::to_string(&frame).expect("json");
            for marker in &markers {
                assert!(
                    !text.contains(marker.as_str()),
                    "frame leaked {marker}: {text}"
                );
            }
            if matches!(frame, ServerFrame::Pong {}) {
                pongs += 1;
            }
        }
    }
    // B's admin's report counts none of A's conversations; A's visitor's details are
    // as A's visitor left them.
    let b_admin = app.login("admin@bravo.test").await;
    let b_report: Value = app
        .get("/api/v1/reports", &b_admin)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(b_report["totals"]["conversations"], 0);
    let a_details: Value = app
        .get(
            &format!("/api/v1/visitors/{}/details", visitor_session.visitor_id),
            &a_admin.0,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(a_details["email"], json!(visitor_email));
    assert_eq!(a_details["name"], "Alice of A");
    // A's conversation is untouched.
    let transcript = app.transcript(conversation, &a_admin.0).await;
    assert_eq!(transcript.conversation.state, "active");
    assert!(transcript.messages.iter().all(|m| m.text != "intrusion"));
    // ... and so are its operator tools.
    let notes: Value = app
        .get(
            &format!("/api/v1/conversations/{conversation}/notes"),
            &a_admin.0,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(notes["notes"].as_array().expect("notes").len(), 1);
    let tags: Value = app
        .get(
            &format!("/api/v1/conversations/{conversation}/tags"),
            &a_admin.0,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(tags["tags"], json!([tools_secret]));
    let canned: Value = app
        .get("/api/v1/canned-responses", &a_admin.0)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(canned["canned_responses"][0]["text"], json!(tools_secret));
}
