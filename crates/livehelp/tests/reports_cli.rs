//! `livehelp visitor find|update` and `livehelp report` against a real data dir (issue 6
//! items 5 and 6): a visitor found by email and corrected for a request received by
//! email, audited as the command line with the old values redacted; the platform report
//! adds every tenant's conversations, names no tenant, and suppresses cells from fewer
//! than 5 conversations.

use std::process::Command;
use std::sync::Arc;

use livehelp_app::{
    App, AppOptions, DetailsChange, NewSite, NewTenant, NewVisitorSession, OperatorPrincipal,
    Principal, SiteAccess,
};
use livehelp_domain::{BrowserInfo, OperatorId, Role, TenantId};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn livehelp(data_dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_livehelp"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("livehelp runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn open(dir: &std::path::Path) -> App {
    let store = livehelp_store_sqlite::SqliteStore::open(
        &dir.join("livehelp.sqlite3"),
        livehelp_store_sqlite::SqliteOptions::default(),
    )
    .await
    .expect("store");
    App::new(
        Arc::new(store),
        Arc::new(livehelp_bus::InProcessBus::new()),
        AppOptions::default(),
    )
}

/// A tenant with a site; returns the tenant and the site key.
async fn tenant(app: &App, name: &str) -> (TenantId, String) {
    let now = OffsetDateTime::now_utc();
    let tenant = app
        .create_tenant(NewTenant { name: name.into() }, now)
        .await
        .expect("tenant");
    let site = app
        .create_site(
            tenant.id,
            NewSite {
                name: format!("{name}.test"),
                key: None,
                allowed_origins: vec![format!("https://{name}.test")],
                privacy_policy_url: None,
            },
            now,
        )
        .await
        .expect("site");
    (tenant.id, site.key.as_str().to_owned())
}

async fn visitor(app: &App, site_key: &str) -> livehelp_app::VisitorPrincipal {
    let issued = app
        .create_visitor_session(
            site_key,
            &SiteAccess::default(),
            NewVisitorSession::default(),
            BrowserInfo::default(),
            OffsetDateTime::now_utc(),
        )
        .await
        .expect("visitor session");
    app.authenticate_visitor(&issued.token)
        .await
        .expect("visitor")
}

/// A conversation created at `created` that the visitor ends after `length` seconds,
/// unanswered.
async fn chat(app: &App, site_key: &str, created: OffsetDateTime, length: i64) {
    let visitor = visitor(app, site_key).await;
    let opened = app
        .start_chat(&visitor, uuid::Uuid::new_v4(), None, None, created)
        .await
        .expect("chat");
    app.end_chat(
        &Principal::Visitor(visitor),
        opened.conversation.id,
        uuid::Uuid::new_v4(),
        created + Duration::seconds(length),
    )
    .await
    .expect("end");
}

#[test]
fn visitors_are_found_and_corrected_from_the_command_line_and_audited_redacted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, _, err) = livehelp(dir.path(), &["migrate"]);
    assert!(ok, "{err}");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (tenant_id, visitor_id) = runtime.block_on(async {
        let app = open(dir.path()).await;
        let (tenant_id, key) = tenant(&app, "mailshop").await;
        let visitor = visitor(&app, &key).await;
        app.correct_own_details(
            &visitor,
            DetailsChange {
                name: Some("Jane Doe".into()),
                email: Some("Jane.Old@Example.com".into()),
            },
        )
        .await
        .expect("details");
        app.close().await;
        (tenant_id, visitor.visitor_id)
    });

    let (ok, found, err) = livehelp(
        dir.path(),
        &["visitor", "find", "--email", "JANE.OLD@example.com"],
    );
    assert!(ok, "{err}");
    let line = found.lines().next().expect("one visitor");
    let cells: Vec<&str> = line.split('\t').collect();
    assert_eq!(
        cells[..4],
        [
            visitor_id.to_string().as_str(),
            tenant_id.to_string().as_str(),
            "Jane Doe",
            "jane.old@example.com"
        ]
    );
    let (ok, by_name, _) = livehelp(dir.path(), &["visitor", "find", "--name", "jane doe"]);
    assert!(ok && by_name.contains(&visitor_id.to_string()), "{by_name}");

    let id = visitor_id.to_string();
    let (ok, out, err) = livehelp(
        dir.path(),
        &["visitor", "update", &id, "--email", "jane.new@example.com"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("jane.new@example.com"), "{out}");
    let (_, old, _) = livehelp(
        dir.path(),
        &["visitor", "find", "--email", "jane.old@example.com"],
    );
    assert!(old.trim().is_empty(), "{old}");
    let (_, new, _) = livehelp(
        dir.path(),
        &["visitor", "find", "--email", "jane.new@example.com"],
    );
    assert!(new.contains(&id) && new.contains("Jane Doe"), "{new}");

    // Bad input: clear errors, nothing changed.
    let (ok, _, err) = livehelp(
        dir.path(),
        &["visitor", "update", "not-an-id", "--name", "X"],
    );
    assert!(!ok && err.contains("not a visitor id"), "{err}");
    let (ok, _, err) = livehelp(dir.path(), &["visitor", "update", &id, "--email", "nope"]);
    assert!(!ok && err.contains("email"), "{err}");
    let (ok, _, _) = livehelp(dir.path(), &["visitor", "find"]);
    assert!(!ok);

    // The audit log: one entry, as the command line, the old value redacted.
    let entries = runtime.block_on(async {
        let app = open(dir.path()).await;
        let admin = OperatorPrincipal {
            tenant_id,
            operator_id: OperatorId::new(),
            role: Role::Admin,
            display_name: "Auditor".into(),
        };
        let entries = app.audit_log(&admin, None, 50).await.expect("audit log");
        app.close().await;
        entries
    });
    let corrections: Vec<_> = entries
        .iter()
        .filter(|entry| entry.action == "visitor_details_corrected")
        .collect();
    assert_eq!(corrections.len(), 1, "{entries:?}");
    assert_eq!(
        corrections[0].target,
        format!("visitor:{id} email:[redacted]")
    );
    assert_eq!(corrections[0].actor, livehelp_domain::AuditActor::Cli);
    assert!(
        !format!("{entries:?}").contains("jane.old@example.com"),
        "{entries:?}"
    );
}

#[test]
fn the_platform_report_adds_tenants_and_suppresses_small_cells() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, _, err) = livehelp(dir.path(), &["migrate"]);
    assert!(ok, "{err}");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let tenant_ids = runtime.block_on(async {
        let app = open(dir.path()).await;
        let (first, first_key) = tenant(&app, "north").await;
        let (second, second_key) = tenant(&app, "south").await;
        // Day 1, 09:00 UTC: 6 conversations over two tenants (4 + 2), lengths 60..360 s.
        let day1 = datetime!(2026-03-09 09:00 UTC);
        for index in 0..6_i64 {
            let key = if index < 4 { &first_key } else { &second_key };
            chat(&app, key, day1 + Duration::seconds(index), (index + 1) * 60).await;
        }
        // Day 2, 10:00: 2 conversations (600 and 1200 s): too few for a cell.
        let day2 = datetime!(2026-03-10 10:00 UTC);
        chat(&app, &first_key, day2, 600).await;
        chat(&app, &second_key, day2 + Duration::seconds(1), 1200).await;
        app.close().await;
        [first, second]
    });
    let (ok, out, err) = livehelp(
        dir.path(),
        &["report", "--from", "2026-03-09", "--to", "2026-03-10"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("all 2 tenants together"), "{out}");
    assert!(out.contains("\nconversations\t8\n"), "{out}");
    // Every conversation ended unanswered: 8 missed, and no first response to measure.
    assert!(out.contains("\nmissed\t8\n"), "{out}");
    assert!(
        out.contains("\nfirst response median/p90 s\tsuppressed\n"),
        "{out}"
    );
    // Lengths 60 120 180 240 300 360 600 1200: median (240 + 300) / 2 = 270; p90 the
    // ceil(7.2) = 8th smallest, 1200.
    assert!(
        out.contains("\nlength median/p90 s\t270.0 / 1200.0\n"),
        "{out}"
    );
    assert!(out.contains("\ncsat %\tsuppressed\n"), "{out}");
    assert!(out.contains("\n2026-03-09\t6\t6\tsuppressed\n"), "{out}");
    assert!(
        out.contains("\n2026-03-10\tsuppressed\tsuppressed\tsuppressed\n"),
        "{out}"
    );
    assert!(out.contains("\n09:00\t6\n"), "{out}");
    assert!(out.contains("\n10:00\tsuppressed\n"), "{out}");
    assert!(out.contains("\n03:00\tsuppressed\n"), "{out}");
    for tenant in tenant_ids {
        assert!(!out.contains(&tenant.to_string()), "{out}");
    }
    for name in ["north", "south"] {
        assert!(!out.contains(name), "{out}");
    }
    let (ok, _, err) = livehelp(
        dir.path(),
        &["report", "--from", "2026-03-10", "--to", "2026-03-09"],
    );
    assert!(!ok && err.contains("to must not be before from"), "{err}");
}
