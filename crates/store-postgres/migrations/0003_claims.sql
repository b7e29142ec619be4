-- Custom claims of authorization servers (Cloudentity ACP `Claim`).

CREATE TABLE claims (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    name TEXT NOT NULL,
    mapping TEXT NOT NULL,
    claim_type TEXT NOT NULL,
    scopes JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, server_id, claim_type, name),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);
