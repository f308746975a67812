//! Accounts and roles (issue 4): what a tenant `admin` may do to operators and sites,
//! every operator's own login sessions, one-time password-reset links, the password
//! policy, the audit log, and the platform's tenant and admin management (CLI).
//!
//! Roles: `admin` manages operators, sites and settings and reads the audit log;
//! `supervisor` monitors every conversation of the tenant; `operator` answers chats.

use livehelp_domain::{
    AuditActor, AuditEntry, AuditEntryId, Email, Operator, OperatorId, OperatorSession,
    PasswordReset, PlatformAdmin, PlatformAdminId, Role, SessionId, Site, SiteId, Tenant, TenantId,
    TenantStatus,
};
use time::{Duration, OffsetDateTime};

use crate::auth::{hash_password, random_token, token_hash};
use crate::{App, AppError, OperatorPrincipal};

/// How long a password-reset link works.
pub const RESET_LINK_VALIDITY: Duration = Duration::hours(24);
/// Longest accepted password, in characters (bounds the hashing work per request).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Passwords refused outright even when long enough: the longest entries of public
/// most-common-password lists, and keyboard walks.
const COMMON_PASSWORDS: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789123",
    "111111111111",
    "000000000000",
    "password1234",
    "password12345",
    "passwordpassword",
    "password123456",
    "qwertyuiopas",
    "qwertyuiop123",
    "qwerty123456",
    "1qaz2wsx3edc",
    "1q2w3e4r5t6y",
    "iloveyou1234",
    "abcdefghijkl",
    "abc123456789",
    "letmein12345",
    "welcome12345",
    "administrator",
    "admin1234567",
    "changeme1234",
    "trustno11234",
    "football1234",
    "baseball1234",
    "sunshine1234",
    "princess1234",
    "superman1234",
    "starwars1234",
    "monkey123456",
    "dragon123456",
    "master123456",
    "asdfghjkl123",
    "zxcvbnm12345",
    "correcthorse",
    "p@ssw0rd1234",
    "passw0rd1234",
    "aaaaaaaaaaaa",
    "qazwsxedcrfv",
];

/// Checks a new password: 12 to 128 characters (OWASP ASVS 4.0 §2.1.1 and §2.1.2), not a
/// common password, not the email, not a single repeated character.
pub fn check_password_policy(password: &str, email: &str) -> Result<(), AppError> {
    let length = password.chars().count();
    if length < crate::admin::MIN_PASSWORD_CHARS {
        return Err(AppError::WeakPassword(format!(
            "password must be at least {} characters",
            crate::admin::MIN_PASSWORD_CHARS
        )));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(AppError::WeakPassword(format!(
            "password must be at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    let lower = password.to_lowercase();
    let local_part = email.split('@').next().unwrap_or_default().to_lowercase();
    let mut chars = lower.chars();
    let first = chars.next();
    if COMMON_PASSWORDS.contains(&lower.as_str())
        || lower == email.to_lowercase()
        || (local_part.len() >= 3 && lower.replace(&local_part, "").chars().count() < 4)
        || chars.all(|c| Some(c) == first)
    {
        return Err(AppError::WeakPassword(
            "this password is too easy to guess; choose another".into(),
        ));
    }
    Ok(())
}

/// Changes an admin may make to an operator; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct OperatorChanges {
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// Disable (true) or re-enable (false). Disabling logs the operator out everywhere.
    pub disabled: Option<bool>,
    /// Own chat limit, 1–100 (`Some(None)`: the tenant's default applies).
    pub max_chats: Option<Option<u32>>,
}

/// Changes an admin may make to a site; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SiteChanges {
    /// New display name.
    pub name: Option<String>,
    /// New allowed origins (`scheme://host[:port]`); empty allows any.
    pub allowed_origins: Option<Vec<String>>,
    /// New privacy-policy address (`Some(None)` removes it).
    pub privacy_policy_url: Option<Option<String>>,
    /// Require TLS for visitors.
    pub require_tls: Option<bool>,
    /// Department a chat started here joins when the visitor picks none (`Some(None)`:
    /// the general queue).
    pub default_department_id: Option<Option<livehelp_domain::DepartmentId>>,
}

/// A password-reset link just issued: the token appears only here, never stored.
#[derive(Debug, Clone)]
pub struct IssuedReset {
    /// The one-time token for the link.
    pub token: String,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

impl App {
    /// Fails unless the operator is a tenant `admin`.
    pub fn require_admin(operator: &OperatorPrincipal) -> Result<(), AppError> {
        match operator.role {
            Role::Admin => Ok(()),
            Role::Supervisor | Role::Operator => Err(AppError::RoleRequired),
        }
    }

    /// Whether the role may watch other operators' conversations (M8).
    pub fn may_monitor(role: Role) -> bool {
        matches!(role, Role::Admin | Role::Supervisor)
    }

    /// Writes one audit entry. Failing to audit fails the action that needed it.
    pub async fn audit(
        &self,
        tenant: TenantId,
        actor: AuditActor,
        action: &str,
        target: String,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let entry = AuditEntry {
            id: AuditEntryId::new(),
            tenant_id: tenant,
            at: now,
            actor,
            action: action.to_owned(),
            target,
        };
        Ok(self.store.insert_audit_entry(tenant, &entry).await?)
    }

    /// Exports the admin's own tenant, whole (M17: a business takes its data along), into
    /// `sink` in the archive layout of `livehelp tenant export`: the tenant's row and
    /// every row with its tenant id, read in one snapshot. Admins only (`RoleRequired`
    /// otherwise); the export is audited (`tenant_exported`) before it is taken, so the
    /// archive contains its own audit entry.
    pub async fn export_own_tenant(
        &self,
        admin: &OperatorPrincipal,
        sink: &mut dyn livehelp_store::archive::ArchiveSink,
        now: OffsetDateTime,
    ) -> Result<TenantId, AppError> {
        Self::require_admin(admin)?;
        self.audit(
            admin.tenant_id,
            AuditActor::Operator(admin.operator_id),
            "tenant_exported",
            format!("tenant:{}", admin.tenant_id),
            now,
        )
        .await?;
        self.store
            .export_archive(
                livehelp_store::archive::ArchiveScope::Tenant(admin.tenant_id),
                sink,
            )
            .await?;
        Ok(admin.tenant_id)
    }

    /// The tenant's audit log, newest first (admins only).
    pub async fn audit_log(
        &self,
        admin: &OperatorPrincipal,
        before: Option<AuditEntryId>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, AppError> {
        Self::require_admin(admin)?;
        Ok(self
            .store
            .list_audit_entries(admin.tenant_id, before, limit.clamp(1, 500))
            .await?)
    }

    /// The tenant's operators (admins only).
    pub async fn operators(&self, admin: &OperatorPrincipal) -> Result<Vec<Operator>, AppError> {
        Self::require_admin(admin)?;
        Ok(self.store.list_operators(admin.tenant_id).await?)
    }

    /// Adds an operator to the admin's tenant, with the password policy applied.
    pub async fn add_operator(
        &self,
        admin: &OperatorPrincipal,
        input: crate::NewOperator,
        now: OffsetDateTime,
    ) -> Result<Operator, AppError> {
        Self::require_admin(admin)?;
        check_password_policy(&input.password, &input.email)?;
        let operator = self.create_operator(admin.tenant_id, input, now).await?;
        self.audit(
            admin.tenant_id,
            AuditActor::Operator(admin.operator_id),
            "operator_created",
            format!("operator:{}", operator.id),
            now,
        )
        .await?;
        Ok(operator)
    }

    /// Changes an operator of the admin's tenant. An admin cannot demote or disable
    /// themselves (a tenant must not lose its last way in by accident).
    pub async fn change_operator(
        &self,
        admin: &OperatorPrincipal,
        operator_id: OperatorId,
        changes: OperatorChanges,
        now: OffsetDateTime,
    ) -> Result<Operator, AppError> {
        Self::require_admin(admin)?;
        let mut operator = self
            .fetch_tenant_operator(admin.tenant_id, operator_id)
            .await?;
        if operator_id == admin.operator_id
            && (changes.role.is_some_and(|role| role != Role::Admin)
                || changes.disabled == Some(true))
        {
            return Err(AppError::InvalidRequest(
                "you cannot demote or disable yourself; ask another admin".into(),
            ));
        }
        let actor = AuditActor::Operator(admin.operator_id);
        let target = format!("operator:{operator_id}");
        if let Some(name) = changes.display_name {
            operator.display_name = crate::admin::display_text(&name, 100, "display name")?;
        }
        if let Some(role) = changes.role
            && role != operator.role
        {
            operator.role = role;
            self.audit(
                admin.tenant_id,
                actor,
                "operator_role_changed",
                format!("{target} role={}", role.as_str()),
                now,
            )
            .await?;
        }
        if let Some(max_chats) = changes.max_chats {
            operator.max_chats = crate::routing::check_chat_limit(max_chats)?;
        }
        if let Some(disabled) = changes.disabled
            && disabled != operator.disabled
        {
            operator.disabled = disabled;
            let action = if disabled {
                "operator_disabled"
            } else {
                "operator_enabled"
            };
            self.audit(admin.tenant_id, actor, action, target.clone(), now)
                .await?;
        }
        self.store
            .update_operator(admin.tenant_id, &operator)
            .await?;
        if operator.disabled {
            self.store
                .delete_operator_sessions(admin.tenant_id, operator_id)
                .await?;
        }
        Ok(operator)
    }

    /// Issues a one-time password-reset link for an operator of the admin's tenant.
    pub async fn issue_password_reset(
        &self,
        admin: &OperatorPrincipal,
        operator_id: OperatorId,
        now: OffsetDateTime,
    ) -> Result<IssuedReset, AppError> {
        Self::require_admin(admin)?;
        self.fetch_tenant_operator(admin.tenant_id, operator_id)
            .await?;
        let issued = self.store_reset(admin.tenant_id, operator_id, now).await?;
        self.audit(
            admin.tenant_id,
            AuditActor::Operator(admin.operator_id),
            "password_reset_issued",
            format!("operator:{operator_id}"),
            now,
        )
        .await?;
        Ok(issued)
    }

    /// Issues a reset link from the server's command line (no admin session).
    pub async fn issue_password_reset_cli(
        &self,
        email: &str,
        now: OffsetDateTime,
    ) -> Result<(Operator, IssuedReset), AppError> {
        let email = Email::parse(email)
            .map_err(|_| AppError::InvalidRequest("not a valid email address".into()))?;
        let operator = self.store.fetch_operator_by_email(&email).await?;
        let issued = self
            .store_reset(operator.tenant_id, operator.id, now)
            .await?;
        self.audit(
            operator.tenant_id,
            AuditActor::Cli,
            "password_reset_issued",
            format!("operator:{}", operator.id),
            now,
        )
        .await?;
        Ok((operator, issued))
    }

    /// Uses a reset link: sets the new password (policy applied), ends every session of
    /// the operator and clears any lock-out. The link works once.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        // Length and common-password checks before spending the link, so a weak password
        // can be retried with the same link.
        check_password_policy(new_password, "")?;
        let reset = match self
            .store
            .consume_password_reset(&token_hash(token), now)
            .await
        {
            Ok(reset) => reset,
            Err(livehelp_store::StoreError::NotFound) => {
                return Err(AppError::InvalidRequest(
                    "this reset link is invalid, used or expired".into(),
                ));
            }
            Err(error) => return Err(error.into()),
        };
        let mut operator = self
            .fetch_tenant_operator(reset.tenant_id, reset.operator_id)
            .await?;
        if let Err(error) = check_password_policy(new_password, operator.email.as_str()) {
            // Only the "contains your email" rule can fail here; the link is spent, so say
            // clearly that a new one is needed.
            return Err(AppError::WeakPassword(format!(
                "{error}; ask your admin for a new link"
            )));
        }
        let password = new_password.to_owned();
        operator.password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|error| AppError::Internal(Box::new(error)))??;
        self.store
            .update_operator(reset.tenant_id, &operator)
            .await?;
        self.store
            .reset_login_failures(reset.tenant_id, operator.id)
            .await?;
        self.store
            .delete_operator_sessions(reset.tenant_id, operator.id)
            .await?;
        self.audit(
            reset.tenant_id,
            AuditActor::Operator(operator.id),
            "password_reset_used",
            format!("operator:{}", operator.id),
            now,
        )
        .await?;
        Ok(())
    }

    /// The caller's own unexpired login sessions, newest first.
    pub async fn my_sessions(
        &self,
        operator: &OperatorPrincipal,
        now: OffsetDateTime,
    ) -> Result<Vec<OperatorSession>, AppError> {
        Ok(self
            .store
            .list_operator_sessions(operator.tenant_id, operator.operator_id, now)
            .await?)
    }

    /// Ends one of the caller's own sessions; another's id is "not found".
    pub async fn end_my_session(
        &self,
        operator: &OperatorPrincipal,
        session: SessionId,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let mine = self.my_sessions(operator, now).await?;
        if !mine.iter().any(|candidate| candidate.id == session) {
            return Err(AppError::NotFound);
        }
        Ok(self
            .store
            .delete_operator_session(operator.tenant_id, session)
            .await?)
    }

    /// Whether a login session still stands (not logged out, expired or revoked; the
    /// operator enabled; the tenant active). Open sockets check this periodically.
    pub async fn operator_session_active(
        &self,
        operator: &OperatorPrincipal,
        session: SessionId,
        now: OffsetDateTime,
    ) -> Result<bool, AppError> {
        if self.store.fetch_tenant(operator.tenant_id).await?.status != TenantStatus::Active {
            return Ok(false);
        }
        // A changed role (or a disabled account) ends what this principal may do: the
        // socket closes and the console logs in again with the new role.
        let current = self
            .store
            .fetch_operator(operator.tenant_id, operator.operator_id)
            .await?;
        if current.role != operator.role || current.disabled {
            return Ok(false);
        }
        let sessions = self.my_sessions(operator, now).await?;
        Ok(sessions.iter().any(|candidate| candidate.id == session))
    }

    /// Whether the tenant is active (open visitor sockets close when it is suspended).
    pub async fn tenant_active(&self, tenant: TenantId) -> Result<bool, AppError> {
        Ok(self.store.fetch_tenant(tenant).await?.status == TenantStatus::Active)
    }

    /// "Log out everywhere": ends every session of the caller, this one included.
    pub async fn end_all_my_sessions(
        &self,
        operator: &OperatorPrincipal,
        now: OffsetDateTime,
    ) -> Result<u64, AppError> {
        let count = self
            .store
            .delete_operator_sessions(operator.tenant_id, operator.operator_id)
            .await?;
        self.audit(
            operator.tenant_id,
            AuditActor::Operator(operator.operator_id),
            "sessions_revoked",
            format!("operator:{}", operator.operator_id),
            now,
        )
        .await?;
        Ok(count)
    }

    /// The tenant's sites (admins only).
    pub async fn sites(&self, admin: &OperatorPrincipal) -> Result<Vec<Site>, AppError> {
        Self::require_admin(admin)?;
        Ok(self.store.list_sites(admin.tenant_id).await?)
    }

    /// Adds a site to the admin's tenant.
    pub async fn add_site(
        &self,
        admin: &OperatorPrincipal,
        input: crate::NewSite,
        now: OffsetDateTime,
    ) -> Result<Site, AppError> {
        Self::require_admin(admin)?;
        let origins = input
            .allowed_origins
            .iter()
            .map(|origin| normalize_origin(origin))
            .collect::<Result<Vec<_>, _>>()?;
        let privacy_policy_url = input
            .privacy_policy_url
            .as_deref()
            .map(check_https_url)
            .transpose()?;
        let site = self
            .create_site(
                admin.tenant_id,
                crate::NewSite {
                    allowed_origins: origins,
                    privacy_policy_url,
                    ..input
                },
                now,
            )
            .await?;
        self.audit(
            admin.tenant_id,
            AuditActor::Operator(admin.operator_id),
            "site_created",
            format!("site:{}", site.id),
            now,
        )
        .await?;
        Ok(site)
    }

    /// Changes a site of the admin's tenant.
    pub async fn change_site(
        &self,
        admin: &OperatorPrincipal,
        site_id: SiteId,
        changes: SiteChanges,
        now: OffsetDateTime,
    ) -> Result<Site, AppError> {
        Self::require_admin(admin)?;
        let mut site = self
            .store
            .list_sites(admin.tenant_id)
            .await?
            .into_iter()
            .find(|site| site.id == site_id)
            .ok_or(AppError::NotFound)?;
        if let Some(name) = changes.name {
            site.name = crate::admin::display_text(&name, 200, "site name")?;
        }
        if let Some(origins) = changes.allowed_origins {
            site.allowed_origins = origins
                .iter()
                .map(|origin| normalize_origin(origin))
                .collect::<Result<_, _>>()?;
        }
        if let Some(url) = changes.privacy_policy_url {
            site.privacy_policy_url = url.map(|url| check_https_url(&url)).transpose()?;
        }
        if let Some(require_tls) = changes.require_tls {
            site.require_tls = require_tls;
        }
        if let Some(department) = changes.default_department_id {
            site.default_department_id = department;
        }
        self.store
            .update_site(admin.tenant_id, &site)
            .await
            .map_err(|error| match error {
                // The site was found above: the department is not this tenant's.
                livehelp_store::StoreError::NotFound => {
                    AppError::InvalidRequest("unknown department".into())
                }
                other => other.into(),
            })?;
        self.audit(
            admin.tenant_id,
            AuditActor::Operator(admin.operator_id),
            "site_updated",
            format!("site:{site_id}"),
            now,
        )
        .await?;
        Ok(site)
    }

    /// Every tenant (platform scope: the CLI and platform admins only).
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>, AppError> {
        Ok(self.store.list_tenants().await?)
    }

    /// Suspends or reactivates a tenant (platform scope). A suspended tenant's widget
    /// says "chat unavailable" and its operators cannot log in or use existing sessions.
    pub async fn set_tenant_status(
        &self,
        tenant: TenantId,
        status: TenantStatus,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        self.store.update_tenant_status(tenant, status).await?;
        let action = match status {
            TenantStatus::Suspended => "tenant_suspended",
            TenantStatus::Active => "tenant_reactivated",
        };
        self.audit(
            tenant,
            AuditActor::Cli,
            action,
            format!("tenant:{tenant}"),
            now,
        )
        .await
    }

    /// Creates a platform admin (CLI), with the password policy applied.
    pub async fn create_platform_admin(
        &self,
        email: &str,
        password: &str,
        now: OffsetDateTime,
    ) -> Result<PlatformAdmin, AppError> {
        let parsed = Email::parse(email)
            .map_err(|_| AppError::InvalidRequest("not a valid email address".into()))?;
        check_password_policy(password, email)?;
        let password = password.to_owned();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|error| AppError::Internal(Box::new(error)))??;
        let admin = PlatformAdmin {
            id: PlatformAdminId::new(),
            email: parsed,
            password_hash,
            created_at: now,
        };
        self.store.insert_platform_admin(&admin).await?;
        Ok(admin)
    }

    /// Resolves an operator by login email (CLI).
    pub async fn operator_by_email(&self, email: &str) -> Result<Operator, AppError> {
        let email = Email::parse(email)
            .map_err(|_| AppError::InvalidRequest("not a valid email address".into()))?;
        Ok(self.store.fetch_operator_by_email(&email).await?)
    }

    /// Changes an operator from the server's command line (no session; audited as CLI).
    pub async fn change_operator_cli(
        &self,
        operator: Operator,
        changes: OperatorChanges,
        now: OffsetDateTime,
    ) -> Result<Operator, AppError> {
        let mut operator = operator;
        if let Some(role) = changes.role {
            operator.role = role;
        }
        if let Some(disabled) = changes.disabled {
            operator.disabled = disabled;
        }
        if let Some(name) = changes.display_name {
            operator.display_name = name;
        }
        self.store
            .update_operator(operator.tenant_id, &operator)
            .await?;
        if operator.disabled {
            self.store
                .delete_operator_sessions(operator.tenant_id, operator.id)
                .await?;
        }
        self.audit(
            operator.tenant_id,
            AuditActor::Cli,
            "operator_changed",
            format!("operator:{}", operator.id),
            now,
        )
        .await?;
        Ok(operator)
    }

    async fn fetch_tenant_operator(
        &self,
        tenant: TenantId,
        operator: OperatorId,
    ) -> Result<Operator, AppError> {
        match self.store.fetch_operator(tenant, operator).await {
            Err(livehelp_store::StoreError::NotFound) => Err(AppError::NotFound),
            other => Ok(other?),
        }
    }

    async fn store_reset(
        &self,
        tenant: TenantId,
        operator: OperatorId,
        now: OffsetDateTime,
    ) -> Result<IssuedReset, AppError> {
        let token = random_token();
        let reset = PasswordReset {
            token_hash: token_hash(&token),
            tenant_id: tenant,
            operator_id: operator,
            created_at: now,
            expires_at: now + RESET_LINK_VALIDITY,
        };
        self.store.insert_password_reset(tenant, &reset).await?;
        Ok(IssuedReset {
            token,
            expires_at: reset.expires_at,
        })
    }
}

/// `scheme://host[:port]`, lower-cased, no path: what a browser sends as `Origin`.
fn normalize_origin(origin: &str) -> Result<String, AppError> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let invalid = || {
        AppError::InvalidRequest(format!(
            "{origin:?} is not an origin like https://shop.example.com"
        ))
    };
    let (scheme, rest) = origin.split_once("://").ok_or_else(invalid)?;
    if !matches!(scheme, "http" | "https")
        || rest.is_empty()
        || rest.contains(['/', '?', '#', '@', ' '])
    {
        return Err(invalid());
    }
    Ok(origin)
}

fn check_https_url(url: &str) -> Result<String, AppError> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://"))
        || url.len() > 2048
        || url.chars().any(char::is_control)
    {
        return Err(AppError::InvalidRequest(
            "privacy policy must be an http(s) address".into(),
        ));
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert!(check_password_policy("correct horse battery staple", "ann@shop.test").is_ok());
        for weak in [
            "short",
            "password1234",
            "PASSWORD1234",
            "aaaaaaaaaaaaaaa",
            "ann@shop.test",
            "annannannann",
        ] {
            assert!(
                check_password_policy(weak, "ann@shop.test").is_err(),
                "{weak}"
            );
        }
        assert!(check_password_policy(&"x1".repeat(65), "ann@shop.test").is_err());
    }

    #[test]
    fn origins_are_normalised_and_checked() {
        assert_eq!(
            normalize_origin(" HTTPS://Shop.Example.com/ ").ok(),
            Some("https://shop.example.com".to_owned())
        );
        assert_eq!(
            normalize_origin("http://localhost:8080").ok(),
            Some("http://localhost:8080".to_owned())
        );
        for bad in [
            "shop.example.com",
            "ftp://x.test",
            "https://x.test/path",
            "https://",
            "javascript://x",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
    }
}
