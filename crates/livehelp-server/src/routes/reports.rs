//! Report routes (issue 6 item 6, M18): `GET /api/v1/reports?from=&to=` (JSON) and `GET
//! /api/v1/reports/{table}.csv` (one table as CSV), for admins and supervisors (checked
//! in the app). Bad dates and ranges answer `invalid_date` / `invalid_date_range`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use livehelp_app::{DurationStats, REPORT_TABLES, Report, ReportError, ReportRange, report_csv};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::reports::{
    DurationStatsDto, ReportCsatDto, ReportCsatQuestionDto, ReportDayDto, ReportHourDto,
    ReportOperatorDto, ReportPageDto, ReportResponse, ReportTotalsDto,
};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::extract::OperatorSession;
use crate::{ApiError, AppState};

/// The stable code of a refused report.
pub fn error_code(error: &ReportError) -> ErrorCode {
    match error {
        ReportError::InvalidDate(_) => ErrorCode::InvalidDate,
        ReportError::InvalidRange(_) => ErrorCode::InvalidDateRange,
        ReportError::TooMany => ErrorCode::ReportTooLarge,
    }
}

/// Query string of the report routes.
#[derive(Debug, Deserialize)]
pub struct RangeParams {
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    from: Option<String>,
    /// Last day, included, `YYYY-MM-DD` (default: today, UTC).
    to: Option<String>,
}

/// The tenant's report as JSON.
pub async fn get(
    State(state): State<AppState>,
    session: OperatorSession,
    Query(params): Query<RangeParams>,
) -> Result<Json<ReportResponse>, ApiError> {
    let range = range(&params)?;
    let report = state.app.report(&session.operator, range).await?;
    Ok(Json(report_dto(&report)))
}

/// One table of the report as CSV: `days`, `response_times`, `hours`, `operators`, `csat`,
/// `pages`.
pub async fn csv(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(file): Path<String>,
    Query(params): Query<RangeParams>,
) -> Result<Response, ApiError> {
    let table = file
        .strip_suffix(".csv")
        .filter(|table| REPORT_TABLES.contains(table))
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such report table"))?;
    let range = range(&params)?;
    let report = state.app.report(&session.operator, range).await?;
    let body = report_csv(&report, table)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such report table"))?;
    let name = format!(
        "attachment; filename=\"report-{table}-{}-{}.csv\"",
        range.from, range.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}

fn range(params: &RangeParams) -> Result<ReportRange, ApiError> {
    ReportRange::parse(
        params.from.as_deref(),
        params.to.as_deref(),
        OffsetDateTime::now_utc().date(),
    )
    .map_err(|error| ApiError::from(livehelp_app::AppError::Report(error)))
}

fn report_dto(report: &Report) -> ReportResponse {
    let (answered, satisfied) = report.csat_total;
    ReportResponse {
        from: report.range.from.to_string(),
        to: report.range.to.to_string(),
        time_zone: "UTC".to_owned(),
        totals: ReportTotalsDto {
            conversations: report.conversations,
            missed: report.missed,
            offline_requests: report.offline_requests,
        },
        days: report
            .days
            .iter()
            .map(|day| ReportDayDto {
                day: day.day.to_string(),
                conversations: day.conversations,
                missed: day.missed,
                offline_requests: day.offline_requests,
            })
            .collect(),
        first_response: stats_dto(&report.first_response),
        length: stats_dto(&report.length),
        hours: report
            .hours
            .iter()
            .enumerate()
            .map(|(hour, conversations)| ReportHourDto {
                hour: hour as u8,
                conversations: *conversations,
            })
            .collect(),
        operators: report
            .operators
            .iter()
            .map(|operator| ReportOperatorDto {
                operator_id: operator.operator_id.as_uuid(),
                name: operator.name.clone(),
                conversations: operator.conversations,
            })
            .collect(),
        csat: ReportCsatDto {
            answered,
            satisfied,
            csat_percent: (answered > 0).then(|| satisfied as f64 * 100.0 / answered as f64),
            questions: report
                .csat
                .iter()
                .map(|row| ReportCsatQuestionDto {
                    survey_version: row.survey_version,
                    question: row.question.clone(),
                    answered: row.answered,
                    satisfied: row.satisfied,
                    csat_percent: row.csat_percent,
                })
                .collect(),
        },
        pages: report
            .pages
            .iter()
            .map(|page| ReportPageDto {
                site: page.site.clone(),
                url: page.url.clone(),
                views: page.views,
            })
            .collect(),
        tables: REPORT_TABLES
            .iter()
            .map(|table| (*table).to_owned())
            .collect(),
    }
}

fn stats_dto(stats: &DurationStats) -> DurationStatsDto {
    DurationStatsDto {
        count: stats.count,
        median_seconds: stats.median_seconds,
        p90_seconds: stats.p90_seconds,
    }
}
