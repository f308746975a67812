-- livehelp PostgreSQL schema, version 5: pre-chat forms, business hours, offline-message
-- tickets and platform support requests (issue 5 items 1, 5 and 6). Means what SQLite's
-- 0005 means.
-- Migrations are append-only: never edit this file once released, add a new one.

-- A site's form settings (JSON documents whose shape livehelp-app owns); a site without
-- a row asks nothing before a chat and has no business hours.
CREATE TABLE site_forms (
    tenant_id       uuid NOT NULL,
    site_id         uuid NOT NULL,
    prechat         jsonb,
    business_hours  jsonb,
    CONSTRAINT site_forms_pkey PRIMARY KEY (tenant_id, site_id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);

-- The visitor's pre-chat answers, written with the conversation in the append that opens
-- it. Existing conversations had no pre-chat form, so NULL is the true value for them.
ALTER TABLE conversations ADD COLUMN prechat jsonb;

CREATE TABLE tickets (
    id          uuid NOT NULL CONSTRAINT tickets_pkey PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    site_id     uuid NOT NULL,
    name        text,
    email       text NOT NULL,
    message     text NOT NULL,
    status      text NOT NULL CHECK (status IN ('open', 'solved')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT tickets_tenant_id_id_key UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);

CREATE INDEX tickets_by_tenant_newest ON tickets (tenant_id, created_at DESC, id DESC);

CREATE TABLE ticket_notes (
    id           uuid NOT NULL CONSTRAINT ticket_notes_pkey PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    ticket_id    uuid NOT NULL,
    operator_id  uuid NOT NULL,
    author_name  text NOT NULL,
    text         text NOT NULL,
    created_at   timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id),
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id)
);

CREATE INDEX ticket_notes_by_ticket ON ticket_notes (tenant_id, ticket_id, created_at);

-- Requests to the platform's own support (M5): no tenant_id, so no tenant-scoped query
-- can ever return one.
CREATE TABLE support_requests (
    id           uuid NOT NULL CONSTRAINT support_requests_pkey PRIMARY KEY,
    email        text NOT NULL,
    site_url     text NOT NULL,
    description  text NOT NULL,
    status       text NOT NULL CHECK (status IN ('open', 'solved')),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE INDEX support_requests_newest ON support_requests (created_at DESC, id DESC);
