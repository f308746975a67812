-- livehelp SQLite schema, version 2: operator availability, the page a visitor is on and
-- when they were last seen, and the indexes behind the conversation history list.
--
-- The conventions of 0001_initial.sql hold (UUID BLOBs, INTEGER microseconds, STRICT).
-- Migrations are append-only: never edit this file once released, add a new one.

-- Operator availability. Every existing operator starts out online, as new ones do.
ALTER TABLE operators
    ADD COLUMN status TEXT NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'away'));

-- visitor_sessions gains the page the visitor is on and last_seen_at. last_seen_at must be
-- NOT NULL and start out as created_at, and ALTER TABLE ... ADD COLUMN can only give a
-- NOT NULL column a constant default. A constant (say 0) would be a wrong value that stays
-- in the schema, waiting for the next insert that forgets the column. So the table is
-- rebuilt instead (SQLite's documented "make other kinds of table schema changes"
-- procedure): create the new shape, copy the rows with last_seen_at = created_at, drop the
-- old table, rename. Nothing references visitor_sessions, so dropping it inside the
-- migration's transaction with foreign_keys=ON is allowed and checks nothing; its own
-- references (to visitors and sites) are checked again as the rows are copied in.
CREATE TABLE visitor_sessions_v2 (
    id            BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id     BLOB NOT NULL,
    visitor_id    BLOB NOT NULL,
    site_id       BLOB NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- The client address in its canonical text form (`IpAddr`'s Display).
    ip            TEXT,
    user_agent    TEXT,
    -- The page the widget last reported (PageRef); a title only ever comes with a URL.
    page_url      TEXT,
    page_title    TEXT,
    created_at    INTEGER NOT NULL,
    -- Creation, connect or page view, whichever came last.
    last_seen_at  INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id),
    CHECK (page_url IS NOT NULL OR page_title IS NULL)
) STRICT;

INSERT INTO visitor_sessions_v2
    (id, tenant_id, visitor_id, site_id, token_hash, ip, user_agent, page_url, page_title,
     created_at, last_seen_at)
SELECT id, tenant_id, visitor_id, site_id, token_hash, ip, user_agent, NULL, NULL,
       created_at, created_at
FROM visitor_sessions;

DROP TABLE visitor_sessions;

ALTER TABLE visitor_sessions_v2 RENAME TO visitor_sessions;

-- A visitor's sessions, most recently seen last: fetch_latest_visitor_session reads the
-- end of it. Replaces 0001's (tenant_id, visitor_id) index, which went with the old table.
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
