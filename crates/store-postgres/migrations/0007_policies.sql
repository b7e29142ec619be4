-- Policies (Cloudentity ACP `/policies`): validators as JSON, or a Rego definition. Every tenant
-- has the read-only `allow` and `block`; tenants made before this migration get them here.

CREATE TABLE policies (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    validators JSONB NOT NULL,
    definition TEXT,
    read_only BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

INSERT INTO policies (tenant_id, id, name, language, validators, read_only, created_at, updated_at)
SELECT id, 'allow', 'allow', 'cloudentity', '[{"name":"true","conf":{},"recovery":[]}]'::jsonb, TRUE, created_at, created_at
FROM tenants;
INSERT INTO policies (tenant_id, id, name, language, validators, read_only, created_at, updated_at)
SELECT id, 'block', 'block', 'cloudentity', '[{"name":"false","conf":{},"recovery":[]}]'::jsonb, TRUE, created_at, created_at
FROM tenants;
