//! The floor: a bare WebSocket relay (tokio + tungstenite, 4 KiB read/write buffers, no
//! storage, no auth) that every figure is compared with. A client connects to
//! `/?id=N`; a text frame `{"to":M,...}` is forwarded unchanged to client `M`.
//! `livehelp-bench floor-server --listen 127.0.0.1:0` prints `listening PORT` when ready.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Connected clients by id: where to put frames for them.
type Registry = Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Message>>>>;

/// The only field the relay reads.
#[derive(Deserialize)]
struct Addressed {
    to: u64,
}

/// Socket buffers, as in livehelp's gateway.
pub fn small_buffers() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
}

/// Runs the relay until the process is killed.
pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    println!("listening {}", listener.local_addr()?.port());
    let registry: Registry = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(connection(stream, registry.clone()));
    }
}

// The handshake callback's error type is tungstenite's, large by its design.
#[allow(clippy::result_large_err)]
async fn connection(stream: TcpStream, registry: Registry) {
    let _ = stream.set_nodelay(true);
    let mut id = None;
    let callback = |request: &Request, response: Response| {
        id = request.uri().query().and_then(|query| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("id="))
                .and_then(|value| value.parse::<u64>().ok())
        });
        Ok(response)
    };
    let Ok(socket) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(small_buffers()))
            .await
    else {
        return;
    };
    let Some(id) = id else {
        return;
    };
    let (mut sink, mut stream) = socket.split();
    let (sender, mut outgoing) = mpsc::unbounded_channel::<Message>();
    lock(&registry).insert(id, sender);
    let writer = tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            if sink.feed(message).await.is_err() {
                return;
            }
            // Write as much as is queued, then flush once.
            while let Ok(message) = outgoing.try_recv() {
                if sink.feed(message).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(message)) = stream.next().await {
        if let Message::Text(text) = &message {
            let Ok(addressed) = serde_json::from_str::<Addressed>(text.as_str()) else {
                continue;
            };
            let target = lock(&registry).get(&addressed.to).cloned();
            if let Some(target) = target {
                let _ = target.send(message);
            }
        } else if message.is_close() {
            break;
        }
    }
    lock(&registry).remove(&id);
    writer.abort();
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
