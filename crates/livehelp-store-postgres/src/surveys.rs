//! `SurveyStore` for [`PostgresStore`]: survey versions, responses (one per conversation,
//! by a unique constraint), the anonymous refusal counter (one upsert), and the
//! platform's questions and answers. All on the pool, outside the message writer.

use async_trait::async_trait;
use livehelp_domain::{
    Answer, ConversationId, Question, QuestionId, SiteId, Survey, SurveyId, SurveyResponse,
    SurveyResponseId, TenantId, Timestamp,
};
use livehelp_store::survey_json::{
    answers_from_json, answers_to_json, questions_from_json, questions_to_json, strings_from_json,
    strings_to_json,
};
use livehelp_store::{
    PlatformAnswer, PlatformQuestion, StoreError, StoreResult, SurveyResponseQuery, SurveyStore,
};
use time::Date;
use uuid::Uuid;

use crate::PostgresStore;
use crate::error::store_error;
use crate::rows::stored_instant;

#[derive(sqlx::FromRow)]
struct SurveyRow {
    id: Uuid,
    tenant_id: Uuid,
    site_id: Option<Uuid>,
    version: i64,
    questions: String,
    created_at: Timestamp,
}

impl TryFrom<SurveyRow> for Survey {
    type Error = StoreError;
    fn try_from(row: SurveyRow) -> Result<Self, Self::Error> {
        Ok(Survey {
            id: SurveyId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            site_id: row.site_id.map(SiteId::from_uuid),
            version: row.version,
            questions: questions_from_json(&row.questions)?,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ResponseRow {
    id: Uuid,
    tenant_id: Uuid,
    conversation_id: Uuid,
    site_id: Uuid,
    survey_id: Uuid,
    submitted_at: Timestamp,
    answers: String,
}

impl TryFrom<ResponseRow> for SurveyResponse {
    type Error = StoreError;
    fn try_from(row: ResponseRow) -> Result<Self, Self::Error> {
        Ok(SurveyResponse {
            id: SurveyResponseId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            conversation_id: ConversationId::from_uuid(row.conversation_id),
            site_id: SiteId::from_uuid(row.site_id),
            survey_id: SurveyId::from_uuid(row.survey_id),
            submitted_at: row.submitted_at,
            answers: answers_from_json(&row.answers)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct PlatformQuestionRow {
    id: Uuid,
    kind: String,
    label: String,
    required: bool,
    options: String,
    created_at: Timestamp,
    retired_at: Option<Timestamp>,
}

impl TryFrom<PlatformQuestionRow> for PlatformQuestion {
    type Error = StoreError;
    fn try_from(row: PlatformQuestionRow) -> Result<Self, Self::Error> {
        let kind = livehelp_domain::QuestionKind::parse(&row.kind)
            .ok_or_else(|| StoreError::Other(format!("unknown kind {}", row.kind).into()))?;
        Ok(PlatformQuestion {
            question: Question {
                id: QuestionId::from_uuid(row.id),
                kind,
                label: row.label,
                required: row.required,
                options: strings_from_json(&row.options)?,
            },
            created_at: row.created_at,
            retired_at: row.retired_at,
        })
    }
}

#[async_trait]
impl SurveyStore for PostgresStore {
    async fn insert_survey_version(
        &self,
        tenant: TenantId,
        site: Option<SiteId>,
        questions: &[Question],
        now: Timestamp,
    ) -> StoreResult<Survey> {
        if let Some(site) = site {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT 1::bigint FROM sites WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.as_uuid())
                    .bind(site.as_uuid())
                    .fetch_optional(self.pool())
                    .await
                    .map_err(store_error)?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        // The number is computed in the insert itself; the partial unique indexes refuse
        // a second insert that computed the same one.
        let row = sqlx::query_as::<_, SurveyRow>(
            "INSERT INTO survey_versions (id, tenant_id, site_id, version, questions, created_at) \
             SELECT $1, $2, $3, coalesce(max(version), 0) + 1, $4::jsonb, $5 FROM survey_versions \
             WHERE tenant_id = $2 AND site_id IS NOT DISTINCT FROM $3 \
             RETURNING id, tenant_id, site_id, version, questions::text AS questions, created_at",
        )
        .bind(SurveyId::new().as_uuid())
        .bind(tenant.as_uuid())
        .bind(site.map(|site| site.as_uuid()))
        .bind(questions_to_json(questions))
        .bind(stored_instant(now))
        .fetch_one(self.pool())
        .await
        .map_err(store_error)?;
        Survey::try_from(row)
    }

    async fn fetch_survey(&self, tenant: TenantId, survey: SurveyId) -> StoreResult<Survey> {
        let row = sqlx::query_as::<_, SurveyRow>(
            "SELECT id, tenant_id, site_id, version, questions::text AS questions, created_at FROM survey_versions \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(survey.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        Survey::try_from(row)
    }

    async fn fetch_latest_survey(
        &self,
        tenant: TenantId,
        site: Option<SiteId>,
    ) -> StoreResult<Option<Survey>> {
        let row = sqlx::query_as::<_, SurveyRow>(
            "SELECT id, tenant_id, site_id, version, questions::text AS questions, created_at FROM survey_versions \
             WHERE tenant_id = $1 AND site_id IS NOT DISTINCT FROM $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(tenant.as_uuid())
        .bind(site.map(|site| site.as_uuid()))
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        row.map(Survey::try_from).transpose()
    }

    async fn insert_survey_response(
        &self,
        tenant: TenantId,
        response: &SurveyResponse,
        platform_answers: &[Answer],
    ) -> StoreResult<()> {
        if response.tenant_id != tenant {
            return Err(StoreError::Other(
                "survey response of another tenant".into(),
            ));
        }
        let mut transaction = self.pool().begin().await.map_err(store_error)?;
        sqlx::query(
            "INSERT INTO survey_responses \
             (id, tenant_id, conversation_id, site_id, survey_id, submitted_at, answers) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
        )
        .bind(response.id.as_uuid())
        .bind(tenant.as_uuid())
        .bind(response.conversation_id.as_uuid())
        .bind(response.site_id.as_uuid())
        .bind(response.survey_id.as_uuid())
        .bind(stored_instant(response.submitted_at))
        .bind(answers_to_json(&response.answers))
        .execute(&mut *transaction)
        .await
        .map_err(|error| match store_error(error) {
            // The id is fresh: the only unique key a new response can hit is its
            // conversation's.
            StoreError::Conflict { .. } => StoreError::Conflict {
                constraint: "survey_response_conversation",
            },
            other => other,
        })?;
        for answer in platform_answers {
            sqlx::query(
                "INSERT INTO platform_survey_answers \
                 (id, tenant_id, response_id, question_id, value, submitted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(Uuid::now_v7())
            .bind(tenant.as_uuid())
            .bind(response.id.as_uuid())
            .bind(answer.question_id.as_uuid())
            .bind(&answer.value)
            .bind(stored_instant(response.submitted_at))
            .execute(&mut *transaction)
            .await
            .map_err(store_error)?;
        }
        transaction.commit().await.map_err(store_error)
    }

    async fn fetch_survey_response(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Option<SurveyResponse>> {
        let row = sqlx::query_as::<_, ResponseRow>(
            "SELECT id, tenant_id, conversation_id, site_id, survey_id, submitted_at, \
             answers::text AS answers FROM survey_responses \
             WHERE tenant_id = $1 AND conversation_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        row.map(SurveyResponse::try_from).transpose()
    }

    async fn list_survey_responses(
        &self,
        tenant: TenantId,
        query: &SurveyResponseQuery,
    ) -> StoreResult<Vec<SurveyResponse>> {
        let rows = sqlx::query_as::<_, ResponseRow>(
            "SELECT id, tenant_id, conversation_id, site_id, survey_id, submitted_at, \
             answers::text AS answers FROM survey_responses \
             WHERE tenant_id = $1 AND submitted_at >= $2 AND submitted_at < $3 \
             AND ($4 IS NULL OR site_id = $4) \
             ORDER BY submitted_at, id LIMIT $5",
        )
        .bind(tenant.as_uuid())
        .bind(stored_instant(query.from))
        .bind(stored_instant(query.to))
        .bind(query.site.map(|site| site.as_uuid()))
        .bind(i64::from(query.limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter().map(SurveyResponse::try_from).collect()
    }

    async fn record_survey_refusal(
        &self,
        tenant: TenantId,
        site: SiteId,
        day: Date,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO survey_refusals (tenant_id, site_id, day, refused) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (tenant_id, site_id, day) \
             DO UPDATE SET refused = survey_refusals.refused + 1",
        )
        .bind(tenant.as_uuid())
        .bind(site.as_uuid())
        .bind(day)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn count_survey_refusals(
        &self,
        tenant: TenantId,
        site: Option<SiteId>,
        from: Date,
        to: Date,
    ) -> StoreResult<u64> {
        let total: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(refused), 0)::bigint FROM survey_refusals \
             WHERE tenant_id = $1 AND day >= $2 AND day <= $3 AND ($4 IS NULL OR site_id = $4)",
        )
        .bind(tenant.as_uuid())
        .bind(from)
        .bind(to)
        .bind(site.map(|site| site.as_uuid()))
        .fetch_one(self.pool())
        .await
        .map_err(store_error)?;
        Ok(u64::try_from(total).unwrap_or(0))
    }

    async fn insert_platform_question(
        &self,
        question: &Question,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO platform_survey_questions \
             (id, position, kind, label, required, options, created_at) \
             SELECT $1, coalesce(max(position), 0) + 1, $2, $3, $4, $5::jsonb, $6 \
             FROM platform_survey_questions",
        )
        .bind(question.id.as_uuid())
        .bind(question.kind.as_str())
        .bind(&question.label)
        .bind(question.required)
        .bind(strings_to_json(&question.options))
        .bind(stored_instant(now))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn list_platform_questions(
        &self,
        include_retired: bool,
    ) -> StoreResult<Vec<PlatformQuestion>> {
        let rows = sqlx::query_as::<_, PlatformQuestionRow>(
            "SELECT id, kind, label, required, options::text AS options, created_at, retired_at \
             FROM platform_survey_questions WHERE $1 OR retired_at IS NULL ORDER BY position",
        )
        .bind(include_retired)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter().map(PlatformQuestion::try_from).collect()
    }

    async fn retire_platform_question(
        &self,
        question: QuestionId,
        now: Timestamp,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE platform_survey_questions SET retired_at = $2 \
             WHERE id = $1 AND retired_at IS NULL",
        )
        .bind(question.as_uuid())
        .bind(stored_instant(now))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn list_platform_answers(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<PlatformAnswer>> {
        let rows: Vec<(Uuid, String, Timestamp)> = sqlx::query_as(
            "SELECT question_id, value, submitted_at FROM platform_survey_answers \
             WHERE submitted_at >= $1 AND submitted_at < $2 ORDER BY submitted_at, id",
        )
        .bind(stored_instant(from))
        .bind(stored_instant(to))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|(question_id, value, submitted_at)| {
                Ok(PlatformAnswer {
                    question_id: QuestionId::from_uuid(question_id),
                    value,
                    submitted_at,
                })
            })
            .collect()
    }
}
