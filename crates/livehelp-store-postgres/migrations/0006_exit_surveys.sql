-- livehelp PostgreSQL schema, version 6: exit surveys (issue 5; PRODUCT.md M3, M4, M9).
-- Same meaning as the SQLite backend's 0006_exit_surveys.sql.
--
-- The conventions of 0001_initial.sql hold. Migrations are append-only.

-- One row per saved version of a tenant's survey (site_id NULL) or a site's. A version
-- is never changed after it is saved: answers point at the version they answered.
CREATE TABLE survey_versions (
    id          uuid NOT NULL CONSTRAINT survey_versions_pkey PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    site_id     uuid,
    version     bigint NOT NULL CHECK (version >= 1),
    -- Array of {id, kind, label, required, options}, in display order.
    questions   jsonb NOT NULL CHECK (jsonb_typeof(questions) = 'array'),
    created_at  timestamptz NOT NULL,
    CONSTRAINT survey_versions_tenant_id_id_key UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);

-- Version numbers are unique per scope.
CREATE UNIQUE INDEX survey_versions_tenant_scope
    ON survey_versions (tenant_id, version) WHERE site_id IS NULL;
CREATE UNIQUE INDEX survey_versions_site_scope
    ON survey_versions (tenant_id, site_id, version) WHERE site_id IS NOT NULL;

-- One accepted survey per conversation, enforced here (BR-15). A refused (under-18)
-- submission never gets a row, not even a temporary one.
CREATE TABLE survey_responses (
    id               uuid NOT NULL CONSTRAINT survey_responses_pkey PRIMARY KEY,
    tenant_id        uuid NOT NULL,
    conversation_id  uuid NOT NULL,
    site_id          uuid NOT NULL,
    survey_id        uuid NOT NULL,
    submitted_at     timestamptz NOT NULL,
    -- Array of {question_id, value} for the tenant's questions, in question order.
    answers          jsonb NOT NULL CHECK (jsonb_typeof(answers) = 'array'),
    CONSTRAINT survey_responses_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT survey_responses_conversation UNIQUE (tenant_id, conversation_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id),
    FOREIGN KEY (tenant_id, survey_id) REFERENCES survey_versions (tenant_id, id)
);

CREATE INDEX survey_responses_by_time ON survey_responses (tenant_id, submitted_at, id);

-- The only trace of a refused (under-18) submission: a count per site and UTC day.
CREATE TABLE survey_refusals (
    tenant_id  uuid NOT NULL,
    site_id    uuid NOT NULL,
    day        date NOT NULL,
    refused    bigint NOT NULL CHECK (refused >= 1),
    CONSTRAINT survey_refusals_pkey PRIMARY KEY (tenant_id, site_id, day),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);

-- The platform's own questions, appended to every tenant's survey (M9). Not tenant data.
CREATE TABLE platform_survey_questions (
    id          uuid NOT NULL CONSTRAINT platform_survey_questions_pkey PRIMARY KEY,
    position    bigint NOT NULL CONSTRAINT platform_survey_questions_position_key UNIQUE,
    kind        text NOT NULL,
    label       text NOT NULL,
    required    boolean NOT NULL,
    options     jsonb NOT NULL CHECK (jsonb_typeof(options) = 'array'),
    created_at  timestamptz NOT NULL,
    retired_at  timestamptz
);

-- Answers to the platform's questions, apart from the tenant's, readable only by
-- platform admins. tenant_id and response_id exist only so erasure cascades.
CREATE TABLE platform_survey_answers (
    id            uuid NOT NULL CONSTRAINT platform_survey_answers_pkey PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    response_id   uuid NOT NULL,
    question_id   uuid NOT NULL REFERENCES platform_survey_questions (id),
    value         text NOT NULL,
    submitted_at  timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, response_id) REFERENCES survey_responses (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX platform_survey_answers_by_time ON platform_survey_answers (submitted_at, id);
