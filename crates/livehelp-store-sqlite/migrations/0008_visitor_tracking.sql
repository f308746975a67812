-- livehelp SQLite schema, version 8: visitor tracking (issue 6, items 1-4). Page-view
-- tallies (no identifier: one counter per site, page and UTC day), the per-visit page
-- trail of visitors holding a visitor token (kept for the tenant's retention period),
-- the tenant's tracking settings and each site's allowed query parameters.
--
-- The conventions of 0001_initial.sql hold (UUID BLOBs, INTEGER microseconds, STRICT,
-- tenant references through (tenant_id, id)). Migrations are append-only.

CREATE TABLE page_view_tallies (
    tenant_id  BLOB NOT NULL,
    site_id    BLOB NOT NULL,
    -- 'YYYY-MM-DD', UTC.
    day        TEXT NOT NULL CHECK (length(day) = 10),
    url        TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    views      INTEGER NOT NULL CHECK (views >= 1),
    PRIMARY KEY (tenant_id, day, site_id, url),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
) STRICT;

-- Raw page views of visitors with a token. Deleted after the tenant's retention period.
CREATE TABLE page_trail (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   BLOB NOT NULL,
    visitor_id  BLOB NOT NULL,
    session_id  BLOB NOT NULL,
    site_id     BLOB NOT NULL,
    url         TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    title       TEXT,
    referrer    TEXT,
    at          INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
) STRICT;

CREATE INDEX page_trail_by_visitor ON page_trail (tenant_id, visitor_id, at);
CREATE INDEX page_trail_by_time ON page_trail (tenant_id, at);

-- One row per tenant that saved settings; absent means the defaults.
CREATE TABLE tracking_settings (
    tenant_id             BLOB NOT NULL PRIMARY KEY REFERENCES tenants (id),
    anonymize_ips         INTEGER NOT NULL CHECK (anonymize_ips IN (0, 1)),
    trail_retention_days  INTEGER NOT NULL CHECK (trail_retention_days BETWEEN 1 AND 3650)
) STRICT;

-- The query parameter names a site keeps in counted page addresses: a JSON array.
CREATE TABLE site_query_params (
    tenant_id  BLOB NOT NULL,
    site_id    BLOB NOT NULL,
    params     TEXT NOT NULL CHECK (json_valid(params) AND json_type(params) = 'array'),
    PRIMARY KEY (tenant_id, site_id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
) STRICT;
