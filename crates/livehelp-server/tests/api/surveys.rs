//! Exit surveys (issue 5): the designer, the visitor's submission (once, own conversation,
//! ended only; case BR-15), per-field validation, the under-18 refusal that leaves no
//! trace in the database file, the logs or the metrics, results, CSV and roles.

use std::io::Write;
use std::sync::{Arc, Mutex};

use livehelp_app::{App, AppOptions};
use livehelp_bus::InProcessBus;
use livehelp_domain::Role;
use livehelp_protocol::ClientFrame;
use livehelp_server::{Server, ServerOptions};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::client::WsClient;
use crate::helpers::{TestApp, TestTenant, spawn_app};

/// One question of every type.
fn every_type() -> Value {
    json!({"questions": [
        {"kind": "free_text", "label": "Anything else?"},
        {"kind": "email", "label": "Your email"},
        {"kind": "single_choice", "label": "Found us via", "options": ["Search", "Friend"]},
        {"kind": "multiple_choice", "label": "Topics", "options": ["Billing", "Shipping", "Returns"]},
        {"kind": "rating", "label": "How did we do?", "required": true},
        {"kind": "number", "label": "Orders per year"},
        {"kind": "postal_code", "label": "Zip"},
        {"kind": "age", "label": "Age"},
        {"kind": "birth_date", "label": "Birth date"},
        {"kind": "income_band", "label": "Income", "options": ["< 30k", "30k-60k", "> 60k"]}
    ]})
}

struct Setup {
    tenant: TestTenant,
    admin: (String, String),
    survey_id: String,
    /// Question ids in order.
    ids: Vec<String>,
}

async fn setup(app: &TestApp, name: &str) -> Setup {
    let tenant = app.tenant(name).await;
    let admin_email = format!("admin@{name}.test");
    app.member(tenant.id, &admin_email, "Admin", Role::Admin)
        .await;
    let admin = app.login_with_csrf(&admin_email).await;
    let response = app
        .send_json(Method::POST, "/api/v1/survey", &admin, Some(every_type()))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("json");
    let ids = body["survey"]["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| q["id"].as_str().expect("id").to_owned())
        .collect();
    Setup {
        tenant,
        admin,
        survey_id: body["survey"]["id"].as_str().expect("id").to_owned(),
        ids,
    }
}

/// A visitor whose chat an operator accepted and the visitor ended. Returns the token,
/// the socket and the conversation.
async fn ended_chat(app: &TestApp, tenant: &TestTenant) -> (String, WsClient, Uuid) {
    let (session, mut visitor) = app.visitor(&tenant.site_key, Some("Vee")).await;
    let conversation = chat_and_end(app, tenant, &mut visitor).await;
    (session.visitor_token, visitor, conversation)
}

async fn chat_and_end(app: &TestApp, tenant: &TestTenant, visitor: &mut WsClient) -> Uuid {
    let conversation = visitor.start_chat().await;
    let (_, mut operator) = app.operator_client(&tenant.operator_email).await;
    operator.accept(conversation).await;
    visitor.say(conversation, "hello").await;
    let id = Uuid::new_v4();
    visitor
        .send(&ClientFrame::EndChat {
            client_msg_id: id,
            conversation_id: conversation,
        })
        .await;
    visitor.ack(id).await;
    conversation
}

async fn visitor_get(app: &TestApp, token: &str, conversation: Uuid) -> reqwest::Response {
    app.http
        .get(format!(
            "{}/api/v1/conversations/{conversation}/survey",
            app.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

async fn submit(app: &TestApp, token: &str, conversation: Uuid, body: &Value) -> reqwest::Response {
    app.http
        .post(format!(
            "{}/api/v1/conversations/{conversation}/survey-response",
            app.base
        ))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request")
}

fn body(setup: &Setup, conversation: Uuid, answers: Value) -> Value {
    json!({"conversation_id": conversation, "survey_id": setup.survey_id, "answers": answers})
}

async fn code(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    (status, body)
}

#[tokio::test]
async fn visitor_answers_once_and_the_tenant_sees_answers_and_aggregates() {
    let app = spawn_app().await;
    let setup = setup(&app, "survey-one").await;
    let (token, _socket, conversation) = ended_chat(&app, &setup.tenant).await;
    let (status, offered) = code(visitor_get(&app, &token, conversation).await).await;
    assert_eq!(
        (status, offered["status"].as_str()),
        (200, Some("offered")),
        "{offered}"
    );
    assert_eq!(offered["questions"].as_array().expect("list").len(), 10);
    let ids = &setup.ids;
    let answers = json!({
        ids[0].clone(): "Great \"help\", =thanks",
        ids[1].clone(): "Vee@Example.com",
        ids[2].clone(): "Friend",
        ids[3].clone(): ["Returns", "Billing"],
        ids[4].clone(): 5,
        ids[5].clone(): "12",
        ids[6].clone(): "94107",
        ids[7].clone(): 42,
        ids[8].clone(): "1984-02-29",
        ids[9].clone(): "30k-60k"
    });
    let response = submit(
        &app,
        &token,
        conversation,
        &body(&setup, conversation, answers),
    )
    .await;
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );

    // The transcript view's answers block.
    let operator = app.login(&setup.tenant.operator_email).await;
    let stored: Value = app
        .get(
            &format!("/api/v1/conversations/{conversation}/survey-answers"),
            &operator,
        )
        .await
        .json()
        .await
        .expect("json");
    let values: Vec<&str> = stored["response"]["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .map(|a| a["value"].as_str().expect("value"))
        .collect();
    assert_eq!(
        values,
        [
            "Great \"help\", =thanks",
            "vee@example.com",
            "Friend",
            "Billing\nReturns",
            "5",
            "12",
            "94107",
            "42",
            "1984-02-29",
            "30k-60k"
        ]
    );

    // Aggregates for the admin; a plain operator may not read them.
    let results: Value = app
        .get("/api/v1/survey-results", &setup.admin.0)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(results["responses"], 1);
    assert_eq!(results["refused_under_18"], 0);
    let rating = &results["versions"][0]["questions"][4];
    assert_eq!(rating["average"], 5.0);
    assert_eq!(rating["csat_percent"], 100.0);
    assert_eq!(rating["distribution"][4], json!(["5", 1]));
    let topics = &results["versions"][0]["questions"][3];
    assert_eq!(
        topics["distribution"],
        json!([["Billing", 1], ["Shipping", 0], ["Returns", 1]])
    );
    assert_eq!(
        app.get("/api/v1/survey-results", &operator).await.status(),
        403
    );
    let supervisor_email = "sup@survey-one.test";
    app.member(setup.tenant.id, supervisor_email, "Sup", Role::Supervisor)
        .await;
    let supervisor = app.login(supervisor_email).await;
    assert_eq!(
        app.get("/api/v1/survey-results", &supervisor)
            .await
            .status(),
        200
    );

    // CSV: quoted, quotes doubled, formulas defused.
    let csv = app
        .get("/api/v1/survey-results.csv", &supervisor)
        .await
        .text()
        .await
        .expect("text");
    assert!(csv.starts_with("\"submitted_at\",\"conversation_id\""));
    assert!(csv.contains("\"Great \"\"help\"\", =thanks\""), "{csv}");
    assert!(csv.contains("\"Billing\nReturns\""));

    // Bad ranges are clear errors.
    let (status, bad) = code(
        app.get("/api/v1/survey-results?from=yesterday", &supervisor)
            .await,
    )
    .await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn br15_survey_is_answered_once_per_conversation_and_bound_to_it() {
    let app = spawn_app().await;
    let setup = setup(&app, "survey-br15").await;
    let rating = setup.ids[4].clone();
    let (token, mut socket, c1) = ended_chat(&app, &setup.tenant).await;

    // (a) Two tabs submit 5 and 1 at the same time: exactly one is stored.
    let five = body(&setup, c1, json!({rating.clone(): 5}));
    let one = body(&setup, c1, json!({rating.clone(): 1}));
    let (first, second) = tokio::join!(
        submit(&app, &token, c1, &five),
        submit(&app, &token, c1, &one)
    );
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
    let loser = if first.status() == 409 { first } else { second };
    let (_, error) = code(loser).await;
    assert_eq!(error["code"], "survey_already_submitted");

    // (b) A double click: the second gets 409 and the first answer stays.
    let operator = app.login(&setup.tenant.operator_email).await;
    let before: Value = app
        .get(
            &format!("/api/v1/conversations/{c1}/survey-answers"),
            &operator,
        )
        .await
        .json()
        .await
        .expect("json");
    let (status, error) = code(submit(&app, &token, c1, &five).await).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (409, Some("survey_already_submitted"))
    );
    let after: Value = app
        .get(
            &format!("/api/v1/conversations/{c1}/survey-answers"),
            &operator,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(before, after);

    // (c) "thanks" after the close does not reopen C, and C is not offered again.
    let id = Uuid::new_v4();
    socket
        .send(&ClientFrame::SendMessage {
            client_msg_id: id,
            conversation_id: c1,
            text: "thanks".into(),
        })
        .await;
    assert_eq!(socket.error_code(Some(id)).await, "conversation_ended");
    let (status, offer) = code(visitor_get(&app, &token, c1).await).await;
    assert_eq!(
        (status, offer["status"].as_str()),
        (200, Some("survey_already_submitted"))
    );
    assert_eq!(offer["questions"], json!([]));

    // (d) The next chat C2 ends; C's survey sent to C2 is refused, C2's own is fine.
    let c2 = chat_and_end(&app, &setup.tenant, &mut socket).await;
    let (status, error) = code(submit(&app, &token, c2, &one).await).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (422, Some("survey_conversation_mismatch"))
    );
    let own = body(&setup, c2, json!({rating.clone(): 4}));
    assert_eq!(submit(&app, &token, c2, &own).await.status(), 201);

    // Reports count each response once.
    let results: Value = app
        .get("/api/v1/survey-results", &setup.admin.0)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(results["responses"], 2);
}

#[tokio::test]
async fn only_own_ended_conversations_and_no_thanks_stores_nothing() {
    let app = spawn_app().await;
    let setup = setup(&app, "survey-own").await;
    let rating = setup.ids[4].clone();
    // An active conversation.
    let (session, mut visitor) = app.visitor(&setup.tenant.site_key, None).await;
    let active = visitor.start_chat().await;
    let (status, offer) = code(visitor_get(&app, &session.visitor_token, active).await).await;
    assert_eq!(
        (status, offer["status"].as_str()),
        (200, Some("survey_conversation_open"))
    );
    let (status, error) = code(
        submit(
            &app,
            &session.visitor_token,
            active,
            &body(&setup, active, json!({rating.clone(): 3})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (409, Some("survey_conversation_open"))
    );

    // Another visitor's ended conversation answers like a missing one.
    let (_, _socket, theirs) = ended_chat(&app, &setup.tenant).await;
    for conversation in [theirs, Uuid::new_v4()] {
        let (status, error) =
            code(visitor_get(&app, &session.visitor_token, conversation).await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (404, Some("conversation_not_found"))
        );
        let (status, error) = code(
            submit(
                &app,
                &session.visitor_token,
                conversation,
                &body(&setup, conversation, json!({rating.clone(): 3})),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, error["code"].as_str()),
            (404, Some("conversation_not_found"))
        );
    }
    // No token.
    let response = app
        .http
        .get(format!("{}/api/v1/conversations/{theirs}/survey", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);

    // "No thanks" is the widget not calling anything: nothing is stored for `theirs`.
    let operator = app.login(&setup.tenant.operator_email).await;
    let stored: Value = app
        .get(
            &format!("/api/v1/conversations/{theirs}/survey-answers"),
            &operator,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stored["response"], Value::Null);
    let results: Value = app
        .get("/api/v1/survey-results", &setup.admin.0)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(results["responses"], 0);
}

#[tokio::test]
async fn no_survey_set_up_offers_none() {
    let app = spawn_app().await;
    let tenant = app.tenant("survey-none").await;
    let (token, _socket, conversation) = ended_chat(&app, &tenant).await;
    let (status, offer) = code(visitor_get(&app, &token, conversation).await).await;
    assert_eq!(
        (status, offer["status"].as_str()),
        (200, Some("survey_not_found"))
    );
    let answer =
        json!({"conversation_id": conversation, "survey_id": Uuid::new_v4(), "answers": {}});
    let (status, error) = code(submit(&app, &token, conversation, &answer).await).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (422, Some("survey_conversation_mismatch"))
    );
}

#[tokio::test]
async fn bad_answers_get_per_field_errors_and_nothing_is_stored() {
    let app = spawn_app().await;
    let setup = setup(&app, "survey-bad").await;
    let (token, _socket, conversation) = ended_chat(&app, &setup.tenant).await;
    let ids = &setup.ids;
    let cases: Vec<(Value, String)> = vec![
        (json!({ids[1].clone(): "no-at-sign"}), ids[1].clone()),
        (json!({ids[0].clone(): "x".repeat(100_000)}), ids[0].clone()),
        (json!({"not-a-question": "x"}), "not-a-question".into()),
        (json!({ids[2].clone(): "Billboard"}), ids[2].clone()),
        (
            json!({ids[3].clone(): ["Billing", "Cheese"]}),
            ids[3].clone(),
        ),
        (json!({ids[4].clone(): 6}), ids[4].clone()),
        (json!({ids[4].clone(): 0}), ids[4].clone()),
        (json!({ids[7].clone(): -1}), ids[7].clone()),
        (json!({ids[7].clone(): 250}), ids[7].clone()),
        (json!({ids[7].clone(): "17.9"}), ids[7].clone()),
        (json!({ids[5].clone(): "twelve"}), ids[5].clone()),
        (json!({ids[6].clone(): "!!!"}), ids[6].clone()),
        (json!({ids[8].clone(): "2090-01-01"}), ids[8].clone()),
        (json!({ids[9].clone(): "a million"}), ids[9].clone()),
    ];
    for (answers, field) in cases {
        let mut answers = answers;
        // The required rating, unless the case is about it.
        if field != ids[4] {
            answers[ids[4].as_str()] = json!(4);
        }
        let (status, error) = code(
            submit(
                &app,
                &token,
                conversation,
                &body(&setup, conversation, answers),
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "{field}: {error}");
        assert_eq!(error["code"], "survey_invalid");
        assert!(
            error["fields"][field.as_str()].is_string(),
            "{field}: {error}"
        );
    }
    // The required question missing.
    let (status, error) = code(
        submit(
            &app,
            &token,
            conversation,
            &body(&setup, conversation, json!({})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(error["fields"][ids[4].as_str()].is_string());
    // Over the route's body limit (256 KiB): a clear error, not a crash.
    let huge = body(
        &setup,
        conversation,
        json!({ids[0].clone(): "x".repeat(300_000)}),
    );
    let (status, error) = code(submit(&app, &token, conversation, &huge).await).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    // An unknown survey version is not this conversation's.
    let wrong =
        json!({"conversation_id": conversation, "survey_id": Uuid::new_v4(), "answers": {}});
    let (status, error) = code(submit(&app, &token, conversation, &wrong).await).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (422, Some("survey_conversation_mismatch"))
    );
    // After all of that, a good submission is still the first one.
    let good = body(&setup, conversation, json!({ids[4].clone(): 2}));
    assert_eq!(
        submit(&app, &token, conversation, &good).await.status(),
        201
    );
}

#[tokio::test]
async fn designer_rules_versions_and_roles() {
    let app = spawn_app().await;
    let setup = setup(&app, "survey-design").await;
    // Reading: admin and supervisor; saving: admin only.
    let operator = app.login_with_csrf(&setup.tenant.operator_email).await;
    assert_eq!(app.get("/api/v1/survey", &operator.0).await.status(), 403);
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/survey",
            &operator,
            Some(every_type()),
        )
        .await;
    assert_eq!(response.status(), 403);
    // Bad designs.
    for bad in [
        json!({"questions": [{"kind": "colour", "label": "Q"}]}),
        json!({"questions": [{"kind": "single_choice", "label": "Q"}]}),
        json!({"questions": [{"kind": "rating", "label": ""}]}),
        json!({"questions": [{"kind": "rating", "label": "Q", "options": ["a"]}]}),
        json!({"site_id": Uuid::new_v4(), "questions": []}),
    ] {
        let response = app
            .send_json(
                Method::POST,
                "/api/v1/survey",
                &setup.admin,
                Some(bad.clone()),
            )
            .await;
        assert!(
            matches!(response.status().as_u16(), 400 | 404),
            "{bad}: {}",
            response.status()
        );
    }
    // A new version; past answers keep the version they answered.
    let (token, _socket, conversation) = ended_chat(&app, &setup.tenant).await;
    let old = body(&setup, conversation, json!({setup.ids[4].clone(): 3}));
    let saved: Value = app
        .send_json(
            Method::POST,
            "/api/v1/survey",
            &setup.admin,
            Some(json!({"questions": [{"kind": "rating", "label": "Rate us again", "required": true}]})),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(saved["survey"]["version"], 2);
    // The version the visitor was shown is still accepted.
    assert_eq!(submit(&app, &token, conversation, &old).await.status(), 201);
    let current: Value = app
        .get("/api/v1/survey", &setup.admin.0)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(current["survey"]["version"], 2);
    let operator_cookie = app.login(&setup.tenant.operator_email).await;
    let stored: Value = app
        .get(
            &format!("/api/v1/conversations/{conversation}/survey-answers"),
            &operator_cookie,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stored["response"]["survey_version"], 1);
    assert_eq!(stored["response"]["answers"][0]["label"], "How did we do?");
}

#[tokio::test]
async fn platform_questions_are_asked_and_their_answers_kept_from_the_tenant() {
    let app = spawn_app().await;
    let setup = setup(&app, "survey-platform").await;
    let question = app
        .app
        .add_platform_question(
            livehelp_app::QuestionInput {
                kind: "single_choice".into(),
                label: "Was the chat tool easy?".into(),
                required: false,
                options: vec!["PLATFORM-YES".into(), "PLATFORM-NO".into()],
            },
            OffsetDateTime::now_utc(),
        )
        .await
        .expect("added");
    let (token, _socket, conversation) = ended_chat(&app, &setup.tenant).await;
    let (_, offered) = code(visitor_get(&app, &token, conversation).await).await;
    let offered_ids: Vec<&str> = offered["questions"]
        .as_array()
        .expect("list")
        .iter()
        .map(|q| q["id"].as_str().expect("id"))
        .collect();
    assert_eq!(offered_ids.last(), Some(&question.id.to_string().as_str()));
    let answers = json!({setup.ids[4].clone(): 4, question.id.to_string(): "PLATFORM-NO"});
    assert_eq!(
        submit(
            &app,
            &token,
            conversation,
            &body(&setup, conversation, answers)
        )
        .await
        .status(),
        201
    );
    // The platform reads it (CLI path); no tenant route shows it.
    let now = OffsetDateTime::now_utc();
    let platform = app
        .app
        .platform_answers(
            now - time::Duration::hours(1),
            now + time::Duration::hours(1),
        )
        .await
        .expect("answers");
    assert!(platform.iter().any(|answer| answer.value == "PLATFORM-NO"));
    for path in [
        format!("/api/v1/conversations/{conversation}/survey-answers"),
        "/api/v1/survey-results".to_owned(),
        "/api/v1/survey-results.csv".to_owned(),
    ] {
        let text = app
            .get(&path, &setup.admin.0)
            .await
            .text()
            .await
            .expect("text");
        assert!(!text.contains("PLATFORM-NO"), "{path}: {text}");
        assert!(!text.contains("Was the chat tool easy?"), "{path}: {text}");
    }
}

/// A writer into a shared buffer, for capturing the server's log output.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn under_18_is_refused_whole_and_leaves_no_trace() {
    // Everything the server logs, at every level, while this test runs on this thread
    // (a current-thread runtime: the server's tasks run here too).
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("under18.sqlite3");
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .expect("store opens");
    let app_core = App::new(
        Arc::new(store),
        Arc::new(InProcessBus::new()),
        AppOptions::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = Server::start(
        listener,
        app_core.clone(),
        ServerOptions {
            demo_page: true,
            ..ServerOptions::default()
        },
    )
    .expect("server starts");
    let app = TestApp::from_parts(format!("http://{}", server.local_addr), app_core);
    let setup = setup(&app, "survey-minor").await;
    let ids = &setup.ids;
    let today = OffsetDateTime::now_utc().date();
    let born_17y364d = today
        .replace_year(today.year() - 18)
        .unwrap_or(today)
        .next_day()
        .expect("a day");
    let born_18y = today.replace_year(today.year() - 18).unwrap_or(today);

    let mut secrets = Vec::new();
    for (index, age_answer) in [
        (ids[7].clone(), json!(17)),
        (ids[8].clone(), json!(born_17y364d.to_string())),
    ]
    .into_iter()
    .enumerate()
    {
        let (token, _socket, conversation) = ended_chat(&app, &setup.tenant).await;
        let unique = Uuid::new_v4().simple().to_string();
        let email = format!("minor{index}-{unique}@kids.example");
        let zip = format!("Z{}", &unique[..8]).to_uppercase();
        let text = format!("MINOR-TEXT-{unique}");
        secrets.extend([email.clone(), zip.clone(), text.clone(), unique.clone()]);
        let answers = json!({
            ids[0].clone(): text,
            ids[1].clone(): email,
            ids[4].clone(): 5,
            ids[6].clone(): zip,
            age_answer.0: age_answer.1,
        });
        let (status, error) = code(
            submit(
                &app,
                &token,
                conversation,
                &body(&setup, conversation, answers),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, error["code"].as_str()),
            (422, Some("survey_refused_under_18")),
            "{error}"
        );
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("under 18"))
        );
        // Still open for a (truthful) later answer? Nothing was stored, so no 409.
        let operator = app.login(&setup.tenant.operator_email).await;
        let stored: Value = app
            .get(
                &format!("/api/v1/conversations/{conversation}/survey-answers"),
                &operator,
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(stored["response"], Value::Null);
    }

    // Age 18 today, and a birth date exactly 18 years ago: accepted.
    let (token, _socket, conversation) = ended_chat(&app, &setup.tenant).await;
    let adult =
        json!({ids[4].clone(): 4, ids[7].clone(): 18, ids[8].clone(): born_18y.to_string()});
    let response = submit(
        &app,
        &token,
        conversation,
        &body(&setup, conversation, adult),
    )
    .await;
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );

    // Only the anonymous counter moved.
    let results: Value = app
        .get("/api/v1/survey-results", &setup.admin.0)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(results["refused_under_18"], 2);
    assert_eq!(results["responses"], 1);
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");

    server.shutdown().await.expect("clean shutdown");
    let mut database = std::fs::read(&path).expect("database file");
    if let Ok(wal) = std::fs::read(dir.path().join("under18.sqlite3-wal")) {
        database.extend(wal);
    }
    let logs = captured.0.lock().expect("logs").clone();
    assert!(!logs.is_empty(), "the log capture works");
    for secret in &secrets {
        for (what, haystack) in [
            ("database", &database),
            ("logs", &logs),
            ("metrics", &metrics.as_bytes().to_vec()),
        ] {
            let needle = secret.as_bytes();
            let lower = secret.to_lowercase();
            let found = haystack
                .windows(needle.len())
                .any(|window| window == needle || window == lower.as_bytes());
            assert!(!found, "{secret} found in the {what}");
        }
    }
}
