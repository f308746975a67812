//! Routing: who is available to take a chat. An operator is *available* when their
//! account is enabled, their chosen status is `online` and they have an operator
//! connection open on some node right now (the bus's presence). `away` operators and
//! operators whose every tab is closed get no new chats.

use livehelp_domain::{Operator, OperatorStatus, TenantId};

use crate::{App, AppError};

impl App {
    /// The tenant's available operators (enabled, `online`, connected), oldest account
    /// first. One store read and one presence lookup.
    pub async fn available_operators(&self, tenant: TenantId) -> Result<Vec<Operator>, AppError> {
        let present = self.bus.present_operators(tenant).await;
        let operators = self.store.list_operators(tenant).await?;
        Ok(operators
            .into_iter()
            .filter(|operator| {
                !operator.disabled
                    && operator.status == OperatorStatus::Online
                    && present.binary_search(&operator.id).is_ok()
            })
            .collect())
    }
}
