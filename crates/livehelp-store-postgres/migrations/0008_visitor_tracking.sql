-- livehelp PostgreSQL schema, version 8: visitor tracking (issue 6, items 1-4). Same
-- meaning as the SQLite backend's 0008_visitor_tracking.sql: page-view tallies (no
-- identifier: one counter per site, page and UTC day), the per-visit page trail of
-- visitors holding a visitor token (kept for the tenant's retention period), the tenant's
-- tracking settings and each site's allowed query parameters.
--
-- The conventions of 0001_initial.sql hold. Migrations are append-only.

CREATE TABLE page_view_tallies (
    tenant_id  uuid NOT NULL,
    site_id    uuid NOT NULL,
    day        date NOT NULL,
    url        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    views      bigint NOT NULL CHECK (views >= 1),
    CONSTRAINT page_view_tallies_pkey PRIMARY KEY (tenant_id, day, site_id, url),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);

-- Raw page views of visitors with a token. Deleted after the tenant's retention period.
CREATE TABLE page_trail (
    seq         bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT page_trail_pkey PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    visitor_id  uuid NOT NULL,
    session_id  uuid NOT NULL,
    site_id     uuid NOT NULL,
    url         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    title       text,
    referrer    text,
    at          timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);

CREATE INDEX page_trail_by_visitor ON page_trail (tenant_id, visitor_id, at);
CREATE INDEX page_trail_by_time ON page_trail (tenant_id, at);

-- One row per tenant that saved settings; absent means the defaults.
CREATE TABLE tracking_settings (
    tenant_id             uuid NOT NULL CONSTRAINT tracking_settings_pkey PRIMARY KEY REFERENCES tenants (id),
    anonymize_ips         boolean NOT NULL,
    trail_retention_days  integer NOT NULL CHECK (trail_retention_days BETWEEN 1 AND 3650)
);

-- The query parameter names a site keeps in counted page addresses, in the order saved.
CREATE TABLE site_query_params (
    tenant_id  uuid NOT NULL,
    site_id    uuid NOT NULL,
    params     text[] NOT NULL,
    CONSTRAINT site_query_params_pkey PRIMARY KEY (tenant_id, site_id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);
