//! `livehelp support list|show|solve|reopen`: the platform's staff read the support
//! requests sent through the public `/support` form (M5). These belong to the platform,
//! not to any tenant, so no tenant role can see them: this CLI, run on the server against
//! its database, is the platform admins' way in. Text typed by requesters is printed with
//! control characters escaped, so it cannot drive the terminal.

use anyhow::Context;
use clap::Subcommand;
use livehelp_domain::{SupportRequest, SupportRequestId, TicketStatus};
use time::OffsetDateTime;

use crate::config::Config;

/// `livehelp support ...`
#[derive(Debug, Subcommand)]
pub enum SupportCommand {
    /// List support requests, newest first.
    List {
        /// Only `open` or `solved` ones.
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Show one request in full.
    Show {
        /// Request id.
        id: String,
    },
    /// Mark a request solved.
    Solve {
        /// Request id.
        id: String,
    },
    /// Open a solved request again.
    Reopen {
        /// Request id.
        id: String,
    },
}

/// Runs a support command.
pub async fn support(config: &Config, command: SupportCommand) -> anyhow::Result<()> {
    let app = crate::admin_cli::app(config).await?;
    let now = OffsetDateTime::now_utc();
    match command {
        SupportCommand::List { status, limit } => {
            let status = status
                .map(|name| {
                    TicketStatus::from_name(&name)
                        .with_context(|| format!("{name:?}: status is open or solved"))
                })
                .transpose()?;
            for request in app.support_requests(status, limit).await? {
                println!(
                    "{}  {}  {}  {}  {}",
                    request.id,
                    request.status.as_str(),
                    rfc3339(request.created_at),
                    safe(&request.email),
                    safe(&request.site_url)
                );
            }
        }
        SupportCommand::Show { id } => print(&app.support_request(request_id(&id)?).await?),
        SupportCommand::Solve { id } => {
            let request = app
                .set_support_request_status(request_id(&id)?, TicketStatus::Solved, now)
                .await?;
            println!("{} solved", request.id);
        }
        SupportCommand::Reopen { id } => {
            let request = app
                .set_support_request_status(request_id(&id)?, TicketStatus::Open, now)
                .await?;
            println!("{} open", request.id);
        }
    }
    app.close().await;
    Ok(())
}

fn print(request: &SupportRequest) {
    println!("id:          {}", request.id);
    println!("status:      {}", request.status.as_str());
    println!("received:    {}", rfc3339(request.created_at));
    println!("email:       {}", safe(&request.email));
    println!("site:        {}", safe(&request.site_url));
    println!("description:");
    for line in request.description.lines() {
        println!("  {}", safe(line));
    }
}

fn request_id(id: &str) -> anyhow::Result<SupportRequestId> {
    id.parse().with_context(|| {
        format!("{id:?} is not a support request id (see `livehelp support list`)")
    })
}

/// Requester-typed text with control characters (escape sequences, bells) escaped.
fn safe(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}
