//! Operator presence: who has an operator connection open, on this node and on the
//! others. An operator is *present* while at least one subscription to their
//! [`Topic::Operator`] is open somewhere: `livehelp-server` subscribes to it when an
//! operator's WebSocket says hello and drops the subscription when the socket ends, so
//! the bus sees connections come and go without anyone reporting them.
//!
//! [`LocalPresence`] counts those subscriptions on this node (a [`PresenceGuard`] rides
//! inside each subscription stream and counts down when it is dropped). With a broker,
//! each node also announces its local set in a heartbeat, and [`RemotePresence`] keeps
//! every other node's last announcement until it expires: a node that dies (SIGKILL,
//! network loss) stops announcing, and its operators disappear from every other node
//! within one time-to-live. A node that stops cleanly announces an empty set at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use livehelp_domain::{OperatorId, TenantId};
use tokio::sync::Notify;

use crate::Topic;

/// A `(tenant, operator)` pair.
pub type PresenceKey = (TenantId, OperatorId);

/// Operator subscriptions open on this node.
#[derive(Default)]
pub struct LocalPresence {
    counts: Mutex<HashMap<PresenceKey, usize>>,
    /// Woken when an operator becomes present or absent on this node, so a heartbeat can
    /// go out at once instead of at the next tick.
    changed: Notify,
}

impl LocalPresence {
    /// Starts counting a subscription to `topic` if it is an operator topic; the count
    /// goes down when the returned guard is dropped.
    pub fn track(self: &Arc<Self>, topic: Topic) -> Option<PresenceGuard> {
        let Topic::Operator(tenant, operator) = topic else {
            return None;
        };
        let key = (tenant, operator);
        let first = {
            let mut counts = lock(&self.counts);
            let count = counts.entry(key).or_insert(0);
            *count += 1;
            *count == 1
        };
        if first {
            self.changed.notify_one();
        }
        Some(PresenceGuard {
            presence: Arc::clone(self),
            key,
        })
    }

    /// Every present `(tenant, operator)` on this node, sorted.
    pub fn snapshot(&self) -> Vec<PresenceKey> {
        let set: BTreeSet<PresenceKey> = lock(&self.counts).keys().copied().collect();
        set.into_iter().collect()
    }

    /// The operators of `tenant` present on this node.
    pub fn operators(&self, tenant: TenantId) -> BTreeSet<OperatorId> {
        lock(&self.counts)
            .keys()
            .filter(|(key_tenant, _)| *key_tenant == tenant)
            .map(|(_, operator)| *operator)
            .collect()
    }

    /// Resolves at the next change of the local set (or at once if one happened since
    /// the last call).
    pub async fn changed(&self) {
        self.changed.notified().await;
    }
}

/// Keeps one operator subscription counted; dropping it (with the subscription) counts
/// it down.
pub struct PresenceGuard {
    presence: Arc<LocalPresence>,
    key: PresenceKey,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let last = {
            let mut counts = lock(&self.presence.counts);
            match counts.get_mut(&self.key) {
                Some(count) if *count > 1 => {
                    *count -= 1;
                    false
                }
                Some(_) => {
                    counts.remove(&self.key);
                    true
                }
                None => false,
            }
        };
        if last {
            self.presence.changed.notify_one();
        }
    }
}

/// The latest announcement of every other node, each valid until its expiry.
#[derive(Default)]
pub struct RemotePresence {
    nodes: Mutex<HashMap<String, (Instant, Vec<PresenceKey>)>>,
}

impl RemotePresence {
    /// Records `node`'s announcement, replacing its previous one; it counts until
    /// `expires_at`. An empty set removes the node (it is leaving or has nobody).
    pub fn announce(&self, node: &str, expires_at: Instant, operators: Vec<PresenceKey>) {
        let mut nodes = lock(&self.nodes);
        if operators.is_empty() {
            nodes.remove(node);
        } else {
            nodes.insert(node.to_owned(), (expires_at, operators));
        }
    }

    /// The operators of `tenant` in unexpired announcements at `now`. Expired ones are
    /// forgotten on the way.
    pub fn operators(&self, tenant: TenantId, now: Instant) -> BTreeSet<OperatorId> {
        let mut nodes = lock(&self.nodes);
        nodes.retain(|_, (expires_at, _)| *expires_at > now);
        nodes
            .values()
            .flat_map(|(_, operators)| operators.iter())
            .filter(|(key_tenant, _)| *key_tenant == tenant)
            .map(|(_, operator)| *operator)
            .collect()
    }
}

/// Locks a mutex whose data stays consistent even if a holder panicked (each operation is
/// a single insert, update or remove).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn operator_subscriptions_are_counted_until_the_last_is_dropped() {
        let presence = Arc::new(LocalPresence::default());
        let tenant = TenantId::new();
        let operator = OperatorId::new();
        let topic = Topic::Operator(tenant, operator);
        assert!(presence.track(Topic::Queue(tenant)).is_none());
        let first = presence.track(topic);
        let second = presence.track(topic);
        assert_eq!(presence.operators(tenant), BTreeSet::from([operator]));
        drop(first);
        assert_eq!(presence.snapshot(), vec![(tenant, operator)]);
        drop(second);
        assert!(presence.operators(tenant).is_empty());
        assert!(presence.operators(TenantId::new()).is_empty());
    }

    #[test]
    fn remote_announcements_expire_and_empty_ones_remove_the_node() {
        let remote = RemotePresence::default();
        let tenant = TenantId::new();
        let operator = OperatorId::new();
        let now = Instant::now();
        remote.announce("a", now + Duration::from_secs(30), vec![(tenant, operator)]);
        assert_eq!(remote.operators(tenant, now), BTreeSet::from([operator]));
        assert!(
            remote
                .operators(tenant, now + Duration::from_secs(31))
                .is_empty()
        );
        remote.announce("a", now + Duration::from_secs(30), vec![(tenant, operator)]);
        remote.announce("a", now + Duration::from_secs(30), Vec::new());
        assert!(remote.operators(tenant, now).is_empty());
    }
}
