//! Exit survey routes (issue 5): the designer (`GET`/`POST /api/v1/survey`, reading for
//! admins and supervisors, saving for admins), the visitor's side (`GET
//! /api/v1/conversations/{id}/survey`, `POST .../survey-response`, visitor token, CORS),
//! the answers of one conversation for the transcript view (`GET
//! .../survey-answers`, any operator of the tenant) and results (`GET
//! /api/v1/survey-results` and `/api/v1/survey-results.csv`, admins and supervisors).
//!
//! Nothing here logs a request body or an answer: a refused (under-18) submission must
//! leave no trace but the anonymous counter.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use livehelp_app::{
    QuestionInput, ResultsQuery, SurveyError, SurveyResults, SurveySubmission, survey_csv,
};
use livehelp_domain::survey::parse_date;
use livehelp_domain::{ConversationId, Question, RawAnswer, SiteId, Survey, SurveyId};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::survey::{
    AnswerDto, AnswerValueDto, ConversationSurveyResponse, QuestionDto, QuestionResultDto,
    SaveSurveyRequest, SubmitSurveyRequest, SurveyAnswersDto, SurveyDesignResponse, SurveyDto,
    SurveyResultsResponse, VersionResultDto, VisitorSurveyResponse,
};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::extract::{AdminSession, ApiJson, OperatorSession};
use crate::{ApiError, AppState};

/// Largest survey submission body, in bytes (above [`crate::MAX_BODY_BYTES`], so an
/// over-long free-text answer gets its field error).
pub const MAX_SUBMISSION_BYTES: usize = 256 * 1024;

/// The stable code of a survey refusal.
pub fn error_code(error: &SurveyError) -> ErrorCode {
    match error {
        SurveyError::NoSurvey => ErrorCode::SurveyNotFound,
        SurveyError::AlreadySubmitted => ErrorCode::SurveyAlreadySubmitted,
        SurveyError::ConversationOpen => ErrorCode::SurveyConversationOpen,
        SurveyError::WrongSurvey => ErrorCode::SurveyConversationMismatch,
        SurveyError::UnderAge => ErrorCode::SurveyRefusedUnder18,
        SurveyError::Invalid(_) => ErrorCode::SurveyInvalid,
    }
}

/// Query string naming a scope: the tenant's survey, or one site's.
#[derive(Debug, Deserialize)]
pub struct ScopeQuery {
    /// A site id, or absent for the tenant's survey.
    site_id: Option<String>,
}

/// The newest survey version of a scope (admins and supervisors).
pub async fn get_design(
    State(state): State<AppState>,
    session: OperatorSession,
    Query(query): Query<ScopeQuery>,
) -> Result<Json<SurveyDesignResponse>, ApiError> {
    let site = parse_site(query.site_id.as_deref())?;
    let survey = state.app.survey_design(&session.operator, site).await?;
    Ok(Json(SurveyDesignResponse {
        survey: survey.as_ref().map(survey_dto),
    }))
}

/// Saves a new version (admins).
pub async fn save_design(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiJson(body): ApiJson<SaveSurveyRequest>,
) -> Result<(StatusCode, Json<SurveyDesignResponse>), ApiError> {
    let site = body.site_id.map(SiteId::from_uuid);
    let questions = body
        .questions
        .into_iter()
        .map(|question| QuestionInput {
            kind: question.kind,
            label: question.label,
            required: question.required,
            options: question.options,
        })
        .collect();
    let survey = state
        .app
        .save_survey(
            &session.operator,
            site,
            questions,
            OffsetDateTime::now_utc(),
        )
        .await
        .map_err(|error| match error {
            livehelp_app::AppError::NotFound => ApiError::new(ErrorCode::NotFound, "no such site"),
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(SurveyDesignResponse {
            survey: Some(survey_dto(&survey)),
        }),
    ))
}

/// The survey of the visitor's own conversation: offered, or why not (always 200).
pub async fn visitor_get(
    State(state): State<AppState>,
    VisitorAuth(visitor): VisitorAuth,
    Path(id): Path<String>,
) -> Result<Json<VisitorSurveyResponse>, ApiError> {
    let conversation = parse_conversation(&id)?;
    let offered = match state.app.visitor_survey(&visitor, conversation).await {
        Ok(offered) => offered,
        Err(livehelp_app::AppError::Survey(
            reason @ (SurveyError::NoSurvey
            | SurveyError::AlreadySubmitted
            | SurveyError::ConversationOpen),
        )) => {
            return Ok(Json(VisitorSurveyResponse {
                status: error_code(&reason).as_str().to_owned(),
                conversation_id: conversation.as_uuid(),
                survey_id: None,
                questions: Vec::new(),
            }));
        }
        Err(other) => return Err(other.into()),
    };
    Ok(Json(VisitorSurveyResponse {
        status: "offered".to_owned(),
        conversation_id: conversation.as_uuid(),
        survey_id: Some(offered.survey.id.as_uuid()),
        questions: offered
            .survey
            .questions
            .iter()
            .chain(offered.platform.iter())
            .map(question_dto)
            .collect(),
    }))
}

/// Submits the visitor's answers, once per conversation.
pub async fn visitor_submit(
    State(state): State<AppState>,
    VisitorAuth(visitor): VisitorAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubmitSurveyRequest>,
) -> Result<StatusCode, ApiError> {
    let conversation = parse_conversation(&id)?;
    let answers: BTreeMap<String, RawAnswer> = body
        .answers
        .into_iter()
        .filter_map(|(key, value)| {
            value.map(|value| {
                let raw = match value {
                    AnswerValueDto::Text(text) => RawAnswer::Text(text),
                    AnswerValueDto::Number(number) => RawAnswer::Number(number),
                    AnswerValueDto::List(items) => RawAnswer::List(items),
                };
                (key, raw)
            })
        })
        .collect();
    state
        .app
        .submit_survey(
            &visitor,
            conversation,
            SurveySubmission {
                conversation_id: body.conversation_id.map(ConversationId::from_uuid),
                survey_id: body.survey_id.map(SurveyId::from_uuid),
                answers,
            },
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(StatusCode::CREATED)
}

/// A conversation's survey answers, for the transcript view (any operator of the tenant).
pub async fn conversation_answers(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Result<Json<ConversationSurveyResponse>, ApiError> {
    let conversation = parse_conversation(&id)?;
    let found = state
        .app
        .conversation_survey(&session.operator, conversation)
        .await?;
    Ok(Json(ConversationSurveyResponse {
        response: found.map(|(response, survey)| SurveyAnswersDto {
            survey_version: survey.version,
            submitted_at: rfc3339(response.submitted_at),
            answers: response
                .answers
                .iter()
                .map(|answer| {
                    let question = survey
                        .questions
                        .iter()
                        .find(|question| question.id == answer.question_id);
                    AnswerDto {
                        question_id: answer.question_id.as_uuid(),
                        label: question.map_or_else(String::new, |q| q.label.clone()),
                        kind: question.map_or("", |q| q.kind.as_str()).to_owned(),
                        value: answer.value.clone(),
                    }
                })
                .collect(),
        }),
    }))
}

/// Query string of the results routes.
#[derive(Debug, Deserialize)]
pub struct ResultsParams {
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    from: Option<String>,
    /// Last day, included, `YYYY-MM-DD` (default: today, UTC).
    to: Option<String>,
    /// Only this site's.
    site_id: Option<String>,
}

/// Aggregates per question over a range of days (admins and supervisors).
pub async fn results(
    State(state): State<AppState>,
    session: OperatorSession,
    Query(params): Query<ResultsParams>,
) -> Result<Json<SurveyResultsResponse>, ApiError> {
    let query = results_query(&params)?;
    let results = state
        .app
        .survey_results(&session.operator, query, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(results_dto(&query, &results)))
}

/// The responses of a range of days as CSV (admins and supervisors).
pub async fn results_csv(
    State(state): State<AppState>,
    session: OperatorSession,
    Query(params): Query<ResultsParams>,
) -> Result<Response, ApiError> {
    let query = results_query(&params)?;
    let results = state
        .app
        .survey_results(&session.operator, query, OffsetDateTime::now_utc())
        .await?;
    let name = format!(
        "attachment; filename=\"survey-{}-{}.csv\"",
        query.from, query.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        survey_csv(&results),
    )
        .into_response())
}

/// A visitor authenticated by `Authorization: Bearer <visitor token>`, checked before
/// the body is read (so a caller without a token learns nothing about the body's shape).
pub struct VisitorAuth(pub livehelp_app::VisitorPrincipal);

impl FromRequestParts<AppState> for VisitorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = crate::ws::bearer(&parts.headers)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "visitor token missing"))?;
        Ok(VisitorAuth(state.app.authenticate_visitor(&token).await?))
    }
}

fn parse_conversation(id: &str) -> Result<ConversationId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::new(ErrorCode::ConversationNotFound, "conversation not found"))
}

fn parse_site(site: Option<&str>) -> Result<Option<SiteId>, ApiError> {
    site.filter(|site| !site.is_empty())
        .map(|site| {
            site.parse::<SiteId>()
                .map_err(|_| ApiError::new(ErrorCode::InvalidRequest, "site_id must be a site id"))
        })
        .transpose()
}

fn results_query(params: &ResultsParams) -> Result<ResultsQuery, ApiError> {
    let day = |value: &Option<String>, name: &str| {
        value
            .as_deref()
            .filter(|value| !value.is_empty())
            .map(|value| {
                parse_date(value).ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidRequest,
                        format!("{name} must be a date like 2026-01-31"),
                    )
                })
            })
            .transpose()
    };
    let to = day(&params.to, "to")?.unwrap_or_else(|| OffsetDateTime::now_utc().date());
    let from = day(&params.from, "from")?.unwrap_or_else(|| to - time::Duration::days(29));
    if (to - from).whole_days() > 366 {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "the range is at most 366 days",
        ));
    }
    Ok(ResultsQuery {
        site: parse_site(params.site_id.as_deref())?,
        from,
        to,
    })
}

fn results_dto(query: &ResultsQuery, results: &SurveyResults) -> SurveyResultsResponse {
    SurveyResultsResponse {
        from: query.from.to_string(),
        to: query.to.to_string(),
        responses: results.responses,
        refused_under_18: results.refused_under_18,
        versions: results
            .versions
            .iter()
            .map(|version| VersionResultDto {
                survey: survey_dto(&version.survey),
                responses: version.responses,
                questions: version
                    .questions
                    .iter()
                    .map(|result| QuestionResultDto {
                        question: question_dto(&result.question),
                        answered: result.answered,
                        distribution: result.distribution.clone(),
                        average: result.average,
                        csat_percent: result.csat_percent,
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn survey_dto(survey: &Survey) -> SurveyDto {
    SurveyDto {
        id: survey.id.as_uuid(),
        site_id: survey.site_id.map(|site| site.as_uuid()),
        version: survey.version,
        questions: survey.questions.iter().map(question_dto).collect(),
        created_at: rfc3339(survey.created_at),
    }
}

fn question_dto(question: &Question) -> QuestionDto {
    QuestionDto {
        id: question.id.as_uuid(),
        kind: question.kind.as_str().to_owned(),
        label: question.label.clone(),
        required: question.required,
        options: question.options.clone(),
    }
}

fn rfc3339(instant: OffsetDateTime) -> String {
    instant.format(&Rfc3339).unwrap_or_default()
}
