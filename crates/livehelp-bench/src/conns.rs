//! Connection scenarios: `idle` (RSS per idle visitor connection), `reconnect` (new
//! connections per second, handshake included) and `leak` (rounds of connecting and
//! dropping clients, RSS after each round).
//!
//! A "visitor connection" is what each target needs before a visitor could chat:
//! livehelp, the visitor socket up to `hello` (its REST session is made beforehand and
//! not counted); the floor, an open socket; Socket.IO, the Engine.IO open and the
//! namespace connect; ejabberd, the XMPP stream with anonymous login and bound resource.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::servers::Server;
use crate::setup::{self, all};
use crate::wire::{self, Socket, Target};

/// `idle`: RSS per idle connection.
#[derive(Debug, Clone, Serialize)]
pub struct IdleOutcome {
    /// Target.
    pub target: Target,
    /// Connections held.
    pub connections: usize,
    /// Server RSS before connecting, KiB.
    pub rss_before_kib: u64,
    /// Server RSS with every connection open, KiB.
    pub rss_after_kib: u64,
    /// (after - before) / connections, bytes.
    pub bytes_per_connection: f64,
    /// Connections opened per second while filling (64 at a time).
    pub connect_rate: f64,
}

/// `reconnect`: connections per second.
#[derive(Debug, Clone, Serialize)]
pub struct ReconnectOutcome {
    /// Target.
    pub target: Target,
    /// Connect + handshake + close cycles completed.
    pub connections: u64,
    /// Cycles per second.
    pub per_second: f64,
    /// Server CPU per connection, µs.
    pub server_cpu_us_per_connection: f64,
    /// Server CPU use, % of one core.
    pub server_cpu_percent: f64,
    /// Failed attempts.
    pub errors: u64,
}

/// `leak`: RSS after each round.
#[derive(Debug, Clone, Serialize)]
pub struct LeakOutcome {
    /// Target.
    pub target: Target,
    /// Clients per round.
    pub clients: usize,
    /// Server RSS after each round's clients left, KiB.
    pub rss_after_round_kib: Vec<u64>,
    /// (last - first) / first, percent.
    pub drift_percent: f64,
}

/// What a target needs to open one visitor connection.
pub struct Opener<'a> {
    server: &'a Server,
    /// livehelp: visitor tokens, used round robin.
    tokens: Vec<String>,
}

impl<'a> Opener<'a> {
    /// Prepares `tokens` visitor sessions on livehelp (none elsewhere).
    pub async fn new(server: &'a Server, tokens: usize) -> anyhow::Result<Opener<'a>> {
        let tokens = if server.target.is_livehelp() {
            let http = setup::HttpClients::new()?;
            all((0..tokens).map(|index| setup::visitor_session(http.get(index), server, index)))
                .await?
        } else {
            Vec::new()
        };
        Ok(Opener { server, tokens })
    }

    /// Opens connection number `index`.
    pub async fn open(&self, index: usize) -> anyhow::Result<Socket> {
        let ws = self.server.ws();
        match self.server.target {
            Target::Livehelp | Target::LivehelpPg | Target::LivehelpPg3 => {
                let token = &self.tokens[index % self.tokens.len().max(1)];
                setup::visitor_socket(self.server, token, index).await
            }
            Target::Floor => wire::open(&format!("{ws}/?id={index}"), &[], index).await,
            Target::Socketio => wire::socketio_connect(&ws, index as u64).await,
            Target::Ejabberd => Ok(wire::xmpp_connect(&format!("{ws}/ws"), index).await?.0),
        }
    }
}

/// Opens `connections` idle visitor connections and measures the server's RSS growth.
pub async fn idle(server: &Server, connections: usize) -> anyhow::Result<IdleOutcome> {
    let opener = Opener::new(server, connections).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before_kib = server.rss_kib();
    let started = Instant::now();
    let sockets = all((0..connections).map(|index| opener.open(index))).await?;
    let connect_rate = connections as f64 / started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after_kib = server.rss_kib();
    drop(sockets);
    Ok(IdleOutcome {
        target: server.target,
        connections,
        rss_before_kib,
        rss_after_kib,
        bytes_per_connection: (rss_after_kib as f64 - rss_before_kib as f64) * 1024.0
            / connections as f64,
        connect_rate,
    })
}

/// `concurrency` loops connect, finish the handshake and close, for `duration`.
pub async fn reconnect(
    server: &Server,
    duration: Duration,
    concurrency: usize,
) -> anyhow::Result<ReconnectOutcome> {
    let opener = Opener::new(server, concurrency).await?;
    // One warm-up round.
    let _ = all((0..concurrency).map(|index| opener.open(index))).await?;
    let cpu_before = server.cpu_micros();
    let started = Instant::now();
    let deadline = started + duration;
    let loops = (0..concurrency).map(|worker| {
        let opener = &opener;
        async move {
            let (mut done, mut errors) = (0u64, 0u64);
            while Instant::now() < deadline {
                match opener.open(worker).await {
                    Ok(mut socket) => {
                        let _ = socket.close(None).await;
                        done += 1;
                    }
                    Err(_) => errors += 1,
                }
            }
            anyhow::Ok((done, errors))
        }
    });
    let counts = all(loops).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let server_cpu = server.cpu_micros().saturating_sub(cpu_before) as f64;
    let connections: u64 = counts.iter().map(|(done, _)| done).sum();
    Ok(ReconnectOutcome {
        target: server.target,
        connections,
        per_second: connections as f64 / elapsed,
        server_cpu_us_per_connection: server_cpu / connections.max(1) as f64,
        server_cpu_percent: server_cpu / elapsed / 1e4,
        errors: counts.iter().map(|(_, errors)| errors).sum(),
    })
}

/// `rounds` times: open `clients` connections, drop them all, let the server settle,
/// read its RSS.
pub async fn leak(server: &Server, clients: usize, rounds: usize) -> anyhow::Result<LeakOutcome> {
    let opener = Opener::new(server, clients).await?;
    let mut rss_after_round_kib = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let sockets = all((0..clients).map(|index| opener.open(index))).await?;
        for mut socket in sockets {
            let _ = socket.close(None).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        rss_after_round_kib.push(server.rss_kib());
    }
    let first = rss_after_round_kib.first().copied().unwrap_or(0) as f64;
    let last = rss_after_round_kib.last().copied().unwrap_or(0) as f64;
    Ok(LeakOutcome {
        target: server.target,
        clients,
        rss_after_round_kib,
        drift_percent: if first > 0.0 {
            (last - first) / first * 100.0
        } else {
            0.0
        },
    })
}
