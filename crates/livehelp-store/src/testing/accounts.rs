//! Conformance checks of the account edits an admin makes: `update_site` replaces a site's
//! name, origins, privacy-policy URL and require-TLS switch but never its key, id or
//! creation time, and `update_operator` replaces an operator's display name, role,
//! password hash and disabled flag and nothing else. Both find only the tenant's own rows:
//! an unknown id, another tenant's id, or an entity naming another tenant is `NotFound`
//! and changes nothing.

use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{Operator, OperatorId, OperatorStatus, Role, Site, SiteId, TenantId};

use super::expect::{not_found, ok};
use super::fixtures::{Fixture, now, unique_email, unique_site_key};
use crate::Store;

/// `update_site` replaces the editable fields, keeps the key, id and `created_at` (a
/// different key in the entity is ignored, and the site is still found by its old key),
/// and refuses unknown and foreign sites with `NotFound`.
pub async fn site_updates_keep_key_and_id(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let original = fixture.site.clone();

    let edited = Site {
        key: unique_site_key(),
        name: "Shop — שופ 🛍".to_owned(),
        allowed_origins: vec![
            "https://shop.example".to_owned(),
            "https://www.shop.example:8443".to_owned(),
        ],
        privacy_policy_url: Some("https://shop.example/privacy#מדיניות".to_owned()),
        require_tls: true,
        created_at: original.created_at + Duration::from_secs(86_400),
        ..original.clone()
    };
    ok(store.update_site(tenant, &edited).await);
    let expected = Site {
        key: original.key.clone(),
        created_at: original.created_at,
        ..edited.clone()
    };
    assert_eq!(ok(store.list_sites(tenant).await), vec![expected.clone()]);
    assert_eq!(ok(store.fetch_site_by_key(&original.key).await), expected);
    not_found(store.fetch_site_by_key(&edited.key).await);
    // The same values again still match the row.
    ok(store.update_site(tenant, &edited).await);
    assert_eq!(ok(store.fetch_site_by_key(&original.key).await), expected);

    // Back to an open, plain-HTTP site without a policy.
    let cleared = Site {
        allowed_origins: Vec::new(),
        privacy_policy_url: None,
        require_tls: false,
        ..expected.clone()
    };
    ok(store.update_site(tenant, &cleared).await);
    assert_eq!(ok(store.fetch_site_by_key(&original.key).await), cleared);

    let unknown = Site {
        id: SiteId::new(),
        ..edited.clone()
    };
    not_found(store.update_site(tenant, &unknown).await);
    // Their site under our tenant, whether the entity names our tenant or theirs.
    let stolen = Site {
        tenant_id: tenant,
        require_tls: true,
        name: "stolen".to_owned(),
        ..other.site.clone()
    };
    not_found(store.update_site(tenant, &stolen).await);
    let theirs = Site {
        name: "stolen".to_owned(),
        ..other.site.clone()
    };
    not_found(store.update_site(tenant, &theirs).await);
    not_found(store.update_site(TenantId::new(), &cleared).await);

    assert_eq!(ok(store.list_sites(tenant).await), vec![cleared.clone()]);
    assert_eq!(
        ok(store.list_sites(other.tenant.id).await),
        vec![other.site.clone()]
    );
    assert_eq!(
        ok(store.fetch_site_by_key(&other.site.key).await),
        other.site
    );
}

/// `update_operator` replaces display name, role, password hash and disabled flag. The
/// email, status, lock-out fields and `created_at` of the entity are ignored: they have
/// their own writes. Unknown and foreign operators are `NotFound` and unchanged.
pub async fn operator_updates_replace_account_fields(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let original = fixture.operator.clone();

    let edited = Operator {
        display_name: "Olga Ольга 🦀".to_owned(),
        role: Role::Supervisor,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA".to_owned(),
        disabled: true,
        // Not the business of update_operator:
        email: unique_email(),
        status: OperatorStatus::Away,
        failed_logins: 3,
        locked_until: Some(now() + Duration::from_secs(900)),
        created_at: original.created_at + Duration::from_secs(60),
        ..original.clone()
    };
    ok(store.update_operator(tenant, &edited).await);
    let expected = Operator {
        display_name: edited.display_name.clone(),
        role: edited.role,
        password_hash: edited.password_hash.clone(),
        disabled: edited.disabled,
        ..original.clone()
    };
    assert_eq!(
        ok(store.fetch_operator(tenant, original.id).await),
        expected
    );
    assert_eq!(
        ok(store.fetch_operator_by_email(&original.email).await),
        expected
    );
    not_found(store.fetch_operator_by_email(&edited.email).await);
    assert_eq!(
        ok(store.list_operators(tenant).await),
        vec![expected.clone(), fixture.other_operator.clone()]
    );
    // The same values again still match the row.
    ok(store.update_operator(tenant, &edited).await);
    assert_eq!(
        ok(store.fetch_operator(tenant, original.id).await),
        expected
    );

    // Re-enabled as an admin.
    let admin = Operator {
        role: Role::Admin,
        disabled: false,
        ..expected.clone()
    };
    ok(store.update_operator(tenant, &admin).await);
    assert_eq!(ok(store.fetch_operator(tenant, original.id).await), admin);

    let unknown = Operator {
        id: OperatorId::new(),
        ..admin.clone()
    };
    not_found(store.update_operator(tenant, &unknown).await);
    let stolen = Operator {
        tenant_id: tenant,
        role: Role::Admin,
        ..other.operator.clone()
    };
    not_found(store.update_operator(tenant, &stolen).await);
    let theirs = Operator {
        disabled: true,
        ..other.operator.clone()
    };
    not_found(store.update_operator(tenant, &theirs).await);
    not_found(store.update_operator(TenantId::new(), &admin).await);

    assert_eq!(ok(store.fetch_operator(tenant, original.id).await), admin);
    assert_eq!(
        ok(store
            .fetch_operator(other.tenant.id, other.operator.id)
            .await),
        other.operator
    );
    assert_eq!(
        ok(store
            .fetch_operator(tenant, fixture.other_operator.id)
            .await),
        fixture.other_operator
    );
}
