-- livehelp PostgreSQL schema, version 7: operator tools (issue 10, item 7). Same meaning
-- as the SQLite backend's 0007_operator_tools.sql: canned responses (tenant-wide or
-- personal), internal notes on conversations and tags on conversations. None of these is
-- a message: they take no seq and are never read on a visitor's path.
--
-- The conventions of 0001_initial.sql hold. Migrations are append-only.

-- Saved replies. owner_id NULL: tenant-wide (managed by admins and supervisors, used by
-- everyone); otherwise the one operator who may see and use it.
CREATE TABLE canned_responses (
    id          uuid NOT NULL CONSTRAINT canned_responses_pkey PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    owner_id    uuid,
    -- Lower-case [a-z0-9_-], 1 to 32 chars (Shortcut::parse); stored without the '/'.
    shortcut    text NOT NULL CHECK (length(shortcut) BETWEEN 1 AND 32 AND shortcut = lower(shortcut)),
    text        text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, owner_id) REFERENCES operators (tenant_id, id) ON DELETE CASCADE
);

-- One shortcut per scope: the tenant's (owner NULL, compared as the nil uuid) or one
-- operator's. Also answers list_canned_responses.
CREATE UNIQUE INDEX canned_responses_shortcut
    ON canned_responses (tenant_id, coalesce(owner_id, '00000000-0000-0000-0000-000000000000'::uuid), shortcut);

-- Staff-only notes on a conversation. The author's name is kept as it was when written.
CREATE TABLE conversation_notes (
    id               uuid NOT NULL CONSTRAINT conversation_notes_pkey PRIMARY KEY,
    tenant_id        uuid NOT NULL,
    conversation_id  uuid NOT NULL,
    author_id        uuid NOT NULL,
    author_name      text NOT NULL,
    text             text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    created_at       timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id),
    FOREIGN KEY (tenant_id, author_id) REFERENCES operators (tenant_id, id)
);

CREATE INDEX conversation_notes_by_conversation
    ON conversation_notes (tenant_id, conversation_id, created_at, id);

-- Tags, normalised (trimmed, lower-case: Tag::parse). At most 20 per conversation: the
-- insert locks the conversation row, counts, then inserts, so racing inserts from any
-- node cannot pass the limit.
CREATE TABLE conversation_tags (
    tenant_id        uuid NOT NULL,
    conversation_id  uuid NOT NULL,
    tag              text NOT NULL CHECK (length(tag) BETWEEN 1 AND 40),
    created_at       timestamptz NOT NULL,
    CONSTRAINT conversation_tags_pkey PRIMARY KEY (tenant_id, conversation_id, tag),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id)
);

CREATE INDEX conversation_tags_by_tag ON conversation_tags (tenant_id, tag, conversation_id);
