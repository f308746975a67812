//! Per-site forms a visitor fills in: the pre-chat form (PRODUCT.md M15, issue 5 item 1;
//! case BR-14) and the site's weekly business hours (B4). The rules are here, without IO:
//! [`PrechatForm::validate`] turns raw answers into [`PrechatAnswers`] or a list of
//! [`FieldError`]s, one per refused field, so the server refuses the same way whether or
//! not the widget checked first.

use crate::text::{Email, VisitorName};

/// Whether a built-in field (name, email) is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldRule {
    /// Not shown; an answer sent anyway is ignored.
    #[default]
    Hidden,
    /// Shown; may be left blank.
    Optional,
    /// Shown; must be answered.
    Required,
}

impl FieldRule {
    /// `hidden`, `optional` or `required`.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldRule::Hidden => "hidden",
            FieldRule::Optional => "optional",
            FieldRule::Required => "required",
        }
    }

    /// The rule named by [`FieldRule::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "hidden" => Some(FieldRule::Hidden),
            "optional" => Some(FieldRule::Optional),
            "required" => Some(FieldRule::Required),
            _ => None,
        }
    }
}

/// What kind of answer a custom field takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text, 1 to [`MAX_TEXT_CHARS`] chars.
    Text,
    /// A whole number (JSON number or a string of digits, optional leading `-`).
    Number,
    /// A tick box (`true`/`false`). A *required* checkbox must be ticked: that is how a
    /// consent box is made.
    Checkbox,
    /// One of the listed options, exactly as listed.
    Select(Vec<String>),
}

impl FieldKind {
    /// `text`, `number`, `checkbox` or `select`.
    pub fn as_str(&self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Select(_) => "select",
        }
    }
}

/// One tenant-defined question of the pre-chat form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomField {
    /// Stable key the answer is stored under: 1 to 40 of `[a-z0-9_]`, unique in the form
    /// (`name` and `email` are taken by the built-in fields).
    pub key: String,
    /// Label shown to the visitor, 1 to 200 chars.
    pub label: String,
    /// Answer type.
    pub kind: FieldKind,
    /// Whether it must be answered.
    pub required: bool,
}

/// A site's pre-chat form. The default asks nothing, so a chat starts at once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrechatForm {
    /// The visitor's name (any format).
    pub name: FieldRule,
    /// The visitor's email.
    pub email: FieldRule,
    /// Tenant-defined questions, in display order.
    pub fields: Vec<CustomField>,
    /// Minimum age: when set, the form must have a `number` field with key [`AGE_KEY`],
    /// which is then required and must be a whole number from this value to
    /// [`MAX_AGE`] (M4 uses 18).
    pub min_age: Option<u8>,
    // The lead adds the department choice here (issue 5 item 1, routing).
}

/// Key of the custom field the minimum-age rule reads.
pub const AGE_KEY: &str = "age";
/// Highest age accepted (anything above is a typo or a probe).
pub const MAX_AGE: i64 = 150;
/// Longest free-text answer, in chars.
pub const MAX_TEXT_CHARS: usize = 1000;
/// Most custom fields in one form.
pub const MAX_FIELDS: usize = 20;
/// Most options of one select field.
pub const MAX_OPTIONS: usize = 50;

/// A raw answer as the client sent it (the server maps JSON to this).
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    /// Absent or `null`.
    Missing,
    /// `true` / `false`.
    Bool(bool),
    /// A JSON number, as its literal text (so `17.9` and `1e20` stay what they were).
    Number(String),
    /// A JSON string.
    Text(String),
    /// An array or object: never a valid answer.
    Other,
}

/// A stored answer to a custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerValue {
    /// Text or select answer.
    Text(String),
    /// Number answer.
    Number(i64),
    /// Checkbox answer.
    Bool(bool),
}

/// Valid answers to a site's pre-chat form, stored with the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrechatAnswers {
    /// The name given, if asked and answered.
    pub name: Option<String>,
    /// The email given, if asked and answered.
    pub email: Option<String>,
    /// Answers to custom fields, in the form's order (unanswered optional fields left out).
    pub values: Vec<(String, AnswerValue)>,
}

/// Why one field was refused: its key and a sentence for the visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's key (`name`, `email` or a custom key).
    pub field: String,
    /// What is wrong, e.g. "you must be 18 or older".
    pub message: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl PrechatForm {
    /// Whether the form asks anything at all (if not, a chat starts without it).
    pub fn is_empty(&self) -> bool {
        self.name == FieldRule::Hidden && self.email == FieldRule::Hidden && self.fields.is_empty()
    }

    /// Checks the form itself (an admin's edit): keys, labels, options, the age rule.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.fields.len() > MAX_FIELDS {
            errors.push(FieldError::new(
                "fields",
                format!("at most {MAX_FIELDS} fields"),
            ));
        }
        let mut seen: Vec<&str> = vec!["name", "email"];
        for field in &self.fields {
            let key_ok = !field.key.is_empty()
                && field.key.len() <= 40
                && field
                    .key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !key_ok {
                errors.push(FieldError::new(
                    &field.key,
                    "a key is 1 to 40 of a-z, 0-9 and _",
                ));
            } else if seen.contains(&field.key.as_str()) {
                errors.push(FieldError::new(&field.key, "this key is used twice"));
            }
            seen.push(&field.key);
            let label = field.label.trim();
            if label.is_empty()
                || label.chars().count() > 200
                || label.chars().any(char::is_control)
            {
                errors.push(FieldError::new(
                    &field.key,
                    "a label is 1 to 200 characters",
                ));
            }
            if let FieldKind::Select(options) = &field.kind {
                let bad = options.is_empty()
                    || options.len() > MAX_OPTIONS
                    || options.iter().any(|option| {
                        option.trim().is_empty()
                            || option.chars().count() > 200
                            || option.chars().any(char::is_control)
                    });
                if bad {
                    errors.push(FieldError::new(
                        &field.key,
                        format!("a select needs 1 to {MAX_OPTIONS} non-empty options"),
                    ));
                }
            }
        }
        if self.min_age.is_some() {
            let age = self.fields.iter().find(|field| field.key == AGE_KEY);
            if !age.is_some_and(|field| field.kind == FieldKind::Number) {
                errors.push(FieldError::new(
                    "min_age",
                    "a minimum age needs a number field with key \"age\"",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Validates a visitor's answers. `answers` yields the raw value for a key (`name`,
    /// `email`, or a custom key). Every field is checked, so the visitor sees all their
    /// mistakes at once. Answers to keys the form does not have are ignored.
    pub fn validate(
        &self,
        answers: impl Fn(&str) -> RawValue,
    ) -> Result<PrechatAnswers, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut result = PrechatAnswers::default();
        if self.name != FieldRule::Hidden {
            match text_answer(answers("name")) {
                Ok(Some(name)) => match VisitorName::parse_optional(Some(name)) {
                    Ok(Some(name)) => result.name = Some(name.as_str().to_owned()),
                    Ok(None) => {}
                    Err(error) => errors.push(FieldError::new("name", error.to_string())),
                },
                Ok(None) => {}
                Err(message) => errors.push(FieldError::new("name", message)),
            }
            if self.name == FieldRule::Required && result.name.is_none() && errors.is_empty() {
                errors.push(FieldError::new("name", "please give your name"));
            }
        }
        if self.email != FieldRule::Hidden {
            match text_answer(answers("email")) {
                Ok(Some(email)) => match Email::parse(&email) {
                    Ok(email) => result.email = Some(email.as_str().to_owned()),
                    Err(_) => errors.push(FieldError::new(
                        "email",
                        "an email address looks like name@example.com",
                    )),
                },
                Ok(None) if self.email == FieldRule::Required => {
                    errors.push(FieldError::new("email", "please give your email address"));
                }
                Ok(None) => {}
                Err(message) => errors.push(FieldError::new("email", message)),
            }
        }
        for field in &self.fields {
            let is_age = self.min_age.is_some() && field.key == AGE_KEY;
            let required = field.required || is_age;
            match field_answer(field, answers(&field.key)) {
                Ok(Some(value)) => {
                    if let (true, Some(min), AnswerValue::Number(age)) =
                        (is_age, self.min_age, &value)
                    {
                        if *age < 0 || *age > MAX_AGE {
                            errors.push(FieldError::new(
                                &field.key,
                                format!("an age is a whole number from 0 to {MAX_AGE}"),
                            ));
                            continue;
                        }
                        if *age < i64::from(min) {
                            errors.push(FieldError::new(
                                &field.key,
                                format!("you must be {min} or older to chat with us"),
                            ));
                            continue;
                        }
                    }
                    if let (FieldKind::Checkbox, true, AnswerValue::Bool(false)) =
                        (&field.kind, required, &value)
                    {
                        errors.push(FieldError::new(&field.key, "this box must be ticked"));
                        continue;
                    }
                    result.values.push((field.key.clone(), value));
                }
                Ok(None) if required => {
                    let message = if field.kind == FieldKind::Checkbox {
                        "this box must be ticked"
                    } else {
                        "this field is required"
                    };
                    errors.push(FieldError::new(&field.key, message));
                }
                Ok(None) => {}
                Err(message) => errors.push(FieldError::new(&field.key, message)),
            }
        }
        if errors.is_empty() {
            Ok(result)
        } else {
            Err(errors)
        }
    }
}

/// A text answer: `None` for missing or blank, an error for a non-string.
fn text_answer(raw: RawValue) -> Result<Option<String>, String> {
    match raw {
        RawValue::Missing => Ok(None),
        RawValue::Text(text) if text.trim().is_empty() => Ok(None),
        RawValue::Text(text) => Ok(Some(text)),
        _ => Err("expected text".to_owned()),
    }
}

fn field_answer(field: &CustomField, raw: RawValue) -> Result<Option<AnswerValue>, String> {
    match &field.kind {
        FieldKind::Text => {
            let Some(text) = text_answer(raw)? else {
                return Ok(None);
            };
            let text = text.trim();
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(format!("at most {MAX_TEXT_CHARS} characters"));
            }
            if text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
            {
                return Err("contains a control character".to_owned());
            }
            Ok(Some(AnswerValue::Text(text.to_owned())))
        }
        FieldKind::Number => {
            let literal = match raw {
                RawValue::Missing => return Ok(None),
                RawValue::Text(text) if text.trim().is_empty() => return Ok(None),
                RawValue::Text(text) => text.trim().to_owned(),
                RawValue::Number(literal) => literal,
                _ => return Err("expected a whole number".to_owned()),
            };
            parse_whole_number(&literal)
                .map(|number| Some(AnswerValue::Number(number)))
                .ok_or_else(|| "expected a whole number".to_owned())
        }
        FieldKind::Checkbox => match raw {
            RawValue::Missing => Ok(None),
            RawValue::Bool(ticked) => Ok(Some(AnswerValue::Bool(ticked))),
            _ => Err("expected true or false".to_owned()),
        },
        FieldKind::Select(options) => {
            let Some(choice) = text_answer(raw)? else {
                return Ok(None);
            };
            if options.contains(&choice) {
                Ok(Some(AnswerValue::Text(choice)))
            } else {
                Err("not one of the options".to_owned())
            }
        }
    }
}

/// `-?[0-9]{1,15}`: a whole number small enough to be exact everywhere (no `17.9`, no
/// `18abc`, no `1e20`, no `99999999999999999999`).
fn parse_whole_number(literal: &str) -> Option<i64> {
    let digits = literal.strip_prefix('-').unwrap_or(literal);
    if digits.is_empty() || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    literal.parse().ok()
}

/// Opening hours of one day: minutes since local midnight, `[open, close)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenSpan {
    /// Opening minute, 0..1440.
    pub open: u16,
    /// Closing minute, after `open`, at most 1440.
    pub close: u16,
}

/// A site's weekly business hours in an IANA time zone (B4). Outside them the widget
/// offers the message form instead of a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    /// IANA zone name, e.g. `Europe/Paris` (checked by the app, which has the zone data).
    pub time_zone: String,
    /// Spans per weekday, Monday first (index 0) to Sunday (6). A day with none is closed.
    pub days: [Vec<OpenSpan>; 7],
}

impl BusinessHours {
    /// Checks the spans: each inside the day, open before close, at most 4 per day.
    pub fn check(&self) -> Result<(), FieldError> {
        for spans in &self.days {
            if spans.len() > 4
                || spans
                    .iter()
                    .any(|span| span.open >= span.close || span.close > 1440)
            {
                return Err(FieldError::new(
                    "business_hours",
                    "each day has at most 4 spans, each opening before it closes, within the day",
                ));
            }
        }
        Ok(())
    }

    /// Whether the site is open at local `weekday` (0 = Monday) and `minute` since local
    /// midnight.
    pub fn is_open(&self, weekday: usize, minute: u16) -> bool {
        self.days.get(weekday).is_some_and(|spans| {
            spans
                .iter()
                .any(|span| span.open <= minute && minute < span.close)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn br14_form() -> PrechatForm {
        PrechatForm {
            name: FieldRule::Optional,
            email: FieldRule::Optional,
            fields: vec![
                CustomField {
                    key: "age".into(),
                    label: "Age".into(),
                    kind: FieldKind::Number,
                    required: true,
                },
                CustomField {
                    key: "consent".into(),
                    label: "I agree".into(),
                    kind: FieldKind::Checkbox,
                    required: true,
                },
            ],
            min_age: Some(18),
        }
    }

    fn answer(age: RawValue, consent: RawValue) -> Result<PrechatAnswers, Vec<FieldError>> {
        br14_form().validate(|key| match key {
            "age" => age.clone(),
            "consent" => consent.clone(),
            _ => RawValue::Missing,
        })
    }

    #[test]
    fn the_age_gate_refuses_every_bad_age() {
        let yes = || RawValue::Bool(true);
        for age in [
            RawValue::Missing,
            RawValue::Text("17".into()),
            RawValue::Number("17".into()),
            RawValue::Number("-1".into()),
            RawValue::Number("17.9".into()),
            RawValue::Text("18abc".into()),
            RawValue::Number("99999999999999999999".into()),
            RawValue::Number("1e20".into()),
            RawValue::Number("250".into()),
            RawValue::Bool(true),
            RawValue::Other,
        ] {
            let refused = answer(age.clone(), yes()).expect_err("refused");
            assert_eq!(refused[0].field, "age", "{age:?}");
        }
        let refused =
            answer(RawValue::Number("18".into()), RawValue::Bool(false)).expect_err("no consent");
        assert_eq!(refused[0].field, "consent");
        let refused =
            answer(RawValue::Number("18".into()), RawValue::Missing).expect_err("no consent");
        assert_eq!(refused[0].field, "consent");
        let ok = answer(RawValue::Text("18".into()), yes()).expect("accepted");
        assert_eq!(
            ok.values,
            vec![
                ("age".to_owned(), AnswerValue::Number(18)),
                ("consent".to_owned(), AnswerValue::Bool(true))
            ]
        );
    }

    #[test]
    fn forms_are_checked() {
        assert!(br14_form().check().is_ok());
        let mut form = br14_form();
        form.fields.remove(0);
        assert!(form.check().is_err(), "min age without an age field");
        let mut form = br14_form();
        form.fields[1].key = "email".into();
        assert!(form.check().is_err(), "duplicate key");
    }

    #[test]
    fn business_hours_are_half_open_spans() {
        let mut days: [Vec<OpenSpan>; 7] = Default::default();
        days[0] = vec![OpenSpan {
            open: 540,
            close: 1020,
        }];
        let hours = BusinessHours {
            time_zone: "UTC".into(),
            days,
        };
        assert!(hours.check().is_ok());
        assert!(hours.is_open(0, 540));
        assert!(!hours.is_open(0, 1020));
        assert!(!hours.is_open(1, 600));
    }
}
