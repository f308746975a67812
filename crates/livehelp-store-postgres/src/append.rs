//! One append, as the group-commit writer runs it inside its transaction and savepoint:
//! the idempotency check, the effect on the conversation as a conditional `UPDATE ...
//! RETURNING` that also takes the next `seq`, and the message insert.
//!
//! The state rules are those of `livehelp_domain::ConversationState::apply`, written as
//! `WHERE` clauses, so the check and the change are one statement. Across nodes this is
//! what makes them safe: the `UPDATE` locks the conversation row, a second writer (on any
//! node) waits for the first to commit and then re-checks the `WHERE` against the new row
//! (PostgreSQL's READ COMMITTED re-evaluation), so of two racing accepts exactly one
//! matches. When an update matches no row, the conversation is fetched (in the same
//! tenant) to tell `NotFound` from `WrongState`.
//!
//! The two unique indexes can still refuse a write made concurrently on another node: the
//! same `client_msg_id` stored by another node's transaction that committed while this
//! one waited (`messages_client_msg_id`), or another node opening a conversation for the
//! same visitor (`conversations_one_open_per_visitor`). Those come back as `Conflict`;
//! the writer rolls the request back to its savepoint and runs it once more, and the
//! second run, with a fresh snapshot, finds the winner's row and answers as a duplicate
//! ([`is_lost_race`]).
//!
//! The per-operator chat limit (case BR-04) is a count over other conversation rows, which
//! the conversation's row lock does not protect: two nodes could each count one free slot
//! and both take it. So `Accept`, `Assign` and `Transfer` first lock the target operator's
//! row ([`lock_operator`]) and only then run their conditional update, whose limit
//! condition ([`UNDER_LIMIT`]) counts the operator's active chats in a fresh READ COMMITTED
//! snapshot: every other transaction that gave this operator a chat has committed by then
//! (or waits for ours), so the count is exact. Locks are taken operator first, then
//! conversation, by every path that takes both; two batches that assign chats of two
//! operators in opposite orders can still deadlock, and PostgreSQL then fails one request
//! (`Unavailable`, retried by the client with the same `client_msg_id`).

use livehelp_domain::{
    Conversation, ConversationId, DepartmentId, Message, NewMessage, OperatorId, SiteId, TenantId,
    VisitorId,
};
use livehelp_store::{
    AppendEffect, AppendRequest, Appended, StoreError, StoreResult, blocked_by_limit,
};
use sqlx::postgres::PgConnection;
use uuid::Uuid;

use crate::conversations::{fetch_conversation, fetch_open_conversation};
use crate::error::store_error;
use crate::rows::{
    ConversationRow, MessageRow, author_key, author_kind, ended_by_operator, stored_instant,
};

/// The idempotency condition shared by every conditional update: no message of this
/// author with this `client_msg_id` yet. Spelled like the index `messages_client_msg_id`
/// so it can use it. `$1` tenant, `$3` author kind, `$4` author key, `$5` client_msg_id.
const NOT_STORED_YET: &str = "NOT EXISTS (SELECT 1 FROM messages WHERE tenant_id = $1 \
     AND author_kind = $3 \
     AND coalesce(author_id, '00000000-0000-0000-0000-000000000000'::uuid) = $4 \
     AND client_msg_id = $5)";

/// The operator `$6` is enabled and below their chat limit (own, else the tenant's; none
/// means no limit). Sound only after [`lock_operator`] in the same transaction: the lock
/// makes every concurrent assignment to the operator wait for this one, and the count,
/// taken when this statement starts, includes every one that committed before.
const UNDER_LIMIT: &str = "EXISTS (SELECT 1 FROM operators o JOIN tenants t ON t.id = o.tenant_id \
     WHERE o.tenant_id = $1 AND o.id = $6 AND NOT o.disabled \
       AND (SELECT count(*) FROM conversations WHERE tenant_id = $1 AND operator_id = $6 \
              AND state = 'active') \
           < coalesce(o.max_chats, t.max_chats_per_operator, 2147483647))";

/// Whether `error` means the request lost a race on a unique index to a transaction that
/// has committed since: running it again finds the winner's row.
pub(crate) fn is_lost_race(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Conflict {
            constraint: "message_client_msg_id" | "conversation_open_per_visitor"
        }
    )
}

/// Applies one append on the writer's connection, inside its transaction and savepoint.
pub(crate) async fn apply_append(
    connection: &mut PgConnection,
    tenant: TenantId,
    request: &AppendRequest,
) -> StoreResult<Appended> {
    let message = &request.message;
    let conversation = message.conversation_id.as_uuid();
    let kind = author_kind(message.author);
    let key = author_key(message.author);
    let updated = match &request.effect {
        AppendEffect::Open {
            site_id,
            visitor_id,
            department_id,
            prechat,
        } => {
            let open_at = (*site_id, *visitor_id, *department_id);
            let opened = open(connection, tenant, request, open_at).await?;
            if !opened.duplicate
                && let Some(prechat) = prechat
            {
                store_prechat(connection, tenant, &opened.conversation, prechat).await?;
            }
            return Ok(opened);
        }
        AppendEffect::Message { operator: None } => {
            let sql = format!(
                "UPDATE conversations SET last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state IN ('queued', 'active') \
                   AND ($6::uuid IS NULL OR visitor_id = $6) AND {NOT_STORED_YET} \
                 RETURNING *"
            );
            sqlx::query_as::<_, ConversationRow>(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_uuid())
                .bind(conversation)
                .bind(kind)
                .bind(key)
                .bind(message.client_msg_id)
                .bind(request.visitor_author().map(|visitor| visitor.as_uuid()))
                .fetch_optional(&mut *connection)
                .await
        }
        AppendEffect::Message {
            operator: Some(operator),
        } => {
            let sql = format!(
                "UPDATE conversations SET last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'active' AND operator_id = $6 \
                   AND {NOT_STORED_YET} \
                 RETURNING *"
            );
            sqlx::query_as::<_, ConversationRow>(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_uuid())
                .bind(conversation)
                .bind(kind)
                .bind(key)
                .bind(message.client_msg_id)
                .bind(operator.as_uuid())
                .fetch_optional(&mut *connection)
                .await
        }
        AppendEffect::Accept { operator } | AppendEffect::Assign { operator } => {
            let automatic = matches!(request.effect, AppendEffect::Assign { .. });
            lock_operator(connection, tenant, *operator).await?;
            let sql = format!(
                "UPDATE conversations \
                 SET state = 'active', operator_id = $6, accepted_at = $7, assigned_at = $7, \
                     assigned_seq = last_seq + 1, auto_assigned = $8, last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'queued' \
                   AND {NOT_STORED_YET} AND {UNDER_LIMIT} \
                 RETURNING *"
            );
            sqlx::query_as::<_, ConversationRow>(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_uuid())
                .bind(conversation)
                .bind(kind)
                .bind(key)
                .bind(message.client_msg_id)
                .bind(operator.as_uuid())
                .bind(stored_instant(message.created_at))
                .bind(automatic)
                .fetch_optional(&mut *connection)
                .await
        }
        AppendEffect::Transfer {
            from,
            to,
            automatic,
        } => {
            lock_operator(connection, tenant, *to).await?;
            let sql = format!(
                "UPDATE conversations \
                 SET operator_id = $6, assigned_at = $7, assigned_seq = last_seq + 1, \
                     auto_assigned = $8, last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'active' AND operator_id = $9 \
                   AND {NOT_STORED_YET} AND {UNDER_LIMIT} \
                 RETURNING *"
            );
            sqlx::query_as::<_, ConversationRow>(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_uuid())
                .bind(conversation)
                .bind(kind)
                .bind(key)
                .bind(message.client_msg_id)
                .bind(to.as_uuid())
                .bind(stored_instant(message.created_at))
                .bind(*automatic)
                .bind(from.as_uuid())
                .fetch_optional(&mut *connection)
                .await
        }
        AppendEffect::Requeue {
            from,
            department_id,
        } => {
            if let Some(department) = department_id {
                require_department(connection, tenant, *department).await?;
            }
            let sql = format!(
                "UPDATE conversations \
                 SET state = 'queued', operator_id = NULL, accepted_at = NULL, \
                     assigned_at = NULL, assigned_seq = NULL, auto_assigned = false, \
                     department_id = $6, last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'active' AND operator_id = $7 \
                   AND {NOT_STORED_YET} \
                 RETURNING *"
            );
            sqlx::query_as::<_, ConversationRow>(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_uuid())
                .bind(conversation)
                .bind(kind)
                .bind(key)
                .bind(message.client_msg_id)
                .bind(department_id.map(|id| id.as_uuid()))
                .bind(from.as_uuid())
                .fetch_optional(&mut *connection)
                .await
        }
        AppendEffect::Join { operator } => {
            require_operator(connection, tenant, *operator).await?;
            let sql = format!(
                "UPDATE conversations SET last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'active' \
                   AND {NOT_STORED_YET} \
                 RETURNING *"
            );
            sqlx::query_as::<_, ConversationRow>(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_uuid())
                .bind(conversation)
                .bind(kind)
                .bind(key)
                .bind(message.client_msg_id)
                .fetch_optional(&mut *connection)
                .await
        }
        AppendEffect::ParticipantMessage { operator } => {
            let sql = format!(
                "UPDATE conversations SET last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'active' \
                   AND EXISTS (SELECT 1 FROM conversation_participants WHERE tenant_id = $1 \
                       AND conversation_id = $2 AND operator_id = $6) \
                   AND {NOT_STORED_YET} \
                 RETURNING *"
            );
            sqlx::query_as::<_, ConversationRow>(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_uuid())
                .bind(conversation)
                .bind(kind)
                .bind(key)
                .bind(message.client_msg_id)
                .bind(operator.as_uuid())
                .fetch_optional(&mut *connection)
                .await
        }
        AppendEffect::End { reason, operator } => {
            let ended_by = ended_by_operator(*reason);
            if let Some(ended_by) = ended_by {
                require_operator(connection, tenant, OperatorId::from_uuid(ended_by)).await?;
            }
            let sql = format!(
                "UPDATE conversations \
                 SET state = 'ended', ended_at = $6, end_reason = $7, \
                     ended_by_operator_id = $8, last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state IN ('queued', 'active') \
                   AND ($9::uuid IS NULL OR operator_id = $9) \
                   AND {NOT_STORED_YET} \
                 RETURNING *"
            );
            sqlx::query_as::<_, ConversationRow>(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_uuid())
                .bind(conversation)
                .bind(kind)
                .bind(key)
                .bind(message.client_msg_id)
                .bind(stored_instant(message.created_at))
                .bind(reason.as_str())
                .bind(ended_by)
                .bind(operator.map(|operator| operator.as_uuid()))
                .fetch_optional(&mut *connection)
                .await
        }
    };
    let Some(row) = updated.map_err(store_error)? else {
        return why_not(connection, tenant, request).await;
    };
    let conversation = Conversation::try_from(row)?;
    after_change(connection, tenant, request).await?;
    let stored = insert_message(connection, tenant, message, &conversation).await?;
    Ok(Appended {
        message: stored,
        conversation,
        duplicate: false,
    })
}

/// What an effect writes besides the conversation row: the new owner's last assignment
/// time (round robin, least-busy ties), a joining operator's participation.
async fn after_change(
    connection: &mut PgConnection,
    tenant: TenantId,
    request: &AppendRequest,
) -> StoreResult<()> {
    let (sql, operator) = match &request.effect {
        AppendEffect::Accept { operator }
        | AppendEffect::Assign { operator }
        | AppendEffect::Transfer { to: operator, .. } => (
            "UPDATE operators SET last_assigned_at = $3 WHERE tenant_id = $1 AND id = $2",
            operator,
        ),
        AppendEffect::Join { operator } => (
            "INSERT INTO conversation_participants \
                 (tenant_id, operator_id, joined_at, conversation_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            operator,
        ),
        _ => return Ok(()),
    };
    let mut query = sqlx::query(sql)
        .bind(tenant.as_uuid())
        .bind(operator.as_uuid())
        .bind(stored_instant(request.message.created_at));
    if matches!(request.effect, AppendEffect::Join { .. }) {
        query = query.bind(request.message.conversation_id.as_uuid());
    }
    query.execute(&mut *connection).await.map_err(store_error)?;
    Ok(())
}

/// `Open`: the stored duplicate if the key was used, the visitor's open conversation if
/// there is one, or a new queued conversation with its first message.
async fn open(
    connection: &mut PgConnection,
    tenant: TenantId,
    request: &AppendRequest,
    (site, visitor, department): (SiteId, VisitorId, Option<DepartmentId>),
) -> StoreResult<Appended> {
    let message = &request.message;
    if let Some(client_msg_id) = message.client_msg_id
        && let Some(stored) =
            find_by_client_msg_id(connection, tenant, message, client_msg_id).await?
    {
        return replay(connection, tenant, request, stored).await;
    }
    if let Some(open) = fetch_open_conversation(&mut *connection, tenant, visitor).await? {
        let first = first_message(connection, tenant, open.id).await?;
        return Ok(Appended {
            message: first,
            conversation: open,
            duplicate: true,
        });
    }
    if let Some(department) = department {
        require_department(connection, tenant, department).await?;
    }
    let conversation =
        insert_conversation(connection, tenant, message, (site, visitor, department)).await?;
    let stored = insert_message(connection, tenant, message, &conversation).await?;
    Ok(Appended {
        message: stored,
        conversation,
        duplicate: false,
    })
}

/// Stores the pre-chat answers of a conversation `open` has just created, in the same
/// transaction (so they are there exactly when the conversation is, BR-05).
async fn store_prechat(
    connection: &mut PgConnection,
    tenant: TenantId,
    conversation: &Conversation,
    prechat: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE conversations SET prechat = $3::jsonb WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_uuid())
        .bind(conversation.id.as_uuid())
        .bind(prechat)
        .execute(&mut *connection)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Why a conditional update matched no row: the key was stored before (a duplicate, or
/// `ClientMsgIdReused`), the conversation is not in this tenant (`NotFound`), or it is in
/// the wrong state or owned by someone else (`WrongState`).
async fn why_not(
    connection: &mut PgConnection,
    tenant: TenantId,
    request: &AppendRequest,
) -> StoreResult<Appended> {
    let message = &request.message;
    if let Some(client_msg_id) = message.client_msg_id
        && let Some(stored) =
            find_by_client_msg_id(connection, tenant, message, client_msg_id).await?
    {
        return replay(connection, tenant, request, stored).await;
    }
    match fetch_conversation(&mut *connection, tenant, message.conversation_id).await? {
        Some(current) if request.foreign_to_visitor(&current) => Err(StoreError::NotFound),
        Some(current) if blocked_by_limit(&request.effect, &current) => Err(StoreError::Conflict {
            constraint: "operator_chat_limit",
        }),
        Some(current) => Err(StoreError::WrongState {
            current: Box::new(current),
        }),
        None => Err(StoreError::NotFound),
    }
}

/// The message this author already stored under `client_msg_id`, if any.
async fn find_by_client_msg_id(
    connection: &mut PgConnection,
    tenant: TenantId,
    message: &NewMessage,
    client_msg_id: Uuid,
) -> StoreResult<Option<Message>> {
    let row = sqlx::query_as::<_, MessageRow>(
        "SELECT * FROM messages \
         WHERE tenant_id = $1 AND author_kind = $2 \
           AND coalesce(author_id, '00000000-0000-0000-0000-000000000000'::uuid) = $3 \
           AND client_msg_id = $4",
    )
    .bind(tenant.as_uuid())
    .bind(author_kind(message.author))
    .bind(author_key(message.author))
    .bind(client_msg_id)
    .fetch_optional(&mut *connection)
    .await
    .map_err(store_error)?;
    Ok(row.map(Message::try_from).transpose()?)
}

/// The answer to a request whose `client_msg_id` was stored before: the stored message as
/// a duplicate if it was the same request, `ClientMsgIdReused` if not. "The same" means the
/// same kind of message (and system event) in the same conversation; for `Open`, whose
/// conversation id is new on every attempt, any conversation the key opened.
async fn replay(
    connection: &mut PgConnection,
    tenant: TenantId,
    request: &AppendRequest,
    stored: Message,
) -> StoreResult<Appended> {
    let message = &request.message;
    let same_conversation = matches!(request.effect, AppendEffect::Open { .. })
        || stored.conversation_id == message.conversation_id;
    if !same_conversation || stored.kind != message.kind || stored.event != message.event {
        return Err(StoreError::ClientMsgIdReused);
    }
    let conversation = fetch_conversation(&mut *connection, tenant, stored.conversation_id)
        .await?
        .ok_or_else(|| StoreError::Other("a stored message's conversation is missing".into()))?;
    Ok(Appended {
        message: stored,
        conversation,
        duplicate: true,
    })
}

/// Message 1 of a conversation, the `chat_requested` one.
async fn first_message(
    connection: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> StoreResult<Message> {
    let row = sqlx::query_as::<_, MessageRow>(
        "SELECT * FROM messages WHERE tenant_id = $1 AND conversation_id = $2 AND seq = 1",
    )
    .bind(tenant.as_uuid())
    .bind(conversation.as_uuid())
    .fetch_optional(&mut *connection)
    .await
    .map_err(store_error)?
    .ok_or_else(|| StoreError::Other("an open conversation has no first message".into()))?;
    Ok(Message::try_from(row)?)
}

/// Inserts a new queued conversation whose first message will be seq 1. A concurrent open
/// for the same visitor on another node makes this fail with
/// `Conflict { constraint: "conversation_open_per_visitor" }` (see [`is_lost_race`]).
async fn insert_conversation(
    connection: &mut PgConnection,
    tenant: TenantId,
    message: &NewMessage,
    (site, visitor, department): (SiteId, VisitorId, Option<DepartmentId>),
) -> StoreResult<Conversation> {
    // The visitor and the site must be this tenant's: a plain NotFound, rather than the
    // foreign-key error the insert would otherwise fail with.
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM visitors WHERE tenant_id = $1 AND id = $2) \
            AND EXISTS (SELECT 1 FROM sites WHERE tenant_id = $1 AND id = $3)",
    )
    .bind(tenant.as_uuid())
    .bind(visitor.as_uuid())
    .bind(site.as_uuid())
    .fetch_one(&mut *connection)
    .await
    .map_err(store_error)?;
    if !known {
        return Err(StoreError::NotFound);
    }
    let row = sqlx::query_as::<_, ConversationRow>(
        "INSERT INTO conversations \
             (id, tenant_id, site_id, visitor_id, state, operator_id, last_seq, created_at, \
              accepted_at, ended_at, end_reason, ended_by_operator_id, department_id) \
         VALUES ($1, $2, $3, $4, 'queued', NULL, 1, $5, NULL, NULL, NULL, NULL, $6) \
         RETURNING *",
    )
    .bind(message.conversation_id.as_uuid())
    .bind(tenant.as_uuid())
    .bind(site.as_uuid())
    .bind(visitor.as_uuid())
    .bind(stored_instant(message.created_at))
    .bind(department.map(|id| id.as_uuid()))
    .fetch_one(&mut *connection)
    .await
    .map_err(store_error)?;
    Ok(Conversation::try_from(row)?)
}

/// `NotFound` unless `operator` is an operator of `tenant`.
async fn require_operator(
    connection: &mut PgConnection,
    tenant: TenantId,
    operator: OperatorId,
) -> StoreResult<()> {
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM operators WHERE tenant_id = $1 AND id = $2)",
    )
    .bind(tenant.as_uuid())
    .bind(operator.as_uuid())
    .fetch_one(&mut *connection)
    .await
    .map_err(store_error)?;
    if known {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Locks `operator`'s row until the batch commits (`NotFound` unless they are one of
/// `tenant`'s), so that assignments to them from every node run one after another and
/// each sees the chats the others gave them (case BR-04). `FOR NO KEY UPDATE`: it
/// conflicts with itself (and with other updates of the row) but not with the key-share
/// locks that foreign-key checks on the operator take, e.g. a login session being stored.
async fn lock_operator(
    connection: &mut PgConnection,
    tenant: TenantId,
    operator: OperatorId,
) -> StoreResult<()> {
    sqlx::query_scalar::<_, uuid::Uuid>(
        "SELECT id FROM operators WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(operator.as_uuid())
    .fetch_optional(&mut *connection)
    .await
    .map_err(store_error)?
    .map(|_| ())
    .ok_or(StoreError::NotFound)
}

/// `NotFound` unless `department` is one of `tenant`'s. Holds a key-share lock on it until
/// the batch commits, so a concurrent `delete_department` (which locks the row first)
/// either finishes before (then this is `NotFound`) or waits and then moves this
/// conversation to the general queue with the others.
async fn require_department(
    connection: &mut PgConnection,
    tenant: TenantId,
    department: DepartmentId,
) -> StoreResult<()> {
    sqlx::query_scalar::<_, uuid::Uuid>(
        "SELECT id FROM departments WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE",
    )
    .bind(tenant.as_uuid())
    .bind(department.as_uuid())
    .fetch_optional(&mut *connection)
    .await
    .map_err(store_error)?
    .map(|_| ())
    .ok_or(StoreError::NotFound)
}

/// Inserts the message at the conversation's new `last_seq` and returns it as stored.
async fn insert_message(
    connection: &mut PgConnection,
    tenant: TenantId,
    message: &NewMessage,
    conversation: &Conversation,
) -> StoreResult<Message> {
    let stored = Message {
        id: message.id,
        tenant_id: tenant,
        conversation_id: conversation.id,
        seq: conversation.last_seq,
        kind: message.kind,
        author: message.author,
        author_name: message.author_name.clone(),
        text: message.text.clone(),
        event: message.event,
        client_msg_id: message.client_msg_id,
        created_at: stored_instant(message.created_at),
    };
    sqlx::query(
        "INSERT INTO messages \
             (id, tenant_id, conversation_id, seq, kind, author_kind, author_id, author_name, \
              text, event, client_msg_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(stored.id.as_uuid())
    .bind(tenant.as_uuid())
    .bind(stored.conversation_id.as_uuid())
    .bind(stored.seq)
    .bind(stored.kind.as_str())
    .bind(author_kind(stored.author))
    .bind(stored.author.uuid())
    .bind(stored.author_name.as_deref())
    .bind(stored.text.as_str())
    .bind(stored.event.map(|event| event.as_str()))
    .bind(stored.client_msg_id)
    .bind(stored.created_at)
    .execute(&mut *connection)
    .await
    .map_err(store_error)?;
    Ok(stored)
}
