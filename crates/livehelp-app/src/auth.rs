//! Authentication: visitor sessions (a random bearer token per visitor session, stored
//! only as its SHA-256) and operator logins (argon2id password check, then a random
//! session token behind an HttpOnly cookie).

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use livehelp_domain::{
    BrowserInfo, Email, Operator, OperatorSession, SessionId, Site, SiteKey, TenantStatus, Visitor,
    VisitorId, VisitorName, VisitorSession, VisitorSessionId,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::{App, AppError, OperatorPrincipal, VisitorPrincipal};

/// A new visitor session, with the token to hand to the visitor (shown once, never stored).
#[derive(Debug, Clone)]
pub struct IssuedVisitorSession {
    /// Bearer token: 256 random bits, hex.
    pub token: String,
    /// The new visitor.
    pub visitor: Visitor,
    /// The site they are on.
    pub site: Site,
}

/// A successful login: the cookie value and who logged in.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// Session token for the cookie: 256 random bits, hex.
    pub token: String,
    /// Seconds until the session expires.
    pub max_age_seconds: i64,
    /// The operator.
    pub operator: OperatorPrincipal,
    /// The session's anti-CSRF token, to send back as `X-CSRF-Token`.
    pub csrf_token: String,
}

/// An operator authenticated by their session cookie.
#[derive(Debug, Clone)]
pub struct AuthenticatedOperator {
    /// Who.
    pub operator: OperatorPrincipal,
    /// Which login session.
    pub session_id: SessionId,
    /// The session's anti-CSRF token.
    pub csrf_token: String,
}

/// Failed logins in a row before an account is locked (OWASP Authentication Cheat
/// Sheet: lock out after a small number of failures, for a limited time).
pub const LOCK_AFTER_FAILURES: u32 = 5;
/// How long a locked account refuses logins.
pub const LOCK_DURATION: Duration = Duration::minutes(15);

/// 256 random bits from the OS-seeded CSPRNG, as 64 hex characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 of a token: what the store keeps and looks up. A fast hash is right here: the
/// token has 256 bits of entropy, so there is nothing to brute-force.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// argon2id with m=19456 KiB, t=2, p=1 (OWASP Password Storage Cheat Sheet, 2023), as a
/// PHC string with a fresh random salt. About 30 ms of CPU on this project's machines:
/// call it from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| AppError::Internal(format!("argon2: {error}").into()))
}

fn argon2() -> Argon2<'static> {
    // These parameters are constants inside the documented valid range, so `new` cannot fail.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn verify_password(password: &str, hash: &str) -> bool {
    argon2().verify_password(password.as_bytes(), hash).is_ok()
}

/// A valid hash of a random password: verified against when the email is unknown, so an
/// unknown email costs the same time as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9Ke1sxnR0f7c0mFmEDV3UqGzV8tr5K1a1lJ2E3+4O5s";

impl App {
    /// Opens a visitor session on the site with `site_key` (M1, M6). `origin` is the
    /// browser's `Origin` header; when present it must be allowed by the site. The name is
    /// optional and may be in any format.
    pub async fn create_visitor_session(
        &self,
        site_key: &str,
        access: &crate::SiteAccess,
        details: crate::NewVisitorSession,
        browser: BrowserInfo,
        now: OffsetDateTime,
    ) -> Result<IssuedVisitorSession, AppError> {
        let key = SiteKey::parse(site_key).map_err(|_| AppError::SiteNotFound)?;
        let site = match self.store.fetch_site_by_key(&key).await {
            Err(livehelp_store::StoreError::NotFound) => return Err(AppError::SiteNotFound),
            other => other?,
        };
        access.check(&site)?;
        let tenant = self.store.fetch_tenant(site.tenant_id).await?;
        if tenant.status == TenantStatus::Suspended {
            return Err(AppError::TenantSuspended);
        }
        let name = VisitorName::parse_optional(details.name)?;
        let current_page = match details.page_url {
            Some(url) => Some(crate::visitors::page_ref(&url, details.page_title)?),
            None => None,
        };
        let visitor = Visitor {
            id: VisitorId::new(),
            tenant_id: site.tenant_id,
            site_id: site.id,
            name,
            created_at: now,
        };
        let ip = self.ip_to_store(site.tenant_id, browser.ip).await?;
        let token = random_token();
        let session = VisitorSession {
            id: VisitorSessionId::new(),
            tenant_id: site.tenant_id,
            visitor_id: visitor.id,
            site_id: site.id,
            token_hash: token_hash(&token),
            browser: BrowserInfo {
                ip,
                user_agent: browser.user_agent.map(|agent| truncate_utf8(agent, 512)),
            },
            current_page,
            created_at: now,
            last_seen_at: now,
        };
        self.store
            .insert_visitor(site.tenant_id, &visitor, &session)
            .await?;
        Ok(IssuedVisitorSession {
            token,
            visitor,
            site,
        })
    }

    /// The visitor a token belongs to, or `Unauthorized`.
    pub async fn authenticate_visitor(&self, token: &str) -> Result<VisitorPrincipal, AppError> {
        let session = match self
            .store
            .fetch_visitor_session_by_token(&token_hash(token))
            .await
        {
            Err(livehelp_store::StoreError::NotFound) => return Err(AppError::Unauthorized),
            other => other?,
        };
        let tenant = self.store.fetch_tenant(session.tenant_id).await?;
        if tenant.status == TenantStatus::Suspended {
            return Err(AppError::TenantSuspended);
        }
        let visitor = self
            .store
            .fetch_visitor(session.tenant_id, session.visitor_id)
            .await?;
        Ok(VisitorPrincipal {
            tenant_id: session.tenant_id,
            visitor_id: session.visitor_id,
            session_id: session.id,
            site_id: session.site_id,
            name: visitor.name.map(|name| name.as_str().to_owned()),
        })
    }

    /// Checks an operator's email and password and opens a login session. Unknown email,
    /// wrong password and disabled account all give `InvalidCredentials`, in the same time.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        browser: BrowserInfo,
        now: OffsetDateTime,
    ) -> Result<LoginOutcome, AppError> {
        let operator = match Email::parse(email) {
            Ok(email) => match self.store.fetch_operator_by_email(&email).await {
                Ok(operator) => Some(operator),
                Err(livehelp_store::StoreError::NotFound) => None,
                Err(error) => return Err(error.into()),
            },
            Err(_) => None,
        };
        if let Some(locked_until) = operator.as_ref().and_then(|operator| operator.locked_until)
            && locked_until > now
        {
            return Err(AppError::RateLimited {
                retry_after_seconds: seconds_until(now, locked_until),
            });
        }
        let hash = operator.as_ref().map_or_else(
            || DUMMY_HASH.to_owned(),
            |operator| operator.password_hash.clone(),
        );
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|error| AppError::Internal(Box::new(error)))?;
        let operator = match operator {
            Some(operator) if matches && !operator.disabled => operator,
            Some(operator) if !matches => {
                let updated = self
                    .store
                    .record_login_failure(
                        operator.tenant_id,
                        operator.id,
                        now,
                        LOCK_AFTER_FAILURES,
                        LOCK_DURATION,
                    )
                    .await?;
                if let Some(locked_until) = updated.locked_until
                    && locked_until > now
                {
                    tracing::warn!(operator = %operator.id, "account locked after repeated failed logins");
                    return Err(AppError::RateLimited {
                        retry_after_seconds: seconds_until(now, locked_until),
                    });
                }
                return Err(AppError::InvalidCredentials);
            }
            _ => return Err(AppError::InvalidCredentials),
        };
        let tenant = self.store.fetch_tenant(operator.tenant_id).await?;
        if tenant.status == TenantStatus::Suspended {
            return Err(AppError::TenantSuspended);
        }
        if operator.failed_logins > 0 || operator.locked_until.is_some() {
            self.store
                .reset_login_failures(operator.tenant_id, operator.id)
                .await?;
        }
        let ip = self.ip_to_store(operator.tenant_id, browser.ip).await?;
        let token = random_token();
        let csrf_token = random_token();
        let session = OperatorSession {
            id: SessionId::new(),
            tenant_id: operator.tenant_id,
            operator_id: operator.id,
            token_hash: token_hash(&token),
            csrf_token: csrf_token.clone(),
            ip,
            user_agent: browser.user_agent.map(|agent| truncate_utf8(agent, 512)),
            created_at: now,
            expires_at: now + Duration::seconds(self.options.operator_session_seconds),
        };
        self.store
            .insert_operator_session(operator.tenant_id, &session)
            .await?;
        Ok(LoginOutcome {
            token,
            max_age_seconds: self.options.operator_session_seconds,
            operator: principal(&operator),
            csrf_token,
        })
    }

    /// The operator a session cookie belongs to, or `Unauthorized` (missing, expired,
    /// logged out, disabled account), with the session's id and anti-CSRF token.
    pub async fn authenticate_operator(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<AuthenticatedOperator, AppError> {
        let session = match self
            .store
            .fetch_operator_session_by_token(&token_hash(token), now)
            .await
        {
            Err(livehelp_store::StoreError::NotFound) => return Err(AppError::Unauthorized),
            other => other?,
        };
        let operator = match self
            .store
            .fetch_operator(session.tenant_id, session.operator_id)
            .await
        {
            Err(livehelp_store::StoreError::NotFound) => return Err(AppError::Unauthorized),
            other => other?,
        };
        if operator.disabled {
            return Err(AppError::Unauthorized);
        }
        let tenant = self.store.fetch_tenant(operator.tenant_id).await?;
        if tenant.status == TenantStatus::Suspended {
            return Err(AppError::TenantSuspended);
        }
        Ok(AuthenticatedOperator {
            operator: principal(&operator),
            session_id: session.id,
            csrf_token: session.csrf_token,
        })
    }

    /// Ends a login session.
    pub async fn logout(
        &self,
        operator: &OperatorPrincipal,
        session: SessionId,
    ) -> Result<(), AppError> {
        Ok(self
            .store
            .delete_operator_session(operator.tenant_id, session)
            .await?)
    }
}

fn principal(operator: &Operator) -> OperatorPrincipal {
    OperatorPrincipal {
        tenant_id: operator.tenant_id,
        operator_id: operator.id,
        role: operator.role,
        display_name: operator.display_name.clone(),
    }
}

fn seconds_until(now: OffsetDateTime, then: OffsetDateTime) -> u64 {
    u64::try_from((then - now).whole_seconds())
        .unwrap_or(0)
        .max(1)
}

pub(crate) fn truncate_utf8(mut text: String, max_bytes: usize) -> String {
    if text.len() > max_bytes {
        let mut end = max_bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_verifies_and_uses_owasp_parameters() {
        let hash = hash_password("correct horse battery staple").expect("hashes");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("correct horse battery stapler", &hash));
    }

    #[test]
    fn dummy_hash_is_a_valid_hash_that_matches_nothing_typed() {
        assert!(argon2::password_hash::phc::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("", DUMMY_HASH));
    }

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn user_agent_truncation_keeps_utf8_valid() {
        assert_eq!(truncate_utf8("ab😀".into(), 3), "ab");
        assert_eq!(truncate_utf8("abc".into(), 5), "abc");
    }
}
