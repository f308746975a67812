-- livehelp SQLite schema, version 4: routing (issue 10). Departments with members and a
-- routing mode, a tenant's routing settings, per-operator chat limits, the department a
-- conversation waits in, what the unanswered-chat rule needs, and operators who joined a
-- conversation without owning it (barge).
--
-- The conventions of 0001_initial.sql hold (UUID BLOBs, INTEGER microseconds, STRICT,
-- tenant references through (tenant_id, id)).
-- Migrations are append-only: never edit this file once released, add a new one.

CREATE TABLE departments (
    id          BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    tenant_id   BLOB NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    routing     TEXT NOT NULL CHECK (routing IN ('manual', 'least_busy', 'round_robin')),
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, name)
) STRICT;

CREATE TABLE department_members (
    tenant_id      BLOB NOT NULL,
    department_id  BLOB NOT NULL,
    operator_id    BLOB NOT NULL,
    PRIMARY KEY (tenant_id, department_id, operator_id),
    FOREIGN KEY (tenant_id, department_id) REFERENCES departments (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- Routing settings. Every existing tenant keeps what it had: operators pick chats from
-- one queue, with no limit, and do not see who monitors them. Those are true facts about
-- the old rows, so constant defaults express them exactly.
ALTER TABLE tenants
    ADD COLUMN routing TEXT NOT NULL DEFAULT 'manual'
        CHECK (routing IN ('manual', 'least_busy', 'round_robin'));
ALTER TABLE tenants
    ADD COLUMN max_chats_per_operator INTEGER
        CHECK (max_chats_per_operator IS NULL OR max_chats_per_operator >= 1);
ALTER TABLE tenants
    ADD COLUMN show_monitoring INTEGER NOT NULL DEFAULT 0 CHECK (show_monitoring IN (0, 1));

-- NULL: the tenant's limit applies. last_assigned_at: when the operator was last given a
-- chat (round robin and least-busy ties).
ALTER TABLE operators
    ADD COLUMN max_chats INTEGER CHECK (max_chats IS NULL OR max_chats >= 1);
ALTER TABLE operators
    ADD COLUMN last_assigned_at INTEGER;

-- ADD COLUMN cannot add a composite (tenant_id, id) foreign key; the store checks that a
-- site's default department is the tenant's before writing it, and deleting a department
-- clears it here.
ALTER TABLE sites
    ADD COLUMN default_department_id BLOB CHECK (default_department_id IS NULL OR length(default_department_id) = 16);

-- department_id: the queue the conversation waits in (NULL: the general queue); written
-- only by the writer, from a department of the same tenant.
-- assigned_at / assigned_seq: when the current owner got it and the seq of the message
-- that gave it to them; auto_assigned: whether the server chose that owner (only those
-- chats are reassigned when left unanswered). Old active chats were picked by operators.
ALTER TABLE conversations
    ADD COLUMN department_id BLOB CHECK (department_id IS NULL OR length(department_id) = 16);
ALTER TABLE conversations ADD COLUMN assigned_at INTEGER;
ALTER TABLE conversations ADD COLUMN assigned_seq INTEGER;
ALTER TABLE conversations
    ADD COLUMN auto_assigned INTEGER NOT NULL DEFAULT 0 CHECK (auto_assigned IN (0, 1));

-- Queue order within a department, and recent assignments of a queue.
CREATE INDEX conversations_queue_by_department
    ON conversations (tenant_id, department_id, created_at, id) WHERE state = 'queued';
CREATE INDEX conversations_assigned
    ON conversations (tenant_id, assigned_at) WHERE assigned_at IS NOT NULL;

CREATE TABLE conversation_participants (
    tenant_id        BLOB NOT NULL,
    conversation_id  BLOB NOT NULL,
    operator_id      BLOB NOT NULL,
    joined_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, operator_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id),
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id)
) STRICT;
