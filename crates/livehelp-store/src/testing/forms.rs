//! Checks of the per-site forms and tickets: form settings round-trip per site, pre-chat
//! answers are stored exactly once with the conversation that opened (also under racing
//! opens, BR-05), tickets and their notes page newest first and filter by status, support
//! requests round-trip, and another tenant reaches none of it.

use std::sync::Arc;

use livehelp_domain::{
    ConversationId, SiteId, SupportRequest, SupportRequestId, Ticket, TicketId, TicketNote,
    TicketNoteId, TicketStatus,
};
use tokio::task::JoinSet;

use super::expect::{join_all, ok};
use super::fixtures::{Fixture, now, open_request};
use crate::{AppendEffect, SiteForms, Store, StoreError, TicketQuery};

/// Form settings: unset reads as empty, a write reads back, an unknown site or another
/// tenant's site is `NotFound` both ways.
pub async fn site_forms_round_trip(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let site = fixture.site.id;
    assert_eq!(
        ok(store.fetch_site_forms(tenant, site).await),
        SiteForms::default()
    );
    let forms = SiteForms {
        prechat: Some(r#"{"name":"required","fields":[]}"#.to_owned()),
        business_hours: Some(r#"{"days":[],"time_zone":"Europe/Paris"}"#.to_owned()),
    };
    ok(store.update_site_forms(tenant, site, &forms).await);
    let read = ok(store.fetch_site_forms(tenant, site).await);
    assert_json_eq(read.prechat.as_deref(), forms.prechat.as_deref());
    assert_json_eq(
        read.business_hours.as_deref(),
        forms.business_hours.as_deref(),
    );
    let cleared = SiteForms {
        prechat: None,
        ..forms.clone()
    };
    ok(store.update_site_forms(tenant, site, &cleared).await);
    assert_eq!(ok(store.fetch_site_forms(tenant, site).await).prechat, None);
    for (tenant, site) in [(other.tenant.id, site), (tenant, SiteId::new())] {
        assert!(matches!(
            store.fetch_site_forms(tenant, site).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.update_site_forms(tenant, site, &forms).await,
            Err(StoreError::NotFound)
        ));
    }
    assert_eq!(
        ok(store.fetch_site_forms(other.tenant.id, other.site.id).await),
        SiteForms::default(),
        "another tenant's site is untouched"
    );
}

/// Pre-chat answers go in with the opening append, once: five racing opens with answers
/// give one conversation whose answers are the winner's; a later open of the same
/// visitor (a duplicate) changes nothing; another tenant reads `NotFound`.
pub async fn prechat_is_stored_once_with_the_conversation(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let plain = ok(store
        .append(tenant, open_request(&fixture, fixture.visitor.id))
        .await);
    assert_eq!(
        ok(store
            .fetch_conversation_prechat(tenant, plain.conversation.id)
            .await),
        None
    );
    let visitor = fixture.new_visitor(&*store).await;
    let mut tasks = JoinSet::new();
    for index in 0..5 {
        let store = store.clone();
        let mut request = open_request(&fixture, visitor.id);
        if let AppendEffect::Open { prechat, .. } = &mut request.effect {
            *prechat = Some(format!(r#"{{"values":{{"age":{}}}}}"#, 18 + index));
        }
        tasks.spawn(async move { store.append(tenant, request).await });
    }
    let outcomes: Vec<_> = join_all(tasks).await.into_iter().map(ok).collect();
    let winners: Vec<_> = outcomes
        .iter()
        .filter(|outcome| !outcome.duplicate)
        .collect();
    assert_eq!(winners.len(), 1);
    let conversation = winners[0].conversation.id;
    assert!(outcomes.iter().all(|o| o.conversation.id == conversation));
    let stored =
        ok(store.fetch_conversation_prechat(tenant, conversation).await).expect("answers stored");
    assert!(
        (18..23).any(|age| same_json(&stored, &format!(r#"{{"values":{{"age":{age}}}}}"#))),
        "one of the racers' answers: {stored}"
    );
    let mut again = open_request(&fixture, visitor.id);
    if let AppendEffect::Open { prechat, .. } = &mut again.effect {
        *prechat = Some(r#"{"values":{"age":99}}"#.to_owned());
    }
    assert!(ok(store.append(tenant, again).await).duplicate);
    let after = ok(store.fetch_conversation_prechat(tenant, conversation).await);
    assert_eq!(after.as_deref(), Some(stored.as_str()), "not overwritten");
    let other = Fixture::new(&*store).await;
    for (tenant, conversation) in [
        (other.tenant.id, conversation),
        (tenant, ConversationId::new()),
    ] {
        assert!(matches!(
            store.fetch_conversation_prechat(tenant, conversation).await,
            Err(StoreError::NotFound)
        ));
    }
}

/// Tickets: insert, fetch, list newest first with a status filter, solve, notes in
/// order; another tenant's ids are `NotFound` and its lists are empty.
pub async fn tickets_and_notes(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let start = now();
    let mut tickets = Vec::new();
    for index in 0..3_i64 {
        let at = start + time::Duration::microseconds(index);
        let ticket = Ticket {
            id: TicketId::new(),
            tenant_id: tenant,
            site_id: fixture.site.id,
            name: (index == 0).then(|| "Zoë ✓".to_owned()),
            email: format!("visitor{index}@example.com"),
            message: format!("Message {index}\nwith two lines"),
            status: TicketStatus::Open,
            created_at: at,
            updated_at: at,
        };
        ok(store.insert_ticket(tenant, &ticket).await);
        tickets.push(ticket);
    }
    assert_eq!(
        ok(store.fetch_ticket(tenant, tickets[0].id).await),
        tickets[0]
    );
    let all = TicketQuery {
        status: None,
        limit: 10,
    };
    let listed = ok(store.list_tickets(tenant, &all).await);
    let ids: Vec<_> = listed.iter().map(|ticket| ticket.id).collect();
    assert_eq!(ids, vec![tickets[2].id, tickets[1].id, tickets[0].id]);
    let solved_at = start + time::Duration::seconds(5);
    ok(store
        .update_ticket_status(tenant, tickets[1].id, TicketStatus::Solved, solved_at)
        .await);
    let solved = ok(store
        .list_tickets(
            tenant,
            &TicketQuery {
                status: Some(TicketStatus::Solved),
                limit: 10,
            },
        )
        .await);
    assert_eq!(solved.len(), 1);
    assert_eq!(solved[0].id, tickets[1].id);
    assert_eq!(solved[0].updated_at, solved_at);
    let open = ok(store
        .list_tickets(
            tenant,
            &TicketQuery {
                status: Some(TicketStatus::Open),
                limit: 1,
            },
        )
        .await);
    assert_eq!(
        open.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![tickets[2].id]
    );
    let mut notes = Vec::new();
    for index in 0..2_i64 {
        let note = TicketNote {
            id: TicketNoteId::new(),
            ticket_id: tickets[0].id,
            operator_id: fixture.operator.id,
            author_name: fixture.operator.display_name.clone(),
            text: format!("note {index}"),
            created_at: start + time::Duration::microseconds(index),
        };
        ok(store.insert_ticket_note(tenant, &note).await);
        notes.push(note);
    }
    assert_eq!(
        ok(store.list_ticket_notes(tenant, tickets[0].id).await),
        notes
    );
    // Another tenant reaches nothing, and cannot write into these tickets.
    let foreign = other.tenant.id;
    assert!(matches!(
        store.fetch_ticket(foreign, tickets[0].id).await,
        Err(StoreError::NotFound)
    ));
    assert!(ok(store.list_tickets(foreign, &all).await).is_empty());
    assert!(ok(store.list_ticket_notes(foreign, tickets[0].id).await).is_empty());
    assert!(matches!(
        store
            .update_ticket_status(foreign, tickets[0].id, TicketStatus::Solved, start)
            .await,
        Err(StoreError::NotFound)
    ));
    let foreign_note = TicketNote {
        id: TicketNoteId::new(),
        operator_id: other.operator.id,
        ..notes[0].clone()
    };
    assert!(matches!(
        store.insert_ticket_note(foreign, &foreign_note).await,
        Err(StoreError::NotFound)
    ));
    let wrong_operator = TicketNote {
        id: TicketNoteId::new(),
        operator_id: other.operator.id,
        ..notes[0].clone()
    };
    assert!(matches!(
        store.insert_ticket_note(tenant, &wrong_operator).await,
        Err(StoreError::NotFound)
    ));
    let foreign_site = Ticket {
        id: TicketId::new(),
        site_id: other.site.id,
        ..tickets[0].clone()
    };
    assert!(matches!(
        store.insert_ticket(tenant, &foreign_site).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        ok(store.fetch_ticket(tenant, tickets[0].id).await).status,
        TicketStatus::Open
    );
}

/// Support requests round-trip, list newest first with a filter, and solve.
pub async fn support_requests_round_trip(store: Arc<dyn Store>) {
    let at = now();
    let request = SupportRequest {
        id: SupportRequestId::new(),
        email: "owner@shop.example".to_owned(),
        site_url: "https://shop.example/contact".to_owned(),
        description: "The widget does not load on Safari ✓".to_owned(),
        status: TicketStatus::Open,
        created_at: at,
        updated_at: at,
    };
    ok(store.insert_support_request(&request).await);
    assert_eq!(ok(store.fetch_support_request(request.id).await), request);
    let listed = ok(store
        .list_support_requests(Some(TicketStatus::Open), 1000)
        .await);
    assert!(listed.iter().any(|listed| listed.id == request.id));
    let solved_at = at + time::Duration::seconds(1);
    ok(store
        .update_support_request_status(request.id, TicketStatus::Solved, solved_at)
        .await);
    let read = ok(store.fetch_support_request(request.id).await);
    assert_eq!(
        (read.status, read.updated_at),
        (TicketStatus::Solved, solved_at)
    );
    let open = ok(store
        .list_support_requests(Some(TicketStatus::Open), 1000)
        .await);
    assert!(open.iter().all(|listed| listed.id != request.id));
    assert!(matches!(
        store.fetch_support_request(SupportRequestId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .update_support_request_status(SupportRequestId::new(), TicketStatus::Solved, at)
            .await,
        Err(StoreError::NotFound)
    ));
}

/// Two JSON texts mean the same (PostgreSQL's jsonb re-spaces and reorders keys).
fn same_json(a: &str, b: &str) -> bool {
    let strip = |text: &str| {
        text.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
    };
    strip(a) == strip(b)
}

fn assert_json_eq(read: Option<&str>, written: Option<&str>) {
    match (read, written) {
        (Some(read), Some(written)) => {
            assert!(same_json(read, written), "read {read}, wrote {written}")
        }
        (read, written) => assert_eq!(read, written),
    }
}
