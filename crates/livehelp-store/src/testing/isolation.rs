//! The conformance check that tenants are kept apart: every read, list, count, update and
//! append made under one tenant with another tenant's ids finds nothing and changes
//! nothing there.

use std::sync::Arc;

use livehelp_domain::{ConversationId, EndReason, OperatorStatus, PageRef, TenantId};

use super::expect::{not_found, ok};
use super::fixtures::{
    Fixture, accept, end, hours_from_now, now, open_request, operator_message, visitor_message,
};
use crate::{ConversationQuery, Store};

/// Every read, list, count, update and append made with another tenant's id gives
/// `NotFound`, nothing or zero, never the other tenant's data, and changes nothing there.
pub async fn tenants_are_isolated(store: Arc<dyn Store>) {
    let ours = Fixture::new(&*store).await;
    let theirs = Fixture::new(&*store).await;
    let (tenant, other) = (ours.tenant.id, theirs.tenant.id);
    let conversation = theirs.open(&*store, theirs.visitor.id).await;
    ok(store
        .append(other, accept(conversation.id, theirs.operator.id))
        .await);
    let before = ok(store.fetch_conversation(other, conversation.id).await);
    let session = theirs.operator_session(&*store, hours_from_now(1)).await;

    not_found(store.fetch_conversation(tenant, conversation.id).await);
    not_found(store.list_messages(tenant, conversation.id, 0, 100).await);
    not_found(store.fetch_visitor(tenant, theirs.visitor.id).await);
    not_found(store.fetch_operator(tenant, theirs.operator.id).await);
    not_found(store.fetch_tenant(TenantId::new()).await);
    assert_eq!(
        ok(store
            .fetch_open_conversation_for_visitor(tenant, theirs.visitor.id)
            .await),
        None
    );
    assert!(
        ok(store
            .list_active_conversations_for_operator(tenant, theirs.operator.id)
            .await)
        .is_empty()
    );
    assert!(ok(store.list_queued_conversations(tenant).await).is_empty());
    assert_eq!(ok(store.list_sites(tenant).await), vec![ours.site.clone()]);
    let operators = ok(store.list_operators(tenant).await);
    assert_eq!(
        operators,
        vec![ours.operator.clone(), ours.other_operator.clone()]
    );
    not_found(
        store
            .fetch_latest_visitor_session(tenant, theirs.visitor.id)
            .await,
    );
    let everything = ConversationQuery {
        tag: None,
        state: None,
        visitor: None,
        before: None,
        limit: 100,
    };
    assert!(ok(store.list_conversations(tenant, &everything).await).is_empty());
    let their_visitor = ConversationQuery {
        tag: None,
        visitor: Some(theirs.visitor.id),
        ..everything.clone()
    };
    assert!(ok(store.list_conversations(tenant, &their_visitor).await).is_empty());
    assert_eq!(
        ok(store
            .count_conversations_for_visitor(tenant, theirs.visitor.id)
            .await),
        0
    );

    // Updates of their operator and visitor session, under our tenant.
    not_found(
        store
            .update_operator_status(tenant, theirs.operator.id, OperatorStatus::Away)
            .await,
    );
    let page = PageRef {
        url: "https://fixture.example/stolen".to_owned(),
        title: Some("Stolen".to_owned()),
    };
    let later = now();
    not_found(
        store
            .update_visitor_session_page(tenant, theirs.visitor_session.id, &page, later)
            .await,
    );
    not_found(
        store
            .touch_visitor_session(tenant, theirs.visitor_session.id, later)
            .await,
    );

    let foreign_writes = [
        visitor_message(conversation.id, theirs.visitor.id, "hi", None),
        operator_message(conversation.id, theirs.operator.id, "hi"),
        accept(conversation.id, ours.operator.id),
        end(conversation.id, EndReason::VisitorEnded, None),
        // Their visitor and site, opened under our tenant.
        open_request(&theirs, theirs.visitor.id),
    ];
    for request in foreign_writes {
        not_found(store.append(tenant, request).await);
    }
    let ours_open = ours.open(&*store, ours.visitor.id).await;
    // Our own list shows our conversation only.
    assert_eq!(
        ok(store.list_conversations(tenant, &everything).await),
        vec![ours_open.clone()]
    );
    not_found(
        store
            .append(tenant, accept(ours_open.id, theirs.operator.id))
            .await,
    );
    not_found(
        store
            .append(
                tenant,
                visitor_message(ConversationId::new(), ours.visitor.id, "?", None),
            )
            .await,
    );

    ok(store.delete_operator_session(tenant, session.id).await);
    assert_eq!(
        ok(store
            .fetch_operator_session_by_token(&session.token_hash, now())
            .await),
        session
    );
    assert_eq!(
        ok(store.fetch_conversation(other, conversation.id).await),
        before
    );
    assert_eq!(
        ok(store.list_messages(other, conversation.id, 0, 100).await).len(),
        2
    );
    assert_eq!(
        ok(store.fetch_operator(other, theirs.operator.id).await),
        theirs.operator
    );
    assert_eq!(
        ok(store
            .fetch_visitor_session_by_token(&theirs.visitor_session.token_hash)
            .await),
        theirs.visitor_session
    );
    assert_eq!(
        ok(store.list_conversations(other, &everything).await),
        vec![before]
    );
    assert_eq!(
        ok(store
            .count_conversations_for_visitor(other, theirs.visitor.id)
            .await),
        1
    );
}
