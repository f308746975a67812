//! `GET /api/v1/tenant/export` (M17): a tenant admin downloads their own tenant as a
//! livehelp archive that verifies and holds their data and nothing of another tenant;
//! supervisors and operators are refused; the export is audited.

use livehelp_domain::Role;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_tenant_admin_downloads_their_own_tenant_and_nobody_else_can() {
    let app = spawn_app().await;
    let mine = app.tenant("exportmine").await;
    let other = app.tenant("exportother").await;
    app.member(mine.id, "boss@mine.test", "Boss", Role::Admin)
        .await;
    app.member(mine.id, "sup@mine.test", "Sup", Role::Supervisor)
        .await;
    for email in [mine.operator_email.as_str(), "sup@mine.test"] {
        let session = app.login_with_csrf(email).await;
        let response = app
            .send_json(Method::GET, "/api/v1/tenant/export", &session, None)
            .await;
        assert_eq!(response.status(), 403, "{email}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["code"], "role_required");
    }
    let admin = app.login_with_csrf("boss@mine.test").await;
    let response = app
        .send_json(Method::GET, "/api/v1/tenant/export", &admin, None)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zstd");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        disposition.contains(&format!("livehelp-tenant-{}", mine.id)),
        "{disposition}"
    );
    let bytes = response.bytes().await.expect("body");
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("export.tar.zst");
    std::fs::write(&file, &bytes).expect("write");
    let manifest = livehelp_archive::verify_archive(&file).expect("the download verifies");
    assert_eq!(manifest.tenant(), Some(mine.id));
    assert_eq!(manifest.rows_of("tenants"), 1);
    assert!(manifest.rows_of("operators") >= 2);
    let text = String::from_utf8_lossy(&decompressed(&file)).into_owned();
    assert!(text.contains("exportmine"));
    assert!(!text.contains("exportother"), "nothing of another tenant");
    assert!(!text.contains(&other.id.to_string()));
    assert!(text.contains("tenant_exported"), "the export is audited");
}

fn decompressed(file: &std::path::Path) -> Vec<u8> {
    zstd::decode_all(std::fs::File::open(file).expect("open")).expect("zstd")
}
