//! The chat load: `conversations` visitors, each paired with one of `operators` operator
//! connections, replaying real dialogues turn by turn at an offered rate (open loop).
//!
//! Message `k` of a run belongs to conversation `k % N` as its turn `k / N`; even turns
//! are the visitor's, odd turns the operator's, and its text is the dialogue's line
//! `turn % len`. It is due at `t0 + k / rate`, whether or not earlier ones have arrived,
//! and latency is measured from that due time (not from when the generator got round to
//! sending it), so a stalled server cannot hide its stall (no coordinated omission).
//! Messages due in the warm-up are sent but not counted.
//!
//! Every receiving side checks that the other side's turns arrive exactly once and in
//! order; on livehelp every connection also checks that `seq` grows by exactly one, and
//! at the end each transcript is fetched and compared with what was sent.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_tungstenite::tungstenite::Message;

use crate::corpus::Dialogues;
use crate::servers::{Server, cpu_micros};
use crate::setup::{self, Participants};
use crate::stats::{Samples, Summary};
use crate::wire::{self, Incoming, SocketSink, SocketStream, Target};

/// One load run's shape.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Concurrent conversations (visitor connections).
    pub conversations: usize,
    /// Operator connections; conversation `i` is served by operator `i % operators`.
    pub operators: usize,
    /// Offered messages per second, both directions together.
    pub rate: f64,
    /// Sent, not counted.
    pub warmup: Duration,
    /// Counted.
    pub measure: Duration,
    /// A window of the measured time at a multiple of `rate` (the `burst` scenario).
    pub burst: Option<Burst>,
}

/// A stretch of the run offered at `factor` times the plan's rate.
#[derive(Debug, Clone, Copy)]
pub struct Burst {
    /// Start, counted from the end of the warm-up.
    pub after: Duration,
    /// Length.
    pub length: Duration,
    /// Multiple of the base rate.
    pub factor: f64,
}

impl Plan {
    /// The burst as (start s, end s, rate) from the run's start, or none.
    fn burst_window(&self) -> Option<(f64, f64, f64)> {
        self.burst.map(|burst| {
            let from = (self.warmup + burst.after).as_secs_f64();
            (
                from,
                from + burst.length.as_secs_f64(),
                self.rate * burst.factor,
            )
        })
    }

    /// Messages due in the first `elapsed` seconds of the run (fractional).
    pub fn due_by(&self, elapsed: f64) -> f64 {
        match self.burst_window() {
            None => elapsed * self.rate,
            Some((from, to, fast)) => {
                let before = elapsed.min(from) * self.rate;
                let during = (elapsed.clamp(from, to) - from) * fast;
                let after = (elapsed - to).max(0.0) * self.rate;
                before + during + after
            }
        }
    }

    /// Seconds from the run's start at which message `index` is due (the inverse of
    /// [`Plan::due_by`]).
    pub fn due_at(&self, index: u64) -> f64 {
        let index = index as f64;
        match self.burst_window() {
            None => index / self.rate,
            Some((from, to, fast)) => {
                let first = from * self.rate;
                let second = first + (to - from) * fast;
                if index < first {
                    index / self.rate
                } else if index < second {
                    from + (index - first) / fast
                } else {
                    to + (index - second) / self.rate
                }
            }
        }
    }

    /// Messages in the whole run, warm-up included.
    pub fn total(&self) -> u64 {
        self.due_by((self.warmup + self.measure).as_secs_f64()) as u64
    }

    /// Mean offered msg/s over the measured window.
    pub fn mean_rate(&self) -> f64 {
        let warm = self.warmup.as_secs_f64();
        let end = warm + self.measure.as_secs_f64();
        (self.due_by(end) - self.due_by(warm)) / self.measure.as_secs_f64()
    }
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Target.
    pub target: Target,
    /// Offered msg/s.
    pub offered: f64,
    /// Delivered msg/s in the measured window.
    pub achieved: f64,
    /// Messages sent.
    pub sent: u64,
    /// Messages delivered (first delivery).
    pub delivered: u64,
    /// Sent but never delivered (or, on livehelp, never acked).
    pub lost: u64,
    /// Delivered more than once.
    pub duplicated: u64,
    /// Delivered out of order, or a `seq` that skipped or went back.
    pub reordered: u64,
    /// Error frames and broken sockets.
    pub errors: u64,
    /// Sockets that closed during the run (the load does not reconnect them).
    pub disconnects: u64,
    /// Due time to delivery at the other side, both directions.
    pub end_to_end: Summary,
    /// Visitor to operator.
    pub visitor_to_operator: Summary,
    /// Operator to visitor.
    pub operator_to_visitor: Summary,
    /// livehelp: due time to `ack` (durably committed).
    pub ack: Summary,
    /// How late the generator handed each message to its socket (its own lag; large
    /// values mean the generator, not the server, was the limit).
    pub send_lag: Summary,
    /// End-to-end latency of the messages due inside the burst (`burst` scenario; empty
    /// otherwise).
    pub burst: Summary,
    /// Server CPU time per delivered message, µs.
    pub server_cpu_us_per_msg: f64,
    /// Server CPU use in the window, % of one core.
    pub server_cpu_percent: f64,
    /// The generator's own CPU use, % of one core (it yields in a loop between sends to
    /// pace them to the µs, so this is near 100 whenever the rate is high).
    pub generator_cpu_percent: f64,
    /// Server RSS at the end of the window, KiB.
    pub server_rss_kib: u64,
    /// livehelp: transcripts fetched and compared.
    pub transcripts_checked: usize,
    /// The first few problems seen, for the report.
    pub problems: Vec<String>,
}

impl Outcome {
    /// Whether nothing was lost, duplicated or reordered and every transcript matched.
    pub fn is_clean(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.reordered == 0 && self.problems.is_empty()
    }
}

/// Which side a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A visitor connection (one conversation).
    Visitor,
    /// An operator connection (several conversations).
    Operator,
}

/// Runs one load against a started server. Must run inside a `LocalSet`.
pub async fn run(server: &Server, plan: Plan, dialogues: &Dialogues) -> anyhow::Result<Outcome> {
    let nonce = rand_nonce();
    let participants = setup::connect(server, &plan).await?;
    let conversations = plan.conversations;
    let tracker = Rc::new(RefCell::new(Tracker::new(server.target, nonce, &plan)));
    for (index, &seq) in participants.operator_seq_start.iter().enumerate() {
        tracker.borrow_mut().operator_seq[index] = seq;
    }
    tracker.borrow_mut().conversation_index = participants.conversation_index.clone();

    let Participants {
        visitors,
        operators,
        conversation_ids,
        visitor_ids,
        operator_ids,
        ..
    } = participants;
    let mut visitor_out = Vec::with_capacity(visitors.len());
    for (index, socket) in visitors.into_iter().enumerate() {
        visitor_out.push(spawn_connection(
            socket,
            tracker.clone(),
            Side::Visitor,
            index,
        ));
    }
    let mut operator_out = Vec::with_capacity(operators.len());
    for (index, socket) in operators.into_iter().enumerate() {
        operator_out.push(spawn_connection(
            socket,
            tracker.clone(),
            Side::Operator,
            index,
        ));
    }
    // Let setup frames (replays, `operator_joined`) settle before the clock starts.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let total = plan.total();
    let start = Instant::now() + Duration::from_millis(20);
    let warm_end = start + plan.warmup;
    let measure_end = warm_end + plan.measure;
    tracker.borrow_mut().start(start, warm_end, measure_end);
    let generator = std::process::id();
    let mut window_start: Option<(u64, u64)> = None;
    let mut window_end: Option<(u64, u64, u64)> = None;
    let mut next: u64 = 0;
    while next < total {
        let now = Instant::now();
        if window_start.is_none() && now >= warm_end {
            window_start = Some((server.cpu_micros(), cpu_micros(generator)));
        }
        let due = if now < start {
            0
        } else {
            (plan.due_by((now - start).as_secs_f64()) as u64 + 1).min(total)
        };
        while next < due {
            let conversation = (next % conversations as u64) as usize;
            let turn = (next / conversations as u64) as u32;
            let text = dialogues.line(conversation, turn);
            let operator = conversation % plan.operators;
            let visitor_turn = turn.is_multiple_of(2);
            let frame = match server.target {
                Target::Livehelp | Target::LivehelpPg | Target::LivehelpPg3 => {
                    setup::send_message_frame(
                        wire::message_key(nonce, conversation as u32, turn),
                        conversation_ids[conversation],
                        text,
                    )
                }
                Target::Floor | Target::Socketio => {
                    let to = if visitor_turn {
                        setup::OPERATOR_ID_BASE + operator as u64
                    } else {
                        conversation as u64
                    };
                    wire::encode_peer(server.target, to, conversation as u32, turn, text)
                }
                Target::Ejabberd => {
                    let to = if visitor_turn {
                        &operator_ids[operator]
                    } else {
                        &visitor_ids[conversation]
                    };
                    wire::encode_xmpp(to, conversation as u32, turn, text)
                }
            };
            let out = if visitor_turn {
                &visitor_out[conversation]
            } else {
                &operator_out[operator]
            };
            let due_at = start + Duration::from_secs_f64(plan.due_at(next));
            if due_at >= warm_end && due_at < measure_end {
                tracker
                    .borrow_mut()
                    .send_lag
                    .push(Instant::now().saturating_duration_since(due_at));
            }
            if out.send(Message::text(frame)).is_err() {
                tracker
                    .borrow_mut()
                    .problem("a connection's writer is gone".into());
            }
            next += 1;
        }
        if window_end.is_none() && Instant::now() >= measure_end {
            window_end = Some((
                server.cpu_micros(),
                cpu_micros(generator),
                tracker.borrow().delivered_in_window,
            ));
        }
        if next < total {
            // Tokio's timer has a 1 ms grain, too coarse for a floor measured in µs: sleep
            // to just short of the next due time, then yield (letting the readers run)
            // until it comes.
            let next_due = start + Duration::from_secs_f64(plan.due_at(next));
            let now = Instant::now();
            if next_due > now + Duration::from_micros(2_500) {
                tokio::time::sleep_until((next_due - Duration::from_micros(2_000)).into()).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
    }
    tracker.borrow_mut().sent = total;

    // Drain: wait for every delivery (and ack) or 10 s.
    let drain_deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = Instant::now();
        if window_end.is_none() && now >= measure_end {
            window_end = Some((
                server.cpu_micros(),
                cpu_micros(generator),
                tracker.borrow().delivered_in_window,
            ));
        }
        let complete = tracker.borrow().complete();
        if (complete && window_end.is_some()) || now > drain_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (server_cpu_0, generator_cpu_0) = window_start.unwrap_or_default();
    let (server_cpu_1, generator_cpu_1, delivered_window) =
        window_end.unwrap_or((server.cpu_micros(), cpu_micros(generator), 0));
    let window = plan.measure.as_secs_f64();
    let server_cpu = server_cpu_1.saturating_sub(server_cpu_0) as f64;
    let rss = server.rss_kib();
    tracker.borrow_mut().finished = true;
    drop(visitor_out);
    drop(operator_out);

    let mut outcome = tracker.borrow().outcome();
    outcome.achieved = delivered_window as f64 / window;
    outcome.server_cpu_us_per_msg = server_cpu / (delivered_window.max(1) as f64);
    outcome.server_cpu_percent = server_cpu / window / 1e4;
    outcome.generator_cpu_percent =
        generator_cpu_1.saturating_sub(generator_cpu_0) as f64 / window / 1e4;
    outcome.server_rss_kib = rss;
    if server.target.is_livehelp() {
        let sent_turns = |conversation: usize| {
            let whole = total / conversations as u64;
            let extra = u64::from((conversation as u64) < total % conversations as u64);
            (whole + extra) as u32
        };
        let problems =
            setup::check_transcripts(server, &conversation_ids, dialogues, sent_turns).await?;
        outcome.transcripts_checked = conversation_ids.len();
        outcome.problems.extend(problems);
    }
    Ok(outcome)
}

/// Spawns a connection's writer and reader; returns where to put outgoing frames.
fn spawn_connection(
    socket: wire::Socket,
    tracker: Rc<RefCell<Tracker>>,
    side: Side,
    index: usize,
) -> UnboundedSender<Message> {
    let (sink, stream) = socket.split();
    let (out, outgoing) = unbounded_channel();
    tokio::task::spawn_local(write_loop(sink, outgoing));
    tokio::task::spawn_local(read_loop(stream, tracker, side, index, out.clone()));
    out
}

async fn write_loop(mut sink: SocketSink, mut outgoing: UnboundedReceiver<Message>) {
    while let Some(message) = outgoing.recv().await {
        if sink.feed(message).await.is_err() {
            return;
        }
        while let Ok(message) = outgoing.try_recv() {
            if sink.feed(message).await.is_err() {
                return;
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
    let _ = sink.close().await;
}

async fn read_loop(
    mut stream: SocketStream,
    tracker: Rc<RefCell<Tracker>>,
    side: Side,
    index: usize,
    out: UnboundedSender<Message>,
) {
    while let Some(item) = stream.next().await {
        match item {
            Ok(Message::Text(text)) => {
                let reply = tracker.borrow_mut().on_text(side, index, text.as_str());
                if let Some(reply) = reply {
                    let _ = out.send(Message::text(reply));
                }
            }
            Ok(Message::Close(_)) => break,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let mut tracker = tracker.borrow_mut();
    if !tracker.finished {
        tracker.disconnects += 1;
    }
}

/// The run's bookkeeping, shared by every connection task (single-threaded).
struct Tracker {
    target: Target,
    nonce: u64,
    conversations: usize,
    plan: Plan,
    start: Instant,
    warm_end: Instant,
    measure_end: Instant,
    /// Next turn each side expects, per conversation (operator: even, visitor: odd).
    expect_at_operator: Vec<u32>,
    expect_at_visitor: Vec<u32>,
    /// livehelp: last `seq` each side saw, per conversation.
    visitor_seq: Vec<i64>,
    operator_seq: Vec<i64>,
    conversation_index: std::collections::HashMap<uuid::Uuid, usize>,
    sent: u64,
    delivered: u64,
    delivered_in_window: u64,
    acked: u64,
    duplicated: u64,
    reordered: u64,
    errors: u64,
    disconnects: u64,
    finished: bool,
    visitor_to_operator: Samples,
    operator_to_visitor: Samples,
    ack: Samples,
    send_lag: Samples,
    /// End-to-end latency of the messages due inside the burst, if any.
    in_burst: Samples,
    problems: Vec<String>,
}

impl Tracker {
    fn new(target: Target, nonce: u64, plan: &Plan) -> Tracker {
        let now = Instant::now();
        Tracker {
            target,
            nonce,
            conversations: plan.conversations,
            plan: *plan,
            start: now,
            warm_end: now,
            measure_end: now,
            expect_at_operator: vec![0; plan.conversations],
            expect_at_visitor: vec![1; plan.conversations],
            visitor_seq: vec![0; plan.conversations],
            operator_seq: vec![0; plan.conversations],
            conversation_index: Default::default(),
            sent: u64::MAX,
            delivered: 0,
            delivered_in_window: 0,
            acked: 0,
            duplicated: 0,
            reordered: 0,
            errors: 0,
            disconnects: 0,
            finished: false,
            visitor_to_operator: Samples::default(),
            operator_to_visitor: Samples::default(),
            ack: Samples::default(),
            send_lag: Samples::default(),
            in_burst: Samples::default(),
            problems: Vec::new(),
        }
    }

    fn start(&mut self, start: Instant, warm_end: Instant, measure_end: Instant) {
        self.start = start;
        self.warm_end = warm_end;
        self.measure_end = measure_end;
    }

    fn problem(&mut self, problem: String) {
        self.errors += 1;
        if self.problems.len() < 5 {
            self.problems.push(problem);
        }
    }

    fn complete(&self) -> bool {
        self.delivered >= self.sent && (!self.target.is_livehelp() || self.acked >= self.sent)
    }

    /// Due time of a turn, and whether it falls in the measured window.
    fn due(&self, conversation: u32, turn: u32) -> (Instant, bool) {
        let index = u64::from(turn) * self.conversations as u64 + u64::from(conversation);
        let due = self.start + Duration::from_secs_f64(self.plan.due_at(index));
        (due, due >= self.warm_end && due < self.measure_end)
    }

    /// Handles one text frame; returns a reply to send, if any.
    fn on_text(&mut self, side: Side, connection: usize, text: &str) -> Option<String> {
        let now = Instant::now();
        let incoming = match self.target {
            Target::Livehelp | Target::LivehelpPg | Target::LivehelpPg3 => {
                wire::decode_livehelp(self.nonce, text)
            }
            Target::Floor | Target::Socketio => wire::decode_peer(self.target, text),
            Target::Ejabberd => wire::decode_xmpp(text),
        };
        match incoming {
            Incoming::Message {
                conversation,
                turn,
                seq,
            } => {
                let index = conversation as usize;
                if index >= self.conversations {
                    self.problem(format!("message for unknown conversation {conversation}"));
                    return None;
                }
                if let Some(seq) = seq {
                    self.check_seq(side, index, seq);
                }
                let own = turn.is_multiple_of(2) == (side == Side::Visitor);
                if own {
                    // livehelp sends a client its own messages too: only `seq` matters.
                    return None;
                }
                let expected = match side {
                    Side::Visitor => &mut self.expect_at_visitor[index],
                    Side::Operator => &mut self.expect_at_operator[index],
                };
                if turn < *expected {
                    self.duplicated += 1;
                    return None;
                }
                if turn > *expected {
                    self.reordered += 1;
                    if self.problems.len() < 5 {
                        self.problems.push(format!(
                            "conversation {conversation}: turn {turn} arrived, {expected} expected (connection {connection})"
                        ));
                    }
                }
                *expected = turn + 2;
                self.delivered += 1;
                if now >= self.warm_end && now < self.measure_end {
                    self.delivered_in_window += 1;
                }
                let (due, counted) = self.due(conversation, turn);
                if counted {
                    let latency = now.saturating_duration_since(due);
                    match side {
                        Side::Operator => self.visitor_to_operator.push(latency),
                        Side::Visitor => self.operator_to_visitor.push(latency),
                    }
                    if let Some((from, to, _)) = self.plan.burst_window() {
                        let at = due.saturating_duration_since(self.start).as_secs_f64();
                        if at >= from && at < to {
                            self.in_burst.push(latency);
                        }
                    }
                }
            }
            Incoming::OtherMessage {
                conversation_id,
                seq,
            } => {
                if let Some(&index) = self.conversation_index.get(&conversation_id) {
                    self.check_seq(side, index, seq);
                }
            }
            Incoming::Ack { conversation, turn } => {
                self.acked += 1;
                let (due, counted) = self.due(conversation, turn);
                if counted {
                    self.ack.push(now.saturating_duration_since(due));
                }
            }
            Incoming::Error(error) => self.problem(error),
            Incoming::EnginePing => return Some("3".into()),
            Incoming::Other => {}
        }
        None
    }

    /// On livehelp each connection sees every message of a conversation it follows
    /// exactly once, in `seq` order (visitors never see whispers, and the load sends none).
    fn check_seq(&mut self, side: Side, index: usize, seq: i64) {
        let last = match side {
            Side::Visitor => &mut self.visitor_seq[index],
            Side::Operator => &mut self.operator_seq[index],
        };
        if seq == *last + 1 {
            *last = seq;
            return;
        }
        let message = format!("conversation {index}: {side:?} got seq {seq} after {last}");
        if seq <= *last {
            self.duplicated += 1;
        } else {
            self.reordered += 1;
            *last = seq;
        }
        if self.problems.len() < 5 {
            self.problems.push(message);
        }
    }

    fn outcome(&self) -> Outcome {
        let mut end_to_end = self.visitor_to_operator.clone();
        end_to_end.extend(&self.operator_to_visitor);
        let sent = if self.sent == u64::MAX { 0 } else { self.sent };
        let unacked = if self.target.is_livehelp() {
            sent.saturating_sub(self.acked)
        } else {
            0
        };
        Outcome {
            target: self.target,
            offered: self.plan.mean_rate(),
            achieved: 0.0,
            sent,
            delivered: self.delivered,
            lost: sent.saturating_sub(self.delivered).max(unacked),
            duplicated: self.duplicated,
            reordered: self.reordered,
            errors: self.errors,
            disconnects: self.disconnects,
            end_to_end: end_to_end.summary(),
            visitor_to_operator: self.visitor_to_operator.summary(),
            operator_to_visitor: self.operator_to_visitor.summary(),
            ack: self.ack.summary(),
            send_lag: self.send_lag.summary(),
            burst: self.in_burst.summary(),
            server_cpu_us_per_msg: 0.0,
            server_cpu_percent: 0.0,
            generator_cpu_percent: 0.0,
            server_rss_kib: 0,
            transcripts_checked: 0,
            problems: self.problems.clone(),
        }
    }
}

/// A run nonce: the top 64 bits of a random UUID.
fn rand_nonce() -> u64 {
    (uuid::Uuid::new_v4().as_u128() >> 64) as u64
}

/// Fails with a readable list when a run lost, duplicated or reordered anything.
pub fn require_clean(outcome: &Outcome) -> anyhow::Result<()> {
    if outcome.is_clean() {
        return Ok(());
    }
    bail!(
        "{}: {} lost, {} duplicated, {} reordered of {} sent; {}",
        outcome.target.name(),
        outcome.lost,
        outcome.duplicated,
        outcome.reordered,
        outcome.sent,
        outcome.problems.join("; ")
    )
}

/// Connect-time helper used by scenarios that only need the checks' context.
pub fn describe(outcome: &Outcome) -> String {
    format!(
        "{:<9} offered {:>7.0}/s achieved {:>7.0}/s  e2e p50 {:>7.0} p99 {:>7.0} p99.9 {:>7.0} max {:>7.0} µs  ack p99 {:>7.0} µs  cpu {:>5.1} µs/msg ({:>3.0}%)  lag p99 {:>5.0} µs  rss {:>6} KiB  lost {} dup {} reord {} err {}",
        outcome.target.name(),
        outcome.offered,
        outcome.achieved,
        outcome.end_to_end.p50_us,
        outcome.end_to_end.p99_us,
        outcome.end_to_end.p999_us,
        outcome.end_to_end.max_us,
        outcome.ack.p99_us,
        outcome.server_cpu_us_per_msg,
        outcome.server_cpu_percent,
        outcome.send_lag.p99_us,
        outcome.server_rss_kib,
        outcome.lost,
        outcome.duplicated,
        outcome.reordered,
        outcome.errors,
    )
}

/// Context for errors from the whole run.
pub fn context(target: Target) -> String {
    format!("the {} load run failed", target.name())
}

/// Checks the plan is runnable.
pub fn validate(plan: &Plan) -> anyhow::Result<()> {
    if plan.conversations == 0 || plan.operators == 0 || plan.rate <= 0.0 {
        bail!("a load needs conversations, operators and a positive rate");
    }
    if plan.operators > plan.conversations {
        bail!("more operator connections than conversations");
    }
    Ok(())
}

/// Runs `run` with its context.
pub async fn run_checked(
    server: &Server,
    plan: Plan,
    dialogues: &Dialogues,
) -> anyhow::Result<Outcome> {
    validate(&plan)?;
    run(server, plan, dialogues)
        .await
        .with_context(|| context(server.target))
}
