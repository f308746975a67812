//! The account-like aggregates of [`SqliteStore`]: the entry lookups (`EntryStore`),
//! tenants, sites, operators with their sessions, and visitors with their sessions. These
//! are single-row writes (the most frequent, a visitor's page view or reconnect, updates
//! one session row) and plain reads, so they all use the pool rather than the append
//! writer.
//!
//! Inserts take the tenant as a parameter and also find it in the entity; the two must
//! agree, and a mismatch is refused as a caller bug (`Other`) instead of being written
//! under either tenant.

use async_trait::async_trait;
use livehelp_domain::{
    Email, Operator, OperatorId, OperatorSession, OperatorStatus, PageRef, SessionId, Site,
    SiteKey, Tenant, TenantId, Timestamp, Visitor, VisitorId, VisitorSession, VisitorSessionId,
};
use livehelp_store::{
    EntryStore, OperatorStore, SiteStore, StoreError, StoreResult, TenantStore, VisitorStore,
};
use sqlx::Connection;
use sqlx::sqlite::SqliteQueryResult;

use crate::SqliteStore;
use crate::error::store_error;
use crate::rows::{
    OperatorRow, OperatorSessionRow, SiteRow, TenantRow, VisitorRow, VisitorSessionRow,
    allowed_origins_json, tenant_status_name, to_micros,
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
}

#[async_trait]
impl SiteStore for SqliteStore {
    async fn insert_site(&self, tenant: TenantId, site: &Site) -> StoreResult<()> {
        same_tenant(tenant, site.tenant_id, "site")?;
        sqlx::query(
            "INSERT INTO sites \
                 (id, tenant_id, key, name, allowed_origins, privacy_policy_url, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(site.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(site.key.as_str())
        .bind(site.name.as_str())
        .bind(allowed_origins_json(&site.allowed_origins))
        .bind(site.privacy_policy_url.as_deref())
        .bind(to_micros(site.created_at))
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
        rows.into_iter()
            .map(|row| Site::try_from(row).map_err(StoreError::from))
            .collect()
    }
}

#[async_trait]
impl OperatorStore for SqliteStore {
    async fn insert_operator(&self, tenant: TenantId, operator: &Operator) -> StoreResult<()> {
        same_tenant(tenant, operator.tenant_id, "operator")?;
        sqlx::query(
            "INSERT INTO operators \
                 (id, tenant_id, email, display_name, role, password_hash, disabled, status, \
                  created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(operator.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(operator.email.as_str())
        .bind(operator.display_name.as_str())
        .bind(operator.role.as_str())
        .bind(operator.password_hash.as_str())
        .bind(operator.disabled)
        .bind(operator.status.as_str())
        .bind(to_micros(operator.created_at))
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
        rows.into_iter()
            .map(|row| Operator::try_from(row).map_err(StoreError::from))
            .collect()
    }

    async fn insert_operator_session(
        &self,
        tenant: TenantId,
        session: &OperatorSession,
    ) -> StoreResult<()> {
        same_tenant(tenant, session.tenant_id, "operator session")?;
        sqlx::query(
            "INSERT INTO operator_sessions \
                 (id, tenant_id, operator_id, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(session.operator_id.as_uuid())
        .bind(&session.token_hash[..])
        .bind(to_micros(session.created_at))
        .bind(to_micros(session.expires_at))
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
fn one_row_updated(result: &SqliteQueryResult) -> StoreResult<()> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Refuses to write an entity under a tenant other than its own.
fn same_tenant(tenant: TenantId, entity_tenant: TenantId, what: &str) -> StoreResult<()> {
    if tenant == entity_tenant {
        Ok(())
    } else {
        Err(StoreError::Other(
            format!("the {what} belongs to tenant {entity_tenant}, not to {tenant}").into(),
        ))
    }
}
