//! Validated text newtypes: a visitor's name, a message's text, an email address and a
//! site key. Each constructor parses once and returns a type that is always valid
//! ("parse, don't validate"); the text itself is kept exactly as given (no trimming of
//! inner content, no normalisation), because a transcript must be byte-for-byte what was
//! typed.

use thiserror::Error;

/// Why a piece of text was refused. Each variant maps to one stable wire error code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TextError {
    /// Empty or only whitespace where content is required.
    #[error("text is empty")]
    Empty,
    /// Longer than the limit, counted in Unicode scalar values (`char`s).
    #[error("text is {length} characters long; the limit is {limit}")]
    TooLong {
        /// Length of the refused text, in chars.
        length: usize,
        /// The limit, in chars.
        limit: usize,
    },
    /// Contains NUL or another control character that is not allowed here.
    #[error("text contains a control character (U+{0:04X}) that is not allowed")]
    ControlCharacter(u32),
    /// Not a plausible email address.
    #[error("not a valid email address")]
    InvalidEmail,
}

/// Text of one chat message: 1 to [`MessageText::MAX_CHARS`] chars, not only whitespace,
/// no NUL and no C0 control characters other than tab, line feed and carriage return.
/// Any other Unicode (emoji, right-to-left text, combining marks, bidi controls) is kept
/// exactly as given (case BR-13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    /// Maximum length in chars. Large enough for a pasted log excerpt or a long complaint
    /// (BR-13 sends 5,000 chars with no spaces), small enough to bound a frame.
    pub const MAX_CHARS: usize = 10_000;

    /// Parses `text`, refusing empty, over-long or control-character input.
    pub fn parse(text: String) -> Result<Self, TextError> {
        check_length(&text, Self::MAX_CHARS)?;
        if text.trim().is_empty() {
            return Err(TextError::Empty);
        }
        check_controls(&text, &['\t', '\n', '\r'])?;
        Ok(Self(text))
    }

    /// The text as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the newtype, giving back the text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A visitor's name as they chose to give it: any format, any script, any detail, or
/// nothing at all (PRODUCT.md M1, M15). Up to [`VisitorName::MAX_CHARS`] chars, no control
/// characters. Leading and trailing whitespace is not significant and is removed; a name
/// that is only whitespace counts as no name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorName(String);

impl VisitorName {
    /// Maximum length in chars.
    pub const MAX_CHARS: usize = 200;

    /// Parses an optional name. `Ok(None)` when the visitor gave none (absent, empty or
    /// whitespace only).
    pub fn parse_optional(name: Option<String>) -> Result<Option<Self>, TextError> {
        let Some(name) = name else { return Ok(None) };
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        check_length(trimmed, Self::MAX_CHARS)?;
        check_controls(trimmed, &[])?;
        Ok(Some(Self(trimmed.to_owned())))
    }

    /// The name as given (outer whitespace removed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, checked only for shape (`local@domain`, no spaces, at most 254
/// bytes per RFC 5321's path limit). Whether it exists is not our business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses and lower-cases the address (logins are case-insensitive in practice,
    /// though RFC 5321 lets a server treat the local part as case-sensitive).
    pub fn parse(email: &str) -> Result<Self, TextError> {
        let email = email.trim();
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(TextError::InvalidEmail);
        }
        let (local, domain) = email.rsplit_once('@').ok_or(TextError::InvalidEmail)?;
        if local.is_empty()
            || domain.is_empty()
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(TextError::InvalidEmail);
        }
        Ok(Self(format!("{local}@{domain}").to_lowercase()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A site's public key, used by the widget snippet: 8 to 64 chars of `[A-Za-z0-9_-]`.
/// It is public (it appears in the tenant's page source) and identifies a site, it does
/// not authorise anything by itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SiteKey(String);

impl SiteKey {
    /// Parses a site key from a URL path or configuration.
    pub fn parse(key: &str) -> Result<Self, TextError> {
        if key.len() < 8 {
            return Err(TextError::Empty);
        }
        check_length(key, 64)?;
        if !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(TextError::ControlCharacter(
                key.chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
                    .map_or(0, u32::from),
            ));
        }
        Ok(Self(key.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_length(text: &str, limit: usize) -> Result<(), TextError> {
    // Cheap upper bound first: a string of at most `limit` bytes has at most `limit` chars.
    if text.len() <= limit {
        return Ok(());
    }
    let length = text.chars().count();
    if length > limit {
        return Err(TextError::TooLong { length, limit });
    }
    Ok(())
}

fn check_controls(text: &str, allowed: &[char]) -> Result<(), TextError> {
    match text.chars().find(|c| {
        (c.is_ascii_control() || ('\u{80}'..='\u{9f}').contains(c)) && !allowed.contains(c)
    }) {
        Some(c) => Err(TextError::ControlCharacter(u32::from(c))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn br_13_message_text_is_kept_byte_for_byte() {
        for input in [
            "A".repeat(5000),
            "👍🏽👨‍👩‍👧 ok".to_owned(),
            "مرحبا، كيف حالك؟ 123".to_owned(),
            "order #A-17 \u{200F}تم الشحن".to_owned(),
            "\u{202E}gpj.exe".to_owned(),
            "e\u{0301}".to_owned(),
            "line one\nline two\ttabbed\r\n".to_owned(),
        ] {
            let text = MessageText::parse(input.clone()).expect("accepted");
            assert_eq!(text.as_str().as_bytes(), input.as_bytes());
        }
    }

    #[test]
    fn br_13_over_length_nul_and_empty_are_refused() {
        let max = MessageText::MAX_CHARS;
        assert!(MessageText::parse("x".repeat(max)).is_ok());
        assert_eq!(
            MessageText::parse("x".repeat(max + 1)),
            Err(TextError::TooLong {
                length: max + 1,
                limit: max
            })
        );
        // Length is counted in chars, not bytes: MAX emoji are fine.
        assert!(MessageText::parse("😀".repeat(max)).is_ok());
        assert_eq!(
            MessageText::parse("a\0b".into()),
            Err(TextError::ControlCharacter(0))
        );
        assert_eq!(
            MessageText::parse("a\u{7}b".into()),
            Err(TextError::ControlCharacter(7))
        );
        assert_eq!(MessageText::parse(" \n\t ".into()), Err(TextError::Empty));
        assert_eq!(MessageText::parse(String::new()), Err(TextError::Empty));
    }

    #[test]
    fn visitor_name_takes_any_format_or_nothing() {
        assert_eq!(VisitorName::parse_optional(None), Ok(None));
        assert_eq!(VisitorName::parse_optional(Some("   ".into())), Ok(None));
        for name in [
            "X Æ A-12",
            "דנה",
            "王小明",
            "अनीता",
            "🦀",
            "Dr. J. R. R. \"Bob\" O'Neil-Smith, Jr.",
        ] {
            let parsed = VisitorName::parse_optional(Some(format!(" {name} "))).expect("ok");
            assert_eq!(parsed.map(|n| n.as_str().to_owned()), Some(name.to_owned()));
        }
        assert!(VisitorName::parse_optional(Some("a\nb".into())).is_err());
        assert!(VisitorName::parse_optional(Some("n".repeat(201))).is_err());
    }

    #[test]
    fn email_shape() {
        assert_eq!(
            Email::parse("Ann@Example.TEST").map(|e| e.as_str().to_owned()),
            Ok("ann@example.test".into())
        );
        for bad in ["", "a", "a@", "@b.c", "a@b", "a b@c.d", "a@.c", "a@c."] {
            assert_eq!(Email::parse(bad), Err(TextError::InvalidEmail), "{bad}");
        }
    }

    #[test]
    fn site_key_charset() {
        assert!(SiteKey::parse("demo-site_01").is_ok());
        assert!(SiteKey::parse("short").is_err());
        assert!(SiteKey::parse("has/slash-in-it").is_err());
    }

    proptest! {
        #[test]
        fn accepted_text_round_trips(text in "\\PC{1,200}") {
            if let Ok(parsed) = MessageText::parse(text.clone()) {
                prop_assert_eq!(parsed.into_inner(), text);
            }
        }
    }
}
