//! Per-site forms: the pre-chat form (admins design it, visitors answer it before a chat,
//! the server enforces it: case BR-14), business hours in an IANA time zone, and the
//! widget's mode (chat, or the offline message form when nobody is available or the site
//! is closed: B4). The settings and the answers are stored as JSON documents whose shape
//! this module owns (`form_json`/`answers_json` and their readers).

use livehelp_domain::{
    AnswerValue, BusinessHours, ConversationId, CustomField, FieldError, FieldKind, FieldRule,
    OpenSpan, PrechatAnswers, PrechatForm, RawValue, Site, SiteId,
};
use livehelp_store::SiteForms;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{App, AppError, FormKind, OperatorPrincipal, VisitorPrincipal};

/// What the widget shows instead of the chat button, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WidgetMode {
    /// Chat: someone can answer.
    Chat,
    /// The offline message form: no operator is available.
    NoOperator,
    /// The offline message form: outside the site's business hours.
    Closed,
}

/// A visitor's pre-chat answers as operators see them: each custom answer with the label
/// it had when the visitor answered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrechatRecord {
    /// The name given.
    pub name: Option<String>,
    /// The email given.
    pub email: Option<String>,
    /// `(key, label, value)` in the form's order.
    pub answers: Vec<(String, String, AnswerValue)>,
}

impl App {
    /// A site's pre-chat form and business hours (admins only).
    pub async fn site_forms(
        &self,
        admin: &OperatorPrincipal,
        site: SiteId,
    ) -> Result<(PrechatForm, Option<BusinessHours>), AppError> {
        Self::require_admin(admin)?;
        let stored = self.store.fetch_site_forms(admin.tenant_id, site).await?;
        Ok((read_form(&stored)?, read_hours(&stored)?))
    }

    /// Replaces a site's pre-chat form and business hours (admins only, audited). The
    /// form and the time zone are checked first; nothing is stored if either is wrong.
    pub async fn change_site_forms(
        &self,
        admin: &OperatorPrincipal,
        site: SiteId,
        form: PrechatForm,
        hours: Option<BusinessHours>,
        now: OffsetDateTime,
    ) -> Result<(PrechatForm, Option<BusinessHours>), AppError> {
        Self::require_admin(admin)?;
        // Another tenant's site is "not found" before the form is looked at.
        self.store.fetch_site_forms(admin.tenant_id, site).await?;
        let mut errors = form.check().err().unwrap_or_default();
        if let Some(hours) = &hours {
            if let Err(error) = hours.check() {
                errors.push(error);
            }
            if jiff::tz::TimeZone::get(&hours.time_zone).is_err() {
                errors.push(FieldError::new(
                    "time_zone",
                    "not a known IANA time zone (like Europe/Paris)",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::InvalidFields {
                form: FormKind::Settings,
                fields: errors,
            });
        }
        let stored = SiteForms {
            prechat: (!form.is_empty()).then(|| form_json(&form).to_string()),
            business_hours: hours.as_ref().map(|hours| hours_json(hours).to_string()),
        };
        self.store
            .update_site_forms(admin.tenant_id, site, &stored)
            .await?;
        self.audit(
            admin.tenant_id,
            livehelp_domain::AuditActor::Operator(admin.operator_id),
            "site_forms_updated",
            format!("site:{site}"),
            now,
        )
        .await?;
        Ok((form, hours))
    }

    /// The widget's pre-chat form (empty when the site asks nothing) and mode at `now`:
    /// offline outside business hours or when no operator is available.
    pub async fn widget_forms(
        &self,
        site: &Site,
        now: OffsetDateTime,
    ) -> Result<(PrechatForm, WidgetMode), AppError> {
        let stored = self.store.fetch_site_forms(site.tenant_id, site.id).await?;
        let form = read_form(&stored)?;
        if let Some(hours) = read_hours(&stored)?
            && !open_at(&hours, now)
        {
            return Ok((form, WidgetMode::Closed));
        }
        if self.available_operators(site.tenant_id).await?.is_empty() {
            return Ok((form, WidgetMode::NoOperator));
        }
        Ok((form, WidgetMode::Chat))
    }

    /// Checks a visitor's pre-chat answers against their site's form. `Ok(None)` when the
    /// site asks nothing; the answers as a JSON document to store with the conversation
    /// otherwise; `InvalidFields` (nothing written) when an answer is missing or wrong.
    /// [`App::start_chat`] calls it; handlers may call it first too, so that a refused
    /// form does not use up the visitor's chat-start rate limit.
    pub async fn check_prechat(
        &self,
        visitor: &VisitorPrincipal,
        answers: Option<&Value>,
    ) -> Result<Option<String>, AppError> {
        let stored = self
            .store
            .fetch_site_forms(visitor.tenant_id, visitor.site_id)
            .await?;
        let form = read_form(&stored)?;
        if form.is_empty() {
            return Ok(None);
        }
        let object = match answers {
            Some(Value::Object(object)) => Some(object),
            Some(Value::Null) | None => None,
            Some(_) => {
                return Err(AppError::InvalidFields {
                    form: FormKind::Prechat,
                    fields: vec![FieldError::new(
                        "prechat",
                        "pre-chat answers are an object: field key to answer",
                    )],
                });
            }
        };
        let raw = |key: &str| match object.and_then(|object| object.get(key)) {
            None | Some(Value::Null) => RawValue::Missing,
            Some(Value::Bool(value)) => RawValue::Bool(*value),
            Some(Value::Number(number)) => RawValue::Number(number.to_string()),
            Some(Value::String(text)) => RawValue::Text(text.clone()),
            Some(_) => RawValue::Other,
        };
        let valid = form
            .validate(raw)
            .map_err(|fields| AppError::InvalidFields {
                form: FormKind::Prechat,
                fields,
            })?;
        Ok(Some(answers_json(&form, &valid).to_string()))
    }

    /// The pre-chat answers stored with a conversation of the operator's tenant (`None`
    /// when the visitor filled no form). Same visibility as the conversation itself.
    pub async fn conversation_prechat(
        &self,
        operator: &OperatorPrincipal,
        conversation: ConversationId,
    ) -> Result<Option<PrechatRecord>, AppError> {
        self.follow(&crate::Principal::Operator(operator.clone()), conversation)
            .await?;
        let stored = self
            .store
            .fetch_conversation_prechat(operator.tenant_id, conversation)
            .await?;
        stored.map(|text| read_answers(&text)).transpose()
    }
}

fn open_at(hours: &BusinessHours, now: OffsetDateTime) -> bool {
    let Ok(zone) = jiff::tz::TimeZone::get(&hours.time_zone) else {
        // A zone that disappeared from the system's database: treat the site as open
        // rather than hide the chat for good (the admin sees the error when editing).
        tracing::warn!(time_zone = %hours.time_zone, "unknown time zone in business hours");
        return true;
    };
    let Ok(instant) = jiff::Timestamp::from_second(now.unix_timestamp()) else {
        return true;
    };
    let local = instant.to_zoned(zone);
    let weekday = usize::try_from(local.weekday().to_monday_zero_offset()).unwrap_or(0);
    let minute =
        u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
    hours.is_open(weekday, minute)
}

fn corrupt(what: &str) -> AppError {
    AppError::Internal(format!("stored {what} is not in the expected shape").into())
}

fn form_json(form: &PrechatForm) -> Value {
    let fields: Vec<Value> = form
        .fields
        .iter()
        .map(|field| {
            let options = match &field.kind {
                FieldKind::Select(options) => options.clone(),
                _ => Vec::new(),
            };
            json!({
                "key": field.key,
                "label": field.label,
                "kind": field.kind.as_str(),
                "required": field.required,
                "options": options,
            })
        })
        .collect();
    json!({
        "name": form.name.as_str(),
        "email": form.email.as_str(),
        "fields": fields,
        "min_age": form.min_age,
    })
}

/// Builds a field kind from its name and options (shared with the REST mapping).
pub fn field_kind(kind: &str, options: Vec<String>) -> Option<FieldKind> {
    match kind {
        "text" => Some(FieldKind::Text),
        "number" => Some(FieldKind::Number),
        "checkbox" => Some(FieldKind::Checkbox),
        "select" => Some(FieldKind::Select(options)),
        _ => None,
    }
}

fn read_form(stored: &SiteForms) -> Result<PrechatForm, AppError> {
    let Some(text) = &stored.prechat else {
        return Ok(PrechatForm::default());
    };
    let value: Value = serde_json::from_str(text).map_err(|_| corrupt("pre-chat form"))?;
    let rule = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .and_then(FieldRule::from_name)
            .ok_or_else(|| corrupt("pre-chat form"))
    };
    let mut fields = Vec::new();
    for field in value
        .get("fields")
        .and_then(Value::as_array)
        .ok_or_else(|| corrupt("pre-chat form"))?
    {
        let text_of = |key: &str| field.get(key).and_then(Value::as_str).map(str::to_owned);
        let options = field
            .get("options")
            .and_then(Value::as_array)
            .map(|options| {
                options
                    .iter()
                    .filter_map(|option| option.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        fields.push(CustomField {
            key: text_of("key").ok_or_else(|| corrupt("pre-chat field"))?,
            label: text_of("label").ok_or_else(|| corrupt("pre-chat field"))?,
            kind: text_of("kind")
                .and_then(|kind| field_kind(&kind, options))
                .ok_or_else(|| corrupt("pre-chat field"))?,
            required: field
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
    }
    Ok(PrechatForm {
        name: rule("name")?,
        email: rule("email")?,
        fields,
        min_age: value
            .get("min_age")
            .and_then(Value::as_u64)
            .and_then(|age| u8::try_from(age).ok()),
    })
}

fn hours_json(hours: &BusinessHours) -> Value {
    let days: Vec<Value> = hours
        .days
        .iter()
        .map(|spans| {
            spans
                .iter()
                .map(|span| json!([span.open, span.close]))
                .collect()
        })
        .collect();
    json!({ "time_zone": hours.time_zone, "days": days })
}

fn read_hours(stored: &SiteForms) -> Result<Option<BusinessHours>, AppError> {
    let Some(text) = &stored.business_hours else {
        return Ok(None);
    };
    let value: Value = serde_json::from_str(text).map_err(|_| corrupt("business hours"))?;
    let time_zone = value
        .get("time_zone")
        .and_then(Value::as_str)
        .ok_or_else(|| corrupt("business hours"))?
        .to_owned();
    let mut days: [Vec<OpenSpan>; 7] = Default::default();
    let stored_days = value
        .get("days")
        .and_then(Value::as_array)
        .ok_or_else(|| corrupt("business hours"))?;
    for (day, spans) in days.iter_mut().zip(stored_days) {
        for span in spans.as_array().into_iter().flatten() {
            let minute = |index: usize| {
                span.get(index)
                    .and_then(Value::as_u64)
                    .and_then(|minute| u16::try_from(minute).ok())
                    .ok_or_else(|| corrupt("business hours"))
            };
            day.push(OpenSpan {
                open: minute(0)?,
                close: minute(1)?,
            });
        }
    }
    Ok(Some(BusinessHours { time_zone, days }))
}

fn answers_json(form: &PrechatForm, answers: &PrechatAnswers) -> Value {
    let values: Vec<Value> = answers
        .values
        .iter()
        .map(|(key, value)| {
            let label = form
                .fields
                .iter()
                .find(|field| field.key == *key)
                .map(|field| field.label.clone())
                .unwrap_or_default();
            let value = match value {
                AnswerValue::Text(text) => json!(text),
                AnswerValue::Number(number) => json!(number),
                AnswerValue::Bool(ticked) => json!(ticked),
            };
            json!({ "key": key, "label": label, "value": value })
        })
        .collect();
    json!({ "name": answers.name, "email": answers.email, "values": values })
}

pub(crate) fn read_answers(text: &str) -> Result<PrechatRecord, AppError> {
    let value: Value = serde_json::from_str(text).map_err(|_| corrupt("pre-chat answers"))?;
    let text_of =
        |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut answers = Vec::new();
    for entry in value
        .get("values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let answer = match entry.get("value") {
            Some(Value::String(text)) => AnswerValue::Text(text.clone()),
            Some(Value::Bool(ticked)) => AnswerValue::Bool(*ticked),
            Some(Value::Number(number)) => {
                AnswerValue::Number(number.as_i64().ok_or_else(|| corrupt("pre-chat answer"))?)
            }
            _ => return Err(corrupt("pre-chat answer")),
        };
        answers.push((
            text_of(entry, "key").ok_or_else(|| corrupt("pre-chat answer"))?,
            text_of(entry, "label").unwrap_or_default(),
            answer,
        ));
    }
    Ok(PrechatRecord {
        name: text_of(&value, "name"),
        email: text_of(&value, "email"),
        answers,
    })
}
