//! Exit surveys (PRODUCT.md M3, M4, M9): question types, a survey version, and the one
//! function that checks a visitor's submission against the questions
//! ([`check_submission`]).
//!
//! The rules, in the order they apply:
//! 1. **Under 18 (M4).** If any age answer is a whole number below 18, or any birth date
//!    is less than 18 years before `today` (UTC), the whole submission is refused with
//!    [`SubmissionError::UnderAge`], before anything else is looked at. The caller must
//!    then store nothing of it.
//! 2. Every answer is checked against its question's type; every problem becomes one
//!    entry of [`SubmissionError::Invalid`] (question id → message). Messages never
//!    repeat what the visitor typed, so they can be logged or shown anywhere.
//! 3. A required question without an answer is an error; an optional one may be left
//!    out (absent, `null`, empty text or an empty list).
//!
//! Stored answers are canonical text ([`Answer::value`]): free text as typed, an email
//! lower-cased, choices as their option label (several joined by a line feed), numbers in
//! Rust's shortest decimal form, a birth date as `YYYY-MM-DD`.

use std::collections::BTreeMap;

use time::{Date, Month};

use crate::ids::{ConversationId, QuestionId, SiteId, SurveyId, SurveyResponseId, TenantId};
use crate::{Email, Timestamp};

/// The type of a survey question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuestionKind {
    /// Free text, up to [`MAX_FREE_TEXT_CHARS`].
    FreeText,
    /// An email address (`local@domain.tld`).
    Email,
    /// Exactly one of the question's options.
    SingleChoice,
    /// Any number of distinct options of the question.
    MultipleChoice,
    /// A whole number from 1 to 5.
    Rating,
    /// Any finite number (at most 1e12 in size).
    Number,
    /// A zip or postal code: 3 to 10 letters, digits, spaces or hyphens, with a digit.
    PostalCode,
    /// An age in whole years, 0 to 130. Under 18 refuses the submission (M4).
    Age,
    /// A birth date `YYYY-MM-DD`, not in the future, not before 1900. Less than 18 years
    /// before today refuses the submission (M4).
    BirthDate,
    /// One of the tenant's income bands (the question's options).
    IncomeBand,
}

impl QuestionKind {
    /// Every kind, in the order the designer offers them.
    pub const ALL: [QuestionKind; 10] = [
        QuestionKind::FreeText,
        QuestionKind::Email,
        QuestionKind::SingleChoice,
        QuestionKind::MultipleChoice,
        QuestionKind::Rating,
        QuestionKind::Number,
        QuestionKind::PostalCode,
        QuestionKind::Age,
        QuestionKind::BirthDate,
        QuestionKind::IncomeBand,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::FreeText => "free_text",
            QuestionKind::Email => "email",
            QuestionKind::SingleChoice => "single_choice",
            QuestionKind::MultipleChoice => "multiple_choice",
            QuestionKind::Rating => "rating",
            QuestionKind::Number => "number",
            QuestionKind::PostalCode => "postal_code",
            QuestionKind::Age => "age",
            QuestionKind::BirthDate => "birth_date",
            QuestionKind::IncomeBand => "income_band",
        }
    }

    /// Parses a name given by [`as_str`](Self::as_str).
    pub fn parse(name: &str) -> Option<QuestionKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Whether the question carries a list of options (choices or income bands).
    pub fn has_options(self) -> bool {
        matches!(
            self,
            QuestionKind::SingleChoice | QuestionKind::MultipleChoice | QuestionKind::IncomeBand
        )
    }
}

/// Longest free-text answer, in chars.
pub const MAX_FREE_TEXT_CHARS: usize = 2_000;
/// Most questions in one survey version (and most platform questions).
pub const MAX_QUESTIONS: usize = 30;
/// Most options of one question.
pub const MAX_OPTIONS: usize = 30;
/// Longest question label, in chars.
pub const MAX_LABEL_CHARS: usize = 300;
/// Longest option label, in chars.
pub const MAX_OPTION_CHARS: usize = 100;
/// The age from which a visitor's information may be accepted (M4).
pub const ADULT_AGE: u8 = 18;

/// One question, always valid (built by [`Question::parse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Id, unique per question per version.
    pub id: QuestionId,
    /// Type.
    pub kind: QuestionKind,
    /// What the visitor reads.
    pub label: String,
    /// Whether an answer is needed for the submission to be accepted.
    pub required: bool,
    /// Options of a choice or income-band question, in order; empty otherwise.
    pub options: Vec<String>,
}

impl Question {
    /// Checks a question as designed: a label of 1 to [`MAX_LABEL_CHARS`] chars without
    /// control characters; for choice and income-band questions 1 to [`MAX_OPTIONS`]
    /// distinct options of 1 to [`MAX_OPTION_CHARS`] chars (outer spaces removed); no
    /// options for the other kinds. The error says what is wrong.
    pub fn parse(
        id: QuestionId,
        kind: QuestionKind,
        label: &str,
        required: bool,
        options: Vec<String>,
    ) -> Result<Question, String> {
        let label = label.trim();
        if label.is_empty() {
            return Err("the question needs a label".into());
        }
        if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(format!(
                "the label must be at most {MAX_LABEL_CHARS} characters, without control characters"
            ));
        }
        let mut clean: Vec<String> = Vec::with_capacity(options.len());
        if kind.has_options() {
            if options.is_empty() || options.len() > MAX_OPTIONS {
                return Err(format!("give 1 to {MAX_OPTIONS} options"));
            }
            for option in options {
                let option = option.trim().to_owned();
                if option.is_empty()
                    || option.chars().count() > MAX_OPTION_CHARS
                    || option.chars().any(char::is_control)
                {
                    return Err(format!(
                        "each option must be 1 to {MAX_OPTION_CHARS} characters, without control characters"
                    ));
                }
                if clean.contains(&option) {
                    return Err("options must be different from each other".into());
                }
                clean.push(option);
            }
        } else if !options.is_empty() {
            return Err(format!("a {} question has no options", kind.as_str()));
        }
        Ok(Question {
            id,
            kind,
            label: label.to_owned(),
            required,
            options: clean,
        })
    }
}

/// One version of a survey: a tenant's (`site_id` = `None`) or one site's, which then
/// replaces the tenant's on that site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    /// Id of this version.
    pub id: SurveyId,
    /// Owner.
    pub tenant_id: TenantId,
    /// The site it is for, or `None` for the tenant's default survey.
    pub site_id: Option<SiteId>,
    /// 1, 2, 3, ... per (tenant, site).
    pub version: i64,
    /// In display order. Empty means "no survey" (for a site: use the tenant's).
    pub questions: Vec<Question>,
    /// When this version was saved.
    pub created_at: Timestamp,
}

/// One stored answer: which question, and the canonical answer text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The question answered.
    pub question_id: QuestionId,
    /// Canonical text (see the module doc).
    pub value: String,
}

/// A visitor's accepted survey for one conversation. The platform's questions' answers
/// are not in it: they are stored apart (M9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyResponse {
    /// Id.
    pub id: SurveyResponseId,
    /// Owner.
    pub tenant_id: TenantId,
    /// The conversation it is about (at most one response each).
    pub conversation_id: ConversationId,
    /// The conversation's site.
    pub site_id: SiteId,
    /// The survey version answered.
    pub survey_id: SurveyId,
    /// When it was accepted.
    pub submitted_at: Timestamp,
    /// The answers to the tenant's questions, in question order.
    pub answers: Vec<Answer>,
}

/// An answer as the visitor sent it, before checking.
#[derive(Debug, Clone, PartialEq)]
pub enum RawAnswer {
    /// A JSON string.
    Text(String),
    /// A JSON number.
    Number(f64),
    /// A JSON array of strings (multiple choice).
    List(Vec<String>),
}

/// Why a submission was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmissionError {
    /// An age or birth date under 18: refuse the whole submission, keep nothing of it.
    UnderAge,
    /// Answers that do not fit their questions: question id (as sent) → message.
    Invalid(BTreeMap<String, String>),
}

/// The checked answers of a submission: the tenant's and the platform's, each in
/// question order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSubmission {
    /// Answers to the tenant's questions.
    pub tenant: Vec<Answer>,
    /// Answers to the platform's questions.
    pub platform: Vec<Answer>,
}

/// Checks `answers` (question id → raw answer) against the tenant's `questions` and the
/// `platform` questions, with the rules of the module doc. `today` is the current UTC
/// date.
pub fn check_submission(
    questions: &[Question],
    platform: &[Question],
    answers: &BTreeMap<String, RawAnswer>,
    today: Date,
) -> Result<CheckedSubmission, SubmissionError> {
    let all: Vec<(&Question, bool)> = questions
        .iter()
        .map(|question| (question, false))
        .chain(platform.iter().map(|question| (question, true)))
        .collect();
    let find = |key: &str| {
        all.iter()
            .find(|(question, _)| question.id.to_string() == key)
            .copied()
    };
    // Rule 1 first: an under-18 answer refuses everything, whatever else is wrong.
    for (key, raw) in answers {
        let Some((question, _)) = find(key) else {
            continue;
        };
        let under_age = match question.kind {
            QuestionKind::Age => parse_age(raw).is_ok_and(|age| age < u32::from(ADULT_AGE)),
            QuestionKind::BirthDate => {
                parse_birth_date(raw, today).is_ok_and(|born| !is_adult(born, today))
            }
            _ => false,
        };
        if under_age {
            return Err(SubmissionError::UnderAge);
        }
    }
    let mut errors = BTreeMap::new();
    for key in answers.keys() {
        if find(key).is_none() {
            errors.insert(key.clone(), "unknown question".to_owned());
        }
    }
    let mut checked = CheckedSubmission {
        tenant: Vec::new(),
        platform: Vec::new(),
    };
    for (question, is_platform) in all {
        let key = question.id.to_string();
        let raw = answers.get(&key).filter(|raw| !is_blank(raw));
        let Some(raw) = raw else {
            if question.required {
                errors.insert(key, "this question needs an answer".to_owned());
            }
            continue;
        };
        match canonical(question, raw, today) {
            Ok(value) => {
                let answer = Answer {
                    question_id: question.id,
                    value,
                };
                if is_platform {
                    checked.platform.push(answer);
                } else {
                    checked.tenant.push(answer);
                }
            }
            Err(message) => {
                errors.insert(key, message.to_owned());
            }
        }
    }
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(SubmissionError::Invalid(errors))
    }
}

/// Whether someone born on `born` is 18 or older on `today`. Someone born on 29 February
/// comes of age on 1 March in a year that has no 29 February.
pub fn is_adult(born: Date, today: Date) -> bool {
    let year = born.year() + i32::from(ADULT_AGE);
    let birthday = Date::from_calendar_date(year, born.month(), born.day())
        .or_else(|_| Date::from_calendar_date(year, Month::March, 1));
    birthday.is_ok_and(|birthday| birthday <= today)
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year: i32 = text.get(0..4)?.parse().ok()?;
    let month: u8 = text.get(5..7)?.parse().ok()?;
    let day: u8 = text.get(8..10)?.parse().ok()?;
    let month = Month::try_from(month).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

fn is_blank(raw: &RawAnswer) -> bool {
    match raw {
        RawAnswer::Text(text) => text.trim().is_empty(),
        RawAnswer::Number(_) => false,
        RawAnswer::List(items) => items.is_empty(),
    }
}

fn canonical(question: &Question, raw: &RawAnswer, today: Date) -> Result<String, &'static str> {
    match question.kind {
        QuestionKind::FreeText => {
            let RawAnswer::Text(text) = raw else {
                return Err("must be text");
            };
            if text.chars().count() > MAX_FREE_TEXT_CHARS {
                return Err("must be at most 2000 characters");
            }
            if text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            {
                return Err("must not contain control characters");
            }
            Ok(text.clone())
        }
        QuestionKind::Email => {
            let RawAnswer::Text(text) = raw else {
                return Err("must be an email address");
            };
            Email::parse(text)
                .map(|email| email.as_str().to_owned())
                .map_err(|_| "must be an email address like name@example.com")
        }
        QuestionKind::SingleChoice | QuestionKind::IncomeBand => {
            let RawAnswer::Text(text) = raw else {
                return Err("must be one of the options");
            };
            question
                .options
                .iter()
                .find(|option| *option == text.trim())
                .cloned()
                .ok_or("must be one of the options")
        }
        QuestionKind::MultipleChoice => {
            let items = match raw {
                RawAnswer::List(items) => items.clone(),
                RawAnswer::Text(text) => vec![text.clone()],
                RawAnswer::Number(_) => return Err("must be a list of the options"),
            };
            let mut chosen: Vec<&String> = Vec::new();
            for item in &items {
                let Some(option) = question.options.iter().find(|o| *o == item.trim()) else {
                    return Err("every choice must be one of the options");
                };
                if !chosen.contains(&option) {
                    chosen.push(option);
                }
            }
            // Stored in the question's order, whatever order they came in.
            let ordered: Vec<&str> = question
                .options
                .iter()
                .filter(|option| chosen.contains(option))
                .map(String::as_str)
                .collect();
            Ok(ordered.join("\n"))
        }
        QuestionKind::Rating => match whole_number(raw) {
            Some(rating @ 1..=5) => Ok(rating.to_string()),
            _ => Err("must be a whole number from 1 to 5"),
        },
        QuestionKind::Number => {
            let number = match raw {
                RawAnswer::Number(number) => Some(*number),
                RawAnswer::Text(text) => text.trim().parse::<f64>().ok(),
                RawAnswer::List(_) => None,
            };
            match number {
                Some(number) if number.is_finite() && number.abs() <= 1e12 => {
                    Ok(format!("{number}"))
                }
                _ => Err("must be a number"),
            }
        }
        QuestionKind::PostalCode => {
            let RawAnswer::Text(text) = raw else {
                return Err("must be a postal code");
            };
            let code = text.trim();
            let length = code.chars().count();
            let shape = (3..=10).contains(&length)
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
                && code.chars().any(|c| c.is_ascii_digit());
            if shape {
                Ok(code.to_ascii_uppercase())
            } else {
                Err("must be a postal code (3 to 10 letters, digits, spaces or hyphens)")
            }
        }
        QuestionKind::Age => parse_age(raw).map(|age| age.to_string()),
        QuestionKind::BirthDate => {
            let born = parse_birth_date(raw, today)?;
            Ok(format!(
                "{:04}-{:02}-{:02}",
                born.year(),
                u8::from(born.month()),
                born.day()
            ))
        }
    }
}

fn whole_number(raw: &RawAnswer) -> Option<i64> {
    match raw {
        RawAnswer::Number(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
            // In range and whole: the conversion is exact.
            #[allow(clippy::cast_possible_truncation)]
            Some(*number as i64)
        }
        RawAnswer::Text(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    }
}

fn parse_age(raw: &RawAnswer) -> Result<u32, &'static str> {
    match whole_number(raw) {
        Some(age @ 0..=130) => u32::try_from(age).map_err(|_| "must be an age from 0 to 130"),
        _ => Err("must be an age in whole years from 0 to 130"),
    }
}

fn parse_birth_date(raw: &RawAnswer, today: Date) -> Result<Date, &'static str> {
    let RawAnswer::Text(text) = raw else {
        return Err("must be a date like 1990-04-30");
    };
    let born = parse_date(text.trim()).ok_or("must be a date like 1990-04-30")?;
    if born > today || born.year() < 1900 {
        return Err("must be a real birth date (not in the future, not before 1900)");
    }
    Ok(born)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(kind: QuestionKind, required: bool, options: &[&str]) -> Question {
        Question::parse(
            QuestionId::new(),
            kind,
            "Label",
            required,
            options.iter().map(|o| (*o).to_owned()).collect(),
        )
        .expect("valid question")
    }

    fn today() -> Date {
        Date::from_calendar_date(2026, Month::June, 15).expect("date")
    }

    fn submit(
        questions: &[Question],
        answers: &[(&Question, RawAnswer)],
    ) -> Result<CheckedSubmission, SubmissionError> {
        let map = answers
            .iter()
            .map(|(question, raw)| (question.id.to_string(), raw.clone()))
            .collect();
        check_submission(questions, &[], &map, today())
    }

    #[test]
    fn under_18_refuses_everything_even_with_other_errors() {
        let age = question(QuestionKind::Age, false, &[]);
        let email = question(QuestionKind::Email, true, &[]);
        let questions = [age.clone(), email.clone()];
        let result = submit(
            &questions,
            &[
                (&age, RawAnswer::Number(17.0)),
                (&email, RawAnswer::Text("nope".into())),
            ],
        );
        assert_eq!(result, Err(SubmissionError::UnderAge));
        assert!(submit(&questions[..1], &[(&age, RawAnswer::Text("18".into()))]).is_ok());
    }

    #[test]
    fn birth_dates_come_of_age_on_the_birthday() {
        let today = today();
        let born = |y, m, d| Date::from_calendar_date(y, m, d).expect("date");
        assert!(is_adult(born(2008, Month::June, 15), today));
        assert!(!is_adult(born(2008, Month::June, 16), today));
        // 29 February 2008 turns 18 on 1 March 2026.
        let leap = born(2008, Month::February, 29);
        assert!(!is_adult(leap, born(2026, Month::February, 28)));
        assert!(is_adult(leap, born(2026, Month::March, 1)));
        let date = question(QuestionKind::BirthDate, true, &[]);
        assert_eq!(
            submit(
                std::slice::from_ref(&date),
                &[(&date, RawAnswer::Text("2008-06-16".into()))]
            ),
            Err(SubmissionError::UnderAge)
        );
    }

    #[test]
    fn bad_answers_get_one_error_each() {
        let text = question(QuestionKind::FreeText, false, &[]);
        let email = question(QuestionKind::Email, false, &[]);
        let choice = question(QuestionKind::SingleChoice, false, &["a", "b"]);
        let rating = question(QuestionKind::Rating, false, &[]);
        let age = question(QuestionKind::Age, false, &[]);
        let number = question(QuestionKind::Number, false, &[]);
        let zip = question(QuestionKind::PostalCode, false, &[]);
        let required = question(QuestionKind::FreeText, true, &[]);
        let questions = [
            text.clone(),
            email.clone(),
            choice.clone(),
            rating.clone(),
            age.clone(),
            number.clone(),
            zip.clone(),
            required.clone(),
        ];
        let mut map: BTreeMap<String, RawAnswer> = BTreeMap::new();
        map.insert(text.id.to_string(), RawAnswer::Text("x".repeat(100_000)));
        map.insert(email.id.to_string(), RawAnswer::Text("no-at-sign".into()));
        map.insert(choice.id.to_string(), RawAnswer::Text("c".into()));
        map.insert(rating.id.to_string(), RawAnswer::Number(6.0));
        map.insert(age.id.to_string(), RawAnswer::Number(250.0));
        map.insert(number.id.to_string(), RawAnswer::Text("twelve".into()));
        map.insert(zip.id.to_string(), RawAnswer::Text("!!".into()));
        map.insert("unknown".into(), RawAnswer::Text("?".into()));
        let Err(SubmissionError::Invalid(errors)) =
            check_submission(&questions, &[], &map, today())
        else {
            panic!("expected field errors");
        };
        assert_eq!(errors.len(), 9, "{errors:?}");
        assert!(errors.contains_key("unknown"));
        assert!(errors.contains_key(&required.id.to_string()));
        assert!(errors.values().all(|message| !message.contains("xxxx")));
        map.insert(age.id.to_string(), RawAnswer::Number(-1.0));
        let Err(SubmissionError::Invalid(errors)) =
            check_submission(&questions, &[], &map, today())
        else {
            panic!("expected field errors");
        };
        assert!(errors.contains_key(&age.id.to_string()));
    }

    #[test]
    fn good_answers_are_canonical() {
        let email = question(QuestionKind::Email, true, &[]);
        let many = question(QuestionKind::MultipleChoice, true, &["a", "b", "c"]);
        let zip = question(QuestionKind::PostalCode, true, &[]);
        let number = question(QuestionKind::Number, true, &[]);
        let checked = submit(
            &[email.clone(), many.clone(), zip.clone(), number.clone()],
            &[
                (&email, RawAnswer::Text("Ann@Example.com".into())),
                (
                    &many,
                    RawAnswer::List(vec!["c".into(), "a".into(), "c".into()]),
                ),
                (&zip, RawAnswer::Text("sw1a 1aa".into())),
                (&number, RawAnswer::Text("2.50".into())),
            ],
        )
        .expect("accepted");
        let values: Vec<&str> = checked.tenant.iter().map(|a| a.value.as_str()).collect();
        assert_eq!(values, ["ann@example.com", "a\nc", "SW1A 1AA", "2.5"]);
    }

    #[test]
    fn designs_are_checked() {
        let id = QuestionId::new();
        assert!(Question::parse(id, QuestionKind::SingleChoice, "Q", false, vec![]).is_err());
        assert!(Question::parse(id, QuestionKind::Rating, "Q", false, vec!["a".into()]).is_err());
        assert!(Question::parse(id, QuestionKind::Rating, "  ", false, vec![]).is_err());
        assert!(
            Question::parse(
                id,
                QuestionKind::IncomeBand,
                "Q",
                false,
                vec!["a".into(), " a ".into()]
            )
            .is_err()
        );
        for kind in QuestionKind::ALL {
            assert_eq!(QuestionKind::parse(kind.as_str()), Some(kind));
        }
    }
}
