//! Reports (issue 6 item 6, M18): figures checked against conversations written with
//! known instants (first response and length medians and 90th percentiles computed by
//! hand below), an empty range, a single day, CSV, bad ranges, roles, and another tenant's
//! conversations never counted.

use std::collections::BTreeMap;

use livehelp_app::{OperatorPrincipal, Principal, QuestionInput, SurveySubmission};
use livehelp_domain::{ConversationId, OperatorId, RawAnswer, Role, TenantId};
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

/// Writes one conversation for a new visitor: created at `created`; when `answered_by`
/// is given, that operator accepts it at +`accept` s and writes at +`reply` s (and again
/// 5 s later); it ends at +`end` s (by the operator when answered, else by the visitor).
#[allow(clippy::too_many_arguments)]
async fn conversation(
    app: &TestApp,
    site_key: &str,
    created: OffsetDateTime,
    answered_by: Option<&OperatorPrincipal>,
    accept: i64,
    reply: i64,
    end: Option<i64>,
) -> (ConversationId, livehelp_app::VisitorPrincipal) {
    let session: Value = app
        .visitor_session(site_key, json!({}))
        .await
        .json()
        .await
        .expect("json");
    let visitor = app
        .app
        .authenticate_visitor(session["visitor_token"].as_str().expect("token"))
        .await
        .expect("visitor");
    let opened = app
        .app
        .start_chat(&visitor, Uuid::new_v4(), None, None, created)
        .await
        .expect("chat");
    let id = opened.conversation.id;
    let at = |seconds: i64| created + Duration::seconds(seconds);
    if let Some(operator) = answered_by {
        app.app
            .accept(operator, id, Uuid::new_v4(), at(accept))
            .await
            .expect("accept");
        let principal = Principal::Operator(operator.clone());
        for (text, seconds) in [("Hello!", reply), ("Anything else?", reply + 5)] {
            app.app
                .send_message(&principal, id, Uuid::new_v4(), text.into(), at(seconds))
                .await
                .expect("reply");
        }
        if let Some(end) = end {
            app.app
                .end_chat(&principal, id, Uuid::new_v4(), at(end))
                .await
                .expect("end");
        }
    } else if let Some(end) = end {
        app.app
            .end_chat(
                &Principal::Visitor(visitor.clone()),
                id,
                Uuid::new_v4(),
                at(end),
            )
            .await
            .expect("end");
    }
    (id, visitor)
}

fn principal(tenant: TenantId, operator: OperatorId, role: Role, name: &str) -> OperatorPrincipal {
    OperatorPrincipal {
        tenant_id: tenant,
        operator_id: operator,
        role,
        display_name: name.into(),
    }
}

async fn report(app: &TestApp, cookie: &str, query: &str) -> Value {
    let response = app.get(&format!("/api/v1/reports?{query}"), cookie).await;
    assert_eq!(response.status(), 200, "reports?{query}");
    response.json().await.expect("json")
}

#[tokio::test]
async fn report_figures_match_conversations_with_known_timings() {
    let app = spawn_app().await;
    let tenant = app.tenant("figures").await;
    let other = app.tenant("elsewhere").await;
    let admin_id = app
        .member(tenant.id, "admin@figures.test", "Ada", Role::Admin)
        .await;
    let olga_id = app.operator(tenant.id, "olga@figures.test", "Olga").await;
    let omar_id = app.operator(tenant.id, "omar@figures.test", "Omar").await;
    let olga = principal(tenant.id, olga_id, Role::Operator, "Olga");
    let omar = principal(tenant.id, omar_id, Role::Operator, "Omar");
    let admin = principal(tenant.id, admin_id, Role::Admin, "Ada");
    // A survey with one rating question, to check CSAT.
    let survey = app
        .app
        .save_survey(
            &admin,
            None,
            vec![QuestionInput {
                kind: "rating".into(),
                label: "How did we do?".into(),
                required: true,
                options: Vec::new(),
            }],
            datetime!(2026-03-01 00:00 UTC),
        )
        .await
        .expect("survey");

    // Day 1, 2026-03-09 (UTC):
    //   A 09:00:00 Olga accepts +20 s, first reply +60 s, ends +600 s.
    //   B 09:30:00 Olga accepts +5 s, first reply +15 s, ends +300 s.
    //   C 14:10:00 nobody answers; the visitor leaves at +120 s: missed.
    // Day 2, 2026-03-10:
    //   D 10:00:00 Omar accepts +30 s, first reply +45 s, ends +900 s.
    //   E 10:20:00 still queued.
    // Another tenant's conversation on day 1 must not count anywhere.
    let day1 = datetime!(2026-03-09 00:00 UTC);
    let day2 = datetime!(2026-03-10 00:00 UTC);
    let h = |day: OffsetDateTime, hours: i64, minutes: i64| {
        day + Duration::hours(hours) + Duration::minutes(minutes)
    };
    let key = tenant.site_key.as_str();
    let (a, visitor_a) =
        conversation(&app, key, h(day1, 9, 0), Some(&olga), 20, 60, Some(600)).await;
    let (b, visitor_b) =
        conversation(&app, key, h(day1, 9, 30), Some(&olga), 5, 15, Some(300)).await;
    conversation(&app, key, h(day1, 14, 10), None, 0, 0, Some(120)).await;
    conversation(&app, key, h(day2, 10, 0), Some(&omar), 30, 45, Some(900)).await;
    conversation(&app, key, h(day2, 10, 20), None, 0, 0, None).await;
    let other_operator = app.operator(other.id, "x@elsewhere.test", "Xena").await;
    let xena = principal(other.id, other_operator, Role::Operator, "Xena");
    conversation(
        &app,
        &other.site_key,
        h(day1, 9, 0),
        Some(&xena),
        1,
        2,
        Some(3),
    )
    .await;
    // CSAT: A rated 5, B rated 2 -> 2 answers, 1 satisfied, 50 %.
    for (conversation, visitor, rating) in [(a, &visitor_a, 5.0), (b, &visitor_b, 2.0)] {
        let question = survey.questions[0].id.to_string();
        app.app
            .submit_survey(
                visitor,
                conversation,
                SurveySubmission {
                    conversation_id: Some(conversation),
                    survey_id: Some(survey.id),
                    answers: BTreeMap::from([(question, RawAnswer::Number(rating))]),
                },
                h(day1, 18, 0),
            )
            .await
            .expect("survey response");
    }

    let cookie = app.login("admin@figures.test").await;
    let both = report(&app, &cookie, "from=2026-03-09&to=2026-03-10").await;
    assert_eq!(both["time_zone"], "UTC");
    assert_eq!(
        both["totals"],
        json!({"conversations": 5, "missed": 1, "offline_requests": 0})
    );
    assert_eq!(
        both["days"],
        json!([
            {"day": "2026-03-09", "conversations": 3, "missed": 1, "offline_requests": 0},
            {"day": "2026-03-10", "conversations": 2, "missed": 0, "offline_requests": 0},
        ])
    );
    // First responses 60, 15, 45 s -> sorted 15, 45, 60: median 45; p90 is the
    // ceil(0.9 * 3) = 3rd smallest, 60.
    assert_eq!(
        both["first_response"],
        json!({"count": 3, "median_seconds": 45.0, "p90_seconds": 60.0})
    );
    // Lengths of the ended ones 600, 300, 120, 900 s -> sorted 120, 300, 600, 900:
    // median (300 + 600) / 2 = 450; p90 the ceil(3.6) = 4th smallest, 900.
    assert_eq!(
        both["length"],
        json!({"count": 4, "median_seconds": 450.0, "p90_seconds": 900.0})
    );
    let hours: Vec<u64> = both["hours"]
        .as_array()
        .expect("hours")
        .iter()
        .map(|hour| hour["conversations"].as_u64().expect("count"))
        .collect();
    assert_eq!(hours.len(), 24);
    assert_eq!((hours[9], hours[10], hours[14]), (2, 2, 1));
    assert_eq!(hours.iter().sum::<u64>(), 5);
    assert_eq!(
        both["operators"],
        json!([
            {"operator_id": olga_id.to_string(), "name": "Olga", "conversations": 2},
            {"operator_id": omar_id.to_string(), "name": "Omar", "conversations": 1},
        ])
    );
    assert_eq!(both["csat"]["answered"], 2);
    assert_eq!(both["csat"]["satisfied"], 1);
    assert_eq!(both["csat"]["csat_percent"], 50.0);
    assert_eq!(both["csat"]["questions"][0]["question"], "How did we do?");

    // A single day: only D (first reply 45 s, length 900 s) and E.
    let single = report(&app, &cookie, "from=2026-03-10&to=2026-03-10").await;
    assert_eq!(single["totals"]["conversations"], 2);
    assert_eq!(single["days"].as_array().expect("days").len(), 1);
    assert_eq!(
        single["first_response"],
        json!({"count": 1, "median_seconds": 45.0, "p90_seconds": 45.0})
    );
    assert_eq!(
        single["length"],
        json!({"count": 1, "median_seconds": 900.0, "p90_seconds": 900.0})
    );
    assert_eq!(single["csat"]["answered"], 0);
    assert_eq!(single["csat"]["csat_percent"], Value::Null);

    // An empty range: every day present with zeros, no medians.
    let empty = report(&app, &cookie, "from=2026-01-01&to=2026-01-31").await;
    assert_eq!(empty["days"].as_array().expect("days").len(), 31);
    assert_eq!(
        empty["totals"],
        json!({"conversations": 0, "missed": 0, "offline_requests": 0})
    );
    assert_eq!(
        empty["first_response"],
        json!({"count": 0, "median_seconds": null, "p90_seconds": null})
    );
    assert_eq!(empty["operators"], json!([]));

    // CSV of each table.
    let csv = app
        .get(
            "/api/v1/reports/days.csv?from=2026-03-09&to=2026-03-10",
            &cookie,
        )
        .await;
    assert_eq!(csv.status(), 200);
    assert_eq!(
        csv.headers()["content-type"].to_str().expect("ascii"),
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        csv.text().await.expect("text"),
        "\"day\",\"conversations\",\"missed\",\"offline_requests\"\r\n\
         \"2026-03-09\",\"3\",\"1\",\"0\"\r\n\"2026-03-10\",\"2\",\"0\",\"0\"\r\n"
    );
    for table in both["tables"].as_array().expect("tables") {
        let table = table.as_str().expect("name");
        let response = app
            .get(
                &format!("/api/v1/reports/{table}.csv?from=2026-03-09&to=2026-03-10"),
                &cookie,
            )
            .await;
        assert_eq!(response.status(), 200, "{table}");
    }
    let times = app
        .get(
            "/api/v1/reports/response_times.csv?from=2026-03-09&to=2026-03-10",
            &cookie,
        )
        .await
        .text()
        .await
        .expect("text");
    assert!(
        times.contains("\"first_response\",\"3\",\"45.0\",\"60.0\"\r\n"),
        "{times}"
    );
    assert!(
        times.contains("\"length\",\"4\",\"450.0\",\"900.0\"\r\n"),
        "{times}"
    );

    // The other tenant's admin sees only its own conversation.
    app.member(other.id, "admin@elsewhere.test", "Eve", Role::Admin)
        .await;
    let theirs = report(
        &app,
        &app.login("admin@elsewhere.test").await,
        "from=2026-03-09&to=2026-03-10",
    )
    .await;
    assert_eq!(theirs["totals"]["conversations"], 1);
    assert!(!theirs.to_string().contains(&olga_id.to_string()));
}

#[tokio::test]
async fn reports_refuse_bad_ranges_and_plain_operators() {
    let app = spawn_app().await;
    let tenant = app.tenant("ranges").await;
    app.member(tenant.id, "sup@ranges.test", "Sam", Role::Supervisor)
        .await;
    let supervisor = app.login("sup@ranges.test").await;
    for (query, status, code) in [
        ("from=2026-13-01&to=2026-12-31", 400, "invalid_date"),
        ("from=yesterday", 400, "invalid_date"),
        ("from=2026-03-10&to=2026-03-09", 400, "invalid_date_range"),
        ("from=2025-01-01&to=2026-01-02", 400, "invalid_date_range"),
    ] {
        let response = app
            .get(&format!("/api/v1/reports?{query}"), &supervisor)
            .await;
        assert_eq!(response.status(), status, "{query}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["code"], code, "{query}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        let csv = app
            .get(&format!("/api/v1/reports/days.csv?{query}"), &supervisor)
            .await;
        assert_eq!(csv.status(), status, "csv {query}");
    }
    // The supervisor may read; the default range is the last 30 days.
    let default = report(&app, &supervisor, "").await;
    assert_eq!(default["days"].as_array().expect("days").len(), 30);
    let unknown = app.get("/api/v1/reports/secrets.csv", &supervisor).await;
    assert_eq!(unknown.status(), 404);
    // A plain operator may not.
    let operator = app.login(&tenant.operator_email).await;
    for path in ["/api/v1/reports", "/api/v1/reports/days.csv"] {
        let response = app.get(path, &operator).await;
        assert_eq!(response.status(), 403, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["code"], "role_required");
    }
    // Nobody logged out.
    let anonymous = app
        .http
        .get(format!("{}/api/v1/reports", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
}
