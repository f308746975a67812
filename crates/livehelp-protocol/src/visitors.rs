//! REST bodies of visitor tracking (issue 6): the widget's page-view batches (public,
//! anonymous), the page-view tallies operators read, and the tenant's tracking settings
//! and each site's kept query parameters (admins).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /api/v1/sites/{site_key}/page-views` body: 1 to 20 views. The widget sends it
/// with `navigator.sendBeacon` as `text/plain` (no CORS preflight); the server reads JSON
/// whatever the content type says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageViewBatch {
    /// The views, oldest first.
    pub views: Vec<PageViewDto>,
}

/// One page view in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageViewDto {
    /// The page address (`location.href`); the server drops the fragment and every query
    /// parameter the site does not keep. At most 2048 bytes once cleaned.
    pub url: String,
    /// `document.title`.
    #[serde(default)]
    pub title: Option<String>,
    /// `document.referrer`.
    #[serde(default)]
    pub referrer: Option<String>,
}

/// Answer to a page-view batch (202).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageViewBatchResponse {
    /// How many views were counted (all of the batch).
    pub counted: u32,
}

/// One row of `GET /api/v1/page-views?from=YYYY-MM-DD&to=YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageViewTallyDto {
    /// The site.
    pub site_id: Uuid,
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// The page address as counted.
    pub url: String,
    /// Views of that page on that day.
    pub views: u64,
}

/// `GET /api/v1/page-views` answer: the tenant's tallies by day, site, then url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageViewTallyResponse {
    /// The tallies.
    pub tallies: Vec<PageViewTallyDto>,
}

/// `GET`/`PUT /api/v1/tracking-settings` body (admins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackingSettingsDto {
    /// Zero the last IPv4 octet / the last 80 bits of IPv6 before any IP is stored.
    pub anonymize_ips: bool,
    /// Days a visitor's page trail is kept, 1 to 3650.
    pub trail_retention_days: u32,
}

/// `GET`/`PUT /api/v1/sites/{site_id}/query-params` body (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryParamsDto {
    /// Query parameter names kept in counted page addresses (all others are dropped);
    /// absent means none.
    #[serde(default)]
    pub params: Vec<String>,
}

/// One page of `GET /api/v1/visitors/{id}/page-trail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageTrailEventDto {
    /// Page address (cleaned).
    pub url: String,
    /// Page title, if any.
    pub title: Option<String>,
    /// Referrer (cleaned), if any.
    pub referrer: Option<String>,
    /// When, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

/// `GET /api/v1/visitors/{id}/page-trail` answer (operators of the visitor's tenant): the
/// pages the visitor viewed while holding a token, oldest first, within the tenant's
/// retention period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageTrailResponse {
    /// The pages.
    pub pages: Vec<PageTrailEventDto>,
}
