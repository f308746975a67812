-- livehelp SQLite schema, version 5: pre-chat forms, business hours, offline-message
-- tickets and platform support requests (issue 5 items 1, 5 and 6).
--
-- The conventions of 0001_initial.sql hold (UUID BLOBs, INTEGER microseconds, STRICT,
-- tenant references through (tenant_id, id)).
-- Migrations are append-only: never edit this file once released, add a new one.

-- A site's form settings, one row per site once an admin sets them; a site without a
-- row asks nothing before a chat and has no business hours. Both documents are JSON
-- whose shape livehelp-app owns.
CREATE TABLE site_forms (
    tenant_id       BLOB NOT NULL,
    site_id         BLOB NOT NULL,
    prechat         TEXT CHECK (prechat IS NULL OR json_valid(prechat)),
    business_hours  TEXT CHECK (business_hours IS NULL OR json_valid(business_hours)),
    PRIMARY KEY (tenant_id, site_id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
) STRICT;

-- The visitor's pre-chat answers, written with the conversation in the append that opens
-- it. Existing conversations had no pre-chat form, so NULL is the true value for them.
ALTER TABLE conversations
    ADD COLUMN prechat TEXT CHECK (prechat IS NULL OR json_valid(prechat));

CREATE TABLE tickets (
    id          BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id   BLOB NOT NULL,
    site_id     BLOB NOT NULL,
    name        TEXT,
    email       TEXT NOT NULL,
    message     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'solved')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
) STRICT;

CREATE INDEX tickets_by_tenant_newest ON tickets (tenant_id, created_at DESC, id DESC);

CREATE TABLE ticket_notes (
    id           BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id    BLOB NOT NULL,
    ticket_id    BLOB NOT NULL,
    operator_id  BLOB NOT NULL,
    author_name  TEXT NOT NULL,
    text         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id)
) STRICT;

CREATE INDEX ticket_notes_by_ticket ON ticket_notes (tenant_id, ticket_id, created_at);

-- Requests to the platform's own support (M5). They belong to no tenant: there is no
-- tenant_id, so no tenant-scoped query can ever return one.
CREATE TABLE support_requests (
    id           BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    email        TEXT NOT NULL,
    site_url     TEXT NOT NULL,
    description  TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'solved')),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX support_requests_newest ON support_requests (created_at DESC, id DESC);
