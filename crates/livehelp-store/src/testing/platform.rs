//! Conformance checks of the platform scope, the few reads and writes that are not inside
//! one tenant: every tenant listed oldest first, a tenant suspended and reactivated, and
//! platform admins found by their login email, a login kept apart from operators'.

use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{PlatformAdmin, PlatformAdminId, Tenant, TenantId, TenantStatus};

use super::expect::{conflict, not_found, ok};
use super::fixtures::{Fixture, now, unique_email};
use crate::Store;

/// `list_tenants` gives every tenant oldest first (ties by id), as stored;
/// `update_tenant_status` changes one tenant's status and no other's, and an unknown
/// tenant is `NotFound`.
pub async fn tenants_list_and_status(store: Arc<dyn Store>) {
    let start = now();
    let tenant = |name: &str, micros: u64| Tenant {
        id: TenantId::new(),
        name: name.to_owned(),
        status: TenantStatus::Active,
        created_at: start + Duration::from_micros(micros),
    };
    // Inserted out of creation order; `tied` shares `first`'s instant with a greater id.
    let last = tenant("Last Ltd", 2);
    let first = tenant("First Ltd", 0);
    let middle = Tenant {
        status: TenantStatus::Suspended,
        ..tenant("Middle Ltd", 1)
    };
    let tied = tenant("Tied Ltd", 0);
    for tenant in [&last, &first, &middle, &tied] {
        ok(store.insert_tenant(tenant).await);
    }
    let ours = |tenants: Vec<Tenant>| -> Vec<Tenant> {
        let ids = [last.id, first.id, middle.id, tied.id];
        tenants
            .into_iter()
            .filter(|tenant| ids.contains(&tenant.id))
            .collect()
    };
    assert_eq!(
        ours(ok(store.list_tenants().await)),
        vec![first.clone(), tied.clone(), middle.clone(), last.clone()]
    );

    ok(store
        .update_tenant_status(first.id, TenantStatus::Suspended)
        .await);
    let suspended = Tenant {
        status: TenantStatus::Suspended,
        ..first.clone()
    };
    assert_eq!(ok(store.fetch_tenant(first.id).await), suspended);
    assert_eq!(
        ours(ok(store.list_tenants().await)),
        vec![
            suspended.clone(),
            tied.clone(),
            middle.clone(),
            last.clone()
        ]
    );
    // Reactivating, twice: setting the status a tenant already has is not "not found".
    for _ in 0..2 {
        ok(store
            .update_tenant_status(middle.id, TenantStatus::Active)
            .await);
    }
    let reactivated = Tenant {
        status: TenantStatus::Active,
        ..middle.clone()
    };
    assert_eq!(ok(store.fetch_tenant(middle.id).await), reactivated);
    not_found(
        store
            .update_tenant_status(TenantId::new(), TenantStatus::Suspended)
            .await,
    );
    assert_eq!(
        ours(ok(store.list_tenants().await)),
        vec![suspended, tied, reactivated, last]
    );
}

/// A platform admin reads back by email exactly as written; a taken email is a
/// `Conflict` on `platform_admin_email`; an unknown email is `NotFound`. Operator and
/// platform-admin logins never find each other's accounts.
pub async fn platform_admins_by_email(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let admin = PlatformAdmin {
        id: PlatformAdminId::new(),
        email: unique_email(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$YWRtaW5zYWx0$YWRtaW5oYXNo".to_owned(),
        created_at: now(),
    };
    ok(store.insert_platform_admin(&admin).await);
    assert_eq!(
        ok(store.fetch_platform_admin_by_email(&admin.email).await),
        admin
    );
    let same_email = PlatformAdmin {
        id: PlatformAdminId::new(),
        password_hash: "$argon2id$other".to_owned(),
        ..admin.clone()
    };
    conflict(
        store.insert_platform_admin(&same_email).await,
        "platform_admin_email",
    );
    assert_eq!(
        ok(store.fetch_platform_admin_by_email(&admin.email).await),
        admin
    );
    let second = PlatformAdmin {
        id: PlatformAdminId::new(),
        email: unique_email(),
        ..admin.clone()
    };
    ok(store.insert_platform_admin(&second).await);
    assert_eq!(
        ok(store.fetch_platform_admin_by_email(&second.email).await),
        second
    );

    not_found(store.fetch_platform_admin_by_email(&unique_email()).await);
    not_found(
        store
            .fetch_platform_admin_by_email(&fixture.operator.email)
            .await,
    );
    not_found(store.fetch_operator_by_email(&admin.email).await);
}
