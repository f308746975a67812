//! Plain messages in bulk: a run of consecutive `AppendEffect::Message` requests of one
//! batch written with four statements whatever its length, instead of two per request.
//!
//! The writer holds the database's write lock for the whole batch (`BEGIN IMMEDIATE`) and
//! is the only code that writes `conversations` and `messages`, so what it reads inside
//! the transaction stays true until it commits. That lets a run be decided in memory:
//!
//! 1. one `SELECT` reads every conversation the run names (in the tenant);
//! 2. one `SELECT` finds every `(author, client_msg_id)` of the run already stored, through
//!    the idempotency index;
//! 3. the requests are then checked in arrival order exactly as [`crate::append`] checks
//!    them one by one (a stored key first: the stored message as a duplicate, or
//!    `ClientMsgIdReused`; then `NotFound`; then the state and owner rule, `WrongState`),
//!    each accepted one taking the next `seq` of its conversation, and a key or a message
//!    id met twice inside the run answered as the second statement of the old path would;
//! 4. one multi-row `INSERT` writes the new messages and one `UPDATE ... FROM json_each`
//!    moves each touched conversation's `last_seq` to its new value, guarded by the old
//!    value, and must touch exactly the conversations expected.
//!
//! Rows travel as one JSON array parameter (`json_each`), so each statement has one fixed
//! text that sqlx prepares once, whatever the run's length. Whenever the bulk path meets
//! anything it did not foresee (a statement fails, a message id is already stored, the
//! guard does not hold), it rolls back to the request savepoint, which undoes the run and
//! nothing before it, and the writer runs the same requests through the one-by-one path,
//! which gives each its own exact answer.

use std::collections::{HashMap, HashSet};

use livehelp_domain::{
    Conversation, ConversationId, ConversationState, Message, MessageId, TenantId,
};
use livehelp_store::{AppendEffect, AppendRequest, Appended, StoreError, StoreResult};
use serde_json::json;
use sqlx::sqlite::SqliteConnection;
use uuid::Uuid;

use crate::rows::{ConversationRow, MessageRow, author_kind, stored_instant, to_micros};

/// Whether the bulk path can take `request`: a plain message whose text SQLite's JSON
/// functions carry unchanged (they would cut a text at a NUL character).
pub(crate) fn is_bulk(request: &AppendRequest) -> bool {
    matches!(request.effect, AppendEffect::Message { .. }) && !request.message.text.contains('\0')
}

/// Applies a run of plain-message requests inside the open request savepoint.
/// `Ok(Some(..))` holds each request's outcome, and the savepoint has been released and
/// opened again. `Ok(None)`: the run was rolled back to the savepoint (nothing of it is
/// written) and must be run request by request. `Err`: even the rollback failed, so the
/// transaction as a whole is lost.
pub(crate) async fn apply_run(
    connection: &mut SqliteConnection,
    run: &[(TenantId, &AppendRequest)],
) -> Result<Option<Vec<StoreResult<Appended>>>, sqlx::Error> {
    let attempt = try_run(connection, run).await;
    if let Ok(Some(outcomes)) = attempt {
        return Ok(Some(outcomes));
    }
    if let Err(error) = attempt {
        tracing::debug!(%error, "bulk append falls back to one by one");
    }
    sqlx::query(crate::append::ROLLBACK_TO_SAVEPOINT)
        .execute(&mut *connection)
        .await?;
    Ok(None)
}

/// The bulk attempt. `Ok(None)`: something unforeseen, roll back and go one by one.
async fn try_run(
    connection: &mut SqliteConnection,
    run: &[(TenantId, &AppendRequest)],
) -> Result<Option<Vec<StoreResult<Appended>>>, sqlx::Error> {
    // Every request of a run is in one tenant in practice (the server batches whatever
    // arrives, so not necessarily); group the reads by tenant.
    let mut conversations: HashMap<(TenantId, ConversationId), Conversation> = HashMap::new();
    let mut stored_keys: HashMap<(TenantId, &'static str, Option<Uuid>, Uuid), Message> =
        HashMap::new();
    let mut tenants: Vec<TenantId> = run.iter().map(|(tenant, _)| *tenant).collect();
    tenants.sort_unstable_by_key(|tenant| tenant.as_uuid());
    tenants.dedup();
    for tenant in tenants {
        let in_tenant = || {
            run.iter()
                .filter(move |(each, _)| *each == tenant)
                .map(|(_, request)| &request.message)
        };
        let ids: Vec<String> = in_tenant()
            .map(|message| hex(message.conversation_id.as_uuid()))
            .collect();
        let rows = sqlx::query_as::<_, ConversationRow>(FETCH_CONVERSATIONS)
            .bind(tenant.as_uuid())
            .bind(serde_json::Value::from(ids).to_string())
            .fetch_all(&mut *connection)
            .await?;
        for row in rows {
            let Ok(conversation) = Conversation::try_from(row) else {
                return Ok(None);
            };
            conversations.insert((tenant, conversation.id), conversation);
        }
        let keys: Vec<serde_json::Value> = in_tenant()
            .filter_map(|message| {
                message.client_msg_id.map(|key| {
                    json!([
                        author_kind(message.author),
                        message.author.uuid().map(hex).unwrap_or_default(),
                        hex(key)
                    ])
                })
            })
            .collect();
        if keys.is_empty() {
            continue;
        }
        let rows = sqlx::query_as::<_, MessageRow>(FETCH_STORED_KEYS)
            .bind(tenant.as_uuid())
            .bind(serde_json::Value::from(keys).to_string())
            .fetch_all(&mut *connection)
            .await?;
        for row in rows {
            let Ok(message) = Message::try_from(row) else {
                return Ok(None);
            };
            let Some(key) = message.client_msg_id else {
                return Ok(None);
            };
            let author = message.author;
            stored_keys.insert((tenant, author_kind(author), author.uuid(), key), message);
        }
    }

    // Decide every request in arrival order, against the state as it moves.
    let mut outcomes = Vec::with_capacity(run.len());
    let mut message_ids: HashSet<MessageId> = HashSet::new();
    let mut rows = Vec::new();
    // Conversation -> (last_seq before the run, last_seq after it).
    let mut seqs: HashMap<(TenantId, ConversationId), (i64, i64)> = HashMap::new();
    for &(tenant, request) in run {
        let message = &request.message;
        let AppendEffect::Message { operator } = request.effect else {
            return Ok(None);
        };
        let conversation_key = (tenant, message.conversation_id);
        let idempotency_key = message.client_msg_id.map(|key| {
            (
                tenant,
                author_kind(message.author),
                message.author.uuid(),
                key,
            )
        });
        if let Some(stored) = idempotency_key.and_then(|key| stored_keys.get(&key)) {
            // Stored before (or earlier in this run): `append::replay`'s rule.
            let outcome = if stored.conversation_id != message.conversation_id
                || stored.kind != message.kind
                || stored.event != message.event
            {
                Err(StoreError::ClientMsgIdReused)
            } else {
                match conversations.get(&conversation_key) {
                    Some(current) => Ok(Appended {
                        message: stored.clone(),
                        conversation: current.clone(),
                        duplicate: true,
                    }),
                    // A stored message's conversation is always there; be exact anyway.
                    None => return Ok(None),
                }
            };
            outcomes.push(outcome);
            continue;
        }
        let Some(current) = conversations
            .get_mut(&conversation_key)
            .filter(|current| !request.foreign_to_visitor(current))
        else {
            outcomes.push(Err(StoreError::NotFound));
            continue;
        };
        let allowed = match operator {
            None => matches!(
                current.state,
                ConversationState::Queued | ConversationState::Active
            ),
            Some(operator) => {
                current.state == ConversationState::Active && current.operator_id == Some(operator)
            }
        };
        if !allowed {
            outcomes.push(Err(StoreError::WrongState {
                current: Box::new(current.clone()),
            }));
            continue;
        }
        if !message_ids.insert(message.id) {
            // The one-by-one path's insert would fail on the primary key, and its
            // savepoint would undo the `seq` it took.
            outcomes.push(Err(StoreError::Conflict {
                constraint: "message_id",
            }));
            continue;
        }
        let before = current.last_seq;
        current.last_seq += 1;
        seqs.entry(conversation_key)
            .and_modify(|(_, after)| *after = current.last_seq)
            .or_insert((before, current.last_seq));
        let stored = Message {
            id: message.id,
            tenant_id: tenant,
            conversation_id: message.conversation_id,
            seq: current.last_seq,
            kind: message.kind,
            author: message.author,
            author_name: message.author_name.clone(),
            text: message.text.clone(),
            event: message.event,
            client_msg_id: message.client_msg_id,
            created_at: stored_instant(message.created_at),
        };
        rows.push(json!([
            hex(stored.id.as_uuid()),
            hex(tenant.as_uuid()),
            hex(stored.conversation_id.as_uuid()),
            stored.seq,
            stored.kind.as_str(),
            author_kind(stored.author),
            stored.author.uuid().map(hex),
            stored.author_name,
            stored.text,
            stored.event.map(|event| event.as_str()),
            stored.client_msg_id.map(hex),
            to_micros(stored.created_at),
        ]));
        if let Some(key) = idempotency_key {
            stored_keys.insert(key, stored.clone());
        }
        outcomes.push(Ok(Appended {
            message: stored,
            conversation: current.clone(),
            duplicate: false,
        }));
    }

    if !rows.is_empty() {
        sqlx::query(INSERT_MESSAGES)
            .bind(serde_json::Value::from(rows).to_string())
            .execute(&mut *connection)
            .await?;
        let mut updates: HashMap<TenantId, serde_json::Map<String, serde_json::Value>> =
            HashMap::new();
        for ((tenant, conversation), (before, after)) in &seqs {
            updates
                .entry(*tenant)
                .or_default()
                .insert(hex(conversation.as_uuid()), json!([before, after]));
        }
        let mut updated = 0;
        for (tenant, changes) in updates {
            updated += sqlx::query(UPDATE_LAST_SEQS)
                .bind(tenant.as_uuid())
                .bind(serde_json::Value::Object(changes).to_string())
                .execute(&mut *connection)
                .await?
                .rows_affected();
        }
        if updated != seqs.len() as u64 {
            return Ok(None);
        }
    }
    sqlx::query(crate::append::NEXT_SAVEPOINT)
        .execute(&mut *connection)
        .await?;
    Ok(Some(outcomes))
}

/// Lowercase hex of a UUID's 16 bytes, as SQLite's `unhex()` reads it.
fn hex(uuid: Uuid) -> String {
    uuid.simple().to_string()
}

/// The tenant's conversations among a JSON array of hex ids.
pub(crate) const FETCH_CONVERSATIONS: &str = "SELECT * FROM conversations \
     WHERE tenant_id = $1 AND id IN (SELECT unhex(value) FROM json_each($2))";

/// The tenant's messages stored under any of a JSON array of `[author_kind, author id hex
/// (empty for the system), client_msg_id hex]` keys. `CROSS JOIN` keeps the keys as the
/// outer loop, and `ifnull(author_id, X'')` is spelled as in the index
/// `messages_client_msg_id`, so each key is one index lookup rather than a scan of
/// `messages` (`tests/sqlite.rs` checks the plan).
pub(crate) const FETCH_STORED_KEYS: &str = "SELECT messages.* FROM json_each($2) AS key \
     CROSS JOIN messages \
     WHERE messages.tenant_id = $1 \
       AND messages.author_kind = key.value ->> 0 \
       AND ifnull(messages.author_id, X'') = unhex(key.value ->> 1) \
       AND messages.client_msg_id = unhex(key.value ->> 2) \
       AND messages.client_msg_id IS NOT NULL";

/// New messages from a JSON array of rows (ids as hex).
const INSERT_MESSAGES: &str = "INSERT INTO messages \
         (id, tenant_id, conversation_id, seq, kind, author_kind, author_id, author_name, \
          text, event, client_msg_id, created_at) \
     SELECT unhex(row.value ->> 0), unhex(row.value ->> 1), unhex(row.value ->> 2), \
            row.value ->> 3, row.value ->> 4, row.value ->> 5, unhex(row.value ->> 6), \
            row.value ->> 7, row.value ->> 8, row.value ->> 9, unhex(row.value ->> 10), \
            row.value ->> 11 \
     FROM json_each($1) AS row";

/// The tenant's conversations named by a JSON object `{"<id hex>": [last_seq before,
/// last_seq after], ...}` move to their new `last_seq`, each only if it still has the
/// value the run was decided on. The `IN` keeps it to primary-key lookups.
pub(crate) const UPDATE_LAST_SEQS: &str = "UPDATE conversations \
     SET last_seq = $2 ->> ('$.\"' || lower(hex(id)) || '\"[1]') \
     WHERE tenant_id = $1 AND id IN (SELECT unhex(key) FROM json_each($2)) \
       AND last_seq = $2 ->> ('$.\"' || lower(hex(id)) || '\"[0]')";

#[cfg(test)]
mod tests {
    use sqlx::{ConnectOptions, Connection};

    use super::*;

    /// Every bulk statement finds its rows through an index: a scan of `messages` or
    /// `conversations` would make each batch cost more as the database grows.
    #[tokio::test]
    async fn bulk_statements_use_indexes() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("plans.sqlite");
        let store = crate::SqliteStore::open(&path, crate::SqliteOptions::default())
            .await
            .expect("opens");
        livehelp_store::ConversationStore::close(&store).await;
        let mut connection = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .connect()
            .await
            .expect("a connection");
        let key = json!([["visitor", hex(Uuid::nil()), hex(Uuid::nil())]]).to_string();
        let ids = json!([hex(Uuid::nil())]).to_string();
        let changes = json!({ hex(Uuid::nil()): [1, 2] }).to_string();
        for (statement, argument, index) in [
            (FETCH_STORED_KEYS, key, "INDEX messages_client_msg_id ("),
            (
                FETCH_CONVERSATIONS,
                ids,
                "SEARCH conversations USING INDEX sqlite_autoindex_conversations_",
            ),
            (
                UPDATE_LAST_SEQS,
                changes,
                "SEARCH conversations USING INDEX sqlite_autoindex_conversations_",
            ),
        ] {
            let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "EXPLAIN QUERY PLAN {statement}"
            )))
            .bind(vec![0u8; 16])
            .bind(argument)
            .fetch_all(&mut connection)
            .await
            .expect("a plan");
            let details: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
            assert!(
                details.iter().any(|detail| detail.contains(index)),
                "{statement}: {details:?}"
            );
            assert!(
                !details
                    .iter()
                    .any(|detail| detail.starts_with("SCAN messages")
                        || detail.starts_with("SCAN conversations")),
                "{statement}: {details:?}"
            );
        }
        connection.close().await.expect("closed");
    }
}
