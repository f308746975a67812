//! One append, as the group-commit writer runs it inside its transaction: the
//! idempotency check, the effect on the conversation as a conditional `UPDATE ...
//! RETURNING` that also takes the next `seq`, and the message insert.
//!
//! The state rules are the ones of `livehelp_domain::ConversationState::apply`, written
//! as `WHERE` clauses so that the check and the change are one statement. When such an
//! update matches no row, the conversation is fetched (in the same tenant) to tell
//! `NotFound` from `WrongState`.

use livehelp_domain::{
    Conversation, ConversationId, DepartmentId, Message, NewMessage, OperatorId, SiteId, TenantId,
    VisitorId,
};
use livehelp_store::{
    AppendEffect, AppendRequest, Appended, StoreError, StoreResult, blocked_by_limit,
};
use sqlx::sqlite::SqliteConnection;
use uuid::Uuid;

use crate::conversations::fetch_conversation;
use crate::error::store_error;
use crate::rows::{
    ConversationRow, MessageRow, author_key, author_kind, ended_by_operator, stored_instant,
    to_micros,
};

/// The idempotency condition of every conditional update: no message of this author with
/// this `client_msg_id` yet (`$1` tenant, `$3` author kind, `$4` author key, `$5` key),
/// spelled like the index `messages_client_msg_id` so SQLite uses it.
macro_rules! not_stored_yet {
    () => {
        " AND NOT EXISTS (SELECT 1 FROM messages WHERE tenant_id = $1 \
         AND author_kind = $3 AND ifnull(author_id, X'') = $4 AND client_msg_id = $5) "
    };
}

/// The operator's load is below their chat limit (own, else the tenant's; none means no
/// limit) and their account is enabled. `$1` is the tenant and `$6` the operator. The
/// writer holds the write lock for the whole batch, so the count cannot change between
/// this check and the update it guards (case BR-04).
macro_rules! under_limit {
    () => {
        "EXISTS (SELECT 1 FROM operators o JOIN tenants t ON t.id = o.tenant_id \
       WHERE o.tenant_id = $1 AND o.id = $6 AND o.disabled = 0 \
         AND (SELECT count(*) FROM conversations WHERE tenant_id = $1 AND operator_id = $6 \
                AND state = 'active') \
             < coalesce(o.max_chats, t.max_chats_per_operator, 9223372036854775807))"
    };
}

/// Starts a batch: the transaction, taking the write lock at once (each request reads
/// before it writes, and a deferred transaction could not upgrade its read snapshot if
/// another connection wrote in between), and the savepoint `append_request` that every
/// request runs in. The writer rolls back to the savepoint when a request fails;
/// [`insert_message`] releases it and opens the next request's in the same round trip as
/// the insert. (A failed request leaves it open after the rollback, and a duplicate wrote
/// nothing, so in every case the next request finds a fresh one.)
pub(crate) const BEGIN_BATCH: &str = "BEGIN IMMEDIATE; SAVEPOINT append_request";

/// Rolls back what the current request wrote, keeping the savepoint open.
pub(crate) const ROLLBACK_TO_SAVEPOINT: &str = "ROLLBACK TO append_request";

/// Keeps what the savepoint covers and opens a fresh one for what follows (the bulk path
/// of `batch.rs` runs it on its own; [`insert_message`] folds it into its insert).
pub(crate) const NEXT_SAVEPOINT: &str = "RELEASE append_request; SAVEPOINT append_request";

/// Applies one append on the writer's connection, inside its transaction and with the
/// savepoint `append_request` open (see [`BEGIN_BATCH`]).
///
/// The idempotency check of `Message`, `Accept` and `End` is folded into their
/// conditional update (`AND NOT EXISTS` a message with this author and `client_msg_id`),
/// so the usual append is two statements: the update and the insert. Only when the update
/// matches nothing does [`why_not`] look closer: a stored duplicate, `NotFound` or
/// `WrongState`.
pub(crate) async fn apply_append(
    connection: &mut SqliteConnection,
    tenant: TenantId,
    request: &AppendRequest,
) -> StoreResult<Appended> {
    let message = &request.message;
    // $1..$5 are the same in every update: the conversation and the idempotency key.
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
            sqlx::query_as::<_, ConversationRow>(concat!(
                "UPDATE conversations SET last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state IN ('queued', 'active') \
                   AND ($6 IS NULL OR visitor_id = $6) ",
                not_stored_yet!(),
                " RETURNING *"
            ))
            .bind(tenant.as_uuid())
            .bind(message.conversation_id.as_uuid())
            .bind(author_kind(message.author))
            .bind(author_key(message.author))
            .bind(message.client_msg_id)
            .bind(request.visitor_author().map(|visitor| visitor.as_uuid()))
            .fetch_optional(&mut *connection)
            .await
        }
        AppendEffect::Message {
            operator: Some(operator),
        } => {
            sqlx::query_as::<_, ConversationRow>(concat!(
                "UPDATE conversations SET last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'active' AND operator_id = $6 \
                   ",
                not_stored_yet!(),
                " RETURNING *"
            ))
            .bind(tenant.as_uuid())
            .bind(message.conversation_id.as_uuid())
            .bind(author_kind(message.author))
            .bind(author_key(message.author))
            .bind(message.client_msg_id)
            .bind(operator.as_uuid())
            .fetch_optional(&mut *connection)
            .await
        }
        AppendEffect::Accept { operator } | AppendEffect::Assign { operator } => {
            let automatic = matches!(request.effect, AppendEffect::Assign { .. });
            require_operator(connection, tenant, *operator).await?;
            sqlx::query_as::<_, ConversationRow>(concat!(
                "UPDATE conversations \
                 SET state = 'active', operator_id = $6, accepted_at = $7, assigned_at = $7, \
                     assigned_seq = last_seq + 1, auto_assigned = $8, last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'queued' \
                   ",
                not_stored_yet!(),
                " AND ",
                under_limit!(),
                " RETURNING *"
            ))
            .bind(tenant.as_uuid())
            .bind(message.conversation_id.as_uuid())
            .bind(author_kind(message.author))
            .bind(author_key(message.author))
            .bind(message.client_msg_id)
            .bind(operator.as_uuid())
            .bind(to_micros(message.created_at))
            .bind(automatic)
            .fetch_optional(&mut *connection)
            .await
        }
        AppendEffect::Transfer {
            from,
            to,
            automatic,
        } => {
            require_operator(connection, tenant, *to).await?;
            sqlx::query_as::<_, ConversationRow>(concat!(
                "UPDATE conversations \
                 SET operator_id = $6, assigned_at = $7, assigned_seq = last_seq + 1, \
                     auto_assigned = $8, last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'active' AND operator_id = $9 \
                   ",
                not_stored_yet!(),
                " AND ",
                under_limit!(),
                " RETURNING *"
            ))
            .bind(tenant.as_uuid())
            .bind(message.conversation_id.as_uuid())
            .bind(author_kind(message.author))
            .bind(author_key(message.author))
            .bind(message.client_msg_id)
            .bind(to.as_uuid())
            .bind(to_micros(message.created_at))
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
            sqlx::query_as::<_, ConversationRow>(concat!(
                "UPDATE conversations \
                 SET state = 'queued', operator_id = NULL, accepted_at = NULL, \
                     assigned_at = NULL, assigned_seq = NULL, auto_assigned = 0, \
                     department_id = $6, last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'active' AND operator_id = $7 \
                   ",
                not_stored_yet!(),
                " RETURNING *"
            ))
            .bind(tenant.as_uuid())
            .bind(message.conversation_id.as_uuid())
            .bind(author_kind(message.author))
            .bind(author_key(message.author))
            .bind(message.client_msg_id)
            .bind(department_id.map(|id| id.as_uuid()))
            .bind(from.as_uuid())
            .fetch_optional(&mut *connection)
            .await
        }
        AppendEffect::Join { operator } => {
            require_operator(connection, tenant, *operator).await?;
            sqlx::query_as::<_, ConversationRow>(concat!(
                "UPDATE conversations SET last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'active' \
                   ",
                not_stored_yet!(),
                " RETURNING *"
            ))
            .bind(tenant.as_uuid())
            .bind(message.conversation_id.as_uuid())
            .bind(author_kind(message.author))
            .bind(author_key(message.author))
            .bind(message.client_msg_id)
            .fetch_optional(&mut *connection)
            .await
        }
        AppendEffect::ParticipantMessage { operator } => {
            sqlx::query_as::<_, ConversationRow>(concat!(
                "UPDATE conversations SET last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'active' \
                   AND EXISTS (SELECT 1 FROM conversation_participants WHERE tenant_id = $1 \
                       AND conversation_id = $2 AND operator_id = $6) \
                   ",
                not_stored_yet!(),
                " RETURNING *"
            ))
            .bind(tenant.as_uuid())
            .bind(message.conversation_id.as_uuid())
            .bind(author_kind(message.author))
            .bind(author_key(message.author))
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
            sqlx::query_as::<_, ConversationRow>(concat!(
                "UPDATE conversations \
                 SET state = 'ended', ended_at = $6, end_reason = $7, \
                     ended_by_operator_id = $8, last_seq = last_seq + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND state IN ('queued', 'active') \
                   AND ($9 IS NULL OR operator_id = $9) \
                   ",
                not_stored_yet!(),
                " RETURNING *"
            ))
            .bind(tenant.as_uuid())
            .bind(message.conversation_id.as_uuid())
            .bind(author_kind(message.author))
            .bind(author_key(message.author))
            .bind(message.client_msg_id)
            .bind(to_micros(message.created_at))
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
    connection: &mut SqliteConnection,
    tenant: TenantId,
    request: &AppendRequest,
) -> StoreResult<()> {
    let at = to_micros(request.message.created_at);
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
    sqlx::query(sql)
        .bind(tenant.as_uuid())
        .bind(operator.as_uuid())
        .bind(at)
        .bind(request.message.conversation_id.as_uuid())
        .execute(&mut *connection)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// `NotFound` unless `department` is one of `tenant`'s.
async fn require_department(
    connection: &mut SqliteConnection,
    tenant: TenantId,
    department: DepartmentId,
) -> StoreResult<()> {
    require_row(
        connection,
        "SELECT EXISTS (SELECT 1 FROM departments WHERE tenant_id = $1 AND id = $2)",
        tenant,
        department.as_uuid(),
    )
    .await
}

/// `Open`: the stored duplicate if the key was used, the visitor's open conversation if
/// there is one, or a new queued conversation with its first message.
async fn open(
    connection: &mut SqliteConnection,
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
    if let Some(open) = open_conversation(connection, tenant, visitor).await? {
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
    connection: &mut SqliteConnection,
    tenant: TenantId,
    conversation: &Conversation,
    prechat: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE conversations SET prechat = $3 WHERE tenant_id = $1 AND id = $2")
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
    connection: &mut SqliteConnection,
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
    connection: &mut SqliteConnection,
    tenant: TenantId,
    message: &NewMessage,
    client_msg_id: Uuid,
) -> StoreResult<Option<Message>> {
    // `ifnull(author_id, X'')` is spelled exactly as in the index `messages_client_msg_id`,
    // which is what lets SQLite use it.
    let row = sqlx::query_as::<_, MessageRow>(
        "SELECT * FROM messages \
         WHERE tenant_id = $1 AND author_kind = $2 AND ifnull(author_id, X'') = $3 \
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
    connection: &mut SqliteConnection,
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

/// The visitor's open conversation, if any.
async fn open_conversation(
    connection: &mut SqliteConnection,
    tenant: TenantId,
    visitor: VisitorId,
) -> StoreResult<Option<Conversation>> {
    let row = sqlx::query_as::<_, ConversationRow>(
        "SELECT * FROM conversations \
         WHERE tenant_id = $1 AND visitor_id = $2 AND state <> 'ended'",
    )
    .bind(tenant.as_uuid())
    .bind(visitor.as_uuid())
    .fetch_optional(&mut *connection)
    .await
    .map_err(store_error)?;
    Ok(row.map(Conversation::try_from).transpose()?)
}

/// Message 1 of a conversation, the `chat_requested` one.
async fn first_message(
    connection: &mut SqliteConnection,
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

/// Inserts a new queued conversation whose first message will be seq 1.
async fn insert_conversation(
    connection: &mut SqliteConnection,
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
    .bind(to_micros(message.created_at))
    .bind(department.map(|id| id.as_uuid()))
    .fetch_one(&mut *connection)
    .await
    .map_err(store_error)?;
    Ok(Conversation::try_from(row)?)
}

/// `NotFound` unless `operator` is an operator of `tenant`.
async fn require_operator(
    connection: &mut SqliteConnection,
    tenant: TenantId,
    operator: OperatorId,
) -> StoreResult<()> {
    require_row(
        connection,
        "SELECT EXISTS (SELECT 1 FROM operators WHERE tenant_id = $1 AND id = $2)",
        tenant,
        operator.as_uuid(),
    )
    .await
}

/// `NotFound` unless `exists` (a `SELECT EXISTS (...)` over `$1` tenant and `$2` id) is
/// true: a clear "not this tenant's" instead of a foreign-key error later.
async fn require_row(
    connection: &mut SqliteConnection,
    exists: &'static str,
    tenant: TenantId,
    id: Uuid,
) -> StoreResult<()> {
    let known: bool = sqlx::query_scalar(exists)
        .bind(tenant.as_uuid())
        .bind(id)
        .fetch_one(&mut *connection)
        .await
        .map_err(store_error)?;
    if known {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Inserts the message at the conversation's new `last_seq` and returns it as stored. The
/// same round trip releases the request's savepoint and opens the next request's.
async fn insert_message(
    connection: &mut SqliteConnection,
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
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12); \
         RELEASE append_request; \
         SAVEPOINT append_request",
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
    .bind(to_micros(stored.created_at))
    .execute(&mut *connection)
    .await
    .map_err(store_error)?;
    Ok(stored)
}
