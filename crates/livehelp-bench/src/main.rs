//! `livehelp-bench`: livehelp's load generator and side-by-side benchmark.
//!
//! It drives livehelp over its real protocol (REST visitor sessions, visitor and operator
//! WebSockets, `start_chat` / `accept` / `resume` / `send_message` / `ack`) with real
//! dialogues from `chatterbot-corpus`, at an offered rate (open loop, warm-up not
//! counted), and measures the same work on a bare relay (the floor, `floor-server`),
//! Socket.IO 4.8 and ejabberd, interleaving targets round by round so that ratios
//! measured in one run hold on a noisy shared machine. `docs/benchmarks.md` explains the
//! method and records the figures; `bench/run.sh` runs everything.

mod chat;
mod conns;
mod corpus;
mod floor;
mod queue;
mod report;
mod servers;
mod setup;
mod stats;
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::chat::{Outcome, Plan};
use crate::corpus::Dialogues;
use crate::report::{ChatRow, Curve};
use crate::servers::{Programs, Server};
use crate::wire::Target;

/// livehelp's load generator and benchmark.
#[derive(Debug, Parser)]
#[command(name = "livehelp-bench", about)]
struct Cli {
    #[command(subcommand)]
    command: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// A few seconds, small: fails loudly on any lost, duplicated or reordered message or
    /// transcript mismatch; asserts nothing about speed (CI).
    Smoke(Common),
    /// 1,000 conversations, 1,000 msg/s.
    Steady(Common),
    /// Ramps the offered rate until p99 > 10 ms, loss, or the rate is not achieved.
    Throughput(Common),
    /// 1,000 msg/s with ten times that for 10 s in the middle of the measured window:
    /// latency inside the burst and how fast it recovers.
    Burst(Common),
    /// Many chat requests, few operators (livehelp only: the peers have no queue): time
    /// from `start_chat` to an operator's assignment under automatic routing.
    Queue(Common),
    /// A fixed 20,000 msg/s: server CPU per message.
    Cpu(Common),
    /// N idle visitor connections: server RSS per connection.
    Idle(Common),
    /// New visitor connections per second (connect, handshake, close).
    Reconnect(Common),
    /// Rounds of connecting and dropping clients: RSS drift.
    Leak(Common),
    /// Scale-out profile (issue 9): livehelp on SQLite, on PostgreSQL + NATS with one
    /// node, and with three nodes (clients spread over them), interleaved in one run at
    /// 1,000 conversations and 1,000 msg/s; ratios to the SQLite single node.
    Scale(Common),
    /// Every scenario above except smoke and scale, then the report.
    All(Common),
    /// The floor relay (used by the benchmark itself).
    FloorServer {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
    /// Downloads and unpacks the corpus into the data folder.
    FetchCorpus {
        /// Cache folder.
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

/// Options shared by the scenarios; each scenario has its own defaults.
#[derive(Debug, Clone, Args)]
struct Common {
    /// Targets, in the order they run each round.
    #[arg(long, value_delimiter = ',')]
    targets: Option<Vec<Target>>,
    /// Rounds (targets interleaved A B C A B C); figures are medians over rounds.
    #[arg(long)]
    rounds: Option<usize>,
    /// Measured seconds per run.
    #[arg(long)]
    seconds: Option<f64>,
    /// Warm-up seconds per run (sent, not counted).
    #[arg(long)]
    warmup: Option<f64>,
    /// Offered msg/s (steady, cpu, smoke).
    #[arg(long)]
    rate: Option<f64>,
    /// Concurrent conversations.
    #[arg(long)]
    conversations: Option<usize>,
    /// Operator connections.
    #[arg(long)]
    operators: Option<usize>,
    /// Idle connections (idle) or clients per round (leak).
    #[arg(long)]
    connections: Option<usize>,
    /// Concurrent connect loops (reconnect).
    #[arg(long)]
    concurrency: Option<usize>,
    /// The livehelp binary (default: `livehelp` beside this binary).
    #[arg(long)]
    livehelp: Option<PathBuf>,
    /// Do not pin servers to core 0 with taskset.
    #[arg(long)]
    no_pin: bool,
    /// Results folder (default target/bench-results).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Corpus cache (default target/bench-data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// PostgreSQL server for the livehelp-pg targets; each run creates (and drops) a
    /// fresh database there with `psql`.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// NATS server for the livehelp-pg targets.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        match cli.command {
            Scenario::FloorServer { listen } => floor::serve(listen).await,
            Scenario::FetchCorpus { data } => {
                let path =
                    corpus::fetch(&data.unwrap_or_else(|| workspace().join("target/bench-data")))?;
                println!("{}", path.display());
                Ok(())
            }
            Scenario::Smoke(common) => smoke(&Bench::new(&common)?).await,
            Scenario::Steady(common) => steady(&Bench::new(&common)?).await.map(drop),
            Scenario::Throughput(common) => throughput(&Bench::new(&common)?).await.map(drop),
            Scenario::Burst(common) => burst(&Bench::new(&common)?).await.map(drop),
            Scenario::Queue(common) => queue::run(&Bench::new(&common)?).await,
            Scenario::Cpu(common) => cpu(&Bench::new(&common)?).await.map(drop),
            Scenario::Idle(common) => idle(&Bench::new(&common)?).await,
            Scenario::Reconnect(common) => reconnect(&Bench::new(&common)?).await,
            Scenario::Leak(common) => leak(&Bench::new(&common)?).await,
            Scenario::Scale(common) => scale(&Bench::new(&common)?).await.map(drop),
            Scenario::All(common) => {
                let context = Bench::new(&common)?;
                steady(&context).await?;
                burst(&context).await?;
                queue::run(&context).await?;
                cpu(&context).await?;
                throughput(&context).await?;
                idle(&context).await?;
                reconnect(&context).await?;
                leak(&context).await
            }
        }
    })
}

/// The workspace root (this crate is `crates/livehelp-bench`).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Everything a scenario needs.
struct Bench {
    common: Common,
    programs: Programs,
    out: PathBuf,
    data: PathBuf,
}

impl Bench {
    fn new(common: &Common) -> anyhow::Result<Bench> {
        let livehelp = match &common.livehelp {
            Some(path) => path.clone(),
            None => std::env::current_exe()?
                .parent()
                .context("no folder for this binary")?
                .join("livehelp"),
        };
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let out = common
            .out
            .clone()
            .unwrap_or_else(|| workspace().join("target/bench-results"));
        std::fs::create_dir_all(&out)?;
        Ok(Bench {
            common: common.clone(),
            programs: Programs {
                livehelp,
                peers: workspace().join("bench/peers"),
                pin: cores >= 2 && !common.no_pin,
                postgres_url: common.postgres_url.clone(),
                nats_url: common.nats_url.clone(),
            },
            out,
            data: common
                .data
                .clone()
                .unwrap_or_else(|| workspace().join("target/bench-data")),
        })
    }

    fn targets(&self, default: &[Target]) -> Vec<Target> {
        self.common
            .targets
            .clone()
            .unwrap_or_else(|| default.to_vec())
    }

    fn plan(
        &self,
        conversations: usize,
        operators: usize,
        rate: f64,
        warmup: f64,
        seconds: f64,
    ) -> Plan {
        Plan {
            conversations: self.common.conversations.unwrap_or(conversations),
            operators: self.common.operators.unwrap_or(operators),
            rate: self.common.rate.unwrap_or(rate),
            warmup: Duration::from_secs_f64(self.common.warmup.unwrap_or(warmup)),
            measure: Duration::from_secs_f64(self.common.seconds.unwrap_or(seconds)),
            burst: None,
        }
    }

    fn dialogues(&self) -> anyhow::Result<Dialogues> {
        let dialogues = Dialogues::load(&self.data)?;
        println!(
            "corpus: {} dialogues in {} languages, {:.0} bytes per line on average",
            dialogues.len(),
            dialogues.languages,
            dialogues.mean_bytes()
        );
        Ok(dialogues)
    }
}

const ALL: [Target; 4] = [
    Target::Livehelp,
    Target::Floor,
    Target::Socketio,
    Target::Ejabberd,
];

/// Runs `plan` on every target, `rounds` times, targets interleaved; a fresh server for
/// each run. Returns each target's outcomes.
async fn chat_rounds(
    context: &Bench,
    targets: &[Target],
    rounds: usize,
    plan: Plan,
    dialogues: &Dialogues,
) -> anyhow::Result<BTreeMap<&'static str, Vec<Outcome>>> {
    let mut outcomes: BTreeMap<&'static str, Vec<Outcome>> = BTreeMap::new();
    for round in 1..=rounds {
        for &target in targets {
            let server = Server::start(target, &context.programs)?;
            if let Some(ready_ms) = server.ready_ms {
                tokio::time::sleep(Duration::from_millis(200)).await;
                println!(
                    "livehelp ready in {ready_ms} ms (serve --demo, fresh data dir), RSS at rest {} KiB",
                    server.rss_kib()
                );
            }
            let outcome = chat::run_checked(&server, plan, dialogues).await;
            server.stop();
            // A target that fails is reported and left out; the others still count.
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(error) => {
                    eprintln!("round {round}: {} failed: {error:#}", target.name());
                    continue;
                }
            };
            println!("round {round}: {}", chat::describe(&outcome));
            outcomes.entry(target.name()).or_default().push(outcome);
        }
    }
    Ok(outcomes)
}

fn rows(outcomes: &BTreeMap<&'static str, Vec<Outcome>>, targets: &[Target]) -> Vec<ChatRow> {
    targets
        .iter()
        .filter_map(|target| {
            outcomes
                .get(target.name())
                .and_then(|list| ChatRow::of(list))
        })
        .collect()
}

async fn smoke(context: &Bench) -> anyhow::Result<()> {
    let dialogues = context.dialogues()?;
    let targets = context.targets(&[Target::Livehelp, Target::Floor]);
    // 1 visitor message per second per visitor: under livehelp's per-visitor limit.
    let plan = context.plan(50, 5, 100.0, 0.5, 2.5);
    let outcomes = chat_rounds(
        context,
        &targets,
        context.common.rounds.unwrap_or(1),
        plan,
        &dialogues,
    )
    .await?;
    for target in &targets {
        if !outcomes.contains_key(target.name()) {
            anyhow::bail!("smoke: the {} run failed", target.name());
        }
    }
    for list in outcomes.values() {
        for outcome in list {
            chat::require_clean(outcome)?;
            if outcome.target.is_livehelp() && outcome.transcripts_checked == 0 {
                anyhow::bail!("livehelp transcripts were not checked");
            }
        }
    }
    println!("smoke: every message delivered once, in order; every transcript matches");
    Ok(())
}

/// One chat scenario's runs: `plan` on every target, interleaved round by round, the
/// outcomes written to `<name>.json`; returns them and each target's median row.
async fn measure(
    context: &Bench,
    name: &str,
    targets: &[Target],
    plan: Plan,
) -> anyhow::Result<(BTreeMap<&'static str, Vec<Outcome>>, Vec<ChatRow>)> {
    let dialogues = context.dialogues()?;
    let outcomes = chat_rounds(
        context,
        targets,
        context.common.rounds.unwrap_or(3),
        plan,
        &dialogues,
    )
    .await?;
    report::write_json(&context.out, &format!("{name}.json"), &outcomes)?;
    let rows = rows(&outcomes, targets);
    Ok((outcomes, rows))
}

/// Prints a scenario's Markdown under its heading and writes it to `<name>.md`.
fn publish(context: &Bench, name: &str, heading: &str, markdown: &str) -> anyhow::Result<()> {
    println!("\n{heading}:\n{markdown}");
    std::fs::write(context.out.join(format!("{name}.md")), markdown)?;
    Ok(())
}

async fn steady(context: &Bench) -> anyhow::Result<Vec<ChatRow>> {
    let targets = context.targets(&ALL);
    let plan = context.plan(1000, 20, 1000.0, 3.0, 10.0);
    let (_, rows) = measure(context, "steady", &targets, plan).await?;
    let table = report::chat_table(&rows, Target::Floor);
    let heading = format!(
        "steady ({} conversations, {} msg/s)",
        plan.conversations, plan.rate
    );
    publish(context, "steady", &heading, &table)?;
    Ok(rows)
}

async fn burst(context: &Bench) -> anyhow::Result<Vec<ChatRow>> {
    let targets = context.targets(&ALL);
    // 5 s at the base rate, 10 s at ten times it, 5 s at the base rate again.
    let plan = Plan {
        burst: Some(chat::Burst {
            after: Duration::from_secs(5),
            length: Duration::from_secs(10),
            factor: 10.0,
        }),
        ..context.plan(1000, 100, 1000.0, 2.0, 20.0)
    };
    let (outcomes, rows) = measure(context, "burst", &targets, plan).await?;
    let table = report::chat_table(&rows, Target::Floor);
    let bursts = report::burst_table(&outcomes, &targets);
    let heading = format!(
        "burst ({} conversations, {} msg/s with {} msg/s for 10 s)",
        plan.conversations,
        plan.rate,
        plan.rate * 10.0
    );
    publish(context, "burst", &heading, &format!("{table}\n{bursts}"))?;
    Ok(rows)
}

async fn scale(context: &Bench) -> anyhow::Result<Vec<ChatRow>> {
    let targets = context.targets(&[Target::Livehelp, Target::LivehelpPg, Target::LivehelpPg3]);
    let plan = context.plan(1000, 20, 1000.0, 3.0, 10.0);
    let (outcomes, rows) = measure(context, "scale", &targets, plan).await?;
    let table = report::chat_table(&rows, Target::Livehelp);
    let heading = format!(
        "scale ({} conversations, {} msg/s; ratios to livehelp on SQLite)",
        plan.conversations, plan.rate
    );
    publish(context, "scale", &heading, &table)?;
    // The figures are written either way; a run with a fault still fails.
    for target in &targets {
        if !outcomes.contains_key(target.name()) {
            anyhow::bail!("scale: every {} run failed", target.name());
        }
    }
    for list in outcomes.values() {
        for outcome in list {
            chat::require_clean(outcome)?;
            if outcome.transcripts_checked == 0 {
                anyhow::bail!("{}: transcripts were not checked", outcome.target.name());
            }
        }
    }
    Ok(rows)
}

async fn cpu(context: &Bench) -> anyhow::Result<Vec<ChatRow>> {
    let targets = context.targets(&ALL);
    let plan = context.plan(1000, 100, 20_000.0, 2.0, 8.0);
    let (_, rows) = measure(context, "cpu", &targets, plan).await?;
    let table = report::chat_table(&rows, Target::Floor);
    publish(
        context,
        "cpu",
        &format!("cpu ({} msg/s offered)", plan.rate),
        &table,
    )?;
    Ok(rows)
}

async fn throughput(context: &Bench) -> anyhow::Result<Vec<Curve>> {
    let dialogues = context.dialogues()?;
    let targets = context.targets(&ALL);
    let steps = [
        1_000.0, 2_000.0, 5_000.0, 10_000.0, 20_000.0, 30_000.0, 40_000.0, 60_000.0, 80_000.0,
    ];
    let mut curves = Vec::new();
    let mut all_outcomes: BTreeMap<&'static str, Vec<Outcome>> = BTreeMap::new();
    let mut summary = String::from(
        "| target | highest rate with p99 ≤ 10 ms, no loss | first failing step |\n| --- | --- | --- |\n",
    );
    for &target in &targets {
        let mut points = Vec::new();
        let mut best = 0.0;
        let mut failed = String::from("none up to 80k");
        for &rate in &steps {
            let plan = Plan {
                rate,
                ..context.plan(1000, 100, rate, 1.0, 4.0)
            };
            let server = Server::start(target, &context.programs)?;
            let outcome = chat::run_checked(&server, plan, &dialogues).await;
            server.stop();
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(error) => {
                    failed = format!("{rate:.0}/s: the run failed: {error:#}");
                    eprintln!("ramp: {} {failed}", target.name());
                    break;
                }
            };
            println!("ramp: {}", chat::describe(&outcome));
            points.push((rate, outcome.end_to_end.p50_us, outcome.end_to_end.p99_us));
            let passed = outcome.is_clean()
                && outcome.end_to_end.p99_us <= 10_000.0
                && outcome.achieved >= 0.95 * rate;
            all_outcomes
                .entry(target.name())
                .or_default()
                .push(outcome.clone());
            if !passed {
                failed = format!(
                    "{rate:.0}/s: p99 {:.1} ms, achieved {:.0}/s, lost {}",
                    outcome.end_to_end.p99_us / 1000.0,
                    outcome.achieved,
                    outcome.lost
                );
                break;
            }
            best = rate;
        }
        summary.push_str(&format!(
            "| {} | {best:.0} msg/s | {failed} |\n",
            target.name()
        ));
        curves.push(Curve { target, points });
    }
    report::write_json(&context.out, "throughput.json", &all_outcomes)?;
    let chart = report::latency_chart(
        &curves,
        "End-to-end latency against offered load (1,000 conversations)",
    );
    std::fs::write(context.out.join("latency-vs-load.svg"), chart)?;
    println!("\nthroughput:\n{summary}");
    std::fs::write(context.out.join("throughput.md"), &summary)?;
    Ok(curves)
}

/// The most connections this process (and the server, which has the same limit) can hold.
fn connection_budget() -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits.lines().find_map(|line| {
                line.strip_prefix("Max open files")
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|soft| soft.parse::<usize>().ok())
            })
        })
        .unwrap_or(1024);
    limit.saturating_sub(500)
}

async fn idle(context: &Bench) -> anyhow::Result<()> {
    let targets = context.targets(&ALL);
    let wanted = context.common.connections.unwrap_or(10_000);
    let connections = wanted.min(connection_budget());
    if connections < wanted {
        println!("idle: {wanted} connections asked, the open-file limit allows {connections}");
    }
    let mut outcomes = Vec::new();
    let mut table = String::from(
        "| target | connections | RSS before MiB | RSS after MiB | bytes per connection | ratio to floor | connects/s while filling |\n| --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for round in 1..=context.common.rounds.unwrap_or(1) {
        for &target in &targets {
            let server = Server::start(target, &context.programs)?;
            let outcome = conns::idle(&server, connections).await;
            server.stop();
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(error) => {
                    eprintln!("idle on {} failed: {error:#}", target.name());
                    continue;
                }
            };
            println!(
                "round {round}: {:<9} {} idle: RSS {} -> {} KiB, {:.0} bytes per connection",
                target.name(),
                outcome.connections,
                outcome.rss_before_kib,
                outcome.rss_after_kib,
                outcome.bytes_per_connection
            );
            outcomes.push(outcome);
        }
    }
    let per = |target: Target| {
        stats::median(
            &outcomes
                .iter()
                .filter(|o| o.target == target)
                .map(|o| o.bytes_per_connection)
                .collect::<Vec<_>>(),
        )
    };
    let floor = per(Target::Floor);
    for &target in &targets {
        let Some(last) = outcomes.iter().rev().find(|o| o.target == target) else {
            continue;
        };
        let bytes = per(target);
        table.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.0} | {} | {:.0} |\n",
            target.name(),
            last.connections,
            last.rss_before_kib as f64 / 1024.0,
            last.rss_after_kib as f64 / 1024.0,
            bytes,
            if floor > 0.0 {
                format!("{:.2}×", bytes / floor)
            } else {
                "—".into()
            },
            last.connect_rate
        ));
    }
    println!("\nidle:\n{table}");
    report::write_json(&context.out, "idle.json", &outcomes)?;
    std::fs::write(context.out.join("idle.md"), &table)?;
    Ok(())
}

async fn reconnect(context: &Bench) -> anyhow::Result<()> {
    let targets = context.targets(&ALL);
    let seconds = Duration::from_secs_f64(context.common.seconds.unwrap_or(5.0));
    let concurrency = context.common.concurrency.unwrap_or(32);
    let mut outcomes = Vec::new();
    for round in 1..=context.common.rounds.unwrap_or(3) {
        for &target in &targets {
            let server = Server::start(target, &context.programs)?;
            let outcome = conns::reconnect(&server, seconds, concurrency).await;
            server.stop();
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(error) => {
                    eprintln!("reconnect on {} failed: {error:#}", target.name());
                    continue;
                }
            };
            println!(
                "round {round}: {:<9} {:.0} connections/s ({} in {:.0} s, {} errors), server {:.0} µs CPU each, {:.0}% of a core",
                target.name(),
                outcome.per_second,
                outcome.connections,
                seconds.as_secs_f64(),
                outcome.errors,
                outcome.server_cpu_us_per_connection,
                outcome.server_cpu_percent
            );
            outcomes.push(outcome);
        }
    }
    let median_of = |target: Target, field: fn(&conns::ReconnectOutcome) -> f64| {
        stats::median(
            &outcomes
                .iter()
                .filter(|o| o.target == target)
                .map(field)
                .collect::<Vec<_>>(),
        )
    };
    let floor = median_of(Target::Floor, |o| o.per_second);
    let mut table = String::from(
        "| target | connections/s | ratio to floor | server CPU µs per connection | server CPU % |\n| --- | --- | --- | --- | --- |\n",
    );
    for &target in &targets {
        let rate = median_of(target, |o| o.per_second);
        table.push_str(&format!(
            "| {} | {rate:.0} | {} | {:.0} | {:.0} |\n",
            target.name(),
            if floor > 0.0 {
                format!("{:.2}×", rate / floor)
            } else {
                "—".into()
            },
            median_of(target, |o| o.server_cpu_us_per_connection),
            median_of(target, |o| o.server_cpu_percent),
        ));
    }
    println!("\nreconnect:\n{table}");
    report::write_json(&context.out, "reconnect.json", &outcomes)?;
    std::fs::write(context.out.join("reconnect.md"), &table)?;
    Ok(())
}

async fn leak(context: &Bench) -> anyhow::Result<()> {
    let targets = context.targets(&[Target::Livehelp, Target::Floor]);
    let clients = context
        .common
        .connections
        .unwrap_or(10_000)
        .min(connection_budget());
    let rounds = context.common.rounds.unwrap_or(10);
    let mut table = String::from(
        "| target | clients per round | RSS after round 1 MiB | after last round MiB | drift |\n| --- | --- | --- | --- | --- |\n",
    );
    let mut outcomes = Vec::new();
    for &target in &targets {
        let server = Server::start(target, &context.programs)?;
        let outcome = conns::leak(&server, clients, rounds).await;
        server.stop();
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                eprintln!("leak on {} failed: {error:#}", target.name());
                continue;
            }
        };
        println!(
            "{:<9} RSS after each round (KiB): {:?}, drift {:+.1}%",
            target.name(),
            outcome.rss_after_round_kib,
            outcome.drift_percent
        );
        table.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:+.1}% |\n",
            target.name(),
            clients,
            outcome.rss_after_round_kib.first().copied().unwrap_or(0) as f64 / 1024.0,
            outcome.rss_after_round_kib.last().copied().unwrap_or(0) as f64 / 1024.0,
            outcome.drift_percent
        ));
        outcomes.push(outcome);
    }
    println!("\nleak:\n{table}");
    report::write_json(&context.out, "leak.json", &outcomes)?;
    std::fs::write(context.out.join("leak.md"), &table)?;
    Ok(())
}
