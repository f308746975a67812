//! What the widget and the console learn about sites and visitors: the public widget
//! configuration, a visitor's check of their own token, page views, the visitor panel
//! (name, IP, browser, current page, returning or new), and operator availability.

use livehelp_domain::{
    ConversationId, OperatorStatus, PageRef, Site, TenantStatus, Visitor, VisitorSession,
};
use time::{Duration, OffsetDateTime};

use crate::browser::BrowserSummary;
use crate::{App, AppError, OperatorPrincipal, VisitorPrincipal};

/// Longest page address kept, in bytes (common browser and proxy limits are ~2 KB).
pub const MAX_PAGE_URL_BYTES: usize = 2048;
/// Longest page title kept, in bytes.
pub const MAX_PAGE_TITLE_BYTES: usize = 512;
/// A visitor first seen longer ago than this is "returning" (one browsing visit is
/// commonly bounded by 30 minutes of inactivity, as in web analytics).
pub const RETURNING_AFTER: Duration = Duration::minutes(30);

/// What a visitor may give when opening a session; every field optional.
#[derive(Debug, Clone, Default)]
pub struct NewVisitorSession {
    /// A name in any format.
    pub name: Option<String>,
    /// The page they are on (query string and fragment are dropped).
    pub page_url: Option<String>,
    /// That page's title.
    pub page_title: Option<String>,
}

/// How a visitor's request reached us: its browser `Origin` (absent for non-browser
/// clients) and whether the connection was encrypted.
#[derive(Debug, Clone, Default)]
pub struct SiteAccess {
    /// The `Origin` header, if any.
    pub origin: Option<String>,
    /// Whether the request came over TLS (directly or via a trusted proxy).
    pub secure: bool,
}

impl SiteAccess {
    /// The site's rules: an allowed origin (when the browser names one) and TLS when
    /// required (M10).
    pub fn check(&self, site: &Site) -> Result<(), AppError> {
        if let Some(origin) = &self.origin
            && !site.allows_origin(origin)
        {
            return Err(AppError::OriginNotAllowed);
        }
        if site.require_tls && !self.secure {
            return Err(AppError::TlsRequired);
        }
        Ok(())
    }
}

/// Public, non-identifying configuration of a site's widget.
#[derive(Debug, Clone)]
pub struct WidgetConfig {
    /// The site.
    pub site: Site,
    /// Its tenant's display name.
    pub tenant_name: String,
    /// False when the tenant is suspended: the widget shows "chat unavailable".
    pub available: bool,
    /// The departments a visitor may choose from (id, name), by name.
    pub departments: Vec<(livehelp_domain::DepartmentId, String)>,
}

/// A visitor's view of their own session.
#[derive(Debug, Clone)]
pub struct VisitorSelf {
    /// The visitor.
    pub visitor: Visitor,
    /// Whether they count as returning.
    pub returning: bool,
    /// The site's privacy-policy address.
    pub privacy_policy_url: Option<String>,
}

/// The console's visitor panel.
#[derive(Debug, Clone)]
pub struct VisitorInfo {
    /// The visitor.
    pub visitor: Visitor,
    /// Their most recent session (IP, User-Agent, current page, last seen).
    pub session: VisitorSession,
    /// Parsed User-Agent.
    pub browser: BrowserSummary,
    /// Conversations they have had, this one included.
    pub conversation_count: u64,
    /// Whether they count as returning.
    pub returning: bool,
}

impl App {
    /// The widget configuration of the site with `site_key`. Reveals only what the
    /// tenant's public page shows anyway.
    pub async fn widget_config(&self, site_key: &str) -> Result<WidgetConfig, AppError> {
        let site = self
            .find_site(site_key)
            .await?
            .ok_or(AppError::SiteNotFound)?;
        let tenant = self.store.fetch_tenant(site.tenant_id).await?;
        let departments = self
            .store
            .list_departments(site.tenant_id)
            .await?
            .into_iter()
            .map(|department| (department.id, department.name))
            .collect();
        Ok(WidgetConfig {
            departments,
            available: tenant.status == TenantStatus::Active,
            tenant_name: tenant.name,
            site,
        })
    }

    /// What a visitor may know about their own session (for a widget checking a stored token).
    pub async fn visitor_self(
        &self,
        visitor: &VisitorPrincipal,
        now: OffsetDateTime,
    ) -> Result<VisitorSelf, AppError> {
        let record = self
            .store
            .fetch_visitor(visitor.tenant_id, visitor.visitor_id)
            .await?;
        let count = self
            .store
            .count_conversations_for_visitor(visitor.tenant_id, visitor.visitor_id)
            .await?;
        // The open conversation, if any, is the current one, not an earlier one.
        let open = self
            .store
            .fetch_open_conversation_for_visitor(visitor.tenant_id, visitor.visitor_id)
            .await?;
        let count = count.saturating_sub(u64::from(open.is_some()));
        let sites = self.store.list_sites(visitor.tenant_id).await?;
        let privacy_policy_url = sites
            .into_iter()
            .find(|site| site.id == visitor.site_id)
            .and_then(|site| site.privacy_policy_url);
        Ok(VisitorSelf {
            returning: is_returning(&record, count, now),
            visitor: record,
            privacy_policy_url,
        })
    }

    /// Records the page the visitor is on. The query string and fragment are dropped
    /// (they often carry secrets: tokens, emails); only `http` and `https` pages count.
    /// Unless `do_not_track` (the browser's Global Privacy Control or Do-Not-Track signal),
    /// the view is also added to the visitor's page trail (kept for the tenant's retention
    /// period).
    pub async fn record_page_view(
        &self,
        visitor: &VisitorPrincipal,
        view: crate::PageViewInput,
        do_not_track: bool,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let page = page_ref(&view.url, view.title.clone())?;
        self.store
            .update_visitor_session_page(visitor.tenant_id, visitor.session_id, &page, now)
            .await?;
        if !do_not_track {
            self.record_trail_event(visitor, &view, now).await?;
        }
        Ok(())
    }

    /// Marks the visitor's session seen now (on connect).
    pub async fn touch_visitor(
        &self,
        visitor: &VisitorPrincipal,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        Ok(self
            .store
            .touch_visitor_session(visitor.tenant_id, visitor.session_id, now)
            .await?)
    }

    /// The visitor panel for a conversation of the operator's tenant.
    pub async fn visitor_info(
        &self,
        operator: &OperatorPrincipal,
        conversation_id: ConversationId,
        now: OffsetDateTime,
    ) -> Result<VisitorInfo, AppError> {
        let conversation = self
            .follow(
                &crate::Principal::Operator(operator.clone()),
                conversation_id,
            )
            .await?;
        let tenant = operator.tenant_id;
        let visitor = self
            .store
            .fetch_visitor(tenant, conversation.visitor_id)
            .await?;
        let session = self
            .store
            .fetch_latest_visitor_session(tenant, conversation.visitor_id)
            .await?;
        let conversation_count = self
            .store
            .count_conversations_for_visitor(tenant, conversation.visitor_id)
            .await?;
        let browser = self
            .user_agents
            .summarize(session.browser.user_agent.as_deref().unwrap_or(""));
        // Returning means: came back, not "has this very conversation".
        let returning = is_returning(&visitor, conversation_count.saturating_sub(1), now);
        Ok(VisitorInfo {
            visitor,
            session,
            browser,
            conversation_count,
            returning,
        })
    }

    /// Checks that a visitor's socket comes from an allowed origin of their site, over
    /// TLS when the site requires it.
    pub async fn check_visitor_access(
        &self,
        visitor: &VisitorPrincipal,
        access: &SiteAccess,
    ) -> Result<(), AppError> {
        let sites = self.store.list_sites(visitor.tenant_id).await?;
        let site = sites
            .iter()
            .find(|site| site.id == visitor.site_id)
            .ok_or(AppError::Unauthorized)?;
        access.check(site)
    }

    /// The operator's saved availability.
    pub async fn operator_status(
        &self,
        operator: &OperatorPrincipal,
    ) -> Result<OperatorStatus, AppError> {
        Ok(self
            .store
            .fetch_operator(operator.tenant_id, operator.operator_id)
            .await?
            .status)
    }

    /// Sets the operator's availability.
    pub async fn set_operator_status(
        &self,
        operator: &OperatorPrincipal,
        status: OperatorStatus,
    ) -> Result<(), AppError> {
        Ok(self
            .store
            .update_operator_status(operator.tenant_id, operator.operator_id, status)
            .await?)
    }
}

/// Returning: had earlier conversations, or was first seen more than [`RETURNING_AFTER`] ago.
fn is_returning(visitor: &Visitor, earlier_conversations: u64, now: OffsetDateTime) -> bool {
    earlier_conversations > 0 || now - visitor.created_at > RETURNING_AFTER
}

pub(crate) fn page_ref(url: &str, title: Option<String>) -> Result<PageRef, AppError> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(AppError::InvalidRequest(
            "page url must be an http or https address".into(),
        ));
    }
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..end];
    if url.len() > MAX_PAGE_URL_BYTES || url.chars().any(char::is_control) {
        return Err(AppError::InvalidRequest(format!(
            "page url must be at most {MAX_PAGE_URL_BYTES} bytes with no control characters"
        )));
    }
    let title = title
        .map(|title| {
            title
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
        })
        .map(|title| truncate(title.trim(), MAX_PAGE_TITLE_BYTES))
        .filter(|title| !title.is_empty());
    Ok(PageRef {
        url: url.to_owned(),
        title,
    })
}

pub(crate) fn truncate(text: &str, max_bytes: usize) -> String {
    let mut end = text.len().min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_urls_lose_query_and_fragment_and_must_be_web_pages() {
        let page = page_ref(
            "https://shop.test/cart?token=secret#top",
            Some("  Cart \u{7} ".into()),
        )
        .expect("ok");
        assert_eq!(page.url, "https://shop.test/cart");
        assert_eq!(page.title.as_deref(), Some("Cart"));
        assert!(page_ref("javascript:alert(1)", None).is_err());
        assert!(page_ref("file:///etc/passwd", None).is_err());
        assert!(page_ref(&format!("https://a.test/{}", "x".repeat(3000)), None).is_err());
        let long_title = page_ref("https://a.test/", Some("é".repeat(600))).expect("ok");
        assert!(
            long_title
                .title
                .is_some_and(|t| t.len() <= MAX_PAGE_TITLE_BYTES)
        );
    }
}
