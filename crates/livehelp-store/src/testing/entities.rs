//! Conformance checks of the account-like aggregates: tenants, sites, operators (with
//! their availability, lock-out fields and login sessions) and visitors (with their
//! sessions, the page they are on and when they were last seen) read back exactly as
//! written, the entry lookups find them, and the updates change exactly what they say.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{
    BrowserInfo, Operator, OperatorId, OperatorSession, OperatorStatus, PageRef, Role, SessionId,
    Site, SiteId, Tenant, TenantId, TenantStatus, Visitor, VisitorId, VisitorName, VisitorSession,
    VisitorSessionId,
};
use time::macros::datetime;

use super::expect::{conflict, not_found, ok};
use super::fixtures::{
    Fixture, now, random_csrf_token, random_token, unique_email, unique_site_key,
};
use crate::Store;

/// Tenants, sites, operators, operator sessions, visitors and visitor sessions read back
/// exactly as written, every field (an operator's status, a session's page and
/// `last_seen_at` included).
pub async fn entities_round_trip(store: Arc<dyn Store>) {
    let created_at = datetime!(2026-03-01 12:00:00.123456 UTC);
    let tenant = Tenant {
        id: TenantId::new(),
        name: "Café Ünïcødé בע\"מ 株式会社".to_owned(),
        status: TenantStatus::Suspended,
        created_at,
    };
    ok(store.insert_tenant(&tenant).await);
    assert_eq!(ok(store.fetch_tenant(tenant.id).await), tenant);

    let site = Site {
        id: SiteId::new(),
        tenant_id: tenant.id,
        key: unique_site_key(),
        name: "shop.example".to_owned(),
        allowed_origins: vec![
            "https://shop.example".to_owned(),
            "http://localhost:8080".to_owned(),
        ],
        privacy_policy_url: Some("https://shop.example/privacy?lang=he#מדיניות".to_owned()),
        require_tls: true,
        default_department_id: None,
        created_at,
    };
    let bare_site = Site {
        id: SiteId::new(),
        key: unique_site_key(),
        name: String::new(),
        allowed_origins: Vec::new(),
        privacy_policy_url: None,
        require_tls: false,
        created_at: created_at + Duration::from_micros(1),
        ..site.clone()
    };
    ok(store.insert_site(tenant.id, &site).await);
    ok(store.insert_site(tenant.id, &bare_site).await);
    assert_eq!(
        ok(store.list_sites(tenant.id).await),
        vec![site.clone(), bare_site.clone()]
    );
    assert_eq!(ok(store.fetch_site_by_key(&site.key).await), site);
    assert_eq!(ok(store.fetch_site_by_key(&bare_site.key).await), bare_site);

    let mut operators = Vec::new();
    let locked_until = Some(datetime!(2026-03-01 12:15:00.000001 UTC));
    for (index, (role, name, disabled, status, failed_logins, locked_until)) in [
        (
            Role::Admin,
            "Dana דנה",
            false,
            OperatorStatus::Online,
            0,
            None,
        ),
        (
            Role::Supervisor,
            "王小明",
            false,
            OperatorStatus::Away,
            4,
            None,
        ),
        (
            Role::Operator,
            "अनीता 🦀",
            true,
            OperatorStatus::Online,
            2,
            locked_until,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let operator = Operator {
            id: OperatorId::new(),
            tenant_id: tenant.id,
            email: unique_email(),
            display_name: name.to_owned(),
            role,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
            disabled,
            status,
            failed_logins,
            locked_until,
            max_chats: None,
            created_at: created_at + Duration::from_millis(index as u64),
        };
        ok(store.insert_operator(tenant.id, &operator).await);
        assert_eq!(
            ok(store.fetch_operator(tenant.id, operator.id).await),
            operator
        );
        assert_eq!(
            ok(store.fetch_operator_by_email(&operator.email).await),
            operator
        );
        operators.push(operator);
    }
    assert_eq!(ok(store.list_operators(tenant.id).await), operators);

    let operator_session = OperatorSession {
        id: SessionId::new(),
        tenant_id: tenant.id,
        operator_id: operators[0].id,
        token_hash: random_token(),
        csrf_token: random_csrf_token(),
        ip: Some("2001:db8::2".parse::<IpAddr>().expect("an address")),
        user_agent: Some("Mozilla/5.0 (Macintosh) Safari/605.1.15 «тест»".to_owned()),
        created_at,
        expires_at: datetime!(2999-01-01 00:00:00.000001 UTC),
    };
    ok(store
        .insert_operator_session(tenant.id, &operator_session)
        .await);
    let found = store
        .fetch_operator_session_by_token(&operator_session.token_hash, now())
        .await;
    assert_eq!(ok(found), operator_session);

    let named = Visitor {
        id: VisitorId::new(),
        tenant_id: tenant.id,
        site_id: site.id,
        name: VisitorName::parse_optional(Some("X Æ A-12 «אנה» 王".to_owned()))
            .expect("a valid name"),
        created_at,
    };
    let named_session = VisitorSession {
        id: VisitorSessionId::new(),
        tenant_id: tenant.id,
        visitor_id: named.id,
        site_id: site.id,
        token_hash: random_token(),
        browser: BrowserInfo {
            ip: Some("2001:db8::1".parse::<IpAddr>().expect("an address")),
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0".to_owned(),
            ),
        },
        current_page: Some(PageRef {
            url: "https://shop.example/עגלה?item=7&lang=he#סיכום".to_owned(),
            title: Some("Корзина — 購物車 🛒 \"quoted\"".to_owned()),
        }),
        created_at: created_at + Duration::from_micros(7),
        last_seen_at: created_at + Duration::from_micros(3_600_000_009),
    };
    let anonymous = Visitor {
        id: VisitorId::new(),
        site_id: bare_site.id,
        name: None,
        ..named.clone()
    };
    let anonymous_session = VisitorSession {
        id: VisitorSessionId::new(),
        visitor_id: anonymous.id,
        site_id: bare_site.id,
        token_hash: random_token(),
        browser: BrowserInfo::default(),
        current_page: None,
        last_seen_at: named_session.created_at,
        ..named_session.clone()
    };
    let ipv4_session = VisitorSession {
        id: VisitorSessionId::new(),
        visitor_id: VisitorId::new(),
        token_hash: random_token(),
        browser: BrowserInfo {
            ip: Some("203.0.113.9".parse::<IpAddr>().expect("an address")),
            user_agent: None,
        },
        current_page: Some(PageRef {
            url: "https://shop.example/".to_owned(),
            title: None,
        }),
        ..named_session.clone()
    };
    let ipv4_visitor = Visitor {
        id: ipv4_session.visitor_id,
        ..named.clone()
    };
    for (visitor, session) in [
        (&named, &named_session),
        (&anonymous, &anonymous_session),
        (&ipv4_visitor, &ipv4_session),
    ] {
        ok(store.insert_visitor(tenant.id, visitor, session).await);
        assert_eq!(
            &ok(store.fetch_visitor(tenant.id, visitor.id).await),
            visitor
        );
        let found = ok(store
            .fetch_visitor_session_by_token(&session.token_hash)
            .await);
        assert_eq!(&found, session);
        let latest = ok(store
            .fetch_latest_visitor_session(tenant.id, visitor.id)
            .await);
        assert_eq!(&latest, session);
    }
}

/// The entry lookups find records by site key, token hash and email across tenants;
/// unknown keys are `NotFound`; taken keys and emails are `Conflict`s.
pub async fn entry_lookups_and_conflicts(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    assert_eq!(
        ok(store.fetch_site_by_key(&fixture.site.key).await),
        fixture.site
    );
    assert_eq!(
        ok(store.fetch_site_by_key(&other.site.key).await),
        other.site
    );
    let session = ok(store
        .fetch_visitor_session_by_token(&fixture.visitor_session.token_hash)
        .await);
    assert_eq!(session, fixture.visitor_session);
    assert_eq!(
        ok(store.fetch_operator_by_email(&other.operator.email).await),
        other.operator
    );

    not_found(store.fetch_site_by_key(&unique_site_key()).await);
    not_found(store.fetch_visitor_session_by_token(&random_token()).await);
    not_found(
        store
            .fetch_operator_session_by_token(&random_token(), now())
            .await,
    );
    not_found(store.fetch_operator_by_email(&unique_email()).await);

    let same_key = Site {
        id: SiteId::new(),
        tenant_id: other.tenant.id,
        ..fixture.site.clone()
    };
    conflict(
        store.insert_site(other.tenant.id, &same_key).await,
        "site_key",
    );
    // Unique across the platform, not per tenant.
    let same_email = Operator {
        id: OperatorId::new(),
        tenant_id: other.tenant.id,
        ..fixture.operator.clone()
    };
    conflict(
        store.insert_operator(other.tenant.id, &same_email).await,
        "operator_email",
    );
    assert_eq!(ok(store.list_operators(other.tenant.id).await).len(), 2);
}

/// An operator session is found by its token only before `expires_at`; a deleted one is
/// gone.
pub async fn expired_operator_sessions_are_not_returned(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let current = now();
    let expired = fixture
        .operator_session(&*store, current - Duration::from_secs(1))
        .await;
    let valid = fixture
        .operator_session(&*store, current + Duration::from_secs(3_600))
        .await;
    not_found(
        store
            .fetch_operator_session_by_token(&expired.token_hash, current)
            .await,
    );
    assert_eq!(
        ok(store
            .fetch_operator_session_by_token(&valid.token_hash, current)
            .await),
        valid
    );
    // Valid strictly before expires_at.
    not_found(
        store
            .fetch_operator_session_by_token(&valid.token_hash, valid.expires_at)
            .await,
    );
    let just_before = valid.expires_at - Duration::from_micros(1);
    assert_eq!(
        ok(store
            .fetch_operator_session_by_token(&valid.token_hash, just_before)
            .await),
        valid
    );

    ok(store
        .delete_operator_session(fixture.tenant.id, valid.id)
        .await);
    not_found(
        store
            .fetch_operator_session_by_token(&valid.token_hash, current)
            .await,
    );
    // Deleting again is not an error.
    ok(store
        .delete_operator_session(fixture.tenant.id, valid.id)
        .await);
}

/// `update_operator_status` changes that operator's status and nothing else, as every read
/// shows; setting the same status again is fine. An unknown operator, or another tenant's,
/// is `NotFound` and keeps its status.
pub async fn operator_status_updates(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    assert_eq!(fixture.operator.status, OperatorStatus::Online);
    assert_eq!(
        ok(store.fetch_operator(tenant, fixture.operator.id).await),
        fixture.operator
    );

    for _ in 0..2 {
        ok(store
            .update_operator_status(tenant, fixture.operator.id, OperatorStatus::Away)
            .await);
    }
    let away = Operator {
        status: OperatorStatus::Away,
        ..fixture.operator.clone()
    };
    assert_eq!(
        ok(store.fetch_operator(tenant, fixture.operator.id).await),
        away
    );
    assert_eq!(
        ok(store.fetch_operator_by_email(&fixture.operator.email).await),
        away
    );
    assert_eq!(
        ok(store.list_operators(tenant).await),
        vec![away.clone(), fixture.other_operator.clone()]
    );

    ok(store
        .update_operator_status(tenant, fixture.operator.id, OperatorStatus::Online)
        .await);
    assert_eq!(
        ok(store.fetch_operator(tenant, fixture.operator.id).await),
        fixture.operator
    );

    not_found(
        store
            .update_operator_status(tenant, OperatorId::new(), OperatorStatus::Away)
            .await,
    );
    not_found(
        store
            .update_operator_status(tenant, other.operator.id, OperatorStatus::Away)
            .await,
    );
    not_found(
        store
            .update_operator_status(TenantId::new(), fixture.operator.id, OperatorStatus::Away)
            .await,
    );
    assert_eq!(
        ok(store
            .fetch_operator(other.tenant.id, other.operator.id)
            .await),
        other.operator
    );
    assert_eq!(
        ok(store.fetch_operator(tenant, fixture.operator.id).await),
        fixture.operator
    );
}

/// `update_visitor_session_page` sets the session's page (replacing a title with none
/// when the new page has none) and `last_seen_at`; `touch_visitor_session` sets only
/// `last_seen_at`. Every other field stays as it was, and so do other sessions. An unknown
/// session, or another tenant's, is `NotFound` and unchanged.
pub async fn visitor_session_page_and_touch(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let session = fixture.visitor_session.clone();
    assert_eq!(session.current_page, None);
    assert_eq!(session.last_seen_at, session.created_at);
    let by_token = |token: [u8; 32]| {
        let store = store.clone();
        async move { ok(store.fetch_visitor_session_by_token(&token).await) }
    };

    let first_page = PageRef {
        url: "https://fixture.example/pricing?plan=pro#faq".to_owned(),
        title: Some("Pricing — «Pro» 💼".to_owned()),
    };
    let first_seen = session.created_at + Duration::from_secs(30);
    ok(store
        .update_visitor_session_page(tenant, session.id, &first_page, first_seen)
        .await);
    let expected = VisitorSession {
        current_page: Some(first_page.clone()),
        last_seen_at: first_seen,
        ..session.clone()
    };
    assert_eq!(by_token(session.token_hash).await, expected);
    assert_eq!(
        ok(store
            .fetch_latest_visitor_session(tenant, fixture.visitor.id)
            .await),
        expected
    );

    let untitled = PageRef {
        url: "https://fixture.example/".to_owned(),
        title: None,
    };
    let second_seen = first_seen + Duration::from_micros(1);
    ok(store
        .update_visitor_session_page(tenant, session.id, &untitled, second_seen)
        .await);
    let expected = VisitorSession {
        current_page: Some(untitled.clone()),
        last_seen_at: second_seen,
        ..session.clone()
    };
    assert_eq!(by_token(session.token_hash).await, expected);

    let touched_at = second_seen + Duration::from_secs(3_600);
    ok(store
        .touch_visitor_session(tenant, session.id, touched_at)
        .await);
    let expected = VisitorSession {
        last_seen_at: touched_at,
        ..expected
    };
    assert_eq!(by_token(session.token_hash).await, expected);
    // The same instant again is still a match, not "not found".
    ok(store
        .touch_visitor_session(tenant, session.id, touched_at)
        .await);
    assert_eq!(by_token(session.token_hash).await, expected);

    // Another session of the same tenant is untouched.
    let bystander = fixture.new_visitor(&*store).await;
    let bystander_session = ok(store
        .fetch_latest_visitor_session(tenant, bystander.id)
        .await);
    assert_eq!(bystander_session.current_page, None);
    assert_eq!(bystander_session.last_seen_at, bystander_session.created_at);

    let unknown = VisitorSessionId::new();
    not_found(
        store
            .update_visitor_session_page(tenant, unknown, &first_page, now())
            .await,
    );
    not_found(store.touch_visitor_session(tenant, unknown, now()).await);
    let theirs = other.visitor_session.id;
    not_found(
        store
            .update_visitor_session_page(tenant, theirs, &first_page, now())
            .await,
    );
    not_found(store.touch_visitor_session(tenant, theirs, now()).await);
    not_found(
        store
            .touch_visitor_session(TenantId::new(), session.id, now())
            .await,
    );
    assert_eq!(
        by_token(other.visitor_session.token_hash).await,
        other.visitor_session
    );
    assert_eq!(by_token(session.token_hash).await, expected);
    assert_eq!(
        ok(store
            .fetch_latest_visitor_session(tenant, bystander.id)
            .await),
        bystander_session
    );
}

/// `fetch_latest_visitor_session` finds the visitor's session and follows its updates; an
/// unknown visitor, or another tenant's, is `NotFound`. (The traits insert a visitor with
/// exactly one session, so choosing among several sessions is left to backends' own tests.)
pub async fn latest_visitor_session(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    assert_eq!(
        ok(store
            .fetch_latest_visitor_session(tenant, fixture.visitor.id)
            .await),
        fixture.visitor_session
    );
    let seen = fixture.visitor_session.created_at + Duration::from_secs(5);
    ok(store
        .touch_visitor_session(tenant, fixture.visitor_session.id, seen)
        .await);
    assert_eq!(
        ok(store
            .fetch_latest_visitor_session(tenant, fixture.visitor.id)
            .await),
        VisitorSession {
            last_seen_at: seen,
            ..fixture.visitor_session.clone()
        }
    );

    not_found(
        store
            .fetch_latest_visitor_session(tenant, VisitorId::new())
            .await,
    );
    not_found(
        store
            .fetch_latest_visitor_session(tenant, other.visitor.id)
            .await,
    );
    not_found(
        store
            .fetch_latest_visitor_session(TenantId::new(), fixture.visitor.id)
            .await,
    );
    assert_eq!(
        ok(store
            .fetch_latest_visitor_session(other.tenant.id, other.visitor.id)
            .await),
        other.visitor_session
    );
}
