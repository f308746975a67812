//! The one place where sqlx/SQLite errors become [`StoreError`]s.
//!
//! Unique violations become `Conflict` with a stable constraint name (SQLite does not
//! report constraint names, only the columns or the index, so the names are mapped here
//! from its message). Errors that mean "the database cannot do this now" (busy, locked,
//! disk full, I/O, a closed pool) become `Unavailable`, everything else `Other`. Nothing
//! here ever produces `NotFound`: "not found" is only ever the answer to a query that
//! returned no row.

use livehelp_store::StoreError;
use sqlx::error::ErrorKind;

/// Maps a sqlx error to the store's error type.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(database) => {
            if database.kind() == ErrorKind::UniqueViolation {
                return StoreError::Conflict {
                    constraint: unique_constraint_name(database.message()),
                };
            }
            let primary_code = database
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .map(|code| code & 0xff);
            match primary_code {
                Some(
                    SQLITE_BUSY | SQLITE_LOCKED | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN,
                ) => StoreError::Unavailable(database.to_string()),
                _ => StoreError::Other(Box::new(sqlx::Error::Database(database))),
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_) => StoreError::Unavailable(error.to_string()),
        other => StoreError::Other(Box::new(other)),
    }
}

// Primary result codes (https://www.sqlite.org/rescode.html); the extended code's low byte.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;

/// The stable name of the unique constraint a SQLite message is about. SQLite words them
/// `UNIQUE constraint failed: sites.key` (columns) or `... failed: index 'name'`
/// (expression indexes).
fn unique_constraint_name(message: &str) -> &'static str {
    let detail = message
        .split_once("constraint failed: ")
        .map_or(message, |(_, detail)| detail)
        .trim();
    match detail {
        "sites.key" => "site_key",
        "operators.email" => "operator_email",
        "platform_admins.email" => "platform_admin_email",
        "password_resets.token_hash" => "password_reset_token",
        "operator_sessions.token_hash" => "operator_session_token",
        "visitor_sessions.token_hash" => "visitor_session_token",
        "messages.conversation_id, messages.seq" => "message_seq",
        "conversations.tenant_id, conversations.visitor_id" => "conversation_open_per_visitor",
        "index 'messages_client_msg_id'" => "message_client_msg_id",
        "departments.tenant_id, departments.name" => "department_name",
        "index 'canned_responses_shortcut'" => "canned_response_shortcut",
        _ => primary_key_name(detail),
    }
}

/// The name of a primary key (or `(tenant_id, id)`) violation: `<entity>_id`.
fn primary_key_name(detail: &str) -> &'static str {
    let table = detail.split_once('.').map_or("", |(table, _)| table);
    match table {
        "tenants" => "tenant_id",
        "sites" => "site_id",
        "operators" => "operator_id",
        "operator_sessions" => "operator_session_id",
        "visitors" => "visitor_id",
        "visitor_sessions" => "visitor_session_id",
        "conversations" => "conversation_id",
        "messages" => "message_id",
        "platform_admins" => "platform_admin_id",
        "audit_log" => "audit_entry_id",
        _ => "unique",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_map_to_stable_names() {
        for (message, name) in [
            ("UNIQUE constraint failed: sites.key", "site_key"),
            (
                "UNIQUE constraint failed: operators.email",
                "operator_email",
            ),
            (
                "UNIQUE constraint failed: platform_admins.email",
                "platform_admin_email",
            ),
            (
                "UNIQUE constraint failed: password_resets.token_hash",
                "password_reset_token",
            ),
            ("UNIQUE constraint failed: audit_log.id", "audit_entry_id"),
            (
                "UNIQUE constraint failed: operator_sessions.token_hash",
                "operator_session_token",
            ),
            (
                "UNIQUE constraint failed: messages.conversation_id, messages.seq",
                "message_seq",
            ),
            (
                "UNIQUE constraint failed: conversations.tenant_id, conversations.visitor_id",
                "conversation_open_per_visitor",
            ),
            (
                "UNIQUE constraint failed: index 'messages_client_msg_id'",
                "message_client_msg_id",
            ),
            ("UNIQUE constraint failed: tenants.id", "tenant_id"),
            ("UNIQUE constraint failed: messages.id", "message_id"),
            (
                "UNIQUE constraint failed: sites.tenant_id, sites.id",
                "site_id",
            ),
            ("UNIQUE constraint failed: index 'something_new'", "unique"),
        ] {
            assert_eq!(unique_constraint_name(message), name, "{message}");
        }
    }

    #[test]
    fn pool_errors_are_unavailable() {
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
