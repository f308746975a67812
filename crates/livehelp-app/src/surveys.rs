//! Exit surveys (PRODUCT.md M3, M4, M9; issue 5): the designer (tenant admins save
//! versions), the visitor's side (fetch the survey of an ended conversation, submit it
//! once), results for admins and supervisors (per conversation, aggregates, CSV), and the
//! platform's own questions (CLI only).
//!
//! Under 18: the submission is checked by `livehelp_domain::survey::check_submission`
//! before anything is written. A refused one adds one to the anonymous per-site, per-day
//! counter and nothing else: no row of it, no log line with its content, no metric label.

use std::collections::BTreeMap;

use livehelp_domain::survey::{MAX_QUESTIONS, check_submission};
use livehelp_domain::{
    AuditActor, Conversation, ConversationId, ConversationState, Question, QuestionId,
    QuestionKind, RawAnswer, SiteId, SubmissionError, Survey, SurveyId, SurveyResponse,
    SurveyResponseId, TenantId,
};
use livehelp_store::{PlatformAnswer, PlatformQuestion, StoreError, SurveyResponseQuery};
use thiserror::Error;
use time::{Date, OffsetDateTime, Time};

use crate::{App, AppError, OperatorPrincipal, VisitorPrincipal};

/// Why a survey use case refused. Each maps to one stable error code.
#[derive(Debug, Error)]
pub enum SurveyError {
    /// No survey is set up for the conversation's site.
    #[error("there is no survey for this conversation")]
    NoSurvey,
    /// The conversation's survey was answered already.
    #[error("this survey was already submitted")]
    AlreadySubmitted,
    /// The conversation has not ended yet.
    #[error("the survey opens when the conversation has ended")]
    ConversationOpen,
    /// The survey named in the submission is not the one offered for this conversation.
    #[error("this survey belongs to another conversation")]
    WrongSurvey,
    /// A stated age under 18: the whole submission was refused and nothing of it kept.
    #[error(
        "Thank you. We cannot accept survey answers from people under 18, so nothing you entered was kept."
    )]
    UnderAge,
    /// Answers that do not fit their questions: question id → message.
    #[error("some answers need a correction")]
    Invalid(BTreeMap<String, String>),
}

/// One question as the designer sends it.
#[derive(Debug, Clone)]
pub struct QuestionInput {
    /// Type name (`free_text`, `rating`, ...).
    pub kind: String,
    /// Label.
    pub label: String,
    /// Whether an answer is needed.
    pub required: bool,
    /// Options of choice and income-band questions.
    pub options: Vec<String>,
}

/// A visitor's submission as sent.
#[derive(Debug, Clone)]
pub struct SurveySubmission {
    /// The conversation the survey was offered for (required; `None` is refused after
    /// the conversation itself was checked).
    pub conversation_id: Option<ConversationId>,
    /// The survey version answered (required, like `conversation_id`).
    pub survey_id: Option<SurveyId>,
    /// Question id → answer.
    pub answers: BTreeMap<String, RawAnswer>,
}

/// What a visitor is offered: the survey version and the platform's questions after it.
#[derive(Debug, Clone)]
pub struct OfferedSurvey {
    /// The tenant's (or site's) survey version.
    pub survey: Survey,
    /// The platform's questions, asked after the tenant's.
    pub platform: Vec<Question>,
}

/// Aggregates of one question over the responses of a range.
#[derive(Debug, Clone)]
pub struct QuestionResult {
    /// The question.
    pub question: Question,
    /// Responses that answered it.
    pub answered: u64,
    /// Count per option (choices, income bands, multiple choice) or per rating 1..5, in
    /// the question's order; empty for other kinds.
    pub distribution: Vec<(String, u64)>,
    /// Mean of rating, number and age answers.
    pub average: Option<f64>,
    /// Ratings: the share of 4 and 5 among the answered, in percent (CSAT).
    pub csat_percent: Option<f64>,
}

/// The results of one survey version within a range.
#[derive(Debug, Clone)]
pub struct VersionResult {
    /// The version.
    pub survey: Survey,
    /// Its responses in the range.
    pub responses: u64,
    /// Per question.
    pub questions: Vec<QuestionResult>,
}

/// Survey results of a tenant over a range of days.
#[derive(Debug, Clone)]
pub struct SurveyResults {
    /// Responses in the range, counted once each.
    pub responses: u64,
    /// Submissions refused for a stated age under 18 in the range.
    pub refused_under_18: u64,
    /// Per survey version that has responses, oldest version first.
    pub versions: Vec<VersionResult>,
    /// The responses themselves, oldest first (for the CSV).
    pub rows: Vec<SurveyResponse>,
}

/// Which results: a site (or all) and an inclusive range of UTC days.
#[derive(Debug, Clone, Copy)]
pub struct ResultsQuery {
    /// Only this site's, or all.
    pub site: Option<SiteId>,
    /// First day.
    pub from: Date,
    /// Last day (included).
    pub to: Date,
}

/// Most responses one results query reads.
pub const MAX_RESULT_RESPONSES: u32 = 20_000;

impl App {
    /// Saves a new version of the tenant's survey (or of one site's). Admins only. An
    /// empty list means "no survey" (for a site: use the tenant's).
    pub async fn save_survey(
        &self,
        admin: &OperatorPrincipal,
        site: Option<SiteId>,
        input: Vec<QuestionInput>,
        now: OffsetDateTime,
    ) -> Result<Survey, AppError> {
        Self::require_admin(admin)?;
        if input.len() > MAX_QUESTIONS {
            return Err(AppError::InvalidRequest(format!(
                "a survey has at most {MAX_QUESTIONS} questions"
            )));
        }
        let mut questions = Vec::with_capacity(input.len());
        for (index, question) in input.into_iter().enumerate() {
            let kind = QuestionKind::parse(&question.kind).ok_or_else(|| {
                AppError::InvalidRequest(format!("questions[{index}].kind: unknown type"))
            })?;
            let parsed = Question::parse(
                QuestionId::new(),
                kind,
                &question.label,
                question.required,
                question.options,
            )
            .map_err(|message| {
                AppError::InvalidRequest(format!("questions[{index}]: {message}"))
            })?;
            questions.push(parsed);
        }
        let survey = self
            .store
            .insert_survey_version(admin.tenant_id, site, &questions, now)
            .await?;
        self.audit(
            admin.tenant_id,
            AuditActor::Operator(admin.operator_id),
            "survey_saved",
            format!("survey:{} version:{}", survey.id, survey.version),
            now,
        )
        .await?;
        Ok(survey)
    }

    /// The newest version of the tenant's survey (or a site's), for the designer.
    /// Admins and supervisors.
    pub async fn survey_design(
        &self,
        operator: &OperatorPrincipal,
        site: Option<SiteId>,
    ) -> Result<Option<Survey>, AppError> {
        require_results_role(operator)?;
        Ok(self
            .store
            .fetch_latest_survey(operator.tenant_id, site)
            .await?)
    }

    /// The survey offered for the visitor's own ended conversation.
    pub async fn visitor_survey(
        &self,
        visitor: &VisitorPrincipal,
        conversation: ConversationId,
    ) -> Result<OfferedSurvey, AppError> {
        let conversation = self.survey_conversation(visitor, conversation).await?;
        let survey = self
            .current_survey(conversation.tenant_id, conversation.site_id)
            .await?
            .ok_or(SurveyError::NoSurvey)?;
        Ok(OfferedSurvey {
            survey,
            platform: self.active_platform_questions().await?,
        })
    }

    /// Submits the visitor's answers for their own ended conversation, once. The
    /// submission names the conversation it was offered for (`submission.conversation_id`)
    /// and must be sent to that one (case BR-15 d). An under-18 answer refuses everything
    /// (only the anonymous counter moves).
    pub async fn submit_survey(
        &self,
        visitor: &VisitorPrincipal,
        conversation: ConversationId,
        submission: SurveySubmission,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let SurveySubmission {
            conversation_id: offered_for,
            survey_id: survey,
            answers,
        } = submission;
        let conversation = self.survey_conversation(visitor, conversation).await?;
        let (Some(offered_for), Some(survey)) = (offered_for, survey) else {
            return Err(AppError::InvalidRequest(
                "conversation_id and survey_id are required".into(),
            ));
        };
        if offered_for != conversation.id {
            return Err(SurveyError::WrongSurvey.into());
        }
        let survey = match self
            .store
            .fetch_survey(conversation.tenant_id, survey)
            .await
        {
            Ok(survey) => survey,
            Err(StoreError::NotFound) => return Err(SurveyError::WrongSurvey.into()),
            Err(other) => return Err(other.into()),
        };
        if survey
            .site_id
            .is_some_and(|site| site != conversation.site_id)
            || survey.questions.is_empty()
        {
            return Err(SurveyError::WrongSurvey.into());
        }
        let platform = self.active_platform_questions().await?;
        let today = now.date();
        let checked = match check_submission(&survey.questions, &platform, &answers, today) {
            Ok(checked) => checked,
            Err(SubmissionError::UnderAge) => {
                drop(answers);
                self.store
                    .record_survey_refusal(conversation.tenant_id, conversation.site_id, today)
                    .await?;
                return Err(SurveyError::UnderAge.into());
            }
            Err(SubmissionError::Invalid(errors)) => {
                return Err(SurveyError::Invalid(errors).into());
            }
        };
        let response = SurveyResponse {
            id: SurveyResponseId::new(),
            tenant_id: conversation.tenant_id,
            conversation_id: conversation.id,
            site_id: conversation.site_id,
            survey_id: survey.id,
            submitted_at: now,
            answers: checked.tenant,
        };
        match self
            .store
            .insert_survey_response(conversation.tenant_id, &response, &checked.platform)
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict {
                constraint: "survey_response_conversation",
            }) => Err(SurveyError::AlreadySubmitted.into()),
            Err(other) => Err(other.into()),
        }
    }

    /// A conversation's survey answers with the version they answered, for the
    /// transcript view; `None` when there are none. Any operator of the tenant (like the
    /// transcript itself).
    pub async fn conversation_survey(
        &self,
        operator: &OperatorPrincipal,
        conversation: ConversationId,
    ) -> Result<Option<(SurveyResponse, Survey)>, AppError> {
        match self
            .store
            .fetch_conversation(operator.tenant_id, conversation)
            .await
        {
            Ok(_) => {}
            Err(StoreError::NotFound) => return Err(AppError::ConversationNotFound),
            Err(other) => return Err(other.into()),
        }
        let Some(response) = self
            .store
            .fetch_survey_response(operator.tenant_id, conversation)
            .await?
        else {
            return Ok(None);
        };
        let survey = self
            .store
            .fetch_survey(operator.tenant_id, response.survey_id)
            .await?;
        Ok(Some((response, survey)))
    }

    /// Results over a range of days: counts, aggregates per question of each version,
    /// refusals. Admins and supervisors; every read is audited.
    pub async fn survey_results(
        &self,
        operator: &OperatorPrincipal,
        query: ResultsQuery,
        now: OffsetDateTime,
    ) -> Result<SurveyResults, AppError> {
        require_results_role(operator)?;
        if query.to < query.from {
            return Err(AppError::InvalidRequest(
                "to: must not be before from".into(),
            ));
        }
        let tenant = operator.tenant_id;
        let start = query.from.with_time(Time::MIDNIGHT).assume_utc();
        let end = query
            .to
            .next_day()
            .unwrap_or(query.to)
            .with_time(Time::MIDNIGHT)
            .assume_utc();
        let rows = self
            .store
            .list_survey_responses(
                tenant,
                &SurveyResponseQuery {
                    site: query.site,
                    from: start,
                    to: end,
                    limit: MAX_RESULT_RESPONSES,
                },
            )
            .await?;
        let refused_under_18 = self
            .store
            .count_survey_refusals(tenant, query.site, query.from, query.to)
            .await?;
        let mut by_version: BTreeMap<SurveyId, Vec<&SurveyResponse>> = BTreeMap::new();
        for row in &rows {
            by_version.entry(row.survey_id).or_default().push(row);
        }
        let mut versions = Vec::with_capacity(by_version.len());
        for (survey_id, responses) in by_version {
            let survey = self.store.fetch_survey(tenant, survey_id).await?;
            let questions = survey
                .questions
                .iter()
                .map(|question| aggregate(question, &responses))
                .collect();
            versions.push(VersionResult {
                survey,
                responses: responses.len() as u64,
                questions,
            });
        }
        versions.sort_by_key(|version| (version.survey.site_id, version.survey.version));
        self.audit(
            tenant,
            AuditActor::Operator(operator.operator_id),
            "survey_results_read",
            format!("surveys:{}..{}", query.from, query.to),
            now,
        )
        .await?;
        Ok(SurveyResults {
            responses: rows.len() as u64,
            refused_under_18,
            versions,
            rows,
        })
    }

    /// Adds a platform question, asked after every tenant's survey (CLI, platform staff).
    pub async fn add_platform_question(
        &self,
        input: QuestionInput,
        now: OffsetDateTime,
    ) -> Result<Question, AppError> {
        let kind = QuestionKind::parse(&input.kind)
            .ok_or_else(|| AppError::InvalidRequest("kind: unknown type".into()))?;
        let question = Question::parse(
            QuestionId::new(),
            kind,
            &input.label,
            input.required,
            input.options,
        )
        .map_err(AppError::InvalidRequest)?;
        if self.active_platform_questions().await?.len() >= MAX_QUESTIONS {
            return Err(AppError::InvalidRequest(format!(
                "the platform asks at most {MAX_QUESTIONS} questions"
            )));
        }
        self.store.insert_platform_question(&question, now).await?;
        Ok(question)
    }

    /// The platform's questions, withdrawn ones too (CLI).
    pub async fn platform_questions(&self) -> Result<Vec<PlatformQuestion>, AppError> {
        Ok(self.store.list_platform_questions(true).await?)
    }

    /// Withdraws a platform question (CLI); its answers are kept.
    pub async fn retire_platform_question(
        &self,
        question: QuestionId,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        Ok(self.store.retire_platform_question(question, now).await?)
    }

    /// Answers to the platform's questions in `[from, to)` (CLI, platform staff only).
    pub async fn platform_answers(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<PlatformAnswer>, AppError> {
        Ok(self.store.list_platform_answers(from, to).await?)
    }

    async fn active_platform_questions(&self) -> Result<Vec<Question>, AppError> {
        Ok(self
            .store
            .list_platform_questions(false)
            .await?
            .into_iter()
            .map(|platform| platform.question)
            .collect())
    }

    /// The site's newest survey if it has a non-empty one, else the tenant's if
    /// non-empty.
    async fn current_survey(
        &self,
        tenant: TenantId,
        site: SiteId,
    ) -> Result<Option<Survey>, AppError> {
        if let Some(survey) = self.store.fetch_latest_survey(tenant, Some(site)).await?
            && !survey.questions.is_empty()
        {
            return Ok(Some(survey));
        }
        Ok(self
            .store
            .fetch_latest_survey(tenant, None)
            .await?
            .filter(|survey| !survey.questions.is_empty()))
    }

    /// The visitor's own conversation, ended and not yet answered.
    async fn survey_conversation(
        &self,
        visitor: &VisitorPrincipal,
        id: ConversationId,
    ) -> Result<Conversation, AppError> {
        let conversation = match self.store.fetch_conversation(visitor.tenant_id, id).await {
            Ok(conversation) if conversation.visitor_id == visitor.visitor_id => conversation,
            Ok(_) | Err(StoreError::NotFound) => return Err(AppError::ConversationNotFound),
            Err(other) => return Err(other.into()),
        };
        if conversation.state != ConversationState::Ended {
            return Err(SurveyError::ConversationOpen.into());
        }
        if self
            .store
            .fetch_survey_response(visitor.tenant_id, id)
            .await?
            .is_some()
        {
            return Err(SurveyError::AlreadySubmitted.into());
        }
        Ok(conversation)
    }
}

/// Admins and supervisors may read survey results (M18); operators may not.
fn require_results_role(operator: &OperatorPrincipal) -> Result<(), AppError> {
    if App::may_monitor(operator.role) {
        Ok(())
    } else {
        Err(AppError::RoleRequired)
    }
}

pub(crate) fn aggregate(question: &Question, responses: &[&SurveyResponse]) -> QuestionResult {
    let values: Vec<&str> = responses
        .iter()
        .filter_map(|response| {
            response
                .answers
                .iter()
                .find(|answer| answer.question_id == question.id)
                .map(|answer| answer.value.as_str())
        })
        .collect();
    let answered = values.len() as u64;
    let count = |label: &str| -> u64 {
        values
            .iter()
            .filter(|value| value.split('\n').any(|part| part == label))
            .count() as u64
    };
    let distribution = match question.kind {
        QuestionKind::SingleChoice | QuestionKind::MultipleChoice | QuestionKind::IncomeBand => {
            question
                .options
                .iter()
                .map(|option| (option.clone(), count(option)))
                .collect()
        }
        QuestionKind::Rating => (1..=5)
            .map(|rating: u8| (rating.to_string(), count(&rating.to_string())))
            .collect(),
        _ => Vec::new(),
    };
    let numbers: Vec<f64> = values
        .iter()
        .filter_map(|value| value.parse::<f64>().ok())
        .collect();
    let average = match question.kind {
        QuestionKind::Rating | QuestionKind::Number | QuestionKind::Age if !numbers.is_empty() => {
            Some(numbers.iter().sum::<f64>() / numbers.len() as f64)
        }
        _ => None,
    };
    let csat_percent = (question.kind == QuestionKind::Rating && !numbers.is_empty()).then(|| {
        let satisfied = numbers.iter().filter(|rating| **rating >= 4.0).count();
        satisfied as f64 * 100.0 / numbers.len() as f64
    });
    QuestionResult {
        question: question.clone(),
        answered,
        distribution,
        average,
        csat_percent,
    }
}

/// The results' responses as CSV (RFC 4180: every cell quoted, quotes doubled, CRLF line
/// ends), one line per answer: submitted_at, conversation_id, site_id, survey_version,
/// question, answer. A cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading
/// `'` so spreadsheets do not run it as a formula (OWASP CSV injection).
pub fn survey_csv(results: &SurveyResults) -> String {
    let mut out = String::from(
        "\"submitted_at\",\"conversation_id\",\"site_id\",\"survey_version\",\"question\",\"answer\"\r\n",
    );
    for row in &results.rows {
        let Some(version) = results
            .versions
            .iter()
            .find(|version| version.survey.id == row.survey_id)
        else {
            continue;
        };
        for answer in &row.answers {
            let label = version
                .survey
                .questions
                .iter()
                .find(|question| question.id == answer.question_id)
                .map_or("", |question| question.label.as_str());
            let submitted = row
                .submitted_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            let cells = [
                submitted,
                row.conversation_id.to_string(),
                row.site_id.to_string(),
                version.survey.version.to_string(),
                label.to_owned(),
                answer.value.clone(),
            ];
            let line: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

pub(crate) fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_guarded() {
        assert_eq!(csv_cell("plain"), "\"plain\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=SUM(A1)"), "\"'=SUM(A1)\"");
        assert_eq!(csv_cell("-1"), "\"'-1\"");
        assert_eq!(csv_cell("@x"), "\"'@x\"");
        assert_eq!(csv_cell("+1"), "\"'+1\"");
        assert_eq!(csv_cell("a,b\nc"), "\"a,b\nc\"");
    }
}
