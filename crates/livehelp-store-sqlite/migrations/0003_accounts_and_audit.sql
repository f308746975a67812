-- livehelp SQLite schema, version 3: account security (issue 4). Sites can require TLS,
-- operators are locked out after repeated failed logins, login sessions carry an
-- anti-CSRF token and the browser they were opened from, and there are platform admins,
-- one-time password-reset links and a per-tenant audit log.
--
-- The conventions of 0001_initial.sql hold (UUID BLOBs, INTEGER microseconds, STRICT,
-- tenant references through (tenant_id, id)).
-- Migrations are append-only: never edit this file once released, add a new one.

-- Existing sites keep working as they did: plain HTTP stays allowed until an admin turns
-- the switch on. false is the right value for every existing row and for a site created
-- without saying otherwise, so a constant default is correct here.
ALTER TABLE sites
    ADD COLUMN require_tls INTEGER NOT NULL DEFAULT 0 CHECK (require_tls IN (0, 1));

-- No existing operator has a recorded failure or a lock. Both are true facts about the
-- old rows, not placeholders, so ADD COLUMN with a constant default (0, NULL) expresses
-- them exactly.
ALTER TABLE operators
    ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0);
ALTER TABLE operators
    ADD COLUMN locked_until INTEGER;

-- operator_sessions gains csrf_token (NOT NULL), ip and user_agent. ADD COLUMN can only
-- give a NOT NULL column a constant default, and every session needs its own secret
-- token: a shared constant (or '') would be a token an attacker knows, and it would stay
-- in the schema as the value of any insert that forgets the column. So the table is
-- rebuilt, as 0002 rebuilt visitor_sessions (SQLite's "make other kinds of table schema
-- changes" procedure): create the new shape, copy the rows, drop the old table, rename.
--
-- Sessions that exist at upgrade time stay logged in and get a fresh random 256-bit
-- token each (randomblob() is evaluated per row), in the same 64-hex-digit form the
-- application issues. The token is not a credential by itself, and the application hands
-- a session's token out with the authenticated session, so these sessions carry on
-- without a new login. ip and user_agent were never recorded for them, so they are NULL.
--
-- Nothing references operator_sessions, so dropping it inside the migration's
-- transaction with foreign_keys=ON checks nothing; its own reference (to operators) is
-- checked again as the rows are copied in.
CREATE TABLE operator_sessions_v3 (
    id           BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id    BLOB NOT NULL,
    operator_id  BLOB NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- Compared with the X-CSRF-Token header of state-changing requests. At least 128 bits
    -- of hex, so an empty or trivially short token can never be stored (an empty token
    -- would match a request that sends an empty header).
    csrf_token   TEXT NOT NULL CHECK (length(csrf_token) >= 32),
    -- The client address at login in its canonical text form (`IpAddr`'s Display).
    ip           TEXT,
    user_agent   TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id) ON DELETE CASCADE
) STRICT;

INSERT INTO operator_sessions_v3
    (id, tenant_id, operator_id, token_hash, csrf_token, ip, user_agent, created_at,
     expires_at)
SELECT id, tenant_id, operator_id, token_hash, lower(hex(randomblob(32))), NULL, NULL,
       created_at, expires_at
FROM operator_sessions;

DROP TABLE operator_sessions;

ALTER TABLE operator_sessions_v3 RENAME TO operator_sessions;

-- An operator's sessions, newest last: list_operator_sessions reads it backwards,
-- delete_operator_sessions and the cascade from operators use its prefix. Replaces 0001's
-- (tenant_id, operator_id) index, which went with the old table.
CREATE INDEX operator_sessions_by_operator
    ON operator_sessions (tenant_id, operator_id, created_at, id);

-- The hosting company's own staff. Not tenant data: no tenant_id.
CREATE TABLE platform_admins (
    id             BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    -- Login name, unique among platform admins (a separate login from operators').
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;

-- One-time password-reset links, stored only as the SHA-256 of the token in the link.
-- consume_password_reset uses one up with a single conditional UPDATE (used_at IS NULL
-- AND expires_at > now), so two racing uses cannot both succeed. A used or expired row
-- is kept, not deleted: it still refuses its token, and shows that a reset happened.
CREATE TABLE password_resets (
    token_hash   BLOB NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    tenant_id    BLOB NOT NULL,
    operator_id  BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    -- When the link was used; NULL while it is unused.
    used_at      INTEGER,
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- The cascade from operators, and any per-operator lookup.
CREATE INDEX password_resets_by_operator ON password_resets (tenant_id, operator_id);

-- Who read or changed what in a tenant. Append-only. The actor is deliberately not a
-- foreign key: a platform admin is not tenant data, and the record of what someone did
-- must not stop their account from being removed later.
CREATE TABLE audit_log (
    -- UUIDv7, so the byte order of ids is their time order: the listing pages by id.
    id          BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id   BLOB NOT NULL REFERENCES tenants (id),
    at          INTEGER NOT NULL,
    actor_kind  TEXT NOT NULL CHECK (actor_kind IN ('operator', 'platform_admin', 'cli')),
    -- The operator or platform admin id; NULL for the command line.
    actor_id    BLOB CHECK (actor_id IS NULL OR length(actor_id) = 16),
    -- A stable snake_case name such as 'transcript_read'.
    action      TEXT NOT NULL,
    -- The object acted on, e.g. 'conversation:0190...'.
    target      TEXT NOT NULL,
    CHECK ((actor_kind = 'cli') = (actor_id IS NULL))
) STRICT;

-- list_audit_entries: a tenant's entries newest first, paged by the id cursor.
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id DESC);
