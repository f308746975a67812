-- livehelp SQLite schema, version 6: exit surveys (issue 5; PRODUCT.md M3, M4, M9).
--
-- The conventions of 0001_initial.sql hold (UUID BLOBs, INTEGER microseconds, STRICT,
-- tenant references through (tenant_id, id)).
-- Migrations are append-only: never edit this file once released, add a new one.

-- One row per saved version of a tenant's survey (site_id NULL) or a site's. A version
-- is never changed after it is saved: answers point at the version they answered, so
-- editing a survey cannot change what past answers mean.
CREATE TABLE survey_versions (
    id          BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id   BLOB NOT NULL REFERENCES tenants (id),
    site_id     BLOB,
    version     INTEGER NOT NULL CHECK (version >= 1),
    -- JSON array of {id, kind, label, required, options}, in display order.
    questions   TEXT NOT NULL CHECK (json_valid(questions) AND json_type(questions) = 'array'),
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
) STRICT;

-- Version numbers are unique per scope; two admins saving at once cannot both get the
-- same number (one of them gets a conflict).
CREATE UNIQUE INDEX survey_versions_tenant_scope
    ON survey_versions (tenant_id, version) WHERE site_id IS NULL;
CREATE UNIQUE INDEX survey_versions_site_scope
    ON survey_versions (tenant_id, site_id, version) WHERE site_id IS NOT NULL;

-- One accepted survey per conversation, enforced here (BR-15): two racing submissions
-- cannot both insert. A refused (under-18) submission never gets a row, not even a
-- temporary one.
CREATE TABLE survey_responses (
    id               BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id        BLOB NOT NULL,
    conversation_id  BLOB NOT NULL,
    site_id          BLOB NOT NULL,
    survey_id        BLOB NOT NULL,
    submitted_at     INTEGER NOT NULL,
    -- JSON array of {question_id, value} for the tenant's questions, in question order.
    answers          TEXT NOT NULL CHECK (json_valid(answers) AND json_type(answers) = 'array'),
    UNIQUE (tenant_id, id),
    CONSTRAINT survey_responses_conversation UNIQUE (tenant_id, conversation_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id),
    FOREIGN KEY (tenant_id, survey_id) REFERENCES survey_versions (tenant_id, id)
) STRICT;

CREATE INDEX survey_responses_by_time ON survey_responses (tenant_id, submitted_at, id);

-- The only trace of a refused (under-18) submission: a count per site and UTC day.
CREATE TABLE survey_refusals (
    tenant_id  BLOB NOT NULL,
    site_id    BLOB NOT NULL,
    -- 'YYYY-MM-DD', UTC.
    day        TEXT NOT NULL CHECK (length(day) = 10),
    refused    INTEGER NOT NULL CHECK (refused >= 1),
    PRIMARY KEY (tenant_id, site_id, day),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
) STRICT;

-- The platform's own questions, appended to every tenant's survey (M9). Not tenant data.
-- A question is never edited; it is withdrawn (retired_at) and a new one added.
CREATE TABLE platform_survey_questions (
    id          BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    position    INTEGER NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    label       TEXT NOT NULL,
    required    INTEGER NOT NULL CHECK (required IN (0, 1)),
    -- JSON array of strings.
    options     TEXT NOT NULL CHECK (json_valid(options) AND json_type(options) = 'array'),
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
) STRICT;

-- Answers to the platform's questions, apart from the tenant's, readable only by
-- platform admins. The tenant and response are kept only so that erasing a tenant's or a
-- response's data takes these along (ON DELETE CASCADE); no read returns them.
CREATE TABLE platform_survey_answers (
    id            BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id     BLOB NOT NULL,
    response_id   BLOB NOT NULL,
    question_id   BLOB NOT NULL REFERENCES platform_survey_questions (id),
    value         TEXT NOT NULL,
    submitted_at  INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, response_id) REFERENCES survey_responses (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX platform_survey_answers_by_time ON platform_survey_answers (submitted_at, id);
