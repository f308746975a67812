//! Bringing a run's participants online on each target, and livehelp's end-of-run
//! transcript check.
//!
//! livehelp: the demo operator logs in (password from `<data-dir>/demo-login.txt`); each
//! visitor opens a session over REST, connects, and sends `start_chat`; one setup
//! operator connection accepts every conversation and closes; then the load's operator
//! connections (tabs of the same operator) each `resume` their share of the
//! conversations from `seq` 2. Connecting after the accepts matters: an operator's open
//! tabs follow every chat the operator accepts, so tabs open during the accepts would each
//! receive every conversation.

use std::collections::HashMap;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt, stream};
use livehelp_protocol::ClientFrame;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::chat::Plan;
use crate::corpus::Dialogues;
use crate::servers::Server;
use crate::wire::{self, Socket, Target};

/// Floor and Socket.IO client ids of operators start here (visitors are 0..N).
pub const OPERATOR_ID_BASE: u64 = 1 << 32;

/// How many connections are opened at once during setup.
const SETUP_CONCURRENCY: usize = 64;

/// A run's connections, ready for the load.
pub struct Participants {
    /// One per conversation.
    pub visitors: Vec<Socket>,
    /// The operator connections.
    pub operators: Vec<Socket>,
    /// livehelp: conversation ids, by conversation index.
    pub conversation_ids: Vec<Uuid>,
    /// livehelp: the inverse of `conversation_ids`.
    pub conversation_index: HashMap<Uuid, usize>,
    /// livehelp: the `seq` each conversation's operator connection resumed after.
    pub operator_seq_start: Vec<i64>,
    /// ejabberd: visitors' full JIDs.
    pub visitor_ids: Vec<String>,
    /// ejabberd: operators' full JIDs.
    pub operator_ids: Vec<String>,
}

/// Connects everyone for `plan`.
pub async fn connect(server: &Server, plan: &Plan) -> anyhow::Result<Participants> {
    match server.target {
        Target::Livehelp | Target::LivehelpPg | Target::LivehelpPg3 => {
            connect_livehelp(server, plan).await
        }
        Target::Floor | Target::Socketio => {
            let ws = server.ws();
            let target = server.target;
            let open = |id: u64| {
                let ws = ws.clone();
                async move {
                    match target {
                        Target::Socketio => wire::socketio_connect(&ws, id).await,
                        _ => wire::open(&format!("{ws}/?id={id}"), &[], id as usize).await,
                    }
                }
            };
            let visitors = all((0..plan.conversations as u64).map(open)).await?;
            let operators =
                all((0..plan.operators as u64).map(|index| open(OPERATOR_ID_BASE + index))).await?;
            Ok(Participants {
                visitors,
                operators,
                conversation_ids: Vec::new(),
                conversation_index: HashMap::new(),
                operator_seq_start: vec![0; plan.conversations],
                visitor_ids: Vec::new(),
                operator_ids: Vec::new(),
            })
        }
        Target::Ejabberd => {
            let url = format!("{}/ws", server.ws());
            let login = |index| wire::xmpp_connect(&url, index);
            let visitors = all((0..plan.conversations).map(login)).await?;
            let operators =
                all((0..plan.operators).map(|index| login(plan.conversations + index))).await?;
            let (visitors, visitor_ids) = visitors.into_iter().unzip();
            let (operators, operator_ids) = operators.into_iter().unzip();
            Ok(Participants {
                visitors,
                operators,
                conversation_ids: Vec::new(),
                conversation_index: HashMap::new(),
                operator_seq_start: vec![0; plan.conversations],
                visitor_ids,
                operator_ids,
            })
        }
    }
}

/// Runs the futures, at most [`SETUP_CONCURRENCY`] at once; their results in order.
pub async fn all<T, F>(futures: impl Iterator<Item = F>) -> anyhow::Result<Vec<T>>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut results: Vec<(usize, T)> = stream::iter(futures.enumerate())
        .map(|(index, future)| async move { future.await.map(|value| (index, value)) })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    results.sort_by_key(|(index, _)| *index);
    Ok(results.into_iter().map(|(_, value)| value).collect())
}

/// A `send_message` frame.
pub fn send_message_frame(key: Uuid, conversation_id: Uuid, text: &str) -> String {
    frame(&ClientFrame::SendMessage {
        client_msg_id: key,
        conversation_id,
        text: text.to_owned(),
    })
}

fn frame(frame: &ClientFrame) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}

/// An operator's login: the `Cookie` header value and the CSRF token that writes need.
pub struct Login {
    /// `lh_session=...`.
    pub cookie: String,
    /// For the `X-CSRF-Token` header.
    pub csrf: String,
}

/// Logs the demo operator in; returns the `Cookie` header value. Each login comes from
/// its own source address (livehelp allows a few logins per address and minute).
pub async fn login(server: &Server) -> anyhow::Result<String> {
    static LOGINS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let index = LOGINS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let password = server.password.clone().context("no demo password")?;
    Ok(
        login_as(server, "demo@example.test", &password, index * 7 + 1)
            .await?
            .cookie,
    )
}

/// Logs `email` in from source address number `index`.
pub async fn login_as(
    server: &Server,
    email: &str,
    password: &str,
    index: usize,
) -> anyhow::Result<Login> {
    let http = http_client(index)?;
    let response = http
        .post(format!("{}/api/v1/auth/login", server.http()))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("login of {email} failed: {}", response.status());
    }
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("lh_session="))
        .context("no lh_session cookie")?;
    let cookie = cookie.split(';').next().unwrap_or(cookie).to_owned();
    let body: serde_json::Value = response.json().await?;
    let csrf = body["csrf_token"]
        .as_str()
        .context("no csrf_token in the login answer")?
        .to_owned();
    Ok(Login { cookie, csrf })
}

/// HTTP clients, one per source address, used round robin.
pub struct HttpClients(Vec<reqwest::Client>);

impl HttpClients {
    /// One client for each of the 250 source addresses.
    pub fn new() -> anyhow::Result<HttpClients> {
        Ok(HttpClients(
            (0..250).map(http_client).collect::<anyhow::Result<_>>()?,
        ))
    }

    /// The client for request number `index`.
    pub fn get(&self, index: usize) -> &reqwest::Client {
        &self.0[index % self.0.len()]
    }
}

/// Opens a visitor session over REST on the node of client `index`; returns its token.
pub async fn visitor_session(
    http: &reqwest::Client,
    server: &Server,
    index: usize,
) -> anyhow::Result<String> {
    let response = http
        .post(format!(
            "{}/api/v1/sites/demo-site-key/visitor-sessions",
            server.http_at(index)
        ))
        .json(&serde_json::json!({}))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("visitor session: {}", response.status());
    }
    let body: serde_json::Value = response.json().await?;
    Ok(body["visitor_token"]
        .as_str()
        .context("no visitor_token")?
        .to_owned())
}

/// Connects a visitor socket and waits for `hello`.
pub async fn visitor_socket(server: &Server, token: &str, index: usize) -> anyhow::Result<Socket> {
    let url = format!("{}/api/v1/ws/visitor?token={token}", server.ws_at(index));
    let mut socket = wire::open(&url, &[], index).await?;
    wire::read_until(&mut socket, "hello", |text| text.contains("\"hello\"")).await?;
    Ok(socket)
}

/// Connects an operator socket and waits for `hello`.
pub async fn operator_socket(
    server: &Server,
    cookie: &str,
    index: usize,
) -> anyhow::Result<Socket> {
    let url = format!("{}/api/v1/ws/operator", server.ws_at(index));
    let mut socket = wire::open(&url, &[("Cookie", cookie.to_owned())], index).await?;
    wire::read_until(&mut socket, "hello", |text| text.contains("\"hello\"")).await?;
    Ok(socket)
}

/// An HTTP client whose connections come from `wire::source_address(index)`.
pub fn http_client(index: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .local_address(std::net::IpAddr::V4(wire::source_address(index)))
        .pool_max_idle_per_host(SETUP_CONCURRENCY)
        .build()?)
}

async fn connect_livehelp(server: &Server, plan: &Plan) -> anyhow::Result<Participants> {
    let cookie = login(server).await?;
    let http = HttpClients::new()?;
    let tokens =
        all((0..plan.conversations).map(|index| visitor_session(http.get(index), server, index)))
            .await?;
    let started = all(tokens.iter().enumerate().map(|(index, token)| async move {
        let mut socket = visitor_socket(server, token, index).await?;
        let key = Uuid::new_v4();
        socket
            .send(Message::text(frame(&ClientFrame::StartChat {
                client_msg_id: key,
                department_id: None,
                prechat: None,
            })))
            .await?;
        let ack = wire::read_until(&mut socket, "start_chat ack", |text| {
            text.contains("\"ack\"") || text.contains("\"error\"")
        })
        .await?;
        let ack: serde_json::Value = serde_json::from_str(&ack)?;
        let conversation: Uuid = ack["conversation_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .with_context(|| format!("start_chat was not acked: {ack}"))?;
        Ok((socket, conversation))
    }))
    .await?;
    let (visitors, conversation_ids): (Vec<Socket>, Vec<Uuid>) = started.into_iter().unzip();

    // Accept everything on one setup connection, then close it.
    let mut setup = operator_socket(server, &cookie, plan.conversations).await?;
    for &conversation_id in &conversation_ids {
        setup
            .feed(Message::text(frame(&ClientFrame::Accept {
                client_msg_id: Uuid::new_v4(),
                conversation_id,
            })))
            .await?;
    }
    setup.flush().await?;
    let mut acks = 0;
    while acks < conversation_ids.len() {
        let text = wire::read_until(&mut setup, "accept acks", |text| {
            text.contains("\"ack\"") || text.contains("\"error\"")
        })
        .await?;
        if text.contains("\"error\"") {
            bail!("accept refused: {text}");
        }
        acks += 1;
    }
    let _ = setup.close(None).await;

    let operators = all((0..plan.operators).map(|operator| {
        let cookie = cookie.clone();
        let mine: Vec<Uuid> = conversation_ids
            .iter()
            .enumerate()
            .filter(|(index, _)| index % plan.operators == operator)
            .map(|(_, id)| *id)
            .collect();
        async move {
            let mut socket =
                operator_socket(server, &cookie, plan.conversations + 1 + operator).await?;
            for &conversation_id in &mine {
                socket
                    .feed(Message::text(frame(&ClientFrame::Resume {
                        conversation_id,
                        after_seq: 2,
                    })))
                    .await?;
            }
            socket.flush().await?;
            let mut resumed = 0;
            while resumed < mine.len() {
                wire::read_until(&mut socket, "resumed", |text| text.contains("\"resumed\""))
                    .await?;
                resumed += 1;
            }
            Ok(socket)
        }
    }))
    .await?;
    let conversation_index = conversation_ids
        .iter()
        .enumerate()
        .map(|(index, id)| (*id, index))
        .collect();
    Ok(Participants {
        visitors,
        operators,
        conversation_index,
        operator_seq_start: vec![2; conversation_ids.len()],
        conversation_ids,
        visitor_ids: Vec::new(),
        operator_ids: Vec::new(),
    })
}

/// Fetches every transcript with the demo operator's cookie and compares it with what
/// was sent: `seq` 1..n without a gap, then the visitor's and the operator's lines each in
/// the order they were sent, exactly as typed. Returns the problems found.
pub async fn check_transcripts(
    server: &Server,
    conversation_ids: &[Uuid],
    dialogues: &Dialogues,
    sent_turns: impl Fn(usize) -> u32,
) -> anyhow::Result<Vec<String>> {
    let cookie = login(server).await?;
    let http = http_client(0)?;
    let transcripts = all(conversation_ids.iter().map(|id| {
        let request = http
            .get(format!(
                "{}/api/v1/conversations/{id}/transcript",
                server.http()
            ))
            .header("Cookie", &cookie);
        async move {
            let response = request.send().await?;
            if !response.status().is_success() {
                bail!("transcript {id}: {}", response.status());
            }
            Ok(response.json::<serde_json::Value>().await?)
        }
    }))
    .await?;
    let mut problems = Vec::new();
    for (index, transcript) in transcripts.iter().enumerate() {
        let messages = transcript["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let seqs: Vec<i64> = messages.iter().filter_map(|m| m["seq"].as_i64()).collect();
        if seqs != (1..=messages.len() as i64).collect::<Vec<_>>() {
            problems.push(format!(
                "conversation {index}: transcript seqs are {seqs:?}"
            ));
        }
        let turns = sent_turns(index);
        for (kind, parity) in [("visitor", 0), ("operator", 1)] {
            let stored: Vec<&str> = messages
                .iter()
                .filter(|m| m["kind"] == kind)
                .filter_map(|m| m["text"].as_str())
                .collect();
            let sent: Vec<&str> = (0..turns)
                .filter(|turn| turn % 2 == parity)
                .map(|turn| dialogues.line(index, turn))
                .collect();
            if stored != sent {
                let first = stored
                    .iter()
                    .zip(&sent)
                    .position(|(a, b)| a != b)
                    .unwrap_or(stored.len().min(sent.len()));
                problems.push(format!(
                    "conversation {index}: the transcript has {} {kind} messages, {} were sent; first difference at {first}",
                    stored.len(),
                    sent.len()
                ));
            }
        }
    }
    Ok(problems)
}
