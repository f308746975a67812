//! The account commands for the platform's staff, run on the server against its
//! database: `livehelp tenant create|list|suspend|reactivate`,
//! `livehelp operator add|list|set-role|reset-password|disable|enable`,
//! `livehelp admin create`. They share `serve`'s configuration (`--data-dir`,
//! `--database-url`, ...), and every change lands in the tenant's audit log as `cli`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use livehelp_app::{
    App, AppOptions, NewOperator, NewSite, NewTenant, OperatorChanges, check_password_policy,
    random_token,
};
use livehelp_bus::InProcessBus;
use livehelp_domain::{Role, TenantId, TenantStatus};
use time::OffsetDateTime;

use crate::config::Config;

/// `livehelp tenant ...`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant with its first site and (optionally) its first admin.
    Create {
        /// The business's name.
        #[arg(long)]
        name: String,
        /// Display name of its first site (e.g. its domain).
        #[arg(long)]
        site: String,
        /// Allowed origin of the site (repeatable), e.g. `https://shop.example.com`.
        #[arg(long = "origin")]
        origins: Vec<String>,
        /// Email of a first admin operator; prints a one-time link to set the password.
        #[arg(long)]
        admin_email: Option<String>,
    },
    /// List tenants.
    List,
    /// Suspend a tenant: its widget shows "chat unavailable", its operators cannot log in.
    Suspend {
        /// Tenant id.
        id: String,
    },
    /// Lift a suspension.
    Reactivate {
        /// Tenant id.
        id: String,
    },
    /// Write one tenant's data (sites, operators, conversations, transcripts, surveys,
    /// tickets, ...) to an archive file, for a move to another deployment (M17).
    Export {
        /// Tenant id.
        id: String,
        /// The archive file to write (`.tar.zst`).
        #[arg(long)]
        to: PathBuf,
    },
    /// Add a tenant from an archive written by `tenant export` (on this or another
    /// deployment). Other tenants are not touched; if any id, site key or operator email
    /// of the archive already exists here, nothing is imported and every clash is listed.
    Import {
        /// The archive file.
        file: PathBuf,
    },
}

/// `livehelp operator ...`
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Add an operator; prints a one-time link to set the password.
    Add {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Login email.
        #[arg(long)]
        email: String,
        /// Name shown to visitors.
        #[arg(long)]
        name: String,
        /// admin, supervisor or operator.
        #[arg(long, default_value = "operator")]
        role: String,
    },
    /// List a tenant's operators.
    List {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
    },
    /// Change an operator's role.
    SetRole {
        /// Login email.
        email: String,
        /// admin, supervisor or operator.
        role: String,
    },
    /// Issue a one-time password-reset link (valid 24 hours).
    ResetPassword {
        /// Login email.
        email: String,
    },
    /// Disable an operator (ends all their sessions).
    Disable {
        /// Login email.
        email: String,
    },
    /// Re-enable a disabled operator.
    Enable {
        /// Login email.
        email: String,
    },
}

/// `livehelp admin ...`
#[derive(Debug, Subcommand)]
pub enum PlatformAdminCommand {
    /// Create a platform admin (the hosting company's staff). The password is read from
    /// LIVEHELP_ADMIN_PASSWORD, never from the command line (it would show in `ps`).
    Create {
        /// Login email.
        #[arg(long)]
        email: String,
    },
}

pub(crate) async fn app(config: &Config) -> anyhow::Result<App> {
    let store = crate::backends::open_store(config).await?;
    Ok(App::new(
        store,
        Arc::new(InProcessBus::new()),
        AppOptions::default(),
    ))
}

fn tenant_id(id: &str) -> anyhow::Result<TenantId> {
    id.parse()
        .with_context(|| format!("{id:?} is not a tenant id (see `livehelp tenant list`)"))
}

fn role(name: &str) -> anyhow::Result<Role> {
    Role::parse(name)
        .with_context(|| format!("{name:?} is not a role: use admin, supervisor or operator"))
}

/// Runs a tenant command.
pub async fn tenant(config: &Config, command: TenantCommand) -> anyhow::Result<()> {
    // The archive commands open the store themselves (and must not create an empty one
    // before the archive is verified).
    let command = match command {
        TenantCommand::Export { id, to } => {
            return crate::archive_cli::tenant_export(config, tenant_id(&id)?, &to).await;
        }
        TenantCommand::Import { file } => {
            return crate::archive_cli::import(
                config,
                &file,
                livehelp_store::archive::ImportMode::AddTenant,
            )
            .await;
        }
        other => other,
    };
    let app = app(config).await?;
    let now = OffsetDateTime::now_utc();
    match command {
        TenantCommand::Create {
            name,
            site,
            origins,
            admin_email,
        } => {
            let tenant = app.create_tenant(NewTenant { name }, now).await?;
            let site = app
                .create_site(
                    tenant.id,
                    NewSite {
                        name: site,
                        key: None,
                        allowed_origins: origins,
                        privacy_policy_url: None,
                    },
                    now,
                )
                .await?;
            println!("tenant {}  {}", tenant.id, tenant.name);
            println!("site   {}  key {}", site.id, site.key.as_str());
            println!(
                "snippet: <script async src=\"https://YOUR-LIVEHELP-HOST/widget.js\" data-site-key=\"{}\"></script>",
                site.key.as_str()
            );
            if let Some(email) = admin_email {
                add_operator(&app, tenant.id, email, "Admin".into(), Role::Admin, now).await?;
            }
        }
        TenantCommand::List => {
            for tenant in app.list_tenants().await? {
                let status = match tenant.status {
                    TenantStatus::Active => "active",
                    TenantStatus::Suspended => "suspended",
                };
                println!("{}  {:<9}  {}", tenant.id, status, tenant.name);
            }
        }
        TenantCommand::Suspend { id } => {
            app.set_tenant_status(tenant_id(&id)?, TenantStatus::Suspended, now)
                .await?;
            println!("tenant {id} suspended");
        }
        TenantCommand::Reactivate { id } => {
            app.set_tenant_status(tenant_id(&id)?, TenantStatus::Active, now)
                .await?;
            println!("tenant {id} active");
        }
        TenantCommand::Export { .. } | TenantCommand::Import { .. } => {}
    }
    app.close().await;
    Ok(())
}

/// Runs an operator command.
pub async fn operator(config: &Config, command: OperatorCommand) -> anyhow::Result<()> {
    let app = app(config).await?;
    let now = OffsetDateTime::now_utc();
    match command {
        OperatorCommand::Add {
            tenant,
            email,
            name,
            role: role_name,
        } => {
            add_operator(
                &app,
                tenant_id(&tenant)?,
                email,
                name,
                role(&role_name)?,
                now,
            )
            .await?;
        }
        OperatorCommand::List { tenant } => {
            let principal = livehelp_app::OperatorPrincipal {
                tenant_id: tenant_id(&tenant)?,
                operator_id: livehelp_domain::OperatorId::new(),
                role: Role::Admin,
                display_name: "cli".into(),
            };
            for operator in app.operators(&principal).await? {
                let state = if operator.disabled {
                    "disabled"
                } else {
                    "enabled"
                };
                println!(
                    "{}  {:<10}  {:<8}  {}  {}",
                    operator.id,
                    operator.role.as_str(),
                    state,
                    operator.email.as_str(),
                    operator.display_name
                );
            }
        }
        OperatorCommand::SetRole {
            email,
            role: role_name,
        } => {
            let operator = app.operator_by_email(&email).await?;
            let changes = OperatorChanges {
                role: Some(role(&role_name)?),
                ..OperatorChanges::default()
            };
            app.change_operator_cli(operator, changes, now).await?;
            println!("{email} is now {role_name}");
        }
        OperatorCommand::ResetPassword { email } => {
            let (_, issued) = app.issue_password_reset_cli(&email, now).await?;
            println!(
                "one-time link for {email} (valid until {}):",
                rfc3339(issued.expires_at)
            );
            println!(
                "  https://YOUR-LIVEHELP-HOST/console/#reset={}",
                issued.token
            );
        }
        OperatorCommand::Disable { email } => {
            let operator = app.operator_by_email(&email).await?;
            app.change_operator_cli(
                operator,
                OperatorChanges {
                    disabled: Some(true),
                    ..OperatorChanges::default()
                },
                now,
            )
            .await?;
            println!("{email} disabled; their sessions are ended");
        }
        OperatorCommand::Enable { email } => {
            let operator = app.operator_by_email(&email).await?;
            app.change_operator_cli(
                operator,
                OperatorChanges {
                    disabled: Some(false),
                    ..OperatorChanges::default()
                },
                now,
            )
            .await?;
            println!("{email} enabled");
        }
    }
    app.close().await;
    Ok(())
}

/// Runs a platform-admin command.
pub async fn platform_admin(config: &Config, command: PlatformAdminCommand) -> anyhow::Result<()> {
    let app = app(config).await?;
    match command {
        PlatformAdminCommand::Create { email } => {
            let password = std::env::var("LIVEHELP_ADMIN_PASSWORD").context(
                "set LIVEHELP_ADMIN_PASSWORD to the new admin's password (12+ characters)",
            )?;
            check_password_policy(&password, &email)?;
            let admin = app
                .create_platform_admin(&email, &password, OffsetDateTime::now_utc())
                .await?;
            println!(
                "platform admin {} created ({})",
                admin.email.as_str(),
                admin.id
            );
        }
    }
    app.close().await;
    Ok(())
}

/// Adds an operator with an unusable random password and prints a one-time link to set
/// a real one: passwords never travel on a command line.
async fn add_operator(
    app: &App,
    tenant: TenantId,
    email: String,
    name: String,
    role: Role,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let placeholder = format!("{}-{}", random_token(), random_token());
    let input = NewOperator {
        email: email.clone(),
        display_name: name,
        role,
        password: placeholder,
    };
    let operator = app.create_operator(tenant, input, now).await?;
    let (_, issued) = app.issue_password_reset_cli(&email, now).await?;
    println!("operator {}  {}  {}", operator.id, role.as_str(), email);
    println!(
        "one-time link to set the password (valid until {}):",
        rfc3339(issued.expires_at)
    );
    println!(
        "  https://YOUR-LIVEHELP-HOST/console/#reset={}",
        issued.token
    );
    Ok(())
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}
