//! The tidy checks. Each returns a list of human-readable problems (empty when clean).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use livehelp_protocol::{ClientFrame, ErrorCode, ServerFrame};

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Every check.
pub fn all(root: &Path) -> Vec<String> {
    let mut problems = module_docs(root);
    problems.extend(protocol_doc(root));
    problems.extend(crate_dependencies(root));
    problems.extend(sql_only_in_stores(root));
    problems
}

/// Every `.rs` file starts with a `//!` paragraph saying what it is for.
pub fn module_docs(root: &Path) -> Vec<String> {
    rust_files(root)
        .into_iter()
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|path| {
            format!(
                "{} does not start with a //! module doc",
                relative(root, &path)
            )
        })
        .collect()
}

/// `docs/protocol.md` mentions every client frame, server frame and error code as `` `name` ``.
pub fn protocol_doc(root: &Path) -> Vec<String> {
    let doc = fs::read_to_string(root.join("docs/protocol.md")).unwrap_or_default();
    let mut problems = Vec::new();
    for name in ClientFrame::TYPES {
        if !doc.contains(&format!("#### `{name}`")) {
            problems.push(format!(
                "docs/protocol.md has no section for client frame `{name}`"
            ));
        }
    }
    for name in ServerFrame::TYPES {
        if !doc.contains(&format!("#### `{name}`")) {
            problems.push(format!(
                "docs/protocol.md has no section for server frame `{name}`"
            ));
        }
    }
    for code in ErrorCode::ALL {
        let row = format!("| `{}` | {} |", code.as_str(), code.http_status());
        if !doc.contains(&row) {
            problems.push(format!("docs/protocol.md error table has no row `{row}`"));
        }
    }
    problems
}

/// Which workspace crates each crate may depend on (ARCHITECTURE.md), and outside crates
/// that must stay out of the inner layers.
pub fn crate_dependencies(root: &Path) -> Vec<String> {
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("livehelp-domain", &[][..]),
        ("livehelp-protocol", &[][..]),
        ("livehelp-store", &["livehelp-domain"][..]),
        (
            "livehelp-store-sqlite",
            &["livehelp-domain", "livehelp-store"][..],
        ),
        (
            "livehelp-store-postgres",
            &["livehelp-domain", "livehelp-store"][..],
        ),
        ("livehelp-bus", &["livehelp-domain"][..]),
        (
            "livehelp-app",
            &["livehelp-domain", "livehelp-store", "livehelp-bus"][..],
        ),
        (
            "livehelp-server",
            &[
                "livehelp-domain",
                "livehelp-store",
                "livehelp-bus",
                "livehelp-app",
                "livehelp-protocol",
                "livehelp-archive",
            ][..],
        ),
        (
            "livehelp-archive",
            &["livehelp-domain", "livehelp-store"][..],
        ),
        // The load generator speaks the wire protocol and nothing else: it measures the
        // server from outside, like any client.
        ("livehelp-bench", &["livehelp-protocol"][..]),
        (
            "livehelp",
            &[
                "livehelp-domain",
                "livehelp-store",
                "livehelp-store-sqlite",
                "livehelp-store-postgres",
                "livehelp-bus",
                "livehelp-app",
                "livehelp-server",
                "livehelp-archive",
            ][..],
        ),
    ]);
    let forbidden: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("livehelp-domain", &["tokio", "sqlx", "axum", "serde"][..]),
        ("livehelp-protocol", &["tokio", "sqlx", "axum"][..]),
        ("livehelp-store", &["sqlx", "axum"][..]),
        ("livehelp-bus", &["sqlx", "axum"][..]),
        ("livehelp-store-postgres", &["axum", "async-nats"][..]),
        ("livehelp-app", &["sqlx", "axum"][..]),
        ("livehelp-archive", &["sqlx", "axum"][..]),
    ]);
    let mut problems = Vec::new();
    let Ok(entries) = fs::read_dir(root.join("crates")) else {
        return vec!["no crates/ folder".into()];
    };
    for entry in entries.flatten() {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&manifest) else {
            continue;
        };
        let Ok(value) = text.parse::<toml::Table>() else {
            problems.push(format!("{} does not parse", relative(root, &manifest)));
            continue;
        };
        let name = value
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or_default();
        let folder = entry.file_name().to_string_lossy().into_owned();
        if name != folder {
            problems.push(format!(
                "crate {name} lives in folder {folder}; name them alike"
            ));
        }
        let dependencies: Vec<String> = value
            .get("dependencies")
            .and_then(|d| d.as_table())
            .map(|table| table.keys().cloned().collect())
            .unwrap_or_default();
        let Some(allowed) = allowed.get(name) else {
            problems.push(format!("crate {name} is not in the dependency rules of xtask/src/tidy.rs and ARCHITECTURE.md"));
            continue;
        };
        for dependency in &dependencies {
            if dependency.starts_with("livehelp") && !allowed.contains(&dependency.as_str()) {
                problems.push(format!(
                    "{name} must not depend on {dependency} (see ARCHITECTURE.md)"
                ));
            }
            if forbidden
                .get(name)
                .is_some_and(|list| list.contains(&dependency.as_str()))
            {
                problems.push(format!("{name} must not depend on {dependency}"));
            }
        }
    }
    problems
}

/// SQL keywords in string literals appear only in `livehelp-store-*` backends.
pub fn sql_only_in_stores(root: &Path) -> Vec<String> {
    let markers = [
        "\"SELECT ",
        "\"INSERT INTO",
        "\"UPDATE ",
        "\"DELETE FROM",
        "\"CREATE TABLE",
    ];
    rust_files(root)
        .into_iter()
        .filter(|path| {
            let path = relative(root, path);
            !path.starts_with("crates/livehelp-store-") && !path.starts_with("xtask/")
        })
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap_or_default();
            markers.iter().any(|marker| text.contains(marker))
        })
        .map(|path| {
            format!(
                "{} contains SQL; SQL belongs in a livehelp-store-* crate",
                relative(root, &path)
            )
        })
        .collect()
}

fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for top in ["crates", "xtask"] {
        collect(&root.join(top), &mut files);
    }
    files.sort();
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name == "target") {
                continue;
            }
            collect(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rust_file_has_a_module_doc() {
        assert_eq!(module_docs(&workspace_root()), Vec::<String>::new());
    }

    #[test]
    fn protocol_doc_names_every_frame_and_error_code() {
        assert_eq!(protocol_doc(&workspace_root()), Vec::<String>::new());
    }

    #[test]
    fn crates_depend_only_as_architecture_md_allows() {
        assert_eq!(crate_dependencies(&workspace_root()), Vec::<String>::new());
    }

    #[test]
    fn sql_lives_only_in_store_backends() {
        assert_eq!(sql_only_in_stores(&workspace_root()), Vec::<String>::new());
    }

    #[test]
    fn the_checks_catch_what_they_claim_to() {
        let dir = std::env::temp_dir().join(format!("livehelp-tidy-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("crates/livehelp-domain/src")).expect("dirs");
        fs::create_dir_all(dir.join("docs")).expect("dirs");
        fs::write(
            dir.join("crates/livehelp-domain/src/lib.rs"),
            "pub fn f() -> &'static str { \"SELECT 1\" }\n",
        )
        .expect("write");
        fs::write(
            dir.join("crates/livehelp-domain/Cargo.toml"),
            "[package]\nname = \"livehelp-domain\"\n[dependencies]\nsqlx = \"0.9\"\nlivehelp-app = { path = \"x\" }\n",
        )
        .expect("write");
        fs::write(dir.join("docs/protocol.md"), "nothing here").expect("write");
        assert_eq!(module_docs(&dir).len(), 1);
        assert_eq!(sql_only_in_stores(&dir).len(), 1);
        assert_eq!(crate_dependencies(&dir).len(), 2);
        assert_eq!(
            protocol_doc(&dir).len(),
            ClientFrame::TYPES.len() + ServerFrame::TYPES.len() + ErrorCode::ALL.len()
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
