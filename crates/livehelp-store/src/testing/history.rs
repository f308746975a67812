//! Conformance checks of the conversation history: `list_conversations` pages a tenant's
//! conversations newest first by the `(created_at, id)` keyset, ties broken by id, with
//! state and visitor filters, and `count_conversations_for_visitor` counts a visitor's
//! conversations in every state.

use std::cmp::Reverse;
use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{
    Conversation, ConversationId, ConversationState, EndReason, Timestamp, VisitorId,
};
use uuid::Uuid;

use super::expect::ok;
use super::fixtures::{Fixture, accept, end, now, open_request};
use crate::{ConversationQuery, Store};

/// `list_conversations` pages a tenant's conversations newest first: seven conversations
/// opened out of age order, read three at a time with the last one's `(created_at, id)` as
/// the cursor, come back as pages of 3, 3 and 1 with no overlap, then nothing. Another
/// tenant's conversations, opened in between, never show.
pub async fn list_conversations_pages_newest_first(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let base = now() - Duration::from_secs(3_600);
    let mut opened = Vec::new();
    // Opened in an order unrelated to their age, so the order must come from created_at.
    for age in [4u64, 1, 6, 3, 7, 2, 5] {
        let created_at = base - Duration::from_secs(age);
        opened.push(open_at(&*store, &fixture, created_at, None).await);
        // Theirs, at nearly the same instants.
        if age % 2 == 1 {
            open_at(
                &*store,
                &other,
                created_at + Duration::from_millis(500),
                None,
            )
            .await;
        }
    }
    let newest_first = sorted_newest_first(opened);
    let all = |before, limit| ConversationQuery {
        tag: None,
        state: None,
        visitor: None,
        before,
        limit,
    };

    let mut pages = Vec::new();
    let mut before = None;
    // Bounded, so a backend that ignores the cursor fails instead of looping forever.
    for _ in 0..10 {
        let page = ok(store.list_conversations(tenant, &all(before, 3)).await);
        if page.is_empty() {
            break;
        }
        before = page
            .last()
            .map(|conversation| (conversation.created_at, conversation.id));
        pages.push(page);
    }
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(pages.concat(), newest_first);

    assert_eq!(
        ok(store.list_conversations(tenant, &all(None, 100)).await),
        newest_first
    );
    assert!(
        ok(store.list_conversations(tenant, &all(None, 0)).await).is_empty(),
        "limit 0"
    );
    // A cursor is exclusive: the conversation it was taken from is not listed again.
    let newest = &newest_first[0];
    assert_eq!(
        ok(store
            .list_conversations(tenant, &all(Some((newest.created_at, newest.id)), 100))
            .await),
        newest_first[1..]
    );
    // A cursor need not be a stored conversation: strictly older than 3.5 s before `base`
    // are the ones of ages 4 to 7.
    let between = (base - Duration::from_millis(3_500), ConversationId::new());
    assert_eq!(
        ok(store
            .list_conversations(tenant, &all(Some(between), 100))
            .await),
        newest_first[3..]
    );
    let oldest = &newest_first[6];
    assert!(
        ok(store
            .list_conversations(tenant, &all(Some((oldest.created_at, oldest.id)), 100))
            .await)
        .is_empty()
    );
}

/// Conversations created at the same instant are listed by id, descending, and the
/// keyset cursor pages through them one at a time without skipping or repeating any.
pub async fn list_conversations_breaks_ties_by_id(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let instant = now() - Duration::from_secs(600);
    let mut opened = vec![
        open_at(&*store, &fixture, instant - Duration::from_micros(1), None).await,
        open_at(&*store, &fixture, instant + Duration::from_micros(1), None).await,
    ];
    for _ in 0..4 {
        // Random (v4) ids, so that id order is not creation order.
        let id = ConversationId::from_uuid(Uuid::new_v4());
        opened.push(open_at(&*store, &fixture, instant, Some(id)).await);
    }
    let newest_first = sorted_newest_first(opened);

    for limit in [1, 2, 4] {
        let mut listed = Vec::new();
        let mut before = None;
        for _ in 0..10 {
            let query = ConversationQuery {
                tag: None,
                state: None,
                visitor: None,
                before,
                limit,
            };
            let page = ok(store.list_conversations(tenant, &query).await);
            assert!(page.len() <= limit as usize);
            let Some(last) = page.last() else { break };
            before = Some((last.created_at, last.id));
            listed.extend(page);
        }
        assert_eq!(listed, newest_first, "pages of {limit}");
    }
}

/// `list_conversations` filters by state, by visitor, or both, still newest first and
/// still paged by the cursor; a visitor without conversations, or unknown, lists nothing.
pub async fn list_conversations_filters(store: Arc<dyn Store>) {
    use ConversationState::{Active, Ended, Queued};

    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let operator = fixture.operator.id;
    let (a, b, c) = (
        fixture.new_visitor(&*store).await.id,
        fixture.new_visitor(&*store).await.id,
        fixture.new_visitor(&*store).await.id,
    );
    let base = now() - Duration::from_secs(3_600);
    let at = |step: u64| base + Duration::from_secs(step);
    let ended = |conversation: Conversation| {
        let store = store.clone();
        async move {
            let request = end(conversation.id, EndReason::VisitorEnded, None);
            ok(store.append(tenant, request).await).conversation
        }
    };
    // Oldest first: a1 ended, b1 ended, a2 ended, c1 queued, a3 active, b2 queued.
    let a1 = ended(open_for(&*store, &fixture, a, at(0)).await).await;
    let b1 = ended(open_for(&*store, &fixture, b, at(1)).await).await;
    let a2 = ended(open_for(&*store, &fixture, a, at(2)).await).await;
    let c1 = open_for(&*store, &fixture, c, at(3)).await;
    let a3 = open_for(&*store, &fixture, a, at(4)).await;
    let a3 = ok(store.append(tenant, accept(a3.id, operator)).await).conversation;
    let b2 = open_for(&*store, &fixture, b, at(5)).await;

    let list = |state: Option<ConversationState>, visitor: Option<VisitorId>, limit: u32| {
        let store = store.clone();
        async move {
            let query = ConversationQuery {
                tag: None,
                state,
                visitor,
                before: None,
                limit,
            };
            ok(store.list_conversations(tenant, &query).await)
        }
    };
    assert_eq!(
        list(None, None, 100).await,
        vec![
            b2.clone(),
            a3.clone(),
            c1.clone(),
            a2.clone(),
            b1.clone(),
            a1.clone()
        ]
    );
    assert_eq!(
        list(Some(Queued), None, 100).await,
        vec![b2.clone(), c1.clone()]
    );
    assert_eq!(list(Some(Active), None, 100).await, vec![a3.clone()]);
    assert_eq!(
        list(Some(Ended), None, 100).await,
        vec![a2.clone(), b1.clone(), a1.clone()]
    );
    assert_eq!(
        list(None, Some(a), 100).await,
        vec![a3.clone(), a2.clone(), a1.clone()]
    );
    assert_eq!(
        list(Some(Ended), Some(a), 100).await,
        [a2.clone(), a1.clone()]
    );
    assert_eq!(list(Some(Queued), Some(b), 100).await, vec![b2.clone()]);
    assert!(list(Some(Ended), Some(c), 100).await.is_empty());
    assert!(list(None, Some(fixture.visitor.id), 100).await.is_empty());
    assert!(list(None, Some(VisitorId::new()), 100).await.is_empty());

    // Paging keeps the filters.
    let paged = |state: Option<ConversationState>, visitor: Option<VisitorId>| {
        let store = store.clone();
        async move {
            let mut pages = Vec::new();
            let mut before = None;
            for _ in 0..10 {
                let query = ConversationQuery {
                    tag: None,
                    state,
                    visitor,
                    before,
                    limit: 2,
                };
                let page = ok(store.list_conversations(tenant, &query).await);
                let Some(last) = page.last() else { break };
                before = Some((last.created_at, last.id));
                pages.push(page);
            }
            pages
        }
    };
    assert_eq!(
        paged(None, Some(a)).await,
        [vec![a3.clone(), a2.clone()], vec![a1.clone()]]
    );
    assert_eq!(
        paged(Some(Ended), None).await,
        [vec![a2.clone(), b1.clone()], vec![a1.clone()]]
    );
    assert_eq!(paged(Some(Queued), Some(b)).await, [vec![b2.clone()]]);
}

/// `count_conversations_for_visitor` counts a visitor's conversations in every state,
/// only theirs, and only within the tenant: unknown visitors and other tenants' count 0.
pub async fn conversations_are_counted_per_visitor(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let visitor = fixture.visitor.id;
    let count = |tenant, visitor| {
        let store = store.clone();
        async move { ok(store.count_conversations_for_visitor(tenant, visitor).await) }
    };
    assert_eq!(count(tenant, visitor).await, 0);

    let first = fixture.open(&*store, visitor).await;
    assert_eq!(count(tenant, visitor).await, 1);
    ok(store
        .append(tenant, end(first.id, EndReason::VisitorEnded, None))
        .await);
    assert_eq!(count(tenant, visitor).await, 1);
    let second = fixture.open(&*store, visitor).await;
    ok(store
        .append(tenant, accept(second.id, fixture.operator.id))
        .await);
    assert_eq!(count(tenant, visitor).await, 2);

    let bystander = fixture.new_visitor(&*store).await.id;
    assert_eq!(count(tenant, bystander).await, 0);
    fixture.open(&*store, bystander).await;
    assert_eq!(count(tenant, bystander).await, 1);
    assert_eq!(count(tenant, visitor).await, 2);

    other.open(&*store, other.visitor.id).await;
    assert_eq!(count(other.tenant.id, other.visitor.id).await, 1);
    assert_eq!(count(tenant, other.visitor.id).await, 0);
    assert_eq!(count(other.tenant.id, visitor).await, 0);
    assert_eq!(count(tenant, VisitorId::new()).await, 0);
}

/// Opens a conversation created at `created_at` for a new visitor of `fixture`, with the
/// given id or a new one.
async fn open_at(
    store: &dyn Store,
    fixture: &Fixture,
    created_at: Timestamp,
    id: Option<ConversationId>,
) -> Conversation {
    let visitor = fixture.new_visitor(store).await.id;
    let mut request = open_request(fixture, visitor);
    request.message.created_at = created_at;
    if let Some(id) = id {
        request.message.conversation_id = id;
    }
    let opened = ok(store.append(fixture.tenant.id, request).await);
    assert!(!opened.duplicate);
    opened.conversation
}

/// Opens a conversation created at `created_at` for `visitor`, who has no open one.
async fn open_for(
    store: &dyn Store,
    fixture: &Fixture,
    visitor: VisitorId,
    created_at: Timestamp,
) -> Conversation {
    let mut request = open_request(fixture, visitor);
    request.message.created_at = created_at;
    let opened = ok(store.append(fixture.tenant.id, request).await);
    assert!(!opened.duplicate);
    opened.conversation
}

/// The order `list_conversations` promises: `created_at`, then id, both descending.
fn sorted_newest_first(mut conversations: Vec<Conversation>) -> Vec<Conversation> {
    conversations.sort_by_key(|conversation| Reverse((conversation.created_at, conversation.id)));
    conversations
}
