//! Durability: messages acked by a real `livehelp serve` process survive a SIGKILL (no
//! graceful stop), and a restart on the same data dir serves them, gapless and in order.
//! The randomized test (issue 8, "Crash safety") does the same under a load of concurrent
//! conversations, killing and restarting the server at random moments for several cycles.
//! Also checks that `serve --demo` is ready quickly and that a second start reuses the demo.

#[path = "../../livehelp-server/tests/api/client.rs"]
mod client;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use client::WsClient;
use livehelp_protocol::rest::{TranscriptResponse, VisitorSessionResponse};
use livehelp_protocol::{ClientFrame, ServerFrame};
use serde_json::{Value, json};
use uuid::Uuid;

/// A `livehelp serve --demo` child process.
struct Running {
    child: Child,
    base: String,
}

/// Starts the binary on a free port and waits (reading its log, never sleeping) until it
/// says it is ready.
fn start(data_dir: &Path) -> Running {
    start_with(data_dir, &[])
}

/// [`start`] with extra `serve` flags.
fn start_with(data_dir: &Path, extra: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_livehelp"))
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            // The test pipelines 400 messages from one visitor: lift the per-visitor limit.
            "--visitor-message-burst",
            "1000",
            "--data-dir",
        ])
        .arg(data_dir)
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("livehelp starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("livehelp exited before it was ready")
            .expect("log line");
        let Ok(entry) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if entry["fields"]["message"] == "livehelp is ready" {
            break entry["fields"]["address"]
                .as_str()
                .expect("address")
                .to_owned();
        }
    };
    // Keep draining the log so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Running {
        child,
        base: format!("http://{address}"),
    }
}

async fn login(http: &reqwest::Client, base: &str, data_dir: &Path) -> String {
    let password =
        std::fs::read_to_string(data_dir.join("demo-login.txt")).expect("demo credentials");
    let response = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "demo@example.test", "password": password.trim()}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200);
    response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_messages_survive_sigkill_and_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let http = reqwest::Client::new();
    let mut server = start(dir.path());

    let session: VisitorSessionResponse = http
        .post(format!(
            "{}/api/v1/sites/demo-site-key/visitor-sessions",
            server.base
        ))
        .json(&json!({"name": "Crash Test 💥"}))
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    let mut visitor = WsClient::visitor(&server.base, &session.visitor_token).await;
    visitor
        .wait_for("hello", |f| matches!(f, ServerFrame::Hello { .. }))
        .await;
    let conversation = visitor.start_chat().await;

    // Pipeline 400 messages, read acks until 150 have arrived, then kill -9 mid-stream.
    let texts: Vec<String> = (0..400).map(|i| format!("message {i} ✓")).collect();
    let ids: Vec<Uuid> = texts.iter().map(|_| Uuid::new_v4()).collect();
    for (id, text) in ids.iter().zip(&texts) {
        visitor
            .send(&ClientFrame::SendMessage {
                client_msg_id: *id,
                conversation_id: conversation,
                text: text.clone(),
            })
            .await;
    }
    let mut acked = Vec::new();
    while acked.len() < 150 {
        if let Some(ServerFrame::Ack {
            client_msg_id, seq, ..
        }) = visitor.next().await
        {
            acked.push((client_msg_id, seq));
        }
    }
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    drop(visitor);

    let server = start(dir.path());
    let cookie = login(&http, &server.base, dir.path()).await;
    let transcript: TranscriptResponse = http
        .get(format!(
            "{}/api/v1/conversations/{conversation}/transcript",
            server.base
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("transcript")
        .json()
        .await
        .expect("json");
    let seqs: Vec<i64> = transcript.messages.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "gapless after the crash"
    );
    for (id, seq) in &acked {
        let stored = transcript
            .messages
            .iter()
            .find(|m| m.client_msg_id == Some(*id))
            .expect("an acked message was lost");
        assert_eq!(stored.seq, *seq);
        let index = ids.iter().position(|x| x == id).expect("known id");
        assert_eq!(stored.text, texts[index]);
    }
    let stored_texts: Vec<&str> = transcript
        .messages
        .iter()
        .filter(|m| m.kind == "visitor")
        .map(|m| m.text.as_str())
        .collect();
    let sent_prefix: Vec<&str> = texts
        .iter()
        .take(stored_texts.len())
        .map(String::as_str)
        .collect();
    assert_eq!(
        stored_texts, sent_prefix,
        "stored in the order sent, nothing doubled"
    );

    eprintln!(
        "{} of 400 acked before SIGKILL; {} stored after restart",
        acked.len(),
        stored_texts.len()
    );

    // The visitor reconnects to the restarted server and resumes where it was.
    let mut visitor = WsClient::visitor(&server.base, &session.visitor_token).await;
    visitor
        .wait_for("hello", |f| matches!(f, ServerFrame::Hello { .. }))
        .await;
    let last = visitor
        .resume(conversation, acked.last().map_or(0, |(_, seq)| *seq))
        .await;
    assert_eq!(last, *seqs.last().expect("messages"));
    let mut server = server;
    server.child.kill().expect("kill");
    let _ = server.child.wait();
}

#[tokio::test]
async fn demo_starts_fast_and_a_second_start_reuses_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let mut first = start(dir.path());
    let first_ready = started.elapsed();
    first.child.kill().expect("kill");
    let _ = first.child.wait();
    let password =
        std::fs::read_to_string(dir.path().join("demo-login.txt")).expect("credentials kept");
    let mut second = start(dir.path());
    let http = reqwest::Client::new();
    let cookie = login(&http, &second.base, dir.path()).await;
    assert!(cookie.starts_with("lh_session="));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("demo-login.txt")).expect("credentials"),
        password
    );
    second.child.kill().expect("kill");
    let _ = second.child.wait();
    // Not an assertion on speed (that is the benchmark's job): printed for the record.
    eprintln!("demo ready after {first_ready:?} (debug build, including process start)");
}

/// Cycles of the randomized crash test unless `LIVEHELP_CRASH_CYCLES` says otherwise.
const DEFAULT_CRASH_CYCLES: usize = 6;
/// Visitors in the randomized crash test, one conversation each.
const CRASH_VISITORS: usize = 20;
/// Operator connections (tabs of the demo operator), each answering its share.
const CRASH_OPERATOR_TABS: usize = 4;
/// Messages a client keeps in flight (sent, not yet acked).
const WINDOW: usize = 4;

/// splitmix64: a seeded, reproducible random sequence (the seed is printed).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number of milliseconds in `low..high`.
    fn millis(&mut self, low: u64, high: u64) -> std::time::Duration {
        std::time::Duration::from_millis(low + self.next() % (high - low))
    }
}

/// One message a load client sends: where, its idempotency key, its text.
#[derive(Clone)]
struct Outgoing {
    conversation: Uuid,
    client_msg_id: Uuid,
    text: String,
}

/// What a load client did, for the final check.
#[derive(Default)]
struct Record {
    /// Everything it sent, in the order it first sent it.
    sent: Vec<Outgoing>,
    /// The seq each message was acked at.
    acked: std::collections::HashMap<Uuid, i64>,
    /// Acks that named another seq than an earlier ack of the same message.
    conflicts: Vec<String>,
    /// Messages refused with an error frame (none expected).
    refused: Vec<String>,
    /// Connections made (the first one and every reconnect).
    connections: usize,
    /// Messages sent again after a reconnect (their first ack never came).
    resent: usize,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects to `path` on the server currently up (waiting while it is down) and waits for
/// `hello`; `None` if the connection fails or drops first (the caller tries again).
async fn connect_load(
    base: &tokio::sync::watch::Receiver<Option<String>>,
    path: &str,
    cookie: Option<&str>,
) -> Option<Socket> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let current = base.borrow().clone()?;
    let mut request = format!("{}{path}", client::ws_base(&current))
        .into_client_request()
        .ok()?;
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().expect("cookie header"));
    }
    let (mut socket, _) = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .ok()?
    .ok()?;
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
            .await
            .ok()??
            .ok()?;
        if let Message::Text(text) = frame
            && matches!(
                serde_json::from_str::<ServerFrame>(text.as_str()),
                Ok(ServerFrame::Hello { .. })
            )
        {
            return Some(socket);
        }
    }
}

/// A load client: keeps [`WINDOW`] messages in flight on `conversations` (round robin),
/// reconnects whenever the server goes away, resumes, and re-sends what was not acked with
/// the same `client_msg_id`, in the original order. Once `stop` is set it sends nothing
/// new and returns when everything it sent is acked.
async fn load_client(
    label: String,
    path: String,
    cookie: Option<String>,
    conversations: Vec<Uuid>,
    base: tokio::sync::watch::Receiver<Option<String>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Record {
    use futures_util::{SinkExt, StreamExt};
    use std::sync::atomic::Ordering;
    use tokio_tungstenite::tungstenite::Message;

    let mut record = Record::default();
    let mut counters = vec![0usize; conversations.len()];
    let mut turn = 0usize;
    let mut last_seq: std::collections::HashMap<Uuid, i64> =
        conversations.iter().map(|c| (*c, 0)).collect();
    let give_up = Instant::now() + std::time::Duration::from_secs(600);
    loop {
        assert!(
            Instant::now() < give_up,
            "{label}: no progress for 10 minutes"
        );
        let Some(mut socket) = connect_load(&base, &path, cookie.as_deref()).await else {
            if stop.load(Ordering::SeqCst) && record.acked.len() == record.sent.len() {
                return record;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            continue;
        };
        record.connections += 1;
        // Resume (so the client follows its conversations again), then re-send what was
        // not acked, in the order first sent.
        let mut frames = Vec::new();
        for conversation in &conversations {
            frames.push(ClientFrame::Resume {
                conversation_id: *conversation,
                after_seq: last_seq[conversation],
            });
        }
        let mut in_flight = 0usize;
        for message in record
            .sent
            .iter()
            .filter(|m| !record.acked.contains_key(&m.client_msg_id))
        {
            frames.push(ClientFrame::SendMessage {
                client_msg_id: message.client_msg_id,
                conversation_id: message.conversation,
                text: message.text.clone(),
            });
            in_flight += 1;
        }
        record.resent += in_flight;
        let mut alive = true;
        for frame in &frames {
            let text = serde_json::to_string(frame).expect("encodes");
            if socket.send(Message::text(text)).await.is_err() {
                alive = false;
                break;
            }
        }
        while alive {
            // New messages while the window has room and the test is not stopping.
            while in_flight < WINDOW && !stop.load(Ordering::SeqCst) {
                let lane = turn % conversations.len();
                turn += 1;
                let message = Outgoing {
                    conversation: conversations[lane],
                    client_msg_id: Uuid::new_v4(),
                    text: format!("{label} #{}", counters[lane]),
                };
                counters[lane] += 1;
                let frame = ClientFrame::SendMessage {
                    client_msg_id: message.client_msg_id,
                    conversation_id: message.conversation,
                    text: message.text.clone(),
                };
                record.sent.push(message);
                in_flight += 1;
                let text = serde_json::to_string(&frame).expect("encodes");
                if socket.send(Message::text(text)).await.is_err() {
                    alive = false;
                    break;
                }
            }
            if stop.load(Ordering::SeqCst) && record.acked.len() == record.sent.len() {
                let _ = socket.close(None).await;
                return record;
            }
            if !alive {
                break;
            }
            let frame =
                match tokio::time::timeout(std::time::Duration::from_millis(250), socket.next())
                    .await
                {
                    Err(_) => continue,
                    Ok(Some(Ok(Message::Text(text)))) => text,
                    Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => break,
                    Ok(Some(Ok(_))) => continue,
                };
            match serde_json::from_str::<ServerFrame>(frame.as_str()) {
                Ok(ServerFrame::Ack {
                    client_msg_id, seq, ..
                }) => {
                    if !record.sent.iter().any(|m| m.client_msg_id == client_msg_id) {
                        continue;
                    }
                    match record.acked.insert(client_msg_id, seq) {
                        Some(earlier) if earlier != seq => record.conflicts.push(format!(
                            "{label}: {client_msg_id} acked at seq {earlier}, then at {seq}"
                        )),
                        Some(_) => {}
                        None => in_flight = in_flight.saturating_sub(1),
                    }
                }
                Ok(ServerFrame::Message { message }) => {
                    if let Some(last) = last_seq.get_mut(&message.conversation_id) {
                        *last = (*last).max(message.seq);
                    }
                }
                Ok(ServerFrame::Error {
                    client_msg_id: Some(id),
                    code,
                    message,
                    ..
                }) if record.sent.iter().any(|m| m.client_msg_id == id) => {
                    // A failure of the test; the message stays unacked and is re-sent on a
                    // new connection (the check at the end reports the refusal).
                    record
                        .refused
                        .push(format!("{label}: {id} refused: {code:?} {message}"));
                    if record.refused.len() > 50 {
                        return record;
                    }
                    break;
                }
                _ => {}
            }
        }
    }
}

/// Issue 8, "Crash safety": 20 visitors and 4 operator tabs send continuously (pipelined)
/// into 20 conversations while the test SIGKILLs `livehelp serve` at random moments and
/// starts it again on the same data dir, `LIVEHELP_CRASH_CYCLES` times (default 6;
/// `LIVEHELP_CRASH_SEED` replays a run). Clients reconnect, resume and re-send what was not
/// acked with the same `client_msg_id`. Afterwards every transcript has `seq` 1..n without
/// a gap, every message exactly once (acked ones at the seq their ack named), and each
/// author's messages in the order they were sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sigkills_under_load_lose_and_double_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};

    let cycles: usize = std::env::var("LIVEHELP_CRASH_CYCLES")
        .ok()
        .map(|value| value.parse().expect("LIVEHELP_CRASH_CYCLES is a number"))
        .unwrap_or(DEFAULT_CRASH_CYCLES);
    let seed: u64 = std::env::var("LIVEHELP_CRASH_SEED")
        .ok()
        .map(|value| value.parse().expect("LIVEHELP_CRASH_SEED is a number"))
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos() as u64
        });
    eprintln!("crash test: seed {seed} (LIVEHELP_CRASH_SEED={seed} replays it), {cycles} cycles");
    let mut random = Random(seed);
    let started = Instant::now();

    let dir = tempfile::tempdir().expect("temp dir");
    let flags = [
        // Continuous senders: lift the per-visitor limits.
        "--visitor-messages-per-second",
        "100000",
    ];
    let http = reqwest::Client::new();
    let mut server = start_with(dir.path(), &flags);
    let cookie = login(&http, &server.base, dir.path()).await;

    // Visitors open sessions and chats; one operator connection accepts them all.
    let mut visitors = Vec::new();
    for index in 0..CRASH_VISITORS {
        let session: VisitorSessionResponse = http
            .post(format!(
                "{}/api/v1/sites/demo-site-key/visitor-sessions",
                server.base
            ))
            .json(&json!({"name": format!("Crash visitor {index}")}))
            .send()
            .await
            .expect("session")
            .json()
            .await
            .expect("json");
        let mut visitor = WsClient::visitor(&server.base, &session.visitor_token).await;
        visitor
            .wait_for("hello", |f| matches!(f, ServerFrame::Hello { .. }))
            .await;
        let conversation = visitor.start_chat().await;
        visitor.close().await;
        visitors.push((session.visitor_token, conversation));
    }
    let mut setup = WsClient::operator(&server.base, &cookie).await;
    setup
        .wait_for("hello", |f| matches!(f, ServerFrame::Hello { .. }))
        .await;
    for (_, conversation) in &visitors {
        setup.accept(*conversation).await;
    }
    setup.close().await;

    let (publish, base) = tokio::sync::watch::channel(Some(server.base.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for (index, (token, conversation)) in visitors.iter().enumerate() {
        clients.push(tokio::spawn(load_client(
            format!("visitor {index}"),
            format!("/api/v1/ws/visitor?token={token}"),
            None,
            vec![*conversation],
            base.clone(),
            stop.clone(),
        )));
    }
    for tab in 0..CRASH_OPERATOR_TABS {
        let mine: Vec<Uuid> = visitors
            .iter()
            .enumerate()
            .filter(|(index, _)| index % CRASH_OPERATOR_TABS == tab)
            .map(|(_, (_, conversation))| *conversation)
            .collect();
        clients.push(tokio::spawn(load_client(
            format!("operator tab {tab}"),
            "/api/v1/ws/operator".into(),
            Some(cookie.clone()),
            mine,
            base.clone(),
            stop.clone(),
        )));
    }

    // Kill at a random moment, stay down a random while, start again; `cycles` times.
    for cycle in 1..=cycles {
        let up_for = random.millis(150, 1_500);
        tokio::time::sleep(up_for).await;
        server.child.kill().expect("SIGKILL");
        server.child.wait().expect("reaped");
        publish.send_replace(None);
        let down_for = random.millis(0, 300);
        tokio::time::sleep(down_for).await;
        server = start_with(dir.path(), &flags);
        publish.send_replace(Some(server.base.clone()));
        eprintln!("cycle {cycle}: killed after {up_for:?} up, restarted after {down_for:?}");
    }
    // A last stretch of load, then the clients finish what they have in flight.
    tokio::time::sleep(random.millis(200, 800)).await;
    stop.store(true, Ordering::SeqCst);
    let mut records = Vec::new();
    for client in clients {
        records.push(client.await.expect("load client"));
    }

    // The check, on the server as it is after the last restart.
    let mut total = 0usize;
    let mut problems = Vec::new();
    for record in &records {
        problems.extend(record.conflicts.iter().cloned());
        problems.extend(record.refused.iter().cloned());
    }
    for (index, (_, conversation)) in visitors.iter().enumerate() {
        let transcript: TranscriptResponse = http
            .get(format!(
                "{}/api/v1/conversations/{conversation}/transcript",
                server.base
            ))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("transcript")
            .json()
            .await
            .expect("json");
        let seqs: Vec<i64> = transcript.messages.iter().map(|m| m.seq).collect();
        if seqs != (1..=seqs.len() as i64).collect::<Vec<_>>() {
            problems.push(format!("conversation {index}: seqs {seqs:?}"));
        }
        let mut seen = std::collections::HashSet::new();
        for message in &transcript.messages {
            if let Some(id) = message.client_msg_id
                && !seen.insert(id)
            {
                problems.push(format!("conversation {index}: {id} stored twice"));
            }
        }
        for record in &records {
            let sent: Vec<&Outgoing> = record
                .sent
                .iter()
                .filter(|m| m.conversation == *conversation)
                .collect();
            if sent.is_empty() {
                continue;
            }
            total += sent.len();
            let mut positions = Vec::new();
            for message in &sent {
                let stored = transcript
                    .messages
                    .iter()
                    .find(|m| m.client_msg_id == Some(message.client_msg_id));
                match (stored, record.acked.get(&message.client_msg_id)) {
                    (None, _) => problems.push(format!(
                        "conversation {index}: `{}` ({}) is missing",
                        message.text, message.client_msg_id
                    )),
                    (Some(stored), acked) => {
                        if stored.text != message.text {
                            problems.push(format!(
                                "conversation {index}: `{}` stored as `{}`",
                                message.text, stored.text
                            ));
                        }
                        if let Some(seq) = acked
                            && *seq != stored.seq
                        {
                            problems.push(format!(
                                "conversation {index}: `{}` acked at {seq}, stored at {}",
                                message.text, stored.seq
                            ));
                        }
                        positions.push(stored.seq);
                    }
                }
            }
            if positions.windows(2).any(|pair| pair[0] >= pair[1]) {
                problems.push(format!(
                    "conversation {index}: messages stored out of the order sent: {positions:?}"
                ));
            }
        }
        // Nothing stored that no client sent (system messages aside).
        let known: std::collections::HashSet<Uuid> = records
            .iter()
            .flat_map(|r| r.sent.iter().map(|m| m.client_msg_id))
            .collect();
        for message in &transcript.messages {
            if (message.kind == "visitor" || message.kind == "operator")
                && !message.client_msg_id.is_some_and(|id| known.contains(&id))
            {
                problems.push(format!(
                    "conversation {index}: unexpected message `{}`",
                    message.text
                ));
            }
        }
    }
    let unacked: usize = records.iter().map(|r| r.sent.len() - r.acked.len()).sum();
    let reconnects: usize = records.iter().map(|r| r.connections).sum();
    let resent: usize = records.iter().map(|r| r.resent).sum();
    eprintln!(
        "crash test: seed {seed}, {cycles} SIGKILL cycles, {total} messages from {} clients \
         ({resent} re-sent after a reconnect, {unacked} never acked), {reconnects} \
         connections, {:?}",
        records.len(),
        started.elapsed()
    );
    assert!(
        problems.is_empty(),
        "seed {seed}: {} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(unacked, 0, "every message was acked in the end");
    assert!(total > 0);
    server.child.kill().expect("kill");
    let _ = server.child.wait();
}
