//! REST bodies of reports (`GET /api/v1/reports`, `GET /api/v1/reports/{table}.csv`) and
//! of a visitor's details (`/api/v1/visitor/details` for the visitor,
//! `/api/v1/visitors/{id}/details` for operators). docs/reports.md defines each figure.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `GET /api/v1/reports` answer: a tenant's figures over an inclusive range of UTC days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportResponse {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day (included), `YYYY-MM-DD`.
    pub to: String,
    /// The time zone of days and hours: always `UTC` (tenants have no time zone yet).
    pub time_zone: String,
    /// Totals over the range.
    pub totals: ReportTotalsDto,
    /// Every day of the range, in order, zeros included.
    pub days: Vec<ReportDayDto>,
    /// Time to first response (first operator message − creation).
    pub first_response: DurationStatsDto,
    /// Conversation length (end − creation) of the conversations that ended.
    pub length: DurationStatsDto,
    /// Conversations created per hour of the day, 24 entries, hour 0 first.
    pub hours: Vec<ReportHourDto>,
    /// Conversations per owning operator, most first.
    pub operators: Vec<ReportOperatorDto>,
    /// Exit survey satisfaction.
    pub csat: ReportCsatDto,
    /// Page views per page over the range, most viewed first (at most 500).
    pub pages: Vec<ReportPageDto>,
    /// The tables available as CSV (`GET /api/v1/reports/{table}.csv`).
    pub tables: Vec<String>,
}

/// Totals of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportTotalsDto {
    /// Conversations created in the range.
    pub conversations: u64,
    /// Of those, ended without any operator message.
    pub missed: u64,
    /// Offline messages (tickets) left in the range.
    pub offline_requests: u64,
}

/// One day of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDayDto {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Conversations created that day.
    pub conversations: u64,
    /// Of those, missed.
    pub missed: u64,
    /// Offline messages left that day.
    pub offline_requests: u64,
}

/// Median and 90th percentile of durations, in seconds (`null` when `count` is 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DurationStatsDto {
    /// How many conversations the figures come from.
    pub count: u64,
    /// Median, seconds.
    pub median_seconds: Option<f64>,
    /// 90th percentile (nearest rank), seconds.
    pub p90_seconds: Option<f64>,
}

/// Conversations created in one hour of the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportHourDto {
    /// 0 to 23 (UTC).
    pub hour: u8,
    /// Conversations created in that hour on any day of the range.
    pub conversations: u64,
}

/// Conversations of one operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportOperatorDto {
    /// The operator's id.
    pub operator_id: Uuid,
    /// Their display name.
    pub name: String,
    /// Conversations they own.
    pub conversations: u64,
}

/// Exit survey satisfaction over the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportCsatDto {
    /// Answers to rating questions.
    pub answered: u64,
    /// Of those, 4 or 5.
    pub satisfied: u64,
    /// `satisfied / answered` in percent, `null` without answers.
    pub csat_percent: Option<f64>,
    /// Per rating question of each survey version.
    pub questions: Vec<ReportCsatQuestionDto>,
}

/// CSAT of one rating question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportCsatQuestionDto {
    /// Survey version.
    pub survey_version: i64,
    /// The question's label.
    pub question: String,
    /// Answers.
    pub answered: u64,
    /// Of those, 4 or 5.
    pub satisfied: u64,
    /// Percent, `null` without answers.
    pub csat_percent: Option<f64>,
}

/// A visitor's name and email (`GET` answers of both details routes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorDetailsDto {
    /// The visitor's id.
    pub visitor_id: Uuid,
    /// The name, if any.
    pub name: Option<String>,
    /// The email (lower-cased), if any.
    pub email: Option<String>,
}

/// `POST /api/v1/visitor/details` and `PATCH /api/v1/visitors/{id}/details` body: an
/// absent field stays as it is, an empty string clears it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateVisitorDetailsRequest {
    /// New name (any format, up to 200 characters).
    #[serde(default)]
    pub name: Option<String>,
    /// New email.
    #[serde(default)]
    pub email: Option<String>,
}

/// Views of one page of one site over a report's range (the anonymous tallies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportPageDto {
    /// The site's name.
    pub site: String,
    /// The page address (no query string or fragment unless the site keeps named
    /// parameters).
    pub url: String,
    /// Views in the range.
    pub views: u64,
}
