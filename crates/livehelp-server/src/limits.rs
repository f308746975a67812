//! The firewall's counting part (M12): token-bucket rate limits (governor) per client IP
//! for logins, new visitor sessions and page-view batches, per visitor for messages and new chats, per IP for public form posts, and a cap
//! on simultaneous WebSockets per IP. One `Limits` per server, in `AppState`: several
//! nodes each count their own share, which is enough to stop a flood from one source, but
//! a client spread over N nodes gets up to N times the budget; the cluster-wide limit is
//! nginx's `limit_req` in `deploy/nginx/livehelp.conf` (docs/scale-out.md, "Limits across
//! nodes"), not a limiter of our own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use livehelp_domain::VisitorId;

/// The numbers behind the limits. Defaults suit a busy site behind one office NAT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Login attempts per client IP per minute (burst the same).
    pub logins_per_ip_per_minute: u32,
    /// New visitor sessions per client IP per minute (burst the same).
    pub visitor_sessions_per_ip_per_minute: u32,
    /// Messages a visitor may send in a burst...
    pub visitor_message_burst: u32,
    /// ...and per second after it.
    pub visitor_messages_per_second: u32,
    /// New chats a visitor may start in a burst, refilled at one per `chat_start_refill`.
    pub visitor_chat_start_burst: u32,
    /// Refill period of new chats.
    pub chat_start_refill: Duration,
    /// Simultaneous WebSockets from one client IP.
    pub websockets_per_ip: u32,
    /// Public form posts (offline messages, support requests) per client IP per minute
    /// (burst the same).
    pub public_forms_per_ip_per_minute: u32,
    /// Page-view batches per client IP per minute (burst the same). A batch holds up to
    /// 20 views; the widget sends one per few pages, so an office NAT of busy readers
    /// stays far below this.
    pub page_view_batches_per_ip_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            logins_per_ip_per_minute: 10,
            visitor_sessions_per_ip_per_minute: 120,
            visitor_message_burst: 20,
            visitor_messages_per_second: 2,
            visitor_chat_start_burst: 5,
            chat_start_refill: Duration::from_secs(120),
            websockets_per_ip: 1_000,
            public_forms_per_ip_per_minute: 10,
            page_view_batches_per_ip_per_minute: 300,
        }
    }
}

/// The live counters.
pub struct Limits {
    settings: RateLimits,
    logins: DefaultKeyedRateLimiter<IpAddr>,
    visitor_sessions: DefaultKeyedRateLimiter<IpAddr>,
    messages: DefaultKeyedRateLimiter<VisitorId>,
    chat_starts: DefaultKeyedRateLimiter<VisitorId>,
    public_forms: DefaultKeyedRateLimiter<IpAddr>,
    support_requests: DefaultKeyedRateLimiter<IpAddr>,
    page_views: DefaultKeyedRateLimiter<IpAddr>,
    sockets: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

/// A refusal: retry after this many seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl Limits {
    /// Counters for these settings.
    pub fn new(settings: RateLimits) -> Self {
        Self {
            logins: RateLimiter::keyed(per_minute(settings.logins_per_ip_per_minute)),
            visitor_sessions: RateLimiter::keyed(per_minute(
                settings.visitor_sessions_per_ip_per_minute,
            )),
            messages: RateLimiter::keyed(
                Quota::per_second(nonzero(settings.visitor_messages_per_second))
                    .allow_burst(nonzero(settings.visitor_message_burst)),
            ),
            chat_starts: RateLimiter::keyed(
                Quota::with_period(settings.chat_start_refill)
                    .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
                    .allow_burst(nonzero(settings.visitor_chat_start_burst)),
            ),
            public_forms: RateLimiter::keyed(per_minute(settings.public_forms_per_ip_per_minute)),
            support_requests: RateLimiter::keyed(per_minute(
                settings.public_forms_per_ip_per_minute,
            )),
            page_views: RateLimiter::keyed(per_minute(
                settings.page_view_batches_per_ip_per_minute,
            )),
            sockets: Arc::default(),
            settings,
        }
    }

    /// One login attempt from `ip`.
    pub fn login(&self, ip: Option<IpAddr>) -> Result<(), RetryAfter> {
        ip.map_or(Ok(()), |ip| check(&self.logins, &ip))
    }

    /// One new visitor session from `ip`.
    pub fn visitor_session(&self, ip: Option<IpAddr>) -> Result<(), RetryAfter> {
        ip.map_or(Ok(()), |ip| check(&self.visitor_sessions, &ip))
    }

    /// One message from a visitor.
    pub fn visitor_message(&self, visitor: VisitorId) -> Result<(), RetryAfter> {
        check(&self.messages, &visitor)
    }

    /// One offline message posted from `ip` (its own budget: widget traffic from an
    /// office must not block the platform's support form, nor the other way round).
    pub fn public_form(&self, ip: Option<IpAddr>) -> Result<(), RetryAfter> {
        ip.map_or(Ok(()), |ip| check(&self.public_forms, &ip))
    }

    /// One support request to the platform from `ip`.
    pub fn support_request(&self, ip: Option<IpAddr>) -> Result<(), RetryAfter> {
        ip.map_or(Ok(()), |ip| check(&self.support_requests, &ip))
    }

    /// One page-view batch from `ip`.
    pub fn page_views(&self, ip: Option<IpAddr>) -> Result<(), RetryAfter> {
        ip.map_or(Ok(()), |ip| check(&self.page_views, &ip))
    }

    /// One new chat from a visitor.
    pub fn chat_start(&self, visitor: VisitorId) -> Result<(), RetryAfter> {
        check(&self.chat_starts, &visitor)
    }

    /// Takes a WebSocket slot for `ip`; the slot is given back when the guard drops.
    pub fn websocket(&self, ip: Option<IpAddr>) -> Option<SocketSlot> {
        let Some(ip) = ip else {
            return Some(SocketSlot {
                ip: None,
                sockets: self.sockets.clone(),
            });
        };
        let mut sockets = self
            .sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = sockets.entry(ip).or_insert(0);
        if *count >= self.settings.websockets_per_ip {
            return None;
        }
        *count += 1;
        Some(SocketSlot {
            ip: Some(ip),
            sockets: self.sockets.clone(),
        })
    }

    /// Forgets idle keys so the maps do not grow without bound (call every minute or so).
    pub fn forget_idle(&self) {
        self.logins.retain_recent();
        self.visitor_sessions.retain_recent();
        self.messages.retain_recent();
        self.chat_starts.retain_recent();
        self.public_forms.retain_recent();
        self.support_requests.retain_recent();
        self.page_views.retain_recent();
    }
}

/// One WebSocket's hold on its IP's slot count.
pub struct SocketSlot {
    ip: Option<IpAddr>,
    sockets: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let Some(ip) = self.ip else { return };
        let mut sockets = self
            .sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = sockets.get_mut(&ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                sockets.remove(&ip);
            }
        }
    }
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), RetryAfter> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        RetryAfter(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max_one()
    })
}

impl RetryAfter {
    fn max_one(self) -> Self {
        RetryAfter(self.0.max(1))
    }
}

fn per_minute(count: u32) -> Quota {
    Quota::per_minute(nonzero(count))
}

fn nonzero(count: u32) -> NonZeroU32 {
    NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refuse_past_the_burst_and_say_when_to_retry() {
        let limits = Limits::new(RateLimits {
            visitor_message_burst: 3,
            visitor_messages_per_second: 1,
            ..RateLimits::default()
        });
        let visitor = VisitorId::new();
        for _ in 0..3 {
            assert!(limits.visitor_message(visitor).is_ok());
        }
        let refused = limits.visitor_message(visitor).expect_err("over the burst");
        assert!(refused.0 >= 1);
        assert!(
            limits.visitor_message(VisitorId::new()).is_ok(),
            "another visitor is unaffected"
        );
    }

    #[test]
    fn websocket_slots_are_counted_per_ip_and_given_back() {
        let limits = Limits::new(RateLimits {
            websockets_per_ip: 2,
            ..RateLimits::default()
        });
        let ip: IpAddr = [10, 0, 0, 1].into();
        let first = limits.websocket(Some(ip)).expect("slot");
        let _second = limits.websocket(Some(ip)).expect("slot");
        assert!(limits.websocket(Some(ip)).is_none());
        assert!(limits.websocket(Some([10, 0, 0, 2].into())).is_some());
        drop(first);
        assert!(limits.websocket(Some(ip)).is_some());
    }
}
