//! `serve --demo`: makes sure a demo tenant exists (tenant "Demo Company", site key
//! `demo-site-key`, operator `demo@example.test`) and says how to log in. The random
//! password is printed at creation and kept in `<data_dir>/demo-login.txt` (mode 0600) so
//! later starts can print it again; nothing else stores it in clear.

use std::path::{Path, PathBuf};

use anyhow::Context;
use livehelp_app::{App, NewOperator, NewSite, NewTenant, random_token};
use livehelp_domain::Role;

/// The demo site's public key.
pub const SITE_KEY: &str = "demo-site-key";
/// The demo operator's login.
pub const EMAIL: &str = "demo@example.test";

/// What to print about the demo.
pub struct DemoLogin {
    password: Option<String>,
    credentials_file: PathBuf,
}

impl DemoLogin {
    /// The lines printed when the server is ready.
    pub fn banner(&self, base: &str) -> String {
        let password = self.password.clone().unwrap_or_else(|| {
            format!(
                "(unknown: {} is missing; delete the data dir to start over)",
                self.credentials_file.display()
            )
        });
        format!(
            "\nlivehelp demo is ready\n\
             \x20 shop with the chat widget:  {base}/demo/\n\
             \x20 operator console:          {base}/console/\n\
             \x20 operator login:            {EMAIL}  /  {password}\n\
             \x20 demo site key:             {SITE_KEY}\n\
             \x20 protocol for other clients: docs/protocol.md\n"
        )
    }
}

/// Creates the demo tenant if absent and returns its login.
pub async fn ensure(app: &App, data_dir: &Path) -> anyhow::Result<DemoLogin> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let credentials_file = data_dir.join("demo-login.txt");
    if app.find_site(SITE_KEY).await?.is_some() {
        let password = std::fs::read_to_string(&credentials_file)
            .ok()
            .map(|text| text.trim().to_owned());
        return Ok(DemoLogin {
            password,
            credentials_file,
        });
    }
    let now = time::OffsetDateTime::now_utc();
    let tenant = app
        .create_tenant(
            NewTenant {
                name: "Demo Company".into(),
            },
            now,
        )
        .await?;
    app.create_site(
        tenant.id,
        NewSite {
            name: "demo.localhost".into(),
            key: Some(SITE_KEY.into()),
            allowed_origins: Vec::new(),
            privacy_policy_url: Some("https://example.com/privacy".into()),
        },
        now,
    )
    .await?;
    let password = random_token()[..20].to_owned();
    app.create_operator(
        tenant.id,
        NewOperator {
            email: EMAIL.into(),
            display_name: "Dana (demo)".into(),
            role: Role::Admin,
            password: password.clone(),
        },
        now,
    )
    .await?;
    write_private(&credentials_file, &password)?;
    Ok(DemoLogin {
        password: Some(password),
        credentials_file,
    })
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(file, "{contents}").with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
