//! The account-like aggregates of [`SqliteStore`]: the entry lookups (`EntryStore`),
//! tenants and platform admins, sites, and visitors with their sessions (operators are in
//! `operators.rs`, the audit log in `audit.rs`). These are single-row writes (the most
//! frequent, a visitor's page view or reconnect, updates one session row) and plain
//! reads, so they all use the pool rather than the append writer.
//!
//! Inserts take the tenant as a parameter and also find it in the entity; the two must
//! agree, and a mismatch is refused as a caller bug (`Other`) instead of being written
//! under either tenant. An update whose entity names another tenant is `NotFound`, like
//! any id that is not this tenant's.

use async_trait::async_trait;
use livehelp_domain::{
    Email, Operator, OperatorSession, PageRef, PasswordReset, PlatformAdmin, Site, SiteKey, Tenant,
    TenantId, TenantStatus, Timestamp, Visitor, VisitorId, VisitorSession, VisitorSessionId,
};
use livehelp_store::{EntryStore, SiteStore, StoreError, StoreResult, TenantStore, VisitorStore};
use sqlx::Connection;
use sqlx::sqlite::SqliteQueryResult;

use crate::SqliteStore;
use crate::error::store_error;
use crate::rows::{
    OperatorRow, OperatorSessionRow, PasswordResetRow, PlatformAdminRow, SiteRow, TenantRow,
    VisitorRow, VisitorSessionRow, allowed_origins_json, tenant_status_name, to_micros,
};

#[async_trait]
impl EntryStore for SqliteStore {
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
        .bind(to_micros(now))
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
        // One conditional UPDATE: SQLite runs one writer at a time, and the second of two
        // racing uses re-evaluates `used_at IS NULL` after the first committed, so it
        // matches nothing. fetch_all, not fetch_optional: sqlx's SQLite driver only
        // finishes (and so autocommits) a RETURNING statement once it has stepped past its
        // last row (sqlx issue #3430).
        let mut rows = sqlx::query_as::<_, PasswordResetRow>(
            "UPDATE password_resets SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING token_hash, tenant_id, operator_id, created_at, expires_at",
        )
        .bind(&token_hash[..])
        .bind(to_micros(now))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        let row = rows.pop().ok_or(StoreError::NotFound)?;
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
impl TenantStore for SqliteStore {
    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        sqlx::query("INSERT INTO tenants (id, name, status, created_at) VALUES ($1, $2, $3, $4)")
            .bind(tenant.id.as_uuid())
            .bind(tenant.name.as_str())
            .bind(tenant_status_name(tenant.status))
            .bind(to_micros(tenant.created_at))
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
        rows.into_iter()
            .map(|row| Tenant::try_from(row).map_err(StoreError::from))
            .collect()
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
        .bind(to_micros(admin.created_at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl SiteStore for SqliteStore {
    async fn insert_site(&self, tenant: TenantId, site: &Site) -> StoreResult<()> {
        same_tenant(tenant, site.tenant_id, "site")?;
        let result = sqlx::query(
            "INSERT INTO sites \
                 (id, tenant_id, key, name, allowed_origins, privacy_policy_url, require_tls, \
                  created_at, default_department_id) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
             WHERE $9 IS NULL \
                OR EXISTS (SELECT 1 FROM departments WHERE tenant_id = $2 AND id = $9)",
        )
        .bind(site.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(site.key.as_str())
        .bind(site.name.as_str())
        .bind(allowed_origins_json(&site.allowed_origins))
        .bind(site.privacy_policy_url.as_deref())
        .bind(site.require_tls)
        .bind(to_micros(site.created_at))
        .bind(site.default_department_id.map(|id| id.as_uuid()))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        // Nothing inserted: the default department is not this tenant's.
        one_row_updated(&result)
    }

    async fn list_sites(&self, tenant: TenantId) -> StoreResult<Vec<Site>> {
        let rows = sqlx::query_as::<_, SiteRow>(
            "SELECT * FROM sites WHERE tenant_id = $1 ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| Site::try_from(row).map_err(StoreError::from))
            .collect()
    }

    async fn update_site(&self, tenant: TenantId, site: &Site) -> StoreResult<()> {
        // A site of another tenant is not one of this tenant's: not found here.
        if site.tenant_id != tenant {
            return Err(StoreError::NotFound);
        }
        // The key, id and creation time are not in the SET list: they never change.
        let result = sqlx::query(
            "UPDATE sites \
             SET name = $3, allowed_origins = $4, privacy_policy_url = $5, require_tls = $6, \
                 default_department_id = $7 \
             WHERE tenant_id = $1 AND id = $2 \
               AND ($7 IS NULL OR EXISTS \
                   (SELECT 1 FROM departments WHERE tenant_id = $1 AND id = $7))",
        )
        .bind(tenant.as_uuid())
        .bind(site.id.as_uuid())
        .bind(site.name.as_str())
        .bind(allowed_origins_json(&site.allowed_origins))
        .bind(site.privacy_policy_url.as_deref())
        .bind(site.require_tls)
        .bind(site.default_department_id.map(|id| id.as_uuid()))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        one_row_updated(&result)
    }
}

#[async_trait]
impl VisitorStore for SqliteStore {
    async fn insert_visitor(
        &self,
        tenant: TenantId,
        visitor: &Visitor,
        session: &VisitorSession,
    ) -> StoreResult<()> {
        same_tenant(tenant, visitor.tenant_id, "visitor")?;
        same_tenant(tenant, session.tenant_id, "visitor session")?;
        let mut connection = self.pool().acquire().await.map_err(store_error)?;
        // IMMEDIATE: take the write lock now (waiting for it under the busy timeout) rather
        // than at the first insert.
        let mut transaction = connection
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)?;
        sqlx::query(
            "INSERT INTO visitors (id, tenant_id, site_id, name, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(visitor.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(visitor.site_id.as_uuid())
        .bind(visitor.name.as_ref().map(|name| name.as_str()))
        .bind(to_micros(visitor.created_at))
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
        .bind(to_micros(session.created_at))
        .bind(to_micros(session.last_seen_at))
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
        // Ties on last_seen_at go to the greater id, the later-created session (UUIDv7),
        // so the answer does not depend on the query plan.
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
        .bind(to_micros(now))
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
        .bind(to_micros(now))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        one_row_updated(&result)
    }
}

/// `NotFound` unless an `UPDATE ... WHERE tenant_id = .. AND id = ..` matched its row. (SQLite
/// counts a matched row as changed even when the new values equal the old ones, so setting
/// a value twice is not "not found".)
pub(crate) fn one_row_updated(result: &SqliteQueryResult) -> StoreResult<()> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
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
