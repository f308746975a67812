//! The `queue` scenario (livehelp only; the peers have no queue): many chat requests,
//! few operators. The demo tenant's general queue is switched to `least_busy` with no
//! chat limit, a few operators log in and go `online`, then the visitors send
//! `start_chat` at an offered rate (open loop: each request is due at `t0 + k / rate`).
//! For each request the generator measures, from its due time, the `ack` (the chat is
//! durably queued) and the `operator_joined` system message (the server assigned an
//! operator and told the visitor). Every request must be assigned exactly once, and each
//! operator must have received every chat assigned to it.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use livehelp_protocol::ClientFrame;
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::servers::Server;
use crate::setup::{self, HttpClients};
use crate::stats::{Samples, Summary, median};
use crate::wire::{self, Target};
use crate::{Bench, report};

/// What one queue run measured.
#[derive(Debug, Clone, Serialize)]
pub struct QueueOutcome {
    /// Chat requests offered per second.
    pub offered: f64,
    /// Chat requests sent.
    pub requests: usize,
    /// Operators online.
    pub operators: usize,
    /// Requests whose visitor saw `operator_joined`.
    pub assigned: usize,
    /// Chats the operators were told they own (`conversation` frames naming them).
    pub seen_by_operators: usize,
    /// Due time to `ack`.
    pub ack: Summary,
    /// Due time to `operator_joined` at the visitor.
    pub assignment: Summary,
    /// Server CPU per request, µs.
    pub server_cpu_us_per_request: f64,
    /// The first few problems.
    pub problems: Vec<String>,
}

/// Shared by the visitor reader tasks.
#[derive(Default)]
struct Seen {
    ack: Samples,
    assignment: Samples,
    acked: usize,
    assigned: usize,
    problems: Vec<String>,
}

/// Runs the scenario `rounds` times (fresh server each) and writes `queue.json`/`.md`.
pub async fn run(context: &Bench) -> anyhow::Result<()> {
    let requests = context.common.conversations.unwrap_or(1000);
    let operators = context.common.operators.unwrap_or(5).max(1);
    let rate = context.common.rate.unwrap_or(200.0);
    let rounds = context.common.rounds.unwrap_or(3);
    let mut outcomes = Vec::new();
    for round in 1..=rounds {
        let server = Server::start(Target::Livehelp, &context.programs)?;
        let outcome = one(&server, requests, operators, rate).await;
        server.stop();
        let outcome = outcome.with_context(|| format!("queue round {round}"))?;
        println!(
            "round {round}: queue {} requests at {:.0}/s, {} operators: assigned {}, ack p50/p99 {:.0}/{:.0} µs, assignment p50/p99/max {:.0}/{:.0}/{:.0} µs, {:.0} µs CPU/request",
            outcome.requests,
            outcome.offered,
            outcome.operators,
            outcome.assigned,
            outcome.ack.p50_us,
            outcome.ack.p99_us,
            outcome.assignment.p50_us,
            outcome.assignment.p99_us,
            outcome.assignment.max_us,
            outcome.server_cpu_us_per_request
        );
        if !outcome.problems.is_empty() || outcome.assigned != outcome.requests {
            bail!(
                "queue round {round}: {} of {} requests assigned, {} seen by operators; {:?}",
                outcome.assigned,
                outcome.requests,
                outcome.seen_by_operators,
                outcome.problems
            );
        }
        outcomes.push(outcome);
    }
    report::write_json(&context.out, "queue.json", &outcomes)?;
    let pick =
        |field: fn(&QueueOutcome) -> f64| median(&outcomes.iter().map(field).collect::<Vec<_>>());
    let table = format!(
        "| requests | offered/s | operators | rounds | ack p50 / p99 µs | assignment p50 / p90 / p99 / max µs | CPU µs/request |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n\
         | {requests} | {rate:.0} | {operators} | {} | {:.0} / {:.0} | {:.0} / {:.0} / {:.0} / {:.0} | {:.0} |\n",
        outcomes.len(),
        pick(|o| o.ack.p50_us),
        pick(|o| o.ack.p99_us),
        pick(|o| o.assignment.p50_us),
        pick(|o| o.assignment.p90_us),
        pick(|o| o.assignment.p99_us),
        pick(|o| o.assignment.max_us),
        pick(|o| o.server_cpu_us_per_request),
    );
    println!("\nqueue (medians over rounds):\n{table}");
    std::fs::write(context.out.join("queue.md"), table)?;
    Ok(())
}

/// Checks an admin REST answer.
async fn expect_ok(response: reqwest::Response, what: &str) -> anyhow::Result<()> {
    if !response.status().is_success() {
        bail!("{what}: {} {}", response.status(), response.text().await?);
    }
    Ok(())
}

async fn one(
    server: &Server,
    requests: usize,
    operators: usize,
    rate: f64,
) -> anyhow::Result<QueueOutcome> {
    // The demo operator is the tenant's admin: switch the general queue to least_busy
    // with no limit, and add operators.
    let admin_password = server.password.clone().context("no demo password")?;
    let admin = setup::login_as(server, "demo@example.test", &admin_password, 3).await?;
    let http = setup::http_client(3)?;
    expect_ok(
        http.patch(format!("{}/api/v1/routing-settings", server.http()))
            .header("Cookie", &admin.cookie)
            .header("X-CSRF-Token", &admin.csrf)
            .json(&serde_json::json!({
                "routing": "least_busy",
                "max_chats_per_operator": null,
                "show_monitoring": false
            }))
            .send()
            .await?,
        "routing settings",
    )
    .await?;
    let password = "queue-bench-operator-pass-7Q";
    let mut cookies = Vec::new();
    for index in 1..operators {
        let email = format!("queue{index}@example.test");
        expect_ok(
            http.post(format!("{}/api/v1/operators", server.http()))
                .header("Cookie", &admin.cookie)
                .header("X-CSRF-Token", &admin.csrf)
                .json(&serde_json::json!({
                    "email": email,
                    "display_name": format!("Queue operator {index}"),
                    "role": "operator",
                    "password": password
                }))
                .send()
                .await?,
            "create operator",
        )
        .await?;
        cookies.push(
            setup::login_as(server, &email, password, 100 + index * 7)
                .await?
                .cookie,
        );
    }
    cookies.push(admin.cookie);

    // Operators connect and go online; their readers count the chats they are given.
    let seen_by_operators = Rc::new(RefCell::new(0usize));
    let mut operator_tasks = Vec::new();
    for (index, cookie) in cookies.iter().enumerate() {
        let url = format!("{}/api/v1/ws/operator", server.ws());
        let mut socket = wire::open(&url, &[("Cookie", cookie.clone())], 50_000 + index).await?;
        let hello =
            wire::read_until(&mut socket, "hello", |text| text.contains("\"hello\"")).await?;
        let hello: serde_json::Value = serde_json::from_str(&hello)?;
        let me = hello["you"]["id"]
            .as_str()
            .context("hello without the operator's id")?
            .to_owned();
        socket
            .send(Message::text(serde_json::to_string(
                &ClientFrame::SetStatus {
                    status: "online".into(),
                },
            )?))
            .await?;
        wire::read_until(&mut socket, "status", |text| text.contains("\"status\"")).await?;
        let seen = seen_by_operators.clone();
        operator_tasks.push(tokio::task::spawn_local(async move {
            let mut mine = std::collections::HashSet::new();
            while let Some(Ok(message)) = socket.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<serde_json::Value>(text.as_str()) else {
                    continue;
                };
                if value["type"] == "conversation"
                    && value["conversation"]["state"] == "active"
                    && value["conversation"]["operator_id"] == me.as_str()
                    && let Some(id) = value["conversation"]["id"].as_str()
                    && mine.insert(id.to_owned())
                {
                    *seen.borrow_mut() += 1;
                }
            }
        }));
    }

    // Visitors: sessions and sockets first (not measured).
    let clients = HttpClients::new()?;
    let tokens = setup::all(
        (0..requests).map(|index| setup::visitor_session(clients.get(index), server, index)),
    )
    .await?;
    let sockets = setup::all(
        tokens
            .iter()
            .enumerate()
            .map(|(index, token)| setup::visitor_socket(server, token, index)),
    )
    .await?;

    let seen = Rc::new(RefCell::new(Seen::default()));
    let start = Instant::now() + Duration::from_millis(50);
    let mut senders = Vec::with_capacity(requests);
    let mut readers = Vec::with_capacity(requests);
    for (index, socket) in sockets.into_iter().enumerate() {
        let (sink, mut stream) = socket.split();
        senders.push(sink);
        let due = start + Duration::from_secs_f64(index as f64 / rate);
        let seen = seen.clone();
        readers.push(tokio::task::spawn_local(async move {
            let (mut acked, mut joined) = (false, false);
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let text = text.as_str();
                let now = Instant::now();
                if !acked && text.contains("\"type\":\"ack\"") {
                    acked = true;
                    let mut seen = seen.borrow_mut();
                    seen.acked += 1;
                    seen.ack.push(now.saturating_duration_since(due));
                } else if text.contains("\"type\":\"error\"") {
                    let mut seen = seen.borrow_mut();
                    if seen.problems.len() < 5 {
                        seen.problems.push(format!("visitor {index}: {text}"));
                    }
                } else if !joined && text.contains("operator_joined") {
                    joined = true;
                    let mut seen = seen.borrow_mut();
                    seen.assigned += 1;
                    seen.assignment.push(now.saturating_duration_since(due));
                }
                if acked && joined {
                    break;
                }
            }
            stream
        }));
    }

    let cpu_before = server.cpu_micros();
    for (index, sink) in senders.iter_mut().enumerate() {
        let due = start + Duration::from_secs_f64(index as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let frame = serde_json::to_string(&ClientFrame::StartChat {
            client_msg_id: Uuid::new_v4(),
            department_id: None,
            prechat: None,
        })?;
        sink.send(Message::text(frame)).await?;
    }
    // Wait for every assignment, at most 30 s after the last request.
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.borrow().assigned < requests && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu = server.cpu_micros().saturating_sub(cpu_before);
    // Let the operators' sockets catch up with the last assignments.
    let deadline = Instant::now() + Duration::from_secs(5);
    while *seen_by_operators.borrow() < requests && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for task in &operator_tasks {
        task.abort();
    }
    for reader in &readers {
        reader.abort();
    }
    let seen = seen.borrow();
    let mut problems = seen.problems.clone();
    if seen.acked != requests {
        problems.push(format!("{} of {requests} start_chat acked", seen.acked));
    }
    let seen_by_operators = *seen_by_operators.borrow();
    if seen_by_operators != requests {
        problems.push(format!(
            "operators were given {seen_by_operators} chats for {requests} requests"
        ));
    }
    Ok(QueueOutcome {
        offered: rate,
        requests,
        operators,
        assigned: seen.assigned,
        seen_by_operators,
        ack: seen.ack.summary(),
        assignment: seen.assignment.summary(),
        server_cpu_us_per_request: cpu as f64 / requests.max(1) as f64,
        problems,
    })
}
