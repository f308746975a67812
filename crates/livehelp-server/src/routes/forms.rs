//! Pre-chat forms and business hours: `GET`/`PUT /api/v1/sites/{id}/forms` (tenant
//! admins), `GET /api/v1/conversations/{id}/prechat` (operators: the answers stored with
//! a conversation), and `POST /api/v1/visitor/chats`, the REST twin of the `start_chat`
//! frame, which enforces the pre-chat form exactly like the WebSocket path (case BR-14).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use livehelp_app::{AppError, FormKind, SiteAccess, field_kind};
use livehelp_domain::{
    AnswerValue, BusinessHours, ConversationId, CustomField, FieldError, FieldKind, FieldRule,
    OpenSpan, PrechatForm, SiteId,
};
use livehelp_protocol::ErrorCode;
use livehelp_protocol::forms::{
    BusinessHoursDto, PrechatAnswerDto, PrechatAnswersDto, PrechatFieldDto, PrechatFormDto,
    SiteFormsDto, StartChatRequest, StartChatResponse,
};
use time::OffsetDateTime;

use crate::extract::{AdminSession, ApiJson, ClientInfo, OperatorSession, origin};
use crate::{ApiError, AppState};

/// A site's pre-chat form and business hours.
pub async fn get(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Path(id): Path<String>,
) -> Result<Json<SiteFormsDto>, ApiError> {
    let site = site_id(&id)?;
    let (form, hours) = state.app.site_forms(&session.operator, site).await?;
    Ok(Json(forms_dto(&form, hours.as_ref())))
}

/// Replaces a site's pre-chat form and business hours. Refusals are
/// `validation_failed` with `fields`.
pub async fn update(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SiteFormsDto>,
) -> Result<Json<SiteFormsDto>, ApiError> {
    let site = site_id(&id)?;
    let form = form_from_dto(body.prechat)?;
    let hours = body.business_hours.map(hours_from_dto).transpose()?;
    let (form, hours) = state
        .app
        .change_site_forms(
            &session.operator,
            site,
            form,
            hours,
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(Json(forms_dto(&form, hours.as_ref())))
}

/// The pre-chat answers of a conversation of the operator's tenant.
pub async fn answers(
    State(state): State<AppState>,
    session: OperatorSession,
    Path(id): Path<String>,
) -> Result<Json<PrechatAnswersDto>, ApiError> {
    let id: ConversationId = id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::ConversationNotFound, "no such conversation"))?;
    let record = state
        .app
        .conversation_prechat(&session.operator, id)
        .await?;
    let Some(record) = record else {
        return Ok(Json(PrechatAnswersDto {
            answered: false,
            name: None,
            email: None,
            answers: Vec::new(),
        }));
    };
    Ok(Json(PrechatAnswersDto {
        answered: true,
        name: record.name,
        email: record.email,
        answers: record
            .answers
            .into_iter()
            .map(|(key, label, value)| PrechatAnswerDto {
                key,
                label,
                value: match value {
                    AnswerValue::Text(text) => serde_json::Value::String(text),
                    AnswerValue::Number(number) => serde_json::Value::from(number),
                    AnswerValue::Bool(ticked) => serde_json::Value::Bool(ticked),
                },
            })
            .collect(),
    }))
}

/// A visitor starts a chat over REST (same rules as the `start_chat` frame: origin, TLS,
/// rate limit, pre-chat form). 201 with the conversation; 422 `prechat_invalid` with
/// `fields` when the answers do not pass, and then nothing is created.
pub async fn start_chat(
    State(state): State<AppState>,
    VisitorBearer(visitor): VisitorBearer,
    headers: HeaderMap,
    client: ClientInfo,
    ApiJson(body): ApiJson<StartChatRequest>,
) -> Result<(StatusCode, Json<StartChatResponse>), ApiError> {
    state
        .app
        .check_visitor_access(
            &visitor,
            &SiteAccess {
                origin: origin(&headers).map(str::to_owned),
                secure: client.secure,
            },
        )
        .await?;
    if state.app.open_conversation(&visitor).await?.is_none() {
        // A refused form is answered before the limit is charged (as over WebSocket).
        state
            .app
            .check_prechat(&visitor, body.prechat.as_ref())
            .await?;
        state
            .limits
            .chat_start(visitor.visitor_id)
            .map_err(|retry| ApiError::rate_limited(retry.0))?;
    }
    let appended = state
        .app
        .start_chat(
            &visitor,
            body.client_msg_id,
            body.department_id
                .map(livehelp_domain::DepartmentId::from_uuid),
            body.prechat.as_ref(),
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(StartChatResponse {
            conversation_id: appended.conversation.id.as_uuid(),
            message_id: appended.message.id.as_uuid(),
            seq: appended.message.seq,
        }),
    ))
}

/// A visitor authenticated by `Authorization: Bearer <visitor token>`, checked before the
/// body is read (an anonymous caller learns nothing about the body's shape).
pub struct VisitorBearer(pub livehelp_app::VisitorPrincipal);

impl axum::extract::FromRequestParts<AppState> for VisitorBearer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = crate::ws::bearer(&parts.headers)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "visitor token missing"))?;
        Ok(VisitorBearer(state.app.authenticate_visitor(&token).await?))
    }
}

/// The widget's view of a form (`None` when it asks nothing).
pub fn widget_form(form: &PrechatForm) -> Option<PrechatFormDto> {
    (!form.is_empty()).then(|| form_dto(form))
}

fn site_id(id: &str) -> Result<SiteId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such site"))
}

fn settings_error(field: &str, message: &str) -> ApiError {
    AppError::InvalidFields {
        form: FormKind::Settings,
        fields: vec![FieldError::new(field, message)],
    }
    .into()
}

fn form_from_dto(dto: PrechatFormDto) -> Result<PrechatForm, ApiError> {
    let rule = |field: &str, name: &str| {
        FieldRule::from_name(name)
            .ok_or_else(|| settings_error(field, "hidden, optional or required"))
    };
    let mut fields = Vec::new();
    for field in dto.fields {
        let kind = field_kind(&field.kind, field.options).ok_or_else(|| {
            settings_error(&field.key, "a field is text, number, checkbox or select")
        })?;
        fields.push(CustomField {
            key: field.key,
            label: field.label.trim().to_owned(),
            kind,
            required: field.required,
        });
    }
    Ok(PrechatForm {
        name: rule("name", &dto.name)?,
        email: rule("email", &dto.email)?,
        fields,
        min_age: dto.min_age,
    })
}

fn form_dto(form: &PrechatForm) -> PrechatFormDto {
    PrechatFormDto {
        name: form.name.as_str().to_owned(),
        email: form.email.as_str().to_owned(),
        fields: form
            .fields
            .iter()
            .map(|field| PrechatFieldDto {
                key: field.key.clone(),
                label: field.label.clone(),
                kind: field.kind.as_str().to_owned(),
                required: field.required,
                options: match &field.kind {
                    FieldKind::Select(options) => options.clone(),
                    _ => Vec::new(),
                },
            })
            .collect(),
        min_age: form.min_age,
    }
}

fn hours_from_dto(dto: BusinessHoursDto) -> Result<BusinessHours, ApiError> {
    if dto.days.len() != 7 {
        return Err(settings_error("business_hours", "seven days, Monday first"));
    }
    let mut days: [Vec<OpenSpan>; 7] = Default::default();
    for (day, spans) in days.iter_mut().zip(dto.days) {
        *day = spans
            .into_iter()
            .map(|[open, close]| OpenSpan { open, close })
            .collect();
    }
    Ok(BusinessHours {
        time_zone: dto.time_zone,
        days,
    })
}

fn forms_dto(form: &PrechatForm, hours: Option<&BusinessHours>) -> SiteFormsDto {
    SiteFormsDto {
        prechat: form_dto(form),
        business_hours: hours.map(|hours| BusinessHoursDto {
            time_zone: hours.time_zone.clone(),
            days: hours
                .days
                .iter()
                .map(|spans| spans.iter().map(|span| [span.open, span.close]).collect())
                .collect(),
        }),
    }
}
