-- livehelp PostgreSQL schema, version 3: account security (issue 4). Same meaning as the
-- SQLite backend's 0003_accounts_and_audit.sql: sites can require TLS, operators are
-- locked out after repeated failed logins, login sessions carry an anti-CSRF token and the
-- browser they were opened from, and there are platform admins, one-time password-reset
-- links and a per-tenant audit log.
--
-- The conventions of 0001_initial.sql hold. Migrations are append-only.

-- Existing sites keep working as they did: plain HTTP stays allowed until an admin turns
-- the switch on (false is a true fact about every existing row).
ALTER TABLE sites ADD COLUMN require_tls boolean NOT NULL DEFAULT false;

-- No existing operator has a recorded failure or a lock.
ALTER TABLE operators
    ADD COLUMN failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    ADD COLUMN locked_until timestamptz;

-- Sessions that exist at upgrade time stay logged in and get a fresh random token each
-- (two gen_random_uuid() values, built in since PostgreSQL 13 and drawn from the strong
-- random source: 64 hex digits, the form the application issues). The column then loses
-- its default, so an insert that forgets the token fails instead of storing a value an
-- attacker could know. ip and user_agent were never recorded for them: NULL.
ALTER TABLE operator_sessions
    ADD COLUMN csrf_token text NOT NULL
        DEFAULT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
        CONSTRAINT operator_sessions_csrf_token_length CHECK (length(csrf_token) >= 32),
    ADD COLUMN ip text,
    ADD COLUMN user_agent text;
ALTER TABLE operator_sessions ALTER COLUMN csrf_token DROP DEFAULT;

-- An operator's sessions, newest last: list_operator_sessions reads it backwards,
-- delete_operator_sessions and the cascade from operators use its prefix.
DROP INDEX operator_sessions_by_operator;
CREATE INDEX operator_sessions_by_operator
    ON operator_sessions (tenant_id, operator_id, created_at, id);

-- The hosting company's own staff. Not tenant data: no tenant_id.
CREATE TABLE platform_admins (
    id             uuid NOT NULL CONSTRAINT platform_admins_pkey PRIMARY KEY,
    -- Login name, unique among platform admins (a separate login from operators').
    email          text NOT NULL CONSTRAINT platform_admins_email_key UNIQUE,
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL
);

-- One-time password-reset links, stored only as the SHA-256 of the token in the link.
-- consume_password_reset uses one up with a single conditional UPDATE (used_at IS NULL
-- AND expires_at > now), so two racing uses, from any nodes, cannot both succeed. A used
-- or expired row is kept: it still refuses its token, and shows that a reset happened.
CREATE TABLE password_resets (
    token_hash   bytea NOT NULL CONSTRAINT password_resets_pkey PRIMARY KEY
                     CHECK (length(token_hash) = 32),
    tenant_id    uuid NOT NULL,
    operator_id  uuid NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    -- When the link was used; NULL while it is unused.
    used_at      timestamptz,
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX password_resets_by_operator ON password_resets (tenant_id, operator_id);

-- Who read or changed what in a tenant. Append-only. The actor is deliberately not a
-- foreign key: a platform admin is not tenant data, and the record of what someone did
-- must not stop their account from being removed later.
CREATE TABLE audit_log (
    -- UUIDv7, so the byte order of ids (uuid comparison is bytewise) is their time order.
    id          uuid NOT NULL CONSTRAINT audit_log_pkey PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    at          timestamptz NOT NULL,
    actor_kind  text NOT NULL CHECK (actor_kind IN ('operator', 'platform_admin', 'cli')),
    -- The operator or platform admin id; NULL for the command line.
    actor_id    uuid,
    -- A stable snake_case name such as 'transcript_read'.
    action      text NOT NULL,
    -- The object acted on, e.g. 'conversation:0190...'.
    target      text NOT NULL,
    CHECK ((actor_kind = 'cli') = (actor_id IS NULL))
);

-- list_audit_entries: a tenant's entries newest first, paged by the id cursor.
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id DESC);
