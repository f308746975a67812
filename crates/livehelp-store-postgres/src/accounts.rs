//! The account-like aggregates of [`PostgresStore`]: the entry lookups (`EntryStore`),
//! tenants and platform admins, sites, operators with their sessions, password resets
//! and login lock-out, visitors with their sessions, and the audit log. These are
//! single-row writes and plain reads on the pool. Writes that must hold under
//! concurrency from several nodes are one conditional statement each (a password reset
//! is used once; a failed login counts once).
//!
//! Inserts take the tenant as a parameter and also find it in the entity; the two must
//! agree, and a mismatch is refused as a caller bug (`Other`).

use async_trait::async_trait;
use livehelp_domain::{
    AuditEntry, AuditEntryId, Email, Operator, OperatorId, OperatorSession, OperatorStatus,
    PageRef, PasswordReset, PlatformAdmin, SessionId, Site, SiteKey, Tenant, TenantId,
    TenantStatus, Timestamp, Visitor, VisitorId, VisitorSession, VisitorSessionId,
};
use livehelp_store::{
    AuditStore, EntryStore, OperatorStore, SiteStore, StoreError, StoreResult, TenantStore,
    VisitorStore,
};
use sqlx::postgres::PgQueryResult;

use crate::PostgresStore;
use crate::error::store_error;
use crate::rows::{
    AuditRow, OperatorRow, OperatorSessionRow, PasswordResetRow, PlatformAdminRow, SiteRow,
    TenantRow, VisitorRow, VisitorSessionRow, audit_actor, convert_all, stored_instant,
    stored_optional, tenant_status_name,
};

#[async_trait]
impl EntryStore for PostgresStore {
    async fn fetch_site_by_key(&self, key: &SiteKey) -> StoreResult<Site> {
        let row = sqlx::query_as::<_, SiteRow>("SELECT * FROM sites WHERE key = $1")
            .bind(key.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        Ok(Site::try_from(row)?)
    }

    async fn fetch_visitor_session_by_token(
        &self,
        token_hash: &[u8; 32],
    ) -> StoreResult<VisitorSession> {
        let row = sqlx::query_as::<_, VisitorSessionRow>(
            "SELECT * FROM visitor_sessions WHERE token_hash = $1",
        )
        .bind(&token_hash[..])
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        Ok(VisitorSession::try_from(row)?)
    }

    async fn fetch_operator_session_by_token(
        &self,
        token_hash: &[u8; 32],
        now: Timestamp,
    ) -> StoreResult<OperatorSession> {
        let row = sqlx::query_as::<_, OperatorSessionRow>(
            "SELECT * FROM operator_sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(&token_hash[..])
        .bind(stored_instant(now))
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        Ok(OperatorSession::try_from(row)?)
    }

    async fn fetch_operator_by_email(&self, email: &Email) -> StoreResult<Operator> {
        let row = sqlx::query_as::<_, OperatorRow>("SELECT * FROM operators WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        Ok(Operator::try_from(row)?)
    }

    async fn consume_password_reset(
        &self,
        token_hash: &[u8; 32],
        now: Timestamp,
    ) -> StoreResult<PasswordReset> {
        // One conditional UPDATE: of two racing uses (from any nodes), the second finds
        // used_at set once the first commits, and matches nothing.
        let row = sqlx::query_as::<_, PasswordResetRow>(
            "UPDATE password_resets SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING *",
        )
        .bind(&token_hash[..])
        .bind(stored_instant(now))
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        Ok(PasswordReset::try_from(row)?)
    }

    async fn fetch_platform_admin_by_email(&self, email: &Email) -> StoreResult<PlatformAdmin> {
        let row =
            sqlx::query_as::<_, PlatformAdminRow>("SELECT * FROM platform_admins WHERE email = $1")
                .bind(email.as_str())
                .fetch_optional(self.pool())
                .await
                .map_err(store_error)?
                .ok_or(StoreError::NotFound)?;
        Ok(PlatformAdmin::try_from(row)?)
    }
}

#[async_trait]
impl TenantStore for PostgresStore {
    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        sqlx::query("INSERT INTO tenants (id, name, status, created_at) VALUES ($1, $2, $3, $4)")
            .bind(tenant.id.as_uuid())
            .bind(tenant.name.as_str())
            .bind(tenant_status_name(tenant.status))
            .bind(stored_instant(tenant.created_at))
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn fetch_tenant(&self, tenant: TenantId) -> StoreResult<Tenant> {
        let row = sqlx::query_as::<_, TenantRow>("SELECT * FROM tenants WHERE id = $1")
            .bind(tenant.as_uuid())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        Ok(Tenant::try_from(row)?)
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let rows = sqlx::query_as::<_, TenantRow>("SELECT * FROM tenants ORDER BY created_at, id")
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        convert_all(rows)
    }

    async fn update_tenant_status(
        &self,
        tenant: TenantId,
        status: TenantStatus,
    ) -> StoreResult<()> {
        let result = sqlx::query("UPDATE tenants SET status = $2 WHERE id = $1")
            .bind(tenant.as_uuid())
            .bind(tenant_status_name(status))
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        one_row_updated(&result)
    }

    async fn insert_platform_admin(&self, admin: &PlatformAdmin) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO platform_admins (id, email, password_hash, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(admin.id.as_uuid())
        .bind(admin.email.as_str())
        .bind(admin.password_hash.as_str())
        .bind(stored_instant(admin.created_at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl SiteStore for PostgresStore {
    async fn insert_site(&self, tenant: TenantId, site: &Site) -> StoreResult<()> {
        same_tenant(tenant, site.tenant_id, "site")?;
        sqlx::query(
            "INSERT INTO sites \
                 (id, tenant_id, key, name, allowed_origins, privacy_policy_url, require_tls, \
                  created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(site.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(site.key.as_str())
        .bind(site.name.as_str())
        .bind(&site.allowed_origins)
        .bind(site.privacy_policy_url.as_deref())
        .bind(site.require_tls)
        .bind(stored_instant(site.created_at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn list_sites(&self, tenant: TenantId) -> StoreResult<Vec<Site>> {
        let rows = sqlx::query_as::<_, SiteRow>(
            "SELECT * FROM sites WHERE tenant_id = $1 ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        convert_all(rows)
    }

    async fn update_site(&self, tenant: TenantId, site: &Site) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE sites \
             SET name = $3, allowed_origins = $4, privacy_policy_url = $5, require_tls = $6 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(site.id.as_uuid())
        .bind(site.name.as_str())
        .bind(&site.allowed_origins)
        .bind(site.privacy_policy_url.as_deref())
        .bind(site.require_tls)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        one_row_updated(&result)
    }
}

#[async_trait]
impl OperatorStore for PostgresStore {
    async fn insert_operator(&self, tenant: TenantId, operator: &Operator) -> StoreResult<()> {
        same_tenant(tenant, operator.tenant_id, "operator")?;
        sqlx::query(
            "INSERT INTO operators \
                 (id, tenant_id, email, display_name, role, password_hash, disabled, status, \
                  failed_logins, locked_until, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(operator.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(operator.email.as_str())
        .bind(operator.display_name.as_str())
        .bind(operator.role.as_str())
        .bind(operator.password_hash.as_str())
        .bind(operator.disabled)
        .bind(operator.status.as_str())
        .bind(failure_count(operator.failed_logins)?)
        .bind(stored_optional(operator.locked_until))
        .bind(stored_instant(operator.created_at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn fetch_operator(
        &self,
        tenant: TenantId,
        operator: OperatorId,
    ) -> StoreResult<Operator> {
        let row = sqlx::query_as::<_, OperatorRow>(
            "SELECT * FROM operators WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(operator.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        Ok(Operator::try_from(row)?)
    }

    async fn list_operators(&self, tenant: TenantId) -> StoreResult<Vec<Operator>> {
        let rows = sqlx::query_as::<_, OperatorRow>(
            "SELECT * FROM operators WHERE tenant_id = $1 ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        convert_all(rows)
    }

    async fn insert_operator_session(
        &self,
        tenant: TenantId,
        session: &OperatorSession,
    ) -> StoreResult<()> {
        same_tenant(tenant, session.tenant_id, "operator session")?;
        sqlx::query(
            "INSERT INTO operator_sessions \
                 (id, tenant_id, operator_id, token_hash, csrf_token, ip, user_agent, \
                  created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(session.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(session.operator_id.as_uuid())
        .bind(&session.token_hash[..])
        .bind(session.csrf_token.as_str())
        .bind(session.ip.map(|ip| ip.to_string()))
        .bind(session.user_agent.as_deref())
        .bind(stored_instant(session.created_at))
        .bind(stored_instant(session.expires_at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn delete_operator_session(
        &self,
        tenant: TenantId,
        session: SessionId,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM operator_sessions WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(session.as_uuid())
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn update_operator(&self, tenant: TenantId, operator: &Operator) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE operators \
             SET display_name = $3, role = $4, password_hash = $5, disabled = $6 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(operator.id.as_uuid())
        .bind(operator.display_name.as_str())
        .bind(operator.role.as_str())
        .bind(operator.password_hash.as_str())
        .bind(operator.disabled)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        one_row_updated(&result)
    }

    async fn record_login_failure(
        &self,
        tenant: TenantId,
        operator: OperatorId,
        now: Timestamp,
        lock_after: u32,
        lock_for: time::Duration,
    ) -> StoreResult<Operator> {
        // One statement: the row lock serialises parallel failures from every node, and
        // each sees the count the previous one left. SET expressions read the old row.
        let row = sqlx::query_as::<_, OperatorRow>(
            "UPDATE operators SET \
                 failed_logins = CASE WHEN failed_logins + 1 >= $3 THEN 0 \
                                      ELSE failed_logins + 1 END, \
                 locked_until = CASE WHEN failed_logins + 1 >= $3 THEN $4 \
                                     ELSE locked_until END \
             WHERE tenant_id = $1 AND id = $2 \
             RETURNING *",
        )
        .bind(tenant.as_uuid())
        .bind(operator.as_uuid())
        .bind(i64::from(lock_after))
        .bind(stored_instant(now + lock_for))
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        Ok(Operator::try_from(row)?)
    }

    async fn reset_login_failures(
        &self,
        tenant: TenantId,
        operator: OperatorId,
    ) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE operators SET failed_logins = 0, locked_until = NULL \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(operator.as_uuid())
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        one_row_updated(&result)
    }

    async fn list_operator_sessions(
        &self,
        tenant: TenantId,
        operator: OperatorId,
        now: Timestamp,
    ) -> StoreResult<Vec<OperatorSession>> {
        let rows = sqlx::query_as::<_, OperatorSessionRow>(
            "SELECT * FROM operator_sessions \
             WHERE tenant_id = $1 AND operator_id = $2 AND expires_at > $3 \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(tenant.as_uuid())
        .bind(operator.as_uuid())
        .bind(stored_instant(now))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        convert_all(rows)
    }

    async fn delete_operator_sessions(
        &self,
        tenant: TenantId,
        operator: OperatorId,
    ) -> StoreResult<u64> {
        let result =
            sqlx::query("DELETE FROM operator_sessions WHERE tenant_id = $1 AND operator_id = $2")
                .bind(tenant.as_uuid())
                .bind(operator.as_uuid())
                .execute(self.pool())
                .await
                .map_err(store_error)?;
        Ok(result.rows_affected())
    }

    async fn insert_password_reset(
        &self,
        tenant: TenantId,
        reset: &PasswordReset,
    ) -> StoreResult<()> {
        same_tenant(tenant, reset.tenant_id, "password reset")?;
        // Only for an operator of this tenant: NotFound otherwise, rather than the
        // foreign-key error the insert would fail with.
        let result = sqlx::query(
            "INSERT INTO password_resets \
                 (token_hash, tenant_id, operator_id, created_at, expires_at, used_at) \
             SELECT $1, $2, $3, $4, $5, NULL \
             WHERE EXISTS (SELECT 1 FROM operators WHERE tenant_id = $2 AND id = $3)",
        )
        .bind(&reset.token_hash[..])
        .bind(tenant.as_uuid())
        .bind(reset.operator_id.as_uuid())
        .bind(stored_instant(reset.created_at))
        .bind(stored_instant(reset.expires_at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        one_row_updated(&result)
    }

    async fn update_operator_status(
        &self,
        tenant: TenantId,
        operator: OperatorId,
        status: OperatorStatus,
    ) -> StoreResult<()> {
        let result =
            sqlx::query("UPDATE operators SET status = $3 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_uuid())
                .bind(operator.as_uuid())
                .bind(status.as_str())
                .execute(self.pool())
                .await
                .map_err(store_error)?;
        one_row_updated(&result)
    }
}

#[async_trait]
impl VisitorStore for PostgresStore {
    async fn insert_visitor(
        &self,
        tenant: TenantId,
        visitor: &Visitor,
        session: &VisitorSession,
    ) -> StoreResult<()> {
        same_tenant(tenant, visitor.tenant_id, "visitor")?;
        same_tenant(tenant, session.tenant_id, "visitor session")?;
        let mut transaction = self.pool().begin().await.map_err(store_error)?;
        sqlx::query(
            "INSERT INTO visitors (id, tenant_id, site_id, name, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(visitor.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(visitor.site_id.as_uuid())
        .bind(visitor.name.as_ref().map(|name| name.as_str()))
        .bind(stored_instant(visitor.created_at))
        .execute(&mut *transaction)
        .await
        .map_err(store_error)?;
        sqlx::query(
            "INSERT INTO visitor_sessions \
                 (id, tenant_id, visitor_id, site_id, token_hash, ip, user_agent, page_url, \
                  page_title, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(session.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(session.visitor_id.as_uuid())
        .bind(session.site_id.as_uuid())
        .bind(&session.token_hash[..])
        .bind(session.browser.ip.map(|ip| ip.to_string()))
        .bind(session.browser.user_agent.as_deref())
        .bind(session.current_page.as_ref().map(|page| page.url.as_str()))
        .bind(
            session
                .current_page
                .as_ref()
                .and_then(|page| page.title.as_deref()),
        )
        .bind(stored_instant(session.created_at))
        .bind(stored_instant(session.last_seen_at))
        .execute(&mut *transaction)
        .await
        .map_err(store_error)?;
        transaction.commit().await.map_err(store_error)?;
        Ok(())
    }

    async fn fetch_visitor(&self, tenant: TenantId, visitor: VisitorId) -> StoreResult<Visitor> {
        let row = sqlx::query_as::<_, VisitorRow>(
            "SELECT * FROM visitors WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(visitor.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        Ok(Visitor::try_from(row)?)
    }

    async fn fetch_latest_visitor_session(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
    ) -> StoreResult<VisitorSession> {
        // Ties on last_seen_at go to the greater id, the later-created session (UUIDv7).
        let row = sqlx::query_as::<_, VisitorSessionRow>(
            "SELECT * FROM visitor_sessions \
             WHERE tenant_id = $1 AND visitor_id = $2 \
             ORDER BY last_seen_at DESC, id DESC \
             LIMIT 1",
        )
        .bind(tenant.as_uuid())
        .bind(visitor.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        Ok(VisitorSession::try_from(row)?)
    }

    async fn update_visitor_session_page(
        &self,
        tenant: TenantId,
        session: VisitorSessionId,
        page: &PageRef,
        now: Timestamp,
    ) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE visitor_sessions SET page_url = $3, page_title = $4, last_seen_at = $5 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(session.as_uuid())
        .bind(page.url.as_str())
        .bind(page.title.as_deref())
        .bind(stored_instant(now))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        one_row_updated(&result)
    }

    async fn touch_visitor_session(
        &self,
        tenant: TenantId,
        session: VisitorSessionId,
        now: Timestamp,
    ) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE visitor_sessions SET last_seen_at = $3 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(session.as_uuid())
        .bind(stored_instant(now))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        one_row_updated(&result)
    }
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn insert_audit_entry(&self, tenant: TenantId, entry: &AuditEntry) -> StoreResult<()> {
        same_tenant(tenant, entry.tenant_id, "audit entry")?;
        let (actor_kind, actor_id) = audit_actor(entry.actor);
        sqlx::query(
            "INSERT INTO audit_log (id, tenant_id, at, actor_kind, actor_id, action, target) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entry.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(stored_instant(entry.at))
        .bind(actor_kind)
        .bind(actor_id)
        .bind(entry.action.as_str())
        .bind(entry.target.as_str())
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn list_audit_entries(
        &self,
        tenant: TenantId,
        before: Option<AuditEntryId>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query_as::<_, AuditRow>(
            "SELECT * FROM audit_log \
             WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2) \
             ORDER BY id DESC \
             LIMIT $3",
        )
        .bind(tenant.as_uuid())
        .bind(before.map(|before| before.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        convert_all(rows)
    }
}

/// `NotFound` unless an `UPDATE ... WHERE tenant_id = .. AND id = ..` matched its row
/// (PostgreSQL counts a matched row even when the new values equal the old ones), or a
/// conditional `INSERT ... SELECT ... WHERE EXISTS` inserted one.
fn one_row_updated(result: &PgQueryResult) -> StoreResult<()> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A failure count as stored (`integer`).
fn failure_count(count: u32) -> StoreResult<i32> {
    i32::try_from(count)
        .map_err(|_| StoreError::Other(format!("failed_logins {count} out of range").into()))
}

/// Refuses to write an entity under a tenant other than its own.
pub(crate) fn same_tenant(
    tenant: TenantId,
    entity_tenant: TenantId,
    what: &str,
) -> StoreResult<()> {
    if tenant == entity_tenant {
        Ok(())
    } else {
        Err(StoreError::Other(
            format!("the {what} belongs to tenant {entity_tenant}, not to {tenant}").into(),
        ))
    }
}
