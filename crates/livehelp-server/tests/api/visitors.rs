//! Visitor tracking (issue 6): anonymous page-view tallies and their refusals (all or
//! nothing), kept query parameters, IP anonymisation down to the database file's bytes,
//! the page trail with Do-Not-Track and its retention, and who may read or change what.

use std::sync::Arc;

use livehelp_app::App;
use livehelp_bus::InProcessBus;
use livehelp_domain::Role;
use livehelp_protocol::ClientFrame;
use livehelp_protocol::rest::{SessionListResponse, VisitorInfoResponse, VisitorSessionResponse};
use livehelp_protocol::visitors::{PageTrailResponse, PageViewTallyResponse};
use livehelp_server::{Server, ServerOptions};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::WsClient;
use crate::helpers::{TestApp, spawn_app};

/// Posts a page-view batch the way `sendBeacon` does: a `text/plain` body, the page's
/// `Origin`.
async fn beacon(app: &TestApp, site_key: &str, origin: &str, body: &str) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}/api/v1/sites/{site_key}/page-views", app.base))
        .header("content-type", "text/plain;charset=UTF-8")
        .header("origin", origin)
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn views(urls: &[&str]) -> String {
    json!({
        "views": urls.iter().map(|url| json!({"url": url, "title": "A page", "referrer": "https://search.test/?q=x"})).collect::<Vec<_>>()
    })
    .to_string()
}

fn today() -> String {
    let day = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

async fn tallies(app: &TestApp, cookie: &str) -> Vec<(String, u64)> {
    let response = app
        .get(
            &format!("/api/v1/page-views?from={}&to={}", today(), today()),
            cookie,
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: PageViewTallyResponse = response.json().await.expect("json");
    body.tallies
        .into_iter()
        .map(|tally| (tally.url, tally.views))
        .collect()
}

#[tokio::test]
async fn page_views_are_counted_per_page_without_query_or_fragment() {
    let app = spawn_app().await;
    let alpha = app.tenant("alpha").await;
    let origin = "https://alpha.test";
    let (status, body) = beacon(
        &app,
        &alpha.site_key,
        origin,
        &views(&[
            "https://alpha.test/shoes?session=s3cret#reviews",
            "https://alpha.test/shoes",
            "https://alpha.test/cart?email=ann@example.test",
        ]),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["counted"], 3);
    let (status, _) = beacon(
        &app,
        &alpha.site_key,
        origin,
        &views(&["https://alpha.test/shoes"]),
    )
    .await;
    assert_eq!(status, 202);

    let cookie = app.login(&alpha.operator_email).await;
    assert_eq!(
        tallies(&app, &cookie).await,
        vec![
            ("https://alpha.test/cart".to_owned(), 1),
            ("https://alpha.test/shoes".to_owned(), 3),
        ],
        "query strings and fragments are never counted"
    );

    // An admin lets the site keep `q`: only that parameter survives.
    app.member(alpha.id, "admin@alpha.test", "Admin", Role::Admin)
        .await;
    let admin = app.login_with_csrf("admin@alpha.test").await;
    let sites: Value = app
        .send_json(Method::GET, "/api/v1/sites", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    let site_id = sites["sites"][0]["id"]
        .as_str()
        .expect("site id")
        .to_owned();
    let response = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/sites/{site_id}/query-params"),
            &admin,
            Some(json!({ "params": ["q", "q"] })),
        )
        .await;
    assert_eq!(response.status(), 200);
    let saved: Value = response.json().await.expect("json");
    assert_eq!(saved["params"], json!(["q"]));
    let (status, _) = beacon(
        &app,
        &alpha.site_key,
        origin,
        &views(&["https://alpha.test/search?token=abc&q=red+shoes#top"]),
    )
    .await;
    assert_eq!(status, 202);
    assert!(
        tallies(&app, &cookie)
            .await
            .contains(&("https://alpha.test/search?q=red+shoes".to_owned(), 1))
    );
    // A plain operator may not change what is kept.
    let operator = app.login_with_csrf(&alpha.operator_email).await;
    let response = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/sites/{site_id}/query-params"),
            &operator,
            Some(json!({ "params": ["token"] })),
        )
        .await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn bad_batches_are_refused_with_stable_codes_and_counted_nowhere() {
    let app = spawn_app().await;
    let alpha = app.tenant("alpha").await;
    let bravo = app.tenant("bravo").await;
    let origin = "https://alpha.test";
    let page = "https://alpha.test/page";
    let too_many: Vec<&str> = vec![page; 21];
    let long = format!("https://alpha.test/{}", "x".repeat(2100));
    let cases: Vec<(&str, String, String, u16, &str)> = vec![
        (
            "too large",
            alpha.site_key.clone(),
            views(&too_many),
            413,
            "page_view_batch_too_large",
        ),
        (
            "empty",
            alpha.site_key.clone(),
            views(&[]),
            413,
            "page_view_batch_too_large",
        ),
        (
            "malformed",
            alpha.site_key.clone(),
            "{\"views\": [".into(),
            400,
            "invalid_json",
        ),
        (
            "not json",
            alpha.site_key.clone(),
            "views=1".into(),
            400,
            "invalid_json",
        ),
        (
            "wrong shape",
            alpha.site_key.clone(),
            "{\"views\": \"/page\"}".into(),
            400,
            "invalid_request",
        ),
        (
            "one bad view among good ones",
            alpha.site_key.clone(),
            views(&[page, "javascript:alert(1)", page]),
            422,
            "page_view_invalid",
        ),
        (
            "a page of another origin",
            alpha.site_key.clone(),
            views(&[page, "https://bravo.test/page"]),
            422,
            "page_view_invalid",
        ),
        (
            "an address too long",
            alpha.site_key.clone(),
            views(&[page, &long]),
            422,
            "page_view_invalid",
        ),
        (
            "another site's key",
            bravo.site_key.clone(),
            views(&[page]),
            403,
            "origin_not_allowed",
        ),
        (
            "an unknown key",
            "no-such-site-key".into(),
            views(&[page]),
            404,
            "site_not_found",
        ),
    ];
    for (what, key, body, status, code) in cases {
        let (got, answer) = beacon(&app, &key, origin, &body).await;
        assert_eq!(got, status, "{what}: {answer}");
        assert_eq!(answer["code"], code, "{what}: {answer}");
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: a message says why"
        );
    }
    // The body limit answers in JSON too.
    let (got, answer) = beacon(&app, &alpha.site_key, origin, &"x".repeat(70 * 1024)).await;
    assert_eq!(got, 413);
    assert_eq!(answer["code"], "payload_too_large");

    for tenant in [&alpha, &bravo] {
        let cookie = app.login(&tenant.operator_email).await;
        assert!(
            tallies(&app, &cookie).await.is_empty(),
            "a refused batch is counted nowhere"
        );
    }
    // The same good batch is counted once accepted (the refusals were about the batch).
    let (got, _) = beacon(&app, &alpha.site_key, origin, &views(&[page, page])).await;
    assert_eq!(got, 202);
    let cookie = app.login(&alpha.operator_email).await;
    assert_eq!(tallies(&app, &cookie).await, vec![(page.to_owned(), 2)]);
}

#[tokio::test]
async fn anonymised_ips_end_in_zero_and_the_full_ip_is_nowhere_in_the_database_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(
        &dir.path().join("livehelp.sqlite3"),
        SqliteOptions::default(),
    )
    .await
    .expect("store");
    let app = App::new(
        Arc::new(store),
        Arc::new(InProcessBus::new()),
        livehelp_app::AppOptions::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = Server::start(
        listener,
        app.clone(),
        ServerOptions {
            trusted_proxies: vec!["127.0.0.1/32".parse().expect("cidr")],
            ..ServerOptions::default()
        },
    )
    .expect("server");
    let test = TestApp::from_parts(format!("http://{}", server.local_addr), app);
    let alpha = test.tenant("alpha").await;
    test.member(alpha.id, "admin@alpha.test", "Admin", Role::Admin)
        .await;

    let visitor_from = |ip: &'static str| {
        let test = &test;
        let key = alpha.site_key.clone();
        async move {
            let response = test
                .http
                .post(format!("{}/api/v1/sites/{key}/visitor-sessions", test.base))
                .header("x-forwarded-for", ip)
                .json(&json!({}))
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 201);
            response
                .json::<VisitorSessionResponse>()
                .await
                .expect("json")
        }
    };
    // Before the switch: whole addresses are kept (and findable in the file: the check
    // below could see one).
    let before = visitor_from("192.0.2.55").await;

    // Only an admin may turn it on.
    let operator = test.login_with_csrf(&alpha.operator_email).await;
    let refused = test
        .send_json(
            Method::PUT,
            "/api/v1/tracking-settings",
            &operator,
            Some(json!({ "anonymize_ips": true, "trail_retention_days": 30 })),
        )
        .await;
    assert_eq!(refused.status(), 403);
    let admin = test.login_with_csrf("admin@alpha.test").await;
    let response = test
        .send_json(
            Method::PUT,
            "/api/v1/tracking-settings",
            &admin,
            Some(json!({ "anonymize_ips": true, "trail_retention_days": 30 })),
        )
        .await;
    assert_eq!(response.status(), 200);
    let bad = test
        .send_json(
            Method::PUT,
            "/api/v1/tracking-settings",
            &admin,
            Some(json!({ "anonymize_ips": true, "trail_retention_days": 0 })),
        )
        .await;
    assert_eq!(bad.status(), 400);

    let after = visitor_from("203.0.113.77").await;
    let v6 = visitor_from("2001:db8:abcd:1234:5678:9abc:def0:4321").await;
    // An operator logging in from a full address: their session's IP is cut too.
    let login = test
        .http
        .post(format!("{}/api/v1/auth/login", test.base))
        .header("x-forwarded-for", "198.51.100.23")
        .json(&json!({ "email": alpha.operator_email, "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .expect("cookie")
        .to_owned();
    let sessions: SessionListResponse = test
        .get("/api/v1/auth/sessions", &cookie)
        .await
        .json()
        .await
        .expect("json");
    let current = sessions
        .sessions
        .iter()
        .find(|session| session.current)
        .expect("current session");
    assert_eq!(current.ip.as_deref(), Some("198.51.100.0"));

    // The console's visitor panel shows the cut address.
    let mut ips = Vec::new();
    for visitor in [&before, &after, &v6] {
        let mut socket = WsClient::visitor(&test.base, &visitor.visitor_token).await;
        let conversation = socket.start_chat().await;
        let info: VisitorInfoResponse = test
            .get(
                &format!("/api/v1/conversations/{conversation}/visitor"),
                &cookie,
            )
            .await
            .json()
            .await
            .expect("json");
        ips.push(info.ip.unwrap_or_default());
        socket.close().await;
    }
    assert_eq!(ips, vec!["192.0.2.55", "203.0.113.0", "2001:db8:abcd::"]);

    server.shutdown().await.expect("clean shutdown");
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("dir") {
        let path = entry.expect("entry").path();
        bytes.extend(std::fs::read(&path).expect("file"));
    }
    let contains = |needle: &str| {
        bytes
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    };
    assert!(contains("192.0.2.55"), "the check can see a stored address");
    assert!(contains("203.0.113.0"));
    for full in [
        "203.0.113.77",
        "198.51.100.23",
        "2001:db8:abcd:1234",
        "def0:4321",
    ] {
        assert!(!contains(full), "{full} is in the database files");
    }
}

#[tokio::test]
async fn the_page_trail_respects_do_not_track_and_expires_after_the_retention_period() {
    let app = spawn_app().await;
    let alpha = app.tenant("alpha").await;
    let bravo = app.tenant("bravo").await;
    let (tracked, mut tracked_socket) = app.visitor(&alpha.site_key, None).await;
    let (private, mut private_socket) = app.visitor(&alpha.site_key, None).await;
    for (socket, dnt) in [(&mut tracked_socket, false), (&mut private_socket, true)] {
        for path in ["/", "/shoes?token=s3cret", "/cart#pay"] {
            socket
                .send(&ClientFrame::PageView {
                    url: format!("https://alpha.test{path}"),
                    title: Some(format!("Alpha {path}")),
                    referrer: Some("https://search.test/results?q=alpha".into()),
                    dnt,
                })
                .await;
        }
        // A ping answered means the page views before it were handled.
        socket.send(&ClientFrame::Ping {}).await;
        socket
            .wait_for("pong", |frame| {
                matches!(frame, livehelp_protocol::ServerFrame::Pong {})
            })
            .await;
    }
    let cookie = app.login(&alpha.operator_email).await;
    let trail = |visitor: uuid::Uuid, cookie: String| {
        let app = &app;
        async move {
            let response = app
                .get(&format!("/api/v1/visitors/{visitor}/page-trail"), &cookie)
                .await;
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        }
    };
    let (status, body) = trail(tracked.visitor_id, cookie.clone()).await;
    assert_eq!(status, 200, "{body}");
    let pages: PageTrailResponse = serde_json::from_str(&body).expect("json");
    let urls: Vec<&str> = pages.pages.iter().map(|page| page.url.as_str()).collect();
    assert_eq!(
        urls,
        vec![
            "https://alpha.test/",
            "https://alpha.test/shoes",
            "https://alpha.test/cart"
        ]
    );
    assert_eq!(
        pages.pages[1].title.as_deref(),
        Some("Alpha /shoes?token=s3cret")
    );
    assert_eq!(
        pages.pages[0].referrer.as_deref(),
        Some("https://search.test/results")
    );
    let (_, body) = trail(private.visitor_id, cookie.clone()).await;
    let pages: PageTrailResponse = serde_json::from_str(&body).expect("json");
    assert!(pages.pages.is_empty(), "Do-Not-Track: no trail");

    // Another tenant's operator cannot read it.
    let bravo_cookie = app.login(&bravo.operator_email).await;
    let (status, body) = trail(tracked.visitor_id, bravo_cookie).await;
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("alpha.test/shoes"));

    // Retention: after 2 days, a 1-day period deletes the trail; the default 30 days
    // keeps it.
    let now = time::OffsetDateTime::now_utc();
    app.app
        .expire_page_trails(now + time::Duration::days(2))
        .await
        .expect("expiry");
    let (_, body) = trail(tracked.visitor_id, cookie.clone()).await;
    let pages: PageTrailResponse = serde_json::from_str(&body).expect("json");
    assert_eq!(pages.pages.len(), 3, "kept within 30 days");
    app.member(alpha.id, "admin@alpha.test", "Admin", Role::Admin)
        .await;
    let admin = app.login_with_csrf("admin@alpha.test").await;
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/tracking-settings",
            &admin,
            Some(json!({ "anonymize_ips": false, "trail_retention_days": 1 })),
        )
        .await;
    assert_eq!(response.status(), 200);
    let settings: Value = app
        .send_json(Method::GET, "/api/v1/tracking-settings", &admin, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(settings["trail_retention_days"], 1);
    let deleted = app
        .app
        .expire_page_trails(now + time::Duration::days(2))
        .await
        .expect("expiry");
    assert_eq!(deleted, 3);
    let (_, body) = trail(tracked.visitor_id, cookie).await;
    let pages: PageTrailResponse = serde_json::from_str(&body).expect("json");
    assert!(pages.pages.is_empty(), "expired after the retention period");
}

/// The report's "page views per page" (M7, M18) adds up the tallies of the range per page,
/// most viewed first, and the `pages` CSV says the same; another tenant's report has
/// none of them.
#[tokio::test]
async fn the_report_lists_page_views_per_page() {
    let app = spawn_app().await;
    let alpha = app.tenant("alpha").await;
    let beta = app.tenant("beta").await;
    let origin = "https://alpha.test";
    for batch in [
        vec!["https://alpha.test/lamps", "https://alpha.test/mugs"],
        vec![
            "https://alpha.test/lamps?ref=mail",
            "https://alpha.test/lamps#top",
        ],
    ] {
        let (status, body) = beacon(&app, &alpha.site_key, origin, &views(&batch)).await;
        assert_eq!(status, 202, "{body}");
    }
    app.member(alpha.id, "admin@alpha.test", "Ada", Role::Admin)
        .await;
    app.member(beta.id, "admin@beta.test", "Bea", Role::Admin)
        .await;
    let range = format!("from={}&to={}", today(), today());

    let cookie = app.login("admin@alpha.test").await;
    let response = app.get(&format!("/api/v1/reports?{range}"), &cookie).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.expect("json");
    let pages: Vec<(String, u64)> = report["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|page| {
            (
                page["url"].as_str().expect("url").to_owned(),
                page["views"].as_u64().expect("views"),
            )
        })
        .collect();
    assert_eq!(
        pages,
        vec![
            ("https://alpha.test/lamps".to_owned(), 3),
            ("https://alpha.test/mugs".to_owned(), 1),
        ]
    );
    assert!(
        report["tables"]
            .as_array()
            .expect("tables")
            .contains(&json!("pages"))
    );
    let csv = app
        .get(&format!("/api/v1/reports/pages.csv?{range}"), &cookie)
        .await;
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.expect("text");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].contains("page") && lines[0].contains("views"),
        "{csv}"
    );
    assert!(
        lines[1].contains("https://alpha.test/lamps") && lines[1].ends_with("\"3\""),
        "{csv}"
    );

    let cookie = app.login("admin@beta.test").await;
    let response = app.get(&format!("/api/v1/reports?{range}"), &cookie).await;
    let report: Value = response.json().await.expect("json");
    assert_eq!(
        report["pages"],
        json!([]),
        "another tenant's pages never show"
    );
}
