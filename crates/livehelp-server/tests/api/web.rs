//! What the widget and the console rely on: widget config, the visitor's own session,
//! page views, operator status, the conversation list, the visitor panel, and the
//! embedded web files with their security headers.

use livehelp_protocol::rest::{ConversationListResponse, VisitorInfoResponse};
use livehelp_protocol::{ClientFrame, ServerFrame};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::client::WsClient;
use crate::helpers::spawn_app;

#[tokio::test]
async fn widget_config_is_public_and_says_nothing_about_visitors() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let response = app
        .http
        .get(format!(
            "{}/api/v1/sites/{}/widget-config",
            app.base, tenant.site_key
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none());
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        // No operator is connected, so the widget offers the message form (B4); no
        // pre-chat form is set, so none is sent.
        json!({"site_name": "acme.test", "tenant_name": "acme", "privacy_policy_url": "https://acme.test/privacy", "available": true, "departments": [], "mode": "offline"})
    );
    let missing = app
        .http
        .get(format!(
            "{}/api/v1/sites/no-such-site/widget-config",
            app.base
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.expect("json")["code"],
        "site_not_found"
    );
}

#[tokio::test]
async fn widget_routes_answer_cors_preflights_from_tenant_pages() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let preflight = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!(
                "{}/api/v1/sites/{}/visitor-sessions",
                app.base, tenant.site_key
            ),
        )
        .header("origin", "https://acme.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("request");
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://acme.test"
    );
    // The operator API is not open to other origins.
    let operator_api = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/auth/login", app.base),
        )
        .header("origin", "https://acme.test")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("request");
    assert!(
        operator_api
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn a_stored_visitor_token_can_be_checked_and_a_bad_one_is_refused() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (session, _client) = app.visitor(&tenant.site_key, Some("Ann")).await;
    let url = format!("{}/api/v1/visitor-session", app.base);
    let good = app
        .http
        .get(&url)
        .bearer_auth(&session.visitor_token)
        .send()
        .await
        .expect("request");
    assert_eq!(good.status(), 200);
    let body: Value = good.json().await.expect("json");
    assert_eq!(body["visitor_id"], session.visitor_id.to_string());
    assert_eq!(body["name"], "Ann");
    assert_eq!(body["returning"], false);
    for bad in [Some("0".repeat(64)), None] {
        let mut request = app.http.get(&url);
        if let Some(token) = &bad {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.json::<Value>().await.expect("json")["code"],
            "unauthorized"
        );
    }
}

#[tokio::test]
async fn the_visitor_panel_shows_browser_page_and_returning_and_stays_in_the_tenant() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    let response = app
        .http
        .post(format!("{}/api/v1/sites/{}/visitor-sessions", app.base, tenant.site_key))
        .header("user-agent", chrome)
        .json(&json!({"name": "Ann", "page_url": "https://acme.test/shoes?coupon=SECRET#top", "page_title": "Shoes"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let session: livehelp_protocol::rest::VisitorSessionResponse =
        response.json().await.expect("json");
    let mut visitor = WsClient::visitor(&app.base, &session.visitor_token).await;
    let conversation = visitor.start_chat().await;
    let cookie = app.login(&tenant.operator_email).await;
    let info: VisitorInfoResponse = app
        .get(
            &format!("/api/v1/conversations/{conversation}/visitor"),
            &cookie,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(info.name.as_deref(), Some("Ann"));
    assert_eq!(
        (info.browser.as_str(), info.os.as_str()),
        ("Chrome 131.0", "Linux")
    );
    assert_eq!(info.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        info.current_page.as_ref().map(|p| p.url.as_str()),
        Some("https://acme.test/shoes"),
        "query and fragment dropped"
    );
    assert!(!info.returning);
    assert_eq!(info.conversation_count, 1);

    visitor
        .send(&ClientFrame::PageView {
            url: "https://acme.test/checkout".into(),
            title: Some("Checkout".into()),
            referrer: None,
            dnt: false,
        })
        .await;
    visitor
        .send(&ClientFrame::PageView {
            url: "javascript:alert(1)".into(),
            title: None,
            referrer: None,
            dnt: false,
        })
        .await;
    assert_eq!(visitor.error_code(None).await, "invalid_request");
    let info: VisitorInfoResponse = app
        .get(
            &format!("/api/v1/conversations/{conversation}/visitor"),
            &cookie,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        info.current_page.map(|p| (p.url, p.title)),
        Some(("https://acme.test/checkout".into(), Some("Checkout".into())))
    );

    // Second conversation: now returning.
    let id = Uuid::new_v4();
    visitor
        .send(&ClientFrame::EndChat {
            client_msg_id: id,
            conversation_id: conversation,
        })
        .await;
    visitor.ack(id).await;
    let second = visitor.start_chat().await;
    let info: VisitorInfoResponse = app
        .get(&format!("/api/v1/conversations/{second}/visitor"), &cookie)
        .await
        .json()
        .await
        .expect("json");
    assert!(info.returning);
    assert_eq!(info.conversation_count, 2);

    let foreign = app.login(&other.operator_email).await;
    let response = app
        .get(&format!("/api/v1/conversations/{second}/visitor"), &foreign)
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>().await.expect("json")["code"],
        "conversation_not_found"
    );
}

#[tokio::test]
async fn the_conversation_list_pages_newest_first_and_filters_by_state() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
        ids.push(visitor.start_chat().await);
    }
    let (_, mut foreign_visitor) = app.visitor(&other.site_key, None).await;
    foreign_visitor.start_chat().await;
    let cookie = app.login(&tenant.operator_email).await;
    let first: ConversationListResponse = app
        .get("/api/v1/conversations?limit=3", &cookie)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        first.conversations.iter().map(|c| c.id).collect::<Vec<_>>(),
        ids.iter().rev().take(3).copied().collect::<Vec<_>>()
    );
    let next = first.next.expect("a next cursor");
    let second: ConversationListResponse = app
        .get(
            &format!("/api/v1/conversations?limit=3&before={next}"),
            &cookie,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        second
            .conversations
            .iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        vec![ids[1], ids[0]]
    );
    assert_eq!(second.next, None);
    let ended: ConversationListResponse = app
        .get("/api/v1/conversations?state=ended", &cookie)
        .await
        .json()
        .await
        .expect("json");
    assert!(ended.conversations.is_empty());
    for bad in [
        "/api/v1/conversations?state=lost",
        "/api/v1/conversations?before=garbage",
    ] {
        let response = app.get(bad, &cookie).await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.json::<Value>().await.expect("json")["code"],
            "invalid_request"
        );
    }
    assert_eq!(
        app.get("/api/v1/conversations", "lh_session=nope")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn operator_status_is_set_acknowledged_and_kept_across_reconnects() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let cookie = app.login(&tenant.operator_email).await;
    let mut operator = WsClient::operator(&app.base, &cookie).await;
    let hello = operator
        .wait_for("hello", |f| matches!(f, ServerFrame::Hello { .. }))
        .await;
    assert!(matches!(hello, ServerFrame::Hello { status: Some(ref s), .. } if s == "online"));
    operator
        .send(&ClientFrame::SetStatus {
            status: "away".into(),
        })
        .await;
    operator
        .wait_for(
            "status",
            |f| matches!(f, ServerFrame::Status { status } if status == "away"),
        )
        .await;
    operator
        .send(&ClientFrame::SetStatus {
            status: "sleeping".into(),
        })
        .await;
    assert_eq!(operator.error_code(None).await, "invalid_request");
    let mut again = WsClient::operator(&app.base, &cookie).await;
    let hello = again
        .wait_for("hello", |f| matches!(f, ServerFrame::Hello { .. }))
        .await;
    assert!(matches!(hello, ServerFrame::Hello { status: Some(ref s), .. } if s == "away"));
    // Visitors have no status.
    let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
    visitor
        .send(&ClientFrame::SetStatus {
            status: "away".into(),
        })
        .await;
    assert_eq!(visitor.error_code(None).await, "forbidden");
}

#[tokio::test]
async fn web_files_are_served_with_types_etags_and_a_strict_csp() {
    let app = spawn_app().await;
    let get = |path: &str| app.http.get(format!("{}{path}", app.base)).send();
    let widget = get("/widget.js").await.expect("request");
    assert_eq!(widget.status(), 200);
    assert!(
        widget.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .contains("javascript")
    );
    assert_eq!(widget.headers()["x-content-type-options"], "nosniff");
    let etag = widget.headers()["etag"].clone();
    let again = app
        .http
        .get(format!("{}/widget.js", app.base))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 304);
    for page in ["/console/", "/demo/"] {
        let response = get(page).await.expect("request");
        assert_eq!(response.status(), 200, "{page}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with("text/html")
        );
    }
    for escape in [
        "/console/..%2f..%2fCargo.toml",
        "/widget/../../Cargo.toml",
        "/demo/%2e%2e/%2e%2e/Cargo.toml",
    ] {
        let response = get(escape).await.expect("request");
        assert_eq!(response.status(), 404, "{escape}");
    }
    let root = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = root
        .get(format!("{}/", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["location"], "/console/");
}

#[tokio::test]
async fn a_visitor_token_is_refused_on_a_socket_opened_from_a_foreign_page() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (session, _) = app.visitor(&tenant.site_key, None).await;
    let handshake = |origin: &'static str| {
        app.http
            .get(format!(
                "{}/api/v1/ws/visitor?token={}",
                app.base, session.visitor_token
            ))
            .header("origin", origin)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .send()
    };
    let foreign = handshake("https://evil.test").await.expect("request");
    assert_eq!(foreign.status(), 403);
    assert_eq!(
        foreign.json::<Value>().await.expect("json")["code"],
        "origin_not_allowed"
    );
    let own = handshake("https://acme.test").await.expect("request");
    assert_eq!(own.status(), 101);
}

#[tokio::test]
async fn the_session_check_always_answers_200_and_says_who_is_logged_in() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let anonymous: Value = app
        .http
        .get(format!("{}/api/v1/auth/session", app.base))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(anonymous, json!({"authenticated": false, "operator": null}));
    let forged: Value = app
        .get("/api/v1/auth/session", "lh_session=forged")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(forged["authenticated"], false);
    let cookie = app.login(&tenant.operator_email).await;
    let me: Value = app
        .get("/api/v1/auth/session", &cookie)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["authenticated"], true);
    assert_eq!(me["operator"]["display_name"], "Operator");
}

#[tokio::test]
async fn conversation_summaries_name_the_operator_and_carry_their_times() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let (cookie, mut operator) = app.operator_client(&tenant.operator_email).await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
    let conversation = visitor.start_chat().await;
    operator.accept(conversation).await;
    let id = Uuid::new_v4();
    operator
        .send(&ClientFrame::EndChat {
            client_msg_id: id,
            conversation_id: conversation,
        })
        .await;
    operator.ack(id).await;
    let list: ConversationListResponse = app
        .get("/api/v1/conversations?state=ended", &cookie)
        .await
        .json()
        .await
        .expect("json");
    let summary = &list.conversations[0];
    assert_eq!(summary.operator_name.as_deref(), Some("Operator"));
    assert_eq!(summary.end_reason.as_deref(), Some("operator_ended"));
    let (accepted, ended) = (
        summary.accepted_at.expect("accepted_at"),
        summary.ended_at.expect("ended_at"),
    );
    assert!(summary.created_at <= accepted && accepted <= ended);
}

#[tokio::test]
async fn the_demo_shop_is_served_only_in_demo_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = livehelp_store_sqlite::SqliteStore::open(
        &dir.path().join("db.sqlite3"),
        Default::default(),
    )
    .await
    .expect("store");
    let app = livehelp_app::App::new(
        std::sync::Arc::new(store),
        std::sync::Arc::new(livehelp_bus::InProcessBus::new()),
        Default::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server =
        livehelp_server::Server::start(listener, app, livehelp_server::ServerOptions::default())
            .expect("start");
    let base = format!("http://{}", server.local_addr);
    let demo = reqwest::get(format!("{base}/demo/"))
        .await
        .expect("request");
    assert_eq!(demo.status(), 404);
    let console = reqwest::get(format!("{base}/console/"))
        .await
        .expect("request");
    assert_eq!(console.status(), 200);
    server.shutdown().await.expect("shutdown");
}
