//! The account commands against a real data dir: create a tenant with an admin, add an
//! operator, change a role, disable, suspend; and clear errors for bad input.

use std::process::Command;

fn livehelp(data_dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_livehelp"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("RUST_BACKTRACE")
        .env("LIVEHELP_ADMIN_PASSWORD", "a long platform passphrase")
        .output()
        .expect("livehelp runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn tenants_and_operators_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, out, err) = livehelp(
        dir.path(),
        &[
            "tenant",
            "create",
            "--name",
            "Shop One",
            "--site",
            "shop1.test",
            "--origin",
            "https://shop1.test",
            "--admin-email",
            "boss@shop1.test",
        ],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("data-site-key=") && out.contains("/console/#reset="),
        "{out}"
    );
    let (_, list, _) = livehelp(dir.path(), &["tenant", "list"]);
    let tenant = list
        .split_whitespace()
        .next()
        .expect("a tenant id")
        .to_owned();
    assert!(list.contains("active") && list.contains("Shop One"));

    let (ok, out, err) = livehelp(
        dir.path(),
        &[
            "operator",
            "add",
            "--tenant",
            &tenant,
            "--email",
            "op@shop1.test",
            "--name",
            "Olly",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("operator") && out.contains("#reset="), "{out}");
    assert!(
        livehelp(
            dir.path(),
            &["operator", "set-role", "op@shop1.test", "supervisor"]
        )
        .0
    );
    assert!(livehelp(dir.path(), &["operator", "disable", "op@shop1.test"]).0);
    let (_, operators, _) = livehelp(dir.path(), &["operator", "list", "--tenant", &tenant]);
    let line = operators
        .lines()
        .find(|line| line.contains("op@shop1.test"))
        .expect("listed");
    assert!(
        line.contains("supervisor") && line.contains("disabled"),
        "{line}"
    );
    assert!(
        livehelp(dir.path(), &["operator", "reset-password", "op@shop1.test"])
            .1
            .contains("#reset=")
    );

    assert!(livehelp(dir.path(), &["tenant", "suspend", &tenant]).0);
    assert!(
        livehelp(dir.path(), &["tenant", "list"])
            .1
            .contains("suspended")
    );
    assert!(livehelp(dir.path(), &["tenant", "reactivate", &tenant]).0);

    let (ok, out, _) = livehelp(
        dir.path(),
        &["admin", "create", "--email", "root@host.test"],
    );
    assert!(ok && out.contains("platform admin root@host.test"), "{out}");

    for bad in [
        vec!["tenant", "suspend", "not-an-id"],
        vec!["operator", "set-role", "op@shop1.test", "king"],
        vec!["operator", "disable", "nobody@shop1.test"],
        vec![
            "operator",
            "add",
            "--tenant",
            &tenant,
            "--email",
            "not an email",
            "--name",
            "X",
        ],
    ] {
        let (ok, _, err) = livehelp(dir.path(), &bad);
        assert!(!ok, "{bad:?} should fail");
        assert!(
            err.starts_with("Error: "),
            "a readable error for {bad:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// Support requests (M5) are read and solved by the platform's staff with
/// `livehelp support`; requester-typed control characters are printed escaped.
#[test]
fn support_requests_are_listed_shown_and_solved_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, _, err) = livehelp(dir.path(), &["migrate"]);
    assert!(ok, "{err}");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let id = runtime.block_on(async {
        let store = livehelp_store_sqlite::SqliteStore::open(
            &dir.path().join("livehelp.sqlite3"),
            livehelp_store_sqlite::SqliteOptions::default(),
        )
        .await
        .expect("store");
        let app = livehelp_app::App::new(
            std::sync::Arc::new(store),
            std::sync::Arc::new(livehelp_bus::InProcessBus::new()),
            livehelp_app::AppOptions::default(),
        );
        let request = app
            .create_support_request(
                livehelp_app::NewSupportRequest {
                    email: "owner@shop.test".into(),
                    site_url: "https://shop.test".into(),
                    description: "Widget is blank\ton Safari".into(),
                },
                time::OffsetDateTime::now_utc(),
            )
            .await
            .expect("created");
        app.close().await;
        request.id.to_string()
    });
    let (ok, list, err) = livehelp(dir.path(), &["support", "list", "--status", "open"]);
    assert!(ok, "{err}");
    assert!(
        list.contains(&id) && list.contains("owner@shop.test"),
        "{list}"
    );
    let (ok, shown, _) = livehelp(dir.path(), &["support", "show", &id]);
    assert!(ok);
    // (Escape sequences are refused when the request is made; what control characters
    // are allowed, like a tab, are printed escaped.)
    assert!(shown.contains("Widget is blank\\ton Safari"), "{shown}");
    let (ok, _, err) = livehelp(dir.path(), &["support", "solve", &id]);
    assert!(ok, "{err}");
    let (_, open, _) = livehelp(dir.path(), &["support", "list", "--status", "open"]);
    assert!(!open.contains(&id));
    let (ok, _, err) = livehelp(dir.path(), &["support", "show", "not-an-id"]);
    assert!(!ok && err.contains("not a support request id"), "{err}");
}
