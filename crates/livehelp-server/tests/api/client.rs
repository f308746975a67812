//! A WebSocket test client for livehelp's protocol: typed frames in and out, a timeout on
//! every wait, and a log of every `message` frame received (for order and duplicate
//! checks). Shared by the server's API tests and the binary's crash test.

#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use livehelp_protocol::{ClientFrame, MessageDto, ServerFrame};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

/// How long any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// A connected client.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every `message` frame received, in arrival order.
    pub messages: Vec<MessageDto>,
    /// The close frame, once the server closed.
    pub closed: Option<Option<CloseFrame>>,
}

impl WsClient {
    /// Connects a visitor with their token.
    pub async fn visitor(base: &str, token: &str) -> WsClient {
        let url = format!("{}/api/v1/ws/visitor?token={token}", ws_base(base));
        Self::connect(url.into_client_request().expect("request")).await
    }

    /// Connects an operator with their session cookie (`lh_session=...`).
    pub async fn operator(base: &str, cookie: &str) -> WsClient {
        let mut request = format!("{}/api/v1/ws/operator", ws_base(base))
            .into_client_request()
            .expect("request");
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(cookie).expect("cookie"));
        Self::connect(request).await
    }

    async fn connect(
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> WsClient {
        let (socket, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("connect timed out")
            .expect("websocket connects");
        WsClient {
            socket,
            messages: Vec::new(),
            closed: None,
        }
    }

    /// Sends a typed frame.
    pub async fn send(&mut self, frame: &ClientFrame) {
        self.send_text(&serde_json::to_string(frame).expect("encodes"))
            .await;
    }

    /// Sends raw text (for malformed frames).
    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(WsMessage::text(text)).await.expect("send");
    }

    /// The next frame from the server, or `None` when the server closed the socket.
    pub async fn next(&mut self) -> Option<ServerFrame> {
        loop {
            let item = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("no frame within the timeout");
            match item {
                Some(Ok(WsMessage::Text(text))) => {
                    let frame: ServerFrame = serde_json::from_str(text.as_str())
                        .unwrap_or_else(|error| panic!("bad server frame {text}: {error}"));
                    if let ServerFrame::Message { message } = &frame {
                        self.messages.push(message.clone());
                    }
                    return Some(frame);
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    self.closed = Some(frame);
                    return None;
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => {
                    if self.closed.is_none() {
                        self.closed = Some(None);
                    }
                    return None;
                }
            }
        }
    }

    /// Reads frames until one matches; panics on close or timeout.
    pub async fn wait_for(
        &mut self,
        what: &str,
        predicate: impl Fn(&ServerFrame) -> bool,
    ) -> ServerFrame {
        loop {
            match self.next().await {
                Some(frame) if predicate(&frame) => return frame,
                Some(_) => continue,
                None => panic!("socket closed while waiting for {what}"),
            }
        }
    }

    /// Waits for the ack of `client_msg_id`; panics if an error for it comes instead.
    pub async fn ack(&mut self, client_msg_id: Uuid) -> (Uuid, Uuid, i64) {
        let frame = self
            .wait_for("ack", |frame| match frame {
                ServerFrame::Ack {
                    client_msg_id: id, ..
                }
                | ServerFrame::Error {
                    client_msg_id: Some(id),
                    ..
                } => *id == client_msg_id,
                _ => false,
            })
            .await;
        match frame {
            ServerFrame::Ack {
                conversation_id,
                message_id,
                seq,
                ..
            } => (conversation_id, message_id, seq),
            other => panic!("expected an ack, got {other:?}"),
        }
    }

    /// Waits for the error answering `client_msg_id` (or any error when `None`) and
    /// returns its code.
    pub async fn error_code(&mut self, client_msg_id: Option<Uuid>) -> String {
        let frame = self
            .wait_for("error", |frame| match frame {
                ServerFrame::Error {
                    client_msg_id: id, ..
                } => client_msg_id.is_none() || *id == client_msg_id,
                ServerFrame::Ack {
                    client_msg_id: id, ..
                } => Some(*id) == client_msg_id,
                _ => false,
            })
            .await;
        match frame {
            ServerFrame::Error { code, .. } => code.as_str().to_owned(),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// Waits until message `seq` of `conversation` has arrived.
    pub async fn wait_for_seq(&mut self, conversation: Uuid, seq: i64) {
        while !self
            .messages
            .iter()
            .any(|m| m.conversation_id == conversation && m.seq >= seq)
        {
            if self.next().await.is_none() {
                panic!("socket closed while waiting for seq {seq}");
            }
        }
    }

    /// `start_chat`, returns the conversation id.
    pub async fn start_chat(&mut self) -> Uuid {
        let id = Uuid::new_v4();
        self.send(&ClientFrame::StartChat {
            client_msg_id: id,
            department_id: None,
            prechat: None,
        })
        .await;
        self.ack(id).await.0
    }

    /// `send_message`, returns the ack's seq.
    pub async fn say(&mut self, conversation_id: Uuid, text: &str) -> i64 {
        let id = Uuid::new_v4();
        self.send(&ClientFrame::SendMessage {
            client_msg_id: id,
            conversation_id,
            text: text.to_owned(),
        })
        .await;
        self.ack(id).await.2
    }

    /// `accept`.
    pub async fn accept(&mut self, conversation_id: Uuid) -> i64 {
        let id = Uuid::new_v4();
        self.send(&ClientFrame::Accept {
            client_msg_id: id,
            conversation_id,
        })
        .await;
        self.ack(id).await.2
    }

    /// `resume`, then waits for `resumed` and returns its `last_seq`.
    pub async fn resume(&mut self, conversation_id: Uuid, after_seq: i64) -> i64 {
        self.send(&ClientFrame::Resume {
            conversation_id,
            after_seq,
        })
        .await;
        match self
            .wait_for("resumed", |frame| {
                matches!(frame, ServerFrame::Resumed { conversation_id: id, .. } if *id == conversation_id)
                    || matches!(frame, ServerFrame::Error { .. })
            })
            .await
        {
            ServerFrame::Resumed { last_seq, .. } => last_seq,
            other => panic!("resume failed: {other:?}"),
        }
    }

    /// Messages received for a conversation, in arrival order.
    pub fn messages_of(&self, conversation: Uuid) -> Vec<&MessageDto> {
        self.messages
            .iter()
            .filter(|m| m.conversation_id == conversation)
            .collect()
    }

    /// Closes politely.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }

    /// Drops the TCP connection without a close frame.
    pub fn drop_abruptly(self) {
        drop(self);
    }
}

/// `http://host:port` → `ws://host:port`.
pub fn ws_base(base: &str) -> String {
    base.replacen("http://", "ws://", 1)
}
