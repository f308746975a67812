//! WebSocket frames. [`ClientFrame`] is what visitors and operators send,
//! [`ServerFrame`] what the server sends. Both are JSON objects tagged by `type`.
//! [`ClientFrame::parse`] tells apart "not JSON", "unknown type" and "bad field", so each
//! gets its own error code.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ErrorCode;

/// A frame from a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Visitor: ask for a chat. Opens a queued conversation, or answers with the visitor's
    /// open one (one open conversation per visitor).
    StartChat {
        /// Idempotency key (UUID) chosen by the client.
        client_msg_id: Uuid,
        /// The department the visitor chose (one of the site's `departments` in
        /// widget-config); absent: the site's default department, else the general queue.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        department_id: Option<Uuid>,
        /// Answers to the site's pre-chat form, an object: field key → value. Required
        /// when the site has a form; checked by the server (`prechat_invalid`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prechat: Option<serde_json::Value>,
    },
    /// Visitor or operator: send a message.
    SendMessage {
        /// Idempotency key.
        client_msg_id: Uuid,
        /// Target conversation.
        conversation_id: Uuid,
        /// Text, 1 to 10,000 characters, kept exactly as given.
        text: String,
    },
    /// Visitor or operator: typing started or stopped. Not stored, not acknowledged.
    Typing {
        /// Target conversation.
        conversation_id: Uuid,
        /// True while typing.
        is_typing: bool,
    },
    /// Operator: take a queued conversation.
    Accept {
        /// Idempotency key.
        client_msg_id: Uuid,
        /// The queued conversation.
        conversation_id: Uuid,
    },
    /// Visitor or the owning operator: end the conversation.
    EndChat {
        /// Idempotency key.
        client_msg_id: Uuid,
        /// Target conversation.
        conversation_id: Uuid,
    },
    /// After a reconnect: send every message with `seq > after_seq`, then live ones.
    Resume {
        /// The conversation to follow.
        conversation_id: Uuid,
        /// The last `seq` this client has seen (0 for everything).
        after_seq: i64,
    },
    /// Keep-alive; answered with `pong`.
    Ping {},
    /// Visitor: the page they are on now (not acknowledged). Also added to the visitor's
    /// page trail (kept for the tenant's retention period) unless `dnt` is true.
    PageView {
        /// Page address; query string and fragment are dropped by the server (except the
        /// site's kept query parameters, for the trail).
        url: String,
        /// Document title.
        #[serde(default)]
        title: Option<String>,
        /// `document.referrer`, if any.
        #[serde(default)]
        referrer: Option<String>,
        /// The browser signals Global Privacy Control or Do-Not-Track: keep no trail.
        #[serde(default)]
        dnt: bool,
    },
    /// Operator: set availability, `online` or `away`. Answered with `status`.
    SetStatus {
        /// `online` or `away`.
        status: String,
    },
    /// Operator: a message only operators see (never the visitor), marked internal in the
    /// transcript. The owner, an operator who joined, or a supervisor/admin of the tenant.
    Whisper {
        /// Idempotency key.
        client_msg_id: Uuid,
        /// A queued or active conversation.
        conversation_id: Uuid,
        /// 1–4,000 characters.
        text: String,
    },
    /// Operator: hand an active conversation to another operator (`to_operator_id`, who
    /// must be available and under their chat limit) or back to a department's queue
    /// (`to_department_id`); exactly one of the two. The owner, or a supervisor/admin.
    /// `note` is whispered to operators only.
    Transfer {
        /// Idempotency key.
        client_msg_id: Uuid,
        /// An active conversation.
        conversation_id: Uuid,
        /// The new owner.
        #[serde(default)]
        to_operator_id: Option<Uuid>,
        /// The department whose queue it joins.
        #[serde(default)]
        to_department_id: Option<Uuid>,
        /// Shown to operators only.
        #[serde(default)]
        note: Option<String>,
    },
    /// Supervisor or admin: enter an active conversation visibly: `join` (write beside the
    /// owner) or `take_over` (become the owner).
    Barge {
        /// Idempotency key.
        client_msg_id: Uuid,
        /// An active conversation.
        conversation_id: Uuid,
        /// `join` or `take_over`.
        mode: String,
    },
}

/// Why a client frame could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// `invalid_json`, `unknown_frame_type` or `invalid_frame`.
    pub code: ErrorCode,
    /// Human-readable detail (which field).
    pub message: String,
}

impl ClientFrame {
    /// The frame type names this server understands.
    pub const TYPES: [&'static str; 12] = [
        "start_chat",
        "send_message",
        "typing",
        "accept",
        "end_chat",
        "resume",
        "ping",
        "page_view",
        "set_status",
        "whisper",
        "transfer",
        "barge",
    ];

    /// Parses one text frame.
    pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|error| FrameError {
            code: ErrorCode::InvalidJson,
            message: format!("frame is not valid JSON: {error}"),
        })?;
        let frame_type = value.get("type").and_then(serde_json::Value::as_str);
        match frame_type {
            Some(name) if Self::TYPES.contains(&name) => {}
            Some(name) => {
                return Err(FrameError {
                    code: ErrorCode::UnknownFrameType,
                    message: format!("unknown frame type {name:?}"),
                });
            }
            None => {
                return Err(FrameError {
                    code: ErrorCode::UnknownFrameType,
                    message: "frame has no string field \"type\"".into(),
                });
            }
        }
        serde_json::from_value(value).map_err(|error| FrameError {
            code: ErrorCode::InvalidFrame,
            message: error.to_string(),
        })
    }

    /// The client's idempotency key, for frames that carry one.
    pub fn client_msg_id(&self) -> Option<Uuid> {
        match self {
            ClientFrame::StartChat { client_msg_id, .. }
            | ClientFrame::SendMessage { client_msg_id, .. }
            | ClientFrame::Accept { client_msg_id, .. }
            | ClientFrame::EndChat { client_msg_id, .. }
            | ClientFrame::Whisper { client_msg_id, .. }
            | ClientFrame::Transfer { client_msg_id, .. }
            | ClientFrame::Barge { client_msg_id, .. } => Some(*client_msg_id),
            _ => None,
        }
    }

    /// The conversation the frame is about, if any.
    pub fn conversation_id(&self) -> Option<Uuid> {
        match self {
            ClientFrame::SendMessage {
                conversation_id, ..
            }
            | ClientFrame::Typing {
                conversation_id, ..
            }
            | ClientFrame::Accept {
                conversation_id, ..
            }
            | ClientFrame::EndChat {
                conversation_id, ..
            }
            | ClientFrame::Resume {
                conversation_id, ..
            }
            | ClientFrame::Whisper {
                conversation_id, ..
            }
            | ClientFrame::Transfer {
                conversation_id, ..
            }
            | ClientFrame::Barge {
                conversation_id, ..
            } => Some(*conversation_id),
            _ => None,
        }
    }
}

/// Who a participant is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantDto {
    /// Visitor or operator id.
    pub id: Uuid,
    /// Name, if known (a visitor may give none).
    pub name: Option<String>,
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorDto {
    /// `visitor`, `operator` or `system`.
    pub kind: String,
    /// Visitor or operator id; absent for the system.
    pub id: Option<Uuid>,
    /// The author's name when the message was written.
    pub name: Option<String>,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDto {
    /// Server id.
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// Position in the conversation, from 1, no gaps.
    pub seq: i64,
    /// `visitor`, `operator`, `system` or `whisper`.
    pub kind: String,
    /// Author.
    pub author: AuthorDto,
    /// Text exactly as typed (system messages: a short English description).
    pub text: String,
    /// For system messages: `chat_requested`, `operator_joined` or `chat_ended`.
    pub event: Option<String>,
    /// The sender's idempotency key.
    pub client_msg_id: Option<Uuid>,
    /// Commit time, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A conversation's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationDto {
    /// Id.
    pub id: Uuid,
    /// `queued`, `active` or `ended`.
    pub state: String,
    /// The site it started on.
    pub site_id: Uuid,
    /// The visitor.
    pub visitor: ParticipantDto,
    /// The owning operator, once accepted.
    pub operator_id: Option<Uuid>,
    /// The owning operator's display name, once accepted.
    #[serde(default)]
    pub operator_name: Option<String>,
    /// Highest `seq` so far.
    pub last_seq: i64,
    /// When it was requested, RFC 3339 UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When an operator accepted it, RFC 3339 UTC.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub accepted_at: Option<OffsetDateTime>,
    /// When it ended, RFC 3339 UTC.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// Why it ended: `visitor_ended`, `operator_ended`, `visitor_abandoned`.
    pub end_reason: Option<String>,
    /// The department whose queue it is in; absent for the general queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<Uuid>,
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame after connecting.
    Hello {
        /// Protocol version (1).
        protocol_version: u32,
        /// `visitor` or `operator`.
        role: String,
        /// Who the client is.
        you: ParticipantDto,
        /// Visitor: their open conversation, if any. Operator: their active conversations.
        /// The client sends `resume` for each it wants to follow.
        conversations: Vec<ConversationDto>,
        /// Operator: their saved availability (`online` or `away`); absent for visitors.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
    },
    /// A client frame with a `client_msg_id` is durably committed. Sent again, with the
    /// same contents, for a repeated `client_msg_id`.
    Ack {
        /// The client's key.
        client_msg_id: Uuid,
        /// The conversation concerned (new for `start_chat`).
        conversation_id: Uuid,
        /// The stored message recording the request.
        message_id: Uuid,
        /// Its `seq`.
        seq: i64,
    },
    /// A message of a conversation the client follows, in `seq` order, exactly once.
    Message {
        /// The message.
        message: MessageDto,
    },
    /// Someone started or stopped typing.
    Typing {
        /// The conversation.
        conversation_id: Uuid,
        /// Who.
        author: AuthorDto,
        /// True while typing.
        is_typing: bool,
    },
    /// A conversation changed state (requested, accepted, ended). Operators get it for
    /// their tenant's queue; visitors for their own conversation.
    Conversation {
        /// The conversation as it is now.
        conversation: ConversationDto,
    },
    /// Operator: the tenant's queue, oldest first; sent on connect.
    Queue {
        /// Queued conversations, oldest first; at most 200 (the oldest).
        conversations: Vec<ConversationDto>,
        /// How many are waiting in all (may exceed the list's length).
        #[serde(default)]
        total: u64,
    },
    /// The replay after `resume` is complete; live messages follow.
    Resumed {
        /// The conversation.
        conversation_id: Uuid,
        /// The last `seq` delivered.
        last_seq: i64,
    },
    /// Something the client sent was refused. The connection stays usable.
    Error {
        /// Stable code.
        code: ErrorCode,
        /// Human-readable detail.
        message: String,
        /// The refused frame's key, if it had one.
        client_msg_id: Option<Uuid>,
        /// For `rate_limited`: seconds to wait before retrying.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
        /// For `prechat_invalid`: field key → what is wrong with it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fields: Option<std::collections::BTreeMap<String, String>>,
    },
    /// Answer to `ping`.
    Pong {},
    /// Operator: availability after `set_status`.
    Status {
        /// `online` or `away`.
        status: String,
    },
    /// Visitor: where their queued conversation stands. Sent when it is queued (after
    /// `start_chat` or `resume`, and again whenever the queue moves); not sent once an
    /// operator has it.
    QueuePosition {
        /// The visitor's conversation.
        conversation_id: Uuid,
        /// 1 = next to be served.
        position: u64,
        /// Estimated wait in whole seconds, from the queue's recent assignment rate.
        estimated_wait_seconds: u64,
    },
    /// Owning operator (when the tenant shows monitoring): a supervisor started or
    /// stopped watching their conversation.
    Monitoring {
        /// The conversation.
        conversation_id: Uuid,
        /// Who watches.
        supervisor: ParticipantDto,
        /// Started (true) or stopped (false).
        watching: bool,
    },
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code {name:?}")))
    }
}

impl ServerFrame {
    /// The frame type names the server sends, for documentation checks.
    pub const TYPES: [&'static str; 12] = [
        "hello",
        "ack",
        "message",
        "typing",
        "conversation",
        "queue",
        "resumed",
        "error",
        "pong",
        "status",
        "queue_position",
        "monitoring",
    ];

    /// Encodes the frame as JSON text.
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail: no maps with non-string keys, no
        // foreign Serialize impls that error.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal","message":"encoding failed","client_msg_id":null}"#
                .to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_tells_errors_apart() {
        assert_eq!(
            ClientFrame::parse("{").map_err(|e| e.code),
            Err(ErrorCode::InvalidJson)
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"fly"}"#).map_err(|e| e.code),
            Err(ErrorCode::UnknownFrameType)
        );
        assert_eq!(
            ClientFrame::parse(r#"[1]"#).map_err(|e| e.code),
            Err(ErrorCode::UnknownFrameType)
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"send_message","text":"hi"}"#).map_err(|e| e.code),
            Err(ErrorCode::InvalidFrame)
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"start_chat","client_msg_id":"not-a-uuid"}"#)
                .map_err(|e| e.code),
            Err(ErrorCode::InvalidFrame)
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"ping"}"#),
            Ok(ClientFrame::Ping {})
        );
    }

    #[test]
    fn every_type_name_parses() {
        let id = Uuid::nil();
        let frames = [
            ClientFrame::StartChat {
                client_msg_id: id,
                department_id: None,
                prechat: None,
            },
            ClientFrame::SendMessage {
                client_msg_id: id,
                conversation_id: id,
                text: "x".into(),
            },
            ClientFrame::Typing {
                conversation_id: id,
                is_typing: true,
            },
            ClientFrame::Accept {
                client_msg_id: id,
                conversation_id: id,
            },
            ClientFrame::EndChat {
                client_msg_id: id,
                conversation_id: id,
            },
            ClientFrame::Resume {
                conversation_id: id,
                after_seq: 3,
            },
            ClientFrame::Ping {},
            ClientFrame::PageView {
                url: "https://a.test/".into(),
                title: None,
                referrer: None,
                dnt: false,
            },
            ClientFrame::SetStatus {
                status: "away".into(),
            },
            ClientFrame::Whisper {
                client_msg_id: id,
                conversation_id: id,
                text: "x".into(),
            },
            ClientFrame::Transfer {
                client_msg_id: id,
                conversation_id: id,
                to_operator_id: Some(id),
                to_department_id: None,
                note: None,
            },
            ClientFrame::Barge {
                client_msg_id: id,
                conversation_id: id,
                mode: "join".into(),
            },
        ];
        assert_eq!(
            frames.len(),
            ClientFrame::TYPES.len(),
            "every frame type is listed"
        );
        for (frame, name) in frames.iter().zip(ClientFrame::TYPES) {
            let json = serde_json::to_string(frame).expect("encodes");
            assert!(json.contains(&format!("\"type\":\"{name}\"")), "{json}");
            assert_eq!(&ClientFrame::parse(&json).expect("parses"), frame);
        }
    }

    #[test]
    fn server_type_names_match_the_enum() {
        let id = Uuid::nil();
        let at = OffsetDateTime::UNIX_EPOCH;
        let participant = ParticipantDto { id, name: None };
        let author = AuthorDto {
            kind: "system".into(),
            id: None,
            name: None,
        };
        let conversation = ConversationDto {
            id,
            state: "queued".into(),
            site_id: id,
            visitor: participant.clone(),
            operator_id: None,
            operator_name: None,
            last_seq: 1,
            created_at: at,
            accepted_at: None,
            ended_at: None,
            end_reason: None,
            department_id: None,
        };
        let message = MessageDto {
            id,
            conversation_id: id,
            seq: 1,
            kind: "system".into(),
            author: author.clone(),
            text: "x".into(),
            event: None,
            client_msg_id: None,
            created_at: at,
        };
        // One of each variant; adding a variant without listing it here fails to compile
        // the exhaustive match below.
        let frames = [
            ServerFrame::Hello {
                protocol_version: 1,
                role: "visitor".into(),
                you: participant,
                conversations: vec![],
                status: None,
            },
            ServerFrame::Ack {
                client_msg_id: id,
                conversation_id: id,
                message_id: id,
                seq: 1,
            },
            ServerFrame::Message { message },
            ServerFrame::Typing {
                conversation_id: id,
                author,
                is_typing: true,
            },
            ServerFrame::Conversation { conversation },
            ServerFrame::Queue {
                conversations: vec![],
                total: 0,
            },
            ServerFrame::Resumed {
                conversation_id: id,
                last_seq: 1,
            },
            ServerFrame::Error {
                code: ErrorCode::Internal,
                message: "x".into(),
                client_msg_id: None,
                retry_after: Some(3),
                fields: None,
            },
            ServerFrame::Pong {},
            ServerFrame::Status {
                status: "online".into(),
            },
            ServerFrame::QueuePosition {
                conversation_id: id,
                position: 1,
                estimated_wait_seconds: 30,
            },
            ServerFrame::Monitoring {
                conversation_id: id,
                supervisor: ParticipantDto { id, name: None },
                watching: true,
            },
        ];
        for frame in &frames {
            match frame {
                ServerFrame::Hello { .. }
                | ServerFrame::Ack { .. }
                | ServerFrame::Message { .. }
                | ServerFrame::Typing { .. }
                | ServerFrame::Conversation { .. }
                | ServerFrame::Queue { .. }
                | ServerFrame::Resumed { .. }
                | ServerFrame::Error { .. }
                | ServerFrame::Pong {}
                | ServerFrame::Status { .. }
                | ServerFrame::QueuePosition { .. }
                | ServerFrame::Monitoring { .. } => {}
            }
        }
        let names: Vec<String> = frames
            .iter()
            .map(|frame| {
                let value: serde_json::Value =
                    serde_json::from_str(&frame.to_json()).expect("json");
                value["type"].as_str().expect("type").to_owned()
            })
            .collect();
        assert_eq!(names, ServerFrame::TYPES);
        for frame in &frames {
            let back: ServerFrame = serde_json::from_str(&frame.to_json()).expect("decodes");
            assert_eq!(&back, frame);
        }
    }

    proptest! {
        #[test]
        fn send_message_round_trips(text in "\\PC{0,300}", id in any::<u128>(), conv in any::<u128>()) {
            let frame = ClientFrame::SendMessage {
                client_msg_id: Uuid::from_u128(id),
                conversation_id: Uuid::from_u128(conv),
                text,
            };
            let json = serde_json::to_string(&frame).expect("encodes");
            prop_assert_eq!(ClientFrame::parse(&json).expect("parses"), frame);
        }

        #[test]
        fn parse_never_panics(input in "\\PC{0,200}") {
            let _ = ClientFrame::parse(&input);
        }
    }
}
