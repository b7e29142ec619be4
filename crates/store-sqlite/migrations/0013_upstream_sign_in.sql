-- Upstream sign-in: which login method started a session, people who came from another
-- identity provider (one row per login method and upstream subject), and sign-ins waiting for
-- an upstream provider or an external login page (found by the hash of their one-time id).

ALTER TABLE sessions ADD COLUMN method_id TEXT NOT NULL DEFAULT '';

CREATE TABLE people (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    method_id TEXT NOT NULL,
    upstream_subject TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, server_id, subject),
    UNIQUE (tenant_id, server_id, method_id, upstream_subject),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE pending_logins (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    data TEXT NOT NULL,
    result TEXT,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, server_id, id_hash),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX pending_logins_expiry ON pending_logins (expires_at);
