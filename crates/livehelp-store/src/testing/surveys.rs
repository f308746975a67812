//! Conformance checks of exit surveys: versions numbered per scope, one response per
//! conversation (also under racing submissions, case BR-15), the anonymous refusal
//! counter, and the platform's questions and answers kept apart from tenants'.

use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{
    Answer, EndReason, Question, QuestionId, QuestionKind, SiteId, Survey, SurveyId,
    SurveyResponse, SurveyResponseId,
};
use tokio::task::JoinSet;

use super::expect::{conflict, join_all, not_found, ok};
use super::fixtures::{Fixture, end, now};
use crate::{Store, StoreError, SurveyResponseQuery};

fn questions(labels: &[&str]) -> Vec<Question> {
    labels
        .iter()
        .map(|label| {
            Question::parse(
                QuestionId::new(),
                QuestionKind::SingleChoice,
                label,
                true,
                vec!["Yes «да»".into(), "No 🙅".into()],
            )
            .expect("a valid question")
        })
        .collect()
}

/// Versions are 1, 2, ... per scope (the tenant's and each site's apart), read back
/// exactly; the latest is the highest; another tenant finds none of them, and cannot
/// save a survey for a site that is not its own.
pub async fn survey_versions_are_numbered_per_scope(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    assert_eq!(ok(store.fetch_latest_survey(tenant, None).await), None);
    let first = ok(store
        .insert_survey_version(tenant, None, &questions(&["Q1"]), now())
        .await);
    let second = ok(store
        .insert_survey_version(tenant, None, &questions(&["Q1", "Q2"]), now())
        .await);
    let site = ok(store
        .insert_survey_version(tenant, Some(fixture.site.id), &questions(&["S"]), now())
        .await);
    assert_eq!((first.version, second.version, site.version), (1, 2, 1));
    assert_eq!(site.site_id, Some(fixture.site.id));
    assert_eq!(second.questions.len(), 2);
    assert_eq!(ok(store.fetch_survey(tenant, first.id).await), first);
    assert_eq!(
        ok(store.fetch_latest_survey(tenant, None).await),
        Some(second.clone())
    );
    assert_eq!(
        ok(store
            .fetch_latest_survey(tenant, Some(fixture.site.id))
            .await),
        Some(site.clone())
    );
    // Empty versions are versions too ("no survey").
    let empty = ok(store.insert_survey_version(tenant, None, &[], now()).await);
    assert_eq!((empty.version, empty.questions.len()), (3, 0));
    // Another tenant.
    not_found(store.fetch_survey(other.tenant.id, first.id).await);
    assert_eq!(
        ok(store.fetch_latest_survey(other.tenant.id, None).await),
        None
    );
    assert_eq!(
        ok(store
            .fetch_latest_survey(other.tenant.id, Some(fixture.site.id))
            .await),
        None
    );
    not_found(
        store
            .insert_survey_version(other.tenant.id, Some(fixture.site.id), &[], now())
            .await,
    );
    not_found(store.fetch_survey(tenant, SurveyId::new()).await);
}

async fn ended_conversation(store: &dyn Store, fixture: &Fixture) -> livehelp_domain::Conversation {
    let visitor = fixture.new_visitor(store).await;
    let conversation = fixture.open(store, visitor.id).await;
    ok(store
        .append(
            fixture.tenant.id,
            end(conversation.id, EndReason::VisitorEnded, None),
        )
        .await);
    conversation
}

fn response(
    fixture: &Fixture,
    survey: &Survey,
    conversation: livehelp_domain::ConversationId,
    value: &str,
) -> SurveyResponse {
    SurveyResponse {
        id: SurveyResponseId::new(),
        tenant_id: fixture.tenant.id,
        conversation_id: conversation,
        site_id: fixture.site.id,
        survey_id: survey.id,
        submitted_at: now(),
        answers: vec![Answer {
            question_id: survey.questions[0].id,
            value: value.to_owned(),
        }],
    }
}

/// A response reads back exactly; a second one for the same conversation is a conflict
/// and changes nothing; of eight racing submissions exactly one is stored; listing by
/// time range and site finds the tenant's own responses only.
pub async fn survey_response_once_per_conversation(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let start = now();
    let survey = ok(store
        .insert_survey_version(tenant, None, &questions(&["Q"]), now())
        .await);
    let conversation = ended_conversation(&*store, &fixture).await;
    let first = response(&fixture, &survey, conversation.id, "Yes «да»\nline two");
    ok(store.insert_survey_response(tenant, &first, &[]).await);
    conflict(
        store
            .insert_survey_response(
                tenant,
                &response(&fixture, &survey, conversation.id, "No 🙅"),
                &[],
            )
            .await,
        "survey_response_conversation",
    );
    assert_eq!(
        ok(store.fetch_survey_response(tenant, conversation.id).await),
        Some(first.clone())
    );
    assert_eq!(
        ok(store
            .fetch_survey_response(other.tenant.id, conversation.id)
            .await),
        None
    );

    // Two tabs (here eight) submit at once: exactly one wins.
    let raced = ended_conversation(&*store, &fixture).await;
    let mut tasks = JoinSet::new();
    for index in 0..8 {
        let store = store.clone();
        let attempt = response(&fixture, &survey, raced.id, &format!("tab {index}"));
        tasks.spawn(async move {
            store
                .insert_survey_response(attempt.tenant_id, &attempt, &[])
                .await
        });
    }
    let results = join_all(tasks).await;
    let stored = results.iter().filter(|result| result.is_ok()).count();
    assert_eq!(stored, 1, "{results:?}");
    assert!(results.iter().all(|result| matches!(
        result,
        Ok(())
            | Err(StoreError::Conflict {
                constraint: "survey_response_conversation"
            })
    )));

    let all = ok(store
        .list_survey_responses(
            tenant,
            &SurveyResponseQuery {
                site: None,
                from: start,
                to: now() + Duration::from_secs(1),
                limit: 100,
            },
        )
        .await);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], first);
    let none = ok(store
        .list_survey_responses(
            tenant,
            &SurveyResponseQuery {
                site: Some(SiteId::new()),
                from: start,
                to: now() + Duration::from_secs(1),
                limit: 100,
            },
        )
        .await);
    assert!(none.is_empty());
    let theirs = ok(store
        .list_survey_responses(
            other.tenant.id,
            &SurveyResponseQuery {
                site: None,
                from: start,
                to: now() + Duration::from_secs(1),
                limit: 100,
            },
        )
        .await);
    assert!(theirs.is_empty());
    // A response naming another tenant is refused, not written under either.
    let foreign = SurveyResponse {
        tenant_id: other.tenant.id,
        ..response(
            &fixture,
            &survey,
            ended_conversation(&*store, &fixture).await.id,
            "x",
        )
    };
    assert!(
        store
            .insert_survey_response(tenant, &foreign, &[])
            .await
            .is_err()
    );
}

/// Refusals count per site and UTC day, summed over a range of days (both ends
/// included), per site or for all sites, and only for the tenant's own.
pub async fn survey_refusals_are_counted_per_site_and_day(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let today = now().date();
    let yesterday = today.previous_day().expect("a day");
    for _ in 0..3 {
        ok(store
            .record_survey_refusal(tenant, fixture.site.id, today)
            .await);
    }
    ok(store
        .record_survey_refusal(tenant, fixture.site.id, yesterday)
        .await);
    let count = |site, from, to| {
        let store = store.clone();
        async move { ok(store.count_survey_refusals(tenant, site, from, to).await) }
    };
    assert_eq!(count(None, today, today).await, 3);
    assert_eq!(count(None, yesterday, today).await, 4);
    assert_eq!(count(Some(fixture.site.id), yesterday, yesterday).await, 1);
    assert_eq!(count(Some(SiteId::new()), yesterday, today).await, 0);
    assert_eq!(
        ok(store
            .count_survey_refusals(other.tenant.id, None, yesterday, today)
            .await),
        0
    );
}

/// Platform questions list in the order added, withdrawn ones only on request; answers
/// to them are stored with the response, apart from the tenant's, and listed by time
/// without any tenant or conversation in them.
pub async fn platform_questions_and_answers(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let start = now();
    let mine = questions(&["Platform A", "Platform B"]);
    for question in &mine {
        ok(store.insert_platform_question(question, now()).await);
    }
    let listed: Vec<Question> = ok(store.list_platform_questions(false).await)
        .into_iter()
        .map(|platform| platform.question)
        .filter(|question| mine.iter().any(|own| own.id == question.id))
        .collect();
    assert_eq!(listed, mine);
    let survey = ok(store
        .insert_survey_version(tenant, None, &questions(&["Tenant"]), now())
        .await);
    let conversation = ended_conversation(&*store, &fixture).await;
    let platform_answer = Answer {
        question_id: mine[1].id,
        value: "No 🙅".into(),
    };
    ok(store
        .insert_survey_response(
            tenant,
            &response(&fixture, &survey, conversation.id, "Yes «да»"),
            std::slice::from_ref(&platform_answer),
        )
        .await);
    let answers = ok(store
        .list_platform_answers(start, now() + Duration::from_secs(1))
        .await);
    let own: Vec<_> = answers
        .iter()
        .filter(|answer| answer.question_id == mine[1].id)
        .collect();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].value, platform_answer.value);
    // The tenant's stored response holds only the tenant's answer.
    let stored = ok(store.fetch_survey_response(tenant, conversation.id).await).expect("stored");
    assert_eq!(stored.answers.len(), 1);
    assert_eq!(stored.answers[0].question_id, survey.questions[0].id);

    ok(store.retire_platform_question(mine[0].id, now()).await);
    not_found(store.retire_platform_question(mine[0].id, now()).await);
    not_found(
        store
            .retire_platform_question(QuestionId::new(), now())
            .await,
    );
    let active = ok(store.list_platform_questions(false).await);
    assert!(
        active
            .iter()
            .all(|platform| platform.question.id != mine[0].id)
    );
    let all = ok(store.list_platform_questions(true).await);
    let retired = all
        .iter()
        .find(|platform| platform.question.id == mine[0].id)
        .expect("kept");
    assert!(retired.retired_at.is_some());
}
