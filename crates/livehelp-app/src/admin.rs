//! Provisioning: creating tenants, sites and operators (used by the CLI and by
//! `serve --demo`). Passwords are hashed here, on a blocking thread.

use livehelp_domain::{
    Email, Operator, OperatorId, Role, Site, SiteId, SiteKey, Tenant, TenantId, TenantStatus,
};
use time::OffsetDateTime;

use crate::auth::hash_password;
use crate::{App, AppError};

/// Input for a new tenant.
#[derive(Debug, Clone)]
pub struct NewTenant {
    /// Display name.
    pub name: String,
}

/// Input for a new site.
#[derive(Debug, Clone)]
pub struct NewSite {
    /// Display name.
    pub name: String,
    /// Public key; a random one when `None`.
    pub key: Option<String>,
    /// Allowed origins; empty allows any.
    pub allowed_origins: Vec<String>,
    /// Privacy-policy address.
    pub privacy_policy_url: Option<String>,
}

/// Input for a new operator.
#[derive(Debug, Clone)]
pub struct NewOperator {
    /// Login email.
    pub email: String,
    /// Name shown to visitors.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Initial password (at least 12 characters).
    pub password: String,
}

/// Minimum password length, per OWASP ASVS 4.0 §2.1.1 (12 characters).
pub const MIN_PASSWORD_CHARS: usize = 12;

impl App {
    /// Creates a tenant.
    pub async fn create_tenant(
        &self,
        input: NewTenant,
        now: OffsetDateTime,
    ) -> Result<Tenant, AppError> {
        let name = display_text(&input.name, 200, "tenant name")?;
        let tenant = Tenant {
            id: TenantId::new(),
            name: name.to_owned(),
            status: TenantStatus::Active,
            created_at: now,
        };
        self.store.insert_tenant(&tenant).await?;
        Ok(tenant)
    }

    /// Creates a site for a tenant.
    pub async fn create_site(
        &self,
        tenant: TenantId,
        input: NewSite,
        now: OffsetDateTime,
    ) -> Result<Site, AppError> {
        let name = display_text(&input.name, 200, "site name")?;
        let key = input
            .key
            .unwrap_or_else(|| crate::random_token()[..24].to_owned());
        let key = SiteKey::parse(&key).map_err(|_| {
            AppError::InvalidRequest(
                "site key must be 8 to 64 characters of A-Z a-z 0-9 _ -".into(),
            )
        })?;
        let site = Site {
            id: SiteId::new(),
            tenant_id: tenant,
            key,
            name,
            allowed_origins: input.allowed_origins,
            privacy_policy_url: input.privacy_policy_url,
            require_tls: false,
            default_department_id: None,
            created_at: now,
        };
        self.store.insert_site(tenant, &site).await?;
        Ok(site)
    }

    /// Creates an operator account with an argon2id password hash.
    pub async fn create_operator(
        &self,
        tenant: TenantId,
        input: NewOperator,
        now: OffsetDateTime,
    ) -> Result<Operator, AppError> {
        let email = Email::parse(&input.email)
            .map_err(|_| AppError::InvalidRequest("not a valid email address".into()))?;
        if input.password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(AppError::InvalidRequest(format!(
                "password must be at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        let display_name = display_text(&input.display_name, 100, "display name")?;
        let password = input.password;
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|error| AppError::Internal(Box::new(error)))??;
        let operator = Operator {
            id: OperatorId::new(),
            tenant_id: tenant,
            email,
            display_name,
            role: input.role,
            password_hash,
            disabled: false,
            status: livehelp_domain::OperatorStatus::Online,
            failed_logins: 0,
            locked_until: None,
            max_chats: None,
            created_at: now,
        };
        self.store.insert_operator(tenant, &operator).await?;
        Ok(operator)
    }

    /// The site with this key, if any (for `serve --demo`, which creates it when absent).
    pub async fn find_site(&self, key: &str) -> Result<Option<Site>, AppError> {
        let key = SiteKey::parse(key).map_err(|_| AppError::SiteNotFound)?;
        match self.store.fetch_site_by_key(&key).await {
            Ok(site) => Ok(Some(site)),
            Err(livehelp_store::StoreError::NotFound) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }
}

/// A staff-chosen name (operator, site, tenant): trimmed, 1 to `max` characters, no
/// control characters and no bidirectional overrides or isolates (U+202A–U+202E,
/// U+2066–U+2069), which could make the name reorder the text around it wherever it is
/// shown (console, transcripts, the platform's terminal).
pub(crate) fn display_text(text: &str, max: usize, what: &str) -> Result<String, AppError> {
    let text = text.trim();
    let length = text.chars().count();
    if length == 0 || length > max {
        return Err(AppError::InvalidRequest(format!(
            "{what} must be 1 to {max} characters"
        )));
    }
    let forbidden = |c: char| {
        c.is_control()
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if text.chars().any(forbidden) {
        return Err(AppError::InvalidRequest(format!(
            "{what} must not contain control or text-direction characters"
        )));
    }
    Ok(text.to_owned())
}
