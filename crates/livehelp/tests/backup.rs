//! Backups, restores and tenant transfer through the real binary (`livehelp backup`,
//! `backup verify`, `restore`, `tenant export`, `tenant import`) on real SQLite data
//! dirs: a round trip restores every table byte for byte, a damaged archive is refused
//! and the target stays empty, a tenant moves to a deployment with other tenants without
//! touching them, and case BR-20. Data is seeded through the application (`App`), as the
//! server would write it; what is restored is checked through the real server's HTTP API.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use livehelp_app::{
    App, AppOptions, NewOperator, NewSite, NewTenant, NewTicket, NewVisitorSession, Principal,
    SiteAccess,
};
use livehelp_bus::InProcessBus;
use livehelp_domain::{BrowserInfo, ConversationId, Role, TenantId};
use livehelp_protocol::rest::TranscriptResponse;
use livehelp_store::archive::EXCLUDED_TABLES;
use livehelp_store::{ArchiveStore, ConversationStore};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::{Value, json};
use uuid::Uuid;

/// Chat lines in several scripts: Hebrew (right to left), Chinese, Arabic, emoji with a
/// skin-tone modifier and a combining accent.
const LINES: [&str; 4] = [
    "שלום, ההזמנה שלי לא הגיעה",
    "你好，我的订单在哪里？",
    "مرحبا، شكرا جزيلا",
    "Merci 🎉👍🏽 — café, cafe\u{301}",
];

const PASSWORD: &str = "correct horse battery staple";

/// A survey comment of an adult visitor: stored, so in every archive.
const ADULT_COMMENT: &str = "Great service 🌟";

/// A survey comment sent with an age under 18: never stored, so in no archive.
const UNDER_18_COMMENT: &str = "UNDER-18-SUBMISSION";

fn livehelp(data_dir: &Path, args: &[&str]) -> (bool, String, String) {
    livehelp_env(data_dir, args, &[])
}

/// Runs `livehelp ARGS --data-dir DATA_DIR` with extra environment variables.
fn livehelp_env(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_livehelp"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(env.iter().copied())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .expect("livehelp runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn must(data_dir: &Path, args: &[&str]) -> String {
    let (ok, out, err) = livehelp(data_dir, args);
    assert!(ok, "livehelp {args:?} failed:\n{out}\n{err}");
    out
}

/// Takes a backup of `data_dir` into `folder` and returns the archive's path.
fn backup(data_dir: &Path, folder: &Path) -> PathBuf {
    let before: Vec<PathBuf> = list(folder);
    must(
        data_dir,
        &["backup", "--to", folder.to_str().expect("utf-8")],
    );
    let after = list(folder);
    let new: Vec<&PathBuf> = after.iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(new.len(), 1, "one new archive in {after:?}");
    new[0].clone()
}

fn list(folder: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(folder)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("livehelp.sqlite3")
}

/// The archive's entries, decompressed: name -> bytes.
fn entries(archive: &Path) -> BTreeMap<String, Vec<u8>> {
    let file = std::fs::File::open(archive).expect("archive");
    let decoder = zstd::Decoder::new(file).expect("zstd");
    let mut tar = tar::Archive::new(decoder);
    let mut out = BTreeMap::new();
    for entry in tar.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        out.insert(name, bytes);
    }
    out
}

fn manifest(archive: &Path) -> Value {
    serde_json::from_slice(&entries(archive)["manifest.json"]).expect("manifest")
}

/// Per table: (rows, sha256) from an archive's manifest. Two archives with the same map
/// hold the same rows, byte for byte.
fn fingerprint(archive: &Path) -> BTreeMap<String, (u64, String)> {
    manifest(archive)["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| {
            (
                p["table"].as_str().expect("table").to_owned(),
                (
                    p["rows"].as_u64().expect("rows"),
                    p["sha256"].as_str().expect("sha").to_owned(),
                ),
            )
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Everything the archive holds, decompressed, as one byte string.
fn all_bytes(archive: &Path) -> Vec<u8> {
    entries(archive).into_values().flatten().collect()
}

/// One seeded tenant.
struct Seeded {
    id: TenantId,
    name: String,
    email: String,
    site_key: String,
    /// Conversations with the texts of their messages, in order.
    conversations: Vec<(ConversationId, Vec<String>)>,
    /// Visitor tokens issued (one per conversation).
    visitor_tokens: Vec<String>,
}

async fn open_app(data_dir: &Path) -> App {
    std::fs::create_dir_all(data_dir).expect("data dir");
    let store = SqliteStore::open(&db_path(data_dir), SqliteOptions::default())
        .await
        .expect("store");
    App::new(
        Arc::new(store),
        Arc::new(InProcessBus::new()),
        AppOptions::default(),
    )
}

/// Seeds a tenant with a site, an admin operator (password [`PASSWORD`]), `chats`
/// finished conversations in several scripts and a ticket.
async fn seed_tenant(data_dir: &Path, name: &str, chats: usize) -> Seeded {
    let app = open_app(data_dir).await;
    let now = time::OffsetDateTime::now_utc();
    let slug: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    let tenant = app
        .create_tenant(NewTenant { name: name.into() }, now)
        .await
        .expect("tenant");
    let site_key = format!("site-{slug}-{}", &Uuid::new_v4().simple().to_string()[..8]);
    app.create_site(
        tenant.id,
        NewSite {
            name: format!("{slug}.example"),
            key: Some(site_key.clone()),
            allowed_origins: Vec::new(),
            privacy_policy_url: None,
        },
        now,
    )
    .await
    .expect("site");
    let email = format!("admin@{slug}.test");
    app.create_operator(
        tenant.id,
        NewOperator {
            email: email.clone(),
            display_name: format!("Admin of {name}"),
            role: Role::Admin,
            password: PASSWORD.into(),
        },
        now,
    )
    .await
    .expect("operator");
    let login = app
        .login(&email, PASSWORD, BrowserInfo::default(), now)
        .await
        .expect("login");
    let operator = login.operator;
    // The tenant's exit survey: an age and a comment.
    let survey = app
        .save_survey(
            &operator,
            None,
            vec![
                livehelp_app::QuestionInput {
                    kind: "age".into(),
                    label: "Your age".into(),
                    required: true,
                    options: Vec::new(),
                },
                livehelp_app::QuestionInput {
                    kind: "free_text".into(),
                    label: "Anything to add? 有什么建议吗？".into(),
                    required: false,
                    options: Vec::new(),
                },
            ],
            now,
        )
        .await
        .expect("survey");
    let access = SiteAccess {
        origin: None,
        secure: false,
    };
    let mut conversations = Vec::new();
    let mut visitor_tokens = Vec::new();
    for chat in 0..chats {
        let issued = app
            .create_visitor_session(
                &site_key,
                &access,
                NewVisitorSession {
                    name: Some(format!("דנה {chat}")),
                    page_url: None,
                    page_title: None,
                },
                BrowserInfo::default(),
                now,
            )
            .await
            .expect("visitor session");
        let visitor = app
            .authenticate_visitor(&issued.token)
            .await
            .expect("visitor");
        let opened = app
            .start_chat(&visitor, Uuid::new_v4(), None, None, now)
            .await
            .expect("start chat");
        let conversation = opened.conversation.id;
        app.accept(&operator, conversation, Uuid::new_v4(), now)
            .await
            .expect("accept");
        let mut texts = Vec::new();
        for (i, line) in LINES.iter().enumerate() {
            let text = format!("{line} #{chat}");
            let principal = if i % 2 == 0 {
                Principal::Visitor(visitor.clone())
            } else {
                Principal::Operator(operator.clone())
            };
            app.send_message(&principal, conversation, Uuid::new_v4(), text.clone(), now)
                .await
                .expect("message");
            texts.push(text);
        }
        app.end_chat(
            &Principal::Operator(operator.clone()),
            conversation,
            Uuid::new_v4(),
            now,
        )
        .await
        .expect("end");
        // The first visitor answers the survey as an adult; the second states an age
        // under 18, which refuses the whole submission (nothing of it is stored).
        if chat < 2 {
            let (age, comment) = if chat == 0 {
                (34.0, format!("{ADULT_COMMENT} {slug}"))
            } else {
                (15.0, format!("{UNDER_18_COMMENT} {slug}"))
            };
            let answers = BTreeMap::from([
                (
                    survey.questions[0].id.to_string(),
                    livehelp_domain::survey::RawAnswer::Number(age),
                ),
                (
                    survey.questions[1].id.to_string(),
                    livehelp_domain::survey::RawAnswer::Text(comment),
                ),
            ]);
            let submitted = app
                .submit_survey(
                    &visitor,
                    conversation,
                    livehelp_app::SurveySubmission {
                        conversation_id: Some(conversation),
                        survey_id: Some(survey.id),
                        answers,
                    },
                    now,
                )
                .await;
            assert_eq!(
                submitted.is_ok(),
                chat == 0,
                "adult kept, under 18 refused: {submitted:?}"
            );
        }
        conversations.push((conversation, texts));
        visitor_tokens.push(issued.token);
    }
    app.create_ticket(
        &site_key,
        &access,
        NewTicket {
            name: Some("王小明".into()),
            email: format!("customer@{slug}.test"),
            message: "לא הצלחתי להתחבר — 请回电 📞".into(),
        },
        now,
    )
    .await
    .expect("ticket");
    app.close().await;
    Seeded {
        id: tenant.id,
        name: name.into(),
        email,
        site_key,
        conversations,
        visitor_tokens,
    }
}

/// A `livehelp serve` child on a free port.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data_dir: &Path) -> Server {
    serve_with(data_dir, &[])
}

fn serve_with(data_dir: &Path, extra: &[&str]) -> Server {
    serve_with_env(data_dir, extra, &[])
}

fn serve_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_livehelp"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(data_dir)
        .args(extra)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("livehelp starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("livehelp exited before it was ready")
            .expect("log line");
        let Ok(entry) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if entry["fields"]["message"] == "livehelp is ready" {
            break entry["fields"]["address"]
                .as_str()
                .expect("address")
                .to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        base: format!("http://{address}"),
    }
}

/// Logs in through the HTTP API and returns a client holding the session cookie.
async fn operator_client(base: &str, email: &str) -> reqwest::Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let response = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200, "{email} logs in");
    http
}

async fn transcript(
    http: &reqwest::Client,
    base: &str,
    conversation: ConversationId,
) -> Option<Vec<(i64, String)>> {
    let response = http
        .get(format!(
            "{base}/api/v1/conversations/{conversation}/transcript"
        ))
        .send()
        .await
        .expect("transcript");
    if response.status() == 404 {
        return None;
    }
    assert_eq!(response.status(), 200);
    let body: TranscriptResponse = response.json().await.expect("json");
    Some(body.messages.into_iter().map(|m| (m.seq, m.text)).collect())
}

/// Checks that every conversation of `tenant` reads back through the server with its
/// messages in the seeded order and seq 1..n without gaps.
async fn assert_transcripts(base: &str, tenant: &Seeded) {
    let http = operator_client(base, &tenant.email).await;
    for (conversation, texts) in &tenant.conversations {
        let messages = transcript(&http, base, *conversation)
            .await
            .expect("conversation restored");
        let seqs: Vec<i64> = messages.iter().map(|(seq, _)| *seq).collect();
        let expected: Vec<i64> = (1..=messages.len() as i64).collect();
        assert_eq!(seqs, expected, "seq 1..n in order");
        let chat_lines: Vec<&String> = messages
            .iter()
            .map(|(_, text)| text)
            .filter(|text| texts.contains(text))
            .collect();
        let wanted: Vec<&String> = texts.iter().collect();
        assert_eq!(chat_lines, wanted, "same texts, same order, byte for byte");
    }
}

async fn visitor_recognised(base: &str, token: &str) -> bool {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/visitor-session"))
        .bearer_auth(token)
        .send()
        .await
        .expect("visitor session");
    response.status() == 200
}

fn export_tenant(
    data_dir: &Path,
    tenant: TenantId,
    file: &Path,
) -> BTreeMap<String, (u64, String)> {
    must(
        data_dir,
        &[
            "tenant",
            "export",
            &tenant.to_string(),
            "--to",
            file.to_str().expect("utf-8"),
        ],
    );
    fingerprint(file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_round_trip_every_table_byte_for_byte() {
    let temp = tempfile::tempdir().expect("temp");
    let source = temp.path().join("source");
    let first = seed_tenant(&source, "Shalom Books שלום", 3).await;
    let second = seed_tenant(&source, "茶馆 Tea House", 2).await;

    let archive = backup(&source, &temp.path().join("backups"));
    let out = must(
        &source,
        &["backup", "verify", archive.to_str().expect("utf-8")],
    );
    assert!(out.contains("is intact"), "{out}");

    // Every table of the database is in the archive unless explicitly excluded.
    let store = SqliteStore::open(&db_path(&source), SqliteOptions::default())
        .await
        .expect("store");
    let archived = fingerprint(&archive);
    for table in store.all_table_names().await.expect("tables") {
        assert!(
            archived.contains_key(&table) || EXCLUDED_TABLES.contains(&table.as_str()),
            "table {table} is neither archived nor excluded"
        );
    }
    store.close().await;
    for table in [
        "tenants",
        "operators",
        "conversations",
        "messages",
        "tickets",
    ] {
        assert!(archived[table].0 > 0, "{table} has rows in the archive");
    }
    let bytes = all_bytes(&archive);
    for line in LINES {
        assert!(contains(&bytes, line), "{line} is in the archive as UTF-8");
    }
    assert!(archived["survey_responses"].0 > 0);
    assert!(
        contains(&bytes, ADULT_COMMENT),
        "an adult's survey answers are archived"
    );
    assert!(
        !contains(&bytes, UNDER_18_COMMENT),
        "under-18 submissions are in no archive"
    );

    let restored = temp.path().join("restored");
    let out = must(
        &restored,
        &["restore", "--from", archive.to_str().expect("utf-8")],
    );
    assert!(out.contains("restored whole platform"), "{out}");

    // A backup of the restored deployment holds exactly the same rows.
    let again = backup(&restored, &temp.path().join("backups-again"));
    assert_eq!(
        fingerprint(&again),
        archived,
        "every table equal, byte for byte"
    );

    // And the restored deployment serves them: logins, transcripts, visitor tokens.
    let server = serve(&restored);
    assert_transcripts(&server.base, &first).await;
    assert_transcripts(&server.base, &second).await;
    assert!(visitor_recognised(&server.base, &first.visitor_tokens[0]).await);
    drop(server);

    // A second restore into the now non-empty deployment is refused.
    let (ok, _, err) = livehelp(
        &restored,
        &["restore", "--from", archive.to_str().expect("utf-8")],
    );
    assert!(!ok);
    assert!(err.contains("not empty"), "{err}");
}

fn flip_one_byte(from: &Path, to: &Path) {
    let mut bytes = std::fs::read(from).expect("archive");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(to, bytes).expect("write");
}

fn truncate(from: &Path, to: &Path) {
    let bytes = std::fs::read(from).expect("archive");
    std::fs::write(to, &bytes[..bytes.len() * 2 / 3]).expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_or_truncated_archives_are_refused_and_the_target_stays_empty() {
    let temp = tempfile::tempdir().expect("temp");
    let source = temp.path().join("source");
    seed_tenant(&source, "Broken Archive Co", 4).await;
    let archive = backup(&source, &temp.path().join("backups"));
    let flipped = temp.path().join("flipped.tar.zst");
    let cut = temp.path().join("truncated.tar.zst");
    flip_one_byte(&archive, &flipped);
    truncate(&archive, &cut);
    for bad in [&flipped, &cut] {
        let path = bad.to_str().expect("utf-8");
        let (ok, _, err) = livehelp(&source, &["backup", "verify", path]);
        assert!(!ok, "verify refuses {path}");
        assert!(
            err.contains("corrupt or truncated"),
            "a clear error for {path}: {err}"
        );
        let target = temp.path().join("target");
        let (ok, _, err) = livehelp(&target, &["restore", "--from", path]);
        assert!(!ok, "restore refuses {path}");
        assert!(err.contains("corrupt or truncated"), "{err}");
        assert!(!db_path(&target).exists(), "nothing was written for {path}");
    }
    // The intact archive still restores.
    must(
        &temp.path().join("target"),
        &["restore", "--from", archive.to_str().expect("utf-8")],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_moves_to_another_deployment_without_touching_its_tenants() {
    let temp = tempfile::tempdir().expect("temp");
    let x = temp.path().join("x");
    let y = temp.path().join("y");
    let moving = seed_tenant(&x, "Moving Shop מעבר", 2).await;
    let staying = seed_tenant(&x, "Staying Shop", 1).await;
    let resident = seed_tenant(&y, "Resident of Y", 2).await;

    let file = temp.path().join("moving.tar.zst");
    let exported = export_tenant(&x, moving.id, &file);
    let bytes = all_bytes(&file);
    assert!(contains(&bytes, &moving.name));
    assert!(contains(&bytes, ADULT_COMMENT));
    assert!(
        !contains(&bytes, UNDER_18_COMMENT),
        "under-18 submissions are in no archive"
    );
    assert!(
        !contains(&bytes, &staying.name),
        "another tenant's data is not exported"
    );
    assert!(!contains(&bytes, &staying.id.to_string()));
    assert!(
        !contains(&bytes, "platform_admins"),
        "platform tables stay out"
    );

    let resident_before = export_tenant(&y, resident.id, &temp.path().join("r1.tar.zst"));
    let out = must(&y, &["tenant", "import", file.to_str().expect("utf-8")]);
    assert!(out.contains("imported tenant"), "{out}");
    let resident_after = export_tenant(&y, resident.id, &temp.path().join("r2.tar.zst"));
    assert_eq!(
        resident_before, resident_after,
        "Y's own tenant is unchanged"
    );
    let arrived = export_tenant(&y, moving.id, &temp.path().join("m.tar.zst"));
    assert_eq!(arrived, exported, "the tenant arrived whole");

    // Importing it again clashes on ids, the site key and the operator email: refused,
    // every clash listed, nothing changed.
    let (ok, _, err) = livehelp(&y, &["tenant", "import", file.to_str().expect("utf-8")]);
    assert!(!ok);
    assert!(err.contains("clash"), "{err}");
    assert!(
        err.contains(&moving.site_key) || err.contains("sites"),
        "{err}"
    );
    assert!(err.contains("operators"), "{err}");
    let resident_again = export_tenant(&y, resident.id, &temp.path().join("r3.tar.zst"));
    assert_eq!(resident_before, resident_again);
    let moving_again = export_tenant(&y, moving.id, &temp.path().join("m2.tar.zst"));
    assert_eq!(moving_again, exported);

    // A platform archive is not a tenant archive.
    let platform = backup(&x, &temp.path().join("backups"));
    let (ok, _, err) = livehelp(&y, &["tenant", "import", platform.to_str().expect("utf-8")]);
    assert!(!ok);
    assert!(err.contains("platform archive"), "{err}");

    // The moved operators log in on Y and read their transcripts; Y's own still work.
    let server = serve(&y);
    assert_transcripts(&server.base, &moving).await;
    assert_transcripts(&server.base, &resident).await;
    let http = operator_client(&server.base, &moving.email).await;
    assert!(
        transcript(&http, &server.base, resident.conversations[0].0)
            .await
            .is_none(),
        "the moved tenant cannot see Y's tenant"
    );
}

/// Case BR-20 (shared/cases/README.md): backup, wipe, restore; a T1-only restore into an
/// instance where T2 is live leaves T2 alone; a truncated archive fails loudly. livehelp
/// has no chat attachments yet, so there are none to check (docs/operations.md says so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn br_20_restore_loses_chat_attachments() {
    let temp = tempfile::tempdir().expect("temp");
    let live = temp.path().join("live");
    let t1 = seed_tenant(&live, "T1 Bakery", 4).await;
    let t2 = seed_tenant(&live, "T2 Florist", 4).await;
    let t1_file = temp.path().join("t1.tar.zst");
    let t2_file = temp.path().join("t2.tar.zst");
    let t1_counts = export_tenant(&live, t1.id, &t1_file);
    let t2_counts = export_tenant(&live, t2.id, &t2_file);

    // 1. A backup taken while the server serves.
    let server = serve(&live);
    let archive = backup(&live, &temp.path().join("backups"));
    drop(server);
    // 2. One more chat after the backup.
    let late = seed_tenant(&live, "T3 Late Arrival", 1).await;
    // 3. Wipe the data dir and restore into a fresh instance.
    std::fs::remove_dir_all(&live).expect("wipe");
    must(
        &live,
        &["restore", "--from", archive.to_str().expect("utf-8")],
    );
    assert_eq!(
        export_tenant(&live, t1.id, &temp.path().join("t1-after.tar.zst")),
        t1_counts,
        "T1's rows match the backup"
    );
    assert_eq!(
        export_tenant(&live, t2.id, &temp.path().join("t2-after.tar.zst")),
        t2_counts,
        "T2's rows match the backup"
    );
    let server = serve(&live);
    assert_transcripts(&server.base, &t1).await;
    assert_transcripts(&server.base, &t2).await;
    for token in t1.visitor_tokens.iter().chain(&t2.visitor_tokens) {
        assert!(
            visitor_recognised(&server.base, token).await,
            "visitor tokens issued before the backup are recognised"
        );
    }
    assert!(
        !visitor_recognised(&server.base, &late.visitor_tokens[0]).await,
        "the visitor who came after the backup is unknown"
    );
    let login = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": late.email, "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(
        login.status(),
        401,
        "the tenant created after the backup is absent"
    );
    drop(server);

    // 4. A T1-only restore into an instance where T2 is live.
    let other = temp.path().join("other");
    must(
        &other,
        &["tenant", "import", t2_file.to_str().expect("utf-8")],
    );
    let t2_before = export_tenant(&other, t2.id, &temp.path().join("o-t2a.tar.zst"));
    let t1_bytes = all_bytes(&t1_file);
    assert!(
        !contains(&t1_bytes, &t2.name),
        "the T1 archive exposes nothing of T2"
    );
    assert!(!contains(&t1_bytes, &t2.id.to_string()));
    must(
        &other,
        &["tenant", "import", t1_file.to_str().expect("utf-8")],
    );
    assert_eq!(
        export_tenant(&other, t2.id, &temp.path().join("o-t2b.tar.zst")),
        t2_before,
        "T2 untouched"
    );
    let server = serve(&other);
    assert_transcripts(&server.base, &t1).await;
    assert_transcripts(&server.base, &t2).await;
    let t1_http = operator_client(&server.base, &t1.email).await;
    assert!(
        transcript(&t1_http, &server.base, t2.conversations[0].0)
            .await
            .is_none(),
        "T1's operators do not see T2"
    );
    drop(server);

    // 5. A truncated archive fails loudly and leaves the data intact. (The reads above
    // were audited, so take the reference now.)
    let t1_now = export_tenant(&other, t1.id, &temp.path().join("o-t1n.tar.zst"));
    let t2_now = export_tenant(&other, t2.id, &temp.path().join("o-t2n.tar.zst"));
    let cut = temp.path().join("cut.tar.zst");
    truncate(&archive, &cut);
    let (ok, _, err) = livehelp(&other, &["restore", "--from", cut.to_str().expect("utf-8")]);
    assert!(!ok && err.contains("corrupt or truncated"), "{err}");
    let cut_tenant = temp.path().join("cut-t1.tar.zst");
    truncate(&t1_file, &cut_tenant);
    let (ok, _, err) = livehelp(
        &other,
        &["tenant", "import", cut_tenant.to_str().expect("utf-8")],
    );
    assert!(!ok && err.contains("corrupt or truncated"), "{err}");
    assert_eq!(
        export_tenant(&other, t2.id, &temp.path().join("o-t2c.tar.zst")),
        t2_now
    );
    assert_eq!(
        export_tenant(&other, t1.id, &temp.path().join("o-t1c.tar.zst")),
        t1_now
    );
}

/// Every table's rows as parsed JSON, for comparing archives written by different
/// backends (PostgreSQL's `jsonb` stores JSON documents in its own key order, so the
/// bytes of JSON columns differ while the values are equal).
fn rows_by_table(archive: &Path) -> BTreeMap<String, Vec<BTreeMap<String, Value>>> {
    let entries = entries(archive);
    let manifest: Value = serde_json::from_slice(&entries["manifest.json"]).expect("manifest");
    let mut out = BTreeMap::new();
    for part in manifest["parts"].as_array().expect("parts") {
        let bytes = &entries[part["path"].as_str().expect("path")];
        // Rows in a canonical key order, sorted (the backends order some columns
        // differently: SQLite rebuilt tables in later migrations).
        let mut rows: Vec<BTreeMap<String, Value>> = bytes
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).expect("row"))
            .collect();
        rows.sort_by_key(|row| serde_json::to_string(row).expect("json"));
        out.insert(part["table"].as_str().expect("table").to_owned(), rows);
    }
    out
}

/// Per table, column name -> logical type.
fn column_types(archive: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    manifest(archive)["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| {
            let columns = p["columns"]
                .as_array()
                .expect("columns")
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().expect("name").to_owned(),
                        c["type"].as_str().expect("type").to_owned(),
                    )
                })
                .collect();
            (p["table"].as_str().expect("table").to_owned(), columns)
        })
        .collect()
}

/// Issue 9's move from SQLite to PostgreSQL: a backup of a SQLite deployment restores
/// into an empty PostgreSQL database, every row equal, and the server on PostgreSQL
/// serves the same transcripts and logins. Runs when `LIVEHELP_TEST_POSTGRES_URL` is set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_deployment_moves_to_postgresql_through_an_archive() {
    let Ok(server_url) = std::env::var("LIVEHELP_TEST_POSTGRES_URL") else {
        eprintln!(
            "LIVEHELP_TEST_POSTGRES_URL is not set: the SQLite to PostgreSQL move is not tested here"
        );
        return;
    };
    use sqlx::{Connection, Executor};
    let mut admin = sqlx::PgConnection::connect(&server_url)
        .await
        .unwrap_or_else(|e| {
            panic!("LIVEHELP_TEST_POSTGRES_URL is set but PostgreSQL does not answer: {e}")
        });
    let database = format!("lh_backup_{}", Uuid::new_v4().simple());
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .await
        .expect("create database");
    let (scheme, rest) = server_url.split_once("://").expect("url");
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    let pg_url = format!("{scheme}://{authority}/{database}");

    let temp = tempfile::tempdir().expect("temp");
    let sqlite = temp.path().join("sqlite");
    let first = seed_tenant(&sqlite, "Shalom Books שלום", 3).await;
    let second = seed_tenant(&sqlite, "茶馆 Tea House", 2).await;
    let archive = backup(&sqlite, &temp.path().join("from-sqlite"));

    // The binary restores into PostgreSQL (the data dir is not used for the database).
    let pg_dir = temp.path().join("pg");
    let out = must(
        &pg_dir,
        &[
            "restore",
            "--from",
            archive.to_str().expect("utf-8"),
            "--database-url",
            &pg_url,
        ],
    );
    assert!(out.contains("restored whole platform"), "{out}");

    // A backup of the PostgreSQL deployment holds the same rows with the same logical
    // column types.
    let folder = temp.path().join("from-postgres");
    must(
        &pg_dir,
        &[
            "backup",
            "--to",
            folder.to_str().expect("utf-8"),
            "--database-url",
            &pg_url,
        ],
    );
    let pg_archive = list(&folder).pop().expect("archive");
    assert_eq!(
        column_types(&pg_archive),
        column_types(&archive),
        "the same logical schema"
    );
    assert_eq!(
        rows_by_table(&pg_archive),
        rows_by_table(&archive),
        "every row equal"
    );

    // The server on PostgreSQL serves the moved transcripts and logins.
    let server = serve_with(&pg_dir, &["--database-url", &pg_url]);
    assert_transcripts(&server.base, &first).await;
    assert_transcripts(&server.base, &second).await;
    assert!(visitor_recognised(&server.base, &second.visitor_tokens[0]).await);
    drop(server);

    // A restore into the now non-empty PostgreSQL database is refused.
    let (ok, _, err) = livehelp(
        &pg_dir,
        &[
            "restore",
            "--from",
            archive.to_str().expect("utf-8"),
            "--database-url",
            &pg_url,
        ],
    );
    assert!(!ok && err.contains("not empty"), "{err}");
    let _ = admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
        )))
        .await;
}

async fn metric(base: &str, name: &str) -> f64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} on /metrics:\n{text}"))
}

fn archives_in(folder: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = list(folder)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tar.zst"))
        .collect();
    found.sort();
    found
}

/// `serve --backup-to DIR --backup-keep 2` (on a one-second test interval instead of
/// `--backup-daily-at`): backups land while the server serves, only the newest two are
/// kept, each one verifies, and /metrics shows the last success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_keep_the_newest_and_report_on_metrics() {
    let temp = tempfile::tempdir().expect("temp");
    let live = temp.path().join("live");
    let tenant = seed_tenant(&live, "Scheduled Co", 2).await;
    let folder = temp.path().join("scheduled");
    let server = serve_with(
        &live,
        &[
            "--backup-to",
            folder.to_str().expect("utf-8"),
            "--backup-every-seconds",
            "1",
            "--backup-keep",
            "2",
        ],
    );
    // Wait (bounded) until the first archive seen has been pruned by newer ones.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut first: Option<PathBuf> = None;
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "backups rotate within 60 s"
        );
        let now = archives_in(&folder);
        assert!(now.len() <= 2, "at most 2 kept: {now:?}");
        match &first {
            None => first = now.first().cloned(),
            Some(oldest) if !now.contains(oldest) && now.len() == 2 => break,
            Some(_) => {}
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let last = metric(
        &server.base,
        "livehelp_backup_last_success_timestamp_seconds",
    )
    .await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    assert!(
        last > now - 30.0 && last <= now + 1.0,
        "last success {last} is recent"
    );
    assert_eq!(
        metric(&server.base, "livehelp_backup_failures_total").await,
        0.0
    );
    drop(server);
    for archive in archives_in(&folder) {
        let out = must(
            &live,
            &["backup", "verify", archive.to_str().expect("utf-8")],
        );
        assert!(out.contains("is intact"), "{out}");
        assert_eq!(
            fingerprint(&archive)["messages"].0,
            tenant.conversations.len() as u64 * 7
        );
    }

    // A destination that cannot be written: retried, then counted as a failure.
    let blocker = temp.path().join("not-a-folder");
    std::fs::write(&blocker, "a file").expect("file");
    let server = serve_with(
        &live,
        &[
            "--backup-to",
            blocker.join("sub").to_str().expect("utf-8"),
            "--backup-every-seconds",
            "1",
        ],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while metric(&server.base, "livehelp_backup_failures_total").await < 1.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the failure is reported"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(
        metric(
            &server.base,
            "livehelp_backup_last_success_timestamp_seconds"
        )
        .await,
        0.0
    );
}

/// The AWS environment variables pointing `livehelp` at the S3-compatible server at
/// `endpoint` (moto accepts any credentials).
fn s3_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "livehelp-test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "livehelp-test-secret".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
    ]
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The keys under `prefix/` in `bucket`, sorted (S3 ListObjectsV2, read without a client
/// library so the test does not share livehelp's code).
async fn s3_keys(endpoint: &str, bucket: &str, prefix: &str) -> Vec<String> {
    let response = reqwest::get(format!("{endpoint}/{bucket}?list-type=2&prefix={prefix}/"))
        .await
        .expect("list bucket");
    assert_eq!(response.status(), 200, "the bucket lists");
    let body = response.text().await.expect("list body");
    let mut keys: Vec<String> = body
        .split("<Key>")
        .filter_map(|part| part.split_once("</Key>").map(|(key, _)| key.to_owned()))
        .collect();
    keys.sort();
    keys
}

/// Off-site backups to a real S3-compatible server (moto, started by
/// tests/s3/start-moto.sh; `LIVEHELP_TEST_S3_URL`): `serve --backup-to s3://BUCKET/PREFIX
/// --backup-keep 2` uploads while serving and keeps only the newest two; an uploaded
/// archive verifies and restores (read straight from the bucket) into a fresh deployment
/// that serves the transcripts; `backup --to s3://...` uploads once; an unreachable store
/// fails with a clear error and is counted on /metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_site_backups_go_to_an_s3_compatible_store_and_keep_the_newest() {
    let Ok(endpoint) = std::env::var("LIVEHELP_TEST_S3_URL") else {
        eprintln!(
            "LIVEHELP_TEST_S3_URL is not set: off-site (S3) backups are not tested here (start one with tests/s3/start-moto.sh)"
        );
        return;
    };
    let endpoint = endpoint.trim_end_matches('/').to_owned();
    let bucket = format!("lh-{}", Uuid::new_v4().simple());
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!("LIVEHELP_TEST_S3_URL is set but the S3 server does not answer: {e}")
        });
    assert!(created.status().is_success(), "bucket created: {created:?}");
    let env = s3_env(&endpoint);
    let env = env_refs(&env);

    let temp = tempfile::tempdir().expect("temp");
    let live = temp.path().join("live");
    let tenant = seed_tenant(&live, "Off-site Co אוף", 2).await;
    let dest = format!("s3://{bucket}/nightly");
    let server = serve_with_env(
        &live,
        &[
            "--backup-to",
            &dest,
            "--backup-every-seconds",
            "1",
            "--backup-keep",
            "2",
        ],
        &env,
    );
    // Wait (bounded) until at least three backups were uploaded and a listing shows
    // exactly the newest two of them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let mut seen: Vec<String> = Vec::new();
    let kept = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "three backups upload and rotate within 90 s; seen {seen:?}"
        );
        let now = s3_keys(&endpoint, &bucket, "nightly").await;
        for key in &now {
            assert!(
                key.starts_with("nightly/livehelp-backup-") && key.ends_with(".tar.zst"),
                "{key} is a dated archive under the prefix"
            );
            if !seen.contains(key) {
                seen.push(key.clone());
            }
        }
        seen.sort();
        if seen.len() >= 3 && now.len() == 2 && now[..] == seen[seen.len() - 2..] {
            break now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(!kept.contains(&seen[0]), "the oldest was deleted");
    let last = metric(
        &server.base,
        "livehelp_backup_last_success_timestamp_seconds",
    )
    .await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    assert!(
        last > now - 30.0 && last <= now + 1.0,
        "last success {last} is recent"
    );
    assert_eq!(
        metric(&server.base, "livehelp_backup_failures_total").await,
        0.0
    );
    drop(server);

    // An uploaded archive, fetched with a plain HTTP GET, is a complete archive.
    let newest = kept.last().expect("newest").clone();
    let body = reqwest::get(format!("{endpoint}/{bucket}/{newest}"))
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    let downloaded = temp.path().join("downloaded.tar.zst");
    std::fs::write(&downloaded, &body).expect("write");
    assert_eq!(
        fingerprint(&downloaded)["messages"].0,
        tenant.conversations.len() as u64 * 7
    );
    let out = must(
        &live,
        &["backup", "verify", downloaded.to_str().expect("utf-8")],
    );
    assert!(out.contains("is intact"), "{out}");

    // verify and restore read straight from the bucket.
    let url = format!("s3://{bucket}/{newest}");
    let (ok, out, err) = livehelp_env(&live, &["backup", "verify", &url], &env);
    assert!(ok && out.contains("is intact"), "{out}\n{err}");
    let restored = temp.path().join("restored");
    let (ok, out, err) = livehelp_env(&restored, &["restore", "--from", &url], &env);
    assert!(
        ok && out.contains("restored whole platform"),
        "{out}\n{err}"
    );
    let server = serve(&restored);
    assert_transcripts(&server.base, &tenant).await;
    drop(server);

    // One backup by hand.
    let (ok, out, err) = livehelp_env(
        &live,
        &["backup", "--to", &format!("s3://{bucket}/manual/")],
        &env,
    );
    assert!(ok, "{out}\n{err}");
    let manual = s3_keys(&endpoint, &bucket, "manual").await;
    assert_eq!(manual.len(), 1, "{manual:?}");
    assert!(
        out.contains(&format!("backup uploaded to s3://{bucket}/{}", manual[0])),
        "{out}"
    );

    // A store that does not answer: a clear error, and on the schedule a counted failure.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let unreachable = s3_env(&format!("http://127.0.0.1:{closed_port}"));
    let unreachable = env_refs(&unreachable);
    let (ok, out, err) = livehelp_env(
        &live,
        &["backup", "--to", &format!("s3://{bucket}/nowhere")],
        &unreachable,
    );
    assert!(!ok, "{out}");
    assert!(
        err.contains(&format!(
            "cannot upload the backup to s3://{bucket}/nowhere"
        )),
        "{err}"
    );
    let server = serve_with_env(
        &live,
        &[
            "--backup-to",
            &format!("s3://{bucket}/nowhere"),
            "--backup-every-seconds",
            "1",
        ],
        &unreachable,
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while metric(&server.base, "livehelp_backup_failures_total").await < 1.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the failed upload is reported"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(
        metric(
            &server.base,
            "livehelp_backup_last_success_timestamp_seconds"
        )
        .await,
        0.0
    );
    drop(server);
    assert!(
        s3_keys(&endpoint, &bucket, "nowhere").await.is_empty(),
        "nothing reached the real store under that prefix"
    );
}

/// A backup of a data dir that holds no database (a mistyped `--data-dir`) is refused:
/// it would otherwise create an empty database there and report an empty archive as a
/// success, night after night.
#[test]
fn a_backup_of_a_missing_database_is_refused() {
    let temp = tempfile::tempdir().expect("temp dir");
    let missing = temp.path().join("no-such-deployment");
    let folder = temp.path().join("backups");
    let (ok, _, err) = livehelp(
        &missing,
        &["backup", "--to", folder.to_str().expect("utf-8")],
    );
    assert!(!ok, "a backup of nothing must fail");
    assert!(err.contains("no livehelp database"), "{err}");
    assert!(!db_path(&missing).exists(), "no database was created");
    assert!(list(&folder).is_empty(), "no archive was written");
}
