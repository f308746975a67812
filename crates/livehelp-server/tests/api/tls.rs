//! Secure sessions (M10): HTTPS and WSS with a self-signed certificate, HSTS, a site that
//! requires TLS, and which proxies may vouch for TLS and client addresses.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use livehelp_app::{App, AppOptions, NewSite, NewTenant, SiteChanges};
use livehelp_bus::InProcessBus;
use livehelp_protocol::{ClientFrame, ServerFrame};
use livehelp_server::{Server, ServerOptions, TlsFiles};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

struct Fixture {
    server: Server,
    site_key: String,
    _dir: tempfile::TempDir,
}

/// A server with one tenant whose site requires TLS, served over TLS or not.
async fn start(tls: Option<&TlsFiles>, options: ServerOptions) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("db.sqlite3"), SqliteOptions::default())
        .await
        .expect("store");
    let app = App::new(
        Arc::new(store),
        Arc::new(InProcessBus::new()),
        AppOptions::default(),
    );
    let now = time::OffsetDateTime::now_utc();
    let tenant = app
        .create_tenant(
            NewTenant {
                name: "secure".into(),
            },
            now,
        )
        .await
        .expect("tenant");
    let site = app
        .create_site(
            tenant.id,
            NewSite {
                name: "secure.test".into(),
                key: None,
                allowed_origins: vec![],
                privacy_policy_url: None,
            },
            now,
        )
        .await
        .expect("site");
    let admin = livehelp_app::OperatorPrincipal {
        tenant_id: tenant.id,
        operator_id: livehelp_domain::OperatorId::new(),
        role: livehelp_domain::Role::Admin,
        display_name: "setup".into(),
    };
    app.change_site(
        &admin,
        site.id,
        SiteChanges {
            require_tls: Some(true),
            ..SiteChanges::default()
        },
        now,
    )
    .await
    .expect("require tls");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = match tls {
        Some(files) => Server::start_tls(listener, app, options, files).expect("tls server"),
        None => Server::start(listener, app, options).expect("server"),
    };
    Fixture {
        server,
        site_key: site.key.as_str().to_owned(),
        _dir: dir,
    }
}

fn self_signed(dir: &std::path::Path) -> (TlsFiles, CertificateDer<'static>) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).expect("write cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write key");
    (TlsFiles { cert, key }, certified.cert.der().clone())
}

async fn tls_stream(
    addr: std::net::SocketAddr,
    root: &CertificateDer<'static>,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(root.clone()).expect("root");
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake")
}

/// One HTTP/1.1 request over a TLS stream; returns the status, headers and body.
async fn https(
    addr: std::net::SocketAddr,
    root: &CertificateDer<'static>,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String, String) {
    let mut stream = tls_stream(addr, root).await;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    // A TLS peer may close without close_notify after Connection: close; what was read counts.
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[tokio::test]
async fn a_conversation_runs_over_https_and_wss_with_hsts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (files, root) = self_signed(dir.path());
    let fixture = start(Some(&files), ServerOptions::default()).await;
    let addr = fixture.server.local_addr;
    let (status, head, body) = https(
        addr,
        &root,
        "POST",
        &format!("/api/v1/sites/{}/visitor-sessions", fixture.site_key),
        "{\"name\":\"Tess\"}",
    )
    .await;
    assert_eq!(status, 201, "{head}{body}");
    assert!(
        head.contains("strict-transport-security: max-age=31536000"),
        "{head}"
    );
    let body: Value = serde_json::from_str(&body).expect("json");
    let token = body["visitor_token"].as_str().expect("token");

    let stream = tls_stream(addr, &root).await;
    let url = format!("wss://localhost/api/v1/ws/visitor?token={token}");
    let (mut socket, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .expect("wss handshake");
    let id = Uuid::new_v4();
    socket
        .send(Message::text(
            serde_json::to_string(&ClientFrame::StartChat {
                client_msg_id: id,
                department_id: None,
                prechat: None,
            })
            .expect("json"),
        ))
        .await
        .expect("send");
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("in time");
        let Some(Ok(Message::Text(text))) = frame else {
            panic!("socket ended: {frame:?}")
        };
        if let ServerFrame::Ack {
            client_msg_id, seq, ..
        } = serde_json::from_str(text.as_str()).expect("frame")
        {
            assert_eq!((client_msg_id, seq), (id, 1));
            break;
        }
    }
    fixture.server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_require_tls_site_refuses_plain_http_unless_a_trusted_proxy_says_https() {
    let http = reqwest::Client::new();
    let plain = start(None, ServerOptions::default()).await;
    let url = format!(
        "http://{}/api/v1/sites/{}/visitor-sessions",
        plain.server.local_addr, plain.site_key
    );
    let refused = http
        .post(&url)
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.expect("json")["code"],
        "tls_required"
    );
    // An untrusted client cannot claim TLS with a header.
    let forged = http
        .post(&url)
        .header("x-forwarded-proto", "https")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), 403);
    plain.server.shutdown().await.expect("shutdown");

    let proxied = start(
        None,
        ServerOptions {
            trusted_proxies: vec!["127.0.0.1/32".parse().expect("cidr")],
            ..ServerOptions::default()
        },
    )
    .await;
    let url = format!(
        "http://{}/api/v1/sites/{}/visitor-sessions",
        proxied.server.local_addr, proxied.site_key
    );
    let accepted = http
        .post(&url)
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-for", "203.0.113.9, 127.0.0.1")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(accepted.status(), 201);
    let session: Value = accepted.json().await.expect("json");
    let token = session["visitor_token"].as_str().expect("token");
    // The plain socket is refused too, unless the proxy vouches for it.
    let socket = http
        .get(format!(
            "http://{}/api/v1/ws/visitor?token={token}",
            proxied.server.local_addr
        ))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .expect("request");
    assert_eq!(socket.status(), 403);
    assert_eq!(
        socket.json::<Value>().await.expect("json")["code"],
        "tls_required"
    );
    proxied.server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_bad_certificate_path_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("db.sqlite3"), SqliteOptions::default())
        .await
        .expect("store");
    let app = App::new(
        Arc::new(store),
        Arc::new(InProcessBus::new()),
        AppOptions::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let files = TlsFiles {
        cert: dir.path().join("missing.pem"),
        key: dir.path().join("missing-key.pem"),
    };
    let error = Server::start_tls(listener, app, ServerOptions::default(), &files)
        .err()
        .expect("an error");
    assert!(error.to_string().contains("missing.pem"), "{error}");
}
