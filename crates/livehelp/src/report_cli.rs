//! `livehelp visitor ...` and `livehelp report ...`, run by platform staff on the server
//! against its database (issue 6 items 5 and 6).
//!
//! `livehelp visitor find --email X | --name X` lists the visitors of every tenant who
//! gave that email or name (tab-separated: visitor id, tenant id, name, email, first
//! seen); `livehelp visitor update VISITOR_ID [--name ..] [--email ..]` corrects them for
//! a request received by email (an empty value clears the field), audited in the
//! visitor's tenant as the command line with the old values redacted (M16).
//!
//! `livehelp report [--from YYYY-MM-DD] [--to YYYY-MM-DD]` prints the platform's
//! aggregates across all tenants: no tenant, operator, page or person in it, and every
//! cell computed from fewer than 5 items shown as `suppressed` (M9; docs/reports.md).

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use livehelp_app::{App, AppOptions, Cell, DetailsChange, ReportRange};
use livehelp_bus::InProcessBus;
use livehelp_domain::{Email, VisitorId, VisitorName};
use livehelp_store::VisitorSearch;
use time::OffsetDateTime;

use crate::config::Config;

/// `livehelp visitor ...`
#[derive(Debug, Subcommand)]
pub enum VisitorCommand {
    /// Find visitors of every tenant by the email or the name they gave.
    Find {
        /// The email (any case).
        #[arg(long, conflicts_with = "name", required_unless_present = "name")]
        email: Option<String>,
        /// The name (ASCII case does not matter).
        #[arg(long)]
        name: Option<String>,
    },
    /// Correct a visitor's name and/or email (an empty value clears it).
    Update {
        /// The visitor's id.
        id: String,
        /// The new name.
        #[arg(long)]
        name: Option<String>,
        /// The new email.
        #[arg(long)]
        email: Option<String>,
    },
}

/// Runs a visitor command.
pub async fn visitor(config: &Config, command: VisitorCommand) -> anyhow::Result<()> {
    let app = open(config).await?;
    let result = run_visitor(&app, command).await;
    app.close().await;
    result
}

/// Prints the platform's report.
pub async fn report(
    config: &Config,
    from: Option<String>,
    to: Option<String>,
) -> anyhow::Result<()> {
    let range = ReportRange::parse(
        from.as_deref(),
        to.as_deref(),
        OffsetDateTime::now_utc().date(),
    )?;
    let app = open(config).await?;
    let report = app.platform_report(range).await;
    app.close().await;
    let report = report?;
    println!(
        "livehelp platform report {} to {} (UTC days; all {} tenants together; cells from fewer than {} items are suppressed)",
        report.range.from,
        report.range.to,
        report.tenants,
        livehelp_app::MIN_AGGREGATE_COUNT
    );
    println!();
    println!("conversations\t{}", report.conversations);
    println!("missed\t{}", report.missed);
    println!(
        "first response median/p90 s\t{}",
        seconds_pair(report.first_response)
    );
    println!("length median/p90 s\t{}", seconds_pair(report.length));
    println!(
        "csat %\t{}",
        match report.csat_percent {
            Cell::Value(percent) => format!("{percent:.1}"),
            Cell::Suppressed => "suppressed".to_owned(),
        }
    );
    println!();
    println!("day\tconversations\tmissed\toffline_requests");
    for day in &report.days {
        println!(
            "{}\t{}\t{}\t{}",
            day.day, day.conversations, day.missed, day.offline_requests
        );
    }
    println!();
    println!("hour_utc\tconversations");
    for (hour, cell) in report.hours.iter().enumerate() {
        println!("{hour:02}:00\t{cell}");
    }
    Ok(())
}

async fn run_visitor(app: &App, command: VisitorCommand) -> anyhow::Result<()> {
    match command {
        VisitorCommand::Find { email, name } => {
            let search = match (email, name) {
                (Some(email), _) => VisitorSearch::Email(
                    Email::parse(&email).with_context(|| format!("{email:?} is not an email"))?,
                ),
                (None, Some(name)) => match VisitorName::parse_optional(Some(name.clone())) {
                    Ok(Some(name)) => VisitorSearch::Name(name),
                    _ => bail!("{name:?} is not a name a visitor could give"),
                },
                (None, None) => bail!("give --email or --name"),
            };
            let found = app.find_visitors_everywhere(&search).await?;
            if found.is_empty() {
                eprintln!("no visitor found");
            }
            for visitor in found {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    visitor.id,
                    visitor.tenant_id,
                    visitor
                        .details
                        .name
                        .as_ref()
                        .map_or("", |name| name.as_str()),
                    visitor
                        .details
                        .email
                        .as_ref()
                        .map_or("", |email| email.as_str()),
                    visitor.created_at.date()
                );
            }
        }
        VisitorCommand::Update { id, name, email } => {
            if name.is_none() && email.is_none() {
                bail!("give --name and/or --email");
            }
            let visitor: VisitorId = id
                .parse()
                .with_context(|| format!("{id:?} is not a visitor id"))?;
            let (tenant, details) = match app
                .correct_visitor_details_as_platform(
                    visitor,
                    DetailsChange { name, email },
                    OffsetDateTime::now_utc(),
                )
                .await
            {
                Ok(done) => done,
                Err(livehelp_app::AppError::NotFound) => bail!("no visitor {id}"),
                Err(other) => return Err(other.into()),
            };
            println!(
                "visitor {visitor} of tenant {tenant} now: name {:?}, email {:?}",
                details.name.as_ref().map_or("", |name| name.as_str()),
                details.email.as_ref().map_or("", |email| email.as_str()),
            );
        }
    }
    Ok(())
}

fn seconds_pair(cell: Cell<(f64, f64)>) -> String {
    match cell {
        Cell::Value((median, p90)) => format!("{median:.1} / {p90:.1}"),
        Cell::Suppressed => "suppressed".to_owned(),
    }
}

async fn open(config: &Config) -> anyhow::Result<App> {
    let store = crate::backends::open_store(config).await?;
    Ok(App::new(
        store,
        Arc::new(InProcessBus::new()),
        AppOptions::default(),
    ))
}
