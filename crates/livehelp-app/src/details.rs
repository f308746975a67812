//! Correcting a visitor's personal details (PRODUCT.md M16; issue 6 item 5): the name and
//! email a visitor gave, which they can see and correct from the widget, an operator of
//! the tenant can correct from the console, and platform staff can find and correct from
//! the command line for a request received by email.
//!
//! A pre-chat form's name and email are remembered on the visitor when the chat opens.
//! Every correction by staff is audited (`visitor_details_corrected`) naming the fields
//! that changed with their old values written as `[redacted]`: the point of a correction
//! is that the wrong value is gone, so the log must not keep it (nor the new one, which
//! the visitor record holds).

use livehelp_domain::{AuditActor, Email, FieldError, TenantId, VisitorId, VisitorName};
use livehelp_store::{StoreError, VisitorDetails, VisitorMatch, VisitorSearch};
use time::OffsetDateTime;

use crate::error::FormKind;
use crate::{App, AppError, OperatorPrincipal, VisitorPrincipal};

/// Most visitors one search returns per tenant.
pub const MAX_VISITOR_MATCHES: u32 = 50;

/// A change to a visitor's details. `None` keeps a field as it is; `Some("")` (or only
/// whitespace) clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetailsChange {
    /// New name, in any format (up to 200 characters).
    pub name: Option<String>,
    /// New email.
    pub email: Option<String>,
}

impl App {
    /// The visitor's own name and email.
    pub async fn own_details(
        &self,
        visitor: &VisitorPrincipal,
    ) -> Result<VisitorDetails, AppError> {
        Ok(self
            .store
            .fetch_visitor_details(visitor.tenant_id, visitor.visitor_id)
            .await?)
    }

    /// The visitor corrects their own name and email. Not audited: it is the person's
    /// own data, changed by them.
    pub async fn correct_own_details(
        &self,
        visitor: &VisitorPrincipal,
        change: DetailsChange,
    ) -> Result<VisitorDetails, AppError> {
        let (details, _) = self
            .apply_change(visitor.tenant_id, visitor.visitor_id, change)
            .await?;
        Ok(details)
    }

    /// A visitor's name and email, for any operator of their tenant.
    pub async fn visitor_details(
        &self,
        operator: &OperatorPrincipal,
        visitor: VisitorId,
    ) -> Result<VisitorDetails, AppError> {
        Ok(self
            .store
            .fetch_visitor_details(operator.tenant_id, visitor)
            .await?)
    }

    /// An operator, supervisor or admin of the tenant corrects a visitor's details;
    /// audited with the old values redacted. `NotFound` for another tenant's visitor.
    pub async fn correct_visitor_details(
        &self,
        operator: &OperatorPrincipal,
        visitor: VisitorId,
        change: DetailsChange,
        now: OffsetDateTime,
    ) -> Result<VisitorDetails, AppError> {
        let (details, changed) = self
            .apply_change(operator.tenant_id, visitor, change)
            .await?;
        if !changed.is_empty() {
            self.audit(
                operator.tenant_id,
                AuditActor::Operator(operator.operator_id),
                "visitor_details_corrected",
                audit_target(visitor, &changed),
                now,
            )
            .await?;
        }
        Ok(details)
    }

    /// Platform staff (CLI): visitors of every tenant matching an email or a name, at
    /// most [`MAX_VISITOR_MATCHES`] per tenant. Each read is scoped by its tenant.
    pub async fn find_visitors_everywhere(
        &self,
        search: &VisitorSearch,
    ) -> Result<Vec<VisitorMatch>, AppError> {
        let mut found = Vec::new();
        for tenant in self.store.list_tenants().await? {
            found.extend(
                self.store
                    .find_visitors(tenant.id, search, MAX_VISITOR_MATCHES)
                    .await?,
            );
        }
        Ok(found)
    }

    /// Platform staff (CLI): corrects a visitor's details whatever their tenant; audited
    /// in that tenant's log as the command line, old values redacted.
    pub async fn correct_visitor_details_as_platform(
        &self,
        visitor: VisitorId,
        change: DetailsChange,
        now: OffsetDateTime,
    ) -> Result<(TenantId, VisitorDetails), AppError> {
        for tenant in self.store.list_tenants().await? {
            match self.store.fetch_visitor_details(tenant.id, visitor).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => continue,
                Err(other) => return Err(other.into()),
            }
            let (details, changed) = self.apply_change(tenant.id, visitor, change).await?;
            if !changed.is_empty() {
                self.audit(
                    tenant.id,
                    AuditActor::Cli,
                    "visitor_details_corrected",
                    audit_target(visitor, &changed),
                    now,
                )
                .await?;
            }
            return Ok((tenant.id, details));
        }
        Err(AppError::NotFound)
    }

    /// Remembers the name and email of a pre-chat form on the visitor (given fields only;
    /// an answer that is not a valid name or email is left out).
    pub(crate) async fn remember_prechat_details(
        &self,
        visitor: &VisitorPrincipal,
        prechat: &str,
    ) -> Result<(), AppError> {
        let record = crate::forms::read_answers(prechat)?;
        let mut details = self
            .store
            .fetch_visitor_details(visitor.tenant_id, visitor.visitor_id)
            .await?;
        let before = details.clone();
        if let Ok(Some(name)) = VisitorName::parse_optional(record.name) {
            details.name = Some(name);
        }
        if let Some(Ok(email)) = record.email.as_deref().map(Email::parse) {
            details.email = Some(email);
        }
        if details != before {
            self.store
                .update_visitor_details(visitor.tenant_id, visitor.visitor_id, &details)
                .await?;
        }
        Ok(())
    }

    /// Validates `change`, applies it and returns the details now stored with the names
    /// of the fields that changed.
    async fn apply_change(
        &self,
        tenant: TenantId,
        visitor: VisitorId,
        change: DetailsChange,
    ) -> Result<(VisitorDetails, Vec<&'static str>), AppError> {
        let mut errors = Vec::new();
        let name = change.name.map(|name| {
            VisitorName::parse_optional(Some(name)).unwrap_or_else(|error| {
                errors.push(FieldError {
                    field: "name".into(),
                    message: error.to_string(),
                });
                None
            })
        });
        let email = change.email.map(|email| {
            if email.trim().is_empty() {
                return None;
            }
            Email::parse(&email)
                .map_err(|_| {
                    errors.push(FieldError {
                        field: "email".into(),
                        message: "enter an email address like name@example.com".into(),
                    });
                })
                .ok()
        });
        if !errors.is_empty() {
            return Err(AppError::InvalidFields {
                form: FormKind::Settings,
                fields: errors,
            });
        }
        let current = self.store.fetch_visitor_details(tenant, visitor).await?;
        let mut details = current.clone();
        if let Some(name) = name {
            details.name = name;
        }
        if let Some(email) = email {
            details.email = email;
        }
        let mut changed = Vec::new();
        if details.name != current.name {
            changed.push("name");
        }
        if details.email != current.email {
            changed.push("email");
        }
        if !changed.is_empty() {
            self.store
                .update_visitor_details(tenant, visitor, &details)
                .await?;
        }
        Ok((details, changed))
    }
}

/// `visitor:<id> name:[redacted] email:[redacted]`: which fields changed, never a value.
fn audit_target(visitor: VisitorId, changed: &[&str]) -> String {
    let mut target = format!("visitor:{visitor}");
    for field in changed {
        target.push_str(&format!(" {field}:[redacted]"));
    }
    target
}
