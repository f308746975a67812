-- livehelp SQLite schema, version 1.
--
-- Conventions (every table, every later migration):
--   * ids are UUIDs stored as 16-byte BLOBs;
--   * instants are INTEGER microseconds since the Unix epoch, UTC;
--   * SHA-256 token hashes are 32-byte BLOBs;
--   * every table holding tenant data has a tenant_id, and references between tenant
--     tables go through (tenant_id, id) so a row can never point into another tenant;
--   * tables are STRICT, so a value of the wrong type is refused instead of coerced.
-- Migrations are append-only: never edit this file once released, add a new one.

CREATE TABLE tenants (
    id          BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE sites (
    id                  BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id           BLOB NOT NULL REFERENCES tenants (id),
    key                 TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    -- JSON array of strings, in the order given.
    allowed_origins     TEXT NOT NULL CHECK (json_valid(allowed_origins) AND json_type(allowed_origins) = 'array'),
    privacy_policy_url  TEXT,
    created_at          INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE operators (
    id             BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id      BLOB NOT NULL REFERENCES tenants (id),
    -- Login name, unique across the platform (the login form does not ask for a tenant).
    email          TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'operator')),
    password_hash  TEXT NOT NULL,
    disabled       INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    created_at     INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE operator_sessions (
    id           BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id    BLOB NOT NULL,
    operator_id  BLOB NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX operator_sessions_by_operator ON operator_sessions (tenant_id, operator_id);

CREATE TABLE visitors (
    id          BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id   BLOB NOT NULL REFERENCES tenants (id),
    site_id     BLOB NOT NULL,
    name        TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
) STRICT;

CREATE TABLE visitor_sessions (
    id          BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id   BLOB NOT NULL,
    visitor_id  BLOB NOT NULL,
    site_id     BLOB NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- The client address in its canonical text form (`IpAddr`'s Display).
    ip          TEXT,
    user_agent  TEXT,
    created_at  INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
) STRICT;

CREATE INDEX visitor_sessions_by_visitor ON visitor_sessions (tenant_id, visitor_id);

CREATE TABLE conversations (
    id                    BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id             BLOB NOT NULL,
    site_id               BLOB NOT NULL,
    visitor_id            BLOB NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('queued', 'active', 'ended')),
    operator_id           BLOB,
    -- Highest seq used by the conversation's messages; the writer bumps it in the same
    -- conditional UPDATE that checks the state, and the message takes the new value.
    last_seq              INTEGER NOT NULL CHECK (last_seq >= 0),
    created_at            INTEGER NOT NULL,
    accepted_at           INTEGER,
    ended_at              INTEGER,
    end_reason            TEXT CHECK (end_reason IN ('visitor_ended', 'operator_ended', 'visitor_abandoned')),
    -- Set exactly when end_reason = 'operator_ended'.
    ended_by_operator_id  BLOB,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id),
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors (tenant_id, id),
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id),
    FOREIGN KEY (tenant_id, ended_by_operator_id) REFERENCES operators (tenant_id, id),
    CHECK (state <> 'active' OR operator_id IS NOT NULL),
    CHECK ((state = 'ended') = (ended_at IS NOT NULL)),
    CHECK ((state = 'ended') = (end_reason IS NOT NULL)),
    CHECK ((end_reason IS 'operator_ended') = (ended_by_operator_id IS NOT NULL))
) STRICT;

-- At most one open (queued or active) conversation per visitor (case BR-05). Also the
-- index behind fetch_open_conversation_for_visitor.
CREATE UNIQUE INDEX conversations_one_open_per_visitor
    ON conversations (tenant_id, visitor_id) WHERE state <> 'ended';

-- The tenant's queue, oldest first.
CREATE INDEX conversations_queue
    ON conversations (tenant_id, created_at, id) WHERE state = 'queued';

-- An operator's active chats, oldest first.
CREATE INDEX conversations_active_by_operator
    ON conversations (tenant_id, operator_id, created_at, id) WHERE state = 'active';

CREATE TABLE messages (
    id               BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id        BLOB NOT NULL,
    conversation_id  BLOB NOT NULL,
    seq              INTEGER NOT NULL CHECK (seq >= 1),
    kind             TEXT NOT NULL CHECK (kind IN ('visitor', 'operator', 'system', 'whisper')),
    author_kind      TEXT NOT NULL CHECK (author_kind IN ('visitor', 'operator', 'system')),
    -- The visitor or operator id; NULL for the system.
    author_id        BLOB,
    author_name      TEXT,
    text             TEXT NOT NULL,
    event            TEXT CHECK (event IN ('chat_requested', 'operator_joined', 'chat_ended')),
    client_msg_id    BLOB CHECK (client_msg_id IS NULL OR length(client_msg_id) = 16),
    created_at       INTEGER NOT NULL,
    UNIQUE (conversation_id, seq),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id),
    CHECK ((author_kind = 'system') = (author_id IS NULL))
) STRICT;

-- Idempotency: one message per (author, client_msg_id). The author id goes through
-- ifnull() so that the system author (NULL id) is one author too; lookups must use the
-- same expression to use this index.
CREATE UNIQUE INDEX messages_client_msg_id
    ON messages (tenant_id, author_kind, ifnull(author_id, X''), client_msg_id)
    WHERE client_msg_id IS NOT NULL;
