-- livehelp PostgreSQL schema, version 2: operator availability, the page a visitor is on
-- and when they were last seen, and the indexes behind the conversation history list.
-- Same meaning as the SQLite backend's 0002_presence_and_history.sql (which has to
-- rebuild visitor_sessions to add a NOT NULL column; PostgreSQL can fill and constrain
-- it in place).
--
-- The conventions of 0001_initial.sql hold. Migrations are append-only.

-- Operator availability. Every existing operator starts out online, as new ones do.
ALTER TABLE operators
    ADD COLUMN status text NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'away'));

-- The page the widget last reported (PageRef); a title only ever comes with a URL.
ALTER TABLE visitor_sessions
    ADD COLUMN page_url text,
    ADD COLUMN page_title text,
    ADD CONSTRAINT visitor_sessions_page_title_needs_url
        CHECK (page_url IS NOT NULL OR page_title IS NULL),
    -- Creation, connect or page view, whichever came last.
    ADD COLUMN last_seen_at timestamptz;

UPDATE visitor_sessions SET last_seen_at = created_at;

-- No default: every insert must say when the session was last seen.
ALTER TABLE visitor_sessions ALTER COLUMN last_seen_at SET NOT NULL;

-- A visitor's sessions, most recently seen last: fetch_latest_visitor_session reads the
-- end of it. Replaces 0001's (tenant_id, visitor_id) index.
DROP INDEX visitor_sessions_by_visitor;
CREATE INDEX visitor_sessions_by_visitor
    ON visitor_sessions (tenant_id, visitor_id, last_seen_at, id);

-- list_conversations: a tenant's conversations newest first, paged by the keyset
-- (created_at, id), optionally filtered by state.
CREATE INDEX conversations_by_created
    ON conversations (tenant_id, created_at DESC, id DESC);

-- count_conversations_for_visitor, and list_conversations filtered by visitor (0001's
-- one-open-per-visitor index is partial, it only covers open conversations).
CREATE INDEX conversations_by_visitor
    ON conversations (tenant_id, visitor_id, created_at DESC, id DESC);
