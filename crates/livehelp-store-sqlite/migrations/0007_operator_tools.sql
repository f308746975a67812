-- livehelp SQLite schema, version 7: operator tools (issue 10, item 7). Canned responses
-- (tenant-wide or personal), internal notes on conversations and tags on conversations.
-- None of these is a message: they take no seq and are never read on a visitor's path.
--
-- The conventions of 0001_initial.sql hold (UUID BLOBs, INTEGER microseconds, STRICT,
-- tenant references through (tenant_id, id)). Migrations are append-only.

-- Saved replies. owner_id NULL: tenant-wide (managed by admins and supervisors, used by
-- everyone); otherwise the one operator who may see and use it.
CREATE TABLE canned_responses (
    id          BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id   BLOB NOT NULL REFERENCES tenants (id),
    owner_id    BLOB CHECK (owner_id IS NULL OR length(owner_id) = 16),
    -- Lower-case [a-z0-9_-], 1 to 32 chars (Shortcut::parse); stored without the '/'.
    shortcut    TEXT NOT NULL CHECK (length(shortcut) BETWEEN 1 AND 32 AND shortcut = lower(shortcut)),
    text        TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, owner_id) REFERENCES operators (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- One shortcut per scope: the tenant's (owner NULL, compared as X'') or one operator's.
-- Also answers list_canned_responses (tenant-wide and one owner's, by shortcut).
CREATE UNIQUE INDEX canned_responses_shortcut
    ON canned_responses (tenant_id, ifnull(owner_id, X''), shortcut);

-- Staff-only notes on a conversation. The author's name is kept as it was when written,
-- like a message's author_name.
CREATE TABLE conversation_notes (
    id               BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id        BLOB NOT NULL,
    conversation_id  BLOB NOT NULL,
    author_id        BLOB NOT NULL,
    author_name      TEXT NOT NULL,
    text             TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    created_at       INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id),
    FOREIGN KEY (tenant_id, author_id) REFERENCES operators (tenant_id, id)
) STRICT;

-- list_notes: a conversation's notes, oldest first.
CREATE INDEX conversation_notes_by_conversation
    ON conversation_notes (tenant_id, conversation_id, created_at, id);

-- Tags, normalised (trimmed, lower-case: Tag::parse). At most 20 per conversation, checked
-- by the insert itself.
CREATE TABLE conversation_tags (
    tenant_id        BLOB NOT NULL,
    conversation_id  BLOB NOT NULL,
    tag              TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 40),
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, tag),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id)
) STRICT;

-- The tag filter of list_conversations: EXISTS (tenant, tag, conversation).
CREATE INDEX conversation_tags_by_tag ON conversation_tags (tenant_id, tag, conversation_id);
