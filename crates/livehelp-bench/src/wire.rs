//! What goes on the wire for each target: opening a client connection (with each
//! protocol's handshake), encoding one chat message, and decoding the frames the load
//! cares about. livehelp speaks its own protocol (`docs/protocol.md`); the floor and
//! Socket.IO carry `{"to":id,"c":conversation,"t":turn,"x":text}`, Socket.IO inside
//! Engine.IO v4 / Socket.IO v5 text framing (`42["msg",{...}]`); ejabberd gets XMPP over
//! WebSocket (RFC 7395) with SASL ANONYMOUS and `<message>` stanzas to full JIDs.

use std::fmt::Write as _;

use anyhow::{Context, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use crate::floor::small_buffers;

/// A client WebSocket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
/// Its sending half.
pub type SocketSink = SplitSink<Socket, Message>;
/// Its receiving half.
pub type SocketStream = SplitStream<Socket>;

/// Which server is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// livehelp itself, with SQLite `synchronous=FULL` commits before every ack.
    Livehelp,
    /// livehelp, one node on PostgreSQL + NATS.
    #[serde(rename = "livehelp-pg")]
    LivehelpPg,
    /// livehelp, three nodes on one PostgreSQL database and NATS, clients spread over
    /// them round robin.
    #[serde(rename = "livehelp-pg3")]
    LivehelpPg3,
    /// The bare tokio + tungstenite relay.
    Floor,
    /// Socket.IO 4.8 on Node.
    Socketio,
    /// ejabberd from Debian, XMPP over WebSocket.
    Ejabberd,
}

impl Target {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Target::Livehelp => "livehelp",
            Target::LivehelpPg => "livehelp-pg",
            Target::LivehelpPg3 => "livehelp-pg3",
            Target::Floor => "floor",
            Target::Socketio => "socketio",
            Target::Ejabberd => "ejabberd",
        }
    }
}

impl Target {
    /// livehelp on any store (it speaks livehelp's protocol and keeps transcripts).
    pub fn is_livehelp(self) -> bool {
        matches!(
            self,
            Target::Livehelp | Target::LivehelpPg | Target::LivehelpPg3
        )
    }

    /// How many server processes (livehelp nodes) it runs.
    pub fn nodes(self) -> usize {
        match self {
            Target::LivehelpPg3 => 3,
            _ => 1,
        }
    }
}

/// The loopback source address for client number `index`: 127.0.0.2 to 127.0.0.251 in
/// turn. livehelp limits sessions, logins and sockets per client IP (M12); spreading the
/// simulated clients over many addresses, as real visitors are, keeps the limits from
/// measuring themselves. Every target gets the same spread.
pub fn source_address(index: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(127, 0, 0, 2 + (index % 250) as u8)
}

/// Opens a WebSocket from `source_address(index)` with small buffers and extra headers.
pub async fn open(url: &str, headers: &[(&str, String)], index: usize) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request()?;
    for (name, value) in headers {
        let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())?;
        request
            .headers_mut()
            .insert(name, HeaderValue::from_str(value)?);
    }
    let authority = request
        .uri()
        .authority()
        .context("no host in the URL")?
        .as_str()
        .to_owned();
    let server: std::net::SocketAddr = authority.parse().context("the host must be an IP:port")?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(std::net::SocketAddr::from((source_address(index), 0)))?;
    let stream = socket
        .connect(server)
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    stream.set_nodelay(true)?;
    let (socket, _) = tokio_tungstenite::client_async_with_config(
        request,
        MaybeTlsStream::Plain(stream),
        Some(small_buffers()),
    )
    .await
    .with_context(|| format!("WebSocket handshake with {url}"))?;
    Ok(socket)
}

/// Reads text frames until `done` accepts one; returns it. Answers Engine.IO pings.
pub async fn read_until(
    socket: &mut Socket,
    what: &str,
    mut done: impl FnMut(&str) -> bool,
) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let next = tokio::time::timeout_at(deadline, socket.next())
            .await
            .with_context(|| format!("timed out waiting for {what}"))?;
        match next {
            Some(Ok(Message::Text(text))) => {
                if done(text.as_str()) {
                    return Ok(text.as_str().to_owned());
                }
            }
            Some(Ok(Message::Close(close))) => bail!("closed while waiting for {what}: {close:?}"),
            Some(Ok(_)) => {}
            Some(Err(error)) => bail!("socket error while waiting for {what}: {error}"),
            None => bail!("socket ended while waiting for {what}"),
        }
    }
}

/// Socket.IO: connects as client `id` and joins the default namespace.
pub async fn socketio_connect(base: &str, id: u64) -> anyhow::Result<Socket> {
    let url = format!("{base}/socket.io/?EIO=4&transport=websocket&id={id}");
    let mut socket = open(&url, &[], id as usize).await?;
    read_until(&mut socket, "engine.io open", |text| text.starts_with('0')).await?;
    socket.send(Message::text("40")).await?;
    read_until(&mut socket, "socket.io connect", |text| {
        text.starts_with("40")
    })
    .await?;
    Ok(socket)
}

/// ejabberd: opens an XMPP stream, logs in anonymously and binds a resource. Returns the
/// socket and the full JID.
pub async fn xmpp_connect(url: &str, index: usize) -> anyhow::Result<(Socket, String)> {
    let mut socket = open(url, &[("Sec-WebSocket-Protocol", "xmpp".into())], index).await?;
    let open_stream =
        "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>";
    socket.send(Message::text(open_stream)).await?;
    read_until(&mut socket, "stream features", |text| {
        text.contains("features")
    })
    .await?;
    socket
        .send(Message::text(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>",
        ))
        .await?;
    let answer = read_until(&mut socket, "sasl success", |text| {
        text.contains("success") || text.contains("failure")
    })
    .await?;
    if !answer.contains("success") {
        bail!("anonymous login refused: {answer}");
    }
    socket.send(Message::text(open_stream)).await?;
    read_until(&mut socket, "bind feature", |text| text.contains("bind")).await?;
    socket
        .send(Message::text(
            "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>",
        ))
        .await?;
    let bound = read_until(&mut socket, "bound jid", |text| text.contains("<jid>")).await?;
    let jid = between(&bound, "<jid>", "</jid>")
        .context("no jid in bind result")?
        .to_owned();
    Ok((socket, jid))
}

/// The client_msg_id of turn `turn` of conversation `conversation` in a run: the run's
/// nonce in the top 64 bits, so frames of other runs and of the setup never match.
pub fn message_key(nonce: u64, conversation: u32, turn: u32) -> Uuid {
    Uuid::from_u128((u128::from(nonce) << 64) | (u128::from(conversation) << 32) | u128::from(turn))
}

/// The inverse of [`message_key`] for this run's keys.
pub fn parse_key(nonce: u64, key: Uuid) -> Option<(u32, u32)> {
    let value = key.as_u128();
    ((value >> 64) as u64 == nonce).then_some(((value >> 32) as u32, value as u32))
}

/// What one incoming frame means to the load.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A chat message of this run arrived (livehelp: with its conversation `seq`).
    Message {
        /// Conversation index.
        conversation: u32,
        /// Turn index.
        turn: u32,
        /// livehelp's `seq`.
        seq: Option<i64>,
    },
    /// livehelp: a message of another source (setup, system) with its `seq`.
    OtherMessage {
        /// livehelp conversation id.
        conversation_id: Uuid,
        /// Its `seq`.
        seq: i64,
    },
    /// livehelp: a send of this run is durably committed.
    Ack {
        /// Conversation index.
        conversation: u32,
        /// Turn index.
        turn: u32,
    },
    /// livehelp: an `error` frame.
    Error(String),
    /// Engine.IO ping: answer `3`.
    EnginePing,
    /// Anything else.
    Other,
}

#[derive(Deserialize)]
struct LivehelpFrame<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    client_msg_id: Option<Uuid>,
    message: Option<LivehelpMessage>,
    code: Option<String>,
}

#[derive(Deserialize)]
struct LivehelpMessage {
    conversation_id: Uuid,
    seq: i64,
    client_msg_id: Option<Uuid>,
}

#[derive(Deserialize)]
struct PeerFrame {
    c: u32,
    t: u32,
}

/// Decodes a livehelp server frame.
pub fn decode_livehelp(nonce: u64, text: &str) -> Incoming {
    let Ok(frame) = serde_json::from_str::<LivehelpFrame<'_>>(text) else {
        return Incoming::Error(format!("undecodable frame {text}"));
    };
    match frame.kind {
        "message" => {
            let Some(message) = frame.message else {
                return Incoming::Error("message frame without message".into());
            };
            match message.client_msg_id.and_then(|key| parse_key(nonce, key)) {
                Some((conversation, turn)) => Incoming::Message {
                    conversation,
                    turn,
                    seq: Some(message.seq),
                },
                None => Incoming::OtherMessage {
                    conversation_id: message.conversation_id,
                    seq: message.seq,
                },
            }
        }
        "ack" => match frame.client_msg_id.and_then(|key| parse_key(nonce, key)) {
            Some((conversation, turn)) => Incoming::Ack { conversation, turn },
            None => Incoming::Other,
        },
        "error" => Incoming::Error(format!("{}: {text}", frame.code.unwrap_or_default())),
        _ => Incoming::Other,
    }
}

/// Decodes a floor or Socket.IO frame.
pub fn decode_peer(target: Target, text: &str) -> Incoming {
    let json = match target {
        Target::Socketio => {
            if text == "2" {
                return Incoming::EnginePing;
            }
            match text
                .strip_prefix("42[\"msg\",")
                .and_then(|rest| rest.strip_suffix(']'))
            {
                Some(json) => json,
                None => return Incoming::Other,
            }
        }
        _ => text,
    };
    match serde_json::from_str::<PeerFrame>(json) {
        Ok(frame) => Incoming::Message {
            conversation: frame.c,
            turn: frame.t,
            seq: None,
        },
        Err(_) => Incoming::Other,
    }
}

/// Decodes an XMPP stanza: our messages carry `id='c{conversation}t{turn}'`.
pub fn decode_xmpp(text: &str) -> Incoming {
    if !text.starts_with("<message") {
        return Incoming::Other;
    }
    let id = between(text, "id='", "'").or_else(|| between(text, "id=\"", "\""));
    let Some((conversation, turn)) = id.and_then(|id| {
        let (conversation, turn) = id.strip_prefix('c')?.split_once('t')?;
        Some((conversation.parse().ok()?, turn.parse().ok()?))
    }) else {
        return Incoming::Other;
    };
    if text.contains("type='error'") || text.contains("type=\"error\"") {
        return Incoming::Error(text.to_owned());
    }
    Incoming::Message {
        conversation,
        turn,
        seq: None,
    }
}

/// The floor's and Socket.IO's message: `{"to":to,"c":..,"t":..,"x":text}`.
pub fn encode_peer(target: Target, to: u64, conversation: u32, turn: u32, text: &str) -> String {
    let body = format!(
        "{{\"to\":{to},\"c\":{conversation},\"t\":{turn},\"x\":{}}}",
        serde_json::Value::from(text)
    );
    match target {
        Target::Socketio => format!("42[\"msg\",{body}]"),
        _ => body,
    }
}

/// An XMPP chat message to a full JID.
pub fn encode_xmpp(to: &str, conversation: u32, turn: u32, text: &str) -> String {
    let mut stanza = String::with_capacity(text.len() + 96);
    let _ = write!(
        stanza,
        "<message to='{}' id='c{conversation}t{turn}' type='chat'><body>",
        escape_xml(to)
    );
    stanza.push_str(&escape_xml(text));
    stanza.push_str("</body></message>");
    stanza
}

fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '\'' => escaped.push_str("&apos;"),
            '"' => escaped.push_str("&quot;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let length = text[from..].find(end)?;
    Some(&text[from..from + length])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let key = message_key(0xfeed, 7, 42);
        assert_eq!(parse_key(0xfeed, key), Some((7, 42)));
        assert_eq!(parse_key(0xbeef, key), None);
    }

    #[test]
    fn peer_frames_round_trip() {
        for target in [Target::Floor, Target::Socketio] {
            let frame = encode_peer(target, 3, 1, 2, "hé \"there\"");
            assert_eq!(
                decode_peer(target, &frame),
                Incoming::Message {
                    conversation: 1,
                    turn: 2,
                    seq: None
                }
            );
        }
        let stanza = encode_xmpp("a@localhost/r", 5, 9, "<b>&'");
        assert!(stanza.contains("&lt;b&gt;&amp;&apos;"));
        assert_eq!(
            decode_xmpp(&stanza),
            Incoming::Message {
                conversation: 5,
                turn: 9,
                seq: None
            }
        );
    }

    #[test]
    fn livehelp_frames_decode() {
        let key = message_key(1, 2, 3);
        let ack = format!(
            "{{\"type\":\"ack\",\"client_msg_id\":\"{key}\",\"conversation_id\":\"{}\",\"message_id\":\"{}\",\"seq\":5}}",
            Uuid::nil(),
            Uuid::nil()
        );
        assert_eq!(
            decode_livehelp(1, &ack),
            Incoming::Ack {
                conversation: 2,
                turn: 3
            }
        );
        let message = format!(
            "{{\"type\":\"message\",\"message\":{{\"id\":\"{n}\",\"conversation_id\":\"{n}\",\"seq\":7,\"kind\":\"visitor\",\"author\":{{\"kind\":\"visitor\",\"id\":null,\"name\":null}},\"text\":\"a \\\"b\\\"\",\"event\":null,\"client_msg_id\":\"{key}\",\"created_at\":\"2026-11-29T19:31:02Z\"}}}}",
            n = Uuid::nil()
        );
        assert_eq!(
            decode_livehelp(1, &message),
            Incoming::Message {
                conversation: 2,
                turn: 3,
                seq: Some(7)
            }
        );
    }
}
