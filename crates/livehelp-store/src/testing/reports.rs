//! Conformance checks of [`ReportStore`](crate::ReportStore) and
//! [`VisitorDetailStore`](crate::VisitorDetailStore): conversation facts of a range with
//! their first operator message, offline-message instants, a visitor's details read,
//! corrected and searched, and none of it reaching across tenants.

use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{
    Email, EndReason, Ticket, TicketId, TicketStatus, Timestamp, VisitorId, VisitorName,
};

use super::expect::{not_found, ok};
use super::fixtures::{Fixture, accept, end, open_request, operator_message, visitor_message};
use crate::{ConversationFacts, Store, VisitorDetails, VisitorSearch};

/// Facts of the conversations created in a range: oldest first, the first operator
/// message (not a system event or a visitor message), end and owner; `limit` holds;
/// conversations outside the range and another tenant's are not there; tickets likewise.
pub async fn conversation_facts_of_a_range(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let base = Timestamp::from_unix_timestamp(1_773_133_200).expect("2026-03-10T09:00:00Z");
    let at = |seconds: u64| base + Duration::from_secs(seconds);
    let operator = fixture.operator.id;
    // One answered and ended, one missed, one still queued, one before the range.
    let answered = write(&*store, &fixture, at(0), Some((10, 30, 300))).await;
    let missed = write(&*store, &fixture, at(3_600), None).await;
    ok(store
        .append(
            tenant,
            timed(end(missed, EndReason::VisitorAbandoned, None), at(3_660)),
        )
        .await);
    let queued = write(&*store, &fixture, at(86_400), None).await;
    write(&*store, &fixture, base - Duration::from_secs(60), None).await;
    write(&*store, &other, at(5), None).await;
    let facts = ok(store
        .list_conversation_facts(tenant, base, at(2 * 86_400), 10)
        .await);
    assert_eq!(
        facts,
        vec![
            ConversationFacts {
                id: answered,
                site_id: fixture.site.id,
                created_at: at(0),
                ended_at: Some(at(300)),
                operator_id: Some(operator),
                first_operator_message_at: Some(at(30)),
            },
            ConversationFacts {
                id: missed,
                site_id: fixture.site.id,
                created_at: at(3_600),
                ended_at: Some(at(3_660)),
                operator_id: None,
                first_operator_message_at: None,
            },
            ConversationFacts {
                id: queued,
                site_id: fixture.site.id,
                created_at: at(86_400),
                ended_at: None,
                operator_id: None,
                first_operator_message_at: None,
            },
        ]
    );
    let first_two = ok(store
        .list_conversation_facts(tenant, base, at(2 * 86_400), 2)
        .await);
    assert_eq!(first_two.len(), 2);
    // The end of the range is exclusive.
    let to_exclusive = ok(store
        .list_conversation_facts(tenant, base, at(3_600), 10)
        .await);
    assert_eq!(to_exclusive.len(), 1);

    for (index, seconds) in [(0_u64, 100_u64), (1, 200), (2, 2 * 86_400)] {
        let ticket = Ticket {
            id: TicketId::new(),
            tenant_id: tenant,
            site_id: fixture.site.id,
            name: None,
            email: format!("offline{index}@example.com"),
            message: "Call me".to_owned(),
            status: TicketStatus::Open,
            created_at: at(seconds),
            updated_at: at(seconds),
        };
        ok(store.insert_ticket(tenant, &ticket).await);
    }
    assert_eq!(
        ok(store
            .list_ticket_instants(tenant, base, at(2 * 86_400), 10)
            .await),
        vec![at(100), at(200)]
    );
    assert!(
        ok(store
            .list_ticket_instants(other.tenant.id, base, at(2 * 86_400), 10)
            .await)
        .is_empty()
    );
}

/// A visitor's details start empty, are replaced (and cleared) as a whole, are found by
/// email and by name in any ASCII case, and another tenant can neither read, change nor
/// find them.
pub async fn visitor_details_round_trip(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let visitor = fixture.visitor.id;
    assert_eq!(
        ok(store.fetch_visitor_details(tenant, visitor).await),
        VisitorDetails::default()
    );
    let details = VisitorDetails {
        name: VisitorName::parse_optional(Some("Zoë Ünal".to_owned())).expect("name"),
        email: Some(Email::parse("Zoe@Example.com").expect("email")),
    };
    ok(store
        .update_visitor_details(tenant, visitor, &details)
        .await);
    assert_eq!(
        ok(store.fetch_visitor_details(tenant, visitor).await),
        details
    );
    // The visitor record itself carries the corrected name.
    assert_eq!(
        ok(store.fetch_visitor(tenant, visitor).await).name,
        details.name
    );
    let by_email = ok(store
        .find_visitors(
            tenant,
            &VisitorSearch::Email(Email::parse("zoe@example.com").expect("email")),
            10,
        )
        .await);
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].id, visitor);
    assert_eq!(by_email[0].tenant_id, tenant);
    assert_eq!(by_email[0].details, details);
    let by_ascii_case = ok(store
        .find_visitors(
            tenant,
            &VisitorSearch::Name(
                VisitorName::parse_optional(Some("ZOë Ünal".to_owned()))
                    .expect("name")
                    .expect("some"),
            ),
            10,
        )
        .await);
    assert_eq!(
        by_ascii_case
            .iter()
            .map(|found| found.id)
            .collect::<Vec<_>>(),
        vec![visitor]
    );
    // Another tenant: not found, not changed, not listed.
    not_found(store.fetch_visitor_details(other.tenant.id, visitor).await);
    not_found(
        store
            .update_visitor_details(other.tenant.id, visitor, &VisitorDetails::default())
            .await,
    );
    not_found(
        store
            .update_visitor_details(tenant, VisitorId::new(), &VisitorDetails::default())
            .await,
    );
    assert!(
        ok(store
            .find_visitors(
                other.tenant.id,
                &VisitorSearch::Email(Email::parse("zoe@example.com").expect("email")),
                10,
            )
            .await)
        .is_empty()
    );
    assert_eq!(
        ok(store.fetch_visitor_details(tenant, visitor).await),
        details
    );
    // Clearing both.
    ok(store
        .update_visitor_details(tenant, visitor, &VisitorDetails::default())
        .await);
    assert_eq!(
        ok(store.fetch_visitor_details(tenant, visitor).await),
        VisitorDetails::default()
    );
}

/// Writes a conversation for a new visitor created at `created`; with `answer =
/// Some((accept, first_reply, end))` (seconds after `created`) the fixture's operator
/// accepts it, the visitor writes, the operator replies twice and ends it.
async fn write(
    store: &dyn Store,
    fixture: &Fixture,
    created: Timestamp,
    answer: Option<(u64, u64, u64)>,
) -> livehelp_domain::ConversationId {
    let tenant = fixture.tenant.id;
    let visitor = fixture.new_visitor(store).await;
    let opened = ok(store
        .append(tenant, timed(open_request(fixture, visitor.id), created))
        .await);
    let id = opened.conversation.id;
    if let Some((accepted, replied, ended)) = answer {
        let after = |seconds: u64| created + Duration::from_secs(seconds);
        let operator = fixture.operator.id;
        ok(store
            .append(tenant, timed(accept(id, operator), after(accepted)))
            .await);
        ok(store
            .append(
                tenant,
                timed(
                    visitor_message(id, visitor.id, "hello", None),
                    after(accepted + 1),
                ),
            )
            .await);
        ok(store
            .append(
                tenant,
                timed(operator_message(id, operator, "Hi!"), after(replied)),
            )
            .await);
        ok(store
            .append(
                tenant,
                timed(
                    operator_message(id, operator, "Anything else?"),
                    after(replied + 5),
                ),
            )
            .await);
        ok(store
            .append(
                tenant,
                timed(
                    end(id, EndReason::OperatorEnded(operator), Some(operator)),
                    after(ended),
                ),
            )
            .await);
    }
    id
}

fn timed(mut request: crate::AppendRequest, at: Timestamp) -> crate::AppendRequest {
    request.message.created_at = at;
    request
}
