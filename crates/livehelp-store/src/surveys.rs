//! [`SurveyStore`]: exit survey versions, responses, the anonymous under-18 refusal
//! counter, and the platform's own questions and their answers (PRODUCT.md M3, M4, M9).
//!
//! Responses are unique per conversation in the database itself (a unique constraint),
//! so two racing submissions from two tabs store exactly one (case BR-15). A refused
//! (under-18) submission never reaches the store: only [`SurveyStore::record_survey_refusal`]
//! is called, with no content at all.

use async_trait::async_trait;
use livehelp_domain::{
    Answer, ConversationId, Question, QuestionId, SiteId, Survey, SurveyId, SurveyResponse,
    TenantId, Timestamp,
};
use time::Date;

use crate::StoreResult;

/// Which responses [`SurveyStore::list_survey_responses`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyResponseQuery {
    /// Only this site's, or every site's.
    pub site: Option<SiteId>,
    /// Submitted at or after this instant.
    pub from: Timestamp,
    /// Submitted strictly before this instant.
    pub to: Timestamp,
    /// At most this many (the caller caps it).
    pub limit: u32,
}

/// One of the platform's own questions, appended to every tenant's survey (M9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformQuestion {
    /// The question (its id is the one answers refer to).
    pub question: Question,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it was withdrawn (no longer asked; its answers are kept), if it was.
    pub retired_at: Option<Timestamp>,
}

/// One stored answer to a platform question: no tenant, visitor or conversation in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformAnswer {
    /// The question answered.
    pub question_id: QuestionId,
    /// Canonical answer text.
    pub value: String,
    /// When the submission was accepted.
    pub submitted_at: Timestamp,
}

/// Exit surveys.
#[async_trait]
pub trait SurveyStore: Send + Sync {
    /// Saves `questions` as the next version of the tenant's survey (`site` = `None`) or
    /// of a site's: version = the scope's highest + 1, assigned by the store in the same
    /// statement. `NotFound` for a site that is not the tenant's. Returns the version.
    async fn insert_survey_version(
        &self,
        tenant: TenantId,
        site: Option<SiteId>,
        questions: &[Question],
        now: Timestamp,
    ) -> StoreResult<Survey>;
    /// The survey version with this id, or `NotFound`.
    async fn fetch_survey(&self, tenant: TenantId, survey: SurveyId) -> StoreResult<Survey>;
    /// The newest version of the tenant's survey (`site` = `None`) or of a site's, if any.
    async fn fetch_latest_survey(
        &self,
        tenant: TenantId,
        site: Option<SiteId>,
    ) -> StoreResult<Option<Survey>>;
    /// Stores an accepted response and the answers to the platform's questions in one
    /// transaction. A second response for the same conversation is refused with
    /// `Conflict { constraint: "survey_response_conversation" }` and writes nothing.
    async fn insert_survey_response(
        &self,
        tenant: TenantId,
        response: &SurveyResponse,
        platform_answers: &[Answer],
    ) -> StoreResult<()>;
    /// The response of a conversation, if one was stored.
    async fn fetch_survey_response(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Option<SurveyResponse>>;
    /// Responses matching `query`, oldest first (by `submitted_at`, then id).
    async fn list_survey_responses(
        &self,
        tenant: TenantId,
        query: &SurveyResponseQuery,
    ) -> StoreResult<Vec<SurveyResponse>>;
    /// Adds one to the anonymous count of refused (under-18) submissions of the site on
    /// `day` (UTC): one upsert, nothing else.
    async fn record_survey_refusal(
        &self,
        tenant: TenantId,
        site: SiteId,
        day: Date,
    ) -> StoreResult<()>;
    /// Refused submissions of the tenant (of one site, or all) from `from` to `to`, both
    /// days included.
    async fn count_survey_refusals(
        &self,
        tenant: TenantId,
        site: Option<SiteId>,
        from: Date,
        to: Date,
    ) -> StoreResult<u64>;
    /// Adds a platform question after the existing ones. Platform scope: only
    /// platform-admin paths call this.
    async fn insert_platform_question(
        &self,
        question: &Question,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// The platform's questions in order, withdrawn ones too when `include_retired`.
    async fn list_platform_questions(
        &self,
        include_retired: bool,
    ) -> StoreResult<Vec<PlatformQuestion>>;
    /// Withdraws a platform question (kept for its answers); `NotFound` if unknown or
    /// already withdrawn.
    async fn retire_platform_question(
        &self,
        question: QuestionId,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Answers to the platform's questions submitted in `[from, to)`, oldest first.
    /// Platform scope: only platform-admin paths call this; never shown to a tenant.
    async fn list_platform_answers(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<PlatformAnswer>>;
}
