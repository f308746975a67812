//! A tenant import takes only that tenant's rows: an archive whose manifest names one
//! tenant but whose parts carry another tenant's rows or platform tables (an edited
//! export, checksums recomputed) is refused whole and the target deployment is unchanged.

use std::path::Path;

use livehelp_archive::{ArchiveWriter, import_archive, verify_archive};
use livehelp_domain::{Tenant, TenantId, TenantStatus};
use livehelp_store::TenantStore;
use livehelp_store::archive::{ArchiveScope, ArchiveStore, ImportMode};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};

async fn store(path: &Path) -> SqliteStore {
    SqliteStore::open(path, SqliteOptions::default())
        .await
        .expect("the store opens")
}

fn tenant(name: &str) -> Tenant {
    Tenant {
        id: TenantId::new(),
        name: name.to_owned(),
        status: TenantStatus::Active,
        created_at: time::OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("instant"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_archive_carrying_another_tenants_rows_is_refused_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = store(&dir.path().join("source.sqlite")).await;
    let (mine, theirs) = (tenant("Mine"), tenant("Theirs"));
    source.insert_tenant(&mine).await.expect("tenant");
    source.insert_tenant(&theirs).await.expect("tenant");

    // The whole deployment's rows under a manifest that says "tenant Mine": what an
    // edited export would look like after its checksums were recomputed.
    let crafted = dir.path().join("crafted.tar.zst");
    let mut writer = ArchiveWriter::create(&crafted).expect("writer");
    source
        .export_archive(ArchiveScope::Platform, writer.sink())
        .await
        .expect("export");
    writer
        .finish(ArchiveScope::Tenant(mine.id))
        .expect("finish");
    verify_archive(&crafted).expect("the checksums are right: only the contents lie");

    // The target already serves "Theirs" (same id): it must stay exactly as it is.
    let target = store(&dir.path().join("target.sqlite")).await;
    let victim = Tenant {
        name: "Theirs, live".to_owned(),
        ..theirs.clone()
    };
    target.insert_tenant(&victim).await.expect("tenant");
    let refused = import_archive(&target, &crafted, ImportMode::AddTenant, &mut |_, _| {}).await;
    let message = refused.expect_err("the import must be refused").to_string();
    assert!(
        message.contains("another tenant") || message.contains("platform data"),
        "unclear refusal: {message}"
    );
    let tenants = target.list_tenants().await.expect("tenants");
    assert_eq!(
        tenants,
        vec![victim],
        "nothing was imported, nothing changed"
    );

    // The honest export of "Mine" alone still imports.
    let honest = dir.path().join("honest.tar.zst");
    let mut writer = ArchiveWriter::create(&honest).expect("writer");
    source
        .export_archive(ArchiveScope::Tenant(mine.id), writer.sink())
        .await
        .expect("export");
    writer
        .finish(ArchiveScope::Tenant(mine.id))
        .expect("finish");
    import_archive(&target, &honest, ImportMode::AddTenant, &mut |_, _| {})
        .await
        .expect("a tenant's own archive imports");
    let mut names: Vec<String> = target
        .list_tenants()
        .await
        .expect("tenants")
        .into_iter()
        .map(|tenant| tenant.name)
        .collect();
    names.sort();
    assert_eq!(names, vec!["Mine".to_owned(), "Theirs, live".to_owned()]);
}
