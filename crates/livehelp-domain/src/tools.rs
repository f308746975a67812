//! Operator tools (issue 10, item 7): canned responses, internal notes and tags, with the
//! validated newtypes they are made of ([`Shortcut`], [`CannedText`], [`NoteText`],
//! [`Tag`]) and [`ToolError`], the ways they can be refused besides [`TextError`].
//!
//! None of these is ever shown to a visitor: canned responses are expanded in the console
//! and sent as ordinary operator messages; notes and tags are staff-only records kept apart
//! from the messages of a conversation.

use thiserror::Error;

use crate::ids::{CannedResponseId, ConversationId, NoteId, OperatorId, TenantId};
use crate::{MessageText, TextError, Timestamp};

/// Why an operator-tool request was refused (text problems are [`TextError`]s). Each
/// variant maps to one stable wire error code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ToolError {
    /// A shortcut that is not 1 to 32 chars of ASCII letters, digits, `-` and `_`.
    #[error("a shortcut is 1 to 32 letters, digits, '-' or '_'")]
    ShortcutInvalid,
    /// The shortcut is already used in the same scope (the tenant's, or the operator's own).
    #[error("this shortcut is already used")]
    ShortcutTaken,
    /// A tag that is empty after trimming, over 40 chars or holds a control character.
    #[error("a tag is 1 to 40 characters, without control characters")]
    TagInvalid,
    /// The conversation already has [`Tag::MAX_PER_CONVERSATION`] tags.
    #[error("a conversation has at most 20 tags")]
    TooManyTags,
}

/// The shortcut of a canned response, typed as `/shortcut` in the console: 1 to
/// [`Shortcut::MAX_CHARS`] ASCII letters, digits, `-` or `_`. One leading `/` is accepted
/// and dropped. Stored lower-case, so shortcuts are unique and matched case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shortcut(String);

impl Shortcut {
    /// Longest shortcut, in chars.
    pub const MAX_CHARS: usize = 32;

    /// Parses a shortcut, lower-casing it.
    pub fn parse(shortcut: &str) -> Result<Self, ToolError> {
        let shortcut = shortcut.trim();
        let shortcut = shortcut.strip_prefix('/').unwrap_or(shortcut);
        if shortcut.is_empty()
            || shortcut.len() > Self::MAX_CHARS
            || !shortcut
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ToolError::ShortcutInvalid);
        }
        Ok(Self(shortcut.to_ascii_lowercase()))
    }

    /// The shortcut, lower-case, without the `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a canned response: like a message ([`MessageText`]: not only whitespace,
/// no control characters but tab, line feed and carriage return), at most
/// [`CannedText::MAX_CHARS`] chars. It may hold the placeholders `{visitor_name}` and
/// `{operator_name}`, which the console fills in when it expands the response; the server
/// stores them as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedText(String);

impl CannedText {
    /// Longest text, in chars.
    pub const MAX_CHARS: usize = 4_000;

    /// Parses a canned response's text, kept exactly as given.
    pub fn parse(text: String) -> Result<Self, TextError> {
        bounded_text(text, Self::MAX_CHARS).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of an internal note: like a message, at most [`NoteText::MAX_CHARS`] chars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteText(String);

impl NoteText {
    /// Longest note, in chars.
    pub const MAX_CHARS: usize = 4_000;

    /// Parses a note, kept exactly as given.
    pub fn parse(text: String) -> Result<Self, TextError> {
        bounded_text(text, Self::MAX_CHARS).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tag on a conversation: trimmed, lower-cased (Unicode), 1 to [`Tag::MAX_CHARS`] chars,
/// no control characters. Inner spaces are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    /// Longest tag, in chars (after trimming and lower-casing).
    pub const MAX_CHARS: usize = 40;
    /// Most tags one conversation may carry.
    pub const MAX_PER_CONVERSATION: u32 = 20;

    /// Parses and normalises a tag.
    pub fn parse(tag: &str) -> Result<Self, ToolError> {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty()
            || tag.chars().count() > Self::MAX_CHARS
            || tag
                .chars()
                .any(|c| c.is_control() || ('\u{80}'..='\u{9f}').contains(&c))
        {
            return Err(ToolError::TagInvalid);
        }
        Ok(Self(tag))
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A saved reply. Tenant-wide when `owner` is `None` (managed by admins and supervisors,
/// usable by every operator), otherwise personal (seen and managed by its owner only). A
/// personal response shadows a tenant-wide one with the same shortcut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedResponse {
    /// Id.
    pub id: CannedResponseId,
    /// Owner of the data.
    pub tenant_id: TenantId,
    /// The operator a personal response belongs to; `None` for a tenant-wide one.
    pub owner: Option<OperatorId>,
    /// Unique within its scope.
    pub shortcut: Shortcut,
    /// The text with its placeholders.
    pub text: CannedText,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last changed (equal to `created_at` until then).
    pub updated_at: Timestamp,
}

/// An internal note on a conversation: staff only, never shown to the visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Id (UUIDv7).
    pub id: NoteId,
    /// Owner of the data.
    pub tenant_id: TenantId,
    /// The conversation it is about.
    pub conversation_id: ConversationId,
    /// Who wrote it.
    pub author_id: OperatorId,
    /// The author's display name when they wrote it.
    pub author_name: String,
    /// The note.
    pub text: NoteText,
    /// When it was written.
    pub created_at: Timestamp,
}

fn bounded_text(text: String, limit: usize) -> Result<String, TextError> {
    let length = text.chars().count();
    if length > limit {
        return Err(TextError::TooLong { length, limit });
    }
    MessageText::parse(text).map(MessageText::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_lower_cased_and_checked() {
        assert_eq!(Shortcut::parse("Refund").expect("ok").as_str(), "refund");
        assert_eq!(
            Shortcut::parse("/re-fund_2").expect("ok").as_str(),
            "re-fund_2"
        );
        assert_eq!(
            Shortcut::parse(&"a".repeat(32)).expect("ok").as_str().len(),
            32
        );
        for bad in ["", "/", "a b", "ré", &"a".repeat(33), "a/b", "//a"] {
            assert_eq!(
                Shortcut::parse(bad),
                Err(ToolError::ShortcutInvalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn tags_are_trimmed_and_lower_cased() {
        assert_eq!(
            Tag::parse("  VIP Kunde ").expect("ok").as_str(),
            "vip kunde"
        );
        assert_eq!(Tag::parse("ÄRGER").expect("ok").as_str(), "ärger");
        assert!(Tag::parse(&"x".repeat(40)).is_ok());
        for bad in ["", "   ", &"x".repeat(41), "a\u{7}b", "a\nb"] {
            assert_eq!(Tag::parse(bad), Err(ToolError::TagInvalid), "{bad:?}");
        }
    }

    #[test]
    fn canned_and_note_texts_are_bounded() {
        assert!(CannedText::parse("Hi {visitor_name}!\nBye".into()).is_ok());
        assert!(CannedText::parse("x".repeat(4_000)).is_ok());
        assert_eq!(
            CannedText::parse("x".repeat(4_001)),
            Err(TextError::TooLong {
                length: 4_001,
                limit: 4_000
            })
        );
        assert_eq!(NoteText::parse("  ".into()), Err(TextError::Empty));
        assert_eq!(
            NoteText::parse("a\u{0}".into()),
            Err(TextError::ControlCharacter(0))
        );
    }
}
