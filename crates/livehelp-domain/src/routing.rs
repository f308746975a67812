//! Routing vocabulary: departments, the modes that assign queued chats to operators,
//! and a tenant's routing settings. The rules themselves (who is available, how a mode
//! picks) live in `livehelp-app`; the store enforces the per-operator chat limit
//! atomically.

use crate::Timestamp;
use crate::ids::{DepartmentId, OperatorId, TenantId};

/// How queued chats of a queue reach operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoutingMode {
    /// Operators pick chats from the queue themselves.
    #[default]
    Manual,
    /// Each chat goes to the available operator with the fewest active chats; ties go
    /// to the one idle longest (least recently assigned).
    LeastBusy,
    /// Chats go to available operators in turn (least recently assigned first).
    RoundRobin,
}

impl RoutingMode {
    /// The stable name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingMode::Manual => "manual",
            RoutingMode::LeastBusy => "least_busy",
            RoutingMode::RoundRobin => "round_robin",
        }
    }

    /// Parses a stable name back.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "manual" => Some(RoutingMode::Manual),
            "least_busy" => Some(RoutingMode::LeastBusy),
            "round_robin" => Some(RoutingMode::RoundRobin),
            _ => None,
        }
    }

    /// Whether chats are assigned by the server (not picked by operators).
    pub fn is_automatic(self) -> bool {
        !matches!(self, RoutingMode::Manual)
    }
}

/// A group of operators with its own queue (sales, support, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    /// Id.
    pub id: DepartmentId,
    /// Owner.
    pub tenant_id: TenantId,
    /// Display name, unique within the tenant (1–80 characters).
    pub name: String,
    /// How its queue is served.
    pub routing: RoutingMode,
    /// Its members.
    pub operators: Vec<OperatorId>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A tenant's routing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoutingSettings {
    /// Mode of the general queue (chats without a department).
    pub routing: RoutingMode,
    /// Most chats an operator holds at once unless their own limit says otherwise;
    /// `None` is no limit (the default: the limit is the tenant's choice).
    pub max_chats_per_operator: Option<u32>,
    /// Whether operators see who is monitoring their chats.
    pub show_monitoring: bool,
}

/// How loaded an operator is, for automatic routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorLoad {
    /// The operator.
    pub operator_id: OperatorId,
    /// Their active chats now.
    pub active: u32,
    /// Their chat limit in force (own, else the tenant's); `None` is no limit.
    pub limit: Option<u32>,
    /// When they were last given a chat (accept, assignment or transfer), if ever.
    pub last_assigned_at: Option<Timestamp>,
}
