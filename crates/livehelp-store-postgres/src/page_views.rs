//! `PageViewStore` for [`PostgresStore`]: page-view tallies (one upsert per distinct page
//! and day of a batch, all in one transaction on the pool, so concurrent batches on any
//! node add up), the page trail, the tenant's tracking settings and each site's kept
//! query parameters.

use std::collections::BTreeMap;

use async_trait::async_trait;
use livehelp_domain::{SiteId, TenantId, Timestamp, VisitorId, VisitorSessionId};
use livehelp_store::{
    PageTrailEvent, PageViewCount, PageViewStore, PageViewTally, StoreError, StoreResult,
    TrackingSettings,
};
use sqlx::FromRow;
use time::Date;
use uuid::Uuid;

use crate::PostgresStore;
use crate::error::store_error;
use crate::rows::{CorruptRow, stored_instant};

#[async_trait]
impl PageViewStore for PostgresStore {
    async fn insert_page_views(
        &self,
        tenant: TenantId,
        site: SiteId,
        views: &[PageViewCount],
        trail: &[PageTrailEvent],
    ) -> StoreResult<()> {
        // The same page and day counted once with its total: fewer statements.
        let mut totals: BTreeMap<(Date, &str), i64> = BTreeMap::new();
        for view in views {
            *totals.entry((view.day, &view.url)).or_default() += 1;
        }
        let mut transaction = self.pool().begin().await.map_err(store_error)?;
        for ((day, url), count) in totals {
            sqlx::query(
                "INSERT INTO page_view_tallies (tenant_id, site_id, day, url, views) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, day, site_id, url) DO UPDATE SET views = page_view_tallies.views + $5",
            )
            .bind(tenant.as_uuid())
            .bind(site.as_uuid())
            .bind(day)
            .bind(url)
            .bind(count)
            .execute(&mut *transaction)
            .await
            .map_err(foreign_key_is_not_found)?;
        }
        for event in trail {
            if event.site_id != site {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO page_trail \
                 (tenant_id, visitor_id, session_id, site_id, url, title, referrer, at) \
                 SELECT $1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::text, $6::text, $7::text, $8::timestamptz WHERE EXISTS \
                 (SELECT 1 FROM visitor_sessions WHERE tenant_id = $1 AND id = $3 \
                  AND visitor_id = $2)",
            )
            .bind(tenant.as_uuid())
            .bind(event.visitor_id.as_uuid())
            .bind(event.session_id.as_uuid())
            .bind(site.as_uuid())
            .bind(&event.url)
            .bind(&event.title)
            .bind(&event.referrer)
            .bind(stored_instant(event.at))
            .execute(&mut *transaction)
            .await
            .map_err(foreign_key_is_not_found)
            .and_then(|done| {
                if done.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err(StoreError::NotFound)
                }
            })?;
        }
        transaction.commit().await.map_err(store_error)?;
        Ok(())
    }

    async fn page_view_tallies(
        &self,
        tenant_id: TenantId,
        from: time::Date,
        to_inclusive: time::Date,
    ) -> Result<Vec<PageViewTally>, StoreError> {
        let rows = sqlx::query_as::<_, TallyRow>(
            "SELECT site_id, day, url, views FROM page_view_tallies \
             WHERE tenant_id = $1 AND day >= $2 AND day <= $3 \
             ORDER BY day, site_id, url COLLATE \"C\"",
        )
        .bind(tenant_id.as_uuid())
        .bind(from)
        .bind(to_inclusive)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                Ok(PageViewTally {
                    site_id: SiteId::from_uuid(row.site_id),
                    day: row.day,
                    url: row.url,
                    views: u64::try_from(row.views).map_err(|_| CorruptRow("views".into()))?,
                })
            })
            .collect::<Result<_, CorruptRow>>()
            .map_err(StoreError::from)
    }

    async fn list_page_trail(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
    ) -> StoreResult<Vec<PageTrailEvent>> {
        let rows = sqlx::query_as::<_, TrailRow>(
            "SELECT visitor_id, session_id, site_id, url, title, referrer, at FROM page_trail \
             WHERE tenant_id = $1 AND visitor_id = $2 ORDER BY at, seq",
        )
        .bind(tenant.as_uuid())
        .bind(visitor.as_uuid())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                Ok(PageTrailEvent {
                    visitor_id: VisitorId::from_uuid(row.visitor_id),
                    session_id: VisitorSessionId::from_uuid(row.session_id),
                    site_id: SiteId::from_uuid(row.site_id),
                    url: row.url,
                    title: row.title,
                    referrer: row.referrer,
                    at: row.at,
                })
            })
            .collect::<Result<_, CorruptRow>>()
            .map_err(StoreError::from)
    }

    async fn delete_page_trail_before(
        &self,
        tenant: TenantId,
        before: Timestamp,
    ) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM page_trail WHERE tenant_id = $1 AND at < $2")
            .bind(tenant.as_uuid())
            .bind(before)
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected())
    }

    async fn fetch_tracking_settings(&self, tenant: TenantId) -> StoreResult<TrackingSettings> {
        let row: Option<(bool, i32)> = sqlx::query_as(
            "SELECT anonymize_ips, trail_retention_days FROM tracking_settings \
             WHERE tenant_id = $1",
        )
        .bind(tenant.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        Ok(match row {
            None => TrackingSettings::default(),
            Some((anonymize_ips, days)) => TrackingSettings {
                anonymize_ips,
                trail_retention_days: u32::try_from(days)
                    .map_err(|_| StoreError::from(CorruptRow("trail_retention_days".into())))?,
            },
        })
    }

    async fn update_tracking_settings(
        &self,
        tenant: TenantId,
        settings: &TrackingSettings,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tracking_settings (tenant_id, anonymize_ips, trail_retention_days) \
             VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET \
             anonymize_ips = excluded.anonymize_ips, \
             trail_retention_days = excluded.trail_retention_days",
        )
        .bind(tenant.as_uuid())
        .bind(settings.anonymize_ips)
        .bind(i32::try_from(settings.trail_retention_days).unwrap_or(i32::MAX))
        .execute(self.pool())
        .await
        .map_err(foreign_key_is_not_found)?;
        Ok(())
    }

    async fn fetch_site_query_params(
        &self,
        tenant: TenantId,
        site: SiteId,
    ) -> StoreResult<Vec<String>> {
        let params: Option<Vec<String>> = sqlx::query_scalar(
            "SELECT params FROM site_query_params WHERE tenant_id = $1 AND site_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(site.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        Ok(params.unwrap_or_default())
    }

    async fn update_site_query_params(
        &self,
        tenant: TenantId,
        site: SiteId,
        params: &[String],
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO site_query_params (tenant_id, site_id, params) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, site_id) DO UPDATE SET params = excluded.params",
        )
        .bind(tenant.as_uuid())
        .bind(site.as_uuid())
        .bind(params)
        .execute(self.pool())
        .await
        .map_err(foreign_key_is_not_found)?;
        Ok(())
    }
}

#[derive(FromRow)]
struct TallyRow {
    site_id: Uuid,
    day: Date,
    url: String,
    views: i64,
}

#[derive(FromRow)]
struct TrailRow {
    visitor_id: Uuid,
    session_id: Uuid,
    site_id: Uuid,
    url: String,
    title: Option<String>,
    referrer: Option<String>,
    at: Timestamp,
}

fn foreign_key_is_not_found(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(database) = &error
        && database.kind() == sqlx::error::ErrorKind::ForeignKeyViolation
    {
        return StoreError::NotFound;
    }
    store_error(error)
}
