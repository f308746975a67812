-- livehelp SQLite schema, version 9: the email a visitor gave, kept on the visitor so
-- they (and the tenant's staff) can see and correct it (PRODUCT.md M16), and an index for
-- the reports' time to first response (M18; issue 6 items 5 and 6).
--
-- The conventions of 0001_initial.sql hold (UUID BLOBs, INTEGER microseconds, STRICT,
-- tenant references through (tenant_id, id)). Migrations are append-only.

-- Until now an email lived only in a conversation's pre-chat answers; NULL ("not given")
-- is the true value for every existing visitor.
ALTER TABLE visitors ADD COLUMN email TEXT;

-- find_visitors by email (the platform's CLI, for a request received by email).
CREATE INDEX visitors_by_email ON visitors (tenant_id, email) WHERE email IS NOT NULL;

-- list_conversation_facts: the first operator message of each conversation.
CREATE INDEX messages_operator_by_conversation
    ON messages (tenant_id, conversation_id, created_at) WHERE kind = 'operator';
