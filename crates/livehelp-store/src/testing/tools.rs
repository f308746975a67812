//! Conformance checks of the operator tools (`ToolStore`): canned responses per scope with
//! their shortcut conflicts, notes in order, tags with their per-conversation limit (also
//! under concurrent inserts), and the tag filter of `list_conversations` with keyset
//! paging. Each also tries another tenant's ids.

use std::cmp::Reverse;
use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{
    CannedResponse, CannedResponseId, CannedText, Conversation, ConversationId, Note, NoteId,
    NoteText, OperatorId, Shortcut, Tag, Timestamp,
};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::expect::{conflict, join_all, not_found, ok};
use super::fixtures::{Fixture, now, open_request};
use crate::{ConversationQuery, Store, StoreError};

/// Canned responses: a tenant-wide and a personal response may share a shortcut, the same
/// scope may not (case-insensitively, as shortcuts are stored lower-case); an operator's
/// list holds the tenant's and their own, never a colleague's, personal first; updates
/// and deletes find only this tenant's responses.
pub async fn canned_responses_by_scope(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let olga = fixture.operator.id;
    let omar = fixture.other_operator.id;

    let shared = canned(
        &fixture,
        None,
        "refund",
        "Hello {visitor_name}, refunds take 5 days.",
    );
    ok(store.insert_canned_response(tenant, &shared).await);
    let olgas = canned(
        &fixture,
        Some(olga),
        "Refund",
        "Hi {visitor_name}! Olga here.",
    );
    ok(store.insert_canned_response(tenant, &olgas).await);
    let omars = canned(&fixture, Some(omar), "refund", "Omar's own");
    ok(store.insert_canned_response(tenant, &omars).await);
    let greeting = canned(&fixture, None, "a-hello", "Hello!");
    ok(store.insert_canned_response(tenant, &greeting).await);
    conflict(
        store
            .insert_canned_response(tenant, &canned(&fixture, None, "REFUND", "again"))
            .await,
        "canned_response_shortcut",
    );
    conflict(
        store
            .insert_canned_response(tenant, &canned(&fixture, Some(olga), "refund", "again"))
            .await,
        "canned_response_shortcut",
    );
    // Another tenant has its own namespace.
    let theirs = canned(&other, None, "refund", "theirs");
    ok(store.insert_canned_response(other.tenant.id, &theirs).await);

    assert_eq!(
        ok(store.list_canned_responses(tenant, olga).await),
        [greeting.clone(), olgas.clone(), shared.clone()]
    );
    assert_eq!(
        ok(store.list_canned_responses(tenant, omar).await),
        [greeting.clone(), omars.clone(), shared.clone()]
    );
    assert_eq!(
        ok(store.fetch_canned_response(tenant, olgas.id).await),
        olgas
    );

    let mut edited = shared.clone();
    edited.shortcut = ok_shortcut("refunds");
    edited.text = CannedText::parse("Refunds: 5 days.".into()).expect("text");
    edited.updated_at = shared.updated_at + Duration::from_secs(60);
    ok(store.update_canned_response(tenant, &edited).await);
    assert_eq!(
        ok(store.fetch_canned_response(tenant, shared.id).await),
        edited
    );
    let mut clash = edited.clone();
    clash.shortcut = ok_shortcut("a-hello");
    conflict(
        store.update_canned_response(tenant, &clash).await,
        "canned_response_shortcut",
    );
    // The freed shortcut is usable again in the tenant's scope.
    ok(store
        .insert_canned_response(tenant, &canned(&fixture, None, "refund", "new"))
        .await);

    // Another tenant's id is not found, for every method.
    not_found(
        store
            .fetch_canned_response(other.tenant.id, shared.id)
            .await,
    );
    let mut foreign = theirs.clone();
    foreign.tenant_id = tenant;
    not_found(store.update_canned_response(tenant, &foreign).await);
    not_found(store.delete_canned_response(tenant, theirs.id).await);
    assert_eq!(
        ok(store
            .fetch_canned_response(other.tenant.id, theirs.id)
            .await),
        theirs
    );
    // An owner who is not one of the tenant's.
    let stray = canned(&fixture, Some(other.operator.id), "stray", "x");
    assert!(
        store.insert_canned_response(tenant, &stray).await.is_err(),
        "a personal response of another tenant's operator"
    );

    ok(store.delete_canned_response(tenant, olgas.id).await);
    not_found(store.delete_canned_response(tenant, olgas.id).await);
    not_found(store.fetch_canned_response(tenant, olgas.id).await);
    assert!(
        !ok(store.list_canned_responses(tenant, olga).await)
            .iter()
            .any(|response| response.owner.is_some())
    );
    assert!(
        ok(store.list_canned_responses(tenant, OperatorId::new()).await)
            .iter()
            .all(|response| response.owner.is_none())
    );
}

/// Notes come back oldest first with every field as written; a note on another tenant's
/// conversation is `NotFound` and nothing of it is stored; another tenant reads none.
pub async fn notes_round_trip_in_order(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let conversation = fixture.open(&*store, fixture.visitor.id).await;
    let base = now();
    let second = note(
        &fixture,
        conversation.id,
        fixture.other_operator.id,
        "Omar",
        "later",
        base + Duration::from_secs(1),
    );
    let first = note(
        &fixture,
        conversation.id,
        fixture.operator.id,
        "Olga",
        "Wants a refund.\nVIP ✓",
        base,
    );
    ok(store.insert_note(tenant, &second).await);
    ok(store.insert_note(tenant, &first).await);
    assert_eq!(
        ok(store.list_notes(tenant, conversation.id).await),
        [first.clone(), second]
    );

    let theirs = other.open(&*store, other.visitor.id).await;
    let stray = note(
        &fixture,
        theirs.id,
        fixture.operator.id,
        "Olga",
        "intrusion",
        base,
    );
    not_found(store.insert_note(tenant, &stray).await);
    let missing = note(
        &fixture,
        ConversationId::new(),
        fixture.operator.id,
        "Olga",
        "x",
        base,
    );
    not_found(store.insert_note(tenant, &missing).await);
    assert!(ok(store.list_notes(other.tenant.id, theirs.id).await).is_empty());
    assert!(ok(store.list_notes(other.tenant.id, conversation.id).await).is_empty());
}

/// Tags: adding is idempotent, at most `max` per conversation (also when many inserts
/// race), removing says whether there was one, `list_tags` reads several conversations at
/// once; another tenant's conversation is `NotFound`.
pub async fn tags_have_a_limit(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let first = fixture.open(&*store, fixture.visitor.id).await;
    let second_visitor = fixture.new_visitor(&*store).await;
    let second = fixture.open(&*store, second_visitor.id).await;

    assert!(ok(store
        .insert_tag(tenant, first.id, &tag("vip"), 3, now())
        .await));
    assert!(!ok(store
        .insert_tag(tenant, first.id, &tag("vip"), 3, now())
        .await));
    assert!(ok(store
        .insert_tag(tenant, first.id, &tag("billing"), 3, now())
        .await));
    assert!(ok(store
        .insert_tag(tenant, first.id, &tag("ärger"), 3, now())
        .await));
    match store
        .insert_tag(tenant, first.id, &tag("four"), 3, now())
        .await
    {
        Err(StoreError::Conflict { constraint }) => {
            assert_eq!(constraint, "conversation_tag_limit")
        }
        other => panic!("expected the tag limit, got {other:?}"),
    }
    // At the limit, an existing tag is still "already there", not an error.
    assert!(!ok(store
        .insert_tag(tenant, first.id, &tag("vip"), 3, now())
        .await));
    assert!(ok(store
        .insert_tag(tenant, second.id, &tag("vip"), 3, now())
        .await));

    let mut expected = vec![
        (first.id, tag("billing")),
        (first.id, tag("vip")),
        (first.id, tag("ärger")),
        (second.id, tag("vip")),
    ];
    expected.sort();
    let mut listed = ok(store
        .list_tags(tenant, &[first.id, second.id, ConversationId::new()])
        .await);
    listed.sort();
    assert_eq!(listed, expected);
    assert!(ok(store.list_tags(tenant, &[]).await).is_empty());

    assert!(ok(store
        .delete_tag(tenant, first.id, &tag("billing"))
        .await));
    assert!(!ok(store
        .delete_tag(tenant, first.id, &tag("billing"))
        .await));
    assert!(ok(store
        .insert_tag(tenant, first.id, &tag("four"), 3, now())
        .await));

    // Another tenant's conversation.
    not_found(
        store
            .insert_tag(other.tenant.id, first.id, &tag("x"), 3, now())
            .await,
    );
    not_found(
        store
            .insert_tag(tenant, ConversationId::new(), &tag("x"), 3, now())
            .await,
    );
    assert!(!ok(store
        .delete_tag(other.tenant.id, first.id, &tag("vip"))
        .await));
    assert!(ok(store.list_tags(other.tenant.id, &[first.id]).await).is_empty());

    // Racing inserts of different tags: exactly `max` win.
    let raced = other.open(&*store, other.visitor.id).await;
    let mut tasks = JoinSet::new();
    for index in 0..12 {
        let store = store.clone();
        let tenant = other.tenant.id;
        tasks.spawn(async move {
            store
                .insert_tag(tenant, raced.id, &tag(&format!("t{index}")), 5, now())
                .await
        });
    }
    let outcomes = join_all(tasks).await;
    let added = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(true)))
        .count();
    assert_eq!(added, 5, "{outcomes:?}");
    assert!(outcomes.iter().all(|outcome| matches!(
        outcome,
        Ok(true)
            | Err(StoreError::Conflict {
                constraint: "conversation_tag_limit"
            })
    )));
    assert_eq!(
        ok(store.list_tags(other.tenant.id, &[raced.id]).await).len(),
        5
    );
}

/// `list_conversations` with a tag lists only the conversations carrying it, newest first,
/// and pages through them with the keyset cursor (ties at one instant included) without
/// skipping or repeating any; another tenant's tagged conversations never show.
pub async fn list_conversations_filters_by_tag(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let base = now() - Duration::from_secs(7_200);
    let mut tagged = Vec::new();
    for index in 0u64..9 {
        // Three share one instant, so paging must break ties by id.
        let created_at = if index < 3 {
            base
        } else {
            base - Duration::from_secs(index)
        };
        let id = ConversationId::from_uuid(Uuid::new_v4());
        let conversation = open_at(&*store, &fixture, created_at, id).await;
        ok(store
            .insert_tag(tenant, conversation.id, &tag("other"), 20, now())
            .await);
        if index % 3 != 1 {
            ok(store
                .insert_tag(tenant, conversation.id, &tag("vip"), 20, now())
                .await);
            tagged.push(conversation);
        }
        let theirs = open_at(&*store, &other, created_at, ConversationId::new()).await;
        ok(store
            .insert_tag(other.tenant.id, theirs.id, &tag("vip"), 20, now())
            .await);
    }
    tagged.sort_by_key(|conversation| Reverse((conversation.created_at, conversation.id)));
    let query = |before, limit| ConversationQuery {
        tag: Some(tag("vip")),
        state: None,
        visitor: None,
        before,
        limit,
    };
    let mut pages = Vec::new();
    let mut before = None;
    for _ in 0..10 {
        let page = ok(store.list_conversations(tenant, &query(before, 2)).await);
        if page.is_empty() {
            break;
        }
        before = page
            .last()
            .map(|conversation| (conversation.created_at, conversation.id));
        pages.push(page);
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2]);
    assert_eq!(pages.concat(), tagged);
    let mut with_state = query(None, 100);
    with_state.state = Some(livehelp_domain::ConversationState::Queued);
    assert_eq!(
        ok(store.list_conversations(tenant, &with_state).await),
        tagged
    );
    let mut none = query(None, 100);
    none.tag = Some(tag("nobody-has-this"));
    assert!(ok(store.list_conversations(tenant, &none).await).is_empty());
}

fn tag(name: &str) -> Tag {
    Tag::parse(name).expect("valid tag")
}

fn ok_shortcut(shortcut: &str) -> Shortcut {
    Shortcut::parse(shortcut).expect("valid shortcut")
}

fn canned(
    fixture: &Fixture,
    owner: Option<OperatorId>,
    shortcut: &str,
    text: &str,
) -> CannedResponse {
    let created_at = now();
    CannedResponse {
        id: CannedResponseId::new(),
        tenant_id: fixture.tenant.id,
        owner,
        shortcut: ok_shortcut(shortcut),
        text: CannedText::parse(text.to_owned()).expect("valid text"),
        created_at,
        updated_at: created_at,
    }
}

fn note(
    fixture: &Fixture,
    conversation: ConversationId,
    author: OperatorId,
    author_name: &str,
    text: &str,
    created_at: Timestamp,
) -> Note {
    Note {
        id: NoteId::new(),
        tenant_id: fixture.tenant.id,
        conversation_id: conversation,
        author_id: author,
        author_name: author_name.to_owned(),
        text: NoteText::parse(text.to_owned()).expect("valid note"),
        created_at,
    }
}

async fn open_at(
    store: &dyn Store,
    fixture: &Fixture,
    created_at: Timestamp,
    id: ConversationId,
) -> Conversation {
    let visitor = fixture.new_visitor(store).await.id;
    let mut request = open_request(fixture, visitor);
    request.message.created_at = created_at;
    request.message.conversation_id = id;
    let opened = ok(store.append(fixture.tenant.id, request).await);
    assert!(!opened.duplicate);
    opened.conversation
}
