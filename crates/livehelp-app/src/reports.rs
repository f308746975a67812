//! Reports (PRODUCT.md M18, M9; issue 6 item 6): a tenant's figures over a range of days
//! for admins and supervisors, and the platform's cross-tenant aggregates for the CLI.
//! Every figure's definition is in docs/reports.md; in short:
//!
//! - days are UTC days (tenants have no time zone setting yet), the range is inclusive;
//! - a conversation belongs to the day (and hour) it was created;
//! - *missed*: ended without any operator message; offline requests (tickets) are
//!   counted beside them, not inside;
//! - *time to first response*: first operator message − creation; *length*: end −
//!   creation; each as median (mean of the two middle values for an even count) and 90th
//!   percentile (nearest rank: the ⌈0.9·n⌉-th smallest);
//! - *chats per operator*: conversations whose owner (the last operator assigned) is that
//!   operator;
//! - *CSAT*: share of 4 and 5 among the answers to rating questions of exit surveys
//!   submitted in the range (the survey aggregate of `surveys.rs`).
//!
//! The store returns one bounded list of per-conversation facts; the arithmetic is here,
//! once for both backends. The platform's report adds the same facts of every tenant
//! (each read scoped by its tenant), keeps no tenant id, operator or page in its result,
//! and suppresses every cell computed from fewer than [`MIN_AGGREGATE_COUNT`] items.

use std::collections::BTreeMap;

use livehelp_domain::survey::parse_date;
use livehelp_domain::{OperatorId, QuestionKind, SurveyId, TenantId, Timestamp};
use livehelp_store::{ConversationFacts, SurveyResponseQuery};
use thiserror::Error;
use time::{Date, Duration, Time};

use crate::surveys::{MAX_RESULT_RESPONSES, aggregate};
use crate::{App, AppError, OperatorPrincipal};

/// Longest range, in days (both ends included).
pub const MAX_REPORT_DAYS: i64 = 366;
/// Most conversations (and offline requests) one tenant's report reads; a range holding
/// more is refused with [`ReportError::TooMany`].
pub const MAX_REPORT_CONVERSATIONS: u32 = 100_000;
/// The platform's report shows no cell computed from fewer than this many items (M9).
pub const MIN_AGGREGATE_COUNT: u64 = 5;

/// Why a report was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ReportError {
    /// `from` or `to` is not a date like 2026-01-31.
    #[error("{0} must be a date like 2026-01-31")]
    InvalidDate(&'static str),
    /// `to` is before `from`, or the range is longer than [`MAX_REPORT_DAYS`].
    #[error("{0}")]
    InvalidRange(String),
    /// The range holds more than [`MAX_REPORT_CONVERSATIONS`] conversations.
    #[error(
        "the range holds more than {MAX_REPORT_CONVERSATIONS} conversations; choose a shorter one"
    )]
    TooMany,
}

/// An inclusive range of UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportRange {
    /// First day.
    pub from: Date,
    /// Last day (included).
    pub to: Date,
}

impl ReportRange {
    /// Parses `YYYY-MM-DD` dates; an absent `to` is `today`, an absent `from` 29 days
    /// before `to`. Refuses `to < from` and ranges over [`MAX_REPORT_DAYS`] days.
    pub fn parse(from: Option<&str>, to: Option<&str>, today: Date) -> Result<Self, ReportError> {
        let day = |value: Option<&str>, name: &'static str| {
            value
                .filter(|value| !value.is_empty())
                .map(|value| parse_date(value).ok_or(ReportError::InvalidDate(name)))
                .transpose()
        };
        let to = day(to, "to")?.unwrap_or(today);
        let from = match day(from, "from")? {
            Some(from) => from,
            None => to
                .checked_sub(Duration::days(29))
                .ok_or(ReportError::InvalidDate("to"))?,
        };
        ReportRange::new(from, to)
    }

    /// Checks an already parsed range.
    pub fn new(from: Date, to: Date) -> Result<Self, ReportError> {
        // The range ends at the midnight after `to`: that day must exist (not 9999-12-31).
        if to.next_day().is_none() {
            return Err(ReportError::InvalidDate("to"));
        }
        if to < from {
            return Err(ReportError::InvalidRange(
                "to must not be before from".into(),
            ));
        }
        if (to - from).whole_days() + 1 > MAX_REPORT_DAYS {
            return Err(ReportError::InvalidRange(format!(
                "a range is at most {MAX_REPORT_DAYS} days"
            )));
        }
        Ok(ReportRange { from, to })
    }

    /// The first instant of `from` (UTC).
    pub fn start(&self) -> Timestamp {
        self.from.with_time(Time::MIDNIGHT).assume_utc()
    }

    /// The first instant after `to` (UTC).
    pub fn end(&self) -> Timestamp {
        self.to.with_time(Time::MIDNIGHT).assume_utc() + Duration::days(1)
    }

    /// Every day of the range, in order.
    pub fn days(&self) -> Vec<Date> {
        let mut days = Vec::new();
        let mut day = self.from;
        while day <= self.to {
            days.push(day);
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
        days
    }
}

/// One day's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCounts {
    /// The UTC day.
    pub day: Date,
    /// Conversations created that day.
    pub conversations: u64,
    /// Of those, ended without any operator message.
    pub missed: u64,
    /// Offline messages (tickets) left that day.
    pub offline_requests: u64,
}

/// Median and 90th percentile of a set of durations, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DurationStats {
    /// How many durations.
    pub count: u64,
    /// Median, seconds; `None` when there are none.
    pub median_seconds: Option<f64>,
    /// 90th percentile (nearest rank), seconds; `None` when there are none.
    pub p90_seconds: Option<f64>,
}

/// Conversations of one operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorCount {
    /// The operator.
    pub operator_id: OperatorId,
    /// Their display name.
    pub name: String,
    /// Conversations they own.
    pub conversations: u64,
}

/// CSAT of one rating question of one survey version.
#[derive(Debug, Clone, PartialEq)]
pub struct CsatRow {
    /// The question's label.
    pub question: String,
    /// The survey version.
    pub survey_version: i64,
    /// Answers to it in the range.
    pub answered: u64,
    /// Of those, 4 or 5.
    pub satisfied: u64,
    /// `satisfied / answered` in percent; `None` when unanswered.
    pub csat_percent: Option<f64>,
}

/// A tenant's report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The range.
    pub range: ReportRange,
    /// Every day of the range, in order, zeros included.
    pub days: Vec<DayCounts>,
    /// Conversations created in the range.
    pub conversations: u64,
    /// Of those, missed.
    pub missed: u64,
    /// Offline requests in the range.
    pub offline_requests: u64,
    /// Time to first response of conversations that have an operator message.
    pub first_response: DurationStats,
    /// Length of the conversations that ended.
    pub length: DurationStats,
    /// Conversations created per hour of the day (UTC), index 0..24.
    pub hours: [u64; 24],
    /// Per operator, most conversations first (ties by name).
    pub operators: Vec<OperatorCount>,
    /// Per rating question, by survey version then question order.
    pub csat: Vec<CsatRow>,
    /// All rating answers together: (answered, satisfied).
    pub csat_total: (u64, u64),
    /// Page views per page over the range (the anonymous tallies, M7), most viewed
    /// first (ties by site, then address), at most [`MAX_REPORT_PAGES`].
    pub pages: Vec<PageViews>,
}

/// Most pages a report lists (a site with more keeps its most viewed).
pub const MAX_REPORT_PAGES: usize = 500;

/// Views of one page of one site over a report's range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageViews {
    /// The site's name.
    pub site: String,
    /// The page address (without query string or fragment, unless the site keeps
    /// named parameters).
    pub url: String,
    /// Views.
    pub views: u64,
}

/// Adds up tallies per (site, page) and orders them most viewed first.
fn page_totals(
    tallies: Vec<livehelp_store::PageViewTally>,
    sites: &BTreeMap<livehelp_domain::SiteId, String>,
) -> Vec<PageViews> {
    let mut totals: BTreeMap<(String, String), u64> = BTreeMap::new();
    for tally in tallies {
        let site = sites.get(&tally.site_id).cloned().unwrap_or_default();
        *totals.entry((site, tally.url)).or_default() += tally.views;
    }
    let mut pages: Vec<PageViews> = totals
        .into_iter()
        .map(|((site, url), views)| PageViews { site, url, views })
        .collect();
    // Stable: equal counts keep the (site, url) order of the map.
    pages.sort_by_key(|page| std::cmp::Reverse(page.views));
    pages.truncate(MAX_REPORT_PAGES);
    pages
}

/// A cell of the platform's report: a figure, or suppressed (computed from fewer than
/// [`MIN_AGGREGATE_COUNT`] items, M9).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<T> {
    /// The figure.
    Value(T),
    /// Not shown.
    Suppressed,
}

impl<T: std::fmt::Display> std::fmt::Display for Cell<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Value(value) => value.fmt(formatter),
            Cell::Suppressed => formatter.write_str("suppressed"),
        }
    }
}

/// One day of the platform's report.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformDay {
    /// The UTC day.
    pub day: Date,
    /// Conversations created that day on every tenant.
    pub conversations: Cell<u64>,
    /// Of those, missed (suppressed with `conversations`).
    pub missed: Cell<u64>,
    /// Offline requests that day.
    pub offline_requests: Cell<u64>,
}

/// The platform's cross-tenant aggregates: no tenant, operator, page or person in it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformReport {
    /// The range.
    pub range: ReportRange,
    /// Tenants whose figures are included (all of them).
    pub tenants: u64,
    /// Per day.
    pub days: Vec<PlatformDay>,
    /// Totals over the range.
    pub conversations: Cell<u64>,
    /// Missed over the range.
    pub missed: Cell<u64>,
    /// Time to first response: (median, p90) seconds.
    pub first_response: Cell<(f64, f64)>,
    /// Length: (median, p90) seconds.
    pub length: Cell<(f64, f64)>,
    /// Per hour of the day (UTC).
    pub hours: Vec<Cell<u64>>,
    /// CSAT over every rating answer, percent.
    pub csat_percent: Cell<f64>,
}

impl App {
    /// A tenant's report over `range`. Admins and supervisors.
    pub async fn report(
        &self,
        operator: &OperatorPrincipal,
        range: ReportRange,
    ) -> Result<Report, AppError> {
        if !Self::may_monitor(operator.role) {
            return Err(AppError::RoleRequired);
        }
        let tenant = operator.tenant_id;
        let (facts, tickets) = self.report_facts(tenant, range).await?;
        let operators = self.store.list_operators(tenant).await?;
        let names: BTreeMap<OperatorId, String> = operators
            .into_iter()
            .map(|operator| (operator.id, operator.display_name))
            .collect();
        let (csat, csat_total) = self.csat(tenant, range).await?;
        let sites: BTreeMap<livehelp_domain::SiteId, String> = self
            .store
            .list_sites(tenant)
            .await?
            .into_iter()
            .map(|site| (site.id, site.name))
            .collect();
        let tallies = self
            .store
            .page_view_tallies(tenant, range.from, range.to)
            .await?;
        Ok(Report {
            pages: page_totals(tallies, &sites),
            ..compute(range, &facts, &tickets, &names, csat, csat_total)
        })
    }

    /// The platform's aggregates over `range` (CLI, platform staff): every tenant's
    /// figures added together, nothing identifying, small cells suppressed.
    pub async fn platform_report(&self, range: ReportRange) -> Result<PlatformReport, AppError> {
        let tenants = self.store.list_tenants().await?;
        let mut facts = Vec::new();
        let mut tickets = Vec::new();
        let mut csat_total = (0, 0);
        for tenant in &tenants {
            let (tenant_facts, tenant_tickets) = self.report_facts(tenant.id, range).await?;
            facts.extend(tenant_facts);
            tickets.extend(tenant_tickets);
            let (_, total) = self.csat(tenant.id, range).await?;
            csat_total.0 += total.0;
            csat_total.1 += total.1;
        }
        let report = compute(
            range,
            &facts,
            &tickets,
            &BTreeMap::new(),
            Vec::new(),
            csat_total,
        );
        Ok(suppress(report, tenants.len() as u64, &facts))
    }

    async fn report_facts(
        &self,
        tenant: TenantId,
        range: ReportRange,
    ) -> Result<(Vec<ConversationFacts>, Vec<Timestamp>), AppError> {
        let facts = self
            .store
            .list_conversation_facts(
                tenant,
                range.start(),
                range.end(),
                MAX_REPORT_CONVERSATIONS + 1,
            )
            .await?;
        let tickets = self
            .store
            .list_ticket_instants(
                tenant,
                range.start(),
                range.end(),
                MAX_REPORT_CONVERSATIONS + 1,
            )
            .await?;
        if facts.len() > MAX_REPORT_CONVERSATIONS as usize
            || tickets.len() > MAX_REPORT_CONVERSATIONS as usize
        {
            return Err(ReportError::TooMany.into());
        }
        Ok((facts, tickets))
    }

    /// CSAT per rating question (survey aggregate) and over all rating answers.
    async fn csat(
        &self,
        tenant: TenantId,
        range: ReportRange,
    ) -> Result<(Vec<CsatRow>, (u64, u64)), AppError> {
        let responses = self
            .store
            .list_survey_responses(
                tenant,
                &SurveyResponseQuery {
                    site: None,
                    from: range.start(),
                    to: range.end(),
                    limit: MAX_RESULT_RESPONSES,
                },
            )
            .await?;
        let mut by_version: BTreeMap<SurveyId, Vec<&livehelp_domain::SurveyResponse>> =
            BTreeMap::new();
        for response in &responses {
            by_version
                .entry(response.survey_id)
                .or_default()
                .push(response);
        }
        let mut rows = Vec::new();
        let mut total = (0, 0);
        for (survey_id, responses) in by_version {
            let survey = self.store.fetch_survey(tenant, survey_id).await?;
            for question in &survey.questions {
                if question.kind != QuestionKind::Rating {
                    continue;
                }
                let result = aggregate(question, &responses);
                let satisfied = result
                    .distribution
                    .iter()
                    .filter(|(rating, _)| rating == "4" || rating == "5")
                    .map(|(_, count)| count)
                    .sum::<u64>();
                total.0 += result.answered;
                total.1 += satisfied;
                rows.push(CsatRow {
                    question: question.label.clone(),
                    survey_version: survey.version,
                    answered: result.answered,
                    satisfied,
                    csat_percent: result.csat_percent,
                });
            }
        }
        Ok((rows, total))
    }
}

/// The figures of a report from its facts (pure; unit-tested below).
fn compute(
    range: ReportRange,
    facts: &[ConversationFacts],
    tickets: &[Timestamp],
    names: &BTreeMap<OperatorId, String>,
    csat: Vec<CsatRow>,
    csat_total: (u64, u64),
) -> Report {
    let mut days: BTreeMap<Date, DayCounts> = range
        .days()
        .into_iter()
        .map(|day| {
            (
                day,
                DayCounts {
                    day,
                    conversations: 0,
                    missed: 0,
                    offline_requests: 0,
                },
            )
        })
        .collect();
    let mut hours = [0_u64; 24];
    let mut first_responses = Vec::new();
    let mut lengths = Vec::new();
    let mut per_operator: BTreeMap<OperatorId, u64> = BTreeMap::new();
    let mut missed_total = 0;
    for fact in facts {
        let created = fact.created_at.to_offset(time::UtcOffset::UTC);
        let missed = is_missed(fact);
        if let Some(day) = days.get_mut(&created.date()) {
            day.conversations += 1;
            day.missed += u64::from(missed);
        }
        missed_total += u64::from(missed);
        hours[usize::from(created.hour())] += 1;
        if let Some(first) = fact.first_operator_message_at {
            first_responses.push(seconds(first - fact.created_at));
        }
        if let Some(ended) = fact.ended_at {
            lengths.push(seconds(ended - fact.created_at));
        }
        if let Some(operator) = fact.operator_id {
            *per_operator.entry(operator).or_default() += 1;
        }
    }
    for ticket in tickets {
        let day = ticket.to_offset(time::UtcOffset::UTC).date();
        if let Some(day) = days.get_mut(&day) {
            day.offline_requests += 1;
        }
    }
    let mut operators: Vec<OperatorCount> = per_operator
        .into_iter()
        .map(|(operator_id, conversations)| OperatorCount {
            operator_id,
            name: names.get(&operator_id).cloned().unwrap_or_default(),
            conversations,
        })
        .collect();
    operators.sort_by(|a, b| {
        b.conversations
            .cmp(&a.conversations)
            .then_with(|| a.name.cmp(&b.name))
    });
    Report {
        range,
        days: days.into_values().collect(),
        conversations: facts.len() as u64,
        missed: missed_total,
        offline_requests: tickets.len() as u64,
        first_response: stats(first_responses),
        length: stats(lengths),
        hours,
        operators,
        csat,
        csat_total,
        pages: Vec::new(),
    }
}

/// Missed: ended without any operator message.
fn is_missed(fact: &ConversationFacts) -> bool {
    fact.ended_at.is_some() && fact.first_operator_message_at.is_none()
}

fn seconds(duration: Duration) -> f64 {
    duration.as_seconds_f64().max(0.0)
}

/// Median (mean of the middle two for an even count) and nearest-rank 90th percentile.
pub fn stats(mut values: Vec<f64>) -> DurationStats {
    values.sort_by(f64::total_cmp);
    let count = values.len();
    if count == 0 {
        return DurationStats {
            count: 0,
            median_seconds: None,
            p90_seconds: None,
        };
    }
    let median = if count % 2 == 1 {
        values[count / 2]
    } else {
        (values[count / 2 - 1] + values[count / 2]) / 2.0
    };
    // Nearest rank: the ceil(0.9 n)-th smallest, 1-based.
    let rank = (count * 9).div_ceil(10).max(1);
    DurationStats {
        count: count as u64,
        median_seconds: Some(median),
        p90_seconds: Some(values[rank - 1]),
    }
}

/// The platform's view of a report added over every tenant.
fn suppress(report: Report, tenants: u64, facts: &[ConversationFacts]) -> PlatformReport {
    let cell = |count: u64| {
        if count >= MIN_AGGREGATE_COUNT {
            Cell::Value(count)
        } else {
            Cell::Suppressed
        }
    };
    let pair = |stats: DurationStats| match (stats.median_seconds, stats.p90_seconds) {
        (Some(median), Some(p90)) if stats.count >= MIN_AGGREGATE_COUNT => {
            Cell::Value((median, p90))
        }
        _ => Cell::Suppressed,
    };
    let days = report
        .days
        .iter()
        .map(|day| {
            let enough = day.conversations >= MIN_AGGREGATE_COUNT;
            PlatformDay {
                day: day.day,
                conversations: cell(day.conversations),
                missed: if enough {
                    Cell::Value(day.missed)
                } else {
                    Cell::Suppressed
                },
                offline_requests: cell(day.offline_requests),
            }
        })
        .collect();
    let enough = facts.len() as u64 >= MIN_AGGREGATE_COUNT;
    let (answered, satisfied) = report.csat_total;
    PlatformReport {
        range: report.range,
        tenants,
        days,
        conversations: cell(report.conversations),
        missed: if enough {
            Cell::Value(report.missed)
        } else {
            Cell::Suppressed
        },
        first_response: pair(report.first_response),
        length: pair(report.length),
        hours: report.hours.iter().map(|count| cell(*count)).collect(),
        csat_percent: if answered >= MIN_AGGREGATE_COUNT {
            Cell::Value(satisfied as f64 * 100.0 / answered as f64)
        } else {
            Cell::Suppressed
        },
    }
}

/// The report's tables as CSV, by name: `days`, `response_times`, `hours`, `operators`,
/// `csat`. Same rules as the survey CSV (every cell quoted, CRLF, formula guard).
pub fn report_csv(report: &Report, table: &str) -> Option<String> {
    let rows: Vec<Vec<String>> = match table {
        "days" => std::iter::once(vec![
            "day".into(),
            "conversations".into(),
            "missed".into(),
            "offline_requests".into(),
        ])
        .chain(report.days.iter().map(|day| {
            vec![
                day.day.to_string(),
                day.conversations.to_string(),
                day.missed.to_string(),
                day.offline_requests.to_string(),
            ]
        }))
        .collect(),
        "response_times" => {
            let line = |name: &str, stats: &DurationStats| {
                vec![
                    name.to_owned(),
                    stats.count.to_string(),
                    optional(stats.median_seconds),
                    optional(stats.p90_seconds),
                ]
            };
            vec![
                vec![
                    "measure".into(),
                    "conversations".into(),
                    "median_seconds".into(),
                    "p90_seconds".into(),
                ],
                line("first_response", &report.first_response),
                line("length", &report.length),
            ]
        }
        "hours" => std::iter::once(vec!["hour_utc".into(), "conversations".into()])
            .chain(
                report
                    .hours
                    .iter()
                    .enumerate()
                    .map(|(hour, count)| vec![format!("{hour:02}:00"), count.to_string()]),
            )
            .collect(),
        "operators" => std::iter::once(vec![
            "operator_id".into(),
            "operator".into(),
            "conversations".into(),
        ])
        .chain(report.operators.iter().map(|operator| {
            vec![
                operator.operator_id.to_string(),
                operator.name.clone(),
                operator.conversations.to_string(),
            ]
        }))
        .collect(),
        "csat" => std::iter::once(vec![
            "survey_version".into(),
            "question".into(),
            "answered".into(),
            "satisfied".into(),
            "csat_percent".into(),
        ])
        .chain(report.csat.iter().map(|row| {
            vec![
                row.survey_version.to_string(),
                row.question.clone(),
                row.answered.to_string(),
                row.satisfied.to_string(),
                optional(row.csat_percent),
            ]
        }))
        .collect(),
        "pages" => std::iter::once(vec!["site".into(), "page".into(), "views".into()])
            .chain(
                report
                    .pages
                    .iter()
                    .map(|page| vec![page.site.clone(), page.url.clone(), page.views.to_string()]),
            )
            .collect(),
        _ => return None,
    };
    Some(csv(&rows))
}

/// The names [`report_csv`] knows.
pub const REPORT_TABLES: [&str; 6] = [
    "days",
    "response_times",
    "hours",
    "operators",
    "csat",
    "pages",
];

fn optional(value: Option<f64>) -> String {
    value.map_or_else(String::new, |value| format!("{value:.1}"))
}

fn csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|cell| crate::surveys::csv_cell(cell))
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use livehelp_domain::{ConversationId, SiteId};

    use super::*;

    fn date(text: &str) -> Date {
        parse_date(text).expect("date")
    }

    #[test]
    fn the_last_representable_day_is_refused_not_a_panic() {
        let today = date("2026-03-10");
        assert!(matches!(
            ReportRange::parse(Some("9999-12-01"), Some("9999-12-31"), today),
            Err(ReportError::InvalidDate("to"))
        ));
        assert!(matches!(
            ReportRange::parse(None, Some("9999-12-31"), today),
            Err(ReportError::InvalidDate("to"))
        ));
        let range = ReportRange::parse(Some("9999-12-01"), Some("9999-12-30"), today)
            .expect("a day that has a next day is fine");
        assert_eq!(range.days().len(), 30);
    }

    fn at(day: &str, seconds: i64) -> Timestamp {
        date(day).with_time(Time::MIDNIGHT).assume_utc() + Duration::seconds(seconds)
    }

    fn fact(
        created: Timestamp,
        first: Option<i64>,
        ended: Option<i64>,
        operator: Option<OperatorId>,
    ) -> ConversationFacts {
        ConversationFacts {
            id: ConversationId::new(),
            site_id: SiteId::new(),
            created_at: created,
            ended_at: ended.map(|seconds| created + Duration::seconds(seconds)),
            operator_id: operator,
            first_operator_message_at: first.map(|seconds| created + Duration::seconds(seconds)),
        }
    }

    #[test]
    fn ranges_are_checked() {
        let today = date("2026-03-10");
        let range = ReportRange::parse(None, None, today).expect("default");
        assert_eq!(range.from, date("2026-02-09"));
        assert_eq!(range.days().len(), 30);
        assert_eq!(
            ReportRange::parse(Some("2026-03-10"), Some("2026-03-09"), today),
            Err(ReportError::InvalidRange(
                "to must not be before from".into()
            ))
        );
        assert_eq!(
            ReportRange::parse(Some("2026-13-01"), None, today),
            Err(ReportError::InvalidDate("from"))
        );
        // 2025-03-09 ..= 2026-03-09 is 366 days (365 between the ends, both counted).
        let longest = ReportRange::parse(Some("2025-03-09"), Some("2026-03-09"), today);
        assert_eq!(longest.expect("366 days").days().len(), 366);
        assert!(matches!(
            ReportRange::parse(Some("2025-03-08"), Some("2026-03-09"), today),
            Err(ReportError::InvalidRange(_))
        ));
        let one = ReportRange::parse(Some("2026-03-10"), Some("2026-03-10"), today).expect("one");
        assert_eq!(one.days(), vec![today]);
        assert_eq!(one.end() - one.start(), Duration::days(1));
    }

    #[test]
    fn percentiles_by_hand() {
        // 1..=10: median (5 + 6) / 2 = 5.5; p90 rank ceil(9.0) = 9 -> 9.
        let ten = stats((1..=10).map(f64::from).collect());
        assert_eq!(
            (ten.median_seconds, ten.p90_seconds),
            (Some(5.5), Some(9.0))
        );
        // 3 values 30, 10, 20: median 20; p90 rank ceil(2.7) = 3 -> 30.
        let three = stats(vec![30.0, 10.0, 20.0]);
        assert_eq!(
            (three.median_seconds, three.p90_seconds),
            (Some(20.0), Some(30.0))
        );
        let one = stats(vec![7.0]);
        assert_eq!(
            (one.median_seconds, one.p90_seconds),
            (Some(7.0), Some(7.0))
        );
        assert_eq!(stats(Vec::new()).median_seconds, None);
    }

    #[test]
    fn platform_cells_under_five_are_suppressed_not_zero() {
        let range = ReportRange::new(date("2026-03-09"), date("2026-03-10")).expect("range");
        // Day one: 5 conversations (1 missed), answered after 10..50 s. Day two: 2.
        let mut facts: Vec<ConversationFacts> = (0..5)
            .map(|index| {
                fact(
                    at("2026-03-09", 9 * 3600 + index),
                    (index > 0).then_some(index * 10),
                    Some(600),
                    None,
                )
            })
            .collect();
        facts.push(fact(at("2026-03-10", 3600), Some(5), None, None));
        facts.push(fact(at("2026-03-10", 7200), Some(5), None, None));
        let report = compute(range, &facts, &[], &BTreeMap::new(), Vec::new(), (4, 4));
        let platform = suppress(report, 3, &facts);
        assert_eq!(platform.days[0].conversations, Cell::Value(5));
        assert_eq!(platform.days[0].missed, Cell::Value(1));
        assert_eq!(platform.days[1].conversations, Cell::Suppressed);
        assert_eq!(platform.days[1].missed, Cell::Suppressed);
        assert_eq!(platform.days[1].offline_requests, Cell::Suppressed);
        assert_eq!(platform.conversations, Cell::Value(7));
        // Hour 9 has 5, hours 1 and 2 have 1 each, every other hour none: suppressed.
        assert_eq!(platform.hours[9], Cell::Value(5));
        assert_eq!(platform.hours[1], Cell::Suppressed);
        assert_eq!(platform.hours[0], Cell::Suppressed);
        // First responses: 10, 20, 30, 40, 5, 5 -> sorted 5 5 10 20 30 40, median 15.
        assert_eq!(platform.first_response, Cell::Value((15.0, 40.0)));
        // Only 5 ended conversations, all 600 s long.
        assert_eq!(platform.length, Cell::Value((600.0, 600.0)));
        // Four rating answers: too few.
        assert_eq!(platform.csat_percent, Cell::Suppressed);
        assert_eq!(Cell::<u64>::Suppressed.to_string(), "suppressed");
    }

    #[test]
    fn csv_tables_are_guarded() {
        let range = ReportRange::new(date("2026-03-10"), date("2026-03-10")).expect("range");
        let operator = OperatorId::new();
        let names = BTreeMap::from([(operator, "=HYPERLINK(\"x\")".to_owned())]);
        let facts = vec![fact(
            at("2026-03-10", 60),
            Some(30),
            Some(90),
            Some(operator),
        )];
        let report = compute(range, &facts, &[], &names, Vec::new(), (0, 0));
        let operators = report_csv(&report, "operators").expect("table");
        assert!(
            operators.contains(&format!(
                "\"{operator}\",\"'=HYPERLINK(\"\"x\"\")\",\"1\"\r\n"
            )),
            "{operators}"
        );
        let days = report_csv(&report, "days").expect("table");
        assert_eq!(
            days,
            "\"day\",\"conversations\",\"missed\",\"offline_requests\"\r\n\"2026-03-10\",\"1\",\"0\",\"0\"\r\n"
        );
        let times = report_csv(&report, "response_times").expect("table");
        assert!(
            times.contains("\"first_response\",\"1\",\"30.0\",\"30.0\""),
            "{times}"
        );
        assert!(report_csv(&report, "nope").is_none());
    }
}
