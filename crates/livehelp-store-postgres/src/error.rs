//! The one place where sqlx/PostgreSQL errors become [`StoreError`]s.
//!
//! Unique violations (SQLSTATE `23505`) become `Conflict` with a stable constraint name.
//! PostgreSQL reports the violated constraint or index by name, and the migrations name
//! every one of them, so the mapping is a table ([`conflict_name`]), not message parsing.
//! Errors that mean "the database cannot do this now" (connection lost or refused, server
//! shutting down, too many connections, disk full, deadlock or serialization failure, a
//! read-only standby after a failover, a closed or exhausted pool) become `Unavailable`:
//! the caller may retry, with the same `client_msg_id` for an append. Everything else is
//! `Other`. Nothing here ever produces `NotFound`: "not found" is only ever the answer to
//! a query that returned no row.

use livehelp_store::StoreError;
use sqlx::error::ErrorKind;

/// Maps a sqlx error to the store's error type.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(database) => {
            if database.kind() == ErrorKind::UniqueViolation {
                return StoreError::Conflict {
                    constraint: conflict_name(database.constraint().unwrap_or_default()),
                };
            }
            let code = database.code().unwrap_or_default().into_owned();
            if is_transient(&code) {
                StoreError::Unavailable(format!("{database} (SQLSTATE {code})"))
            } else {
                StoreError::Other(Box::new(sqlx::Error::Database(database)))
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(error.to_string()),
        other => StoreError::Other(Box::new(other)),
    }
}

/// Whether a SQLSTATE says "not now" rather than "never": retrying later may succeed.
fn is_transient(code: &str) -> bool {
    // Class 08: connection exception. Class 53: insufficient resources (disk full, out of
    // memory, too many connections). Class 57P: operator intervention (admin or crash
    // shutdown, cannot connect now). Class 58: system error (I/O).
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || code.starts_with("58")
        || matches!(
            code,
            // serialization_failure, deadlock_detected, lock_not_available,
            // read_only_sql_transaction (a standby after a failover), query_canceled
            // (statement_timeout).
            "40001" | "40P01" | "55P03" | "25006" | "57014"
        )
}

/// The stable name of a unique constraint or index, as the migrations name them.
pub(crate) fn conflict_name(constraint: &str) -> &'static str {
    match constraint {
        "sites_key_key" => "site_key",
        "operators_email_key" => "operator_email",
        "operator_sessions_token_hash_key" => "operator_session_token",
        "visitor_sessions_token_hash_key" => "visitor_session_token",
        "messages_conversation_id_seq_key" => "message_seq",
        "conversations_one_open_per_visitor" => "conversation_open_per_visitor",
        "messages_client_msg_id" => "message_client_msg_id",
        "canned_responses_shortcut" => "canned_response_shortcut",
        "platform_admins_email_key" => "platform_admin_email",
        "password_resets_pkey" => "password_reset_token",
        "tenants_pkey" => "tenant_id",
        "sites_pkey" | "sites_tenant_id_id_key" => "site_id",
        "operators_pkey" | "operators_tenant_id_id_key" => "operator_id",
        "operator_sessions_pkey" => "operator_session_id",
        "visitors_pkey" | "visitors_tenant_id_id_key" => "visitor_id",
        "visitor_sessions_pkey" => "visitor_session_id",
        "conversations_pkey" | "conversations_tenant_id_id_key" => "conversation_id",
        "messages_pkey" => "message_id",
        "platform_admins_pkey" => "platform_admin_id",
        "audit_log_pkey" => "audit_entry_id",
        "departments_tenant_id_name_key" => "department_name",
        "departments_pkey" | "departments_tenant_id_id_key" => "department_id",
        _ => "unique",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_map_to_stable_names() {
        for (constraint, name) in [
            ("sites_key_key", "site_key"),
            ("operators_email_key", "operator_email"),
            (
                "conversations_one_open_per_visitor",
                "conversation_open_per_visitor",
            ),
            ("messages_client_msg_id", "message_client_msg_id"),
            ("messages_conversation_id_seq_key", "message_seq"),
            ("tenants_pkey", "tenant_id"),
            ("sites_tenant_id_id_key", "site_id"),
            ("departments_tenant_id_name_key", "department_name"),
            ("something_new", "unique"),
        ] {
            assert_eq!(conflict_name(constraint), name, "{constraint}");
        }
    }

    #[test]
    fn transient_states_are_unavailable() {
        for code in [
            "08006", "08001", "53300", "53100", "57P01", "40P01", "40001", "25006",
        ] {
            assert!(is_transient(code), "{code}");
        }
        for code in ["23503", "23514", "42P01", "22021"] {
            assert!(!is_transient(code), "{code}");
        }
        assert!(matches!(
            store_error(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            store_error(sqlx::Error::RowNotFound),
            StoreError::Other(_)
        ));
    }
}
