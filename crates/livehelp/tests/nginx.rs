//! The nginx configuration of docs/scale-out.md, run for real: Debian's nginx, with
//! `deploy/nginx/livehelp.conf` (the file the docs point to), in front of three
//! `livehelp serve` nodes on one PostgreSQL database and one NATS server.
//!
//! Through the nginx address only:
//! 1. `/readyz` and REST answer; a visitor and an operator converse over WebSockets
//!    (upgrade headers passed through).
//! 2. The visitor's IP as the operator sees it is the client's own address (the test
//!    connects from 127.0.0.7), not nginx's, even when the client sends a forged
//!    `X-Forwarded-For`: the nodes run with `--trust-proxy 127.0.0.1/32`.
//! 3. The node holding the visitor's socket (found from each node's `/metrics`) is killed
//!    with SIGKILL while the visitor is sending; the visitor reconnects through the same
//!    nginx address, resumes and re-sends what was not acked: the transcript has every
//!    message exactly once, in order, each acked one at the `seq` its ack named.
//! 4. The limits set in nginx (`limit_req`) hold for the cluster: the 11th login attempt
//!    within a minute from one address is refused by nginx with livehelp's JSON
//!    `rate_limited` error, while another address still gets through.
//!
//! nginx runs as a child process (`daemon off`, one process) with its own prefix, config,
//! pid and log files in a temp dir, on a free loopback port; never the system service.
//! Needs `LIVEHELP_TEST_POSTGRES_URL`, `LIVEHELP_TEST_NATS_URL` and an nginx binary
//! (`LIVEHELP_TEST_NGINX`, else `/usr/sbin/nginx` if present); `.ci/run` sets all three.
//! Without them the test prints a note and passes; with them, a missing binary or an
//! unreachable service fails it.

#[path = "../../livehelp-server/tests/api/client.rs"]
mod client;
#[path = "support/cluster.rs"]
mod cluster;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::WsClient;
use cluster::{NATS_VARIABLE, Node, POSTGRES_VARIABLE, SITE_KEY, TestDatabase, seed, start_node};
use livehelp_protocol::rest::{TranscriptResponse, VisitorInfoResponse, VisitorSessionResponse};
use livehelp_protocol::{ClientFrame, ServerFrame};
use livehelp_store::Store;
use livehelp_store_postgres::{PostgresOptions, PostgresStore};
use serde_json::json;
use uuid::Uuid;

const NGINX_VARIABLE: &str = "LIVEHELP_TEST_NGINX";
/// The configuration under test, as shipped.
const CONF: &str = include_str!("../../../deploy/nginx/livehelp.conf");
/// The address the test's own HTTP client connects from (a "real client").
const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 7);

/// The shipped configuration with the node addresses, the `listen` line and the TLS
/// lines replaced for a plain-HTTP run on loopback. Panics if a line to replace is gone
/// (the file and this test must change together).
fn runnable_conf(conf: &str, listen: &str, nodes: &[String]) -> String {
    let mut out = conf.to_owned();
    let mut replace = |from: &str, to: &str| {
        assert!(
            out.contains(from),
            "deploy/nginx/livehelp.conf no longer has the line `{from}`"
        );
        out = out.replacen(from, to, 1);
    };
    for (index, node) in nodes.iter().enumerate() {
        replace(
            &format!("server 127.0.0.1:{} ", 8081 + index),
            &format!("server {node} "),
        );
    }
    replace("listen 443 ssl http2;", &format!("listen {listen};"));
    replace(
        "ssl_certificate     /etc/ssl/chat.example.com.pem;",
        "# (no TLS in the test)",
    );
    replace(
        "ssl_certificate_key /etc/ssl/chat.example.com.key;",
        "# (no TLS in the test)",
    );
    out
}

/// nginx as a child process with everything in its own temp dir.
struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
    base: String,
}

impl Nginx {
    fn start(binary: &Path, nodes: &[String]) -> Nginx {
        let dir = tempfile::tempdir().expect("temp dir");
        // nginx started as root hands work to an unprivileged user: let it read here.
        let _ = std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        );
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let path = |name: &str| dir.path().join(name).display().to_string();
        std::fs::write(
            dir.path().join("livehelp.conf"),
            runnable_conf(CONF, &listen, nodes),
        )
        .expect("write livehelp.conf");
        let main = format!(
            "daemon off;\n\
             master_process off;\n\
             worker_processes 1;\n\
             pid {pid};\n\
             error_log {error} info;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
             \x20   access_log {access};\n\
             \x20   client_body_temp_path {temp}/body;\n\
             \x20   proxy_temp_path {temp}/proxy;\n\
             \x20   fastcgi_temp_path {temp}/fastcgi;\n\
             \x20   uwsgi_temp_path {temp}/uwsgi;\n\
             \x20   scgi_temp_path {temp}/scgi;\n\
             \x20   include {conf};\n\
             }}\n",
            pid = path("nginx.pid"),
            error = path("error.log"),
            access = path("access.log"),
            temp = dir.path().display(),
            conf = path("livehelp.conf"),
        );
        std::fs::write(dir.path().join("nginx.conf"), main).expect("write nginx.conf");
        let mut child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", binary.display()));
        let started = Instant::now();
        while TcpStream::connect(&listen).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "nginx exited ({status}) before it listened:\n{}",
                    std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not listen on {listen} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx {
            child,
            dir,
            base: format!("http://{listen}"),
        }
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // One process (`master_process off`): nothing is left behind by SIGKILL.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free on 127.0.0.1 right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

/// The nginx binary, or `None` (with a note) when the test should not run.
fn nginx_binary() -> Option<PathBuf> {
    match std::env::var_os(NGINX_VARIABLE) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(
                path.exists(),
                "{NGINX_VARIABLE}={} does not exist (apt-get install -y nginx)",
                path.display()
            );
            Some(path)
        }
        None => {
            let default = PathBuf::from("/usr/sbin/nginx");
            if default.exists() {
                Some(default)
            } else {
                eprintln!("note: set {NGINX_VARIABLE} to an nginx binary to run the nginx test");
                None
            }
        }
    }
}

/// Open visitor WebSockets on a node, from its `/metrics`.
async fn visitor_sockets(http: &reqwest::Client, node: &Node) -> i64 {
    let metrics = http
        .get(format!("{}/metrics", node.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    metrics
        .lines()
        .filter(|line| line.starts_with("livehelp_ws_connections{") && line.contains("visitor"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<i64>().ok())
        .sum()
}

async fn hello(client: &mut WsClient) {
    client
        .wait_for("hello", |frame| matches!(frame, ServerFrame::Hello { .. }))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_behind_nginx() {
    let (Ok(postgres), Ok(nats_url)) = (
        std::env::var(POSTGRES_VARIABLE),
        std::env::var(NATS_VARIABLE),
    ) else {
        eprintln!(
            "note: set {POSTGRES_VARIABLE}, {NATS_VARIABLE} and {NGINX_VARIABLE} to run the \
             nginx test (e.g. postgres://postgres@127.0.0.1:5432/test, nats://127.0.0.1:4222, \
             /usr/sbin/nginx)"
        );
        return;
    };
    let Some(binary) = nginx_binary() else {
        return;
    };
    let database = TestDatabase::create(&postgres, "lh_nginx").await;
    livehelp_store_postgres::migrate(&database.url)
        .await
        .expect("migrate");
    let store: Arc<dyn Store> = Arc::new(
        PostgresStore::open(&database.url, PostgresOptions::default())
            .await
            .expect("the test's own connection"),
    );
    let seed = seed(store.clone(), 1).await;
    let node_options = [
        "--no-migrate",
        "--trust-proxy",
        "127.0.0.1/32",
        // The visitor pipelines a burst of 40 below.
        "--visitor-message-burst",
        "1000",
    ];
    let mut nodes: Vec<Option<Node>> = (0..3)
        .map(|_| Some(start_node(&database.url, &nats_url, &node_options)))
        .collect();
    let addresses: Vec<String> = nodes
        .iter()
        .flatten()
        .map(|node| node.base.trim_start_matches("http://").to_owned())
        .collect();
    let nginx = Nginx::start(&binary, &addresses);
    let base = nginx.base.clone();
    // The client's requests come from 127.0.0.7, a "real client" distinct from nginx.
    let http = reqwest::Client::builder()
        .local_address(IpAddr::V4(CLIENT_IP))
        .build()
        .expect("client");

    // 1. REST through nginx.
    let ready = http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200, "/readyz through nginx");
    let session: VisitorSessionResponse = http
        .post(format!("{base}/api/v1/sites/{SITE_KEY}/visitor-sessions"))
        // A forged header: nginx appends the real address, livehelp takes that one.
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"name": "Visitor behind nginx"}))
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");

    // WebSockets through nginx: the operator, then the visitor.
    let (_, cookie) = seed.operators[0].clone();
    let mut console = WsClient::operator(&base, &cookie).await;
    hello(&mut console).await;
    let mut visitor = WsClient::visitor(&base, &session.visitor_token).await;
    hello(&mut visitor).await;
    let conversation = visitor.start_chat().await;
    console
        .wait_for("the queued chat", |frame| {
            matches!(frame, ServerFrame::Conversation { conversation: c } if c.id == conversation)
                || matches!(frame, ServerFrame::Queue { conversations, .. } if conversations.iter().any(|c| c.id == conversation))
        })
        .await;
    console.accept(conversation).await;
    let seq = visitor.say(conversation, "Hello through nginx 👋").await;
    console.wait_for_seq(conversation, seq).await;
    let reply = console.say(conversation, "Hello back שלום").await;
    visitor.wait_for_seq(conversation, reply).await;

    // 2. The visitor's address as the operator sees it.
    let info: VisitorInfoResponse = http
        .get(format!(
            "{base}/api/v1/conversations/{conversation}/visitor"
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("visitor info")
        .json()
        .await
        .expect("json");
    assert_eq!(
        info.ip.as_deref(),
        Some("127.0.0.7"),
        "the client's own address arrives through nginx (not nginx's, not the forged one)"
    );

    // 3. Which node holds the visitor's socket?
    let direct = reqwest::Client::new();
    let mut holder = None;
    for (index, node) in nodes.iter().enumerate() {
        let node = node.as_ref().expect("running");
        if visitor_sockets(&direct, node).await > 0 {
            assert!(holder.is_none(), "one visitor socket, on one node");
            holder = Some(index);
        }
    }
    let holder = holder.expect("a node holds the visitor's socket");

    // The visitor pipelines 40 messages; the node dies once 10 are acked.
    let texts: Vec<String> = (0..40).map(|i| format!("message {i} ✓")).collect();
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
    let mut acked: HashMap<Uuid, i64> = HashMap::new();
    while acked.len() < 10 {
        match visitor.next().await {
            Some(ServerFrame::Ack {
                client_msg_id, seq, ..
            }) => {
                acked.insert(client_msg_id, seq);
            }
            Some(ServerFrame::Error { code, message, .. }) => {
                panic!("a message was refused: {code:?} {message}")
            }
            Some(_) => {}
            None => panic!("the visitor's socket closed before the kill"),
        }
    }
    if let Some(mut node) = nodes[holder].take() {
        node.child.kill().expect("SIGKILL");
        node.child.wait().expect("reaped");
    }
    // Acks already on the wire still count; nginx closes the socket once the node is gone.
    while let Some(frame) = visitor.next().await {
        if let ServerFrame::Ack {
            client_msg_id, seq, ..
        } = frame
        {
            acked.insert(client_msg_id, seq);
        }
    }
    let acked_before_kill = acked.len();
    let last_acked = acked.values().copied().max().unwrap_or(0);

    // Back through the same nginx address: another node takes the visitor.
    let mut visitor = WsClient::visitor(&base, &session.visitor_token).await;
    hello(&mut visitor).await;
    visitor.resume(conversation, last_acked).await;
    for (id, text) in ids.iter().zip(&texts) {
        if acked.contains_key(id) {
            continue;
        }
        visitor
            .send(&ClientFrame::SendMessage {
                client_msg_id: *id,
                conversation_id: conversation,
                text: text.clone(),
            })
            .await;
        let (_, _, seq) = visitor.ack(*id).await;
        acked.insert(*id, seq);
    }
    let last_seq = acked.values().copied().max().expect("acks");

    // The transcript, read through nginx: every message once, in the order sent, at the
    // seq its ack named, seq 1..n without a gap.
    let transcript: TranscriptResponse = http
        .get(format!(
            "{base}/api/v1/conversations/{conversation}/transcript"
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("transcript")
        .json()
        .await
        .expect("json");
    let seqs: Vec<i64> = transcript.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=last_seq).collect::<Vec<_>>(), "gapless");
    let stored: Vec<&str> = transcript
        .messages
        .iter()
        .filter(|m| m.text.starts_with("message "))
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(stored, texts.iter().map(String::as_str).collect::<Vec<_>>());
    for (id, seq) in &acked {
        let message = transcript
            .messages
            .iter()
            .find(|m| m.client_msg_id == Some(*id))
            .expect("an acked message is stored");
        assert_eq!(message.seq, *seq);
    }
    // 4. The cluster-wide login limit at nginx: 10 attempts from one address reach the
    // nodes (unknown accounts, so no account lockout: 401), the 11th is refused by nginx
    // itself, in livehelp's error shape, although no node has seen more than its limit.
    let attempt = |client: reqwest::Client, index: usize| {
        let url = format!("{base}/api/v1/auth/login");
        async move {
            let response = client
                .post(url)
                .json(&json!({"email": format!("nobody{index}@multinode.test"), "password": "not the password"}))
                .send()
                .await
                .expect("login attempt");
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
    };
    for index in 1..=10 {
        let (status, body) = attempt(http.clone(), index).await;
        assert_eq!(status, 401, "login attempt {index} reaches a node: {body}");
    }
    let (status, body) = attempt(http.clone(), 11).await;
    assert_eq!(status, 429, "the 11th attempt is limited: {body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("a JSON error body");
    assert_eq!(body["code"], "rate_limited");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("at the proxy")),
        "refused by nginx, not by a node: {body}"
    );
    let other_client = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 8)))
        .build()
        .expect("client");
    assert_eq!(
        attempt(other_client, 12).await.0,
        401,
        "another address has its own budget"
    );

    eprintln!(
        "nginx {}: node {} killed with {acked_before_kill} of {} acked; the visitor resumed \
         through nginx, every message stored once and in order",
        base,
        holder + 1,
        texts.len()
    );
    let log = nginx.error_log();
    drop(visitor);
    drop(console);
    drop(nginx);
    drop(nodes);
    store.close().await;
    database.drop_database().await;
    assert!(
        !log.contains("[emerg]"),
        "nginx logged an emergency:\n{log}"
    );
}

/// nginx must not call an idle WebSocket dead before livehelp does: the server pings
/// every `ping_interval` and closes a socket silent for three of them.
#[test]
fn nginx_waits_longer_than_the_server_on_idle_websockets() {
    let options = livehelp_server::ServerOptions::default();
    let server_idle = options.ping_interval * 3;
    let location = CONF
        .split("location /api/v1/ws/")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect("a WebSocket location in deploy/nginx/livehelp.conf");
    for directive in ["proxy_read_timeout", "proxy_send_timeout"] {
        let seconds: u64 = location
            .lines()
            .find_map(|line| line.trim().strip_prefix(directive))
            .and_then(|value| value.trim().trim_end_matches(';').strip_suffix('s'))
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{directive} in seconds in the WebSocket location"));
        assert!(
            Duration::from_secs(seconds) > server_idle,
            "{directive} {seconds}s must exceed the server's idle limit {server_idle:?}"
        );
    }
    for header in ["Upgrade $http_upgrade", "Connection $connection_upgrade"] {
        assert!(
            location.contains(&format!("proxy_set_header {header};")),
            "the WebSocket location passes {header}"
        );
    }
}

#[test]
fn the_shipped_conf_is_rewritten_only_where_the_test_says() {
    let nodes = vec![
        "127.0.0.1:41001".to_owned(),
        "127.0.0.1:41002".to_owned(),
        "127.0.0.1:41003".to_owned(),
    ];
    let conf = runnable_conf(CONF, "127.0.0.1:41000", &nodes);
    for node in &nodes {
        assert!(conf.contains(&format!("server {node} max_fails=2 fail_timeout=5s;")));
    }
    assert!(conf.contains("listen 127.0.0.1:41000;"));
    assert!(!conf.contains("ssl_certificate     /etc/ssl"));
    assert!(!conf.contains("ssl_certificate_key /etc/ssl"));
    assert!(!conf.contains(" ssl http2"));
    assert_eq!(
        conf.lines().count(),
        CONF.lines().count(),
        "only lines are replaced"
    );
}

#[test]
fn the_docs_quote_the_shipped_conf() {
    let docs = include_str!("../../../docs/scale-out.md");
    let body = &CONF[CONF.find("upstream livehelp {").expect("an upstream block")..];
    assert!(
        docs.contains(body),
        "docs/scale-out.md must quote deploy/nginx/livehelp.conf from `upstream` on, verbatim"
    );
}
