//! Maps domain types to wire types. Domain types do not derive `Serialize`; this is the
//! one place that decides how they look on the wire.

use livehelp_app::ConversationView;
use livehelp_domain::{Message, MessageAuthor};
use livehelp_protocol::{AuthorDto, ConversationDto, MessageDto, ParticipantDto};

/// A message as sent to clients.
pub fn message(message: &Message) -> MessageDto {
    MessageDto {
        id: message.id.as_uuid(),
        conversation_id: message.conversation_id.as_uuid(),
        seq: message.seq,
        kind: message.kind.as_str().to_owned(),
        author: author(message.author, message.author_name.clone()),
        text: message.text.clone(),
        event: message.event.map(|event| event.as_str().to_owned()),
        client_msg_id: message.client_msg_id,
        created_at: message.created_at,
    }
}

/// An author as sent to clients.
pub fn author(author: MessageAuthor, name: Option<String>) -> AuthorDto {
    AuthorDto {
        kind: author.kind_str().to_owned(),
        id: author.uuid(),
        name,
    }
}

/// A conversation as sent to clients.
pub fn conversation(view: &ConversationView) -> ConversationDto {
    let conversation = &view.conversation;
    ConversationDto {
        id: conversation.id.as_uuid(),
        state: conversation.state.as_str().to_owned(),
        site_id: conversation.site_id.as_uuid(),
        visitor: ParticipantDto {
            id: conversation.visitor_id.as_uuid(),
            name: view.visitor_name.clone(),
        },
        operator_id: conversation.operator_id.map(|id| id.as_uuid()),
        operator_name: view.operator_name.clone(),
        last_seq: conversation.last_seq,
        created_at: conversation.created_at,
        accepted_at: conversation.accepted_at,
        ended_at: conversation.ended_at,
        end_reason: conversation
            .end_reason
            .map(|reason| reason.as_str().to_owned()),
        department_id: conversation.department_id.map(|id| id.as_uuid()),
    }
}
