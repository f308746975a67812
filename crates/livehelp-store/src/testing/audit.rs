//! Conformance checks of the audit log: entries read back exactly as written, newest
//! first by id (UUIDv7, so by time) whatever order they were inserted in, paged with the
//! `before` cursor, and only ever the tenant's own.

use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{AuditActor, AuditEntry, AuditEntryId, PlatformAdminId, TenantId};

use super::expect::ok;
use super::fixtures::{Fixture, now};
use crate::Store;

/// Five entries (every kind of actor) inserted out of order list newest first; pages of
/// two with `before` walk them to the end; `limit` 0 gives nothing. Another tenant's
/// entries never appear, an unknown tenant has none, and an entry naming another tenant
/// is refused rather than written under either.
pub async fn audit_log_pages_newest_first(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let start = now();
    let actors = [
        AuditActor::Operator(fixture.operator.id),
        AuditActor::PlatformAdmin(PlatformAdminId::new()),
        AuditActor::Cli,
        AuditActor::Operator(fixture.other_operator.id),
        AuditActor::Cli,
    ];
    let actions = [
        "operator_created",
        "transcript_read",
        "password_reset_issued",
        "site_updated",
        "sessions_revoked",
    ];
    // Ids made in this order are in this order (UUIDv7).
    let entries: Vec<AuditEntry> = actors
        .into_iter()
        .zip(actions)
        .enumerate()
        .map(|(index, (actor, action))| AuditEntry {
            id: AuditEntryId::new(),
            tenant_id: tenant,
            at: start + Duration::from_micros(index as u64),
            actor,
            action: action.to_owned(),
            target: format!("operator:{} «目标» 🎯", fixture.operator.id),
        })
        .collect();
    let their_entries: Vec<AuditEntry> = (0..2)
        .map(|index| AuditEntry {
            id: AuditEntryId::new(),
            tenant_id: other.tenant.id,
            at: start + Duration::from_micros(10 + index),
            actor: AuditActor::Operator(other.operator.id),
            action: "monitor_started".to_owned(),
            target: format!("conversation:{}", AuditEntryId::new()),
        })
        .collect();
    for index in [3, 0, 4, 1, 2] {
        ok(store.insert_audit_entry(tenant, &entries[index]).await);
        if let Some(theirs) = their_entries.get(index) {
            ok(store.insert_audit_entry(other.tenant.id, theirs).await);
        }
    }

    let newest_first: Vec<AuditEntry> = entries.iter().rev().cloned().collect();
    assert_eq!(
        ok(store.list_audit_entries(tenant, None, 100).await),
        newest_first
    );
    assert_eq!(
        ok(store.list_audit_entries(tenant, None, 2).await),
        newest_first[..2]
    );
    assert_eq!(
        ok(store
            .list_audit_entries(tenant, Some(newest_first[1].id), 2)
            .await),
        newest_first[2..4]
    );
    assert_eq!(
        ok(store
            .list_audit_entries(tenant, Some(newest_first[3].id), 2)
            .await),
        newest_first[4..]
    );
    assert!(
        ok(store
            .list_audit_entries(tenant, Some(entries[0].id), 2)
            .await)
        .is_empty()
    );
    assert!(ok(store.list_audit_entries(tenant, None, 0).await).is_empty());
    // A cursor newer than everything (here an id of theirs) starts at our newest.
    assert_eq!(
        ok(store
            .list_audit_entries(tenant, Some(their_entries[1].id), 100)
            .await),
        newest_first
    );

    let their_newest_first: Vec<AuditEntry> = their_entries.iter().rev().cloned().collect();
    assert_eq!(
        ok(store.list_audit_entries(other.tenant.id, None, 100).await),
        their_newest_first
    );
    assert!(ok(store.list_audit_entries(TenantId::new(), None, 100).await).is_empty());
    let misfiled = AuditEntry {
        id: AuditEntryId::new(),
        tenant_id: other.tenant.id,
        ..entries[0].clone()
    };
    assert!(
        store.insert_audit_entry(tenant, &misfiled).await.is_err(),
        "an entry of another tenant is refused under ours"
    );
    assert_eq!(
        ok(store.list_audit_entries(tenant, None, 100).await),
        newest_first
    );
    assert_eq!(
        ok(store.list_audit_entries(other.tenant.id, None, 100).await),
        their_newest_first
    );
}
