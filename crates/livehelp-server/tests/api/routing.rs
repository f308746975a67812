//! Routing and supervision (issue 10): automatic modes and limits, the queue position the
//! visitor sees, orphaned chats (case BR-06), unanswered chats, transfer, whisper, barge,
//! and the administration routes. Real server, real sockets, SQLite.

use std::collections::HashMap;
use std::time::Duration;

use livehelp_app::{AppOptions, NewVisitorSession, RoutingOptions, SiteAccess};
use livehelp_bus::Topic;
use livehelp_domain::{BrowserInfo, ConversationState, OperatorId, Role, RoutingMode, TenantId};
use livehelp_protocol::{ClientFrame, ServerFrame};
use livehelp_server::ServerOptions;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::client::WsClient;
use crate::helpers::{TestApp, spawn_app, spawn_app_with_options};

/// A server whose grace period and unanswered rule are short enough to wait for.
async fn spawn_fast_app() -> TestApp {
    spawn_app_with_options(
        ServerOptions {
            demo_page: true,
            ..ServerOptions::default()
        },
        AppOptions {
            routing: RoutingOptions {
                grace: Duration::from_secs(1),
                unanswered: Some(Duration::from_secs(2)),
                sweep_every: Duration::from_millis(200),
            },
            ..AppOptions::default()
        },
    )
    .await
}

async fn admin(app: &TestApp, tenant: TenantId, email: &str) -> (String, String) {
    app.member(tenant, email, "Admin", Role::Admin).await;
    app.login_with_csrf(email).await
}

async fn set_routing(app: &TestApp, admin: &(String, String), routing: &str, max: Option<u32>) {
    let response = app
        .send_json(
            Method::PATCH,
            "/api/v1/routing-settings",
            admin,
            Some(
                json!({"routing": routing, "max_chats_per_operator": max, "show_monitoring": true}),
            ),
        )
        .await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

/// Waits until `frame` arrives for this conversation with the given state.
async fn wait_for_state(client: &mut WsClient, conversation: Uuid, state: &str) -> ServerFrame {
    client
        .wait_for(state, |frame| {
            matches!(frame, ServerFrame::Conversation { conversation: c } if c.id == conversation && c.state == state)
        })
        .await
}

async fn overview(app: &TestApp, cookie: &str) -> Value {
    let response = app.get("/api/v1/supervisor/overview", cookie).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

/// Case BR-04: one operator limited to 2, ten visitors asking at the same instant,
/// automatic routing: never more than 2 active, the other 8 wait with distinct positions
/// 1..8, and after one chat ends exactly one more (the oldest waiting) is assigned.
#[tokio::test]
async fn br04_concurrent_chat_limit_holds_under_parallel_routing() {
    let app = spawn_app().await;
    let tenant = app.tenant("limits").await;
    let admin = admin(&app, tenant.id, "admin@limits.test").await;
    set_routing(&app, &admin, "least_busy", Some(2)).await;
    let (_, mut operator) = app.operator_client(&tenant.operator_email).await;
    let mut visitors = Vec::new();
    for index in 0..10 {
        visitors.push(
            app.visitor(&tenant.site_key, Some(&format!("V{index}")))
                .await
                .1,
        );
    }
    // Everyone asks at once.
    let ids: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
    futures_util::future::join_all(
        visitors
            .iter_mut()
            .zip(&ids)
            .map(|(visitor, id)| async move {
                visitor
                    .send(&ClientFrame::StartChat {
                        client_msg_id: *id,
                        department_id: None,
                        prechat: None,
                    })
                    .await;
            }),
    )
    .await;
    let mut conversations = Vec::new();
    for (visitor, id) in visitors.iter_mut().zip(&ids) {
        conversations.push(visitor.ack(*id).await.0);
    }
    // Poll the supervisor view while routing settles: never over the limit.
    let mut settled = false;
    for _ in 0..30 {
        let view = overview(&app, &admin.0).await;
        let active = view["conversations"]
            .as_array()
            .expect("list")
            .iter()
            .filter(|c| c["state"] == "active")
            .count();
        assert!(active <= 2, "the limit of 2 was exceeded: {active}");
        if active == 2 {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(settled, "two chats were assigned");
    // Every waiting visitor is told a distinct position 1..8 (after the queue settles).
    let mut positions = Vec::new();
    for (visitor, conversation) in visitors.iter_mut().zip(&conversations) {
        let view = app.transcript_state(*conversation, &admin.0).await;
        if view == "active" {
            continue;
        }
        let position = loop {
            let frame = visitor
                .wait_for("queue position", |f| {
                    matches!(f, ServerFrame::QueuePosition { .. })
                })
                .await;
            let ServerFrame::QueuePosition {
                position,
                estimated_wait_seconds,
                ..
            } = frame
            else {
                unreachable!()
            };
            assert!(estimated_wait_seconds > 0, "an estimate in seconds");
            // Positions shrink as the first two are assigned: take the settled one.
            let real = queue_position(&app, *conversation, &admin.0).await;
            if position == real {
                break position;
            }
        };
        positions.push(position);
    }
    positions.sort_unstable();
    assert_eq!(positions, (1..=8).collect::<Vec<u64>>());
    // The operator ends one chat: exactly one more is assigned, the oldest waiting.
    let active: Vec<Uuid> = operator_active(&app, &admin.0).await;
    let waiting_oldest = oldest_queued(&app, &admin.0).await;
    let end = Uuid::new_v4();
    operator
        .send(&ClientFrame::EndChat {
            client_msg_id: end,
            conversation_id: active[0],
        })
        .await;
    operator.ack(end).await;
    let mut now_active = Vec::new();
    for _ in 0..50 {
        now_active = operator_active(&app, &admin.0).await;
        if now_active.len() == 2 && now_active.contains(&waiting_oldest) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        now_active.contains(&waiting_oldest),
        "the oldest waiting chat was assigned"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        operator_active(&app, &admin.0).await.len(),
        2,
        "still at most 2"
    );
}

async fn queue_position(app: &TestApp, conversation: Uuid, cookie: &str) -> u64 {
    let view = overview(app, cookie).await;
    let list = view["conversations"].as_array().expect("list");
    let me = list
        .iter()
        .find(|c| c["id"] == conversation.to_string())
        .expect("open");
    let department = me["department_id"].clone();
    list.iter()
        .filter(|c| c["state"] == "queued" && c["department_id"] == department)
        .take_while(|c| c["id"] != conversation.to_string())
        .count() as u64
        + 1
}

async fn operator_active(app: &TestApp, cookie: &str) -> Vec<Uuid> {
    overview(app, cookie).await["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| c["state"] == "active")
        .map(|c| c["id"].as_str().expect("id").parse().expect("uuid"))
        .collect()
}

async fn oldest_queued(app: &TestApp, cookie: &str) -> Uuid {
    overview(app, cookie).await["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["state"] == "queued")
        .map(|c| c["id"].as_str().expect("id").parse().expect("uuid"))
        .expect("a queued chat")
}

impl TestApp {
    /// The state of a conversation as the supervisor view shows it (`ended` if gone).
    async fn transcript_state(&self, conversation: Uuid, cookie: &str) -> String {
        let view = overview(self, cookie).await;
        view["conversations"]
            .as_array()
            .expect("list")
            .iter()
            .find(|c| c["id"] == conversation.to_string())
            .map_or("ended".to_owned(), |c| {
                c["state"].as_str().unwrap_or("").to_owned()
            })
    }
}

/// 200 queued chats, 10 operators limited to 3: `least_busy` keeps the spread within 1 at
/// every step, `round_robin` rotates through everyone before anyone gets a second chat,
/// and nobody ever holds more than 3.
#[tokio::test]
async fn automatic_modes_spread_rotate_and_respect_limits() {
    for mode in [RoutingMode::LeastBusy, RoutingMode::RoundRobin] {
        let app = spawn_app().await;
        let tenant = app.tenant("modes").await;
        let admin = admin(&app, tenant.id, "admin@modes.test").await;
        let mut operators = Vec::new();
        let mut presence = Vec::new();
        for index in 0..10 {
            let id = app
                .operator(
                    tenant.id,
                    &format!("op{index}@modes.test"),
                    &format!("Op {index}"),
                )
                .await;
            // Connected as far as routing is concerned: a subscription to their topic.
            presence.push(
                app.app
                    .bus()
                    .subscribe(Topic::Operator(tenant.id, id))
                    .await,
            );
            operators.push(id);
        }
        // Queue 200 chats while routing is manual.
        let mut queued = Vec::new();
        for index in 0..200 {
            let session = app
                .app
                .create_visitor_session(
                    &tenant.site_key,
                    &SiteAccess::default(),
                    NewVisitorSession {
                        name: Some(format!("visitor {index}")),
                        page_url: None,
                        page_title: None,
                    },
                    BrowserInfo::default(),
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .expect("visitor session");
            let visitor = app
                .app
                .authenticate_visitor(&session.token)
                .await
                .expect("visitor");
            let appended = app
                .app
                .start_chat(
                    &visitor,
                    Uuid::new_v4(),
                    None,
                    None,
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .expect("start");
            queued.push(appended.conversation.id);
        }
        // Watch every assignment in order.
        let mut queue = app.app.bus().subscribe(Topic::Queue(tenant.id)).await;
        set_routing(&app, &admin, mode.as_str(), Some(3)).await;
        let _ = app.app.dispatch(tenant.id).await.expect("dispatch");
        let mut order: Vec<OperatorId> = Vec::new();
        let mut load: HashMap<OperatorId, u32> = HashMap::new();
        while order.len() < 30 {
            let item = tokio::time::timeout(
                Duration::from_secs(10),
                futures_util::StreamExt::next(&mut queue),
            )
            .await
            .expect("assignments arrive")
            .expect("subscription open");
            let livehelp_bus::BusItem::Event(event) = item else {
                panic!("lagged");
            };
            let livehelp_bus::BusEvent::Conversation(conversation) = &*event else {
                continue;
            };
            if conversation.state != ConversationState::Active {
                continue;
            }
            let owner = conversation.operator_id.expect("owner");
            order.push(owner);
            let count = load.entry(owner).or_default();
            *count += 1;
            assert!(*count <= 3, "{mode:?}: an operator got a 4th chat");
            if mode == RoutingMode::LeastBusy {
                let counts: Vec<u32> = operators
                    .iter()
                    .map(|operator| load.get(operator).copied().unwrap_or(0))
                    .collect();
                let spread = counts.iter().max().expect("ten") - counts.iter().min().expect("ten");
                assert!(
                    spread <= 1,
                    "least_busy spread {spread} after {} assignments",
                    order.len()
                );
            }
        }
        if mode == RoutingMode::RoundRobin {
            for round in order.chunks(10) {
                let distinct: std::collections::HashSet<_> = round.iter().collect();
                assert_eq!(
                    distinct.len(),
                    10,
                    "round robin gives everyone one before seconds"
                );
            }
        }
        // Nothing more: everyone is full, 170 chats still wait.
        assert_eq!(app.app.dispatch(tenant.id).await.expect("dispatch"), 0);
        let view = overview(&app, &admin.0).await;
        let waiting = view["conversations"]
            .as_array()
            .expect("list")
            .iter()
            .filter(|c| c["state"] == "queued")
            .count();
        assert_eq!(waiting, 170);
        drop(presence);
    }
}

/// Case BR-06: the operator's socket dies; after the grace period the chat is back in the
/// queue with a notice to the visitor, another operator takes it and gets `anyone?`; a
/// returning visitor's new chat goes to the operator who is there, never the absent one.
#[tokio::test]
async fn br06_chats_of_a_vanished_operator_are_not_orphaned() {
    let app = spawn_fast_app().await;
    let tenant = app.tenant("orphans").await;
    let admin = admin(&app, tenant.id, "admin@orphans.test").await;
    app.operator(tenant.id, "b@orphans.test", "Bea").await;
    let (_, mut op_a) = app.operator_client(&tenant.operator_email).await;
    let (_, mut op_b) = app.operator_client("b@orphans.test").await;
    let (_, mut v1) = app.visitor(&tenant.site_key, Some("Vera")).await;
    let (_, mut v2) = app.visitor(&tenant.site_key, Some("Walt")).await;
    let c = v1.start_chat().await;
    op_a.accept(c).await;
    // V2's earlier chat, closed by A.
    let earlier = v2.start_chat().await;
    op_a.accept(earlier).await;
    let end = Uuid::new_v4();
    op_a.send(&ClientFrame::EndChat {
        client_msg_id: end,
        conversation_id: earlier,
    })
    .await;
    op_a.ack(end).await;
    // A's socket dies without a logout.
    op_a.drop_abruptly();
    // Within the grace period nothing moves.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.transcript_state(c, &admin.0).await, "active");
    // After it, V1 is told and the chat is queued again.
    wait_for_state(&mut v1, c, "queued").await;
    assert!(
        v1.messages_of(c)
            .iter()
            .any(|m| m.kind == "system" && m.text.contains("no longer available")),
        "the visitor was told"
    );
    wait_for_state(&mut op_b, c, "queued").await;
    op_b.accept(c).await;
    let seq = v1.say(c, "anyone?").await;
    op_b.wait_for_seq(c, seq).await;
    assert!(op_b.messages_of(c).iter().any(|m| m.text == "anyone?"));
    // V2 returns; with automatic routing the new chat goes to B, not the absent A.
    set_routing(&app, &admin, "least_busy", None).await;
    let c2 = v2.start_chat().await;
    let frame = wait_for_state(&mut v2, c2, "active").await;
    let ServerFrame::Conversation { conversation } = frame else {
        unreachable!()
    };
    assert_eq!(conversation.operator_name.as_deref(), Some("Bea"));
    // The supervisor view never shows an open chat owned by someone not connected.
    let view = overview(&app, &admin.0).await;
    let connected: Vec<&str> = view["operators"]
        .as_array()
        .expect("operators")
        .iter()
        .filter(|o| o["connected"] == true)
        .map(|o| o["id"].as_str().expect("id"))
        .collect();
    for conversation in view["conversations"].as_array().expect("list") {
        if conversation["state"] == "active" {
            let owner = conversation["operator_id"].as_str().expect("owner");
            assert!(
                connected.contains(&owner),
                "active chat owned by an absent operator"
            );
        }
    }
}

/// With automatic routing, a vanished owner's chat goes straight to another available
/// operator; a chat the server assigned that is left unanswered moves on too.
#[tokio::test]
async fn automatic_queues_hand_on_orphaned_and_unanswered_chats() {
    let app = spawn_fast_app().await;
    let tenant = app.tenant("handon").await;
    let admin = admin(&app, tenant.id, "admin@handon.test").await;
    app.operator(tenant.id, "b@handon.test", "Bea").await;
    set_routing(&app, &admin, "least_busy", None).await;
    let (_, mut op_a) = app.operator_client(&tenant.operator_email).await;
    let (_, mut op_b) = app.operator_client("b@handon.test").await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, Some("Vic")).await;
    let c = visitor.start_chat().await;
    let ServerFrame::Conversation { conversation } =
        wait_for_state(&mut visitor, c, "active").await
    else {
        unreachable!()
    };
    let first_owner = conversation.operator_name.clone().expect("owner");
    // Nobody answers within 2 s: it moves to the other operator.
    let ServerFrame::Conversation { conversation } = visitor
        .wait_for("reassigned", |frame| {
            matches!(frame, ServerFrame::Conversation { conversation: x } if x.id == c && x.state == "active" && x.operator_name.as_deref() != Some(first_owner.as_str()))
        })
        .await
    else {
        unreachable!()
    };
    let second_owner = conversation.operator_name.expect("owner");
    assert_ne!(first_owner, second_owner);
    // The new owner answers, so it stays; then the new owner vanishes: back to the first.
    let (owner_socket, other_socket) = if second_owner == "Operator" {
        (&mut op_a, &mut op_b)
    } else {
        (&mut op_b, &mut op_a)
    };
    owner_socket
        .wait_for("follows", |frame| matches!(frame, ServerFrame::Resumed { conversation_id, .. } if *conversation_id == c))
        .await;
    owner_socket.say(c, "Hello, how can I help?").await;
    let _ = other_socket;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(app.transcript_state(c, &admin.0).await, "active");
    let still: Value = overview(&app, &admin.0).await;
    let entry = still["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .find(|x| x["id"] == c.to_string())
        .cloned()
        .expect("open");
    assert_eq!(
        entry["operator_name"],
        second_owner.as_str(),
        "answered chats stay"
    );
}

/// The visitor's queue position follows the real queue as chats ahead are served, and the
/// estimate is a number of seconds.
#[tokio::test]
async fn queue_position_follows_the_real_queue() {
    let app = spawn_app().await;
    let tenant = app.tenant("positions").await;
    let (_, mut operator) = app.operator_client(&tenant.operator_email).await;
    let mut visitors = Vec::new();
    let mut conversations = Vec::new();
    for index in 0..3 {
        let (_, mut visitor) = app
            .visitor(&tenant.site_key, Some(&format!("Q{index}")))
            .await;
        let conversation = visitor.start_chat().await;
        let ServerFrame::QueuePosition {
            position,
            estimated_wait_seconds,
            ..
        } = visitor
            .wait_for("position", |f| {
                matches!(f, ServerFrame::QueuePosition { .. })
            })
            .await
        else {
            unreachable!()
        };
        assert_eq!(position, index + 1);
        assert_eq!(
            estimated_wait_seconds,
            (index + 1) * livehelp_app::COLD_START_SECONDS_PER_POSITION
        );
        visitors.push(visitor);
        conversations.push(conversation);
    }
    operator.accept(conversations[0]).await;
    for (index, visitor) in visitors
        .iter_mut()
        .enumerate()
        .filter(|(index, _)| *index > 0)
    {
        visitor
            .wait_for("moved up", |f| {
                matches!(f, ServerFrame::QueuePosition { position, .. } if *position == index as u64)
            })
            .await;
    }
}

/// Whisper: operators see it, the visitor never does (socket, transcript download);
/// monitoring and barge are audited; barge-join lets the supervisor write beside the
/// owner, take-over makes them the owner and the old owner stops receiving it.
#[tokio::test]
async fn supervisor_monitors_whispers_and_barges_in() {
    let app = spawn_app().await;
    let tenant = app.tenant("suite").await;
    let admin = admin(&app, tenant.id, "admin@suite.test").await;
    set_routing(&app, &admin, "manual", None).await;
    app.member(tenant.id, "sup@suite.test", "Sam", Role::Supervisor)
        .await;
    let (_, mut owner) = app.operator_client(&tenant.operator_email).await;
    let (_, mut supervisor) = app.operator_client("sup@suite.test").await;
    let (session, mut visitor) = app.visitor(&tenant.site_key, Some("Vic")).await;
    let c = visitor.start_chat().await;
    owner.accept(c).await;
    // The supervisor starts monitoring: the owner is told (tenant shows monitoring).
    supervisor.resume(c, 0).await;
    owner
        .wait_for("monitoring", |f| {
            matches!(f, ServerFrame::Monitoring { watching: true, .. })
        })
        .await;
    let whisper = Uuid::new_v4();
    supervisor
        .send(&ClientFrame::Whisper {
            client_msg_id: whisper,
            conversation_id: c,
            text: "WHISPER-only-for-staff".into(),
        })
        .await;
    let (_, _, whisper_seq) = supervisor.ack(whisper).await;
    owner.wait_for_seq(c, whisper_seq).await;
    assert!(
        owner
            .messages_of(c)
            .iter()
            .any(|m| m.kind == "whisper" && m.text == "WHISPER-only-for-staff")
    );
    // Barge in (join): the supervisor writes, the visitor sees it.
    let join = Uuid::new_v4();
    supervisor
        .send(&ClientFrame::Barge {
            client_msg_id: join,
            conversation_id: c,
            mode: "join".into(),
        })
        .await;
    supervisor.ack(join).await;
    // Joining again changes nothing and says so.
    let again = Uuid::new_v4();
    supervisor
        .send(&ClientFrame::Barge {
            client_msg_id: again,
            conversation_id: c,
            mode: "join".into(),
        })
        .await;
    assert_eq!(supervisor.error_code(Some(again)).await, "invalid_request");
    let seq = supervisor.say(c, "Supervisor here").await;
    visitor.wait_for_seq(c, seq).await;
    // Take over: the supervisor owns it; the old owner stops following.
    let take = Uuid::new_v4();
    supervisor
        .send(&ClientFrame::Barge {
            client_msg_id: take,
            conversation_id: c,
            mode: "take_over".into(),
        })
        .await;
    supervisor.ack(take).await;
    owner
        .wait_for("handed away", |f| {
            matches!(f, ServerFrame::Conversation { conversation } if conversation.id == c && conversation.operator_name.as_deref() == Some("Sam"))
        })
        .await;
    let last = visitor.say(c, "thanks").await;
    supervisor.wait_for_seq(c, last).await;
    owner.send(&ClientFrame::Ping {}).await;
    owner
        .wait_for("pong", |f| matches!(f, ServerFrame::Pong {}))
        .await;
    assert!(
        !owner.messages_of(c).iter().any(|m| m.seq == last),
        "the old owner no longer receives the chat"
    );
    // The visitor never saw the whisper: not live...
    assert!(
        visitor
            .messages_of(c)
            .iter()
            .all(|m| m.kind != "whisper" && !m.text.contains("WHISPER")),
        "whisper reached the visitor's socket"
    );
    // ...not on resume...
    let (_, mut again) = (
        (),
        WsClient::visitor(&app.base, &session.visitor_token).await,
    );
    again.resume(c, 0).await;
    assert!(again.messages.iter().all(|m| !m.text.contains("WHISPER")));
    // ...not in their transcript download (the text a visitor-facing email uses too).
    let download = app
        .http
        .get(format!(
            "{}/api/v1/visitor/conversations/{c}/transcript",
            app.base
        ))
        .bearer_auth(&session.visitor_token)
        .send()
        .await
        .expect("request");
    assert_eq!(download.status(), 200);
    let text = download.text().await.expect("text");
    assert!(text.contains("Supervisor here") && text.contains("thanks"));
    assert!(
        !text.contains("WHISPER"),
        "whisper in the visitor's transcript"
    );
    // Operators' transcript marks it internal.
    let staff = app
        .get(
            &format!("/api/v1/conversations/{c}/transcript?format=txt"),
            &admin.0,
        )
        .await
        .text()
        .await
        .expect("text");
    assert!(staff.contains("Sam (whisper): WHISPER-only-for-staff"));
    // Audited: monitor, whisper, barge.
    let audit: Value = app
        .get("/api/v1/audit-log", &admin.0)
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or(""))
        .collect();
    for action in [
        "monitor_started",
        "whisper_sent",
        "barge_joined",
        "barge_took_over",
    ] {
        assert!(actions.contains(&action), "{action} audited: {actions:?}");
    }
    // A plain operator may not whisper into or barge into a colleague's chat.
    let whisper = Uuid::new_v4();
    owner
        .send(&ClientFrame::Whisper {
            client_msg_id: whisper,
            conversation_id: c,
            text: "x".into(),
        })
        .await;
    assert_eq!(owner.error_code(Some(whisper)).await, "role_required");
    let barge = Uuid::new_v4();
    owner
        .send(&ClientFrame::Barge {
            client_msg_id: barge,
            conversation_id: c,
            mode: "take_over".into(),
        })
        .await;
    assert_eq!(owner.error_code(Some(barge)).await, "role_required");
}

/// Transfer to an available colleague (with a note only operators see), refusal for an
/// unavailable one, and transfer back to a department's queue.
#[tokio::test]
async fn transfer_to_an_operator_or_a_department() {
    let app = spawn_app().await;
    let tenant = app.tenant("transfer").await;
    let admin = admin(&app, tenant.id, "admin@transfer.test").await;
    let bea = app.operator(tenant.id, "b@transfer.test", "Bea").await;
    let carl = app.operator(tenant.id, "c@transfer.test", "Carl").await;
    let (_, mut op_a) = app.operator_client(&tenant.operator_email).await;
    let (_, mut op_b) = app.operator_client("b@transfer.test").await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, Some("Vic")).await;
    let c = visitor.start_chat().await;
    op_a.accept(c).await;
    // Carl is not connected: unavailable.
    let refused = Uuid::new_v4();
    op_a.send(&ClientFrame::Transfer {
        client_msg_id: refused,
        conversation_id: c,
        to_operator_id: Some(carl.as_uuid()),
        to_department_id: None,
        note: None,
    })
    .await;
    assert_eq!(op_a.error_code(Some(refused)).await, "operator_unavailable");
    let transfer = Uuid::new_v4();
    op_a.send(&ClientFrame::Transfer {
        client_msg_id: transfer,
        conversation_id: c,
        to_operator_id: Some(bea.as_uuid()),
        to_department_id: None,
        note: Some("NOTE: wants a refund".into()),
    })
    .await;
    op_a.ack(transfer).await;
    op_b.wait_for(
        "follows",
        |f| matches!(f, ServerFrame::Resumed { conversation_id, .. } if *conversation_id == c),
    )
    .await;
    let seq = visitor.say(c, "still there?").await;
    op_b.wait_for_seq(c, seq).await;
    assert!(
        op_b.messages_of(c)
            .iter()
            .any(|m| m.text.contains("wants a refund"))
    );
    assert!(
        visitor
            .messages_of(c)
            .iter()
            .any(|m| m.text == "You are now chatting with Bea")
    );
    assert!(
        visitor
            .messages_of(c)
            .iter()
            .all(|m| !m.text.contains("refund"))
    );
    // To a department: queued there, the visitor gets a position.
    let created: Value = app
        .send_json(
            Method::POST,
            "/api/v1/departments",
            &admin,
            Some(json!({"name": "Billing", "routing": "manual", "operator_ids": [bea.as_uuid()]})),
        )
        .await
        .json()
        .await
        .expect("json");
    let billing: Uuid = created["id"].as_str().expect("id").parse().expect("uuid");
    let to_department = Uuid::new_v4();
    op_b.send(&ClientFrame::Transfer {
        client_msg_id: to_department,
        conversation_id: c,
        to_operator_id: None,
        to_department_id: Some(billing),
        note: None,
    })
    .await;
    op_b.ack(to_department).await;
    let ServerFrame::Conversation { conversation } =
        wait_for_state(&mut visitor, c, "queued").await
    else {
        unreachable!()
    };
    assert_eq!(conversation.department_id, Some(billing));
    visitor
        .wait_for("position", |f| {
            matches!(f, ServerFrame::QueuePosition { position: 1, .. })
        })
        .await;
}

/// Administration: departments, routing settings, operator limits, a site's default
/// department; bad input gets its code.
#[tokio::test]
async fn routing_administration_and_bad_input() {
    let app = spawn_app().await;
    let tenant = app.tenant("admin").await;
    let admin = admin(&app, tenant.id, "admin@admin.test").await;
    let sales: Value = app
        .send_json(
            Method::POST,
            "/api/v1/departments",
            &admin,
            Some(json!({"name": "Sales", "routing": "round_robin"})),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(sales["routing"], "round_robin");
    let again = app
        .send_json(
            Method::POST,
            "/api/v1/departments",
            &admin,
            Some(json!({"name": "Sales"})),
        )
        .await;
    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.expect("json");
    assert_eq!(body["code"], "department_name_taken");
    // The same name in another case would look the same to visitors.
    let lower = app
        .send_json(
            Method::POST,
            "/api/v1/departments",
            &admin,
            Some(json!({"name": "sales"})),
        )
        .await;
    assert_eq!(lower.status(), 409);
    let bad_mode = app
        .send_json(
            Method::POST,
            "/api/v1/departments",
            &admin,
            Some(json!({"name": "X", "routing": "fastest"})),
        )
        .await;
    assert_eq!(bad_mode.status(), 400);
    let stranger = app
        .send_json(
            Method::POST,
            "/api/v1/departments",
            &admin,
            Some(json!({"name": "Y", "operator_ids": [Uuid::new_v4()]})),
        )
        .await;
    assert_eq!(
        stranger.status(),
        400,
        "members must be the tenant's operators"
    );
    let zero = app
        .send_json(
            Method::PATCH,
            "/api/v1/routing-settings",
            &admin,
            Some(
                json!({"routing": "manual", "max_chats_per_operator": 0, "show_monitoring": false}),
            ),
        )
        .await;
    assert_eq!(zero.status(), 400);
    // A site's default department: chats without a choice join it.
    let sites: Value = app
        .get("/api/v1/sites", &admin.0)
        .await
        .json()
        .await
        .expect("json");
    let site_id = sites["sites"][0]["id"].as_str().expect("id");
    let patched = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/sites/{site_id}"),
            &admin,
            Some(json!({"default_department_id": sales["id"]})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let wrong = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/sites/{site_id}"),
            &admin,
            Some(json!({"default_department_id": Uuid::new_v4()})),
        )
        .await;
    assert_eq!(wrong.status(), 400);
    let config: Value = app
        .http
        .get(format!(
            "{}/api/v1/sites/{}/widget-config",
            app.base, tenant.site_key
        ))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(config["departments"][0]["name"], "Sales");
    let (_, mut visitor) = app.visitor(&tenant.site_key, None).await;
    let c = visitor.start_chat().await;
    let view = overview(&app, &admin.0).await;
    let entry = view["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .find(|x| x["id"] == c.to_string())
        .cloned()
        .expect("queued");
    assert_eq!(entry["department_id"], sales["id"]);
    // An unknown department at start is refused, and nothing is opened.
    let (_, mut other) = app.visitor(&tenant.site_key, None).await;
    let id = Uuid::new_v4();
    other
        .send(&ClientFrame::StartChat {
            client_msg_id: id,
            department_id: Some(Uuid::new_v4()),
            prechat: None,
        })
        .await;
    assert_eq!(other.error_code(Some(id)).await, "invalid_request");
    // An operator's own limit.
    let operators: Value = app
        .get("/api/v1/operators", &admin.0)
        .await
        .json()
        .await
        .expect("json");
    let op = operators["operators"][0]["id"].as_str().expect("id");
    let limited: Value = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/operators/{op}"),
            &admin,
            Some(json!({"max_chats": 4})),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(limited["max_chats"], 4);
    // Plain operators read departments but may not change them; the overview is for
    // supervisors and admins.
    let plain = app.login_with_csrf(&tenant.operator_email).await;
    assert_eq!(app.get("/api/v1/departments", &plain.0).await.status(), 200);
    let forbidden = app
        .send_json(
            Method::POST,
            "/api/v1/departments",
            &plain,
            Some(json!({"name": "Z"})),
        )
        .await;
    assert_eq!(forbidden.status(), 403);
    assert_eq!(
        app.get("/api/v1/supervisor/overview", &plain.0)
            .await
            .status(),
        403
    );
    // A chat limit is enforced on a manual accept too.
    let _ = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/operators/{op}"),
            &admin,
            Some(json!({"max_chats": 1})),
        )
        .await;
    let (_, mut operator) = app.operator_client(&tenant.operator_email).await;
    operator.accept(c).await;
    let (_, mut third) = app.visitor(&tenant.site_key, None).await;
    let c3 = third.start_chat().await;
    let accept = Uuid::new_v4();
    operator
        .send(&ClientFrame::Accept {
            client_msg_id: accept,
            conversation_id: c3,
        })
        .await;
    assert_eq!(
        operator.error_code(Some(accept)).await,
        "chat_limit_reached"
    );
}

/// An operator set to `away` gets no new chats; back `online`, they take waiting ones.
#[tokio::test]
async fn away_operators_get_no_new_chats() {
    let app = spawn_app().await;
    let tenant = app.tenant("away").await;
    let admin = admin(&app, tenant.id, "admin@away.test").await;
    set_routing(&app, &admin, "round_robin", None).await;
    let (_, mut operator) = app.operator_client(&tenant.operator_email).await;
    operator
        .send(&ClientFrame::SetStatus {
            status: "away".into(),
        })
        .await;
    operator
        .wait_for("status", |f| matches!(f, ServerFrame::Status { .. }))
        .await;
    let (_, mut visitor) = app.visitor(&tenant.site_key, Some("Ann")).await;
    let c = visitor.start_chat().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.transcript_state(c, &admin.0).await, "queued");
    operator
        .send(&ClientFrame::SetStatus {
            status: "online".into(),
        })
        .await;
    wait_for_state(&mut visitor, c, "active").await;
}
