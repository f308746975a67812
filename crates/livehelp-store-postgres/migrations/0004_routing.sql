-- livehelp PostgreSQL schema, version 4: routing (issue 10). Same meaning as the SQLite
-- backend's 0004_routing.sql: departments with members and a routing mode, a tenant's
-- routing settings, per-operator chat limits, the department a conversation waits in,
-- what the unanswered-chat rule needs, and operators who joined a conversation without
-- owning it (barge). PostgreSQL can add composite foreign keys to existing tables, so a
-- site's default department is one through (tenant_id, id) here.
--
-- The conventions of 0001_initial.sql hold. Migrations are append-only.

CREATE TABLE departments (
    id          uuid NOT NULL CONSTRAINT departments_pkey PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    routing     text NOT NULL CHECK (routing IN ('manual', 'least_busy', 'round_robin')),
    created_at  timestamptz NOT NULL,
    CONSTRAINT departments_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT departments_tenant_id_name_key UNIQUE (tenant_id, name)
);

CREATE TABLE department_members (
    tenant_id      uuid NOT NULL,
    department_id  uuid NOT NULL,
    operator_id    uuid NOT NULL,
    CONSTRAINT department_members_pkey PRIMARY KEY (tenant_id, department_id, operator_id),
    FOREIGN KEY (tenant_id, department_id) REFERENCES departments (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id) ON DELETE CASCADE
);

-- The departments an operator belongs to (the primary key covers the other direction).
CREATE INDEX department_members_by_operator ON department_members (tenant_id, operator_id);

-- Routing settings. Every existing tenant keeps what it had: operators pick chats from
-- one queue, with no limit, and do not see who monitors them. Those are true facts about
-- the old rows, so constant defaults express them exactly.
ALTER TABLE tenants
    ADD COLUMN routing text NOT NULL DEFAULT 'manual'
        CHECK (routing IN ('manual', 'least_busy', 'round_robin')),
    ADD COLUMN max_chats_per_operator integer
        CHECK (max_chats_per_operator IS NULL OR max_chats_per_operator >= 1),
    ADD COLUMN show_monitoring boolean NOT NULL DEFAULT false;

-- NULL: the tenant's limit applies. last_assigned_at: when the operator was last given a
-- chat (round robin and least-busy ties). The writer locks an operator's row before it
-- gives them a chat, so assignments to one operator from every node are serialised and
-- the limit holds.
ALTER TABLE operators
    ADD COLUMN max_chats integer CHECK (max_chats IS NULL OR max_chats >= 1),
    ADD COLUMN last_assigned_at timestamptz;

-- Deleting a department clears it here first (the key is checked only when the column is
-- not NULL: MATCH SIMPLE).
ALTER TABLE sites
    ADD COLUMN default_department_id uuid,
    ADD CONSTRAINT sites_default_department_fkey
        FOREIGN KEY (tenant_id, default_department_id) REFERENCES departments (tenant_id, id);

-- department_id: the queue the conversation waits in (NULL: the general queue); written
-- only by the writer, from a department of the same tenant that it holds a key-share
-- lock on, so a department deleted at the same time cannot leave a chat queued in it.
-- Deleting a department moves its open conversations to the general queue; ended ones
-- keep the id as history, as in SQLite, which is why this is not a foreign key.
-- assigned_at / assigned_seq: when the current owner got it and the seq of the message
-- that gave it to them; auto_assigned: whether the server chose that owner (only those
-- chats are reassigned when left unanswered). Old active chats were picked by operators.
ALTER TABLE conversations
    ADD COLUMN department_id uuid,
    ADD COLUMN assigned_at timestamptz,
    ADD COLUMN assigned_seq bigint,
    ADD COLUMN auto_assigned boolean NOT NULL DEFAULT false;

-- Queue order within a department, and recent assignments of a queue.
CREATE INDEX conversations_queue_by_department
    ON conversations (tenant_id, department_id, created_at, id) WHERE state = 'queued';
CREATE INDEX conversations_assigned
    ON conversations (tenant_id, assigned_at) WHERE assigned_at IS NOT NULL;

CREATE TABLE conversation_participants (
    tenant_id        uuid NOT NULL,
    conversation_id  uuid NOT NULL,
    operator_id      uuid NOT NULL,
    joined_at        timestamptz NOT NULL,
    CONSTRAINT conversation_participants_pkey
        PRIMARY KEY (tenant_id, conversation_id, operator_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id),
    FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id)
);
