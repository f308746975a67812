-- livehelp PostgreSQL schema, version 1. Same meaning as the SQLite backend's
-- 0001_initial.sql: migration N of either backend leaves the same logical schema, so the
-- two folders move in step (a Postgres-only change still takes the next number in both).
--
-- Conventions (every table, every later migration):
--   * ids are `uuid`;
--   * instants are `timestamptz` (microsecond precision, like SQLite's integer micros);
--   * SHA-256 token hashes are 32-byte `bytea`;
--   * every table holding tenant data has a tenant_id, and references between tenant
--     tables go through (tenant_id, id) so a row can never point into another tenant;
--   * unique constraints and indexes carry the names `src/error.rs` maps to the stable
--     `StoreError::Conflict` names, so a violation is reported by name, not by parsing
--     a message.
-- Migrations are append-only: never edit this file once released, add a new one.

CREATE TABLE tenants (
    id          uuid NOT NULL CONSTRAINT tenants_pkey PRIMARY KEY,
    name        text NOT NULL,
    status      text NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at  timestamptz NOT NULL
);

CREATE TABLE sites (
    id                  uuid NOT NULL CONSTRAINT sites_pkey PRIMARY KEY,
    tenant_id           uuid NOT NULL REFERENCES tenants (id),
    key                 text NOT NULL CONSTRAINT sites_key_key UNIQUE,
    name                text NOT NULL,
    -- In the order given.
    allowed_origins     text[] NOT NULL,
    privacy_policy_url  text,
    created_at          timestamptz NOT NULL,
    CONSTRAINT sites_tenant_id_id_key UNIQUE (tenant_id, id)
);

CREATE TABLE operators (
    id             uuid NOT NULL CONSTRAINT operators_pkey PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    -- Login name, unique across the platform (the login form does not ask for a tenant).
    email          text NOT NULL CONSTRAINT operators_email_key UNIQUE,
    display_name   text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'supervisor', 'operator')),
    password_hash  text NOT NULL,
    disabled       boolean NOT NULL,
    created_at     timestamptz NOT NULL,
    CONSTRAINT operators_tenant_id_id_key UNIQUE (tenant_id, id)
);

CREATE TABLE operator_sessions (
    id           uuid NOT NULL CONSTRAINT operator_sessions_pkey PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    operator_id  uuid NOT NULL,
    token_hash   bytea NOT NULL CONSTRAINT operator_sessions_token_hash_key UNIQUE
                     CHECK (length(token_hash) = 32),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX operator_sessions_by_operator ON operator_sessions (tenant_id, operator_id);

CREATE TABLE visitors (
    id          uuid NOT NULL CONSTRAINT visitors_pkey PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    site_id     uuid NOT NULL,
    name        text,
    created_at  timestamptz NOT NULL,
    CONSTRAINT visitors_tenant_id_id_key UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);

CREATE TABLE visitor_sessions (
    id          uuid NOT NULL CONSTRAINT visitor_sessions_pkey PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    visitor_id  uuid NOT NULL,
    site_id     uuid NOT NULL,
    token_hash  bytea NOT NULL CONSTRAINT visitor_sessions_token_hash_key UNIQUE
                    CHECK (length(token_hash) = 32),
    -- The client address in its canonical text form (`IpAddr`'s Display), as in SQLite.
    ip          text,
    user_agent  text,
    created_at  timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);

CREATE INDEX visitor_sessions_by_visitor ON visitor_sessions (tenant_id, visitor_id);

CREATE TABLE conversations (
    id                    uuid NOT NULL CONSTRAINT conversations_pkey PRIMARY KEY,
    tenant_id             uuid NOT NULL,
    site_id               uuid NOT NULL,
    visitor_id            uuid NOT NULL,
    state                 text NOT NULL CHECK (state IN ('queued', 'active', 'ended')),
    operator_id           uuid,
    -- Highest seq used by the conversation's messages. Every append bumps it in the same
    -- conditional UPDATE that checks the state (the row lock orders appends from every
    -- node), and the message takes the new value.
    last_seq              bigint NOT NULL CHECK (last_seq >= 0),
    created_at            timestamptz NOT NULL,
    accepted_at           timestamptz,
    ended_at              timestamptz,
    end_reason            text CHECK (end_reason IN ('visitor_ended', 'operator_ended', 'visitor_abandoned')),
    -- Set exactly when end_reason = 'operator_ended'.
    ended_by_operator_id  uuid,
    CONSTRAINT conversations_tenant_id_id_key UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id),
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors (tenant_id, id),
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id),
    FOREIGN KEY (tenant_id, ended_by_operator_id) REFERENCES operators (tenant_id, id),
    CHECK (state <> 'active' OR operator_id IS NOT NULL),
    CHECK ((state = 'ended') = (ended_at IS NOT NULL)),
    CHECK ((state = 'ended') = (end_reason IS NOT NULL)),
    CHECK ((end_reason IS NOT DISTINCT FROM 'operator_ended') = (ended_by_operator_id IS NOT NULL))
);

-- At most one open (queued or active) conversation per visitor (case BR-05), enforced by
-- the database for every node at once. Also the index behind
-- fetch_open_conversation_for_visitor.
CREATE UNIQUE INDEX conversations_one_open_per_visitor
    ON conversations (tenant_id, visitor_id) WHERE state <> 'ended';

-- The tenant's queue, oldest first.
CREATE INDEX conversations_queue
    ON conversations (tenant_id, created_at, id) WHERE state = 'queued';

-- An operator's active chats, oldest first.
CREATE INDEX conversations_active_by_operator
    ON conversations (tenant_id, operator_id, created_at, id) WHERE state = 'active';

CREATE TABLE messages (
    id               uuid NOT NULL CONSTRAINT messages_pkey PRIMARY KEY,
    tenant_id        uuid NOT NULL,
    conversation_id  uuid NOT NULL,
    seq              bigint NOT NULL CHECK (seq >= 1),
    kind             text NOT NULL CHECK (kind IN ('visitor', 'operator', 'system', 'whisper')),
    author_kind      text NOT NULL CHECK (author_kind IN ('visitor', 'operator', 'system')),
    -- The visitor or operator id; NULL for the system.
    author_id        uuid,
    author_name      text,
    text             text NOT NULL,
    event            text CHECK (event IN ('chat_requested', 'operator_joined', 'chat_ended')),
    client_msg_id    uuid,
    created_at       timestamptz NOT NULL,
    CONSTRAINT messages_conversation_id_seq_key UNIQUE (conversation_id, seq),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id),
    CHECK ((author_kind = 'system') = (author_id IS NULL))
);

-- Idempotency: one message per (author, client_msg_id), for every node at once. The
-- author id goes through coalesce() so that the system author (NULL id) is one author
-- too (and NULLS NOT DISTINCT would need PostgreSQL 15); lookups must use the same
-- expression to use this index.
CREATE UNIQUE INDEX messages_client_msg_id
    ON messages (tenant_id, author_kind,
                 coalesce(author_id, '00000000-0000-0000-0000-000000000000'::uuid),
                 client_msg_id)
    WHERE client_msg_id IS NOT NULL;
