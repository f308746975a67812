//! REST bodies of exit surveys: the designer (`/api/v1/survey`), the visitor's survey of
//! a conversation (`/api/v1/conversations/{id}/survey`), the answers in the transcript
//! view (`/api/v1/conversations/{id}/survey-answers`) and results
//! (`/api/v1/survey-results`, `.csv`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One question as the designer sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionInputDto {
    /// `free_text`, `email`, `single_choice`, `multiple_choice`, `rating`, `number`,
    /// `postal_code`, `age`, `birth_date` or `income_band`.
    pub kind: String,
    /// What the visitor reads (1 to 300 characters).
    pub label: String,
    /// Whether the question must be answered for the submission to be accepted.
    #[serde(default)]
    pub required: bool,
    /// Options of choice questions, or the income bands (1 to 30, distinct).
    #[serde(default)]
    pub options: Vec<String>,
}

/// `POST /api/v1/survey` body: saves a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveSurveyRequest {
    /// The site the survey is for (it replaces the tenant's there), or none for the
    /// tenant's own survey.
    #[serde(default)]
    pub site_id: Option<Uuid>,
    /// In display order, at most 30. Empty: no survey (for a site: use the tenant's).
    pub questions: Vec<QuestionInputDto>,
}

/// One question as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionDto {
    /// Id: the key of its answer in a submission.
    pub id: Uuid,
    /// Type (see [`QuestionInputDto::kind`]).
    pub kind: String,
    /// Label.
    pub label: String,
    /// Required within the survey.
    pub required: bool,
    /// Options, for choice and income-band questions.
    pub options: Vec<String>,
}

/// One survey version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyDto {
    /// Id of the version.
    pub id: Uuid,
    /// The site it is for, or null for the tenant's.
    pub site_id: Option<Uuid>,
    /// 1, 2, 3, ... per scope.
    pub version: i64,
    /// Questions in order.
    pub questions: Vec<QuestionDto>,
    /// When it was saved (RFC 3339).
    pub created_at: String,
}

/// `GET /api/v1/survey` answer (and `POST`'s): the newest version, or null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyDesignResponse {
    /// The version, if one was ever saved for this scope.
    pub survey: Option<SurveyDto>,
}

/// `GET /api/v1/conversations/{id}/survey` answer, for the visitor. Always 200 for the
/// visitor's own conversation (so a widget asking "is there a survey?" never logs an
/// error); `status` says whether one is offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorSurveyResponse {
    /// `offered`, or why not: `survey_not_found` (none set up), `survey_already_submitted`,
    /// `survey_conversation_open` (the same codes a submission would get).
    pub status: String,
    /// The conversation the survey is for; send it back in the submission.
    pub conversation_id: Uuid,
    /// The survey version when offered; send it back in the submission.
    pub survey_id: Option<Uuid>,
    /// The tenant's questions, then the platform's; empty unless offered.
    pub questions: Vec<QuestionDto>,
}

/// `POST /api/v1/conversations/{id}/survey` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitSurveyRequest {
    /// The conversation the survey was offered for (must be the one in the path).
    /// Required; optional in the type so that a caller who may not see the conversation
    /// gets "not found" rather than a lesson in the body's shape.
    #[serde(default)]
    pub conversation_id: Option<Uuid>,
    /// The survey version answered. Required (see `conversation_id`).
    #[serde(default)]
    pub survey_id: Option<Uuid>,
    /// Question id → answer: a string, a number, an array of strings (multiple choice),
    /// or null (no answer).
    #[serde(default)]
    pub answers: BTreeMap<String, Option<AnswerValueDto>>,
}

/// One answer as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValueDto {
    /// Text (also numbers and dates typed in a text box).
    Text(String),
    /// A JSON number.
    Number(f64),
    /// Several choices.
    List(Vec<String>),
}

/// One answer with its question, for the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerDto {
    /// The question's id.
    pub question_id: Uuid,
    /// The question's label in the version answered.
    pub label: String,
    /// The question's type.
    pub kind: String,
    /// Canonical answer text (several choices are joined by a line feed).
    pub value: String,
}

/// `GET /api/v1/conversations/{id}/survey-answers` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSurveyResponse {
    /// Null when the visitor did not answer the survey.
    pub response: Option<SurveyAnswersDto>,
}

/// A stored response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyAnswersDto {
    /// The version answered.
    pub survey_version: i64,
    /// When it was submitted (RFC 3339).
    pub submitted_at: String,
    /// The tenant's questions' answers, in question order (the platform's are not here).
    pub answers: Vec<AnswerDto>,
}

/// Aggregates of one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionResultDto {
    /// The question.
    pub question: QuestionDto,
    /// Responses that answered it.
    pub answered: u64,
    /// `[label, count]` per option or per rating 1 to 5; empty for other types.
    pub distribution: Vec<(String, u64)>,
    /// Mean of rating, number and age answers.
    pub average: Option<f64>,
    /// Ratings only: share of 4 and 5 among the answered, in percent.
    pub csat_percent: Option<f64>,
}

/// Results of one survey version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionResultDto {
    /// The version.
    pub survey: SurveyDto,
    /// Its responses in the range.
    pub responses: u64,
    /// Per question, in order.
    pub questions: Vec<QuestionResultDto>,
}

/// `GET /api/v1/survey-results?from=YYYY-MM-DD&to=YYYY-MM-DD[&site_id=]` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyResultsResponse {
    /// First day (UTC).
    pub from: String,
    /// Last day, included.
    pub to: String,
    /// Responses in the range.
    pub responses: u64,
    /// Submissions refused for an age under 18 in the range (nothing else is known of them).
    pub refused_under_18: u64,
    /// Per version with responses.
    pub versions: Vec<VersionResultDto>,
}
