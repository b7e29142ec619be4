-- Browser flows: authorization codes, grants with the tokens issued under them, refresh tokens,
-- remembered consents and login sessions. Codes, refresh tokens and session ids are stored by
-- SHA-256 hash only.

CREATE TABLE auth_codes (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    data TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, server_id, code_hash),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE grants (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, server_id, id),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE grant_tokens (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, server_id, jti),
    FOREIGN KEY (tenant_id, server_id, grant_id) REFERENCES grants (tenant_id, server_id, id) ON DELETE CASCADE
);

CREATE TABLE refresh_tokens (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    data TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, server_id, token_hash),
    FOREIGN KEY (tenant_id, server_id, grant_id) REFERENCES grants (tenant_id, server_id, id) ON DELETE CASCADE
);

CREATE TABLE consents (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scopes TEXT NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, server_id, client_id, subject),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE sessions (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    subject TEXT NOT NULL,
    auth_time TIMESTAMPTZ NOT NULL,
    data TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, server_id, id_hash),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX auth_codes_expiry ON auth_codes (expires_at);
CREATE INDEX grants_expiry ON grants (expires_at);
CREATE INDEX sessions_expiry ON sessions (expires_at);
