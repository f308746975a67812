//! `livehelp survey ...`: the platform's own exit survey questions (PRODUCT.md M9), run by
//! platform staff on the server against its database. Platform questions are asked after
//! every tenant's survey; their answers are stored apart from the tenant's and are read
//! here only, never through any tenant's API or console.
//!
//! `livehelp survey platform-questions add --kind rating --label "How was our service?"
//! [--required] [--option A --option B]`, `... list`, `... remove ID`, and
//! `livehelp survey platform-answers [--from YYYY-MM-DD] [--to YYYY-MM-DD]`.

use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use livehelp_app::{App, AppOptions, QuestionInput};
use livehelp_bus::InProcessBus;
use livehelp_domain::QuestionId;
use livehelp_domain::survey::parse_date;
use time::{OffsetDateTime, Time};

use crate::config::Config;

/// `livehelp survey ...`
#[derive(Debug, Subcommand)]
pub enum SurveyCommand {
    /// Manage the platform's own questions, appended to every tenant's survey.
    PlatformQuestions {
        #[command(subcommand)]
        command: PlatformQuestionCommand,
    },
    /// Print the answers to the platform's questions (tab-separated: submitted_at,
    /// question id, answer), oldest first.
    PlatformAnswers {
        /// First day, YYYY-MM-DD (default: 30 days ago).
        #[arg(long)]
        from: Option<String>,
        /// Last day, included, YYYY-MM-DD (default: today, UTC).
        #[arg(long)]
        to: Option<String>,
    },
}

/// `livehelp survey platform-questions ...`
#[derive(Debug, Subcommand)]
pub enum PlatformQuestionCommand {
    /// Add a question after the existing ones.
    Add {
        /// free_text, email, single_choice, multiple_choice, rating, number,
        /// postal_code, age, birth_date or income_band.
        #[arg(long)]
        kind: String,
        /// What the visitor reads.
        #[arg(long)]
        label: String,
        /// The question must be answered for a submission to be accepted.
        #[arg(long)]
        required: bool,
        /// An option (repeatable), for choice and income-band questions.
        #[arg(long = "option")]
        options: Vec<String>,
    },
    /// List the questions, withdrawn ones marked.
    List,
    /// Withdraw a question (no longer asked; its answers are kept).
    Remove {
        /// Question id.
        id: String,
    },
}

/// Runs a survey command.
pub async fn survey(config: &Config, command: SurveyCommand) -> anyhow::Result<()> {
    let store = crate::backends::open_store(config).await?;
    let app = App::new(store, Arc::new(InProcessBus::new()), AppOptions::default());
    let now = OffsetDateTime::now_utc();
    match command {
        SurveyCommand::PlatformQuestions {
            command:
                PlatformQuestionCommand::Add {
                    kind,
                    label,
                    required,
                    options,
                },
        } => {
            let question = app
                .add_platform_question(
                    QuestionInput {
                        kind,
                        label,
                        required,
                        options,
                    },
                    now,
                )
                .await?;
            println!("platform question {} added", question.id);
        }
        SurveyCommand::PlatformQuestions {
            command: PlatformQuestionCommand::List,
        } => {
            for platform in app.platform_questions().await? {
                let question = platform.question;
                let state = if platform.retired_at.is_some() {
                    "removed"
                } else if question.required {
                    "required"
                } else {
                    "optional"
                };
                println!(
                    "{}  {:<15}  {:<8}  {}  {}",
                    question.id,
                    question.kind.as_str(),
                    state,
                    question.label,
                    question.options.join(" | ")
                );
            }
        }
        SurveyCommand::PlatformQuestions {
            command: PlatformQuestionCommand::Remove { id },
        } => {
            let question: QuestionId = id
                .parse()
                .with_context(|| format!("{id:?} is not a question id"))?;
            app.retire_platform_question(question, now).await?;
            println!("platform question {id} removed");
        }
        SurveyCommand::PlatformAnswers { from, to } => {
            let day = |value: Option<String>, default: time::Date| -> anyhow::Result<time::Date> {
                match value {
                    None => Ok(default),
                    Some(text) => {
                        parse_date(&text).with_context(|| format!("{text:?} is not YYYY-MM-DD"))
                    }
                }
            };
            let to = day(to, now.date())?;
            let from = day(from, to - time::Duration::days(30))?;
            let start = from.with_time(Time::MIDNIGHT).assume_utc();
            let end = to.with_time(Time::MIDNIGHT).assume_utc() + time::Duration::days(1);
            for answer in app.platform_answers(start, end).await? {
                let when = answer
                    .submitted_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                // One line per answer: line breaks inside an answer are shown as \n.
                println!(
                    "{when}\t{}\t{}",
                    answer.question_id,
                    answer.value.replace('\\', "\\\\").replace('\n', "\\n")
                );
            }
        }
    }
    app.close().await;
    Ok(())
}
