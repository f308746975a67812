//! Conformance checks of `PageViewStore`: tallies add up per site, page and day and are
//! read by day range; a batch naming another tenant's site or visitor is refused whole
//! (nothing counted); trail events read back in order and are deleted by age, per tenant;
//! tracking settings and kept query parameters round-trip with their defaults.

use std::sync::Arc;

use time::{Date, Duration, Month};

use super::expect::{not_found, ok};
use super::fixtures::{Fixture, now};
use crate::{PageTrailEvent, PageViewCount, PageViewTally, Store, TrackingSettings};

/// Views of the same page and day add up, across batches; other pages, days and sites
/// get their own rows; the range is inclusive at both ends and ordered by day, site, url
/// (byte order);
/// another tenant sees none of them; a batch with another tenant's site counts nothing.
pub async fn page_view_tallies_add_up(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let site = fixture.site.id;
    let first = day(2026, 11, 30);
    let second = day(2026, 12, 1);
    let home = "https://fixture.example/";
    let cart = "https://fixture.example/cart";
    ok(store
        .insert_page_views(
            tenant,
            site,
            &[view(first, home), view(first, home), view(first, cart)],
            &[],
        )
        .await);
    ok(store
        .insert_page_views(tenant, site, &[view(first, home), view(second, cart)], &[])
        .await);
    let tallies = ok(store.page_view_tallies(tenant, first, second).await);
    assert_eq!(
        tallies,
        vec![
            tally(site, first, home, 3),
            tally(site, first, cart, 1),
            tally(site, second, cart, 1),
        ]
    );
    assert_eq!(
        ok(store.page_view_tallies(tenant, second, second).await),
        vec![tally(site, second, cart, 1)],
        "a single-day range"
    );
    assert!(
        ok(store
            .page_view_tallies(tenant, day(2026, 12, 2), day(2026, 12, 31))
            .await)
        .is_empty(),
        "an empty range"
    );
    assert!(
        ok(store
            .page_view_tallies(other.tenant.id, first, second)
            .await)
        .is_empty(),
        "another tenant sees none"
    );

    // Another tenant's site: refused, and nothing of the batch is counted anywhere.
    not_found(
        store
            .insert_page_views(other.tenant.id, site, &[view(first, home)], &[])
            .await,
    );
    not_found(
        store
            .insert_page_views(tenant, other.site.id, &[view(first, home)], &[])
            .await,
    );
    assert_eq!(
        ok(store.page_view_tallies(tenant, first, second).await).len(),
        3
    );
    assert!(
        ok(store
            .page_view_tallies(other.tenant.id, first, second)
            .await)
        .is_empty()
    );

    // A batch whose trail names another tenant's visitor is refused whole: its views
    // are not counted either.
    let stranger = trail_event(&other, "https://fixture.example/x", now());
    not_found(
        store
            .insert_page_views(tenant, site, &[view(second, cart)], &[stranger])
            .await,
    );
    assert_eq!(
        ok(store.page_view_tallies(tenant, second, second).await),
        vec![tally(site, second, cart, 1)],
        "the refused batch counted nothing"
    );
}

/// Trail events read back oldest first for their visitor only; deleting by age removes
/// only the tenant's older events and says how many.
pub async fn page_trail_round_trips_and_expires(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let start = now();
    let old = trail_event(
        &fixture,
        "https://fixture.example/old",
        start - Duration::days(40),
    );
    let mut recent = trail_event(&fixture, "https://fixture.example/new", start);
    recent.title = Some("New arrivals".to_owned());
    recent.referrer = Some("https://search.example/".to_owned());
    let theirs = trail_event(
        &other,
        "https://fixture.example/theirs",
        start - Duration::days(40),
    );
    ok(store
        .insert_page_views(
            tenant,
            fixture.site.id,
            &[view(day(2026, 12, 1), "https://fixture.example/new")],
            &[recent.clone(), old.clone()],
        )
        .await);
    ok(store
        .insert_page_views(
            other.tenant.id,
            other.site.id,
            &[],
            std::slice::from_ref(&theirs),
        )
        .await);
    assert_eq!(
        ok(store.list_page_trail(tenant, fixture.visitor.id).await),
        vec![old.clone(), recent.clone()]
    );
    assert!(
        ok(store.list_page_trail(tenant, other.visitor.id).await).is_empty(),
        "another tenant's visitor answers empty"
    );
    let deleted = ok(store
        .delete_page_trail_before(tenant, start - Duration::days(30))
        .await);
    assert_eq!(deleted, 1);
    assert_eq!(
        ok(store.list_page_trail(tenant, fixture.visitor.id).await),
        vec![recent]
    );
    assert_eq!(
        ok(store
            .list_page_trail(other.tenant.id, other.visitor.id)
            .await),
        vec![theirs],
        "another tenant's old events are theirs to expire"
    );
}

/// Settings start at the defaults, save and read back per tenant; kept query parameters
/// start empty, keep their order, and refuse another tenant's site.
pub async fn tracking_settings_round_trip(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    assert_eq!(
        ok(store.fetch_tracking_settings(tenant).await),
        TrackingSettings::default()
    );
    let saved = TrackingSettings {
        anonymize_ips: true,
        trail_retention_days: 7,
    };
    ok(store.update_tracking_settings(tenant, &saved).await);
    assert_eq!(ok(store.fetch_tracking_settings(tenant).await), saved);
    let again = TrackingSettings {
        anonymize_ips: false,
        trail_retention_days: 365,
    };
    ok(store.update_tracking_settings(tenant, &again).await);
    assert_eq!(ok(store.fetch_tracking_settings(tenant).await), again);
    assert_eq!(
        ok(store.fetch_tracking_settings(other.tenant.id).await),
        TrackingSettings::default()
    );

    let site = fixture.site.id;
    assert!(ok(store.fetch_site_query_params(tenant, site).await).is_empty());
    let params = vec!["q".to_owned(), "page".to_owned()];
    ok(store.update_site_query_params(tenant, site, &params).await);
    assert_eq!(
        ok(store.fetch_site_query_params(tenant, site).await),
        params
    );
    ok(store.update_site_query_params(tenant, site, &[]).await);
    assert!(ok(store.fetch_site_query_params(tenant, site).await).is_empty());
    not_found(
        store
            .update_site_query_params(other.tenant.id, site, &params)
            .await,
    );
    assert!(ok(store.fetch_site_query_params(other.tenant.id, site).await).is_empty());
}

fn day(year: i32, month: u8, day: u8) -> Date {
    Date::from_calendar_date(year, Month::try_from(month).expect("a month"), day).expect("a date")
}

fn view(day: Date, url: &str) -> PageViewCount {
    PageViewCount {
        day,
        url: url.to_owned(),
    }
}

fn tally(site: livehelp_domain::SiteId, day: Date, url: &str, views: u64) -> PageViewTally {
    PageViewTally {
        site_id: site,
        day,
        url: url.to_owned(),
        views,
    }
}

fn trail_event(fixture: &Fixture, url: &str, at: livehelp_domain::Timestamp) -> PageTrailEvent {
    PageTrailEvent {
        visitor_id: fixture.visitor.id,
        session_id: fixture.visitor_session.id,
        site_id: fixture.site.id,
        url: url.to_owned(),
        title: None,
        referrer: None,
        at,
    }
}
