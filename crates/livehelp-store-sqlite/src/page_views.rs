//! `PageViewStore` for [`SqliteStore`]: page-view tallies (one upsert per distinct page
//! and day of a batch, all in one transaction on the pool), the page trail, the tenant's
//! tracking settings and each site's kept query parameters.

use std::collections::BTreeMap;

use async_trait::async_trait;
use livehelp_domain::{SiteId, TenantId, Timestamp, VisitorId, VisitorSessionId};
use livehelp_store::survey_json::{strings_from_json, strings_to_json};
use livehelp_store::{
    PageTrailEvent, PageViewCount, PageViewStore, PageViewTally, StoreError, StoreResult,
    TrackingSettings,
};
use sqlx::FromRow;
use time::Date;
use uuid::Uuid;

use crate::SqliteStore;
use crate::error::store_error;
use crate::rows::{CorruptRow, from_micros, to_micros};

#[async_trait]
impl PageViewStore for SqliteStore {
    async fn insert_page_views(
        &self,
        tenant: TenantId,
        site: SiteId,
        views: &[PageViewCount],
        trail: &[PageTrailEvent],
    ) -> StoreResult<()> {
        // The same page and day counted once with its total: fewer statements.
        let mut totals: BTreeMap<(String, &str), i64> = BTreeMap::new();
        for view in views {
            *totals.entry((day_text(view.day), &view.url)).or_default() += 1;
        }
        let mut transaction = self.pool().begin().await.map_err(store_error)?;
        for ((day, url), count) in totals {
            sqlx::query(
                "INSERT INTO page_view_tallies (tenant_id, site_id, day, url, views) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, day, site_id, url) DO UPDATE SET views = views + $5",
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
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS \
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
            .bind(to_micros(event.at))
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
             ORDER BY day, site_id, url",
        )
        .bind(tenant_id.as_uuid())
        .bind(day_text(from))
        .bind(day_text(to_inclusive))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                Ok(PageViewTally {
                    site_id: SiteId::from_uuid(row.site_id),
                    day: parse_day(&row.day)?,
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
                    at: from_micros(row.at)?,
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
            .bind(to_micros(before))
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected())
    }

    async fn fetch_tracking_settings(&self, tenant: TenantId) -> StoreResult<TrackingSettings> {
        let row: Option<(bool, i64)> = sqlx::query_as(
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
        .bind(i64::from(settings.trail_retention_days))
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
        let params: Option<String> = sqlx::query_scalar(
            "SELECT params FROM site_query_params WHERE tenant_id = $1 AND site_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(site.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        params.map_or(Ok(Vec::new()), |text| strings_from_json(&text))
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
        .bind(strings_to_json(params))
        .execute(self.pool())
        .await
        .map_err(foreign_key_is_not_found)?;
        Ok(())
    }
}

#[derive(FromRow)]
struct TallyRow {
    site_id: Uuid,
    day: String,
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
    at: i64,
}

fn foreign_key_is_not_found(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(database) = &error
        && database.kind() == sqlx::error::ErrorKind::ForeignKeyViolation
    {
        return StoreError::NotFound;
    }
    store_error(error)
}

fn day_text(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

fn parse_day(text: &str) -> Result<Date, CorruptRow> {
    let corrupt = || CorruptRow(format!("page view day {text:?}"));
    let mut parts = text.splitn(3, '-');
    let mut next = || parts.next().ok_or_else(corrupt);
    let year: i32 = next()?.parse().map_err(|_| corrupt())?;
    let month: u8 = next()?.parse().map_err(|_| corrupt())?;
    let day: u8 = next()?.parse().map_err(|_| corrupt())?;
    let month = time::Month::try_from(month).map_err(|_| corrupt())?;
    Date::from_calendar_date(year, month, day).map_err(|_| corrupt())
}
