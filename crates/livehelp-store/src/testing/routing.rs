//! Conformance checks of routing (issue 10): departments and their members, a tenant's
//! routing settings, a site's default department and an operator's own chat limit; the
//! routing effects of `append` (`Accept` and `Assign` under the chat limit, also when they
//! race (case BR-04), `Transfer`, `Requeue`, `Join` and `ParticipantMessage`) with their
//! idempotency; and the reads automatic routing and the queue estimate make (operator
//! loads, queue positions, recent assignments, open and unanswered conversations,
//! participants). Every method is also tried with another tenant's ids.

use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{
    Conversation, ConversationId, ConversationState, Department, DepartmentId, EndReason,
    MessageAuthor, MessageKind, NewMessage, Operator, OperatorId, OperatorStatus, Role,
    RoutingMode, RoutingSettings, Site, SiteId, SystemEvent, TenantId, Timestamp, VisitorId,
};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::expect::{conflict, join_all, not_found, ok, wrong_state};
use super::fixtures::{
    Fixture, accept, end, new_message, now, open_request, operator_message, unique_email,
    unique_site_key, visitor_message,
};
use crate::{AppendEffect, AppendRequest, Appended, Store, StoreError, StoreResult};

/// The conflict every refusal by the chat limit (or a disabled target) carries.
const LIMIT: &str = "operator_chat_limit";

/// A department of the fixture's tenant named `name`, created now.
fn department(fixture: &Fixture, name: &str, operators: Vec<OperatorId>) -> Department {
    Department {
        id: DepartmentId::new(),
        tenant_id: fixture.tenant.id,
        name: name.to_owned(),
        routing: RoutingMode::Manual,
        operators,
        created_at: now(),
    }
}

/// Inserts one more operator of the fixture's tenant.
async fn add_operator(
    store: &dyn Store,
    fixture: &Fixture,
    max_chats: Option<u32>,
    disabled: bool,
) -> Operator {
    let operator = Operator {
        id: OperatorId::new(),
        tenant_id: fixture.tenant.id,
        email: unique_email(),
        display_name: "Extra".to_owned(),
        role: Role::Operator,
        password_hash: "$argon2id$fixture".to_owned(),
        disabled,
        status: OperatorStatus::Online,
        failed_logins: 0,
        locked_until: None,
        max_chats,
        created_at: now(),
    };
    ok(store.insert_operator(fixture.tenant.id, &operator).await);
    operator
}

/// Sets the tenant's default chat limit (manual routing, no monitoring shown).
async fn set_tenant_limit(store: &dyn Store, tenant: TenantId, limit: Option<u32>) {
    let settings = RoutingSettings {
        max_chats_per_operator: limit,
        ..RoutingSettings::default()
    };
    ok(store.update_routing_settings(tenant, &settings).await);
}

/// `Open` for `visitor` into `department`'s queue, with the request made at `at`.
fn open_at(
    fixture: &Fixture,
    visitor: VisitorId,
    department: Option<DepartmentId>,
    at: Timestamp,
) -> AppendRequest {
    let mut request = open_request(fixture, visitor);
    request.message.created_at = at;
    request.effect = AppendEffect::Open {
        site_id: fixture.site.id,
        visitor_id: visitor,
        department_id: department,
        prechat: None,
    };
    request
}

/// Opens a conversation for a new visitor in `department`'s queue, created at `at`.
async fn queued(
    store: &dyn Store,
    fixture: &Fixture,
    department: Option<DepartmentId>,
    at: Timestamp,
) -> Conversation {
    let visitor = fixture.new_visitor(store).await;
    let appended = ok(store
        .append(
            fixture.tenant.id,
            open_at(fixture, visitor.id, department, at),
        )
        .await);
    assert!(!appended.duplicate);
    assert_eq!(appended.conversation.department_id, department);
    appended.conversation
}

/// A system message by `author` in `conversation` carrying `effect`, made at `at`.
fn routing_request(
    conversation: ConversationId,
    author: MessageAuthor,
    effect: AppendEffect,
    at: Timestamp,
) -> AppendRequest {
    let event = matches!(
        effect,
        AppendEffect::Accept { .. } | AppendEffect::Assign { .. }
    )
    .then_some(SystemEvent::OperatorJoined);
    let message = new_message(conversation, MessageKind::System, author, "Routing");
    AppendRequest {
        message: NewMessage {
            event,
            created_at: at,
            ..message
        },
        effect,
    }
}

/// `Assign` of `conversation` to `operator` by the server, now.
fn assign(conversation: ConversationId, operator: OperatorId) -> AppendRequest {
    assign_at(conversation, operator, now())
}

/// `Assign` of `conversation` to `operator` by the server, at `at`.
fn assign_at(conversation: ConversationId, operator: OperatorId, at: Timestamp) -> AppendRequest {
    routing_request(
        conversation,
        MessageAuthor::System,
        AppendEffect::Assign { operator },
        at,
    )
}

/// `Transfer` from `from` to `to`.
fn transfer(
    conversation: ConversationId,
    from: OperatorId,
    to: OperatorId,
    automatic: bool,
    at: Timestamp,
) -> AppendRequest {
    routing_request(
        conversation,
        MessageAuthor::Operator(from),
        AppendEffect::Transfer {
            from,
            to,
            automatic,
        },
        at,
    )
}

/// `Requeue` from `from` into `department`'s queue, by the system.
fn requeue(
    conversation: ConversationId,
    from: OperatorId,
    department: Option<DepartmentId>,
) -> AppendRequest {
    routing_request(
        conversation,
        MessageAuthor::System,
        AppendEffect::Requeue {
            from,
            department_id: department,
        },
        now(),
    )
}

/// `Join` by `operator` (barge in).
fn join(conversation: ConversationId, operator: OperatorId) -> AppendRequest {
    routing_request(
        conversation,
        MessageAuthor::Operator(operator),
        AppendEffect::Join { operator },
        now(),
    )
}

/// A message by `operator`, who joined but does not own the conversation.
fn participant_message(conversation: ConversationId, operator: OperatorId) -> AppendRequest {
    AppendRequest {
        message: new_message(
            conversation,
            MessageKind::Operator,
            MessageAuthor::Operator(operator),
            "Supervisor here",
        ),
        effect: AppendEffect::ParticipantMessage { operator },
    }
}

/// Fails unless `result` is a `Conflict` on `expected`.
#[track_caller]
fn conflict_on(result: StoreResult<Appended>, expected: &str) {
    match result {
        Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, expected),
        other => panic!("expected a conflict on {expected}, got {other:?}"),
    }
}

/// The conversation as stored now.
async fn current(store: &dyn Store, tenant: TenantId, id: ConversationId) -> Conversation {
    ok(store.fetch_conversation(tenant, id).await)
}

/// Departments: insert and list (by name, members in account order), name conflicts on
/// insert and update, members of another tenant refused with `NotFound` (nothing written),
/// unknown or foreign departments `NotFound`, and delete moving the department's open
/// conversations to the general queue and clearing sites that defaulted to it.
pub async fn departments_crud(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    assert_eq!(ok(store.list_departments(tenant).await), Vec::new());

    let support = department(
        &fixture,
        "Support",
        vec![fixture.other_operator.id, fixture.operator.id],
    );
    let sales = Department {
        routing: RoutingMode::RoundRobin,
        ..department(&fixture, "Sales — מכירות", vec![fixture.operator.id])
    };
    ok(store.insert_department(tenant, &support).await);
    ok(store.insert_department(tenant, &sales).await);
    let in_account_order = Department {
        operators: vec![fixture.operator.id, fixture.other_operator.id],
        ..support.clone()
    };
    assert_eq!(
        ok(store.list_departments(tenant).await),
        vec![sales.clone(), in_account_order.clone()]
    );
    // Another tenant may use the same name; this one may not.
    ok(store
        .insert_department(other.tenant.id, &department(&other, "Support", Vec::new()))
        .await);
    conflict(
        store
            .insert_department(tenant, &department(&fixture, "Support", Vec::new()))
            .await,
        "department_name",
    );
    conflict(
        store
            .update_department(
                tenant,
                &Department {
                    name: "Support".to_owned(),
                    ..sales.clone()
                },
            )
            .await,
        "department_name",
    );

    // Members of another tenant (or nobody's) are NotFound, and nothing is written.
    let foreign = department(&fixture, "Billing", vec![other.operator.id]);
    not_found(store.insert_department(tenant, &foreign).await);
    let with_stranger = Department {
        operators: vec![fixture.operator.id, other.operator.id],
        ..sales.clone()
    };
    not_found(store.update_department(tenant, &with_stranger).await);
    let with_nobody = Department {
        operators: vec![OperatorId::new()],
        ..sales.clone()
    };
    not_found(store.update_department(tenant, &with_nobody).await);
    assert_eq!(
        ok(store.list_departments(tenant).await),
        vec![sales.clone(), in_account_order.clone()]
    );

    // Update replaces name, mode and members.
    let renamed = Department {
        name: "Sales".to_owned(),
        routing: RoutingMode::LeastBusy,
        operators: vec![fixture.other_operator.id],
        created_at: sales.created_at,
        ..sales.clone()
    };
    ok(store.update_department(tenant, &renamed).await);
    assert_eq!(
        ok(store.list_departments(tenant).await),
        vec![renamed.clone(), in_account_order.clone()]
    );
    not_found(
        store
            .update_department(tenant, &department(&fixture, "Ghost", Vec::new()))
            .await,
    );
    not_found(store.delete_department(tenant, DepartmentId::new()).await);
    // Another tenant's department is not found under this tenant, and stays.
    let theirs = ok(store.list_departments(other.tenant.id).await);
    not_found(store.delete_department(tenant, theirs[0].id).await);
    not_found(
        store
            .update_department(
                tenant,
                &Department {
                    tenant_id: tenant,
                    ..theirs[0].clone()
                },
            )
            .await,
    );
    assert_eq!(ok(store.list_departments(other.tenant.id).await), theirs);

    // Delete: open conversations move to the general queue, site defaults are cleared.
    let start = now();
    let waiting = queued(&*store, &fixture, Some(support.id), start).await;
    let general = queued(&*store, &fixture, None, start + Duration::from_micros(1)).await;
    let talking = queued(
        &*store,
        &fixture,
        Some(support.id),
        start + Duration::from_micros(2),
    )
    .await;
    ok(store
        .append(tenant, accept(talking.id, fixture.operator.id))
        .await);
    assert_eq!(ok(store.queue_position(tenant, general.id).await), Some(1));
    let site = Site {
        default_department_id: Some(support.id),
        ..fixture.site.clone()
    };
    ok(store.update_site(tenant, &site).await);
    let sales_site = Site {
        id: SiteId::new(),
        key: unique_site_key(),
        default_department_id: Some(renamed.id),
        created_at: fixture.site.created_at + Duration::from_secs(1),
        ..fixture.site.clone()
    };
    ok(store.insert_site(tenant, &sales_site).await);

    ok(store.delete_department(tenant, support.id).await);
    assert_eq!(
        ok(store.list_departments(tenant).await),
        vec![renamed.clone()]
    );
    let waiting = current(&*store, tenant, waiting.id).await;
    assert_eq!(waiting.department_id, None);
    assert_eq!(waiting.state, ConversationState::Queued);
    let talking = current(&*store, tenant, talking.id).await;
    assert_eq!(talking.department_id, None);
    assert_eq!(talking.operator_id, Some(fixture.operator.id));
    // The general queue now holds both, in arrival order.
    assert_eq!(ok(store.queue_position(tenant, waiting.id).await), Some(1));
    assert_eq!(ok(store.queue_position(tenant, general.id).await), Some(2));
    let sites = ok(store.list_sites(tenant).await);
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[0].default_department_id, None);
    assert_eq!(sites[1].default_department_id, Some(renamed.id));
    not_found(store.delete_department(tenant, support.id).await);
    // A deleted department cannot be used any more.
    let visitor = fixture.new_visitor(&*store).await;
    not_found(
        store
            .append(
                tenant,
                open_at(&fixture, visitor.id, Some(support.id), now()),
            )
            .await,
    );
    not_found(
        store
            .update_site(
                tenant,
                &Site {
                    default_department_id: Some(support.id),
                    ..fixture.site.clone()
                },
            )
            .await,
    );
}

/// Routing settings: a new tenant has the defaults (manual, no limit, monitoring not
/// shown); an update reads back field by field; an unknown tenant is `NotFound`.
pub async fn routing_settings_round_trip(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    assert_eq!(
        ok(store.fetch_routing_settings(tenant).await),
        RoutingSettings::default()
    );
    assert_eq!(
        RoutingSettings::default(),
        RoutingSettings {
            routing: RoutingMode::Manual,
            max_chats_per_operator: None,
            show_monitoring: false,
        }
    );
    for settings in [
        RoutingSettings {
            routing: RoutingMode::LeastBusy,
            max_chats_per_operator: Some(3),
            show_monitoring: true,
        },
        RoutingSettings {
            routing: RoutingMode::RoundRobin,
            max_chats_per_operator: Some(1),
            show_monitoring: false,
        },
        RoutingSettings::default(),
    ] {
        ok(store.update_routing_settings(tenant, &settings).await);
        assert_eq!(ok(store.fetch_routing_settings(tenant).await), settings);
        assert_eq!(
            ok(store.fetch_routing_settings(other.tenant.id).await),
            RoutingSettings::default(),
            "another tenant's settings do not change"
        );
    }
    not_found(
        store
            .update_routing_settings(TenantId::new(), &RoutingSettings::default())
            .await,
    );
    not_found(store.fetch_routing_settings(TenantId::new()).await);
}

/// A site's default department round-trips through insert, update and both lookups; a
/// department of another tenant (or none at all) is `NotFound` and writes nothing.
pub async fn site_default_department_round_trip(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let support = department(&fixture, "Support", Vec::new());
    ok(store.insert_department(tenant, &support).await);
    let theirs = department(&other, "Theirs", Vec::new());
    ok(store.insert_department(other.tenant.id, &theirs).await);

    let site = Site {
        id: SiteId::new(),
        key: unique_site_key(),
        default_department_id: Some(support.id),
        created_at: fixture.site.created_at + Duration::from_secs(1),
        ..fixture.site.clone()
    };
    ok(store.insert_site(tenant, &site).await);
    assert_eq!(ok(store.fetch_site_by_key(&site.key).await), site);
    let foreign_site = Site {
        id: SiteId::new(),
        key: unique_site_key(),
        default_department_id: Some(theirs.id),
        ..fixture.site.clone()
    };
    not_found(store.insert_site(tenant, &foreign_site).await);
    not_found(store.fetch_site_by_key(&foreign_site.key).await);

    let cleared = Site {
        default_department_id: None,
        ..site.clone()
    };
    ok(store.update_site(tenant, &cleared).await);
    assert_eq!(ok(store.fetch_site_by_key(&site.key).await), cleared);
    ok(store.update_site(tenant, &site).await);
    assert_eq!(ok(store.fetch_site_by_key(&site.key).await), site);
    not_found(
        store
            .update_site(
                tenant,
                &Site {
                    default_department_id: Some(theirs.id),
                    ..site.clone()
                },
            )
            .await,
    );
    not_found(
        store
            .update_site(
                tenant,
                &Site {
                    default_department_id: Some(DepartmentId::new()),
                    ..site.clone()
                },
            )
            .await,
    );
    assert_eq!(ok(store.fetch_site_by_key(&site.key).await), site);
    let listed = ok(store.list_sites(tenant).await);
    assert_eq!(listed, vec![fixture.site.clone(), site]);
}

/// An operator's own chat limit round-trips through insert and update, `None` included.
pub async fn operator_max_chats_round_trip(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let limited = add_operator(&*store, &fixture, Some(3), false).await;
    assert_eq!(ok(store.fetch_operator(tenant, limited.id).await), limited);
    assert_eq!(
        ok(store.fetch_operator(tenant, fixture.operator.id).await).max_chats,
        None
    );
    for max_chats in [Some(1), None, Some(250)] {
        let edited = Operator {
            max_chats,
            ..limited.clone()
        };
        ok(store.update_operator(tenant, &edited).await);
        assert_eq!(ok(store.fetch_operator(tenant, limited.id).await), edited);
        assert_eq!(
            ok(store.fetch_operator_by_email(&limited.email).await),
            edited
        );
    }
}

/// `Accept` and `Assign` respect the chat limit: the operator's own limit overrides the
/// tenant's, a full operator gets `Conflict { operator_chat_limit }` and the conversation
/// stays queued, ending a chat frees a slot, a disabled operator is refused like a full
/// one, no limit anywhere means no limit, and `operator_loads` shows it all.
pub async fn accept_and_assign_respect_the_limit(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let (olga, omar) = (fixture.operator.id, fixture.other_operator.id);

    // No limit anywhere: five chats for one operator.
    let start = now();
    let mut unlimited = Vec::new();
    for index in 0..5u64 {
        let conversation = queued(
            &*store,
            &fixture,
            None,
            start + Duration::from_micros(index),
        )
        .await;
        let appended = ok(store.append(tenant, accept(conversation.id, olga)).await);
        assert_eq!(appended.conversation.state, ConversationState::Active);
        unlimited.push(conversation.id);
    }
    for id in unlimited {
        ok(store
            .append(tenant, end(id, EndReason::OperatorEnded(olga), Some(olga)))
            .await);
    }

    // Tenant default 1; Olga's own limit 2 overrides it.
    set_tenant_limit(&*store, tenant, Some(1)).await;
    let olga_account = Operator {
        max_chats: Some(2),
        ..fixture.operator.clone()
    };
    ok(store.update_operator(tenant, &olga_account).await);
    let start = now();
    let mut chats = Vec::new();
    for index in 0..5u64 {
        chats.push(
            queued(
                &*store,
                &fixture,
                None,
                start + Duration::from_micros(index),
            )
            .await,
        );
    }
    ok(store.append(tenant, accept(chats[0].id, olga)).await);
    ok(store.append(tenant, assign(chats[1].id, olga)).await);
    conflict_on(store.append(tenant, accept(chats[2].id, olga)).await, LIMIT);
    conflict_on(store.append(tenant, assign(chats[2].id, olga)).await, LIMIT);
    let refused = current(&*store, tenant, chats[2].id).await;
    assert_eq!(refused.state, ConversationState::Queued);
    assert_eq!(refused.operator_id, None);
    assert_eq!(refused.last_seq, 1, "a refused accept writes no message");
    // Omar has the tenant's limit of 1.
    let omars = ok(store.append(tenant, assign(chats[2].id, omar)).await);
    assert_eq!(omars.conversation.operator_id, Some(omar));
    conflict_on(store.append(tenant, accept(chats[3].id, omar)).await, LIMIT);
    // An already active conversation is still WrongState, not a limit conflict.
    let taken = wrong_state(store.append(tenant, accept(chats[0].id, omar)).await);
    assert_eq!(taken.operator_id, Some(olga));
    // Ending one of Olga's chats frees a slot.
    ok(store
        .append(
            tenant,
            end(chats[0].id, EndReason::OperatorEnded(olga), Some(olga)),
        )
        .await);
    ok(store.append(tenant, accept(chats[3].id, olga)).await);
    conflict_on(store.append(tenant, accept(chats[4].id, olga)).await, LIMIT);

    // A disabled operator is refused like a full one.
    let disabled = add_operator(&*store, &fixture, Some(5), true).await;
    conflict_on(
        store.append(tenant, assign(chats[4].id, disabled.id)).await,
        LIMIT,
    );
    conflict_on(
        store.append(tenant, accept(chats[4].id, disabled.id)).await,
        LIMIT,
    );
    // An operator of no tenant (or another) is NotFound.
    not_found(
        store
            .append(tenant, assign(chats[4].id, OperatorId::new()))
            .await,
    );

    let loads = ok(store.operator_loads(tenant).await);
    let summary: Vec<(OperatorId, u32, Option<u32>)> = loads
        .iter()
        .map(|load| (load.operator_id, load.active, load.limit))
        .collect();
    assert_eq!(
        summary,
        vec![(olga, 2, Some(2)), (omar, 1, Some(1))],
        "enabled operators only, oldest account first"
    );
    assert!(loads.iter().all(|load| load.last_assigned_at.is_some()));
    // No limit at all again: the loads say so.
    set_tenant_limit(&*store, tenant, None).await;
    let loads = ok(store.operator_loads(tenant).await);
    assert_eq!(loads[1].limit, None);
    ok(store.append(tenant, accept(chats[4].id, omar)).await);
}

/// Case BR-04 at the store: an operator with a limit of 2 and ten queued conversations;
/// ten concurrent appends (assignments and accepts, mixed) give them to that operator.
/// Exactly two succeed, the others get `Conflict { operator_chat_limit }` and leave their
/// conversation queued, and the operator's load is 2.
pub async fn limit_holds_under_racing_assignments(store: Arc<dyn Store>) {
    const CHATS: usize = 10;
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let limited = add_operator(&*store, &fixture, Some(2), false).await;
    let mut chats = Vec::new();
    for _ in 0..CHATS {
        chats.push(queued(&*store, &fixture, None, now()).await.id);
    }
    for round in 0..3 {
        let mut tasks = JoinSet::new();
        for (index, &chat) in chats.iter().enumerate() {
            let store = store.clone();
            let operator = limited.id;
            tasks.spawn(async move {
                let request = if index % 2 == 0 {
                    assign(chat, operator)
                } else {
                    accept(chat, operator)
                };
                store.append(tenant, request).await
            });
        }
        let outcomes = join_all(tasks).await;
        let won = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
        assert_eq!(won, if round == 0 { 2 } else { 0 }, "round {round}");
        for outcome in outcomes {
            match outcome {
                Ok(appended) => assert_eq!(appended.conversation.operator_id, Some(limited.id)),
                Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, LIMIT),
                Err(StoreError::WrongState { current }) => {
                    // Later rounds: the two already owned are WrongState.
                    assert!(round > 0, "WrongState in the first round: {current:?}");
                    assert_eq!(current.operator_id, Some(limited.id));
                }
                Err(other) => panic!("unexpected outcome: {other:?}"),
            }
        }
        let load = ok(store.operator_loads(tenant).await)
            .into_iter()
            .find(|load| load.operator_id == limited.id)
            .expect("the limited operator's load");
        assert_eq!(load.active, 2);
        assert_eq!(load.limit, Some(2));
        let active = ok(store
            .list_active_conversations_for_operator(tenant, limited.id)
            .await);
        assert_eq!(active.len(), 2);
        assert_eq!(
            ok(store.list_queued_conversations(tenant).await).len(),
            CHATS - 2
        );
    }
}

/// `Transfer`: only from the owner the caller saw (`WrongState` otherwise, and for a
/// queued conversation), refused with `Conflict { operator_chat_limit }` when the target is
/// full or disabled, `NotFound` for an unknown target; it moves the chat and counts as
/// the target's assignment.
pub async fn transfer_rules(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let (olga, omar) = (fixture.operator.id, fixture.other_operator.id);
    let chat = queued(&*store, &fixture, None, now()).await;
    let other_chat = queued(&*store, &fixture, None, now()).await;

    wrong_state(
        store
            .append(tenant, transfer(chat.id, olga, omar, false, now()))
            .await,
    );
    ok(store.append(tenant, accept(chat.id, olga)).await);
    let stale = wrong_state(
        store
            .append(tenant, transfer(chat.id, omar, olga, false, now()))
            .await,
    );
    assert_eq!(stale.operator_id, Some(olga));

    // Omar at his limit (1, with one chat): refused, nothing changes.
    let omar_account = Operator {
        max_chats: Some(1),
        ..fixture.other_operator.clone()
    };
    ok(store.update_operator(tenant, &omar_account).await);
    ok(store.append(tenant, accept(other_chat.id, omar)).await);
    conflict_on(
        store
            .append(tenant, transfer(chat.id, olga, omar, false, now()))
            .await,
        LIMIT,
    );
    let unchanged = current(&*store, tenant, chat.id).await;
    assert_eq!(unchanged.operator_id, Some(olga));
    assert_eq!(unchanged.last_seq, 2);
    let disabled = add_operator(&*store, &fixture, None, true).await;
    conflict_on(
        store
            .append(tenant, transfer(chat.id, olga, disabled.id, false, now()))
            .await,
        LIMIT,
    );
    not_found(
        store
            .append(
                tenant,
                transfer(chat.id, olga, OperatorId::new(), false, now()),
            )
            .await,
    );

    // To a free operator: moved, the new owner may write, the old one may not.
    let free = add_operator(&*store, &fixture, None, false).await;
    let moved = ok(store
        .append(tenant, transfer(chat.id, olga, free.id, true, now()))
        .await);
    assert_eq!(moved.conversation.operator_id, Some(free.id));
    assert_eq!(moved.conversation.state, ConversationState::Active);
    assert_eq!(moved.message.seq, 3);
    ok(store
        .append(
            tenant,
            operator_message(chat.id, free.id, "Hello, I take over"),
        )
        .await);
    wrong_state(
        store
            .append(tenant, operator_message(chat.id, olga, "Still here?"))
            .await,
    );
    let free_load = ok(store.operator_loads(tenant).await)
        .into_iter()
        .find(|load| load.operator_id == free.id)
        .expect("the new owner's load");
    assert_eq!(free_load.active, 1);
    assert!(free_load.last_assigned_at.is_some());
    // An ended conversation cannot be transferred.
    ok(store
        .append(
            tenant,
            end(chat.id, EndReason::OperatorEnded(free.id), Some(free.id)),
        )
        .await);
    wrong_state(
        store
            .append(tenant, transfer(chat.id, free.id, olga, false, now()))
            .await,
    );
}

/// `Requeue`: only from the owner the caller saw (`WrongState` otherwise); the chat is
/// queued again without owner, in the given department's queue, ahead of every chat that
/// arrived after it; a department of another tenant is `NotFound`.
pub async fn requeue_rules(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let olga = fixture.operator.id;
    let support = department(&fixture, "Support", vec![olga]);
    ok(store.insert_department(tenant, &support).await);
    let theirs = department(&other, "Theirs", Vec::new());
    ok(store.insert_department(other.tenant.id, &theirs).await);

    let start = now();
    let first = queued(&*store, &fixture, None, start).await;
    let later = queued(
        &*store,
        &fixture,
        Some(support.id),
        start + Duration::from_secs(1),
    )
    .await;
    let latest = queued(
        &*store,
        &fixture,
        Some(support.id),
        start + Duration::from_secs(2),
    )
    .await;
    ok(store.append(tenant, accept(first.id, olga)).await);
    wrong_state(
        store
            .append(
                tenant,
                requeue(first.id, fixture.other_operator.id, Some(support.id)),
            )
            .await,
    );
    wrong_state(store.append(tenant, requeue(later.id, olga, None)).await);
    not_found(
        store
            .append(tenant, requeue(first.id, olga, Some(theirs.id)))
            .await,
    );
    let back = ok(store
        .append(tenant, requeue(first.id, olga, Some(support.id)))
        .await);
    assert_eq!(back.conversation.state, ConversationState::Queued);
    assert_eq!(back.conversation.operator_id, None);
    assert_eq!(back.conversation.department_id, Some(support.id));
    assert_eq!(back.conversation.last_seq, 3);
    assert_eq!(back.conversation.created_at, first.created_at);
    assert_eq!(current(&*store, tenant, first.id).await, back.conversation);
    // Back at the head of the department's queue.
    for (conversation, position) in [(first.id, 1), (later.id, 2), (latest.id, 3)] {
        assert_eq!(
            ok(store.queue_position(tenant, conversation).await),
            Some(position)
        );
    }
    let queue: Vec<ConversationId> = ok(store.list_queued_conversations(tenant).await)
        .into_iter()
        .map(|conversation| conversation.id)
        .collect();
    assert_eq!(queue, vec![first.id, later.id, latest.id]);
    assert_eq!(
        ok(store.operator_loads(tenant).await)[0].active,
        0,
        "the old owner's load drops"
    );
    // Accepted again by someone else, requeued to the general queue.
    ok(store
        .append(tenant, accept(first.id, fixture.other_operator.id))
        .await);
    let general = ok(store
        .append(tenant, requeue(first.id, fixture.other_operator.id, None))
        .await);
    assert_eq!(general.conversation.department_id, None);
    assert_eq!(ok(store.queue_position(tenant, first.id).await), Some(1));
    assert_eq!(ok(store.queue_position(tenant, later.id).await), Some(1));
}

/// `Join` then `ParticipantMessage`: a participant may write only after joining an active
/// conversation (`WrongState` before, and in a queued or ended one); joining twice is
/// allowed and listed once; the owner is not a participant.
pub async fn join_and_participant_messages(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let (olga, omar) = (fixture.operator.id, fixture.other_operator.id);
    let supervisor = add_operator(&*store, &fixture, None, false).await;
    let chat = queued(&*store, &fixture, None, now()).await;

    wrong_state(store.append(tenant, join(chat.id, supervisor.id)).await);
    ok(store.append(tenant, accept(chat.id, olga)).await);
    wrong_state(
        store
            .append(tenant, participant_message(chat.id, supervisor.id))
            .await,
    );
    assert_eq!(
        ok(store.list_participants(tenant, chat.id).await),
        Vec::new()
    );
    let joined = ok(store.append(tenant, join(chat.id, supervisor.id)).await);
    assert_eq!(
        joined.conversation.operator_id,
        Some(olga),
        "not a take-over"
    );
    assert_eq!(joined.conversation.last_seq, 3);
    let said = ok(store
        .append(tenant, participant_message(chat.id, supervisor.id))
        .await);
    assert_eq!(said.message.seq, 4);
    assert_eq!(said.message.author, MessageAuthor::Operator(supervisor.id));
    // Still not Omar's to write to, and the supervisor is no owner either.
    wrong_state(
        store
            .append(tenant, participant_message(chat.id, omar))
            .await,
    );
    wrong_state(
        store
            .append(
                tenant,
                operator_message(chat.id, supervisor.id, "As owner?"),
            )
            .await,
    );
    ok(store.append(tenant, join(chat.id, supervisor.id)).await);
    ok(store.append(tenant, join(chat.id, omar)).await);
    assert_eq!(
        ok(store.list_participants(tenant, chat.id).await),
        vec![supervisor.id, omar]
    );
    not_found(store.append(tenant, join(chat.id, OperatorId::new())).await);
    assert_eq!(
        ok(store.list_participants(tenant, ConversationId::new()).await),
        Vec::new()
    );
    ok(store
        .append(
            tenant,
            end(chat.id, EndReason::OperatorEnded(olga), Some(olga)),
        )
        .await);
    wrong_state(
        store
            .append(tenant, participant_message(chat.id, supervisor.id))
            .await,
    );
    wrong_state(store.append(tenant, join(chat.id, supervisor.id)).await);
}

/// Queue positions count per department (or the general queue): 1..n in arrival order,
/// moving up as earlier ones are accepted, `None` once a conversation is active or ended,
/// `NotFound` for an unknown one.
pub async fn queue_positions_per_department(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let olga = fixture.operator.id;
    let sales = department(&fixture, "Sales", Vec::new());
    ok(store.insert_department(tenant, &sales).await);
    let start = now();
    let mut in_sales = Vec::new();
    let mut in_general = Vec::new();
    for index in 0..5u64 {
        let at = start + Duration::from_millis(index);
        if index % 2 == 0 {
            in_sales.push(queued(&*store, &fixture, Some(sales.id), at).await.id);
        } else {
            in_general.push(queued(&*store, &fixture, None, at).await.id);
        }
    }
    // Two chats created in the same microsecond: ordered by id.
    let tie_at = start + Duration::from_millis(10);
    let mut tied = vec![
        queued(&*store, &fixture, Some(sales.id), tie_at).await.id,
        queued(&*store, &fixture, Some(sales.id), tie_at).await.id,
    ];
    tied.sort();
    in_sales.extend(tied);

    let positions = |ids: Vec<ConversationId>| {
        let store = store.clone();
        async move {
            let mut positions = Vec::new();
            for id in ids {
                positions.push(ok(store.queue_position(tenant, id).await));
            }
            positions
        }
    };
    assert_eq!(
        positions(in_sales.clone()).await,
        vec![Some(1), Some(2), Some(3), Some(4), Some(5)]
    );
    assert_eq!(positions(in_general.clone()).await, vec![Some(1), Some(2)]);

    ok(store.append(tenant, accept(in_sales[0], olga)).await);
    assert_eq!(
        positions(in_sales.clone()).await,
        vec![None, Some(1), Some(2), Some(3), Some(4)]
    );
    ok(store
        .append(tenant, end(in_sales[2], EndReason::VisitorEnded, None))
        .await);
    assert_eq!(
        positions(in_sales.clone()).await,
        vec![None, Some(1), None, Some(2), Some(3)]
    );
    assert_eq!(positions(in_general.clone()).await, vec![Some(1), Some(2)]);
    ok(store.append(tenant, assign(in_general[0], olga)).await);
    assert_eq!(positions(in_general).await, vec![None, Some(1)]);
    not_found(store.queue_position(tenant, ConversationId::new()).await);
}

/// `recent_assignments`: the assignment times of one queue (a department, or the general
/// queue) at or after `since`, newest first; accepts, assignments and transfers count.
pub async fn recent_assignments_by_department_and_time(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let (olga, omar) = (fixture.operator.id, fixture.other_operator.id);
    let sales = department(&fixture, "Sales", Vec::new());
    ok(store.insert_department(tenant, &sales).await);
    let base = now() - Duration::from_secs(3_600);
    let at = |minutes: u64| base + Duration::from_secs(minutes * 60);

    let old = queued(&*store, &fixture, Some(sales.id), at(0)).await;
    let recent = queued(&*store, &fixture, Some(sales.id), at(1)).await;
    let general = queued(&*store, &fixture, None, at(2)).await;
    let transferred = queued(&*store, &fixture, Some(sales.id), at(3)).await;
    let waiting = queued(&*store, &fixture, Some(sales.id), at(4)).await;
    ok(store.append(tenant, assign_at(old.id, olga, at(5))).await);
    let mut accepted = accept(recent.id, olga);
    accepted.message.created_at = at(20);
    ok(store.append(tenant, accepted).await);
    ok(store
        .append(tenant, assign_at(general.id, omar, at(25)))
        .await);
    ok(store
        .append(tenant, assign_at(transferred.id, omar, at(26)))
        .await);
    ok(store
        .append(tenant, transfer(transferred.id, omar, olga, false, at(30)))
        .await);

    assert_eq!(
        ok(store
            .recent_assignments(tenant, Some(sales.id), at(10))
            .await),
        vec![at(30), at(20)]
    );
    assert_eq!(
        ok(store
            .recent_assignments(tenant, Some(sales.id), at(0))
            .await),
        vec![at(30), at(20), at(5)]
    );
    assert_eq!(
        ok(store
            .recent_assignments(tenant, Some(sales.id), at(20))
            .await),
        vec![at(30), at(20)],
        "since is inclusive"
    );
    assert_eq!(
        ok(store.recent_assignments(tenant, None, at(0)).await),
        vec![at(25)]
    );
    assert_eq!(
        ok(store
            .recent_assignments(tenant, Some(DepartmentId::new()), at(0))
            .await),
        Vec::<Timestamp>::new()
    );
    assert_eq!(ok(store.queue_position(tenant, waiting.id).await), Some(1));
}

/// `list_open_conversations`: queued and active ones of the tenant, oldest first, at most
/// `limit`; ended ones are left out.
pub async fn list_open_conversations_oldest_first(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let start = now();
    let mut ids = Vec::new();
    for index in 0..5u64 {
        ids.push(
            queued(
                &*store,
                &fixture,
                None,
                start + Duration::from_millis(index),
            )
            .await
            .id,
        );
    }
    other.open(&*store, other.visitor.id).await;
    ok(store
        .append(tenant, accept(ids[1], fixture.operator.id))
        .await);
    ok(store
        .append(tenant, end(ids[2], EndReason::VisitorEnded, None))
        .await);
    let open: Vec<ConversationId> = ok(store.list_open_conversations(tenant, 100).await)
        .into_iter()
        .map(|conversation| conversation.id)
        .collect();
    assert_eq!(open, vec![ids[0], ids[1], ids[3], ids[4]]);
    let first_two = ok(store.list_open_conversations(tenant, 2).await);
    assert_eq!(
        first_two.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![ids[0], ids[1]]
    );
    assert_eq!(first_two[1].state, ConversationState::Active);
    assert_eq!(
        ok(store.list_open_conversations(TenantId::new(), 100).await),
        Vec::new()
    );
}

/// `list_unanswered_conversations`: active chats the server assigned (`Assign`, automatic
/// `Transfer`) inside the window (after exclusive, before inclusive) whose owner has not
/// written since; an operator's own accept or a manual transfer never counts; a visitor
/// message is no answer; the owner's message is.
pub async fn unanswered_conversations(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let (olga, omar) = (fixture.operator.id, fixture.other_operator.id);
    let base = now() - Duration::from_secs(600);
    let at = |seconds: u64| base + Duration::from_secs(seconds);

    let assigned = queued(&*store, &fixture, None, at(0)).await;
    let accepted = queued(&*store, &fixture, None, at(0)).await;
    let too_old = queued(&*store, &fixture, None, at(0)).await;
    let auto_moved = queued(&*store, &fixture, None, at(0)).await;
    let hand_moved = queued(&*store, &fixture, None, at(0)).await;
    ok(store
        .append(tenant, assign_at(too_old.id, olga, at(10)))
        .await);
    ok(store
        .append(tenant, assign_at(assigned.id, olga, at(100)))
        .await);
    let mut by_hand = accept(accepted.id, olga);
    by_hand.message.created_at = at(110);
    ok(store.append(tenant, by_hand).await);
    // Answered by Olga, then moved to Omar by the server: unanswered again.
    let mut picked = accept(auto_moved.id, olga);
    picked.message.created_at = at(100);
    ok(store.append(tenant, picked).await);
    ok(store
        .append(tenant, operator_message(auto_moved.id, olga, "Hello"))
        .await);
    ok(store
        .append(tenant, transfer(auto_moved.id, olga, omar, true, at(120)))
        .await);
    // Assigned by the server, then handed on by an operator: an operator's choice.
    ok(store
        .append(tenant, assign_at(hand_moved.id, omar, at(100)))
        .await);
    ok(store
        .append(tenant, transfer(hand_moved.id, omar, olga, false, at(130)))
        .await);

    let unanswered = |after: u64, before: u64| {
        let store = store.clone();
        async move {
            ok(store
                .list_unanswered_conversations(tenant, at(after), at(before))
                .await)
            .into_iter()
            .map(|conversation| conversation.id)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(unanswered(50, 200).await, vec![assigned.id, auto_moved.id]);
    assert_eq!(
        unanswered(0, 200).await,
        vec![too_old.id, assigned.id, auto_moved.id]
    );
    assert_eq!(
        unanswered(100, 200).await,
        vec![auto_moved.id],
        "after is exclusive"
    );
    assert_eq!(
        unanswered(50, 100).await,
        vec![assigned.id],
        "before is inclusive"
    );

    // A visitor message is no answer; a message of the previous owner neither.
    ok(store
        .append(
            tenant,
            visitor_message(assigned.id, assigned.visitor_id, "Anyone?", None),
        )
        .await);
    assert_eq!(unanswered(50, 200).await, vec![assigned.id, auto_moved.id]);
    // The owner answers: no longer listed.
    ok(store
        .append(tenant, operator_message(assigned.id, olga, "Hi, I'm here"))
        .await);
    ok(store
        .append(
            tenant,
            operator_message(auto_moved.id, omar, "Hi, Omar here"),
        )
        .await);
    assert_eq!(unanswered(0, 200).await, vec![too_old.id]);
    // Ended chats are not listed.
    ok(store
        .append(tenant, end(too_old.id, EndReason::VisitorEnded, None))
        .await);
    assert_eq!(unanswered(0, 200).await, Vec::<ConversationId>::new());
}

/// The routing effects are idempotent: the same `client_msg_id` twice (by the same author)
/// answers the stored message as a duplicate and changes nothing the second time.
pub async fn routing_effects_are_idempotent(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let (olga, omar) = (fixture.operator.id, fixture.other_operator.id);
    let supervisor = add_operator(&*store, &fixture, None, false).await;
    let sales = department(&fixture, "Sales", Vec::new());
    ok(store.insert_department(tenant, &sales).await);
    let chat = queued(&*store, &fixture, Some(sales.id), now()).await;

    let keyed = |mut request: AppendRequest| {
        request.message.client_msg_id = Some(Uuid::new_v4());
        request
    };
    let steps = [
        keyed(assign(chat.id, olga)),
        keyed(transfer(chat.id, olga, omar, true, now())),
        keyed(join(chat.id, supervisor.id)),
        keyed(participant_message(chat.id, supervisor.id)),
        keyed(requeue(chat.id, omar, None)),
        keyed(accept(chat.id, olga)),
    ];
    for step in steps {
        let first = ok(store.append(tenant, step.clone()).await);
        assert!(!first.duplicate, "{:?}", step.effect);
        let again = ok(store.append(tenant, step.clone()).await);
        assert!(again.duplicate, "{:?}", step.effect);
        assert_eq!(again.message, first.message);
        assert_eq!(again.conversation, first.conversation);
        assert_eq!(current(&*store, tenant, chat.id).await, first.conversation);
    }
    let conversation = current(&*store, tenant, chat.id).await;
    assert_eq!(conversation.last_seq, 7);
    assert_eq!(conversation.operator_id, Some(olga));
    assert_eq!(conversation.department_id, None);
    assert_eq!(
        ok(store.list_messages(tenant, chat.id, 0, 100).await).len(),
        7
    );
    assert_eq!(
        ok(store.list_participants(tenant, chat.id).await),
        vec![supervisor.id]
    );
    // An opened-into-a-department request repeated is the same conversation.
    let visitor = fixture.new_visitor(&*store).await;
    let open = keyed(open_at(&fixture, visitor.id, Some(sales.id), now()));
    let first = ok(store.append(tenant, open.clone()).await);
    let again = ok(store.append(tenant, open).await);
    assert!(again.duplicate);
    assert_eq!(again.conversation, first.conversation);
    assert_eq!(first.conversation.department_id, Some(sales.id));
}

/// Another tenant's departments, operators and conversations are `NotFound` (or nothing)
/// for every routing method and effect, and nothing of theirs changes.
pub async fn routing_is_tenant_isolated(store: Arc<dyn Store>) {
    let ours = Fixture::new(&*store).await;
    let theirs = Fixture::new(&*store).await;
    let (tenant, other) = (ours.tenant.id, theirs.tenant.id);
    let their_department = department(&theirs, "Theirs", vec![theirs.operator.id]);
    ok(store.insert_department(other, &their_department).await);
    let their_chat = queued(&*store, &theirs, Some(their_department.id), now()).await;
    let their_active = queued(&*store, &theirs, None, now()).await;
    ok(store
        .append(other, accept(their_active.id, theirs.operator.id))
        .await);
    ok(store
        .append(other, join(their_active.id, theirs.other_operator.id))
        .await);
    let their_before = (
        current(&*store, other, their_chat.id).await,
        current(&*store, other, their_active.id).await,
    );

    // Routing reads.
    assert_eq!(ok(store.list_departments(tenant).await), Vec::new());
    not_found(store.queue_position(tenant, their_chat.id).await);
    assert_eq!(
        ok(store
            .recent_assignments(tenant, None, now() - Duration::from_secs(3_600))
            .await),
        Vec::<Timestamp>::new()
    );
    assert_eq!(
        ok(store.list_open_conversations(tenant, 100).await),
        Vec::new()
    );
    assert_eq!(
        ok(store
            .list_unanswered_conversations(
                tenant,
                now() - Duration::from_secs(3_600),
                now() + Duration::from_secs(3_600)
            )
            .await),
        Vec::new()
    );
    assert_eq!(
        ok(store.list_participants(tenant, their_active.id).await),
        Vec::new()
    );
    let our_loads: Vec<OperatorId> = ok(store.operator_loads(tenant).await)
        .into_iter()
        .map(|load| load.operator_id)
        .collect();
    assert_eq!(our_loads, vec![ours.operator.id, ours.other_operator.id]);

    // Department writes with their ids.
    not_found(store.delete_department(tenant, their_department.id).await);
    not_found(
        store
            .update_department(
                tenant,
                &Department {
                    tenant_id: tenant,
                    operators: Vec::new(),
                    ..their_department.clone()
                },
            )
            .await,
    );
    // A department naming their tenant, written under ours.
    not_found(
        store
            .insert_department(tenant, &department(&theirs, "Mine?", Vec::new()))
            .await,
    );
    not_found(
        store
            .insert_department(
                tenant,
                &department(&ours, "Mixed", vec![theirs.operator.id]),
            )
            .await,
    );
    assert_eq!(
        ok(store.list_departments(other).await),
        vec![their_department.clone()]
    );
    assert_eq!(ok(store.list_departments(tenant).await), Vec::new());

    // Effects on their conversations, or with their operators or department.
    let our_chat = queued(&*store, &ours, None, now()).await;
    not_found(
        store
            .append(tenant, accept(their_chat.id, ours.operator.id))
            .await,
    );
    not_found(
        store
            .append(tenant, assign(their_chat.id, ours.operator.id))
            .await,
    );
    not_found(
        store
            .append(tenant, assign(our_chat.id, theirs.operator.id))
            .await,
    );
    not_found(
        store
            .append(tenant, accept(our_chat.id, theirs.operator.id))
            .await,
    );
    not_found(
        store
            .append(
                tenant,
                transfer(
                    their_active.id,
                    theirs.operator.id,
                    ours.operator.id,
                    false,
                    now(),
                ),
            )
            .await,
    );
    not_found(
        store
            .append(tenant, requeue(their_active.id, theirs.operator.id, None))
            .await,
    );
    not_found(
        store
            .append(tenant, join(their_active.id, ours.other_operator.id))
            .await,
    );
    not_found(
        store
            .append(
                tenant,
                participant_message(their_active.id, theirs.other_operator.id),
            )
            .await,
    );
    let visitor = ours.new_visitor(&*store).await;
    not_found(
        store
            .append(
                tenant,
                open_at(&ours, visitor.id, Some(their_department.id), now()),
            )
            .await,
    );
    ok(store
        .append(tenant, accept(our_chat.id, ours.operator.id))
        .await);
    not_found(
        store
            .append(
                tenant,
                transfer(
                    our_chat.id,
                    ours.operator.id,
                    theirs.operator.id,
                    false,
                    now(),
                ),
            )
            .await,
    );
    not_found(
        store
            .append(
                tenant,
                requeue(our_chat.id, ours.operator.id, Some(their_department.id)),
            )
            .await,
    );
    not_found(
        store
            .append(tenant, join(our_chat.id, theirs.operator.id))
            .await,
    );

    // Settings.
    ok(store
        .update_routing_settings(
            tenant,
            &RoutingSettings {
                routing: RoutingMode::LeastBusy,
                max_chats_per_operator: Some(1),
                show_monitoring: true,
            },
        )
        .await);
    assert_eq!(
        ok(store.fetch_routing_settings(other).await),
        RoutingSettings::default()
    );
    assert_eq!(
        (
            current(&*store, other, their_chat.id).await,
            current(&*store, other, their_active.id).await,
        ),
        their_before
    );
    assert_eq!(
        ok(store.list_participants(other, their_active.id).await),
        vec![theirs.other_operator.id]
    );
}
