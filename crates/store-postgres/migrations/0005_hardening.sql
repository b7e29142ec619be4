-- A master-key check value kept once per store, and indexes for ending what a deleted client or a
-- removed user was given.

CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE INDEX grants_client ON grants (tenant_id, client_id);
CREATE INDEX grants_subject ON grants (tenant_id, server_id, subject);
CREATE INDEX sessions_subject ON sessions (tenant_id, server_id, subject);
CREATE INDEX consents_client ON consents (tenant_id, client_id);
CREATE INDEX auth_codes_client ON auth_codes (tenant_id, client_id);

-- Every token a deleted client (client_id) or a deleted server (client_id '') issued at or before
-- `issued_before` is dead, even if an object with the same id is created again. Kept until those
-- tokens would have expired anyway; no foreign key, so it outlives the deleted server.
CREATE TABLE token_cutoffs (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    issued_before BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, server_id, client_id)
);
CREATE INDEX token_cutoffs_expiry ON token_cutoffs (expires_at);
