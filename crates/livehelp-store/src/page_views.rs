//! [`PageViewStore`]: page-view tallies (issue 6, item 1; PRODUCT.md M7), the per-visit
//! page trail of visitors who hold a visitor token, and the tenant's visitor-tracking
//! settings (IP anonymisation, trail retention) and each site's allowed query parameters.
//!
//! The tallies carry no identifier at all: one counter per (site, page, UTC day). Only the
//! trail names a visitor, and it is deleted after the tenant's retention period
//! ([`PageViewStore::delete_page_trail_before`]); the tallies are kept.

use async_trait::async_trait;
use livehelp_domain::{SiteId, TenantId, Timestamp, VisitorId, VisitorSessionId};
use time::Date;

use crate::{StoreError, StoreResult};

/// One tally row: views of one page (URL without query) of one site on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageViewTally {
    /// The site the page belongs to.
    pub site_id: SiteId,
    /// The UTC day of the views.
    pub day: time::Date,
    /// The page address as counted (query string and fragment stripped, except the
    /// site's allowed query parameters).
    pub url: String,
    /// How many views.
    pub views: u64,
}

/// One page view to count: its UTC day and its page address (already cleaned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageViewCount {
    /// UTC day.
    pub day: Date,
    /// Page address, at most 2048 bytes.
    pub url: String,
}

/// One event of a visitor's page trail (only for a visitor with a visitor token who did
/// not ask not to be tracked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageTrailEvent {
    /// The visitor.
    pub visitor_id: VisitorId,
    /// Their session at the time.
    pub session_id: VisitorSessionId,
    /// The site.
    pub site_id: SiteId,
    /// Page address (cleaned like the tallies').
    pub url: String,
    /// Page title, if any.
    pub title: Option<String>,
    /// Referrer (cleaned like the page address), if any.
    pub referrer: Option<String>,
    /// When the page was viewed.
    pub at: Timestamp,
}

/// A tenant's visitor-tracking settings. A tenant that never saved any has
/// [`TrackingSettings::default`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackingSettings {
    /// Zero the last IPv4 octet / the last 80 bits of an IPv6 address before any IP is
    /// stored (M6).
    pub anonymize_ips: bool,
    /// Days a visitor's page trail is kept (1 to 3650).
    pub trail_retention_days: u32,
}

impl Default for TrackingSettings {
    /// IPs kept whole (the tenant decides), trails kept 30 days.
    fn default() -> Self {
        Self {
            anonymize_ips: false,
            trail_retention_days: 30,
        }
    }
}

/// Page-view tallies, page trails and the settings that govern them. Every method is
/// scoped by the tenant.
#[async_trait]
pub trait PageViewStore: Send + Sync {
    /// Counts a batch of views of one site's pages and stores the trail events, in one
    /// transaction: every view counted and every event stored, or nothing. Several views
    /// of the same page and day add up. `NotFound` when the site (or a trail event's
    /// visitor or session) is not one of this tenant's.
    async fn insert_page_views(
        &self,
        tenant: TenantId,
        site: SiteId,
        views: &[PageViewCount],
        trail: &[PageTrailEvent],
    ) -> StoreResult<()>;
    /// The tenant's tallies with `from <= day <= to_inclusive`, ordered by day, site id,
    /// then url (byte order). Empty when there are none.
    async fn page_view_tallies(
        &self,
        tenant_id: TenantId,
        from: time::Date,
        to_inclusive: time::Date,
    ) -> Result<Vec<PageViewTally>, StoreError>;
    /// A visitor's page trail, oldest first (by `at`, then insertion order).
    async fn list_page_trail(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
    ) -> StoreResult<Vec<PageTrailEvent>>;
    /// Deletes the tenant's trail events with `at < before`; returns how many.
    async fn delete_page_trail_before(
        &self,
        tenant: TenantId,
        before: Timestamp,
    ) -> StoreResult<u64>;
    /// The tenant's tracking settings (the defaults when none were saved).
    async fn fetch_tracking_settings(&self, tenant: TenantId) -> StoreResult<TrackingSettings>;
    /// Saves the tenant's tracking settings; `NotFound` for an unknown tenant.
    async fn update_tracking_settings(
        &self,
        tenant: TenantId,
        settings: &TrackingSettings,
    ) -> StoreResult<()>;
    /// The query parameter names a site keeps in counted page addresses (empty by
    /// default), in the order saved.
    async fn fetch_site_query_params(
        &self,
        tenant: TenantId,
        site: SiteId,
    ) -> StoreResult<Vec<String>>;
    /// Replaces a site's kept query parameter names; `NotFound` for a site that is not
    /// one of this tenant's.
    async fn update_site_query_params(
        &self,
        tenant: TenantId,
        site: SiteId,
        params: &[String],
    ) -> StoreResult<()>;
}
