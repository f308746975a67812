//! `OperatorStore` for [`SqliteStore`]: operator accounts, their login sessions, the
//! lock-out counter and password-reset links. Single statements on the pool, every one
//! scoped by the tenant.
//!
//! The two security-critical writes are one statement each, so SQLite's single writer
//! makes them atomic without a read-then-write race: `record_login_failure` computes the
//! new count and the lock in the `UPDATE` itself from the row as it is when the write lock
//! is held, and `insert_password_reset` inserts only if the operator is this tenant's
//! (`INSERT ... SELECT FROM operators`), which answers `NotFound` rather than a
//! foreign-key error for someone else's operator.

use async_trait::async_trait;
use livehelp_domain::{
    Operator, OperatorId, OperatorSession, OperatorStatus, PasswordReset, SessionId, TenantId,
    Timestamp,
};
use livehelp_store::{OperatorStore, StoreError, StoreResult};

use crate::SqliteStore;
use crate::accounts::{one_row_updated, same_tenant};
use crate::error::store_error;
use crate::rows::{OperatorRow, OperatorSessionRow, to_micros};

#[async_trait]
impl OperatorStore for SqliteStore {
    async fn insert_operator(&self, tenant: TenantId, operator: &Operator) -> StoreResult<()> {
        same_tenant(tenant, operator.tenant_id, "operator")?;
        sqlx::query(
            "INSERT INTO operators \
                 (id, tenant_id, email, display_name, role, password_hash, disabled, status, \
                  failed_logins, locked_until, created_at, max_chats) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(operator.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(operator.email.as_str())
        .bind(operator.display_name.as_str())
        .bind(operator.role.as_str())
        .bind(operator.password_hash.as_str())
        .bind(operator.disabled)
        .bind(operator.status.as_str())
        .bind(i64::from(operator.failed_logins))
        .bind(operator.locked_until.map(to_micros))
        .bind(to_micros(operator.created_at))
        .bind(operator.max_chats.map(i64::from))
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

    async fn update_operator(&self, tenant: TenantId, operator: &Operator) -> StoreResult<()> {
        // An operator of another tenant is not one of this tenant's: not found here.
        if operator.tenant_id != tenant {
            return Err(StoreError::NotFound);
        }
        let result = sqlx::query(
            "UPDATE operators \
             SET display_name = $3, role = $4, password_hash = $5, disabled = $6, \
                 max_chats = $7 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(operator.id.as_uuid())
        .bind(operator.display_name.as_str())
        .bind(operator.role.as_str())
        .bind(operator.password_hash.as_str())
        .bind(operator.disabled)
        .bind(operator.max_chats.map(i64::from))
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
        // Both SET expressions read the row as it was before this UPDATE, so the count
        // that decides the lock is the same one that is incremented. `>=` rather than `=`:
        // a count left above a since-lowered limit locks at the next failure instead of
        // never. A lock_after of 0 therefore locks at every failure.
        let locked_until = now.saturating_add(lock_for);
        // fetch_all, not fetch_optional: sqlx's SQLite driver only finishes (and so
        // autocommits) a RETURNING statement once it has stepped past its last row
        // (sqlx issue #3430).
        let mut rows = sqlx::query_as::<_, OperatorRow>(
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
        .bind(to_micros(locked_until))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        let row = rows.pop().ok_or(StoreError::NotFound)?;
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
        // Ties on created_at go to the greater id, the later-created session (UUIDv7).
        let rows = sqlx::query_as::<_, OperatorSessionRow>(
            "SELECT * FROM operator_sessions \
             WHERE tenant_id = $1 AND operator_id = $2 AND expires_at > $3 \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(tenant.as_uuid())
        .bind(operator.as_uuid())
        .bind(to_micros(now))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| OperatorSession::try_from(row).map_err(StoreError::from))
            .collect()
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
        let result = sqlx::query(
            "INSERT INTO password_resets \
                 (token_hash, tenant_id, operator_id, created_at, expires_at, used_at) \
             SELECT $1, tenant_id, id, $4, $5, NULL FROM operators \
             WHERE tenant_id = $2 AND id = $3",
        )
        .bind(&reset.token_hash[..])
        .bind(tenant.as_uuid())
        .bind(reset.operator_id.as_uuid())
        .bind(to_micros(reset.created_at))
        .bind(to_micros(reset.expires_at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
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
