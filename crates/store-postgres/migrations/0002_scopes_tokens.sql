-- Scopes of authorization servers; revoked tokens and used assertion ids (kept until expiry).

CREATE TABLE scopes (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL,
    developer_policy_id TEXT,
    user_policy_id TEXT,
    service_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, server_id, name),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE revoked_tokens (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, server_id, jti),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE used_assertions (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, server_id, jti),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
CREATE INDEX used_assertions_expiry ON used_assertions (expires_at);
