//! REST endpoints: visitor sessions, login, health, and their error bodies.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn visitor_sessions_take_any_name_or_none_and_refuse_bad_ones_clearly() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    for name in [
        json!(null),
        json!(""),
        json!("  "),
        json!("X Æ A-12"),
        json!("محمد 🙂"),
        json!("<img src=x onerror=alert(1)>"),
    ] {
        let response = app
            .visitor_session(&tenant.site_key, json!({ "name": name }))
            .await;
        assert_eq!(response.status(), 201, "{name}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["visitor_token"].as_str().map(str::len), Some(64));
        let expected = name.as_str().map(str::trim).filter(|n| !n.is_empty());
        assert_eq!(body["name"].as_str(), expected, "name is kept as given");
        assert_eq!(body["privacy_policy_url"], "https://acme.test/privacy");
    }
    let response = app.visitor_session(&tenant.site_key, json!({})).await;
    assert_eq!(response.status(), 201);

    let cases = [
        (
            app.visitor_session("no-such-site-key", json!({})).await,
            404,
            "site_not_found",
        ),
        (
            app.visitor_session(&tenant.site_key, json!({ "name": "n".repeat(201) }))
                .await,
            413,
            "text_too_long",
        ),
        (
            app.visitor_session(&tenant.site_key, json!({ "name": "a\u{7}b" }))
                .await,
            422,
            "text_invalid",
        ),
        (
            app.visitor_session(&tenant.site_key, json!({ "name": 5 }))
                .await,
            400,
            "invalid_request",
        ),
        (
            app.visitor_session(&tenant.site_key, json!({ "nmae": "typo" }))
                .await,
            400,
            "invalid_request",
        ),
    ];
    for (response, status, code) in cases {
        assert_eq!(response.status(), status);
        let body: Value = response.json().await.expect("json error body");
        assert_eq!(body["code"], code);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let response = app
        .http
        .post(format!(
            "{}/api/v1/sites/{}/visitor-sessions",
            app.base, tenant.site_key
        ))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.expect("json")["code"],
        "invalid_json"
    );
}

#[tokio::test]
async fn a_browser_from_a_foreign_origin_cannot_open_a_visitor_session() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let url = format!(
        "{}/api/v1/sites/{}/visitor-sessions",
        app.base, tenant.site_key
    );
    let foreign = app
        .http
        .post(&url)
        .header("origin", "https://evil.test")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(foreign.status(), 403);
    assert_eq!(
        foreign.json::<Value>().await.expect("json")["code"],
        "origin_not_allowed"
    );
    let own = app
        .http
        .post(&url)
        .header("origin", "https://acme.test")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(own.status(), 201);
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_refuses_wrong_passwords_alike() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let url = format!("{}/api/v1/auth/login", app.base);
    let ok = app
        .http
        .post(&url)
        .json(&json!({"email": tenant.operator_email, "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), 200);
    let cookie = ok.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let body: Value = ok.json().await.expect("json");
    let csrf = body["csrf_token"].as_str().expect("csrf token").to_owned();
    assert_eq!(csrf.len(), 64);
    assert!(cookie.starts_with("lh_session="));
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/")
    );
    for (email, password) in [
        (tenant.operator_email.as_str(), "wrong password!!"),
        ("nobody@acme.test", PASSWORD),
        ("not an email", PASSWORD),
    ] {
        let response = app
            .http
            .post(&url)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.json::<Value>().await.expect("json")["code"],
            "invalid_credentials"
        );
    }
    let pair = cookie.split(';').next().expect("pair").to_owned();
    assert_eq!(app.get("/api/v1/auth/me", &pair).await.status(), 200);
    // A state-changing request without the session's CSRF token is refused (a forged
    // cross-site form would carry the cookie but cannot know the token).
    let forged = app
        .http
        .post(format!("{}/api/v1/auth/logout", app.base))
        .header("cookie", &pair)
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), 403);
    assert_eq!(
        forged.json::<Value>().await.expect("json")["code"],
        "csrf_token_invalid"
    );
    let wrong = app
        .http
        .post(format!("{}/api/v1/auth/logout", app.base))
        .header("cookie", &pair)
        .header("x-csrf-token", "0".repeat(64))
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status(), 403);
    assert_eq!(
        app.get("/api/v1/auth/me", &pair).await.status(),
        200,
        "still logged in"
    );
    let logout = app
        .http
        .post(format!("{}/api/v1/auth/logout", app.base))
        .header("cookie", &pair)
        .header("x-csrf-token", csrf)
        .send()
        .await
        .expect("request");
    assert_eq!(logout.status(), 204);
    let after = app.get("/api/v1/auth/me", &pair).await;
    assert_eq!(after.status(), 401);
    assert_eq!(
        after.json::<Value>().await.expect("json")["code"],
        "unauthorized"
    );
}

#[tokio::test]
async fn sockets_refuse_missing_or_bad_credentials_before_upgrading() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let cookie = app.login(&tenant.operator_email).await;
    let visitor = app
        .http
        .get(format!("{}/api/v1/ws/visitor?token=deadbeef", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(visitor.status(), 401);
    let operator = app.get("/api/v1/ws/operator", "lh_session=forged").await;
    assert_eq!(operator.status(), 401);
    // Cross-site WebSocket hijacking: a foreign page cannot use the operator's cookie.
    let hijack = app
        .http
        .get(format!("{}/api/v1/ws/operator", app.base))
        .header("cookie", &cookie)
        .header("origin", "https://evil.test")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .expect("request");
    assert_eq!(hijack.status(), 403);
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let get = |path: &'static str| app.http.get(format!("{}{path}", app.base)).send();
    assert_eq!(get("/healthz").await.expect("request").status(), 200);
    assert_eq!(get("/readyz").await.expect("request").status(), 200);
    let metrics = get("/metrics")
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(
        metrics.contains("livehelp_messages_committed_total"),
        "{metrics}"
    );
    let missing = get("/no/such/route").await.expect("request");
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.expect("json")["code"],
        "not_found"
    );
}
