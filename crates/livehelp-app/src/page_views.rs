//! Page views (issue 6, item 1; PRODUCT.md M7): anonymous tallies counted from the
//! widget's batches, the page trail of visitors who hold a token (and did not ask not to
//! be tracked), the tenant's tracking settings (IP anonymisation, trail retention) and
//! each site's kept query parameters.
//!
//! A batch is checked whole before anything is written (size, every address, the site and
//! the caller's origin), then counted in one store transaction: a refused batch is counted
//! nowhere.

use livehelp_domain::{Role, Site, TenantId};
use livehelp_store::{PageTrailEvent, PageViewCount, PageViewTally, TrackingSettings};
use time::{Date, OffsetDateTime};

use crate::visitors::{MAX_PAGE_TITLE_BYTES, MAX_PAGE_URL_BYTES, truncate};
use crate::{App, AppError, OperatorPrincipal, SiteAccess, VisitorPrincipal};

/// Most views in one batch (the widget sends at most 10; headroom for a slow flush).
pub const MAX_PAGE_VIEW_BATCH: usize = 20;
/// Most query parameter names a site may keep.
pub const MAX_KEPT_QUERY_PARAMS: usize = 20;
/// Longest kept query parameter name, in bytes.
pub const MAX_QUERY_PARAM_NAME_BYTES: usize = 64;
/// Bounds of the trail retention a tenant may set, in days.
pub const TRAIL_RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;

/// One reported page view, as the widget sends it.
#[derive(Debug, Clone, Default)]
pub struct PageViewInput {
    /// The page address (http or https, on one of the site's allowed origins).
    pub url: String,
    /// The document title.
    pub title: Option<String>,
    /// The referrer, if any (cleaned like the address; dropped when not a web address).
    pub referrer: Option<String>,
}

/// Why a batch was refused; nothing of it was counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageViewError {
    /// More than [`MAX_PAGE_VIEW_BATCH`] views, or none.
    #[error("a batch holds 1 to {max} page views; this one holds {count}")]
    BatchSize {
        /// The limit.
        max: usize,
        /// What was sent.
        count: usize,
    },
    /// One view's address is not a page of this site.
    #[error("page view {index}: {reason}")]
    InvalidView {
        /// Its position in the batch, from 0.
        index: usize,
        /// Why.
        reason: String,
    },
}

impl App {
    /// Counts a batch of page views of the site with `site_key` on `now`'s UTC day. No
    /// identifier is involved: anyone may report, before any consent (X1). Refused whole
    /// ([`AppError::SiteNotFound`], [`AppError::OriginNotAllowed`],
    /// [`AppError::TenantSuspended`], [`AppError::PageViews`]) or counted whole. Returns
    /// how many views were counted.
    pub async fn count_page_views(
        &self,
        site_key: &str,
        access: &SiteAccess,
        views: &[PageViewInput],
        now: OffsetDateTime,
    ) -> Result<usize, AppError> {
        if views.is_empty() || views.len() > MAX_PAGE_VIEW_BATCH {
            return Err(PageViewError::BatchSize {
                max: MAX_PAGE_VIEW_BATCH,
                count: views.len(),
            }
            .into());
        }
        let site = self
            .find_site(site_key)
            .await?
            .ok_or(AppError::SiteNotFound)?;
        // Only the origin rule: tallies are anonymous, TLS is about chats.
        if let Some(origin) = &access.origin
            && !site.allows_origin(origin)
        {
            return Err(AppError::OriginNotAllowed);
        }
        let tenant = self.store.fetch_tenant(site.tenant_id).await?;
        if tenant.status != livehelp_domain::TenantStatus::Active {
            return Err(AppError::TenantSuspended);
        }
        let kept = self
            .store
            .fetch_site_query_params(site.tenant_id, site.id)
            .await?;
        let day = now.to_offset(time::UtcOffset::UTC).date();
        let counts = views
            .iter()
            .enumerate()
            .map(|(index, view)| {
                let url = site_page_url(&site, &view.url, &kept)
                    .map_err(|reason| PageViewError::InvalidView { index, reason })?;
                Ok(PageViewCount { day, url })
            })
            .collect::<Result<Vec<_>, PageViewError>>()?;
        self.store
            .insert_page_views(site.tenant_id, site.id, &counts, &[])
            .await?;
        Ok(counts.len())
    }

    /// Adds one page to a visitor's trail (a visitor with a token, who did not ask not to
    /// be tracked: the caller checks Global Privacy Control / Do-Not-Track).
    pub(crate) async fn record_trail_event(
        &self,
        visitor: &VisitorPrincipal,
        view: &PageViewInput,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let kept = self
            .store
            .fetch_site_query_params(visitor.tenant_id, visitor.site_id)
            .await?;
        let url = clean_url(&view.url, &kept).map_err(AppError::InvalidRequest)?;
        let event = PageTrailEvent {
            visitor_id: visitor.visitor_id,
            session_id: visitor.session_id,
            site_id: visitor.site_id,
            url,
            title: clean_title(view.title.as_deref()),
            referrer: view
                .referrer
                .as_deref()
                .and_then(|referrer| clean_url(referrer, &[]).ok()),
            at: now,
        };
        Ok(self
            .store
            .insert_page_views(visitor.tenant_id, visitor.site_id, &[], &[event])
            .await?)
    }

    /// A visitor's page trail, oldest first (any operator of the visitor's tenant; another
    /// tenant's visitor answers `NotFound`).
    pub async fn page_trail(
        &self,
        operator: &OperatorPrincipal,
        visitor: livehelp_domain::VisitorId,
    ) -> Result<Vec<PageTrailEvent>, AppError> {
        self.store
            .fetch_visitor(operator.tenant_id, visitor)
            .await?;
        Ok(self
            .store
            .list_page_trail(operator.tenant_id, visitor)
            .await?)
    }

    /// The operator's tenant's page-view tallies of `from..=to` (UTC days). Any operator
    /// of the tenant may read them; at most 366 days.
    pub async fn page_view_tallies(
        &self,
        operator: &OperatorPrincipal,
        from: Date,
        to: Date,
    ) -> Result<Vec<PageViewTally>, AppError> {
        if to < from || (to - from).whole_days() > 366 {
            return Err(AppError::InvalidRequest(
                "the range must run forwards and span at most 366 days".into(),
            ));
        }
        Ok(self
            .store
            .page_view_tallies(operator.tenant_id, from, to)
            .await?)
    }

    /// The tenant's tracking settings. Admins only.
    pub async fn tracking_settings(
        &self,
        operator: &OperatorPrincipal,
    ) -> Result<TrackingSettings, AppError> {
        require_admin(operator)?;
        Ok(self
            .store
            .fetch_tracking_settings(operator.tenant_id)
            .await?)
    }

    /// Replaces the tenant's tracking settings (admins only); records it in the audit log.
    pub async fn update_tracking_settings(
        &self,
        operator: &OperatorPrincipal,
        settings: TrackingSettings,
        now: OffsetDateTime,
    ) -> Result<TrackingSettings, AppError> {
        require_admin(operator)?;
        if !TRAIL_RETENTION_DAYS.contains(&settings.trail_retention_days) {
            return Err(AppError::InvalidRequest(format!(
                "trail_retention_days must be {} to {}",
                TRAIL_RETENTION_DAYS.start(),
                TRAIL_RETENTION_DAYS.end()
            )));
        }
        self.store
            .update_tracking_settings(operator.tenant_id, &settings)
            .await?;
        self.audit(
            operator.tenant_id,
            livehelp_domain::AuditActor::Operator(operator.operator_id),
            "tracking_settings_updated",
            format!(
                "anonymize_ips:{} trail_retention_days:{}",
                settings.anonymize_ips, settings.trail_retention_days
            ),
            now,
        )
        .await?;
        Ok(settings)
    }

    /// The query parameter names a site of the operator's tenant keeps (admins only).
    pub async fn site_query_params(
        &self,
        operator: &OperatorPrincipal,
        site: livehelp_domain::SiteId,
    ) -> Result<Vec<String>, AppError> {
        require_admin(operator)?;
        self.tenant_site(operator.tenant_id, site).await?;
        Ok(self
            .store
            .fetch_site_query_params(operator.tenant_id, site)
            .await?)
    }

    /// Replaces the query parameter names a site keeps in counted addresses (admins only):
    /// at most [`MAX_KEPT_QUERY_PARAMS`] names of 1 to `MAX_QUERY_PARAM_NAME_BYTES`
    /// bytes of `[A-Za-z0-9_.-]`, duplicates dropped.
    pub async fn update_site_query_params(
        &self,
        operator: &OperatorPrincipal,
        site: livehelp_domain::SiteId,
        params: Vec<String>,
    ) -> Result<Vec<String>, AppError> {
        require_admin(operator)?;
        self.tenant_site(operator.tenant_id, site).await?;
        let mut kept: Vec<String> = Vec::new();
        for name in params {
            let name = name.trim().to_owned();
            let valid = !name.is_empty()
                && name.len() <= MAX_QUERY_PARAM_NAME_BYTES
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
            if !valid {
                return Err(AppError::InvalidRequest(format!(
                    "query parameter names are 1 to {MAX_QUERY_PARAM_NAME_BYTES} characters of A-Z a-z 0-9 _ . -"
                )));
            }
            if !kept.contains(&name) {
                kept.push(name);
            }
        }
        if kept.len() > MAX_KEPT_QUERY_PARAMS {
            return Err(AppError::InvalidRequest(format!(
                "at most {MAX_KEPT_QUERY_PARAMS} query parameter names"
            )));
        }
        self.store
            .update_site_query_params(operator.tenant_id, site, &kept)
            .await?;
        Ok(kept)
    }

    /// Deletes every tenant's trail events older than its retention period; returns how
    /// many were deleted. Run by the sweeper.
    pub async fn expire_page_trails(&self, now: OffsetDateTime) -> Result<u64, AppError> {
        let mut deleted = 0;
        for tenant in self.store.list_tenants().await? {
            let settings = self.store.fetch_tracking_settings(tenant.id).await?;
            let before = now - time::Duration::days(i64::from(settings.trail_retention_days));
            deleted += self
                .store
                .delete_page_trail_before(tenant.id, before)
                .await?;
        }
        Ok(deleted)
    }

    async fn tenant_site(
        &self,
        tenant: TenantId,
        site: livehelp_domain::SiteId,
    ) -> Result<Site, AppError> {
        self.store
            .list_sites(tenant)
            .await?
            .into_iter()
            .find(|candidate| candidate.id == site)
            .ok_or(AppError::NotFound)
    }
}

/// An IP address with its host part zeroed, the way Google Analytics' IP anonymisation
/// does it: the last octet of an IPv4 address, the last 80 bits of an IPv6 address (so a
/// /48 network remains).
pub fn anonymize_ip(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            std::net::Ipv4Addr::new(a, b, c, 0).into()
        }
        std::net::IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 80) - 1);
            std::net::Ipv6Addr::from(bits).into()
        }
    }
}

impl App {
    /// The IP to store for a client of `tenant`: anonymised when the tenant asks for it.
    pub(crate) async fn ip_to_store(
        &self,
        tenant: TenantId,
        ip: Option<std::net::IpAddr>,
    ) -> Result<Option<std::net::IpAddr>, AppError> {
        let Some(ip) = ip else { return Ok(None) };
        let settings = self.store.fetch_tracking_settings(tenant).await?;
        Ok(Some(if settings.anonymize_ips {
            anonymize_ip(ip)
        } else {
            ip
        }))
    }
}

fn require_admin(operator: &OperatorPrincipal) -> Result<(), AppError> {
    if operator.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::RoleRequired)
    }
}

/// A page address of `site`, cleaned by [`clean_url`]; its origin must be one of the
/// site's allowed origins (any, when the site lists none).
fn site_page_url(site: &Site, url: &str, kept: &[String]) -> Result<String, String> {
    let cleaned = clean_url(url, kept)?;
    let origin_end = cleaned
        .find("://")
        .map(|scheme_end| {
            cleaned[scheme_end + 3..]
                .find('/')
                .map_or(cleaned.len(), |path| scheme_end + 3 + path)
        })
        .unwrap_or(cleaned.len());
    if !site.allows_origin(&cleaned[..origin_end]) {
        return Err("the page is not on an allowed origin of this site".into());
    }
    Ok(cleaned)
}

/// A web page address without its fragment and without any query parameter not named in
/// `kept` (query strings often carry secrets: tokens, emails). Only `http` and `https`,
/// at most [`MAX_PAGE_URL_BYTES`] bytes, no control characters or spaces.
pub(crate) fn clean_url(url: &str, kept: &[String]) -> Result<String, String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err("the address must be an http or https page".into());
    }
    if url.len() > MAX_PAGE_URL_BYTES * 2 || url.chars().any(|c| c.is_control() || c == ' ') {
        return Err(format!(
            "the address must be at most {MAX_PAGE_URL_BYTES} bytes with no spaces or control characters"
        ));
    }
    let url = url.split('#').next().unwrap_or(url);
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    // No `user:password@` (a secret), and no default port (`:443` on https, `:80` on
    // http), so one page is counted under one address.
    let (scheme, rest) = base.split_once("://").unwrap_or(("", base));
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = match scheme.to_ascii_lowercase().as_str() {
        "https" => host.strip_suffix(":443").unwrap_or(host),
        "http" => host.strip_suffix(":80").unwrap_or(host),
        _ => host,
    };
    let base = format!("{scheme}://{host}{path}");
    let base = base.as_str();
    let query: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            !name.is_empty() && kept.iter().any(|kept| kept == name)
        })
        .collect();
    let cleaned = if query.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", query.join("&"))
    };
    if cleaned.len() > MAX_PAGE_URL_BYTES {
        return Err(format!(
            "the address must be at most {MAX_PAGE_URL_BYTES} bytes"
        ));
    }
    Ok(cleaned)
}

fn clean_title(title: Option<&str>) -> Option<String> {
    title
        .map(|title| {
            title
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
        })
        .map(|title| truncate(title.trim(), MAX_PAGE_TITLE_BYTES))
        .filter(|title| !title.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_lose_credentials_and_default_ports() {
        assert_eq!(
            clean_url("http://user:pass@shop.test/secret?token=1", &[]).as_deref(),
            Ok("http://shop.test/secret")
        );
        assert_eq!(
            clean_url("https://shop.test:443/dp", &[]).as_deref(),
            Ok("https://shop.test/dp")
        );
        assert_eq!(
            clean_url("http://shop.test:80", &[]).as_deref(),
            Ok("http://shop.test")
        );
        assert_eq!(
            clean_url("https://shop.test:8443/a", &[]).as_deref(),
            Ok("https://shop.test:8443/a")
        );
    }

    #[test]
    fn addresses_keep_only_named_query_parameters() {
        let kept = vec!["q".to_owned(), "page".to_owned()];
        assert_eq!(
            clean_url(
                "https://shop.test/search?token=s3cret&q=shoes&page=2#top",
                &kept
            ),
            Ok("https://shop.test/search?q=shoes&page=2".to_owned())
        );
        assert_eq!(
            clean_url("https://shop.test/cart?token=s3cret", &[]),
            Ok("https://shop.test/cart".to_owned())
        );
        assert_eq!(
            clean_url("https://shop.test/x?email=a@b.test#q=1", &kept),
            Ok("https://shop.test/x".to_owned())
        );
        assert!(clean_url("javascript:alert(1)", &[]).is_err());
        assert!(clean_url("https://shop.test/a b", &[]).is_err());
        assert!(clean_url(&format!("https://shop.test/{}", "x".repeat(2100)), &[]).is_err());
    }

    #[test]
    fn anonymised_addresses_lose_their_host_part() {
        let v4: std::net::IpAddr = "203.0.113.77".parse().expect("ip");
        assert_eq!(anonymize_ip(v4).to_string(), "203.0.113.0");
        let v6: std::net::IpAddr = "2001:db8:abcd:1234:5678:9abc:def0:1234"
            .parse()
            .expect("ip");
        assert_eq!(anonymize_ip(v6).to_string(), "2001:db8:abcd::");
    }

    #[test]
    fn pages_must_be_on_an_allowed_origin() {
        let site = Site {
            id: livehelp_domain::SiteId::new(),
            tenant_id: TenantId::new(),
            key: livehelp_domain::SiteKey::parse("abcdefghijklmnop").expect("key"),
            name: "shop".into(),
            allowed_origins: vec!["https://shop.test".into()],
            privacy_policy_url: None,
            require_tls: false,
            default_department_id: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert!(site_page_url(&site, "https://shop.test/a", &[]).is_ok());
        assert!(site_page_url(&site, "https://SHOP.test", &[]).is_ok());
        assert!(site_page_url(&site, "https://evil.test/a", &[]).is_err());
        assert!(site_page_url(&site, "https://shop.test.evil.test/a", &[]).is_err());
    }
}
