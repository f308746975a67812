//! What goes over NATS: bus-private serde DTOs for [`BusEvent`] and for presence
//! heartbeats, and the mapping from and to domain types. Domain types do not derive
//! `Serialize` (ARCHITECTURE.md invariant 2); this mapping is the bus's own and only
//! nodes of the same cluster read it. Instants travel as whole seconds since the Unix
//! epoch plus nanoseconds, so they arrive exactly as sent.

use livehelp_domain::{
    Conversation, ConversationId, ConversationState, DepartmentId, EndReason, Message,
    MessageAuthor, MessageId, MessageKind, OperatorId, SiteId, SystemEvent, TenantId, Timestamp,
    VisitorId,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::BusEvent;
use crate::presence::PresenceKey;

/// Why a payload could not be read back.
#[derive(Debug)]
pub(crate) struct WireError(pub String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A [`BusEvent`] on the wire.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum EventDto {
    Message {
        message: MessageDto,
    },
    Typing {
        conversation_id: Uuid,
        author: AuthorDto,
        author_name: Option<String>,
        is_typing: bool,
    },
    Conversation {
        conversation: ConversationDto,
    },
    Monitoring {
        conversation_id: Uuid,
        supervisor_id: Uuid,
        supervisor_name: String,
        watching: bool,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct AuthorDto {
    kind: String,
    id: Option<Uuid>,
}

#[derive(Debug, Serialize, Deserialize)]
struct MessageDto {
    id: Uuid,
    tenant_id: Uuid,
    conversation_id: Uuid,
    seq: i64,
    kind: String,
    author: AuthorDto,
    author_name: Option<String>,
    text: String,
    event: Option<String>,
    client_msg_id: Option<Uuid>,
    created_at: WireInstant,
}

#[derive(Debug, Serialize, Deserialize)]
struct ConversationDto {
    id: Uuid,
    tenant_id: Uuid,
    site_id: Uuid,
    visitor_id: Uuid,
    state: String,
    operator_id: Option<Uuid>,
    last_seq: i64,
    created_at: WireInstant,
    accepted_at: Option<WireInstant>,
    ended_at: Option<WireInstant>,
    end_reason: Option<String>,
    ended_by: Option<Uuid>,
    #[serde(default)]
    department_id: Option<Uuid>,
}

/// One node's presence announcement: who is connected to it, valid for `ttl_ms`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct HeartbeatDto {
    /// The announcing node (random per process).
    pub node: String,
    /// How long the announcement counts, in milliseconds (0 when leaving).
    pub ttl_ms: u64,
    /// `(tenant, operator)` pairs with an operator connection open on that node.
    pub operators: Vec<(Uuid, Uuid)>,
}

impl HeartbeatDto {
    /// The operators, as domain ids.
    pub(crate) fn keys(&self) -> Vec<PresenceKey> {
        self.operators
            .iter()
            .map(|(tenant, operator)| {
                (
                    TenantId::from_uuid(*tenant),
                    OperatorId::from_uuid(*operator),
                )
            })
            .collect()
    }
}

/// Encodes an event as JSON.
pub(crate) fn encode_event(event: &BusEvent) -> Vec<u8> {
    let dto = match event {
        BusEvent::Message(message) => EventDto::Message {
            message: message_dto(message),
        },
        BusEvent::Typing {
            conversation_id,
            author,
            author_name,
            is_typing,
        } => EventDto::Typing {
            conversation_id: conversation_id.as_uuid(),
            author: author_dto(*author),
            author_name: author_name.clone(),
            is_typing: *is_typing,
        },
        BusEvent::Conversation(conversation) => EventDto::Conversation {
            conversation: conversation_dto(conversation),
        },
        BusEvent::Monitoring {
            conversation_id,
            supervisor_id,
            supervisor_name,
            watching,
        } => EventDto::Monitoring {
            conversation_id: conversation_id.as_uuid(),
            supervisor_id: supervisor_id.as_uuid(),
            supervisor_name: supervisor_name.clone(),
            watching: *watching,
        },
    };
    // Plain data (strings, numbers, uuids): serialising cannot fail.
    serde_json::to_vec(&dto).unwrap_or_default()
}

/// Decodes an event encoded by [`encode_event`].
pub(crate) fn decode_event(payload: &[u8]) -> Result<BusEvent, WireError> {
    let dto: EventDto =
        serde_json::from_slice(payload).map_err(|error| WireError(error.to_string()))?;
    Ok(match dto {
        EventDto::Message { message } => BusEvent::Message(message_from(message)?),
        EventDto::Typing {
            conversation_id,
            author,
            author_name,
            is_typing,
        } => BusEvent::Typing {
            conversation_id: ConversationId::from_uuid(conversation_id),
            author: author_from(author)?,
            author_name,
            is_typing,
        },
        EventDto::Conversation { conversation } => {
            BusEvent::Conversation(conversation_from(conversation)?)
        }
        EventDto::Monitoring {
            conversation_id,
            supervisor_id,
            supervisor_name,
            watching,
        } => BusEvent::Monitoring {
            conversation_id: ConversationId::from_uuid(conversation_id),
            supervisor_id: OperatorId::from_uuid(supervisor_id),
            supervisor_name,
            watching,
        },
    })
}

/// Encodes a heartbeat.
pub(crate) fn encode_heartbeat(heartbeat: &HeartbeatDto) -> Vec<u8> {
    serde_json::to_vec(heartbeat).unwrap_or_default()
}

/// Decodes a heartbeat.
pub(crate) fn decode_heartbeat(payload: &[u8]) -> Result<HeartbeatDto, WireError> {
    serde_json::from_slice(payload).map_err(|error| WireError(error.to_string()))
}

/// An instant on the wire: whole seconds since the Unix epoch and the nanoseconds past
/// them (JSON numbers stay within 64 bits, and no precision is lost).
type WireInstant = (i64, u32);

fn nanos(instant: Timestamp) -> WireInstant {
    (instant.unix_timestamp(), instant.nanosecond())
}

fn instant((seconds, nanoseconds): WireInstant) -> Result<Timestamp, WireError> {
    let total = i128::from(seconds) * 1_000_000_000 + i128::from(nanoseconds);
    Timestamp::from_unix_timestamp_nanos(total)
        .map_err(|error| WireError(format!("instant {seconds}.{nanoseconds}: {error}")))
}

fn author_dto(author: MessageAuthor) -> AuthorDto {
    let kind = match author {
        MessageAuthor::Visitor(_) => "visitor",
        MessageAuthor::Operator(_) => "operator",
        MessageAuthor::System => "system",
    };
    AuthorDto {
        kind: kind.to_owned(),
        id: author.uuid(),
    }
}

fn author_from(author: AuthorDto) -> Result<MessageAuthor, WireError> {
    match (author.kind.as_str(), author.id) {
        ("visitor", Some(id)) => Ok(MessageAuthor::Visitor(VisitorId::from_uuid(id))),
        ("operator", Some(id)) => Ok(MessageAuthor::Operator(OperatorId::from_uuid(id))),
        ("system", None) => Ok(MessageAuthor::System),
        (kind, id) => Err(WireError(format!("author {kind:?} with id {id:?}"))),
    }
}

fn message_dto(message: &Message) -> MessageDto {
    MessageDto {
        id: message.id.as_uuid(),
        tenant_id: message.tenant_id.as_uuid(),
        conversation_id: message.conversation_id.as_uuid(),
        seq: message.seq,
        kind: message.kind.as_str().to_owned(),
        author: author_dto(message.author),
        author_name: message.author_name.clone(),
        text: message.text.clone(),
        event: message.event.map(|event| event.as_str().to_owned()),
        client_msg_id: message.client_msg_id,
        created_at: nanos(message.created_at),
    }
}

fn message_from(dto: MessageDto) -> Result<Message, WireError> {
    Ok(Message {
        id: MessageId::from_uuid(dto.id),
        tenant_id: TenantId::from_uuid(dto.tenant_id),
        conversation_id: ConversationId::from_uuid(dto.conversation_id),
        seq: dto.seq,
        kind: MessageKind::parse(&dto.kind)
            .ok_or_else(|| WireError(format!("message kind {:?}", dto.kind)))?,
        author: author_from(dto.author)?,
        author_name: dto.author_name,
        text: dto.text,
        event: dto
            .event
            .map(|event| {
                SystemEvent::parse(&event).ok_or_else(|| WireError(format!("event {event:?}")))
            })
            .transpose()?,
        client_msg_id: dto.client_msg_id,
        created_at: instant(dto.created_at)?,
    })
}

fn conversation_dto(conversation: &Conversation) -> ConversationDto {
    let ended_by = match conversation.end_reason {
        Some(EndReason::OperatorEnded(operator)) => Some(operator.as_uuid()),
        _ => None,
    };
    ConversationDto {
        id: conversation.id.as_uuid(),
        tenant_id: conversation.tenant_id.as_uuid(),
        site_id: conversation.site_id.as_uuid(),
        visitor_id: conversation.visitor_id.as_uuid(),
        state: conversation.state.as_str().to_owned(),
        operator_id: conversation.operator_id.map(|operator| operator.as_uuid()),
        last_seq: conversation.last_seq,
        created_at: nanos(conversation.created_at),
        accepted_at: conversation.accepted_at.map(nanos),
        ended_at: conversation.ended_at.map(nanos),
        end_reason: conversation
            .end_reason
            .map(|reason| reason.as_str().to_owned()),
        ended_by,
        department_id: conversation.department_id.map(|id| id.as_uuid()),
    }
}

fn conversation_from(dto: ConversationDto) -> Result<Conversation, WireError> {
    let end_reason = match (dto.end_reason.as_deref(), dto.ended_by) {
        (None, _) => None,
        (Some("visitor_ended"), _) => Some(EndReason::VisitorEnded),
        (Some("visitor_abandoned"), _) => Some(EndReason::VisitorAbandoned),
        (Some("operator_ended"), Some(operator)) => {
            Some(EndReason::OperatorEnded(OperatorId::from_uuid(operator)))
        }
        (Some(other), _) => return Err(WireError(format!("end reason {other:?}"))),
    };
    Ok(Conversation {
        id: ConversationId::from_uuid(dto.id),
        tenant_id: TenantId::from_uuid(dto.tenant_id),
        site_id: SiteId::from_uuid(dto.site_id),
        visitor_id: VisitorId::from_uuid(dto.visitor_id),
        state: ConversationState::parse(&dto.state)
            .ok_or_else(|| WireError(format!("state {:?}", dto.state)))?,
        operator_id: dto.operator_id.map(OperatorId::from_uuid),
        last_seq: dto.last_seq,
        created_at: instant(dto.created_at)?,
        accepted_at: dto.accepted_at.map(instant).transpose()?,
        ended_at: dto.ended_at.map(instant).transpose()?,
        end_reason,
        department_id: dto.department_id.map(DepartmentId::from_uuid),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(end_reason: Option<EndReason>) -> Conversation {
        let now = Timestamp::now_utc();
        Conversation {
            id: ConversationId::new(),
            tenant_id: TenantId::new(),
            site_id: SiteId::new(),
            visitor_id: VisitorId::new(),
            state: if end_reason.is_some() {
                ConversationState::Ended
            } else {
                ConversationState::Active
            },
            operator_id: Some(OperatorId::new()),
            last_seq: 7,
            created_at: now,
            accepted_at: Some(now),
            ended_at: end_reason.map(|_| now),
            end_reason,
            department_id: Some(DepartmentId::new()),
        }
    }

    #[test]
    fn every_event_round_trips() {
        let operator = OperatorId::new();
        let message = Message {
            id: MessageId::new(),
            tenant_id: TenantId::new(),
            conversation_id: ConversationId::new(),
            seq: 3,
            kind: MessageKind::Whisper,
            author: MessageAuthor::Operator(operator),
            author_name: Some("דנה 🦀".to_owned()),
            text: "line\nnext \u{202E} 你好".to_owned(),
            event: Some(SystemEvent::OperatorJoined),
            client_msg_id: Some(Uuid::new_v4()),
            created_at: Timestamp::now_utc(),
        };
        let events = [
            BusEvent::Message(message),
            BusEvent::Typing {
                conversation_id: ConversationId::new(),
                author: MessageAuthor::Visitor(VisitorId::new()),
                author_name: None,
                is_typing: true,
            },
            BusEvent::Typing {
                conversation_id: ConversationId::new(),
                author: MessageAuthor::System,
                author_name: Some("x".to_owned()),
                is_typing: false,
            },
            BusEvent::Conversation(conversation(None)),
            BusEvent::Conversation(conversation(Some(EndReason::OperatorEnded(operator)))),
            BusEvent::Conversation(conversation(Some(EndReason::VisitorAbandoned))),
            BusEvent::Monitoring {
                conversation_id: ConversationId::new(),
                supervisor_id: operator,
                supervisor_name: "Ana".to_owned(),
                watching: true,
            },
        ];
        for event in events {
            let decoded = decode_event(&encode_event(&event)).expect("decodes");
            assert_eq!(decoded, event);
        }
    }

    #[test]
    fn garbage_is_refused() {
        assert!(decode_event(b"{\"type\":\"nope\"}").is_err());
        assert!(decode_event(b"not json").is_err());
        assert!(decode_heartbeat(b"[]").is_err());
    }
}
