-- Tenants, authorization servers, their signing keys, and clients (PostgreSQL).
-- Same shape as the SQLite schema, with native types: jsonb, timestamptz, bytea.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    authentication_context_settings JSONB NOT NULL,
    jwks JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE servers (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    system BOOLEAN NOT NULL,
    settings JSONB NOT NULL,
    authentications JSONB NOT NULL,
    secrets_sealed BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE signing_keys (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    kid TEXT NOT NULL,
    alg TEXT NOT NULL,
    status TEXT NOT NULL,
    public_jwk JSONB NOT NULL,
    private_sealed BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, server_id, kid),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE clients (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    name TEXT NOT NULL,
    system BOOLEAN NOT NULL,
    grant_types JSONB NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    secret_hash BYTEA,
    secret_sealed BYTEA,
    metadata JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX clients_by_server ON clients (tenant_id, server_id);
